"""Walking in closed loop, in-process: the gait planner core with the whole-body controller core and the MuJoCo
simulation stepped together in lockstep (legion_testing.walking_loop), with the parameters of config/stack.yaml.
Assertions use the simulator's ground truth. The same behaviours over DDS with the whole stack: test_gait_stack.py."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("legion_control")
pytest.importorskip("legion_sim")

from legion_testing.walking_loop import WalkingLoop, heading_error

pytestmark = pytest.mark.long  # 7-12 s each


def new_loop(wbc_overrides: dict[str, object] | None = None) -> WalkingLoop:
    loop = WalkingLoop(wbc_overrides=wbc_overrides)
    assert loop.run(1.0)
    return loop


def stop_and_stand(loop: WalkingLoop) -> None:
    loop.stop_command()
    assert loop.settle(timeout=5.0), "did not come to a stand"
    soles = loop.last_output.soles
    assert heading_error(soles["left"][2], soles["right"][2]) < 0.03


def steady_speed(loop: WalkingLoop, since: float) -> np.ndarray:
    """Mean ground-truth base velocity (x, y) in odom over the walking records after `since` [s]."""
    record = loop.record
    t = np.array(record.time)
    keep = (t >= since) & np.array([phase == "walking" for phase in record.phase])
    base = np.array(record.base)[keep]
    return np.array([np.polyfit(t[keep], base[:, axis], 1)[0] for axis in range(2)])


@pytest.mark.slow  # 18 s: the stack's walking tests cover walking in the default run
def test_walks_10_m_forward_at_half_a_metre_per_second() -> None:
    loop = new_loop()
    loop.command(0.5, 0.0, 0.0)
    start = loop.time
    while loop.base_pose()[0] < 10.0:
        assert loop.run(1.0), f"fell at x = {loop.base_pose()[0]:.2f} m"
        assert loop.time - start < 27.0, "too slow"
    velocity = steady_speed(loop, since=start + 3.0)
    assert abs(velocity[0] - 0.5) / 0.5 < 0.10, f"mean speed {velocity[0]:.3f} m/s"
    assert abs(loop.base_pose()[1]) < 0.5
    stop_and_stand(loop)
    assert loop.rejections == 0


@pytest.mark.parametrize("command, seconds", [((-0.3, 0.0, 0.0), 5.0), ((0.0, 0.15, 0.0), 5.0),
                                              ((0.0, -0.15, 0.0), 5.0)])
def test_walks_backwards_and_sideways(command: tuple[float, float, float], seconds: float) -> None:
    loop = new_loop()
    loop.command(*command)
    start = loop.time
    assert loop.run(seconds)
    velocity = steady_speed(loop, since=start + 2.0)
    expected = np.array(command[:2])
    assert np.linalg.norm(velocity - expected) < 0.1 * np.linalg.norm(expected) + 0.02, velocity
    stop_and_stand(loop)


def test_turns_in_place_a_full_turn() -> None:
    loop = new_loop()
    loop.command(0.0, 0.0, 0.6)
    turned, last = 0.0, loop.base_pose()[2]
    start = loop.base_pose()
    while turned < 2 * math.pi:
        assert loop.run(0.5)
        yaw = loop.base_pose()[2]
        turned += (yaw - last + math.pi) % (2 * math.pi) - math.pi
        last = yaw
        assert loop.time < 20.0, f"turned only {math.degrees(turned):.0f} deg"
    stop_and_stand(loop)
    assert np.linalg.norm(loop.base_pose()[:2] - start[:2]) < 0.15  # in place


def test_follows_a_varying_twist_on_an_arc() -> None:
    loop = new_loop()

    def arc(walking: WalkingLoop) -> None:
        walking.command(0.4, 0.0, 0.3 * math.sin(0.6 * (walking.time - 1.0)) + 0.2)

    start = loop.base_pose()
    assert loop.run(8.0, arc)
    end = loop.base_pose()
    stop_and_stand(loop)
    assert np.linalg.norm(end[:2] - start[:2]) > 2.0
    assert heading_error(end[2], start[2]) > 0.8  # it turned left along the way


def test_walks_to_a_pose_3_m_away_turned_90_degrees() -> None:
    loop = new_loop()
    start = loop.base_pose()
    goal = np.array([start[0] + 3.0, start[1], start[2] + math.pi / 2])
    progress = loop.planner.set_goal(loop.time, "odom", (goal[0], goal[1], 0.0),
                                     (0.0, 0.0, math.sin(goal[2] / 2), math.cos(goal[2] / 2)))
    while not progress.done:
        assert loop.run(0.5)
        assert loop.time < 40.0, f"goal not reached: {progress.distance_remaining:.3f} m left"
    assert progress.status.value == "succeeded", progress.message
    final = loop.base_pose()
    assert np.linalg.norm(final[:2] - goal[:2]) < 0.05
    assert math.degrees(heading_error(final[2], goal[2])) < 5.0


@pytest.mark.parametrize("towards_stance", [True, False])
def test_survives_a_20_n_s_lateral_push_by_stepping(towards_stance: bool) -> None:
    """A 200 N, 0.1 s push at the pelvis, 0.05-0.1 s into a swing. Away from the stance foot, the swing foot steps
    under it. Towards it (the hard case), the swing foot cannot (the feet would cross): it lands as far in as allowed
    (and early, when that is not enough) and the stance foot steps out next."""
    loop = new_loop()
    loop.command(0.5, 0.0, 0.0)
    assert loop.run(3.0)
    while True:
        assert loop.run(0.02)
        plan = loop.last_output.plan
        flight = plan.in_flight(loop.time)
        if flight is not None and 0.05 <= loop.time - plan.footsteps[flight].lift_off <= 0.1:
            break
    away_from_stance = loop.geometry.side_sign[plan.footsteps[flight].side]
    direction = -away_from_stance if towards_stance else away_from_stance
    loop.push((0.0, 200.0 * direction, 0.0), 0.1)  # 20 N s
    pushed_at = loop.time
    assert loop.run(4.0), "fell after the push"
    events = [event for time, event in loop.record.events if time >= pushed_at]
    assert any("capture-point feedback" in event or "stepping sooner" in event for event in events)
    stop_and_stand(loop)
