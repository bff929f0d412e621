"""What the gait planner needs to know about the robot's body, read from its model once."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from legion_common.transforms import mean_yaw, yaw_from_matrix
from legion_description.robot_config import SIDES
from legion_gait.errors import GaitError
from legion_gait.geometry import pose2, relative


@dataclass(frozen=True)
class RobotGeometry:
    """Sole size, which side is which, where the base sits over the feet when standing, and the sizes walking
    dimensions are derived from. The defaults describe an adult-size humanoid, for tests of the planner alone;
    `from_model` reads a robot's."""

    sole_length: float = 0.22
    """[m] sole rectangle along the sole x axis (centred on the sole frame origin)."""
    sole_width: float = 0.10
    """[m] sole rectangle along the sole y axis."""
    side_sign: dict[str, float] = field(default_factory=lambda: {"left": 1.0, "right": -1.0})
    """side -> +1 for the side on the robot's +y (left), -1 for the other."""
    base_in_feet_frame: np.ndarray = field(default_factory=lambda: np.zeros(3))
    """Base (base_link projected on the floor) seen from the feet frame (midpoint of the soles, their mean heading)
    in the standing posture: (x [m], y [m], yaw [rad]).  # (3,)"""
    standing_com_height: float = 0.95
    """[m] CoM height above the soles in the standing posture."""
    hip_width: float = 0.20
    """[m] lateral distance between the legs' first joints."""
    leg_length: float = 0.945
    """[m] height of a leg's first joint above its sole with the leg straight (every joint at zero)."""
    walking: dict[str, float] = field(default_factory=dict)
    """Walking dimensions [m] the robot file sets (`walking:`); `legion_gait.dimensions` derives the others."""
    footprint: tuple[float, float, float] = (0.22, 0.12, 0.32)
    """The robot's outline on the floor in its standing posture, a rectangle in base_footprint: (front, back,
    half_width) [m] (`walking.footprint` of the robot file, else `derived_footprint`)."""

    @property
    def sides(self) -> tuple[str, ...]:
        return tuple(self.side_sign)

    def other(self, side: str) -> str:
        """The other side."""
        first, second = self.side_sign
        if side == first:
            return second
        if side == second:
            return first
        raise GaitError(f"unknown side '{side}': expected one of {self.sides}")

    @classmethod
    def from_model(cls, model) -> RobotGeometry:
        """From a `legion_model.RobotModel`: its configuration's sole size and its standing posture.

        Raises:
            GaitError: the standing posture does not put one sole on each side of the base.
        """
        config = model.config
        q = model.standing_configuration()
        model.update(q)
        soles = {side: model.transform_sole_to_world(side) for side in SIDES}
        yaws = {side: yaw_from_matrix(soles[side].rotation) for side in SIDES}
        middle = 0.5 * (soles[SIDES[0]].translation + soles[SIDES[1]].translation)
        feet = pose2(middle[0], middle[1], mean_yaw(yaws[SIDES[0]], yaws[SIDES[1]]))
        side_sign = {side: float(np.sign(relative(feet, pose2(*soles[side].translation[:2], 0.0))[1]))
                     for side in SIDES}
        if sorted(side_sign.values()) != [-1.0, 1.0]:
            raise GaitError(f"robot '{config.name}': the standing posture does not put one sole on each side")
        base = model.transform_base_to_world()
        base_pose = pose2(base.translation[0], base.translation[1], yaw_from_matrix(base.rotation))
        com = model.com_position()
        standing_com_height = float(com[2] - middle[2])
        model.update(model.neutral_configuration())
        hips = {side: model.data.oMi[model.model.getJointId(config.joints("legs", side)[0])].translation.copy()
                for side in SIDES}
        sole_heights = {side: model.transform_sole_to_world(side).translation[2] for side in SIDES}
        hip_width = float(np.linalg.norm((hips[SIDES[0]] - hips[SIDES[1]])[:2]))
        leg_length = float(np.mean([hips[side][2] - sole_heights[side] for side in SIDES]))
        if hip_width <= 0.0 or leg_length <= 0.0:
            raise GaitError(f"robot '{config.name}': the legs' first joints are not apart and above the soles "
                            f"(hip distance {hip_width:.3f} m, leg length {leg_length:.3f} m)")
        if config.footprint:
            footprint = tuple(float(config.footprint[key]) for key in ("front", "back", "half_width"))
        else:
            model.update(q)
            frames = [base.actInv(placement).translation for placement in model.data.oMf]
            footprint = derived_footprint(np.array(frames), config.sole_length, config.sole_width)
            model.update(model.neutral_configuration())
        return cls(sole_length=config.sole_length, sole_width=config.sole_width, side_sign=side_sign,
                   base_in_feet_frame=relative(feet, base_pose), standing_com_height=standing_com_height,
                   hip_width=hip_width, leg_length=leg_length, walking=dict(config.walking), footprint=footprint)


def derived_footprint(frames_in_base: np.ndarray, sole_length: float, sole_width: float
                      ) -> tuple[float, float, float]:
    """(front, back, half_width) [m] of a robot whose file gives no `walking.footprint`: the box around every frame
    origin of the standing robot in base axes (frames_in_base, (n, 3)) and around the soles, grown by half a sole width
    for the links' volume the frame origins leave out."""
    pad = 0.5 * sole_width
    x, y = frames_in_base[:, 0], frames_in_base[:, 1]
    front = max(float(np.max(x)), 0.5 * sole_length) + pad
    back = max(float(-np.min(x)), 0.5 * sole_length) + pad
    half_width = float(np.max(np.abs(y))) + pad
    return front, back, half_width
