"""Falls in closed loop, in-process and lockstep (legion_testing.walking_loop: the gait planner core, the whole-body
controller core and the MuJoCo simulation, with the parameters of config/stack.yaml): a push the robot cannot step
out of is declared an unavoidable fall (the capture point beyond a step's reach) before the base has tilted far, and
the controller then brings the joints compliantly towards the robot file's protective fall posture; walking, turning
and a push the robot steps out of never come near that criterion. Assertions on the robot use the simulator's ground
truth; the controller sees odometry only."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("legion_control")
pytest.importorskip("legion_sim")

from legion_control import ControllerState, FallResponse
from legion_testing.walking_loop import WalkingLoop

PUSH_DURATION = 0.1
"""[s] the push lasts this long at the pelvis."""


def tilt(loop: WalkingLoop) -> float:
    """Ground-truth base tilt from upright [rad]."""
    x, y, _, _ = loop.loop.sim.ground_truth_base().orientation
    return math.acos(max(-1.0, min(1.0, 1.0 - 2.0 * (x * x + y * y))))


def push_while_standing(impulse: float, direction: tuple[float, float, float], capture_point: bool = True,
                        seconds: float = 1.5) -> tuple[WalkingLoop, float, float | None, list]:
    """Stand 1 s, push, run `seconds` watching every control cycle: (loop, push time, time the controller declared
    the fall or None, [(time, report, joint command, true tilt, joint positions)] from the declaration on)."""
    loop = WalkingLoop(wbc_overrides={"fall.capture_point": capture_point})
    assert loop.run(1.0)
    force = np.array(direction, dtype=float) * impulse / PUSH_DURATION
    loop.push(tuple(force), PUSH_DURATION)
    pushed = loop.time
    declared, after = None, []
    while loop.time < pushed + seconds:
        loop.run(loop.loop.period, stop_on_fall=False)  # one control cycle (and the planner tick when due)
        report = loop.loop.last_report
        if report.state == ControllerState.FALLEN:
            declared = loop.time if declared is None else declared
            joints = loop.loop.sim.joint_state()
            after.append((loop.time, report, loop.loop.controller._last_command, tilt(loop),
                          dict(zip(joints.names, joints.position, strict=True))))
    return loop, pushed, declared, after


@pytest.mark.long
def test_a_70_n_s_side_push_is_an_unavoidable_fall_declared_early_with_the_fall_posture() -> None:
    """Sideways, 70 N s: the capture point leaves the reach of any step. The controller declares the fall on it,
    well before the base tilt (or CoM) criterion would have (the same push with the capture-point check off), and
    then commands the fall posture: compliant gains, targets moving to the posture, the knees bending."""
    loop, pushed, declared, after = push_while_standing(70.0, (0.0, 1.0, 0.0))
    assert declared is not None, "no fall declared"
    _, report, command, tilt_then, _ = after[0]
    assert report.fall_reason.startswith("capture point") and "reach" in report.fall_reason, report.fall_reason
    assert report.fall_response == FallResponse.POSTURE
    max_tilt = loop.loop.controller.params.fall.max_tilt
    assert tilt_then < 0.6 * max_tilt, f"base already tilted {tilt_then:.2f} rad"

    _, pushed_without, declared_without, after_without = push_while_standing(70.0, (0.0, 1.0, 0.0), False)
    assert declared_without is not None
    assert not after_without[0][1].fall_reason.startswith("capture point")
    assert declared - pushed < declared_without - pushed_without - 0.1, (
        f"capture point {declared - pushed:.2f} s, otherwise {declared_without - pushed_without:.2f} s")

    controller = loop.loop.controller
    posture = controller.config.fall_posture
    na = controller.na
    stiffness = np.array([posture.gains[n].stiffness for n in controller.body_joints])
    bent = [n for n in controller.config.joints("legs")
            if posture.joint_positions[n] > controller.config.standing[n] + 0.5]
    assert bent, "the fall posture bends a leg joint (the knees) by more than 0.5 rad"
    start = {n: after[0][4][n] for n in bent}
    for _, report, command, _, _ in after:
        assert report.state == ControllerState.FALLEN and report.fall_response == FallResponse.POSTURE
        assert np.array_equal(command.stiffness[:na], stiffness) and np.all(command.damping[:na] > 0.0)
        assert np.all(command.effort[:na] == 0.0)
    settled = [entry for entry in after if entry[0] >= declared + posture.time + 0.01]
    assert settled, "the run ended before the posture's time had passed"
    _, _, command, _, joints = settled[0]
    targets = dict(zip(command.names, command.position, strict=True))
    for name in bent:
        assert targets[name] == pytest.approx(posture.joint_positions[name], abs=1e-6)
        assert joints[name] > start[name] + 0.3, f"{name} from {start[name]:.2f} to {joints[name]:.2f} rad"


@pytest.mark.slow  # 11 s; the gait tests' pushes, walks and turns check the same (no fall declared)
def test_a_30_n_s_push_and_walking_and_turning_stay_within_a_step_of_the_support() -> None:
    """The capture point of a stand-still push the robot recovers from, and of walking at 0.5 m/s and turning,
    stays well inside a step's reach: no unavoidable fall is declared, and not narrowly."""
    loop = WalkingLoop()
    assert loop.run(1.0)
    margins = []

    def watch(seconds: float) -> None:
        end = loop.time + seconds
        while loop.time < end:
            loop.run(loop.loop.period, stop_on_fall=False)
            report = loop.loop.last_report
            assert report.state != ControllerState.FALLEN, report.fall_reason
            margins.append(report.capture_point_outside - report.capture_point_reach)

    loop.push((0.0, 30.0 / PUSH_DURATION, 0.0), PUSH_DURATION)
    watch(2.0)
    loop.command(0.5, 0.0, 0.0)
    watch(4.0)
    loop.command(0.3, 0.0, 0.5)
    watch(3.0)
    loop.command(0.0, 0.0, -0.6)
    watch(3.0)
    assert max(margins) < -0.1, f"the capture point came within {-max(margins):.3f} m of a step's reach"
