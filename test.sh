#!/usr/bin/env bash
# The whole test suite: set up (first run only), lint, then every test (core, node and whole-stack tests).
#   ./test.sh [--fast] [pytest arguments]
#   --fast: everything but the whole-stack tests (marker `stack`), in under 2 minutes
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
scripts/setup.sh
# shellcheck disable=SC1091
set +u  # the colcon and venv activation scripts read unset variables
. scripts/env.sh
set -u
echo "[test] ruff check"
ruff check .
fast=()
if [ "${1:-}" = "--fast" ]; then
  shift
  fast=(-m "not stack")
fi
echo "[test] pytest ${fast[*]}"
exec python -m pytest "${fast[@]}" "$@"
