"""Legion perception: the head RGB-D camera turned into parts, obstacles and people, with privacy built in.

    from legion_perception import PerceptionCore, Frame

    core = PerceptionCore()                         # settings: legion_perception.config (defaults = config/stack.yaml)
    result = core.process(Frame(rgb, depth, camera, camera_to_odom, robot_xy, stamp))
    result.objects                                  # confirmed part tracks in odom (id, label, position, yaw, size)
    result.grid                                     # obstacle occupancy grid in odom
    image = core.debug_image(frame, result)         # faces anonymised, detections drawn

The core imports no ROS; `perception_node` is the ROS 2 adapter and `conversions` its message <-> numpy layer.
"""

from legion_perception.config import PerceptionConfig
from legion_perception.errors import ConfigError, InputError, PerceptionError
from legion_perception.geometry import CameraIntrinsics
from legion_perception.pipeline import Frame, PerceptionCore, PerceptionResult

__all__ = [
    "CameraIntrinsics",
    "ConfigError",
    "Frame",
    "InputError",
    "PerceptionConfig",
    "PerceptionCore",
    "PerceptionError",
    "PerceptionResult",
]
