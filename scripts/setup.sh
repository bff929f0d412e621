#!/usr/bin/env bash
# Set up the Legion workspace on a machine without a ROS install (Debian 12 / Python 3.11, pip only):
#   1. a virtual environment in .venv with the pinned packages of requirements.txt (ROS 2 Jazzy rclpy with Fast DDS,
#      message packages, Pinocchio, MuJoCo, QP solvers, OpenCV, xacro, colcon, test tools);
#   2. the custom-interface workaround below (pip path only: a real ROS install does not need it);
#   3. `colcon build` of the workspace into install/.
# Idempotent: each step is skipped when its inputs have not changed since it last succeeded.
# Usage: scripts/setup.sh            (sourcing is not needed; scripts/env.sh gives the environment)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null || PY=python3

say() { printf '[setup] %s\n' "$*"; }
stamp_ok() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }

# 1. Virtual environment and pinned packages.
if [ ! -x "$VENV/bin/python" ]; then
  say "creating virtual environment $VENV"
  "$PY" -m venv "$VENV"
fi
req_hash="$(sha256sum requirements.txt | cut -c1-16)"
if ! stamp_ok "$VENV/.legion-requirements" "$req_hash"; then
  say "installing pinned packages (requirements.txt)"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements.txt
  echo "$req_hash" > "$VENV/.legion-requirements"
  rm -f "$VENV/.legion-cmake-fixed"
fi

# 2. Custom interfaces on the pip path. The ros-jazzy-* wheels ship CMake config files that still carry the wheel
#    build machine's include paths (its Python headers and its numpy include dir), so rosidl's Python generator fails
#    to configure. Re-point them at this interpreter's include dir and numpy.get_include(). Only on the pip path:
#    with a real ROS install (/opt/ros/jazzy) none of this runs.
if [ ! -f "$VENV/.legion-cmake-fixed" ]; then
  py_include="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')"
  np_include="$("$VENV/bin/python" -c 'import numpy; print(numpy.get_include())')"
  say "re-pointing wheel CMake files at $py_include and $np_include"
  # (grep finds nothing once the files are fixed, e.g. after a requirements change: not an error)
  { grep -rlE '/opt/python/cp311-cp311/(include/python3\.11|lib/python3\.11/site-packages/numpy/_core/include)' \
      "$VENV/share" --include='*.cmake' || true; } | while read -r f; do
    sed -i -e "s#/opt/python/cp311-cp311/lib/python3\.11/site-packages/numpy/_core/include#${np_include}#g" \
           -e "s#/opt/python/cp311-cp311/include/python3\.11#${py_include}#g" "$f"
  done
  touch "$VENV/.legion-cmake-fixed"
fi

# 3. colcon build, skipped when no package source has changed since the last successful build.
#    pip_path/ holds standard ROS interface packages that PyPI lacks (tf2_msgs for `tf`): built here, on the pip path,
#    by explicit path; its COLCON_IGNORE keeps a ROS install's plain `colcon build` from shadowing the real ones.
src_hash="$( (find src pip_path -type f \( -name package.xml -o -name setup.py -o -name setup.cfg -o -name CMakeLists.txt \
              -o -name '*.msg' -o -name '*.srv' -o -name '*.action' \) -print0 | sort -z | xargs -0 sha256sum;
              find src urdf config launch -print | sort) | sha256sum | cut -c1-16)"
if ! stamp_ok "$ROOT/install/.legion-build" "$src_hash"; then
  say "colcon build"
  mkdir -p build
  export AMENT_PREFIX_PATH="$VENV${AMENT_PREFIX_PATH:+:$AMENT_PREFIX_PATH}"
  export CMAKE_PREFIX_PATH="$VENV${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}"
  export PATH="$VENV/bin:$PATH"
  "$VENV/bin/colcon" --log-base build/log build --symlink-install --base-paths src --paths pip_path/tf2_msgs \
      --event-handlers console_cohesion- status- summary+ \
      --cmake-args -DPython3_EXECUTABLE="$VENV/bin/python" -DBUILD_TESTING=OFF > build/colcon.log 2>&1 \
    || { cat build/colcon.log; say "colcon build failed (log: build/colcon.log)"; exit 1; }
  echo "$src_hash" > "$ROOT/install/.legion-build"
fi
say "ready"
