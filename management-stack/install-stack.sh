#!/usr/bin/env bash
# Installs (or updates) only this stack: the root install-stack.sh does the work.
exec "$(dirname "$0")/../install-stack.sh" --stack management "$@"
