"""The gait planner core under the safety node's speed scale (legion_gait.planner.set_speed_scale), with an ideal
robot that tracks the reference: scaled walking, a protective stop to a standing robot, and a walk_to goal held and
resumed."""

from __future__ import annotations

import math

import numpy as np
import pytest

from legion_common.transforms import quaternion_from_yaw
from legion_gait.planner import GaitPhase, GoalStatus
from legion_testing.ideal_walker import IdealWalker


def com_speed(outputs) -> float:
    """Mean forward CoM speed [m/s] of the reference over `outputs`."""
    first, last = outputs[0], outputs[-1]
    return (last.samples.com_position[0][0] - first.samples.com_position[0][0]) / (last.time - first.time)


def test_walking_speed_follows_the_speed_scale() -> None:
    walker = IdealWalker()
    walker.run(4.0, command=(0.5, 0.0, 0.0))
    assert com_speed(walker.run(3.0, command=(0.5, 0.0, 0.0))) == pytest.approx(0.5, rel=0.05)
    walker.planner.set_speed_scale(0.4)
    walker.run(2.0, command=(0.5, 0.0, 0.0))  # decelerating within the planner's limits
    assert com_speed(walker.run(3.0, command=(0.5, 0.0, 0.0))) == pytest.approx(0.2, rel=0.1)


def test_a_protective_stop_stands_the_walking_robot_and_holds_it_until_cleared() -> None:
    walker = IdealWalker()
    walker.run(4.0, command=(0.5, 0.0, 0.0))
    walker.planner.set_speed_scale(0.0)
    stop = walker.time
    outputs = walker.run(3.0, command=(0.5, 0.0, 0.0))  # cmd_vel keeps coming: the stop wins
    standing = next(o.time for o in outputs if o.phase == GaitPhase.STANDING)
    assert standing - stop < 2.0  # the step in flight, a closing step, settling
    assert all(o.phase == GaitPhase.STANDING for o in outputs if o.time >= standing)
    last = outputs[-1]
    assert not last.footsteps and np.allclose(last.samples.com_velocity[-1], 0.0, atol=1e-3)
    walker.planner.set_speed_scale(1.0)
    assert walker.run(3.0, command=(0.5, 0.0, 0.0))[-1].phase == GaitPhase.WALKING


def test_a_bad_speed_scale_is_a_stop() -> None:
    walker = IdealWalker()
    for bad in (math.nan, -1.0):
        walker.planner.set_speed_scale(bad)
        assert walker.planner.speed_scale == 0.0 and walker.planner.safety_hold
    walker.planner.set_speed_scale(3.0)
    assert walker.planner.speed_scale == 1.0


def test_a_walk_to_goal_is_held_by_a_stop_longer_than_its_deadline_and_then_reached() -> None:
    walker = IdealWalker()
    walker.step()
    progress = walker.planner.set_goal(walker.time, "odom", (2.0, 0.0, 0.0), tuple(quaternion_from_yaw(0.0)))
    walker.run(2.0)
    assert walker.planner.phase == GaitPhase.WALKING
    walker.planner.set_speed_scale(0.0)
    held = walker.run(60.0)  # far longer than the goal's deadline
    assert progress.status == GoalStatus.ACTIVE
    assert held[-1].phase == GaitPhase.STANDING
    stood_at = walker.measured().base_pose[0]
    assert 0.2 < stood_at < 1.9
    walker.planner.set_speed_scale(1.0)
    for _ in range(600):
        walker.step()
        if progress.done:
            break
    assert progress.status == GoalStatus.SUCCEEDED, progress.message
    assert progress.held > 55.0
