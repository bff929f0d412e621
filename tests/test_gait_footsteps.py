"""Footsteps (legion_gait.footsteps and the planner's stepping): the step limits hold, the feet never cross, sideways
and turning steps are led by the foot on the side of the motion."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from legion_gait.dimensions import resolve as resolve_dimensions
from legion_gait.footsteps import (
    StepLimits,
    clamp_step,
    landing_for_displacement,
    soles_overlap,
    step_displacement,
    step_from_stance,
    step_within_limits,
)
from legion_gait.geometry import pose2, relative
from legion_gait.parameters import GaitParameters
from legion_gait.robot_geometry import RobotGeometry
from legion_testing.ideal_walker import IdealWalker

GEOMETRY = RobotGeometry()
PARAMS = resolve_dimensions(GaitParameters(), GEOMETRY)
LIMITS = StepLimits.from_parameters(PARAMS, GEOMETRY)


def test_overlap_of_sole_rectangles() -> None:
    a = pose2(0.0, 0.0, 0.0)
    assert soles_overlap(a, pose2(0.0, 0.09, 0.0), 0.22, 0.10)
    assert not soles_overlap(a, pose2(0.0, 0.11, 0.0), 0.22, 0.10)
    assert soles_overlap(a, pose2(0.0, 0.11, 0.0), 0.22, 0.10, gap=0.03)
    assert not soles_overlap(a, pose2(0.3, 0.0, 0.0), 0.22, 0.10)
    assert soles_overlap(a, pose2(0.0, 0.13, 0.6), 0.22, 0.10)  # rotated in: its corner reaches the other sole


@pytest.mark.parametrize("seed", range(3))
def test_clamped_steps_respect_the_limits_and_never_cross(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(300):
        stance = pose2(*rng.uniform(-1, 1, 2), rng.uniform(-np.pi, np.pi))
        sign = rng.choice([-1.0, 1.0])
        wanted = pose2(*(stance[:2] + rng.uniform(-0.8, 0.8, 2)), stance[2] + rng.uniform(-1.5, 1.5))
        landing, moved = clamp_step(stance, sign, wanted, LIMITS)
        assert step_within_limits(stance, sign, landing, LIMITS), step_from_stance(stance, sign, landing)
        assert not soles_overlap(stance, landing, LIMITS.sole_length, LIMITS.sole_width, LIMITS.min_gap - 1e-9)
        assert moved or np.allclose(landing, wanted)


def test_a_step_inside_the_limits_is_kept() -> None:
    stance = pose2(1.0, -0.1, 0.2)
    landing = landing_for_displacement(stance, +1.0, np.array([0.3, 0.0, 0.0]), PARAMS.step_width)
    clamped, moved = clamp_step(stance, +1.0, landing, LIMITS)
    assert not moved
    np.testing.assert_allclose(clamped, landing)


def test_sideways_and_turning_are_led_by_the_foot_on_that_side() -> None:
    period = PARAMS.step_duration
    left, right = GEOMETRY.side_sign["left"], GEOMETRY.side_sign["right"]
    to_the_left = np.array([0.0, 0.2, 0.0])
    assert step_displacement(to_the_left, left, period)[1] == pytest.approx(0.2)  # 2 v T
    assert step_displacement(to_the_left, right, period)[1] == 0.0
    turning_right = np.array([0.0, 0.0, -0.5])
    assert step_displacement(turning_right, right, period)[2] == pytest.approx(-0.5)
    assert step_displacement(turning_right, left, period)[2] == 0.0


def walked_steps(command: tuple[float, float, float], duration: float = 6.0):
    walker = IdealWalker()
    outputs = walker.run(duration, command)
    steps = {}
    for output in outputs:
        for step in output.footsteps:
            steps[(step.side, round(step.touch_down, 6))] = step
    return [steps[key] for key in sorted(steps, key=lambda key: key[1])], outputs


@pytest.mark.parametrize("command", [(1.0, 0.0, 0.0), (-0.3, 0.0, 0.0), (0.0, 0.25, 0.0), (0.0, -0.25, 0.0),
                                     (0.0, 0.0, 0.6), (0.5, 0.1, -0.3), (4.0, 1.0, 2.0)])
def test_planned_footsteps_alternate_and_respect_the_limits(command: tuple[float, float, float]) -> None:
    steps, outputs = walked_steps(command)
    assert len(steps) >= 8
    stance = dict(outputs[0].soles)
    for previous, step in itertools.pairwise(steps):
        assert step.side != previous.side
    for step in steps:
        other = GEOMETRY.other(step.side)
        sign = GEOMETRY.side_sign[step.side]
        assert step_within_limits(stance[other], sign, step.pose, LIMITS, tolerance=1e-6), (
            step.side, step_from_stance(stance[other], sign, step.pose))
        stance[step.side] = step.pose


def test_turning_in_place_turns_the_feet_about_their_midpoint() -> None:
    _steps, outputs = walked_steps((0.0, 0.0, 0.6), duration=8.0)
    last = outputs[-1].soles
    middle = 0.5 * (last["left"][:2] + last["right"][:2])
    assert np.linalg.norm(middle) < 0.05
    yaw = math.atan2(math.sin(last["left"][2]), math.cos(last["left"][2]))
    assert abs(yaw) > 1.0  # it has turned
    assert abs(relative(last["right"], last["left"])[1]) == pytest.approx(PARAMS.step_width, abs=0.06)
