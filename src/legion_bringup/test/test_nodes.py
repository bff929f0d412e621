"""The shared node list and the `legion launch` argument handling, without starting anything."""

from pathlib import Path

import pytest

from legion_bringup.launcher import command_line, parse_launch_arguments
from legion_bringup.nodes import ARGUMENTS, LAUNCHES, LaunchError, NodeSpec, plan, resolve_arguments

SHARE = Path("/share")


def test_every_launch_argument_is_described():
    for name, arguments in LAUNCHES.items():
        for argument in arguments:
            assert ARGUMENTS[argument].description, (name, argument)


def test_defaults_and_overrides():
    values = resolve_arguments("sim", {"scene": "empty"})
    assert values["scene"] == "empty"
    assert values["robot"] == "centurion"
    assert values["lockstep"] == "false"


@pytest.mark.parametrize(("name", "given", "message"), [
    ("walk", {}, "unknown launch 'walk'"),
    ("sim", {"speed": "1"}, "takes no argument speed"),
    ("sim", {"lockstep": "yes"}, "lockstep:=yes must be one of true, false"),
    ("gazebo", {"lockstep": "true"}, "takes no argument lockstep"),
])
def test_bad_arguments_are_named(name, given, message):
    with pytest.raises(LaunchError, match=message):
        resolve_arguments(name, given)


def test_sim_plan_has_the_bridge_with_launch_parameters():
    nodes = plan("sim", resolve_arguments("sim", {"scene": "empty", "lockstep": "true"}), SHARE)
    bridge = next(n for n in nodes if n.name == "sim_bridge")
    assert bridge.package == "legion_sim"
    assert bridge.parameters["scene"] == "empty"
    assert bridge.parameters["lockstep"] is True
    assert bridge.parameters["use_sim_time"] is True
    assert all(n.ros_only for n in nodes if n.package in ("robot_state_publisher", "rviz2"))


def test_rviz_only_when_asked():
    without = plan("sim", resolve_arguments("sim", {}), SHARE)
    with_rviz = plan("sim", resolve_arguments("sim", {"rviz": "true"}), SHARE)
    assert "rviz2" not in {n.name for n in without}
    rviz = next(n for n in with_rviz if n.name == "rviz2")
    assert rviz.arguments == ("-d", str(SHARE / "config" / "legion.rviz"))


def test_command_line_carries_parameters_namespace_and_remaps(tmp_path):
    params = tmp_path / "stack.yaml"
    params.write_text("{}\n")
    node = NodeSpec("pkg", "exe", "my_node", {"lockstep": True, "rate": 2.5, "scene": "empty"},
                    remappings=(("odom", "ground_truth/odom"),))
    command = command_line(node, Path("/bin/exe"), params, "robot_1")
    assert command[:4] == ["/bin/exe", "--ros-args", "-r", "__node:=my_node"]
    text = " ".join(command)
    assert "-r __ns:=/robot_1" in text
    assert f"--params-file {params}" in text
    assert "-p lockstep:=true" in text and "-p rate:=2.5" in text and "-p scene:=empty" in text
    assert "-r odom:=ground_truth/odom" in text


def test_parse_launch_arguments():
    assert parse_launch_arguments(["scene:=empty", "rviz:=false"]) == {"scene": "empty", "rviz": "false"}
    with pytest.raises(LaunchError, match="name:=value"):
        parse_launch_arguments(["scene=empty"])


def test_stack_yaml_keys_name_nodes_of_the_plan():
    import yaml

    root = Path(__file__).resolve().parents[3]
    keys = yaml.safe_load((root / "config" / "stack.yaml").read_text()).keys()
    launches = [(name, {}) for name in LAUNCHES] + [("stack", {"scene": "two_robot_cell"})]  # + fleet_coordinator
    planned = {node for name, given in launches for n in plan(name, resolve_arguments(name, given), SHARE)
               for node in (n.name, *n.composed)}
    for key in keys:
        assert key.removeprefix("/**/") in planned, key


def test_launch_files_compile_and_use_the_shared_list():
    import importlib.util
    import py_compile

    root = Path(__file__).resolve().parents[3]
    for name in LAUNCHES:
        path = root / "launch" / f"{name}.launch.py"
        if not path.exists():
            continue  # written by its own issue
        py_compile.compile(str(path), doraise=True)
        text = path.read_text()
        assert "legion_bringup.ros_launch" in text
        if importlib.util.find_spec("launch") and importlib.util.find_spec("launch_ros"):  # a ROS 2 install
            spec = importlib.util.spec_from_file_location(f"{name}_launch", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            assert module.generate_launch_description().entities


def test_long_parameters_go_through_a_parameters_file(tmp_path):
    import yaml

    urdf = "<robot name='x'>\n  <link name='base_link'/>\n</robot>"
    node = NodeSpec("robot_state_publisher", "robot_state_publisher", "rsp", {"robot_description": urdf, "a": 1})
    command = command_line(node, Path("/bin/rsp"), tmp_path / "missing.yaml", "")
    files = [command[i + 1] for i, word in enumerate(command) if word == "--params-file"]
    assert len(files) == 1 and "-p a:=1" in " ".join(command) and "robot_description:=" not in " ".join(command)
    assert yaml.safe_load(Path(files[0]).read_text()) == {"/**/rsp": {"ros__parameters": {"robot_description": urdf}}}


def test_the_control_path_is_composed_by_default_and_slow_nodes_take_the_decimated_state():
    nodes = {n.name: n for n in plan("stack", resolve_arguments("stack", {}), SHARE)}
    control = nodes["whole_body_control"]
    assert control.composed == ("state_estimator", "whole_body_controller")
    assert {"initial_x", "initial_y", "initial_yaw", "robot"} <= set(control.parameters)
    assert not any(word.startswith("__node:=") for word in command_line(control, Path("/bin/x"), Path("/none"), ""))
    for slow in ("gait_planner", "perception", "manipulation"):
        assert dict(nodes[slow].remappings) == {"joint_states": "joint_states/decimated", "odom": "odom/decimated"}
    assert dict(nodes["executive"].remappings) == {"odom": "odom/decimated"}  # it needs the base pose only
    assert dict(nodes["safety"].remappings) == {"odom": "odom/decimated"}  # base pose and speed
    separate = {n.name for n in plan("stack", resolve_arguments("stack", {"composed": "false"}), SHARE)}
    assert {"state_estimator", "whole_body_controller"} <= separate and "whole_body_control" not in separate


def test_launches_point_fast_dds_at_the_shipped_profile_unless_the_user_chose():
    from legion_bringup.nodes import MIDDLEWARE_PROFILE, middleware_environment

    source = Path(__file__).resolve().parents[3]  # the workspace: config/ as installed into the share
    chosen = {"ROS_AUTOMATIC_DISCOVERY_RANGE": "SUBNET"}  # discovery is tested in tests/test_discovery_range.py
    expected = {MIDDLEWARE_PROFILE: str(source / "config" / "fastdds.xml")}
    assert middleware_environment(source, chosen) == expected
    assert middleware_environment(source, chosen | {"RMW_IMPLEMENTATION": "rmw_fastrtps_cpp"}) == expected
    assert middleware_environment(source, chosen | {MIDDLEWARE_PROFILE: "/etc/mine.xml"}) == {}
    assert middleware_environment(source, chosen | {"RMW_IMPLEMENTATION": "rmw_cyclonedds_cpp"}) == {}
    assert middleware_environment(SHARE, chosen) == {}  # no profile installed: Fast DDS's defaults


def test_a_robot_file_is_checked_against_its_urdf_before_any_node_starts(tmp_path):
    import yaml

    from legion_description import robot_files

    files = robot_files("centurion")
    data = yaml.safe_load(files.config_path.read_text())
    data["urdf"] = str(files.urdf_path)
    data["hands"]["left"]["synergies"]["power"]["thumb"] = [1.0, 0.5]
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(data))
    with pytest.raises(LaunchError, match=r"broken\.yaml: 'hands\.left\.synergies\.power\.thumb' has 2 values"):
        plan("stack", resolve_arguments("stack", {"robot": str(broken)}), Path("."))
    data["hands"]["left"]["synergies"]["power"]["thumb"] = [1.0, 0.6, 0.4, 0.6, 0.8]
    data["sides"]["left"]["sole"] = "l_sole_frame"
    broken.write_text(yaml.safe_dump(data))
    with pytest.raises(LaunchError, match=r"'sides\.left\.sole' names frame 'l_sole_frame'"):
        plan("sim", resolve_arguments("sim", {"robot": str(broken)}), Path("."))
    data["sides"]["left"]["sole"] = "l_sole"
    broken.write_text(yaml.safe_dump(data))
    nodes = plan("sim", resolve_arguments("sim", {"robot": str(broken)}), Path("."))
    assert nodes[0].parameters["robot"] == str(broken.resolve())  # a robot file's path, absolute for every node


@pytest.mark.parametrize("installed", [True, False])
def test_link_transforms_from_robot_state_publisher_or_its_pip_path_stand_in(monkeypatch, installed):
    import legion_bringup.nodes as nodes_module

    monkeypatch.setattr(nodes_module, "robot_state_publisher_installed", lambda: installed)
    for name in ("sim", "stack"):
        names = {n.name: n for n in plan(name, resolve_arguments(name, {}), SHARE)}
        assert ("robot_state_publisher" in names) is installed
        assert ("link_state_publisher" in names) is not installed
        if not installed:
            link_states = names["link_state_publisher"]
            assert not link_states.ros_only and not link_states.required
            decimated = ("joint_states", "joint_states/decimated") in link_states.remappings
            assert decimated is (name == "stack")


def test_viewer_only_when_asked_and_on_the_decimated_state():
    assert "viewer" not in [n.name for n in plan("stack", resolve_arguments("stack", {}), SHARE)]
    nodes = plan("stack", resolve_arguments("stack", {"viewer": "true", "viewer_port": "8123"}), SHARE)
    viewer = next(n for n in nodes if n.name == "viewer")
    assert viewer.parameters["port"] == 8123 and not viewer.required
    assert dict(viewer.remappings) == {"joint_states": "joint_states/decimated", "odom": "odom/decimated"}
    alone = plan("view", resolve_arguments("view", {"viewer_port": "9000"}), SHARE)
    assert [(n.name, n.parameters["port"]) for n in alone] == [("viewer", 9000)]
    for port in ("0", "70000", "http"):
        with pytest.raises(LaunchError, match="viewer_port"):
            plan("view", resolve_arguments("view", {"viewer_port": port}), SHARE)


FRAMED = {"whole_body_control", "state_estimator", "whole_body_controller", "gait_planner", "perception",
          "manipulation", "safety", "executive", "link_state_publisher", "robot_state_publisher"}
"""The stack's nodes that publish or check frame ids: in a multi-robot scene each gets its robot's `frame_prefix`."""


@pytest.mark.parametrize("composed", ["true", "false"])
def test_a_multi_robot_stack_gives_every_framed_node_its_robots_prefix(composed):
    arguments = resolve_arguments("stack", {"scene": "two_robot_cell", "composed": composed})
    nodes = [n for n in plan("stack", arguments, SHARE) if n.name in FRAMED]
    by_robot = {ns: {n.name: n.parameters.get("frame_prefix") for n in nodes if n.namespace == ns}
                for ns in ("robot_1", "robot_2")}
    for namespace, prefixes in by_robot.items():
        assert len(prefixes) == (7 if composed == "true" else 8), prefixes  # one of the two state publishers
        assert set(prefixes.values()) == {f"{namespace}/"}, prefixes


def test_a_single_robot_stack_gives_no_frame_prefix():
    nodes = plan("stack", resolve_arguments("stack", {"scene": "empty"}), SHARE)
    assert [n.name for n in nodes if "frame_prefix" in n.parameters] == []


@pytest.mark.parametrize("namespace", ["", "fleet"])
def test_a_multi_robot_stack_has_one_fleet_coordinator_that_every_executive_uses(namespace):
    arguments = resolve_arguments("stack", {"scene": "two_robot_cell", "namespace": namespace})
    nodes = plan("stack", arguments, SHARE)
    (coordinator,) = [n for n in nodes if n.name == "fleet_coordinator"]
    assert coordinator.namespace == "" and coordinator.full_namespace(namespace) == namespace
    executives = {n.namespace: n.parameters for n in nodes if n.name == "executive"}
    assert set(executives) == {"robot_1", "robot_2"}
    for robot, parameters in executives.items():
        assert parameters["fleet_coordinator"] == "/" + namespace and parameters["fleet_robot"] == robot
    # each robot's safety node monitors the other robot from its decimated odometry
    safety = {n.namespace: n.parameters["other_robots"] for n in nodes if n.name == "safety"}
    prefix = f"/{namespace}" if namespace else ""
    assert safety == {"robot_1": [f"{prefix}/robot_2/odom/decimated"], "robot_2": [f"{prefix}/robot_1/odom/decimated"]}


def test_a_single_robot_stack_has_no_fleet_coordinator():
    nodes = plan("stack", resolve_arguments("stack", {"scene": "sorting_cell"}), SHARE)
    assert "fleet_coordinator" not in [n.name for n in nodes]
    (executive,) = [n for n in nodes if n.name == "executive"]
    assert "fleet_coordinator" not in executive.parameters
    (safety,) = [n for n in nodes if n.name == "safety"]
    assert "other_robots" not in safety.parameters
