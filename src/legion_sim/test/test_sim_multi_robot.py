"""Several robots in one scene (issue 16): the `robots:` list of a scene file, its checks, and one MuJoCo model and
physics step for all robots, each robot's joints, sensors and stops its own."""

from __future__ import annotations

import math

import numpy as np
import pytest

from legion_sim.errors import SimError
from legion_sim.scene import load_scene, parse_scene
from legion_sim.scene_robots import footprint_radius, scene_robots
from legion_sim.simulation import RobotSetup, Simulation

TWO = {"name": "two", "robots": [{"name": "robot_1", "start": {"x": 0.0, "y": 0.0}},
                                 {"name": "robot_2", "start": {"x": 0.0, "y": -2.0, "yaw": 0.5}}]}


def _tilt_deg(orientation_xyzw: np.ndarray) -> float:
    x, y, _, _ = orientation_xyzw
    return math.degrees(math.acos(np.clip(1.0 - 2.0 * (x * x + y * y), -1.0, 1.0)))


def test_the_shipped_two_robot_cell_has_two_robots_with_room():
    scene = load_scene("two_robot_cell")
    assert [r.name for r in scene.robots] == ["robot_1", "robot_2"]
    robots = scene_robots(scene, "centurion", expand=False)
    a, b = robots[0].start, robots[1].start
    assert math.hypot(a.x - b.x, a.y - b.y) >= 2 * footprint_radius(robots[0].config)


def test_a_scene_without_a_robot_list_has_one_unprefixed_robot():
    (robot,) = scene_robots(load_scene("sorting_cell"), "centurion", expand=False)
    assert robot.name == "" and robot.robot == "centurion"
    assert robot.start == load_scene("sorting_cell").robot_start


@pytest.mark.parametrize(("robots", "message"), [
    ([{"name": "robot_1", "start": {}}, {"name": "robot_1", "start": {"y": 3.0}}],
     "'robots[1].name' duplicates the name 'robot_1' of robots[0]"),
    ([{"name": "1robot", "start": {}}], "'robots[0].name' must be letters"),
    ([{"name": "robot/1", "start": {}}], "'robots[0].name' must be letters"),
    ([{"name": "robot_1"}], "'robots[0].start' is missing"),
    ([{"name": "robot_1", "start": {"x": ".nan"}}], "'robots[0].start.x' must be a number"),
    ([{"name": "robot_1", "start": {}, "pose": 1}], "'robots[0]' has unknown key(s) ['pose']"),
    ([{"name": "robot_1", "robot": 3, "start": {}}], "'robots[0].robot' must be a robot name"),
    ([], "'robots' must be a non-empty list"),
    ({"name": "robot_1"}, "'robots' must be a non-empty list"),
])
def test_a_malformed_robot_list_is_named(robots, message):
    with pytest.raises(SimError) as caught:
        parse_scene({"name": "bad", "robots": robots}, "bad.yaml")
    assert message in str(caught.value) and "bad.yaml" in str(caught.value)


def test_robots_and_robot_start_exclude_each_other():
    with pytest.raises(SimError, match="'robots' and 'robot_start' exclude each other"):
        parse_scene({"name": "bad", "robot_start": {"x": 1.0}, **{k: v for k, v in TWO.items() if k != "name"}})


def test_overlapping_starts_and_unknown_robot_files_are_named():
    close = parse_scene({"name": "close", "robots": [{"name": "a", "start": {}}, {"name": "b", "start": {"x": 0.5}}]},
                        "close.yaml")
    with pytest.raises(SimError, match=r"close.yaml: 'robots\[1\].start' \(b\) is 0.50 m from robots\[0\] \(a\); "
                                       r"their footprints need 0.80 m"):
        scene_robots(close, "centurion", expand=False)
    unknown = parse_scene({"name": "unknown", "robots": [{"name": "a", "robot": "no_such_robot", "start": {}}]},
                          "unknown.yaml")
    with pytest.raises(SimError, match=r"unknown.yaml: 'robots\[0\].robot' 'no_such_robot' is not a usable robot"):
        scene_robots(unknown, "centurion", expand=False)


@pytest.fixture(scope="module")
def two_tiny(tiny_robot):
    config, urdf = tiny_robot
    scene = parse_scene(TWO, "two.yaml")
    sim = Simulation.of_robots([RobotSetup(r.name, config, urdf, r.start) for r in scene.robots], scene,
                               sensor_noise=False)
    yield sim
    sim.close()


def test_each_robot_is_prefixed_in_one_model(two_tiny, tiny_robot):
    sim = two_tiny
    config, _ = tiny_robot
    model = sim.model
    assert [r.name for r in sim.robots] == ["robot_1", "robot_2"]
    assert model.nu == 2 * len(config.all_joints)
    for robot in sim.robots:
        assert robot.joint_names == tuple(config.all_joints)  # names as the robot file gives them, no prefix
        for joint in config.all_joints:
            assert model.joint(f"{robot.name}/{joint}").id >= 0
            assert model.actuator(f"{robot.name}/{joint}").id >= 0
        assert model.site(f"{robot.name}/{config.frames['imu']}").id >= 0
        assert model.camera(f"{robot.name}/head_camera").id >= 0
    assert sim.robot("robot_2") is sim.robots[1]
    with pytest.raises(SimError, match="no robot named 'robot_3'"):
        sim.robot("robot_3")


def test_two_robots_stand_at_their_starts_and_their_joints_are_separate(two_tiny):
    sim = two_tiny
    sim.reset()
    first, second = sim.robots
    for robot in sim.robots:
        base = robot.ground_truth_base()
        assert base.position[:2] == pytest.approx([robot.start.x, robot.start.y], abs=1e-9)
    # Robot 2 alone bends its elbow; robot 1 keeps its initial hold.
    name = "l_elbow"
    gains = second.config.gains[name]
    before = first.joint_state()
    for _ in range(50):  # 1 s, a command every 20 ms (inside the watchdog)
        accepted, reason = second.set_command([name], [0.8], [0.0], [0.0], [gains.stiffness], [gains.damping])
        assert accepted, reason
        sim.step(20)
    i = second.joint_names.index(name)
    assert second.joint_state().position[i] == pytest.approx(0.8, abs=0.05)
    assert abs(first.joint_state().position[i] - before.position[i]) < 0.01
    assert first.status()["commands_accepted"] == 0 and second.status()["commands_accepted"] == 50
    for robot in sim.robots:
        base = robot.ground_truth_base()
        assert base.position[:2] == pytest.approx([robot.start.x, robot.start.y], abs=0.02)
        assert _tilt_deg(base.orientation) < 3.0
        assert sum(w.force[2] for w in robot.foot_wrenches().values()) == pytest.approx(
            robot.robot_mass * 9.81, rel=0.1)
    # An e-stop of one robot stops that robot only.
    first.set_emergency_stop(True)
    assert first.stopped == "emergency_stop" and second.stopped == ""


def test_two_centurions_stand_for_three_seconds():
    from legion_description.robot_files import DescriptionError, urdf_xacro_path

    try:
        urdf_xacro_path("centurion")
    except DescriptionError as error:
        pytest.skip(f"Centurion URDF not available: {error}")
    sim = Simulation.from_scene(load_scene("two_robot_cell"), "centurion", sensor_noise=False)
    try:
        starts = [robot.ground_truth_base().position.copy() for robot in sim.robots]
        sim.step(3000)
        for robot, start in zip(sim.robots, starts, strict=True):
            base = robot.ground_truth_base()
            assert np.linalg.norm(base.position - start) < 0.01, robot.name
            assert _tilt_deg(base.orientation) < 2.0, robot.name
            assert robot.status()["protective_stop"] is False
    finally:
        sim.close()


def _robot_of_geom(model, geom: int) -> str:
    name = model.body(model.geom_bodyid[geom]).name
    return name.split("/", 1)[0] if "/" in name else ""


def test_robots_collide_with_each_other_but_not_with_themselves(two_tiny):
    """Robot geoms of different robots make contacts; a robot's own geoms never do (contype/conaffinity)."""
    import mujoco

    sim = two_tiny
    model, data = sim.model, sim.data
    robot_geoms = {name: [g for g in range(model.ngeom) if _robot_of_geom(model, g) == name
                          and (model.geom_contype[g] or model.geom_conaffinity[g])] for name in ("robot_1", "robot_2")}
    assert robot_geoms["robot_1"] and robot_geoms["robot_2"]

    def collide(a: int, b: int) -> bool:
        types, affinities = model.geom_contype, model.geom_conaffinity
        return bool(types[a] & affinities[b] or types[b] & affinities[a])

    for name, geoms in robot_geoms.items():
        assert not any(collide(a, b) for a in geoms for b in geoms), name
    assert all(collide(a, b) for a in robot_geoms["robot_1"] for b in robot_geoms["robot_2"])
    try:
        # Robot 2 moved onto robot 1 (5 cm ahead, 5 cm higher): the collision pass reports robot-robot contacts.
        second = sim.robots[1]
        adr = model.jnt_qposadr[model.body_jntadr[second._built.root_body]]
        data.qpos[adr:adr + 3] = [0.05, 0.0, data.qpos[adr + 2] + 0.05]
        mujoco.mj_forward(model, data)
        pairs = {(_robot_of_geom(model, c.geom1), _robot_of_geom(model, c.geom2)) for c in data.contact[:data.ncon]}
        assert ("robot_1", "robot_2") in pairs or ("robot_2", "robot_1") in pairs
        assert ("robot_1", "robot_1") not in pairs and ("robot_2", "robot_2") not in pairs
    finally:
        sim.reset()


def test_a_world_holds_at_most_thirty_robots():
    from legion_sim.model_builder import MAX_ROBOTS, robot_bit

    assert robot_bit(0) == 2 and robot_bit(MAX_ROBOTS - 1) == 1 << MAX_ROBOTS
    assert robot_bit(MAX_ROBOTS - 1) < 2 ** 31
    with pytest.raises(SimError, match="at most 30 robots"):
        robot_bit(MAX_ROBOTS)
