#!/usr/bin/env bash
# The whole test suite: set up (first run only), lint, then every test (core, node and whole-stack tests).
#   ./test.sh [--fast] [pytest arguments]
#   --fast: everything but the whole-stack tests (marker `stack`), in under 2 minutes
#   LEGION_TEST_WORKERS=N: pytest-xdist workers (default 2; 0: no xdist)
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
# Two workers (the machine's two cores): the whole-stack tests run one after another on one of them
# (conftest.py), everything else is shared out. LEGION_TEST_WORKERS=0 runs everything in this process.
workers="${LEGION_TEST_WORKERS:-2}"
parallel=()
if [ "$workers" != "0" ]; then
  parallel=(-n "$workers" --dist loadgroup)
fi
echo "[test] pytest ${fast[*]} ${parallel[*]}"
exec python -m pytest "${fast[@]}" "${parallel[@]}" "$@"
