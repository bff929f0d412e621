"""Legion state estimation: the base pose and twist in `odom` from proprioception (leg odometry + IMU), on one
kinematic core (`stance_kinematics`) that the whole-body controller also propagates the base with."""

from legion_estimation.leg_odometry import BaseEstimate, EstimationError, LegOdometry, LegOdometryParameters
from legion_estimation.stance_kinematics import StanceKinematics, anchor_soles, base_pose, load_weights

__all__ = ["BaseEstimate", "EstimationError", "LegOdometry", "LegOdometryParameters", "StanceKinematics",
           "anchor_soles", "base_pose", "load_weights"]
