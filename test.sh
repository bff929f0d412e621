#!/usr/bin/env bash
# The whole test suite: set up (first run only), lint, then every test (core, node and whole-stack tests).
#   ./test.sh [pytest arguments]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
scripts/setup.sh
# shellcheck disable=SC1091
set +u  # the colcon and venv activation scripts read unset variables
. scripts/env.sh
set -u
echo "[test] ruff check"
ruff check .
echo "[test] pytest"
exec python -m pytest "$@"
