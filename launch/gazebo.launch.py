"""`ros2 launch legion_bringup gazebo.launch.py`: the simulated robot on Gazebo Harmonic, behind the same hardware
interface as the MuJoCo simulator (docs/interfaces.md, "Gazebo"). Needs ROS 2 Jazzy with ros_gz, gz_ros2_control and
ros2_controllers (the docker image has them); `--show-args` lists the arguments.

Starts:
- Gazebo (`ros_gz_sim` `gz_sim.launch.py`) running the world generated from the scene file at launch time
  (`legion_sim.gazebo_world`, written to a temporary directory); `headless:=true` runs the server only
  (`gz sim -s`, with EGL headless rendering for the camera);
- the robot: `urdf/<robot>.urdf.xacro` expanded with `use_gazebo:=true` (gz_ros2_control and the sensors), given to
  robot_state_publisher as `robot_description` and spawned by `ros_gz_sim create` at the scene's start pose; once it
  exists, the spawners of joint_state_broadcaster and then effort_controller, configured by the ros2_control
  parameters file generated from the robot configuration (`legion_sim.gazebo_controllers`, written next to the world);
- `ros_gz_bridge` `parameter_bridge` with config/gazebo_bridge.yaml (clock, IMU, ankle wrenches, camera);
- the nodes of the shared node list for `gazebo` (legion_bringup/nodes.py): gazebo_joint_command_adapter,
  robot_state_publisher, and rviz2 with config/legion.rviz when `rviz:=true`.
"""

import tempfile
from pathlib import Path

import yaml
from ament_index_python.packages import get_package_share_directory
from launch.actions import DeclareLaunchArgument, IncludeLaunchDescription, OpaqueFunction, RegisterEventHandler
from launch.event_handlers import OnProcessExit
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node, SetParametersFromFile

from legion_bringup.launcher import bringup_share
from legion_bringup.ros_launch import generate


def gazebo_arguments() -> list[DeclareLaunchArgument]:
    """Arguments of this launch beyond the shared ones (robot, scene, headless, rviz, namespace)."""
    return [DeclareLaunchArgument("gz_verbosity", default_value="3", choices=["0", "1", "2", "3", "4"],
                                  description="Gazebo console verbosity: 0 (none) to 4 (debug).")]


def gazebo_actions(context) -> list:
    """Generate the world and the robot description, then start Gazebo, the spawner, the bridge and the
    controllers (see the module docstring)."""
    from legion_description.robot_config import SIDES, load_robot_config
    from legion_description.robot_files import expand_urdf
    from legion_sim.gazebo_controllers import CONTROLLERS, FILE_NAME, write_controllers_file
    from legion_sim.gazebo_world import WorldOptions, spawn_pose, with_controller_namespace, world_sdf
    from legion_sim.scene import load_scene

    robot = LaunchConfiguration("robot").perform(context)
    scene = load_scene(LaunchConfiguration("scene").perform(context))
    headless = LaunchConfiguration("headless").perform(context) == "true"
    namespace = LaunchConfiguration("namespace").perform(context).strip("/")
    verbosity = LaunchConfiguration("gz_verbosity").perform(context)
    share = bringup_share()
    config = load_robot_config(robot)

    world = WorldOptions()
    output = Path(tempfile.mkdtemp(prefix=f"legion_gazebo_{scene.name}_"))
    world_file = output / f"{scene.name}.sdf"
    world_file.write_text(world_sdf(scene, world))
    # the controller manager runs at the physics rate, on every joint of the robot configuration
    controllers_file = write_controllers_file(config, output / FILE_NAME, update_rate=world.physics_rate)
    urdf = expand_urdf(robot, use_gazebo=True, controllers_file=str(controllers_file))
    urdf = with_controller_namespace(urdf, namespace)
    # robot_description for robot_state_publisher (started by the shared node list): a parameters file that applies
    # to the nodes started after it in this launch, keyed so that only robot_state_publisher reads it.
    description_file = output / "robot_description.yaml"
    description_file.write_text(yaml.safe_dump(
        {"/**/robot_state_publisher": {"ros__parameters": {"robot_description": urdf}}}, width=1 << 20))
    spawn = spawn_pose(urdf, [config.sides[side].sole for side in SIDES], scene)

    gz_args = f"-r -v {verbosity} {'-s --headless-rendering ' if headless else ''}{world_file}"
    gazebo = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(str(Path(get_package_share_directory("ros_gz_sim")) / "launch"
                                          / "gz_sim.launch.py")),
        launch_arguments={"gz_args": gz_args, "on_exit_shutdown": "true"}.items())
    bridge = Node(package="ros_gz_bridge", executable="parameter_bridge", name="gz_bridge", namespace=namespace,
                  parameters=[{"config_file": str(share / "config" / "gazebo_bridge.yaml")}], output="screen")
    create = Node(package="ros_gz_sim", executable="create", namespace=namespace, output="screen",
                  arguments=["-topic", "robot_description", "-name", config.name, *spawn.create_arguments()])
    spawners = [Node(package="controller_manager", executable="spawner", namespace=namespace, output="screen",
                     arguments=[controller, "--controller-manager", "controller_manager"])
                for controller in CONTROLLERS]
    chain = [RegisterEventHandler(OnProcessExit(target_action=before, on_exit=[after]))
             for before, after in zip([create, *spawners[:-1]], spawners, strict=True)]
    return [SetParametersFromFile(str(description_file)), gazebo, bridge, create, *chain]


def generate_launch_description():
    return generate("gazebo", extra_actions=[*gazebo_arguments(), OpaqueFunction(function=gazebo_actions)])
