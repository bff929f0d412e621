"""People that walk a path: the scene format, the pose along the path, the simulator moving them (a mocap body that
the robot collides with) and their ground truth."""

from __future__ import annotations

import math

import numpy as np
import pytest

from legion_sim.errors import SimError
from legion_sim.scene import load_scene, parse_scene
from legion_sim.simulation import Simulation

WALKER = {"id": "w", "position": [4.0, 0.0], "yaw": math.pi, "speed": 1.0, "start_time": 0.5,
          "path": [[2.0, 0.0, 1.0], [2.0, 2.0]]}


def test_pose_along_the_path_with_pauses():
    (person,) = parse_scene({"name": "p", "people": [WALKER]}).people
    assert person.pose_at(0.0) == (4.0, 0.0, math.pi)  # before the start
    x, y, yaw = person.pose_at(1.5)  # 1 s of walking at 1 m/s towards -x
    assert (x, y) == pytest.approx((3.0, 0.0)) and yaw == pytest.approx(math.pi)
    assert person.pose_at(3.0)[:2] == pytest.approx((2.0, 0.0))  # arrived at 2.5 s, pausing until 3.5 s
    assert person.pose_at(3.4)[:2] == pytest.approx((2.0, 0.0))
    x, y, yaw = person.pose_at(4.5)
    assert (x, y) == pytest.approx((2.0, 1.0)) and yaw == pytest.approx(math.pi / 2)
    assert person.pose_at(100.0)[:2] == pytest.approx((2.0, 2.0))  # stays at the end


@pytest.mark.parametrize("change, words", [
    ({"path": []}, "non-empty"),
    ({"path": [[1.0]]}, r"path\[0\]"),
    ({"path": [[1.0, 0.0, -1.0]]}, "pause"),
    ({"speed": 0.0}, "speed"),
    ({"speed": 9.0}, "at most"),
    ({"start_time": -1.0}, "start_time"),
])
def test_bad_paths_are_rejected_with_the_key(change, words):
    with pytest.raises(SimError, match=words):
        parse_scene({"name": "p", "people": [WALKER | change]})
    still = {k: v for k, v in WALKER.items() if k not in ("path",)}
    with pytest.raises(SimError, match="needs a path"):
        parse_scene({"name": "p", "people": [still]})


def test_the_simulator_moves_a_walking_person_and_reports_it(tiny_robot):
    config, urdf = tiny_robot
    scene = parse_scene({"name": "p", "people": [WALKER, {"id": "s", "position": [-2.0, 1.0]}]})
    sim = Simulation(config, scene, urdf, sensor_noise=False)
    (walker_id, start, yaw), (still_id, still, _) = sim.ground_truth_people()
    assert (walker_id, still_id) == ("w", "s")
    assert start[:2] == pytest.approx((4.0, 0.0)) and yaw == pytest.approx(math.pi)
    steps = round(1.5 / sim.timestep)
    sim.step(steps)
    (_, moved, _), (_, still_now, _) = sim.ground_truth_people()
    assert moved[:2] == pytest.approx((3.0, 0.0), abs=0.01)
    assert np.allclose(still_now, still)
    sim.reset()
    assert sim.ground_truth_people()[0][1][:2] == pytest.approx((4.0, 0.0))


def test_a_walking_person_is_an_obstacle_to_the_robot(tiny_robot):
    """The person walks through where the robot stands: the robot is pushed (the figure collides)."""
    config, urdf = tiny_robot
    scene = parse_scene({"name": "p", "people": [{"id": "w", "position": [1.5, 0.0], "yaw": math.pi, "speed": 0.5,
                                                   "path": [[-1.5, 0.0]]}]})
    sim = Simulation(config, scene, urdf, sensor_noise=False)
    before = sim.ground_truth_base().position.copy()
    sim.step(round(4.0 / sim.timestep))
    after = sim.ground_truth_base().position
    assert np.linalg.norm(after[:2] - before[:2]) > 0.1


def test_the_shipped_approach_scene_loads():
    (person,) = load_scene("safety_approach").people
    assert person.speed == pytest.approx(1.6) and len(person.path) == 3
