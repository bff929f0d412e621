"""Legion state estimation: the base pose and twist in `odom` from proprioception (leg odometry + IMU)."""

from legion_estimation.leg_odometry import BaseEstimate, EstimationError, LegOdometry, LegOdometryParameters

__all__ = ["BaseEstimate", "EstimationError", "LegOdometry", "LegOdometryParameters"]
