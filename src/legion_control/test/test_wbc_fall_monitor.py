"""The fall monitor on hand-made poses: tilt, low CoM, CoM outside the support polygon, landing soles, the capture point
beyond a step's reach, recovery."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pinocchio as pin
import pytest

from legion_control.fall_monitor import FallMonitor, StepReach
from legion_control.parameters import FallParameters

HEIGHT = 0.8
"""[m] standing CoM height."""


@pytest.fixture
def monitor() -> FallMonitor:
    return FallMonitor(FallParameters(), HEIGHT, sole_length=0.2, sole_width=0.1)


def soles(y: float = 0.1) -> dict[str, pin.SE3]:
    return {"left": pin.SE3(np.eye(3), np.array([0.0, y, 0.0])),
            "right": pin.SE3(np.eye(3), np.array([0.0, -y, 0.0]))}


UPRIGHT = np.eye(3)
TIPPING = pin.exp3(np.array([0.05, 0.0, 0.0]))  # 0.05 rad of roll: beyond fall.capture_min_tilt (0.03 rad)
COM = np.array([0.0, 0.0, HEIGHT])


def test_standing_over_both_soles_is_not_a_fall(monitor):
    assert monitor.fall_reason(0.0, UPRIGHT, COM, soles(), ("left", "right"), {}) == ""


def test_tilt_low_com_and_com_outside_are_falls(monitor):
    tilted = pin.exp3(np.array([0.7, 0.0, 0.0]))
    assert "tilt" in monitor.fall_reason(0.0, tilted, COM, soles(), ("left", "right"), {})
    assert "too low" in monitor.fall_reason(0.0, UPRIGHT, COM * 0.5, soles(), ("left", "right"), {})
    outside = COM + np.array([0.45, 0.0, 0.0])  # 0.35 m beyond the soles' front edge > com_margin_ratio 0.26 x 0.95 m
    assert "outside" in monitor.fall_reason(0.0, UPRIGHT, outside, soles(), ("left", "right"), {})


def test_a_planned_landing_extends_the_support_polygon(monitor):
    feet = soles(0.2)
    over_left = np.array([0.0, 0.2])
    stance = {"right": feet["right"]}
    assert monitor.distance_outside(0.0, over_left, stance, {}) > 0.3
    assert monitor.distance_outside(0.0, over_left, stance, {"left": feet["left"]}) < 0.0


def test_recovery_needs_the_recovery_time_upright(monitor):
    params = dataclasses.replace(FallParameters(), recovery_time=0.1)
    monitor = FallMonitor(params, HEIGHT, 0.2, 0.1)
    assert not monitor.recovered(0.0, UPRIGHT, COM, soles())
    assert not monitor.recovered(0.05, UPRIGHT, COM, soles())
    assert monitor.recovered(0.1, UPRIGHT, COM, soles())
    monitor.fell()
    assert not monitor.recovered(0.2, UPRIGHT, COM, soles())
    moving = np.array([0.0, (0.15 + 0.05) * OMEGA, 0.0])  # capture point 0.05 m outside the soles: not yet
    assert not monitor.recovered(0.3, UPRIGHT, COM, soles(), moving)
    assert not monitor.recovered(0.45, UPRIGHT, COM, soles(), moving)
    crouched = COM * np.array([1.0, 1.0, 0.8])  # below 0.9 of the standing height: not yet
    assert not monitor.recovered(0.5, UPRIGHT, crouched, soles())
    assert not monitor.recovered(0.55, UPRIGHT, COM, soles())  # the count started again


REACH = StepReach(forward=0.4, backward=0.15, lateral=0.2)
OMEGA = math.sqrt(9.81 / HEIGHT)


def capture_monitor(**overrides) -> FallMonitor:
    return FallMonitor(dataclasses.replace(FallParameters(), **overrides), HEIGHT, 0.2, 0.1, REACH)


def test_the_step_reach_is_the_longest_step_in_the_direction():
    assert REACH.along(np.array([1.0, 0.0])) == pytest.approx(0.4)
    assert REACH.along(np.array([-1.0, 0.0])) == pytest.approx(0.15)
    assert REACH.along(np.array([0.0, -1.0])) == pytest.approx(0.2)
    diagonal = REACH.along(np.array([1.0, 1.0]) / math.sqrt(2.0))
    assert 0.2 < diagonal < 0.4
    walking = {"max_step_forward": 0.5, "max_step_backward": 0.2, "max_step_outward": 0.45, "step_width": 0.2}
    assert StepReach.from_walking(walking) == StepReach(0.5, 0.2, 0.25)


@pytest.mark.parametrize("direction, reach", [((0.0, 1.0), 0.2), ((1.0, 0.0), 0.4), ((-1.0, 0.0), 0.15)])
def test_a_capture_point_beyond_a_step_for_the_capture_time_is_an_unavoidable_fall(direction, reach):
    """The soles span y +-0.15 m and x +-0.1 m; the capture point goes 0.05 m beyond a step's reach."""
    monitor = capture_monitor(capture_time=0.05)
    edge = 0.15 if direction[1] else 0.1
    velocity = np.array([*direction, 0.0]) * (edge + reach + 0.05) * OMEGA
    stance = ("left", "right")
    assert monitor.fall_reason(0.0, TIPPING, COM, soles(), stance, {}, velocity) == ""
    assert monitor.capture_outside == pytest.approx(reach + 0.05)
    assert monitor.capture_reach == pytest.approx(reach)
    assert monitor.fall_reason(0.04, TIPPING, COM, soles(), stance, {}, velocity) == ""
    reason = monitor.fall_reason(0.05, TIPPING, COM, soles(), stance, {}, velocity)
    assert reason == f"capture point {reach + 0.05:.2f} m outside the support, beyond the {reach:.2f} m reach"
    # the same capture point under an upright base (wrong joint velocities, say): no fall, however long
    upright = capture_monitor(capture_time=0.05)
    for now in (0.0, 0.05, 0.5):
        assert upright.fall_reason(now, UPRIGHT, COM, soles(), stance, {}, velocity) == ""
    # turned by 90 degrees, a sideways capture point is one ahead or behind: another reach
    turned = pin.exp3(np.array([0.0, 0.0, math.pi / 2]))
    monitor = capture_monitor(capture_time=0.0)
    monitor.fall_reason(0.0, turned, COM, soles(), stance, {}, velocity)
    assert monitor.capture_reach != pytest.approx(reach)


def test_a_capture_point_within_a_step_or_not_for_long_is_not_a_fall():
    monitor = capture_monitor(capture_time=0.05)
    stance = ("left", "right")
    within = np.array([0.0, (0.15 + 0.2 - 0.02) * OMEGA, 0.0])  # 0.02 m short of the lateral reach
    beyond = np.array([0.0, (0.15 + 0.2 + 0.1) * OMEGA, 0.0])
    for t in np.arange(0.0, 0.5, 0.002):
        assert monitor.fall_reason(t, TIPPING, COM, soles(), stance, {}, within) == ""
    # beyond the reach for less than the capture time, twice: no fall (the count starts again)
    for start in (1.0, 2.0):
        assert monitor.fall_reason(start, TIPPING, COM, soles(), stance, {}, beyond) == ""
        assert monitor.fall_reason(start + 0.04, TIPPING, COM, soles(), stance, {}, beyond) == ""
        assert monitor.fall_reason(start + 0.045, TIPPING, COM, soles(), stance, {}, within) == ""
    # a planned landing under the capture point extends the support: no fall
    landing = {"left": pin.SE3(np.eye(3), np.array([0.0, 0.5, 0.0]))}
    for t in (3.0, 3.1):
        assert monitor.fall_reason(t, TIPPING, COM, soles(), ("right",), landing, beyond) == ""
    # without a CoM velocity, without a step reach, or switched off: no capture-point criterion
    assert monitor.fall_reason(4.0, UPRIGHT, COM, soles(), stance, {}) == ""
    off = capture_monitor(capture_time=0.0, capture_point=False)
    assert off.fall_reason(0.0, UPRIGHT, COM, soles(), stance, {}, beyond * 3) == ""
    blind = FallMonitor(dataclasses.replace(FallParameters(), capture_time=0.0), HEIGHT, 0.2, 0.1)
    assert blind.fall_reason(0.0, UPRIGHT, COM, soles(), stance, {}, beyond * 3) == ""
