"""Message <-> core conversions of teleop. Pure functions over message objects (no node, no rclpy.init)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pinocchio as pin

from legion_common.messages import pose_arrays, pose_msg
from legion_common.transforms import matrix_to_quaternion, quaternion_to_matrix

BASE_FOOTPRINT = "base_footprint"
"""The frame teleop's gripper targets are sent in: they move with the robot as it walks."""


def joy_inputs(msg: Any) -> tuple[list[float], list[int]]:
    """sensor_msgs/Joy -> (axes, buttons)."""
    return [float(a) for a in msg.axes], [int(b) for b in msg.buttons]


def twist_msg(twist: tuple[float, float, float]):
    """(forward [m/s], left [m/s], yaw rate [rad/s]) -> geometry_msgs/Twist in base_link axes."""
    from geometry_msgs.msg import Twist

    msg = Twist()
    msg.linear.x, msg.linear.y, msg.angular.z = (float(v) for v in twist)
    return msg


def twist_values(msg: Any) -> tuple[float, float, float]:
    """geometry_msgs/Twist -> (forward, left, yaw rate)."""
    return float(msg.linear.x), float(msg.linear.y), float(msg.angular.z)


def posture_msg(positions: Mapping[str, float], stamp: Any):
    """Neck joint targets [rad] -> sensor_msgs/JointState for `posture/reference`."""
    from sensor_msgs.msg import JointState

    msg = JointState()
    msg.header.stamp = stamp
    msg.name = list(positions)
    msg.position = [float(v) for v in positions.values()]
    return msg


def hand_msg(action: str, stamp: Any):
    """"open" / "close" -> legion_interfaces/HandCommand (OPEN; POWER with closure 1)."""
    from legion_interfaces.msg import HandCommand

    msg = HandCommand()
    msg.header.stamp = stamp
    if action == "open":
        msg.mode, msg.closure = HandCommand.OPEN, 0.0
    else:
        msg.mode, msg.closure = HandCommand.POWER, 1.0
    return msg


def target_msg(pose: pin.SE3 | None, stamp: Any, frame_id: str = BASE_FOOTPRINT):
    """A gripper target -> geometry_msgs/PoseStamped; None -> the release message (empty frame_id)."""
    from geometry_msgs.msg import PoseStamped

    msg = PoseStamped()
    msg.header.stamp = stamp
    if pose is None:
        msg.header.frame_id = ""
        msg.pose.orientation.w = 1.0
        return msg
    msg.header.frame_id = frame_id
    msg.pose = pose_msg(pose.translation, matrix_to_quaternion(pose.rotation))
    return msg


def odom_pose(msg: Any) -> pin.SE3 | None:
    """nav_msgs/Odometry -> the base pose in odom; None if not finite."""
    position, quaternion = pose_arrays(msg.pose.pose)
    if not (np.all(np.isfinite(position)) and np.all(np.isfinite(quaternion))) or np.linalg.norm(quaternion) < 0.5:
        return None
    return pin.SE3(quaternion_to_matrix(quaternion / np.linalg.norm(quaternion)), position)


def joint_positions(msg: Any) -> dict[str, float]:
    """sensor_msgs/JointState -> name -> position, finite values only."""
    return {name: float(p) for name, p in zip(msg.name, msg.position, strict=False) if np.isfinite(p)}


def hardware_estop(msg: Any) -> bool | None:
    """The e-stop state in `hardware/status` (key `emergency_stop`), or None if the message does not carry it."""
    for status in msg.status:
        for kv in status.values:
            if kv.key == "emergency_stop":
                return kv.value.strip().lower() in ("true", "1")
    return None
