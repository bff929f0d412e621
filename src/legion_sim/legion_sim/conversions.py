"""Message <-> numpy conversions of the simulated hardware's ROS interface (the only place that does them).

Stamps, poses, vectors, images and diagnostics are built with `legion_common` (stamps, messages, diagnostics).

The control-rate state (`clock`, `joint_states`, `imu/data`, foot wrenches: 500 messages each per simulated second) is
published pre-serialized (`legion_common.serialized.SerializedState`): each message type's CDR bytes are laid out
once, from the message the functions below build, and each publish writes only the stamp and the numbers into them;
the bytes are exactly those `rclpy.serialization.serialize_message` gives for the same message (unit-tested).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from builtin_interfaces.msg import Time
from geometry_msgs.msg import PoseArray, WrenchStamped
from nav_msgs.msg import Odometry
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import CameraInfo, Imu, JointState

from legion_common.messages import pose_msg, quaternion_msg, vector3_msg
from legion_common.serialized import SerializedState, header_stamp, set_array, set_quaternion, set_vector
from legion_common.transforms import quaternion_from_yaw
from legion_interfaces.msg import DetectedObject, DetectedObjectArray, JointCommand


def joint_command_arrays(msg: JointCommand) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                                    np.ndarray]:
    """JointCommand -> (names, position, velocity, effort, stiffness, damping); lengths are checked by the hardware."""
    return (list(msg.name), np.asarray(msg.position, dtype=float), np.asarray(msg.velocity, dtype=float),
            np.asarray(msg.effort, dtype=float), np.asarray(msg.stiffness, dtype=float),
            np.asarray(msg.damping, dtype=float))


def joint_state_msg(stamp: Time, names: Sequence[str], position: np.ndarray, velocity: np.ndarray,
                    effort: np.ndarray) -> JointState:
    msg = JointState()
    msg.header.stamp = stamp
    msg.name = list(names)
    msg.position = position.tolist()
    msg.velocity = velocity.tolist()
    msg.effort = effort.tolist()
    return msg


def imu_msg(stamp: Time, frame_id: str, orientation_xyzw: np.ndarray, angular_velocity: np.ndarray,
            linear_acceleration: np.ndarray) -> Imu:
    msg = Imu()
    msg.header.stamp = stamp
    msg.header.frame_id = frame_id
    msg.orientation = quaternion_msg(orientation_xyzw)
    msg.angular_velocity = vector3_msg(angular_velocity)
    msg.linear_acceleration = vector3_msg(linear_acceleration)
    return msg


def wrench_msg(stamp: Time, frame_id: str, force: np.ndarray, torque: np.ndarray) -> WrenchStamped:
    msg = WrenchStamped()
    msg.header.stamp = stamp
    msg.header.frame_id = frame_id
    msg.wrench.force = vector3_msg(force)
    msg.wrench.torque = vector3_msg(torque)
    return msg


def odometry_msg(stamp: Time, frame_id: str, child_frame_id: str, position: np.ndarray, orientation_xyzw: np.ndarray,
                 linear_velocity: np.ndarray, angular_velocity: np.ndarray) -> Odometry:
    """Odometry; twist in the child frame as REP-105 / nav_msgs say."""
    msg = Odometry()
    msg.header.stamp = stamp
    msg.header.frame_id = frame_id
    msg.child_frame_id = child_frame_id
    msg.pose.pose = pose_msg(position, orientation_xyzw)
    msg.twist.twist.linear = vector3_msg(linear_velocity)
    msg.twist.twist.angular = vector3_msg(angular_velocity)
    return msg


def camera_info_msg(stamp: Time, frame_id: str, width: int, height: int, fx: float, fy: float, cx: float,
                    cy: float) -> CameraInfo:
    """Pinhole camera with no distortion (plumb_bob, zero coefficients)."""
    msg = CameraInfo(width=width, height=height, distortion_model="plumb_bob")
    msg.header.stamp = stamp
    msg.header.frame_id = frame_id
    msg.d = [0.0] * 5
    msg.k = [fx, 0.0, cx, 0.0, fy, cy, 0.0, 0.0, 1.0]
    msg.r = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    msg.p = [fx, 0.0, cx, 0.0, 0.0, fy, cy, 0.0, 0.0, 0.0, 1.0, 0.0]
    return msg


def objects_msg(stamp: Time, frame_id: str, objects: Sequence[tuple[str, str, np.ndarray, np.ndarray, np.ndarray]]
                ) -> DetectedObjectArray:
    """[(id, label, position, quaternion_xyzw, size)] -> DetectedObjectArray (confidence 1: ground truth)."""
    msg = DetectedObjectArray()
    msg.header.stamp = stamp
    msg.header.frame_id = frame_id
    for object_id, label, position, quaternion, size in objects:
        msg.objects.append(DetectedObject(id=object_id, label=label, pose=pose_msg(position, quaternion),
                                          size=vector3_msg(size), confidence=1.0))
    return msg


def people_msg(stamp: Time, frame_id: str, people: Sequence[tuple[str, np.ndarray, float]]) -> PoseArray:
    """[(id, footprint centre (x, y, 0), yaw)] -> PoseArray (ground_truth/people: scene order, floor level, facing
    yaw)."""
    msg = PoseArray()
    msg.header.stamp = stamp
    msg.header.frame_id = frame_id
    msg.poses = [pose_msg(position, quaternion_from_yaw(yaw)) for _, position, yaw in people]
    return msg


def serialized_clock() -> SerializedState:
    """`clock`: serialize(sec, nanosec)."""
    def stamp(message: Any, sec: int, nanosec: int) -> None:
        message.clock.sec, message.clock.nanosec = sec, nanosec
    return SerializedState(Clock(), stamp)


def serialized_joint_state(names: Sequence[str]) -> SerializedState:
    """`joint_states` as `joint_state_msg` builds it: serialize(sec, nanosec, position, velocity, effort)."""
    message = JointState()
    message.name = list(names)
    n = len(names)
    return SerializedState(message, header_stamp, [(n, set_array("position")), (n, set_array("velocity")),
                                                    (n, set_array("effort"))])


def serialized_imu(frame_id: str) -> SerializedState:
    """`imu/data` as `imu_msg` builds it: serialize(sec, nanosec, orientation_xyzw, angular_velocity,
    linear_acceleration)."""
    message = Imu()
    message.header.frame_id = frame_id
    return SerializedState(message, header_stamp, [(4, set_quaternion(lambda m: m.orientation)),
                                                    (3, set_vector(lambda m: m.angular_velocity)),
                                                    (3, set_vector(lambda m: m.linear_acceleration))])


def serialized_wrench(frame_id: str) -> SerializedState:
    """A foot wrench as `wrench_msg` builds it: serialize(sec, nanosec, force, torque)."""
    message = WrenchStamped()
    message.header.frame_id = frame_id
    return SerializedState(message, header_stamp, [(3, set_vector(lambda m: m.wrench.force)),
                                                    (3, set_vector(lambda m: m.wrench.torque))])
