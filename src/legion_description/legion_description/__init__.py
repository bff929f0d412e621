"""Legion robot descriptions: where the URDF and robot configuration files are, and typed loaders for them."""

from legion_description.robot_config import RobotConfig, SideFrames, load_robot_config
from legion_description.robot_files import (
    DescriptionError,
    expand_urdf,
    robot_config_path,
    share_dir,
    urdf_xacro_path,
)

__all__ = [
    "DescriptionError",
    "RobotConfig",
    "SideFrames",
    "expand_urdf",
    "load_robot_config",
    "robot_config_path",
    "share_dir",
    "urdf_xacro_path",
]
