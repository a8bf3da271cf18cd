#!/usr/bin/env bash
# The real-GPU check (issue 6): on a machine with an NVIDIA GPU, `homestack doctor --json`
# must report each card's model, memory and driver as nvidia-smi does.
#
#   scripts/gpu-check.sh --fetch-wheels   here, with PyPI: homestack's runtime dependencies for
#                                         CPython 3.12 (x86-64; PY_VERSION= picks another)
#                                         into .wheels/ (git-ignored)
#   scripts/gpu-check.sh [OUT_DIR]        on the GPU machine, offline: installs .wheels/ (if any)
#                                         into a private folder, then records nvidia-smi's view,
#                                         `homestack gpu --json`, `homestack doctor --json` and
#                                         the tests in tests/hardware into OUT_DIR ($OUT, else
#                                         /tmp/gpu-check)
#
# With the device tool: run `scripts/gpu-check.sh --fetch-wheels` here first, then one call:
#   run(command="bash scripts/gpu-check.sh", carry=[".wheels"], timeout_s=300)
set -uo pipefail
cd "$(dirname "$0")/.."

# homestack's runtime dependencies, at the versions its tests ran with; the GPU machine's own
# Python already has click, rich, PyYAML, requests, urllib3, shellingham and pytest
WHEELS=(
    "typer==0.27.3" "annotated-doc==0.0.7" "pydantic==2.14.4" "pydantic-core==2.50.5"
    "annotated-types==0.8.0" "typing-inspection==0.4.5" "typing-extensions==4.16.0"
    "docker==7.2.0" "ruamel.yaml==0.19.1"
)

if [[ "${1:-}" == "--fetch-wheels" ]]; then
    py=python3
    [[ -x .venv/bin/python ]] && py=.venv/bin/python
    "$py" -m pip download --quiet --no-deps --only-binary=:all: --dest .wheels \
        --python-version "${PY_VERSION:-3.12}" --implementation cp --platform manylinux_2_17_x86_64 \
        --platform manylinux2014_x86_64 --platform manylinux_2_28_x86_64 --platform any \
        "${WHEELS[@]}" || exit 2
    ls -1 .wheels
    exit 0
fi

out="${1:-${OUT:-/tmp/gpu-check}}"
mkdir -p "$out"
site=/tmp/homestack-site
if compgen -G ".wheels/*.whl" >/dev/null; then
    python3 -m pip install --quiet --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target "$site" .wheels/*.whl || exit 2
    export PYTHONPATH="$site"
fi
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" HOMESTACK_SITE="$PWD"

smi="$(command -v nvidia-smi || echo /usr/local/nvidia/bin/nvidia-smi)"
{
    "$smi"
    "$smi" --query-gpu=index,name,uuid,memory.total,driver_version,pci.bus_id --format=csv
    uname -a
    python3 --version
    python3 -c 'import pynvml; print("pynvml", pynvml.__file__)' 2>&1
} >"$out/host.txt" 2>&1
python3 -m homestack gpu --json >"$out/gpu.json" 2>"$out/gpu.err"
echo "homestack gpu --json: exit $?"
python3 -m homestack doctor --json >"$out/doctor.json" 2>"$out/doctor.err"
echo "homestack doctor --json: exit $? (1 = a check failed, e.g. no Docker engine here)"
python3 - "$out/doctor.json" <<'PY'
import json, sys
for check in json.load(open(sys.argv[1]))["checks"]:
    if check["area"] == "gpu":
        print(f"  {check['status']:4} {check['name']}: {check['detail']}")
        if check.get("data"):
            print(f"       data: {json.dumps(check['data'])}")
PY
python3 -m pytest -p no:cacheprovider -o addopts= -q -rA tests/hardware 2>&1 | tee "$out/pytest.txt"
