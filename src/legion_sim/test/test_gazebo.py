"""The Gazebo variant, tested without Gazebo: the use_gazebo description, the generated world, the bridge and controller
configurations against the interface, the hardware rules and the joint command adapter (core and node), the launch
file."""

from __future__ import annotations

import math
import py_compile
import re
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import yaml

from legion_description.robot_config import SIDES, load_robot_config
from legion_description.robot_files import DescriptionError, expand_urdf, robot_config_path
from legion_model import RobotModel
from legion_sim.errors import SimError
from legion_sim.gazebo_adapter import FootGeometry, JointCommandAdapter, ground_wrench_in_sole
from legion_sim.gazebo_controllers import controllers_parameters, controllers_yaml, write_controllers_file
from legion_sim.gazebo_controllers import main as main_controllers
from legion_sim.gazebo_world import (
    GZ_SYSTEMS,
    WorldOptions,
    frame_positions_at_zero,
    main,
    part_inertia,
    spawn_pose,
    with_controller_namespace,
    world_sdf,
)
from legion_sim.hardware_rules import HardwareRules, impedance_torques, validate_command
from legion_sim.scene import load_scene, parse_scene

WORKSPACE = Path(__file__).resolve().parents[3]
CONFIG = WORKSPACE / "config"
ROBOT = "centurion"


@pytest.fixture(scope="module")
def config():
    return load_robot_config(ROBOT)


@pytest.fixture(scope="module")
def gazebo_urdf(tmp_path_factory, config) -> tuple[str, Path]:
    """(URDF text, controllers file it names) of Centurion expanded with use_gazebo:=true."""
    controllers = write_controllers_file(config, tmp_path_factory.mktemp("controllers") / "gazebo_controllers.yaml")
    return expand_urdf(ROBOT, use_gazebo=True, controllers_file=str(controllers)), controllers


@pytest.fixture(scope="module")
def robot_model() -> RobotModel:
    return RobotModel.load(ROBOT)


@pytest.fixture
def adapter(config, robot_model) -> JointCommandAdapter:
    return JointCommandAdapter(config, robot_model)


@pytest.fixture(scope="module")
def cell():
    return load_scene("sorting_cell")


# ------------------------------------------------------------------------------------------------ the description
def test_use_gazebo_description_has_gz_ros2_control_for_every_joint(gazebo_urdf, config):
    urdf, controllers = gazebo_urdf
    robot = ET.fromstring(urdf)
    plugins = [p for p in robot.iter("plugin") if p.get("filename") == "gz_ros2_control-system"]
    assert len(plugins) == 1
    assert plugins[0].findtext("parameters").strip() == str(controllers)
    (system,) = robot.findall("ros2_control")
    assert system.findtext("hardware/plugin").strip() == "gz_ros2_control/GazeboSimSystem"
    joints = system.findall("joint")
    names = [j.get("name") for j in joints]
    assert sorted(names) == sorted(config.all_joints) and len(set(names)) == len(names)
    for joint in joints:
        assert [c.get("name") for c in joint.findall("command_interface")] == ["effort"]
        assert {s.get("name") for s in joint.findall("state_interface")} == {"position", "velocity", "effort"}
    plain = ET.fromstring(expand_urdf(ROBOT))
    assert not plain.findall("ros2_control") and not list(plain.iter("sensor")), "plain URDF has no Gazebo parts"


def test_use_gazebo_needs_a_controllers_file():
    with pytest.raises(DescriptionError, match=r"use_gazebo:=true needs controllers_file:=FILE.*gazebo_controllers"):
        expand_urdf(ROBOT, use_gazebo=True)


def _gz_sensor_topics(urdf: str) -> dict[str, str]:
    """Gazebo topics the description's sensors publish (absolute) -> sensor type."""
    topics = {}
    for sensor in ET.fromstring(urdf).iter("sensor"):
        base = "/" + sensor.findtext("topic").strip().strip("/")
        kind = sensor.get("type")
        suffixes = ["/image", "/depth_image", "/camera_info", "/points"] if kind == "rgbd_camera" else [""]
        topics.update({base + suffix: kind for suffix in suffixes})
    return topics


# ------------------------------------------------------------------------------------------------ the world
def _world(scene, options=None) -> ET.Element:
    text = world_sdf(scene, options)
    assert text.startswith("<?xml")
    root = ET.fromstring(text)  # valid XML
    assert root.tag == "sdf" and root.get("version") == "1.9"
    (world,) = root.findall("world")
    return world


def _pose(element: ET.Element) -> np.ndarray:
    values = np.array([float(v) for v in element.findtext("pose").split()])
    assert values.shape == (6,)
    return values


def test_world_has_physics_at_1khz_and_the_systems_the_robot_needs(cell):
    world = _world(cell)
    assert world.get("name") == "sorting_cell"
    assert float(world.findtext("physics/max_step_size")) == pytest.approx(0.001)
    plugins = {p.get("name"): p for p in world.findall("plugin")}
    for filename, name in GZ_SYSTEMS:
        assert plugins[name].get("filename") == filename
    for system in ("Physics", "UserCommands", "SceneBroadcaster", "Sensors", "Imu", "ForceTorque", "Contact"):
        assert f"gz::sim::systems::{system}" in plugins
    assert plugins["gz::sim::systems::Sensors"].findtext("render_engine") == "ogre2"
    assert world.find("light[@name='sun']").get("type") == "directional"
    assert [float(v) for v in world.findtext("gravity").split()] == [0.0, 0.0, -9.81]
    assert float(_world(cell, WorldOptions(physics_rate=500.0)).findtext("physics/max_step_size")) == 0.002


def test_world_holds_one_model_per_scene_object_at_its_pose(cell):
    world = _world(cell)
    models = {m.get("name"): m for m in world.findall("model")}
    expected = ({"ground_plane"} | {t.name for t in cell.tables} | {b.name for b in cell.bins}
                | {o.name for o in cell.obstacles} | {p.id for p in cell.parts} | {p.id for p in cell.people})
    assert set(models) == expected
    assert len(world.findall("model")) == len(expected), "one model each"
    for item in (*cell.tables, *cell.bins, *cell.obstacles, *cell.people):
        model = models[getattr(item, "name", None) or item.id]
        assert model.findtext("static") == "true"
        np.testing.assert_allclose(_pose(model), [*item.position, 0.0, 0.0, 0.0, item.yaw], atol=1e-9)
    for part in cell.parts:
        model = models[part.id]
        assert model.findtext("static") == "false"
        np.testing.assert_allclose(_pose(model), [*part.position, 0.0, 0.0, part.yaw], atol=1e-9)
        inertial = model.find("link/inertial")
        assert float(inertial.findtext("mass")) == pytest.approx(part.mass)
        moments = [float(inertial.findtext(f"inertia/{k}")) for k in ("ixx", "iyy", "izz")]
        np.testing.assert_allclose(moments, part_inertia(part), rtol=1e-8)
        colour = [float(v) for v in model.findtext("link/visual/material/diffuse").split()]
        np.testing.assert_allclose(colour, part.colour, atol=1e-9)
    ground = models["ground_plane"].find("link/collision")
    assert float(ground.findtext("surface/friction/ode/mu")) == pytest.approx(cell.floor.friction)


def _top_of(model: ET.Element) -> float:
    """Highest point [m] of a model's box collisions, in its frame."""
    tops = []
    for collision in model.iter("collision"):
        box = collision.find("geometry/box/size")
        if box is not None:
            tops.append(_pose(collision)[2] + float(box.text.split()[2]) / 2.0)
    return max(tops)


def test_world_geometry_supports_the_parts_where_the_scene_rests_them():
    scene = parse_scene({
        "name": "geometry",
        "tables": [{"name": "table", "position": [0.6, 0.0], "size": [0.5, 0.8, 0.7], "yaw": 0.3}],
        "bins": [{"name": "bin", "position": [0.4, 0.9], "size": [0.3, 0.3, 0.2], "stand_height": 0.4,
                  "wall_thickness": 0.02, "accepts": "red_cube"}],
        "parts": [
            {"id": "cube", "label": "red_cube", "shape": "box", "size": [0.05, 0.04, 0.06], "mass": 0.1,
             "position": [0.6, 0.0]},
            {"id": "can", "label": "can", "shape": "cylinder", "size": [0.03, 0.1], "mass": 0.2,
             "position": [0.4, 0.9]},
            {"id": "ball", "label": "ball", "shape": "sphere", "size": [0.02], "mass": 0.05, "position": [2.0, 2.0]},
        ],
        "obstacles": [{"name": "pillar", "shape": "cylinder", "size": [0.1, 1.0], "position": [-1.0, 1.0]}],
    }, "geometry.yaml")
    models = {m.get("name"): m for m in _world(scene).findall("model")}
    assert _top_of(models["table"]) == pytest.approx(0.7)
    legs = [c for c in models["table"].iter("collision") if c.get("name").startswith("leg")]
    assert len(legs) == 4
    floor = next(c for c in models["bin"].iter("collision") if c.get("name") == "floor_collision")
    bin_floor_top = _pose(floor)[2] + float(floor.findtext("geometry/box/size").split()[2]) / 2.0
    assert bin_floor_top == pytest.approx(scene.bins[0].inner_floor_height)
    assert len([c for c in models["bin"].iter("collision") if "wall" in c.get("name")]) == 4
    for part, support in (("cube", 0.7), ("can", scene.bins[0].inner_floor_height), ("ball", 0.0)):
        z = _pose(models[part])[2]
        assert z - scene.part(part).half_height == pytest.approx(support)
    pillar = models["pillar"].find("link/collision/geometry/cylinder")
    assert float(pillar.findtext("radius")) == 0.1 and float(pillar.findtext("length")) == 1.0


def test_world_of_every_shipped_scene_is_valid(tmp_path):
    for path in sorted((CONFIG / "scenes").glob("*.yaml")):
        output = tmp_path / f"{path.stem}.sdf"
        assert main(["--scene", str(path), "--output", str(output)]) == 0
        world = ET.parse(output).getroot().find("world")
        for element in world.iter("pose"):
            assert len(element.text.split()) == 6 and all(math.isfinite(float(v)) for v in element.text.split())
        for model in world.findall("model"):
            if model.findtext("static") == "false":
                assert float(model.findtext("link/inertial/mass")) > 0.0


def test_world_command_line_reports_a_broken_scene(tmp_path, capsys):
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: broken\nparts: [{id: a, label: a, shape: cone, size: [1], mass: 1, position: [0, 0]}]\n")
    assert main(["--scene", str(broken), "--output", str(tmp_path / "out.sdf")]) == 1
    assert "parts[0].shape" in capsys.readouterr().err
    assert not (tmp_path / "out.sdf").exists()
    with pytest.raises(SimError, match="physics_rate"):
        WorldOptions(physics_rate=20.0)


# ------------------------------------------------------------------------------------------------ spawning
def test_frame_positions_at_zero_match_the_kinematics(gazebo_urdf, config, robot_model):
    frames = [config.sides[side].sole for side in SIDES] + [config.frames["imu"], config.frames["camera"]]
    positions = frame_positions_at_zero(gazebo_urdf[0], frames)
    robot_model.update(robot_model.neutral_configuration())
    for frame in frames:
        np.testing.assert_allclose(positions[frame], robot_model.frame_position(frame), atol=1e-9)
    with pytest.raises(SimError, match="no link 'l_tail'"):
        frame_positions_at_zero(gazebo_urdf[0], ["l_tail"])


def test_spawn_pose_puts_the_soles_just_above_the_floor_at_the_start(gazebo_urdf, config):
    scene = parse_scene({"name": "start", "robot_start": {"x": 1.0, "y": -2.0, "yaw": 0.5}})
    soles = [config.sides[side].sole for side in SIDES]
    pose = spawn_pose(gazebo_urdf[0], soles, scene, clearance=0.01)
    lowest = min(p[2] for p in frame_positions_at_zero(gazebo_urdf[0], soles).values())
    assert (pose.x, pose.y, pose.yaw) == (1.0, -2.0, 0.5)
    assert pose.z + lowest == pytest.approx(0.01)
    assert pose.create_arguments()[:2] == ["-x", "1.000000"] and "-Y" in pose.create_arguments()


def test_controller_namespace_goes_into_the_gz_ros2_control_plugin(gazebo_urdf):
    urdf = gazebo_urdf[0]
    assert with_controller_namespace(urdf, "") is urdf
    namespaced = ET.fromstring(with_controller_namespace(urdf, "/robot_1/"))
    (plugin,) = [p for p in namespaced.iter("plugin") if p.get("filename") == "gz_ros2_control-system"]
    assert plugin.findtext("ros/namespace") == "/robot_1"
    assert len(list(namespaced.iter("joint"))) == len(list(ET.fromstring(urdf).iter("joint")))
    with pytest.raises(SimError, match="use_gazebo"):
        with_controller_namespace(expand_urdf(ROBOT), "robot_1")


# ------------------------------------------------------------------------------------------------ configurations
def _interface_hardware_topics() -> dict[str, str]:
    """`Published by the hardware` in docs/interfaces.md: topic -> message type."""
    text = (WORKSPACE / "docs" / "interfaces.md").read_text()
    section = text.split("Published by the hardware:", 1)[1].split("Subscribed by the hardware:", 1)[0]
    topics = {}
    for row in section.splitlines():
        if not row.startswith("| `"):
            continue
        cells = [c.strip() for c in row.strip("|").split("|")]
        names = re.findall(r"`([^`]+)`", cells[0])
        types = [t.strip() for t in re.sub(r"\(.*?\)", "", cells[1]).split(",")]
        for i, name in enumerate(names):
            if name.startswith(".../"):
                name = names[0].split("/")[0] + name[3:]
            kind = types[min(i, len(types) - 1)]
            if name.endswith("camera_info"):  # the table says "Image (rgb8), CameraInfo" for both
                kind = "sensor_msgs/CameraInfo"
            topics[name] = kind
    return topics


def _bridge() -> list[dict]:
    return yaml.safe_load((CONFIG / "gazebo_bridge.yaml").read_text())


ADAPTER_PUBLISHES = {"l_foot/wrench", "r_foot/wrench", "hardware/status"}
JOINT_STATE_BROADCASTER_PUBLISHES = {"joint_states"}


def test_bridge_and_adapter_together_publish_exactly_the_hardware_topics():
    interface = _interface_hardware_topics()
    assert {"joint_states", "imu/data", "l_foot/wrench", "head_camera/depth/camera_info"} <= set(interface)
    bridged = {entry["ros_topic_name"]: entry for entry in _bridge()}
    hardware_from_bridge = {t for t in bridged if t != "/clock" and not t.startswith("gz/")}
    assert hardware_from_bridge | ADAPTER_PUBLISHES | JOINT_STATE_BROADCASTER_PUBLISHES == set(interface)
    assert not hardware_from_bridge & ADAPTER_PUBLISHES, "one publisher per topic"
    for topic in hardware_from_bridge:
        package, name = interface[topic].split("/")
        assert bridged[topic]["ros_type_name"] == f"{package}/msg/{name}", topic
    assert bridged["/clock"]["ros_type_name"] == "rosgraph_msgs/msg/Clock"
    for side in ("l", "r"):
        assert bridged[f"gz/{side}_foot/wrench"]["ros_type_name"] == "geometry_msgs/msg/WrenchStamped"


def test_bridge_directions_and_gazebo_topics_match_the_sensors(gazebo_urdf):
    sensors = _gz_sensor_topics(gazebo_urdf[0])
    for entry in _bridge():
        assert entry["direction"] == "GZ_TO_ROS", entry
        assert entry["gz_topic_name"] == "/clock" or entry["gz_topic_name"] in sensors, entry
        assert not entry["ros_topic_name"].startswith("/") or entry["ros_topic_name"] == "/clock", "relative names"
    gz_types = {e["gz_topic_name"]: e["gz_type_name"] for e in _bridge()}
    assert gz_types["/imu/data"] == "gz.msgs.IMU" and sensors["/imu/data"] == "imu"
    assert sensors["/l_foot/wrench"] == sensors["/r_foot/wrench"] == "force_torque"


def _controllers(text: str) -> tuple[dict, list[str]]:
    """(controller manager parameters, effort controller joints) of a controllers file's text."""
    parameters = yaml.safe_load(text)
    assert set(parameters) == {"/**/controller_manager", "/**/effort_controller"}
    return (parameters["/**/controller_manager"]["ros__parameters"],
            parameters["/**/effort_controller"]["ros__parameters"]["joints"])


def test_controllers_file_lists_exactly_the_robots_joints_in_order(gazebo_urdf, config):
    manager, joints = _controllers(gazebo_urdf[1].read_text())
    assert manager["update_rate"] == 1000 == WorldOptions().physics_rate
    assert manager["joint_state_broadcaster"]["type"] == "joint_state_broadcaster/JointStateBroadcaster"
    assert manager["effort_controller"]["type"] == "effort_controllers/JointGroupEffortController"
    assert joints == list(config.all_joints)
    assert gazebo_urdf[1].read_text().startswith(f"# ros2_control parameters of robot '{config.name}'")


def test_controllers_file_follows_the_robot_configuration(config, tiny_robot, tmp_path):
    """Another robot (the tiny humanoid: other joints, other group sizes) gets its own joints, in its order."""
    tiny, _ = tiny_robot
    assert tiny.all_joints != config.all_joints
    manager, joints = _controllers(controllers_yaml(tiny, update_rate=500.0))
    assert joints == list(tiny.all_joints) and manager["update_rate"] == 500
    assert not set(config.hand_joints) & set(joints)

    path = tmp_path / "tiny.yaml"
    assert main_controllers(["--config", str(tiny.source), "--output", str(path)]) == 0
    manager, joints = _controllers(path.read_text())
    assert joints == list(tiny.all_joints) and manager["update_rate"] == 1000
    assert main_controllers(["--robot", "no_such_robot", "--output", str(tmp_path / "x.yaml")]) == 1
    assert not (tmp_path / "x.yaml").exists()
    for rate in (0.5, 999.5, math.inf):
        with pytest.raises(SimError, match="update_rate"):
            controllers_parameters(config, update_rate=rate)


def test_rviz_config_shows_the_robot_and_the_camera():
    displays = yaml.safe_load((CONFIG / "legion.rviz").read_text())["Visualization Manager"]["Displays"]
    by_class: dict[str, list[dict]] = {}
    for display in displays:
        by_class.setdefault(display["Class"], []).append(display)
    (model,) = by_class["rviz_default_plugins/RobotModel"]
    assert model["Description Topic"]["Value"] == "robot_description"
    assert model["Description Topic"]["Durability Policy"] == "Transient Local"
    images = {d["Topic"]["Value"] for d in by_class["rviz_default_plugins/Image"]}
    # the colour camera as perception's anonymised debug image (faces blurred), never the raw stream
    assert images == {"perception/debug_image", "head_camera/depth/image_raw"}
    assert {d["Topic"]["Value"] for d in by_class["rviz_default_plugins/Wrench"]} == {"l_foot/wrench", "r_foot/wrench"}
    assert "rviz_default_plugins/TF" in by_class and "rviz_default_plugins/DepthCloud" in by_class


# ------------------------------------------------------------------------------------------------ hardware rules
def _rules(n: int = 3, timeout: float = 0.05) -> HardwareRules:
    return HardwareRules([f"j{i}" for i in range(n)], hold_stiffness=np.full(n, 100.0), hold_damping=np.full(n, 2.0),
                         effort_limit=np.array([10.0, 20.0, 30.0][:n]), watchdog_timeout=timeout,
                         stop_damping_scale=1.5)


def test_impedance_law_matches_the_interface_and_clamps():
    rng = np.random.default_rng(3)
    n = 50
    command = [rng.uniform(-1, 1, n), rng.uniform(-2, 2, n), rng.uniform(-5, 5, n), rng.uniform(0, 200, n),
               rng.uniform(0, 5, n)]
    q, qd, limit = rng.uniform(-1, 1, n), rng.uniform(-2, 2, n), rng.uniform(1, 50, n)
    position, velocity, effort, stiffness, damping = command
    expected = np.clip(effort + stiffness * (position - q) + damping * (velocity - qd), -limit, limit)
    np.testing.assert_allclose(impedance_torques(*command, q, qd, limit), expected, rtol=1e-12, atol=1e-12)
    assert np.any(np.abs(expected) == limit), "the draw exercises the clamp"


BAD = [
    ("length_mismatch", (["j0", "j1"], [0.0], [0.0, 0.0], [0.0, 0.0], [1.0, 1.0], [0.0, 0.0])),
    ("unknown_joint", (["j0", "tail"], [0.0] * 2, [0.0] * 2, [0.0] * 2, [1.0] * 2, [0.0] * 2)),
    ("duplicate_joint", (["j0", "j0"], [0.0] * 2, [0.0] * 2, [0.0] * 2, [1.0] * 2, [0.0] * 2)),
    ("non_finite", (["j0"], [math.nan], [0.0], [0.0], [1.0], [0.0])),
    ("non_finite", (["j0"], [0.0], [0.0], [math.inf], [1.0], [0.0])),
    ("negative_gain", (["j0"], [0.0], [0.0], [0.0], [-1.0], [0.0])),
    ("not_a_number", (["j0"], ["x"], [0.0], [0.0], [1.0], [0.0])),
    ("empty", ([], [], [], [], [], [])),
]


def test_validation_rejects_whole_commands_with_a_reason():
    assert validate_command(["j0"], [0.1], [0.0], [0.0], [1.0], [0.0], {"j0"}) is None
    rules = _rules()
    rules.hold(np.zeros(3), np.zeros(3))
    before = rules.position.copy(), rules.stiffness.copy()
    for key, command in BAD:
        accepted, reason = rules.set_command(*command, time=0.0)
        assert not accepted and reason.startswith(f"{key}:"), (key, reason)
    np.testing.assert_array_equal(rules.position, before[0])
    np.testing.assert_array_equal(rules.stiffness, before[1])
    status = rules.status(0.0)
    assert status["commands_rejected"] == {"length_mismatch": 1, "unknown_joint": 1, "duplicate_joint": 1,
                                           "non_finite": 2, "negative_gain": 1, "not_a_number": 1, "empty": 1}
    assert status["commands_accepted"] == 0 and not status["watchdog_armed"]


def test_validation_after_a_valid_command_with_the_same_names_still_rejects_with_the_reason():
    """The names of the last valid command skip the name checks; the values are still checked (and the rejection
    still says why)."""
    rules = _rules()
    names = ["j2", "j0"]
    assert rules.set_command(names, [0.2, 0.1], [0.0, 0.0], [1.0, 2.0], [10.0, 20.0], [1.0, 2.0], time=0.0)[0]
    bad = {"non_finite": [names, [0.2, np.nan], [0.0, 0.0], [0.0, 0.0], [1.0, 1.0], [1.0, 1.0]],
           "negative_gain": [names, [0.2, 0.1], [0.0, 0.0], [0.0, 0.0], [1.0, -1.0], [1.0, 1.0]],
           "length_mismatch": [names, [0.2, 0.1], [0.0], [0.0, 0.0], [1.0, 1.0], [1.0, 1.0]],
           "not_a_number": [names, [0.2, "x"], [0.0, 0.0], [0.0, 0.0], [1.0, 1.0], [1.0, 1.0]]}
    for key, command in bad.items():
        accepted, reason = rules.set_command(*command, time=0.0)
        assert not accepted and reason.startswith(f"{key}:"), (key, reason)
    np.testing.assert_array_equal(rules.position, [0.1, 0.0, 0.2])
    assert rules.set_command(names, [0.4, 0.3], [0.5, 0.6], [3.0, 4.0], [30.0, 40.0], [3.0, 4.0], time=0.1)[0]
    np.testing.assert_array_equal(rules.position, [0.3, 0.0, 0.4])
    np.testing.assert_array_equal(rules.velocity, [0.6, 0.0, 0.5])
    np.testing.assert_array_equal(rules.effort, [4.0, 0.0, 3.0])
    np.testing.assert_array_equal(rules.stiffness, [40.0, 0.0, 30.0])
    np.testing.assert_array_equal(rules.damping, [4.0, 0.0, 3.0])
    assert rules.set_command(["j1"], [0.7], [0.0], [0.0], [5.0], [0.5], time=0.2)[0]  # other names: checked again
    np.testing.assert_array_equal(rules.position, [0.3, 0.7, 0.4])
    assert rules.status(0.2)["commands_accepted"] == 3


def test_watchdog_and_emergency_stop_state_machine():
    rules = _rules()
    q, tau = np.array([0.1, 0.2, 0.3]), np.array([1.0, -2.0, 3.0])
    assert not rules.check_watchdog(10.0, q, tau), "not armed before the first command"
    assert rules.set_command(["j1"], [0.5], [0.0], [0.0], [50.0], [1.0], time=1.0) == (True, "")
    assert not rules.check_watchdog(1.05, q, tau), "exactly the timeout is not longer than it"
    assert rules.check_watchdog(1.0501, q, tau) and rules.stopped == "watchdog"
    assert not rules.check_watchdog(2.0, q, tau), "one trip per stop"
    np.testing.assert_array_equal(rules.position, q)
    np.testing.assert_array_equal(rules.effort, tau)
    np.testing.assert_array_equal(rules.damping, np.full(3, 3.0))  # hold damping x stop scale
    np.testing.assert_array_equal(rules.stiffness, np.full(3, 100.0))
    assert rules.set_command(["j0"], [0.0], [0.0], [0.0], [1.0], [0.0], time=2.1)[0]
    assert rules.stopped == "" and rules.position[1] == pytest.approx(0.2), "others keep holding where they stopped"

    rules.set_emergency_stop(True, q + 1.0, tau)
    assert rules.stopped == "emergency_stop" and rules.emergency_stop_latched
    np.testing.assert_array_equal(rules.position, q + 1.0)
    accepted, reason = rules.set_command(["j0"], [0.0], [0.0], [0.0], [1.0], [0.0], time=2.2)
    assert not accepted and reason.startswith("emergency_stop")
    rules.set_emergency_stop(False, q, tau)
    assert rules.emergency_stop_latched, "only the reset clears"
    assert rules.reset_emergency_stop() and not rules.reset_emergency_stop()
    status = rules.status(3.0)
    assert status["commands_ignored"] == 1 and status["watchdog_trips"] == 1 and not status["watchdog_armed"]
    assert not rules.check_watchdog(10.0, q, tau), "disarmed after the reset until the next command"


# ------------------------------------------------------------------------------------------------ adapter core
def test_adapter_holds_the_standing_posture_with_the_weight_before_any_command(adapter, config):
    names = list(config.all_joints)
    assert adapter.joint_names == tuple(names)
    adapter.set_joint_state(names, adapter.standing, np.zeros(len(names)))
    effort, tripped = adapter.servo(0.0)
    assert not tripped
    np.testing.assert_allclose(effort, adapter.standing_torques, atol=1e-9)
    knees = [names.index(config.joints("legs", side)[3]) for side in SIDES]
    assert np.all(np.abs(effort[knees]) > 5.0), "the initial hold carries the weight"
    # displaced joints are pulled back with the configuration's gains
    displaced = adapter.standing + 0.01
    adapter.set_joint_state(names[::-1], displaced[::-1], np.zeros(len(names)))  # any order
    effort, _ = adapter.servo(0.001)
    stiffness = np.array([config.gains[n].stiffness for n in names])
    np.testing.assert_allclose(effort, np.clip(adapter.standing_torques - 0.01 * stiffness,
                                               -adapter.rules.effort_limit, adapter.rules.effort_limit), atol=1e-9)
    # a broken measurement is dropped, not turned into NaN efforts
    broken = displaced.copy()
    broken[3] = np.nan
    assert adapter.set_joint_state(names, broken, np.zeros(len(names))) == 0
    assert adapter.set_joint_state(names[:5], displaced[:4], np.zeros(5)) == 0
    assert np.all(np.isfinite(adapter.servo(0.002)[0]))
    assert adapter.status(0.002)["joint_states_dropped"] == 2


def test_adapter_applies_joint_commands_with_the_servo_law(adapter, config, robot_model):
    names = list(config.all_joints)
    rng = np.random.default_rng(11)
    n = len(names)
    q, qd = adapter.standing + rng.uniform(-0.05, 0.05, n), rng.uniform(-0.5, 0.5, n)
    adapter.set_joint_state(names, q, qd)
    command = (rng.uniform(-0.2, 0.2, n), rng.uniform(-1, 1, n), rng.uniform(-3, 3, n), rng.uniform(0, 300, n),
               rng.uniform(0, 4, n))
    assert adapter.set_command(names, *command, time=0.0) == (True, "")
    effort, _ = adapter.servo(0.001)
    limits = np.array([robot_model.joint_limits.effort[robot_model.joint_names.index(name)] for name in names])
    position, velocity, feed_forward, stiffness, damping = command
    np.testing.assert_allclose(effort, np.clip(feed_forward + stiffness * (position - q) + damping * (velocity - qd),
                                               -limits, limits), rtol=1e-12, atol=1e-12)
    # a partial command leaves the other joints' commands in force
    before = effort.copy()
    assert adapter.set_command(["l_knee"], [q[names.index("l_knee")]], [qd[names.index("l_knee")]], [7.0], [0.0],
                               [0.0], time=0.002)[0]
    effort, _ = adapter.servo(0.003)
    changed = np.flatnonzero(effort != before)
    assert [names[i] for i in changed] == ["l_knee"] and effort[names.index("l_knee")] == pytest.approx(7.0)


def test_adapter_watchdog_and_estop_hold_the_measured_posture(adapter, config):
    names = list(config.all_joints)
    n = len(names)
    adapter.set_joint_state(names, adapter.standing, np.zeros(n))
    assert adapter.set_command(names, adapter.standing, np.zeros(n), np.full(n, 0.5), np.zeros(n), np.zeros(n),
                               time=1.0)[0]
    applied, _ = adapter.servo(1.01)
    applied = applied.copy()
    moved = adapter.standing + 0.02
    adapter.set_joint_state(names, moved, np.zeros(n))
    effort, tripped = adapter.servo(1.0 + config.watchdog_timeout + 0.001)
    assert tripped and adapter.status(1.1)["stop_reason"] == "watchdog"
    np.testing.assert_allclose(effort, applied, atol=1e-9, err_msg="bumpless: the stop starts from the applied torques")
    np.testing.assert_array_equal(adapter.rules.position, moved)
    adapter.set_emergency_stop(True)
    assert not adapter.set_command(names, adapter.standing, np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n),
                                   time=1.2)[0]
    assert adapter.status(1.2)["emergency_stop"] and adapter.reset_emergency_stop()


def test_foot_geometry_comes_from_the_model(adapter, robot_model, config):
    foot = adapter.feet["left"]
    robot_model.update(robot_model.neutral_configuration())
    sole_in_ankle = robot_model.transform_frame_to_frame(config.sides["left"].sole, config.sides["left"].ankle)
    np.testing.assert_allclose(foot.sole_in_ankle, sole_in_ankle.translation, atol=1e-12)
    np.testing.assert_allclose(foot.rotation_sole_to_ankle, sole_in_ankle.rotation, atol=1e-12)
    assert 0.1 < foot.mass < 5.0
    assert foot.com_in_ankle[2] < 0.0, "the foot hangs below the ankle"


def test_ground_wrench_centre_of_pressure_is_where_the_loads_act():
    """Foot at rest, the leg pushing straight down at the ankle with 300 N: the ground's force carries leg load and
    foot weight, and its centre of pressure is their weighted mean position."""
    foot = FootGeometry(rotation_sole_to_ankle=np.eye(3), sole_in_ankle=np.array([0.03, 0.0, -0.07]), mass=1.0,
                        com_in_ankle=np.array([0.05, 0.01, -0.05]))
    gravity = np.array([0.0, 0.0, -9.81])
    force, torque = ground_wrench_in_sole(foot, np.array([0.0, 0.0, 300.0]), np.zeros(3), gravity)
    np.testing.assert_allclose(force, [0.0, 0.0, 309.81], atol=1e-9)
    # leg load at the ankle (x, y = 0 in the ankle frame), weight at the com; in sole coordinates
    loads = {(0.0 - 0.03, 0.0): 300.0, (0.05 - 0.03, 0.01): 9.81}
    cop = sum(np.array(p) * f for p, f in loads.items()) / 309.81
    np.testing.assert_allclose([-torque[1] / force[2], torque[0] / force[2]], cop, atol=1e-12)
    assert torque[2] == pytest.approx(0.0, abs=1e-12)
    # without compensation the foot's weight is missing from the force
    uncompensated, _ = ground_wrench_in_sole(foot, np.array([0.0, 0.0, 300.0]), np.zeros(3), None)
    assert uncompensated[2] == pytest.approx(300.0)


def test_ground_wrench_matches_the_wrench_transform_for_any_sole_frame():
    """Against the textbook wrench transform (moment shift then rotation), for a rotated sole frame and a tilted
    foot: the reading of a foot at rest under a known ground wrench converts back to that wrench."""
    rng = np.random.default_rng(5)
    angle = 0.4
    rotation = np.array([[math.cos(angle), 0.0, math.sin(angle)], [0.0, 1.0, 0.0],
                         [-math.sin(angle), 0.0, math.cos(angle)]])
    foot = FootGeometry(rotation_sole_to_ankle=rotation, sole_in_ankle=rng.uniform(-0.1, 0.1, 3), mass=1.3,
                        com_in_ankle=rng.uniform(-0.1, 0.1, 3))
    gravity = rotation @ np.array([0.0, 0.3, -9.8])
    force_ground_sole, torque_ground_sole = rng.normal(0, 50, 3), rng.normal(0, 5, 3)
    # the same ground wrench in the ankle frame, about the ankle origin
    force_ground = rotation @ force_ground_sole
    torque_ground = rotation @ torque_ground_sole + np.cross(foot.sole_in_ankle, force_ground)
    weight = foot.mass * gravity
    # the leg balances ground and weight; the sensor reports the opposite (foot on leg)
    force_leg_on_foot = -(force_ground + weight)
    torque_leg_on_foot = -(torque_ground + np.cross(foot.com_in_ankle, weight))
    force, torque = ground_wrench_in_sole(foot, -force_leg_on_foot, -torque_leg_on_foot, gravity)
    np.testing.assert_allclose(force, force_ground_sole, atol=1e-9)
    np.testing.assert_allclose(torque, torque_ground_sole, atol=1e-9)


def test_gravity_in_the_ankles_follows_the_imu_and_the_legs(adapter, config):
    names = list(config.all_joints)
    n = len(names)
    adapter.set_joint_state(names, adapter.standing, np.zeros(n))
    for side in SIDES:  # in the standing posture the soles are parallel to the pelvis
        np.testing.assert_allclose(adapter.gravity_in_ankles()[side], [0.0, 0.0, -9.81], atol=1e-9)
    pitch = 0.2  # the pelvis (and so the IMU, which is aligned with it) pitched forward
    adapter.set_imu_orientation([0.0, math.sin(pitch / 2.0), 0.0, math.cos(pitch / 2.0)])
    expected = 9.81 * np.array([math.sin(pitch), 0.0, -math.cos(pitch)])
    np.testing.assert_allclose(adapter.gravity_in_ankles()["left"], expected, atol=1e-9)
    # pitching the left ankle by the opposite angle levels that foot again
    ankle = config.joints("legs", "left")[4]
    positions = adapter.standing.copy()
    positions[names.index(ankle)] -= pitch
    adapter.set_joint_state(names, positions, np.zeros(n))
    np.testing.assert_allclose(adapter.gravity_in_ankles()["left"], [0.0, 0.0, -9.81], atol=1e-9)
    np.testing.assert_allclose(adapter.gravity_in_ankles()["right"], expected, atol=1e-9)


def test_gravity_in_the_ankles_follows_a_torso_imu_through_the_waist(tmp_path):
    """With the IMU in the torso (behind the waist joints), the base's orientation is the IMU's composed with the
    waist's rotation at the measured joint positions: a torso pitched by the waist alone leaves the feet level."""
    data = yaml.safe_load(robot_config_path(ROBOT).read_text())
    data["frames"]["imu"] = "torso"
    path = tmp_path / f"{ROBOT}.yaml"
    path.write_text(yaml.safe_dump(data))
    config = load_robot_config(path=path)
    adapter = JointCommandAdapter(config, RobotModel.load(ROBOT, config_path=path))
    names = list(config.all_joints)
    pitch = 0.3
    positions = adapter.standing.copy()
    positions[names.index("waist_pitch")] += pitch
    adapter.set_joint_state(names, positions, np.zeros(len(names)))
    adapter.set_imu_orientation([0.0, math.sin(pitch / 2.0), 0.0, math.cos(pitch / 2.0)])  # the torso, pitched
    for side in SIDES:
        np.testing.assert_allclose(adapter.gravity_in_ankles()[side], [0.0, 0.0, -9.81], atol=1e-9)


# ------------------------------------------------------------------------------------------------ adapter node
@pytest.fixture(scope="module")
def ros():
    """An rclpy context of its own, and a namespace no other process on the machine uses."""
    rclpy = pytest.importorskip("rclpy")
    context = rclpy.Context()
    rclpy.init(context=context)
    yield rclpy, context, f"/test_gazebo_adapter_{abs(hash((time.time(), id(context)))) % 10**8}"
    rclpy.try_shutdown(context=context)


def test_adapter_node_turns_commands_into_efforts_and_converts_foot_wrenches(ros, config, robot_model):
    rclpy, context, namespace = ros
    from diagnostic_msgs.msg import DiagnosticArray
    from geometry_msgs.msg import WrenchStamped
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.parameter import Parameter
    from sensor_msgs.msg import JointState
    from std_msgs.msg import Bool, Float64MultiArray
    from std_srvs.srv import Trigger

    from legion_interfaces.msg import JointCommand
    from legion_sim.gazebo_adapter_node import LATCHED_QOS, GazeboJointCommandAdapter

    node = GazeboJointCommandAdapter(
        adapter_factory=lambda params: JointCommandAdapter(config, robot_model), context=context,
        namespace=namespace, parameter_overrides=[Parameter("servo_rate", value=200.0)])
    probe = rclpy.create_node("probe", namespace=namespace, context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    executor.add_node(probe)
    received: dict[str, list] = {"efforts": [], "wrench": [], "status": []}
    probe.create_subscription(Float64MultiArray, "effort_controller/commands", received["efforts"].append, 10)
    probe.create_subscription(WrenchStamped, "l_foot/wrench", received["wrench"].append, 10)
    probe.create_subscription(DiagnosticArray, "hardware/status", received["status"].append, 10)
    publishers = {
        "joint_states": probe.create_publisher(JointState, "joint_states", 10),
        "joint_commands": probe.create_publisher(JointCommand, "joint_commands", 10),
        "gz/l_foot/wrench": probe.create_publisher(WrenchStamped, "gz/l_foot/wrench", 10),
        "emergency_stop": probe.create_publisher(Bool, "emergency_stop", LATCHED_QOS),
    }

    def spin_until(predicate, what, timeout=20.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            executor.spin_once(timeout_sec=0.01)
            if predicate():
                return
        raise AssertionError(f"timed out waiting for {what}")

    try:
        for topic, publisher in publishers.items():
            spin_until(lambda p=publisher: p.get_subscription_count() > 0, f"the adapter's subscription to {topic}")
        names = list(config.all_joints)
        n = len(names)
        rng = np.random.default_rng(2)
        q = np.array([config.standing[name] for name in names]) + rng.uniform(-0.02, 0.02, n)
        state = JointState(name=names, position=q.tolist(), velocity=[0.0] * n, effort=[0.0] * n)
        command = JointCommand(name=names, position=(q + 0.01).tolist(), velocity=[0.1] * n,
                               effort=rng.uniform(-1, 1, n).tolist(), stiffness=[100.0] * n, damping=[2.0] * n)
        limits = np.array([robot_model.joint_limits.effort[robot_model.joint_names.index(name)] for name in names])
        expected = np.clip(np.array(command.effort) + 100.0 * 0.01 + 2.0 * 0.1, -limits, limits)

        def matches() -> bool:
            publishers["joint_states"].publish(state)
            publishers["joint_commands"].publish(command)  # keep the watchdog fed, as a controller does
            return any(np.allclose(m.data, expected, atol=1e-9) for m in received["efforts"])

        spin_until(matches, "efforts from the commanded servo law on effort_controller/commands")
        assert all(len(m.data) == n for m in received["efforts"])

        reading = WrenchStamped()
        reading.header.frame_id = config.sides["left"].ankle
        reading.header.stamp.sec = 42
        reading.wrench.force.z = 300.0
        publishers["gz/l_foot/wrench"].publish(reading)
        spin_until(lambda: received["wrench"], "the converted left foot wrench")
        wrench = received["wrench"][-1]
        assert wrench.header.frame_id == config.sides["left"].sole and wrench.header.stamp.sec == 42
        assert wrench.wrench.force.z == pytest.approx(300.0 + 9.81 * node.adapter.feet["left"].mass, rel=0.05)

        publishers["emergency_stop"].publish(Bool(data=True))

        def values(msg) -> dict[str, str]:
            return {kv.key: kv.value for kv in msg.status[0].values}

        spin_until(lambda: any(values(m).get("emergency_stop") == "True" for m in received["status"]),
                   "hardware/status reporting the e-stop")
        client = probe.create_client(Trigger, "emergency_stop/reset")
        spin_until(client.service_is_ready, "emergency_stop/reset")
        future = client.call_async(Trigger.Request())
        spin_until(future.done, "the reset's answer")
        assert future.result().success and future.result().message == "emergency stop cleared"
    finally:
        executor.shutdown()
        probe.destroy_node()
        node.destroy_node()


# ------------------------------------------------------------------------------------------------ launch file
LAUNCH_FILE = WORKSPACE / "launch" / "gazebo.launch.py"


def _load_launch_file():
    import importlib.util

    spec = importlib.util.spec_from_file_location("gazebo_launch", LAUNCH_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gazebo_launch_file_compiles_and_builds_its_description(tmp_path):
    py_compile.compile(str(LAUNCH_FILE), cfile=str(tmp_path / "gazebo.launch.pyc"), doraise=True)
    pytest.importorskip("launch.actions")  # (a bare `launch` resolves to the workspace's launch/ folder)
    pytest.importorskip("launch_ros.actions")
    description = _load_launch_file().generate_launch_description()
    arguments = {a.name: a for a in description.get_launch_arguments()}
    assert {"robot", "scene", "headless", "rviz", "namespace", "gz_verbosity"} <= set(arguments)
    assert all(a.description for a in arguments.values())


class _Recorded:
    """Stands in for a launch action: keeps its arguments."""

    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs


def test_gazebo_launch_actions_wire_world_robot_bridge_and_controllers(monkeypatch, tmp_path, config):
    """The launch file's own logic, run against stand-ins for launch, launch_ros and ament_index (not installable
    here): what it starts and with which arguments."""
    import sys
    import tempfile
    import types

    monkeypatch.setattr(tempfile, "mkdtemp", lambda prefix="": str(tmp_path))

    class LaunchConfiguration:
        def __init__(self, name):
            self.name = name

        def perform(self, context):
            return context[self.name]

    class PackageNotFoundError(KeyError):
        pass

    def get_package_share_directory(package):
        if package == "ros_gz_sim":
            return "/opt/ros/jazzy/share/ros_gz_sim"
        raise PackageNotFoundError(package)

    fakes = {
        "launch": {"LaunchDescription": _Recorded},
        "launch.actions": {name: _Recorded for name in ("DeclareLaunchArgument", "IncludeLaunchDescription",
                                                         "OpaqueFunction", "RegisterEventHandler",
                                                         "SetEnvironmentVariable", "Shutdown")},
        "launch.event_handlers": {"OnProcessExit": _Recorded},
        "launch.launch_description_sources": {"PythonLaunchDescriptionSource": _Recorded},
        "launch.substitutions": {"LaunchConfiguration": LaunchConfiguration},
        "launch_ros": {}, "launch_ros.actions": {"Node": _Recorded, "SetParametersFromFile": _Recorded},
        "ament_index_python": {},
        "ament_index_python.packages": {"get_package_share_directory": get_package_share_directory,
                                        "PackageNotFoundError": PackageNotFoundError},
    }
    for name, attributes in fakes.items():
        monkeypatch.setitem(sys.modules, name, types.SimpleNamespace(**attributes, __path__=[]))
    monkeypatch.delitem(sys.modules, "legion_bringup.ros_launch", raising=False)
    try:
        description = _load_launch_file().generate_launch_description()
    finally:
        sys.modules.pop("legion_bringup.ros_launch", None)
    entities = description.args[0]
    declared = {e.args[0]: e.kwargs for e in entities if e.args and "default_value" in e.kwargs}  # the arguments
    assert {"robot", "scene", "headless", "rviz", "namespace", "gz_verbosity"} <= set(declared)
    assert all(kwargs["description"] for kwargs in declared.values())
    (gazebo_function,) = [e.kwargs["function"] for e in entities
                          if "function" in e.kwargs and e.kwargs["function"].__name__ == "gazebo_actions"]

    context = {"robot": ROBOT, "scene": "sorting_cell", "headless": "true", "namespace": "robot_1",
               "gz_verbosity": "2"}
    description_file, gazebo, bridge, create, *chain = gazebo_function(context)

    parameters = yaml.safe_load(Path(description_file.args[0]).read_text())
    urdf = parameters["/**/robot_state_publisher"]["ros__parameters"]["robot_description"]
    robot = ET.fromstring(urdf)
    (plugin,) = [p for p in robot.iter("plugin") if p.get("filename") == "gz_ros2_control-system"]
    assert plugin.findtext("ros/namespace") == "/robot_1"
    controllers = Path(plugin.findtext("parameters"))
    assert controllers.name == "gazebo_controllers.yaml" and controllers.parent == tmp_path
    assert _controllers(controllers.read_text())[1] == list(config.all_joints)  # generated for the launched robot

    arguments = dict(gazebo.kwargs["launch_arguments"])
    assert gazebo.args[0].args[0] == "/opt/ros/jazzy/share/ros_gz_sim/launch/gz_sim.launch.py"
    gz_args = arguments["gz_args"].split()
    assert gz_args[:3] == ["-r", "-v", "2"] and "-s" in gz_args and "--headless-rendering" in gz_args
    world = ET.parse(gz_args[-1]).getroot().find("world")
    assert world.get("name") == "sorting_cell"
    assert arguments["on_exit_shutdown"] == "true"

    assert bridge.kwargs["package"] == "ros_gz_bridge" and bridge.kwargs["executable"] == "parameter_bridge"
    assert bridge.kwargs["namespace"] == "robot_1"
    bridge_config = Path(bridge.kwargs["parameters"][0]["config_file"])
    assert bridge_config.name == "gazebo_bridge.yaml" and bridge_config.is_file()

    assert (create.kwargs["package"], create.kwargs["executable"]) == ("ros_gz_sim", "create")
    create_args = create.kwargs["arguments"]
    assert create_args[create_args.index("-topic") + 1] == "robot_description"
    assert create_args[create_args.index("-name") + 1] == config.name
    assert float(create_args[create_args.index("-z") + 1]) > 0.9

    # create, then joint_state_broadcaster, then effort_controller
    handlers = [c.args[0] for c in chain]
    assert handlers[0].kwargs["target_action"] is create
    first, second = (h.kwargs["on_exit"][0] for h in handlers)
    assert handlers[1].kwargs["target_action"] is first
    assert first.kwargs["arguments"][0] == "joint_state_broadcaster"
    assert second.kwargs["arguments"][0] == "effort_controller"
    assert all(s.kwargs["namespace"] == "robot_1" for s in (first, second))
