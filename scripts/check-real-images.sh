#!/usr/bin/env bash
# The release check against the real images (issue 14), for a maintainer with internet access
# and a Docker engine: the tests only ever run the catalog on stand-ins.
#
#   scripts/check-real-images.sh [--keep] [--timeout SECONDS]
#
# In a scratch copy of the catalog (its own DATA, secrets and HOMESTACK_PREFIX=relcheck_, so
# nothing of a running site is touched) it:
#   1. validates the catalog (lint, Compose's own check);
#   2. pulls every pinned image of every enabled service (`homestack pull`);
#   3. brings the whole site up for real (`homestack up`, which waits for each service to be
#      healthy, in dependency order);
#   4. asks every generated health probe, from the blackbox exporter inside the networks (the
#      URL and module Prometheus uses) and wants success: HTTP 2xx, or the TCP port open;
#   5. takes the site down, removes its volumes and networks, deletes the scratch folder
#      (unless --keep).
# Every failure is one line naming the service and its file:
#   FAIL essentials/homepage (essentials-stack/services/homepage.docker-compose.yaml): probe …
# and the script exits 1 if there was any. It cannot run where no registry is reachable (the
# CI of this repository): there it stops at step 2.
set -uo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
REPO=$PWD

KEEP=0
TIMEOUT=900
while [[ $# -gt 0 ]]; do
    case "$1" in
        --keep) KEEP=1 ;;
        --timeout) TIMEOUT=$2; shift ;;
        *) echo "usage: $0 [--keep] [--timeout SECONDS]" >&2; exit 2 ;;
    esac
    shift
done

HOMESTACK=${HOMESTACK:-$REPO/.venv/bin/homestack}
PY=${PYTHON:-$REPO/.venv/bin/python}
[[ -x $HOMESTACK ]] || HOMESTACK=homestack
[[ -x $PY ]] || PY=python3
command -v docker >/dev/null || { echo "check-real-images: docker is not installed" >&2; exit 2; }

export HOMESTACK_PREFIX=relcheck_
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/homestack-relcheck.XXXXXX")
FAILED=0

fail() { # fail SERVICE-ID MESSAGE: one line naming the service's file
    local where
    where=$("$PY" - "$SCRATCH" "$1" <<'EOF'
import sys
from pathlib import Path
from homestack.catalog import Site
site = Site.load(Path(sys.argv[1]))
try:
    service = site.service(sys.argv[2])
except Exception:
    print(f"?/{sys.argv[2]} (unknown service)")
else:
    print(f"{service.stack}/{service.id} ({service.file.relative_to(site.root)})")
EOF
)
    echo "FAIL $where: $2"
    FAILED=1
}

cleanup() {
    echo "== taking the check site down"
    (cd "$SCRATCH" && "$HOMESTACK" down >/dev/null 2>&1)
    docker volume ls -q --filter "name=^${HOMESTACK_PREFIX}" | xargs -r docker volume rm >/dev/null 2>&1
    docker network ls -q --filter "name=^${HOMESTACK_PREFIX}" | xargs -r docker network rm >/dev/null 2>&1
    if [[ $KEEP == 1 ]]; then echo "kept $SCRATCH"; else rm -rf "$SCRATCH"; fi
}
trap cleanup EXIT

echo "== copying the catalog to $SCRATCH"
cp "$REPO/base.docker-compose.yaml" "$REPO/.env.example" "$SCRATCH/"
for stack in "$REPO"/*-stack; do cp -r "$stack" "$SCRATCH/"; done
find "$SCRATCH" -name .env -delete
sed -e "s|^DATA_ROOT=.*|DATA_ROOT=$SCRATCH/DATA|" -e "s|^SECRETS_DIR=.*|SECRETS_DIR=$SCRATCH/secrets|" \
    "$SCRATCH/.env.example" >"$SCRATCH/.env"
grep -q '^DATA_ROOT=' "$SCRATCH/.env" || echo "DATA_ROOT=$SCRATCH/DATA" >>"$SCRATCH/.env"
mkdir -p "$SCRATCH/DATA"
cd "$SCRATCH" || exit 2

echo "== 1. validate"
"$HOMESTACK" validate || { echo "FAIL the catalog does not validate (see above)"; exit 1; }

echo "== 2. pull every pinned image (with the overlays this host gets)"
pulled=$("$HOMESTACK" pull --json 2>"$SCRATCH/pull.err")
if [[ $? -ne 0 ]]; then
    while read -r service message; do
        fail "$service" "$message"
    done < <("$PY" - "$pulled" <<'EOF'
import json, sys
try:
    data = json.loads(sys.argv[1])
except ValueError:
    data = {}  # homestack itself failed (no engine?): its own message follows
for failure in data.get("failed", []):
    for service in failure["services"]:
        print(service, f"pull of {failure['image']} failed: {failure['reason']}")
EOF
)
    [[ $FAILED == 1 ]] || echo "FAIL pull: $(tail -n 3 "$SCRATCH/pull.err")"
    exit 1
fi

echo "== 3. up, for real (each service must become healthy)"
"$HOMESTACK" install networks >/dev/null && "$HOMESTACK" install secrets >/dev/null \
    && "$HOMESTACK" install data >/dev/null
if ! "$HOMESTACK" up --timeout "$TIMEOUT"; then
    status=$("$HOMESTACK" status --json 2>/dev/null)
    while read -r service message; do
        fail "$service" "$message"
    done < <("$PY" - "$status" <<'EOF'
import json, sys
for row in json.loads(sys.argv[1] or '{"services": []}')["services"]:
    if row["enabled"] and (row["state"] != "running" or row["health"] not in (None, "healthy")):
        output = (row["health_output"] or "").strip().replace("\n", " ")[:200]
        print(row["service"], f"state {row['state']}, health {row['health']} {output}".strip())
EOF
)
    [[ $FAILED == 1 ]] || echo "FAIL up failed (see above)"
    exit 1
fi

echo "== 4. every health probe, from the blackbox exporter"
blackbox=$(docker ps -q --filter "label=com.docker.compose.project=${HOMESTACK_PREFIX}management" \
    --filter "label=com.docker.compose.service=blackbox-exporter" | head -n 1)
[[ -n $blackbox ]] || { fail blackbox-exporter "not running: no probe can be asked"; exit 1; }
"$PY" - "$SCRATCH/DATA/config/prometheus/targets" <<'EOF' >"$SCRATCH/probes.txt"
import sys, yaml
from pathlib import Path
for module, name in (("http_2xx", "health-http.yml"), ("tcp_connect", "health-tcp.yml")):
    path = Path(sys.argv[1]) / name
    if not path.is_file():
        continue
    for group in yaml.safe_load(path.read_text()) or []:
        for target in group["targets"]:
            print(group["labels"]["service"], module, target)
EOF
while read -r service module target; do
    answer=$(docker exec "$blackbox" wget -qO- \
        "http://127.0.0.1:9115/probe?module=${module}&target=${target}" 2>&1)
    if ! grep -q '^probe_success 1' <<<"$answer"; then
        code=$(grep '^probe_http_status_code ' <<<"$answer" | awk '{print $2}')
        fail "$service" "probe $module $target failed${code:+ (HTTP $code)}"
    else
        echo "ok   $service $target"
    fi
done <"$SCRATCH/probes.txt"

if [[ $FAILED == 1 ]]; then
    echo "== the release check FAILED: fix the files named above"
    exit 1
fi
echo "== the release check passed: every image pulled, every service healthy, every probe 2xx"
