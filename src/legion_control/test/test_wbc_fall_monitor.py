"""The fall monitor on hand-made poses: tilt, low CoM, CoM outside the support polygon, landing soles, recovery."""

from __future__ import annotations

import dataclasses

import numpy as np
import pinocchio as pin
import pytest

from legion_control.fall_monitor import FallMonitor
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
    crouched = COM * np.array([1.0, 1.0, 0.8])  # below 0.9 of the standing height: not yet
    assert not monitor.recovered(0.5, UPRIGHT, crouched, soles())
    assert not monitor.recovered(0.55, UPRIGHT, COM, soles())  # the count started again
