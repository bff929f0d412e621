"""ros2_control parameters of a robot on Gazebo Harmonic, generated from its robot configuration.

gz_ros2_control reads them from the file the `use_gazebo` description names (xacro argument `controllers_file`); the
Gazebo launch writes that file at launch time for the robot it starts. The controller manager runs inside Gazebo at
`update_rate` on simulated time (the world's physics rate, `legion_sim.gazebo_world`) with two controllers, spawned in
the order of `CONTROLLERS`:
- `joint_state_broadcaster` (joint_state_broadcaster/JointStateBroadcaster) publishes `joint_states`;
- `effort_controller` (effort_controllers/JointGroupEffortController) takes one effort [N m or N] per joint on
  `effort_controller/commands` (std_msgs/Float64MultiArray) in the order of its `joints`: the robot configuration's
  `all_joints`, which is the order `gazebo_joint_command_adapter` publishes in.
Keys start with `/**/` so that they match under any namespace (launch argument `namespace:=...`).

    gazebo_controllers --robot <robot> --output <file>    writes the file by hand
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import yaml

from legion_description.robot_config import RobotConfig, load_robot_config
from legion_description.robot_files import DescriptionError
from legion_sim.errors import SimError
from legion_sim.gazebo_world import WorldOptions

CONTROLLERS = ("joint_state_broadcaster", "effort_controller")
"""Controllers the file configures, in the order they are spawned."""
CONTROLLER_TYPES = {
    "joint_state_broadcaster": "joint_state_broadcaster/JointStateBroadcaster",
    "effort_controller": "effort_controllers/JointGroupEffortController",
}
"""Controller name -> its ros2_controllers plugin type."""
FILE_NAME = "gazebo_controllers.yaml"
"""Name of the file the Gazebo launch writes."""


def controllers_parameters(config: RobotConfig, update_rate: float = WorldOptions.physics_rate) -> dict:
    """The ros2_control parameters (a ROS 2 parameters-file mapping) for `config`'s robot: every joint of
    `config.all_joints`, in that order, on the effort controller.

    Raises:
        SimError: the update rate is not a positive whole number of Hz (ros2_control takes an integer).
    """
    if (
        isinstance(update_rate, bool)
        or not math.isfinite(update_rate)
        or update_rate < 1
        or update_rate != round(update_rate)
    ):
        raise SimError(f"controller update_rate must be a positive whole number of Hz, got {update_rate!r}")
    manager = {"update_rate": round(update_rate)}
    manager.update({name: {"type": CONTROLLER_TYPES[name]} for name in CONTROLLERS})
    return {
        "/**/controller_manager": {"ros__parameters": manager},
        "/**/effort_controller": {"ros__parameters": {"joints": list(config.all_joints)}},
    }


def controllers_yaml(config: RobotConfig, update_rate: float = WorldOptions.physics_rate) -> str:
    """`controllers_parameters` as the text of a ROS 2 parameters file, with a header naming the robot."""
    header = (
        f"# ros2_control parameters of robot '{config.name}' on Gazebo Harmonic, generated from {config.source}\n"
        "# by legion_sim.gazebo_controllers: effort_controller's joints are the robot's all_joints, in order.\n"
    )
    return header + yaml.safe_dump(
        controllers_parameters(config, update_rate), sort_keys=False, default_flow_style=False
    )


def write_controllers_file(
    config: RobotConfig, path: Path | str, update_rate: float = WorldOptions.physics_rate
) -> Path:
    """Write `controllers_yaml` to `path` (its folder must exist) and return the path."""
    path = Path(path)
    path.write_text(controllers_yaml(config, update_rate))
    return path


def main(argv: list[str] | None = None) -> int:
    """`gazebo_controllers --robot <robot> --output <file>`: write a robot's controllers file (0 on success)."""
    parser = argparse.ArgumentParser(prog="gazebo_controllers", description=__doc__.split("\n", 1)[0])
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--robot", default="centurion", help="robot name (config/robots/<robot>.yaml)")
    which.add_argument("--config", type=Path, help="an explicit robot configuration file instead")
    parser.add_argument("--output", type=Path, required=True, help="the parameters file to write")
    parser.add_argument(
        "--update-rate",
        type=float,
        default=WorldOptions.physics_rate,
        help="controller manager rate [Hz]; the world's physics rate",
    )
    args = parser.parse_args(argv)
    try:
        config = load_robot_config(args.robot, path=args.config)
        write_controllers_file(config, args.output, args.update_rate)
    except (DescriptionError, SimError, OSError) as error:
        print(f"gazebo_controllers: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
