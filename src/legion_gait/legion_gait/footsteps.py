"""Footsteps: where each sole lands, within the robot's kinematic limits, never crossing the other foot.

A step is described from the stance sole (the one on the ground) to the landing pose of the swing sole, in the
stance sole's frame, with the lateral axis and the rotation signed by the swing side so that left and right share one
code path:

    forward = x of the swing sole in the stance sole frame                        [m]
    outward = lateral distance towards the swing side (> 0: feet apart)            [m]
    toe_out = rotation of the swing sole away from the stance sole (> 0: toe out)  [rad]

The *feet frame* is the frame between the feet: at the stance sole, moved half the nominal step width towards the
swing side. Walking moves it by a displacement (dx, dy, dyaw) per step, and the swing sole lands half the nominal
width on its side of the moved frame. Sideways and turning steps are taken by the leading foot (the one on the side of
the motion); the trailing foot closes back to the nominal width and parallel, so the feet never have to cross.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from legion_common.transforms import mean_yaw
from legion_gait.geometry import compose, pose2, relative, rotation2
from legion_gait.parameters import GaitParameters
from legion_gait.robot_geometry import RobotGeometry

OUTWARD_SEARCH_STEP = 0.005
"""[m] lateral increment when moving a landing sole outward until it clears the stance sole."""


@dataclass(frozen=True)
class Footstep:
    """One planned foot placement."""

    side: str
    """The swing side (`left` / `right`)."""
    pose: np.ndarray
    """Sole frame at touch-down in odom: (x [m], y [m], yaw [rad]).  # (3,)"""
    height: float
    """[m] z of the sole at touch-down (the floor)."""
    lift_off: float
    """[s] time the sole leaves the ground."""
    touch_down: float
    """[s] time the sole lands at `pose`."""
    velocity: np.ndarray
    """The step velocity it was planned for: (forward [m/s], left [m/s], yaw rate [rad/s]) in the feet frame; the
    next step's velocity changes from it by at most the acceleration limits.  # (3,)"""
    hurried: bool = False
    """It lands earlier than planned to recover from a push: the double support after it is the shortest."""

    def moved_to(self, pose: np.ndarray) -> Footstep:
        return replace(self, pose=np.asarray(pose, dtype=float))


@dataclass(frozen=True)
class StepLimits:
    """Kinematic limits of one step (see the module docstring for the axes)."""

    max_forward: float
    """[m]"""
    max_backward: float
    """[m] (a positive distance)"""
    nominal_width: float
    """[m]"""
    min_width: float
    """[m]"""
    max_width: float
    """[m]"""
    max_toe_out: float
    """[rad]"""
    max_toe_in: float
    """[rad]"""
    min_gap: float
    """[m] between the sole rectangles."""
    sole_length: float
    """[m]"""
    sole_width: float
    """[m]"""

    @classmethod
    def from_parameters(cls, params: GaitParameters, geometry: RobotGeometry) -> StepLimits:
        return cls(params.max_step_forward, params.max_step_backward, params.step_width, params.min_step_width,
                   params.max_step_outward, params.max_step_yaw_out, params.max_step_yaw_in, params.min_foot_gap,
                   geometry.sole_length, geometry.sole_width)


def step_from_stance(stance: np.ndarray, swing_sign: float, landing: np.ndarray) -> np.ndarray:
    """(forward [m], outward [m], toe_out [rad]) of a landing pose seen from the stance sole.  # (3,)"""
    rel = relative(stance, landing)
    return np.array([rel[0], swing_sign * rel[1], swing_sign * rel[2]])


def landing_from_step(stance: np.ndarray, swing_sign: float, step: np.ndarray) -> np.ndarray:
    """The landing pose in odom of a step (forward, outward, toe_out) from the stance sole.  # (3,)"""
    return compose(stance, pose2(step[0], swing_sign * step[1], swing_sign * step[2]))


def sole_corners(pose: np.ndarray, length: float, width: float) -> np.ndarray:
    """Corners of a sole rectangle in odom xy, counter-clockwise.  # (4, 2)"""
    half = np.array([[0.5 * length, 0.5 * width], [-0.5 * length, 0.5 * width], [-0.5 * length, -0.5 * width],
                     [0.5 * length, -0.5 * width]])
    return pose[:2] + half @ rotation2(pose[2]).T


def soles_overlap(a: np.ndarray, b: np.ndarray, length: float, width: float, gap: float = 0.0) -> bool:
    """Whether two sole rectangles (poses in odom) come closer than `gap` [m] (separating-axis test)."""
    corners_a = sole_corners(a, length + gap, width + gap)
    corners_b = sole_corners(b, length + gap, width + gap)
    for yaw in (a[2], b[2]):
        for axis in rotation2(yaw).T:  # the two edge directions of that rectangle
            pa, pb = corners_a @ axis, corners_b @ axis
            if pa.max() <= pb.min() or pb.max() <= pa.min():
                return False
    return True


def clamp_step(stance: np.ndarray, swing_sign: float, landing: np.ndarray, limits: StepLimits
               ) -> tuple[np.ndarray, bool]:
    """The landing pose moved into the limits of a step from `stance`, and whether it had to move.

    Forward, outward and toe-out are clamped to their ranges; then, if the soles would come closer than
    `min_gap`, the landing moves outward until they do not (up to the widest step).
    """
    step = step_from_stance(stance, swing_sign, landing)
    clamped = np.array([np.clip(step[0], -limits.max_backward, limits.max_forward),
                        np.clip(step[1], limits.min_width, limits.max_width),
                        np.clip(step[2], -limits.max_toe_in, limits.max_toe_out)])
    moved = not np.allclose(clamped, step, atol=1e-9)
    while clamped[1] < limits.max_width and soles_overlap(
            stance, landing_from_step(stance, swing_sign, clamped), limits.sole_length, limits.sole_width,
            limits.min_gap):
        clamped[1] = min(clamped[1] + OUTWARD_SEARCH_STEP, limits.max_width)
        moved = True
    return landing_from_step(stance, swing_sign, clamped), moved


def step_within_limits(stance: np.ndarray, swing_sign: float, landing: np.ndarray, limits: StepLimits,
                       tolerance: float = 1e-6) -> bool:
    """Whether a landing pose respects the step limits and the foot gap, seen from `stance`."""
    step = step_from_stance(stance, swing_sign, landing)
    return bool(-limits.max_backward - tolerance <= step[0] <= limits.max_forward + tolerance
                and limits.min_width - tolerance <= step[1] <= limits.max_width + tolerance
                and -limits.max_toe_in - tolerance <= step[2] <= limits.max_toe_out + tolerance
                and not soles_overlap(stance, landing, limits.sole_length, limits.sole_width,
                                      max(limits.min_gap - tolerance, 0.0)))


def feet_frame(stance: np.ndarray, swing_sign: float, width: float) -> np.ndarray:
    """The frame between the feet implied by the stance sole: half the nominal width towards the swing side.  # (3,)"""
    return compose(stance, pose2(0.0, 0.5 * swing_sign * width, 0.0))


def step_displacement(velocity: np.ndarray, swing_sign: float, period: float) -> np.ndarray:
    """Displacement (dx [m], dy [m], dyaw [rad]) of the feet frame for one step at a step velocity (forward, left,
    yaw rate): forward every step; sideways and turning twice as much by the leading foot and not at all by the
    trailing one.  # (3,)"""
    vx, vy, wz = velocity
    dy = 2.0 * vy * period if vy * swing_sign > 0.0 else 0.0
    dyaw = 2.0 * wz * period if wz * swing_sign > 0.0 else 0.0
    return np.array([vx * period, dy, dyaw])


def landing_for_displacement(stance: np.ndarray, swing_sign: float, displacement: np.ndarray,
                             width: float) -> np.ndarray:
    """Where the swing sole lands when the feet frame moves by `displacement` (see the module docstring).  # (3,)"""
    frame = compose(feet_frame(stance, swing_sign, width), displacement)
    return compose(frame, pose2(0.0, 0.5 * swing_sign * width, 0.0))


def feet_pose(soles: dict[str, np.ndarray], side_sign: dict[str, float]) -> np.ndarray:
    """The feet frame of two soles: their midpoint, with their mean heading.  # (3,)"""
    poses = list(soles.values())
    middle = 0.5 * (poses[0][:2] + poses[1][:2])
    return pose2(middle[0], middle[1], mean_yaw(poses[0][2], poses[1][2]))


def feet_together(soles: dict[str, np.ndarray], side_sign: dict[str, float], width: float,
                  position_tolerance: float = 0.01, yaw_tolerance: float = 0.02) -> bool:
    """Whether the soles stand side by side at the nominal width, parallel, within the tolerances [m, rad]."""
    sides = list(soles)
    a, b = sides
    rel = relative(soles[a], soles[b])
    expected_y = (side_sign[b] - side_sign[a]) * 0.5 * width
    return bool(abs(rel[0]) <= position_tolerance and abs(rel[1] - expected_y) <= position_tolerance
                and abs(rel[2]) <= yaw_tolerance)
