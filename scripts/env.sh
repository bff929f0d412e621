# Source this file to get the Legion environment in a shell: the virtual environment, the built workspace and
# headless rendering.   . scripts/env.sh
_legion_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck disable=SC1091
. "$_legion_root/.venv/bin/activate"
export AMENT_PREFIX_PATH="$_legion_root/.venv${AMENT_PREFIX_PATH:+:$AMENT_PREFIX_PATH}"
# shellcheck disable=SC1091
. "$_legion_root/install/setup.bash"
# The `legion` command (installed where `ros2 run legion_bringup legion` finds it).
export PATH="$_legion_root/install/legion_bringup/lib/legion_bringup:$PATH"
export MUJOCO_GL="${MUJOCO_GL:-egl}"
export PYOPENGL_PLATFORM="${PYOPENGL_PLATFORM:-egl}"
export RMW_IMPLEMENTATION="${RMW_IMPLEMENTATION:-rmw_fastrtps_cpp}"
# Fast DDS's profile: a shared-memory segment large enough for camera frames (config/fastdds.xml, docs/realtime.md).
export FASTRTPS_DEFAULT_PROFILES_FILE="${FASTRTPS_DEFAULT_PROFILES_FILE:-$_legion_root/config/fastdds.xml}"
unset _legion_root
