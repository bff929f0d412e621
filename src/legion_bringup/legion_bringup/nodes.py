"""The node list of every Legion launch, in one place.

`launch/<name>.launch.py` (ROS 2 launch) and `legion launch <name>` (pip environment, no ROS launch) both build their
processes from `plan(name, arguments)`, so the two start the same nodes with the same parameters and remappings.
Parameters come from `config/stack.yaml` (keyed by node name) with the launch arguments applied on top.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path


class LaunchError(Exception):
    """A launch name or argument is unknown or invalid."""


@dataclass(frozen=True)
class LaunchArgument:
    """A launch argument, with its default and what it does."""

    name: str
    default: str
    description: str
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class NodeSpec:
    """One node process of a launch."""

    package: str
    executable: str
    name: str
    parameters: dict[str, object] = field(default_factory=dict)
    """Parameters set by the launch arguments, applied over `config/stack.yaml`."""
    remappings: tuple[tuple[str, str], ...] = ()
    arguments: tuple[str, ...] = ()
    """Command-line arguments before `--ros-args` (e.g. rviz2's `-d <file>`)."""
    composed: tuple[str, ...] = ()
    """Names of the nodes a composed process holds (each keeps its own name, so no `__node` remap); empty: one
    node, named `name`."""
    ros_only: bool = False
    """Needs a full ROS 2 install (e.g. robot_state_publisher, rviz2); skipped by `legion launch` without one."""
    required: bool = True
    """When it exits, the whole launch shuts down."""
    respawn: bool = False
    """When it exits, `legion launch` starts it again (as ROS launch's `respawn=True`); it is then not required."""
    namespace: str | None = None
    """The robot's namespace in a multi-robot launch (`robot_1`, under the launch's `namespace` if one is given);
    "" for the shared simulator; None: the launch's `namespace`."""

    @property
    def key(self) -> str:
        """Unique name of the process in a launch: `robot_1/gait_planner` for a robot's node, else its name."""
        return f"{self.namespace}/{self.name}" if self.namespace else self.name

    def full_namespace(self, launch_namespace: str) -> str:
        """The namespace the process runs in, given the launch's `namespace` argument."""
        launch_namespace = launch_namespace.strip("/")
        if self.namespace is None:
            return launch_namespace
        return "/".join(part for part in (launch_namespace, self.namespace) if part)


_BOOL = ("true", "false")
ARGUMENTS: dict[str, LaunchArgument] = {a.name: a for a in (
    LaunchArgument("robot", "centurion", "Robot name (its config/robots/<robot>.yaml, or one on LEGION_ROBOT_PATH) or "
                                         "the path of a robot file."),
    LaunchArgument("scene", "sorting_cell", "Scene file config/scenes/<scene>.yaml (or a path to a scene file)."),
    LaunchArgument("headless", "true", "Run without any viewer window; false opens MuJoCo's interactive viewer "
                                       "(needs a display).", _BOOL),
    LaunchArgument("lockstep", "false",
                   "Simulated time advances only when the controller has answered the latest state.", _BOOL),
    LaunchArgument("sensor_noise", "true", "Simulated sensors carry the errors of the robot file's `sensors:` block "
                                           "(docs/sensors.md); false makes them exact.", _BOOL),
    LaunchArgument("composed", "true", "Run the state estimator and the whole-body controller as two nodes in one "
                                       "process (the 500 Hz control path); false: a process each.", _BOOL),
    LaunchArgument("rviz", "false", "Start RViz with config/legion.rviz (needs a ROS 2 install).", _BOOL),
    LaunchArgument("namespace", "", "Namespace for every node and topic (e.g. robot_1); empty for none."),
    LaunchArgument("robots", "", "How many robots the scene must hold (its `robots:` list, docs/scenes.md; e.g. "
                                 "robots:=2 with scene:=two_robot_cell); empty: as many as the scene has. One stack "
                                 "per robot under its name (robot_1/...), one simulator for all."),
    LaunchArgument("viewer", "false", "Serve a live view of the robot and its cell to a browser (legion_viewer, "
                                      "docs/viewer.md).", _BOOL),
    LaunchArgument("viewer_port", "8080", "TCP port of the browser view, on 127.0.0.1."),
)}

LAUNCHES: dict[str, tuple[str, ...]] = {
    "sim": ("robot", "scene", "headless", "lockstep", "sensor_noise", "rviz", "namespace", "viewer", "viewer_port",
            "robots"),
    "stack": ("robot", "scene", "headless", "lockstep", "sensor_noise", "composed", "rviz", "namespace", "viewer",
              "viewer_port", "robots"),
    "gazebo": ("robot", "scene", "headless", "rviz", "namespace"),
    "view": ("robot", "namespace", "viewer_port"),
}
"""Launch name -> the arguments it takes."""


def resolve_arguments(name: str, given: dict[str, str]) -> dict[str, str]:
    """Defaults of launch `name` with `given` applied; raises LaunchError on an unknown launch or argument."""
    if name not in LAUNCHES:
        raise LaunchError(f"unknown launch '{name}'; known: {', '.join(sorted(LAUNCHES))}")
    allowed = LAUNCHES[name]
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        raise LaunchError(f"launch '{name}' takes no argument {', '.join(unknown)}; it takes: {', '.join(allowed)}")
    values = {arg: ARGUMENTS[arg].default for arg in allowed} | dict(given)
    for arg, value in values.items():
        choices = ARGUMENTS[arg].choices
        if choices and value not in choices:
            raise LaunchError(f"argument {arg}:={value} must be one of {', '.join(choices)}")
    return values


def _flag(value: str) -> bool:
    return value == "true"


def plan(name: str, arguments: dict[str, str], share: Path) -> list[NodeSpec]:
    """The nodes of launch `name`, given resolved arguments (see `resolve_arguments`) and the bringup share.

    A scene with a `robots:` list (sim and stack) gives one simulator for all robots, then each robot's nodes in its
    namespace (`robot_1`), with its robot file, its start pose and the frame prefix `robot_1/`."""
    robot, urdf = _checked_robot(arguments["robot"])
    robots = _scene_robots(arguments, robot) if name in ("sim", "stack") else []
    if not any(entry.name for entry in robots):
        return _robot_plan(name, arguments, share, robot, urdf, simulator=True)
    nodes = [_simulator({"robot": robot, "use_sim_time": True}, arguments, namespace="")]
    checked: dict[str, tuple[str, str]] = {}
    for entry in robots:
        if entry.robot not in checked:
            checked[entry.robot] = _checked_robot(entry.robot)
        robot_file, robot_urdf = checked[entry.robot]
        robot_nodes = _robot_plan(name, arguments, share, robot_file, robot_urdf, simulator=False,
                                  start=(entry.start.x, entry.start.y, entry.start.yaw),
                                  frame_prefix=f"{entry.name}/")
        # Each executive reserves the areas the robots share at the cell's fleet coordinator (below); each safety
        # node monitors the other robots like people, from their odometry (every robot's odom is the scene's world
        # frame, so theirs coincide).
        launch_namespace = arguments.get("namespace", "").strip("/")
        shared = {
            "executive": {"fleet_coordinator": "/" + launch_namespace, "fleet_robot": entry.name},
            "safety": {"other_robots": ["/" + "/".join(p for p in (launch_namespace, other.name) if p)
                                        + "/odom/decimated" for other in robots if other.name != entry.name]}}
        nodes += [replace(node, namespace=entry.name, parameters=node.parameters | shared.get(node.name, {}))
                  for node in robot_nodes]
    if name == "stack":
        # One per cell, beside the simulator: leased reservations of the areas and bins the robots share.
        nodes.append(NodeSpec("legion_fleet", "fleet_coordinator", "fleet_coordinator",
                              parameters={"use_sim_time": True}, namespace=""))
    return nodes


def _simulator(common: dict[str, object], arguments: dict[str, str], namespace: str | None = None) -> NodeSpec:
    return NodeSpec(
        "legion_sim", "sim_bridge", "sim_bridge",
        parameters=common | {"scene": arguments["scene"], "lockstep": _flag(arguments["lockstep"]),
                             "viewer": not _flag(arguments.get("headless", "true")),
                             "sensor_noise": _flag(arguments.get("sensor_noise", "true"))},
        namespace=namespace)


def _robot_plan(name: str, arguments: dict[str, str], share: Path, robot: str, urdf: str, *, simulator: bool,
                start: tuple[float, float, float] | None = None, frame_prefix: str = "") -> list[NodeSpec]:
    """The nodes of launch `name` for one robot (with the simulator if `simulator`); `frame_prefix` goes to the
    nodes that publish or check frame ids (a multi-robot scene's `robot_k/`; empty, none is given)."""
    common = {"robot": robot, "use_sim_time": True}
    framed = {"frame_prefix": frame_prefix} if frame_prefix else {}
    nodes: list[NodeSpec] = []
    if name == "view":  # the browser view alone, attached to a running robot or stack (`legion view`)
        return [_viewer(common, arguments, ("joint_states", "odom"))]
    if name in ("sim", "stack") and simulator:
        nodes.append(_simulator(common, arguments))
    if name == "stack":
        # `odom` for everyone: leg odometry from the IMU, encoders and foot force sensors, starting at the scene's
        # robot start pose (in simulation the scene's world frame is `odom`).
        x, y, yaw = start if start is not None else _scene_start(arguments["scene"])
        estimator = {"initial_x": x, "initial_y": y, "initial_yaw": yaw} | framed
        # The control path: leg odometry from the IMU, encoders and foot force sensors (`odom`, starting at the
        # scene's robot start pose: in simulation the scene's world frame is `odom`), and the whole-body controller,
        # which answers every joint_states with a joint_commands (lockstep) from the estimator's `odom`, never ground
        # truth. Composed: both nodes in one process, and the process's parameters (`frame_prefix`) reach both.
        if _flag(arguments.get("composed", "true")):
            nodes.append(NodeSpec("legion_control", "whole_body_control", "whole_body_control",
                                  parameters=common | estimator,
                                  composed=("state_estimator", "whole_body_controller")))
        else:
            nodes.append(NodeSpec("legion_estimation", "state_estimator", "state_estimator",
                                  parameters=common | estimator))
            nodes.append(NodeSpec("legion_control", "whole_body_controller", "whole_body_controller",
                                  parameters=common | framed))
        # The nodes that work at 10-20 Hz take the estimator's decimated state instead of every control tick.
        decimated = (("joint_states", "joint_states/decimated"), ("odom", "odom/decimated"))
        # Footsteps and the CoM / swing-foot reference (gait/reference) from cmd_vel and walk_to.
        nodes.append(NodeSpec("legion_gait", "gait_planner", "gait_planner", parameters=common | framed,
                              remappings=decimated))
        nodes.append(NodeSpec("legion_perception", "perception", "perception", parameters=common | framed,
                              remappings=decimated))
        # Pick and place: gripper paths and hand commands to the whole-body controller, walk_to when out of reach.
        nodes.append(NodeSpec("legion_manipulation", "manipulation", "manipulation", parameters=common | framed,
                              remappings=decimated))
        # Speed and separation monitoring of the tracked people, the e-stop latch: safety/state for the gait
        # planner, manipulation and the executive.
        nodes.append(NodeSpec("legion_safety", "safety", "safety", parameters=common | framed,
                              remappings=(("odom", "odom/decimated"),)))
        # The task executive: run_job (a sorting shift in a cell file) as a behaviour tree over walk_to, pick, place.
        nodes.append(NodeSpec("legion_executive", "executive", "executive", parameters=common | framed,
                              remappings=(("odom", "odom/decimated"),)))
        # Liveness of every node above (graph presence, diagnostics freshness) on supervisor/status; while a node
        # work depends on (perception) is gone, supervisor/pause holds walking and manipulation. Not required: the
        # stack runs on without it.
        watched = [name for spec in nodes for name in (spec.composed or (spec.name,))]
        nodes.append(NodeSpec("legion_supervisor", "supervisor", "supervisor",
                              parameters={"use_sim_time": True, "watched": watched}, required=False))
    if name == "gazebo":
        nodes.append(NodeSpec("legion_sim", "gazebo_joint_command_adapter", "gazebo_joint_command_adapter",
                              parameters=common, ros_only=True))
    if _flag(arguments.get("viewer", "false")):
        nodes.append(_viewer(common, arguments, ("joint_states", "odom") if name == "stack" else ("joint_states",)))
    # TF from the URDF and joint_states, for viewers. gazebo.launch.py hands it the use_gazebo description itself.
    # Where robot_state_publisher is not installed (the pip path), legion_description's link_state_publisher does
    # its job (from the hardware's robot_description topic); in the stack it takes the decimated joint states.
    if name == "gazebo" or robot_state_publisher_installed():
        description = {} if name == "gazebo" else {"robot_description": urdf}
        nodes.append(NodeSpec("robot_state_publisher", "robot_state_publisher", "robot_state_publisher",
                              parameters={"use_sim_time": True} | description | framed, ros_only=True,
                              required=False))
    else:
        # It runs on the joint states' stamps and never reads a clock: no `clock` subscription (500 Hz) to pay for.
        nodes.append(NodeSpec("legion_description", "link_state_publisher", "link_state_publisher",
                              parameters={"use_sim_time": False} | framed, required=False,
                              remappings=(("joint_states", "joint_states/decimated"),) if name == "stack" else ()))
    if _flag(arguments.get("rviz", "false")):
        nodes.append(NodeSpec("rviz2", "rviz2", "rviz2", parameters={"use_sim_time": True},
                              arguments=("-d", str(share / "config" / "legion.rviz")), ros_only=True, required=False))
    return nodes


def robot_state_publisher_installed() -> bool:
    """Whether ROS's robot_state_publisher is installed (a ROS install): the one place that decides between it and
    the pip path's link_state_publisher."""
    try:
        from ament_index_python.packages import PackageNotFoundError, get_package_prefix
    except ImportError:
        return False
    try:
        get_package_prefix("robot_state_publisher")
    except (PackageNotFoundError, ValueError):
        return False
    return True


def _viewer(common: dict[str, object], arguments: dict[str, str], decimated: tuple[str, ...]) -> NodeSpec:
    """The browser view (legion_viewer); it takes the state estimator's 50 Hz `<topic>/decimated` of the topics in
    `decimated` (a view needs no 500 Hz state), and its exit does not stop the robot."""
    try:
        port = int(arguments.get("viewer_port", "8080"))
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        raise LaunchError(f"argument viewer_port:={arguments.get('viewer_port')} must be a TCP port (1..65535)")
    return NodeSpec("legion_viewer", "viewer", "viewer", parameters=common | {"port": port},
                    remappings=tuple((topic, f"{topic}/decimated") for topic in decimated), required=False)


def _scene_robots(arguments: dict[str, str], robot: str) -> list:
    """The scene's robots (`legion_sim.scene_robots.ResolvedRobot`, URDFs not expanded), checked against the
    `robots` argument; the launch fails on a broken scene or a count that does not match."""
    from legion_sim.errors import SimError
    from legion_sim.scene import load_scene
    from legion_sim.scene_robots import scene_robots

    try:
        robots = scene_robots(load_scene(arguments["scene"]), robot, expand=False)
    except SimError as error:
        raise LaunchError(str(error)) from error
    wanted = arguments.get("robots", "")
    if wanted:
        if not wanted.isdigit() or int(wanted) < 1:
            raise LaunchError(f"argument robots:={wanted} must be a positive number of robots")
        if int(wanted) != len(robots):
            hint = " (scene:=two_robot_cell holds two)" if len(robots) == 1 else ""
            raise LaunchError(f"argument robots:={wanted}: scene '{arguments['scene']}' holds {len(robots)} "
                              f"robot(s){hint}; a scene's `robots:` list decides (docs/scenes.md)")
    return robots


def _scene_start(scene: str) -> tuple[float, float, float]:
    """The robot's start pose (x [m], y [m], yaw [rad]) in a scene file; the launch fails on a broken scene."""
    from legion_sim.errors import SimError
    from legion_sim.scene import load_scene

    try:
        start = load_scene(scene).robot_start
    except SimError as error:
        raise LaunchError(str(error)) from error
    return start.x, start.y, start.yaw


def _checked_robot(robot: str) -> tuple[str, str]:
    """The robot argument as every node will read it (a robot file's path made absolute) and its expanded URDF,
    after checking its robot file against its description: the launch fails, naming file and key, before any node
    starts."""
    from legion_description import DescriptionError, load_robot
    from legion_description.robot_files import is_robot_file

    if is_robot_file(robot):
        robot = str(Path(robot).expanduser().resolve())
    try:
        _, urdf = load_robot(robot)
    except DescriptionError as error:
        raise LaunchError(str(error)) from error
    return robot, urdf


def stack_parameters_file(share: Path) -> Path:
    """`config/stack.yaml` in the given bringup share (or source) directory."""
    return share / "config" / "stack.yaml"


MIDDLEWARE_PROFILE = "FASTRTPS_DEFAULT_PROFILES_FILE"
"""The environment variable that points Fast DDS at a profile file."""


def middleware_environment(share: Path, environment: dict[str, str]) -> dict[str, str]:
    """The variables a launch adds to `environment` for its nodes: Fast DDS's profile `config/fastdds.xml` (the
    shared-memory segment that carries camera frames, docs/realtime.md), unless the user has chosen a profile or
    another middleware; and discovery on this machine only (`ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST`) unless the
    user has chosen a range (docs/security.md)."""
    from legion_common.discovery import discovery_environment

    variables = discovery_environment(environment)
    profile = share / "config" / "fastdds.xml"
    rmw = environment.get("RMW_IMPLEMENTATION", "rmw_fastrtps_cpp")
    if MIDDLEWARE_PROFILE in environment or not rmw.startswith("rmw_fastrtps") or not profile.is_file():
        return variables
    return variables | {MIDDLEWARE_PROFILE: str(profile)}
