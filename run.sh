#!/usr/bin/env bash
# The main job: set up (first run only), then run the Legion stack on the simulated robot, headless, with a report.
#   ./run.sh [--stand S] [--walk M] [--scene NAME]      (see: ./run.sh --help)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
scripts/setup.sh
# shellcheck disable=SC1091
set +u  # the colcon and venv activation scripts read unset variables
. scripts/env.sh
set -u
exec legion job "$@"
