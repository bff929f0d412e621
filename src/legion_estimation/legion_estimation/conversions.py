"""Messages of the state estimator that are more than one field copy: its transforms on `tf`.

`odom_transforms_msg` builds, from an `odom` message, the two transforms REP-105 and REP-120 ask the estimator for:
`odom` -> `base_link` (the estimated base pose) and `odom` -> `base_footprint` (the base projected on the floor,
heading only). Tested from message objects, without rclpy.
"""

from __future__ import annotations

import math

import numpy as np
from nav_msgs.msg import Odometry
from tf2_msgs.msg import TFMessage

from legion_common.messages import transform_stamped_msg, xyz, xyzw
from legion_common.transforms import quaternion_from_yaw, yaw_from_quaternion

FOOTPRINT_FRAME = "base_footprint"
"""REP-120's name of the base on the floor; not a URDF link (the estimator makes it)."""


def footprint_pose(base_position: np.ndarray, base_orientation_xyzw: np.ndarray, floor_height: float = 0.0
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Pose in `odom` of `base_footprint` for a base pose in `odom`: the base's x, y at `floor_height` [m] (odom's
    floor: z = 0), rotated by the base's heading only (the yaw of its x axis projected on the floor).
    Returns position (3,) [m] and quaternion (x, y, z, w) (4,)."""
    yaw = yaw_from_quaternion(base_orientation_xyzw)
    return np.array([base_position[0], base_position[1], floor_height]), quaternion_from_yaw(yaw)


def odom_transforms_msg(odometry: Odometry, footprint_frame: str = FOOTPRINT_FRAME) -> TFMessage:
    """`tf` message with `odom` -> base (the message's `child_frame_id`) and `odom` -> `footprint_frame`, stamped like
    `odometry`. An odometry whose pose is not finite gives an empty message (nothing is better than a wrong frame)."""
    position, orientation = xyz(odometry.pose.pose.position), xyzw(odometry.pose.pose.orientation)
    if not (np.isfinite(position).all() and np.isfinite(orientation).all()) \
            or not math.isclose(float(np.linalg.norm(orientation)), 1.0, abs_tol=1e-3):
        return TFMessage()
    stamp, odom, base = odometry.header.stamp, odometry.header.frame_id, odometry.child_frame_id
    footprint_position, footprint_orientation = footprint_pose(position, orientation)
    return TFMessage(transforms=[
        transform_stamped_msg(stamp, odom, base, position, orientation),
        transform_stamped_msg(stamp, odom, footprint_frame, footprint_position, footprint_orientation),
    ])
