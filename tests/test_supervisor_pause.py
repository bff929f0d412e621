"""supervisor/pause in the gait planner's core: paused, the robot finishes its step and stands whatever cmd_vel or a
walk_to goal asks; resumed, it walks again and the goal is still reached (its time limit extended by the pause)."""

from __future__ import annotations

import math

from legion_gait.planner import GaitPhase, GoalStatus
from legion_testing.ideal_walker import IdealWalker


def quaternion(yaw: float) -> tuple[float, float, float, float]:
    return (0.0, 0.0, math.sin(yaw / 2), math.cos(yaw / 2))


def test_paused_the_robot_stands_despite_cmd_vel_and_walks_again_when_resumed() -> None:
    walker = IdealWalker()
    walker.run(3.0, command=(0.5, 0.0, 0.0))
    assert walker.planner.phase == GaitPhase.WALKING
    walker.planner.set_paused(True, walker.time)
    outputs = walker.run(4.0, command=(0.5, 0.0, 0.0))
    assert outputs[-1].phase == GaitPhase.STANDING
    x = outputs[-1].samples.com_position[0][0]
    assert abs(walker.run(1.0, command=(0.5, 0.0, 0.0))[-1].samples.com_position[0][0] - x) < 1e-6
    walker.planner.set_paused(False, walker.time)
    assert walker.run(3.0, command=(0.5, 0.0, 0.0))[-1].phase == GaitPhase.WALKING


def test_a_walk_to_goal_waits_while_paused_and_is_reached_after() -> None:
    walker = IdealWalker()
    walker.step()
    progress = walker.planner.set_goal(walker.time, "odom", (2.0, 0.0, 0.0), quaternion(0.0))
    walker.run(1.5)
    walker.planner.set_paused(True, walker.time)
    outputs = walker.run(60.0)  # longer than the goal's time limit
    assert outputs[-1].phase == GaitPhase.STANDING and progress.status == GoalStatus.ACTIVE
    left = progress.distance_remaining
    assert 0.3 < left < 2.0
    walker.planner.set_paused(False, walker.time)
    for _ in range(600):
        walker.step()
        if progress.done:
            break
    assert progress.status == GoalStatus.SUCCEEDED, progress.message
