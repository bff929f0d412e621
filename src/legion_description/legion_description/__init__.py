"""Legion robot descriptions: where the URDF and robot configuration files are, and typed loaders for them."""

from legion_description.robot_check import check_against_urdf, load_robot
from legion_description.robot_config import FallPosture, HandConfig, RobotConfig, SideFrames, load_robot_config
from legion_description.robot_files import (
    DescriptionError,
    RobotFiles,
    expand_urdf,
    robot_config_path,
    robot_files,
    share_dir,
    urdf_xacro_path,
)
from legion_description.sensor_config import SensorConfig

__all__ = [
    "DescriptionError",
    "FallPosture",
    "HandConfig",
    "RobotConfig",
    "RobotFiles",
    "SensorConfig",
    "SideFrames",
    "check_against_urdf",
    "expand_urdf",
    "load_robot",
    "load_robot_config",
    "robot_config_path",
    "robot_files",
    "share_dir",
    "urdf_xacro_path",
]
