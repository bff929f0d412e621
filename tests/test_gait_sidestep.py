"""Sidestepping walk_to goals on leg odometry, in-process (legion_testing.walking_loop: MuJoCo + whole-body controller
core + gait planner core in lockstep, the base state from legion_estimation's leg odometry over the robot's sensors
with their errors, as the stack's state estimator gives it). Assertions use the simulator's ground truth.

These routes fell when a sole that had just touched down counted at once as a still anchor: its bounce and sideways
slide gave base velocity errors up to 0.25 m/s, which the planner took for DCM errors of 5-10 cm and answered with
needless capture-point steps, until a lateral step went wrong (LegOdometryParameters.contact_settle_time).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("legion_control")
pytest.importorskip("legion_sim")

from legion_common.transforms import quaternion_from_yaw
from legion_testing.walking_loop import WalkingLoop, gait_parameters_from_stack, heading_error

pytestmark = pytest.mark.long  # in-process walks of 30-60 s each: left out by `./test.sh --fast`

POSITION_TOLERANCE = 0.03
"""[m] ground-truth base to goal."""
YAW_TOLERANCE = math.radians(3.0)
GOAL_TIMEOUT = 20.0
"""[s] of simulated time per goal (each takes 3-10 s)."""


def walk_route(scene: str, route: list[tuple[float, float, float]]) -> WalkingLoop:
    """Walk to each (x, y, yaw) goal in odom in turn, stepping omnidirectionally (no turning to face the path);
    asserts that each succeeds and that the robot really stands there."""
    loop = WalkingLoop(params=gait_parameters_from_stack(goal_approach_distance=2.0), scene=scene, odometry="leg")
    assert loop.run(1.0)
    for x, y, yaw in route:
        loop.planner.set_goal(loop.time, "odom", np.array([x, y, 0.0]), quaternion_from_yaw(yaw))
        start = loop.time
        progress = loop.planner.progress
        while loop.time - start < GOAL_TIMEOUT and not progress.done:
            assert loop.run(0.25), f"fell walking to {(x, y, yaw)} at t = {loop.time:.2f} s"
        assert progress.status.value == "succeeded", f"{(x, y, yaw)}: {progress.status.value} {progress.message}"
        base = loop.base_pose()
        assert math.hypot(base[0] - x, base[1] - y) < POSITION_TOLERANCE, f"{(x, y, yaw)}: base at {base}"
        assert heading_error(base[2], yaw) < YAW_TOLERANCE, f"{(x, y, yaw)}: base at {base}"
    return loop


def test_sidesteps_right_and_left_in_the_sorting_cell_on_leg_odometry() -> None:
    out_and_back = [(-0.10, 0.72, 0.0), (-0.10, 0.0, 0.0), (-0.10, -0.72, 0.0), (-0.10, 0.0, 0.0)]
    loop = walk_route("sorting_cell", [(-0.10, 0.0, 0.0), *out_and_back])
    # The estimate no longer reads touch-downs as pushes: the measured DCM stays within the re-anchoring threshold
    # (before: 80 re-anchorings and 30 capture-point steps on the way to the fall).
    assert np.percentile(loop.record.dcm_error, 95) < loop.planner.params.dcm_error_threshold
    assert not any("capture-point" in event for _, event in loop.record.events)


def test_turns_a_quarter_and_sidesteps_there_and_back_on_leg_odometry() -> None:
    heading = -math.pi / 2
    walk_route("empty", [(-0.10, 1.17, 0.0), (-0.10, 1.17, heading), (0.35, 1.17, heading), (-0.10, 1.17, heading)])
