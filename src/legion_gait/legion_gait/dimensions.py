"""The robot's walking dimensions: CoM height, step width, step and swing limits, in metres.

Each of `parameters.ROBOT_DIMENSIONS` comes, in this order, from the planner's own parameter (when set, non-zero),
from the robot file's `walking:` block, or from the robot's size times the planner's `dimensions` ratio (standing CoM
height, hip distance, leg length, sole size: `RobotGeometry`). Speed limits a smaller robot's steps cannot reach are
lowered to what its longest steps allow, so that the same shared configuration serves every robot.
"""

from __future__ import annotations

import dataclasses

from legion_common.parameters import from_flat, to_flat
from legion_gait.parameters import ROBOT_DIMENSIONS, GaitParameters
from legion_gait.robot_geometry import RobotGeometry


def derived_dimensions(params: GaitParameters, geometry: RobotGeometry) -> dict[str, float]:
    """Every robot dimension [m] from the robot's size and `params.dimensions` (ignoring what is set elsewhere)."""
    ratio = params.dimensions
    step_width = ratio.step_width * geometry.hip_width
    return {
        "com_height": ratio.com_height * geometry.standing_com_height,
        "step_width": step_width,
        "min_step_width": ratio.min_step_width * step_width,
        "max_step_outward": ratio.max_step_outward * step_width,
        "max_step_forward": ratio.max_step_forward * geometry.leg_length,
        "max_step_backward": ratio.max_step_backward * geometry.leg_length,
        "step_height": ratio.step_height * geometry.leg_length,
        "min_foot_gap": ratio.min_foot_gap * geometry.sole_width,
        "zmp_heel_to_toe": ratio.zmp_heel_to_toe * geometry.sole_length,
    }


def resolve(params: GaitParameters, geometry: RobotGeometry) -> GaitParameters:
    """`params` with every robot dimension in metres, and speed limits within the robot's step limits.

    Raises:
        legion_common.parameters.ParameterError: the resulting parameters are inconsistent (the message says which).
    """
    derived = derived_dimensions(params, geometry)
    values = {}
    for name in ROBOT_DIMENSIONS:
        set_here = getattr(params, name)
        values[name] = set_here if set_here != 0.0 else geometry.walking.get(name, derived[name])
    # the speed limits the shared configuration sets, lowered to what this robot's steps can reach
    period = params.step_duration
    values["max_forward_speed"] = min(params.max_forward_speed, values["max_step_forward"] / period)
    values["max_backward_speed"] = min(params.max_backward_speed, values["max_step_backward"] / period)
    values["max_lateral_speed"] = min(params.max_lateral_speed,
                                      (values["max_step_outward"] - values["step_width"]) / (2.0 * period))
    values["goal_speed"] = min(params.goal_speed, values["max_forward_speed"])
    return from_flat(GaitParameters, to_flat(dataclasses.replace(params, **values)))
