#!/usr/bin/env bash
# The one command: from a fresh clone to every enabled stack up.
#
#   ./install-stack.sh [--stack ID] [--stand-in [IMAGE]] [--dry-run] [--yes] [--json]
#   ./install-stack.sh --help     (prints the options; changes nothing)
#
# Creates the virtual environment .venv if it is missing (installing python3-venv with apt
# when run as root and needed), installs homestack into it, then runs
# `homestack install all "$@"`: .env, GPU drivers (checked; installed with --yes), Docker,
# restic and busybox-static, networks, secrets, DATA, up. Safe to run again: it changes only
# what is missing.
#
# HOMESTACK_VENV=/path/to/venv uses that environment instead of .venv (it is installed into
# only when homestack is missing there). See docs/install.md.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
venv="${HOMESTACK_VENV:-$here/.venv}"

say() { printf 'install-stack: %s\n' "$*" >&2; }
die() { say "error: $1"; [ -n "${2:-}" ] && say "fix: $2"; exit "${3:-1}"; }

usage() {
    cat <<'EOF_USAGE'
Usage: ./install-stack.sh [--stack ID] [--stand-in [IMAGE]] [--dry-run] [--yes] [--json]

From a fresh clone to every enabled stack up: creates .venv and installs homestack into it
(when missing), then runs `homestack install all` with these flags: .env, GPU drivers
(checked; installed with --yes), Docker, restic and busybox-static, networks, secrets, DATA,
up. Run it as root
(sudo ./install-stack.sh); --dry-run and --stand-in also work as any user.
Safe to run again: it changes only what is missing.

Options:
  --stack ID          only this stack (and the stacks it depends on)
  --stand-in [IMAGE]  rehearse with a tiny image built offline (or IMAGE) in place of every
                      service image; networks, secrets, volumes, order and health are real
  --dry-run           print the whole plan and change nothing
  -y, --yes           carry out the GPU driver plan too (otherwise it is only printed)
  --json              the result as JSON on stdout (progress goes to stderr)
  --debug             show tracebacks
  -h, --help          show this help and exit (changes nothing)

Environment: HOMESTACK_VENV=DIR uses that virtual environment instead of .venv;
HOMESTACK_PREFIX=x_ prefixes every project, network and volume name.
More: docs/install.md
EOF_USAGE
}

# Read the flags before touching anything: --help, or a typo, must not create .venv first.
expect_value=""
previous=""
for arg in "$@"; do
    if [ -n "$expect_value" ]; then
        expect_value=""
        previous=""
        continue
    fi
    case "$arg" in
    -h | --help)
        usage
        exit 0
        ;;
    --stack | --stand-in-image) expect_value="$arg" ;;
    --stack=* | --stand-in-image=* | --stand-in | --dry-run | -y | --yes | --json | --debug) ;;
    -*) die "unknown option $arg" "./install-stack.sh --help lists the options" 2 ;;
    *)
        [ "$previous" = "--stand-in" ] ||
            die "unexpected argument $arg" "./install-stack.sh --help lists the options" 2
        ;;
    esac
    previous="$arg"
done
[ -z "$expect_value" ] || die "$expect_value needs a value" "./install-stack.sh --help" 2

apt_install() {
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        return 1
    fi
    say "installing $* with apt-get"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}

find_python() {
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
python="$(find_python)" || python=""
if [ -z "$python" ] && apt_install python3 python3-venv; then
    python="$(find_python)" || python="" # the distribution's python3 may still be too old
fi
if [ -z "$python" ] && apt_install python3.11 python3.11-venv; then # Ubuntu 22.04: python3 is 3.10
    python="$(find_python)" || python=""
fi
[ -n "$python" ] || die "Python 3.11 or newer is needed" \
    "install it (Debian 12/13: sudo apt-get install python3 python3-venv; Ubuntu 22.04: sudo apt-get install python3.11 python3.11-venv), then run this again"

if [ -n "${HOMESTACK_VENV:-}" ] && [ -e "$venv" ] && [ ! -f "$venv/pyvenv.cfg" ]; then
    die "HOMESTACK_VENV=$venv is not a virtual environment" \
        "point it at one (python3 -m venv DIR makes one), or unset it to use .venv"
fi
if [ -e "$venv" ] && [ ! -x "$venv/bin/python" ]; then
    # its interpreter is gone (a Python upgrade) or this user may not run it
    if [ -n "${HOMESTACK_VENV:-}" ]; then # not ours: never made again, never removed
        die "HOMESTACK_VENV=$venv: its python does not run (${venv}/bin/python)" \
            "make it again (python3 -m venv --clear $venv), or unset HOMESTACK_VENV to use .venv"
    fi
    [ -w "$venv" ] ||
        die "$venv does not work (its python does not run) and belongs to $(stat -c %U "$venv")" \
            "run this again as that user (sudo ./install-stack.sh), or remove $venv"
    say "the virtual environment $venv does not work (its python does not run): making it again"
    rm -rf "$venv"
fi
if [ ! -x "$venv/bin/python" ]; then
    say "creating the virtual environment $venv"
    if ! "$python" -m venv "$venv" >/dev/null 2>&1; then
        rm -rf "$venv" # what this failed attempt left: $venv did not exist before it
        pyver="$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
        apt_install "python${pyver}-venv" || apt_install python3-venv ||
            die "cannot create a virtual environment: the venv module is missing" \
                "sudo apt-get install python3-venv, then run this again"
        "$python" -m venv "$venv" || die "cannot create the virtual environment $venv"
    fi
fi

stamp="$venv/.homestack-install"
wanted="$here $(cksum <"$here/pyproject.toml")"
installed=false
"$venv/bin/python" -c 'import homestack' >/dev/null 2>&1 && installed=true
if [ -n "${HOMESTACK_VENV:-}" ] && $installed; then
    : # a venv the caller chose and that has homestack: use it as it is
elif ! $installed || [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
    if [ ! -w "$venv" ] || [ ! -w "$venv/bin" ]; then
        die "$venv belongs to $(stat -c %U "$venv") (made with sudo?) and you may not install into it" \
            "run it as that user again (sudo ./install-stack.sh), or remove $venv" 1
    fi
    say "installing homestack into $venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$here" >&2 ||
        die "pip could not install homestack (its message is above)" \
            "check the internet access to the Python package index, then run this again"
    printf '%s\n' "$wanted" >"$stamp"
fi

# `--stand-in IMAGE` (an optional value) becomes `--stand-in --stand-in-image IMAGE`
args=()
while [ $# -gt 0 ]; do
    if [ "$1" = "--stand-in" ] && [ $# -gt 1 ] && [ "${2#-}" = "$2" ]; then
        args+=(--stand-in --stand-in-image "$2")
        shift 2
    else
        args+=("$1")
        shift
    fi
done

exec "$venv/bin/homestack" --site "$here" install all ${args[@]+"${args[@]}"}
