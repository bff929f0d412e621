"""Legion robot descriptions: where the URDF and robot configuration files are, and typed loaders for them."""

from legion_description.robot_config import RobotConfig, SideFrames, load_robot_config
from legion_description.robot_files import (
    DescriptionError,
    expand_urdf,
    robot_config_path,
    share_dir,
    urdf_xacro_path,
)
from legion_description.sensor_config import SensorConfig

__all__ = [
    "DescriptionError",
    "RobotConfig",
    "SensorConfig",
    "SideFrames",
    "expand_urdf",
    "load_robot_config",
    "robot_config_path",
    "share_dir",
    "urdf_xacro_path",
]
