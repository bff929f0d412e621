"""Legion robot model: a humanoid's kinematics and dynamics over Pinocchio, for any robot the configuration describes.

    from legion_model import RobotModel

    robot = RobotModel.load("centurion", lock_hands=True)   # body-only model, hands locked at their standing posture
    robot.update(q, v)                                       # once per control cycle
    J = robot.frame_jacobian("l_sole")                       # (6, nv), LOCAL_WORLD_ALIGNED
    a_drift = robot.frame_drift("l_sole")                    # (6,), foot acceleration = J vdot + a_drift
"""

from legion_model.exceptions import ModelError
from legion_model.robot_model import BASE_NQ, BASE_NV, JointLimits, RobotModel
from legion_model.support_polygon import (
    SupportPolygon,
    closest_point_in_polygon,
    convex_hull_2d,
    point_in_polygon,
    sole_corners_in_world,
)

__all__ = [
    "BASE_NQ",
    "BASE_NV",
    "JointLimits",
    "ModelError",
    "RobotModel",
    "SupportPolygon",
    "closest_point_in_polygon",
    "convex_hull_2d",
    "point_in_polygon",
    "sole_corners_in_world",
]
