"""Message <-> numpy conversions of the simulated hardware's ROS interface (the only place that does them)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from geometry_msgs.msg import Pose, Vector3, WrenchStamped
from nav_msgs.msg import Odometry
from sensor_msgs.msg import CameraInfo, Image, Imu, JointState

from legion_interfaces.msg import DetectedObject, DetectedObjectArray, JointCommand


def time_msg(seconds: float) -> Time:
    """Simulation time [s] -> builtin_interfaces/Time (nanosecond-exact for the simulator's step grid)."""
    nanoseconds = round(seconds * 1e9)
    return Time(sec=nanoseconds // 1_000_000_000, nanosec=nanoseconds % 1_000_000_000)


def time_seconds(stamp: Time) -> float:
    return stamp.sec + stamp.nanosec * 1e-9


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


def _vector3(values: np.ndarray) -> Vector3:
    return Vector3(x=float(values[0]), y=float(values[1]), z=float(values[2]))


def pose_msg(position: np.ndarray, quaternion_xyzw: np.ndarray) -> Pose:
    pose = Pose()
    pose.position.x, pose.position.y, pose.position.z = (float(v) for v in position)
    (pose.orientation.x, pose.orientation.y, pose.orientation.z, pose.orientation.w) = (
        float(v) for v in quaternion_xyzw)
    return pose


def imu_msg(stamp: Time, frame_id: str, orientation_xyzw: np.ndarray, angular_velocity: np.ndarray,
            linear_acceleration: np.ndarray) -> Imu:
    msg = Imu()
    msg.header.stamp = stamp
    msg.header.frame_id = frame_id
    (msg.orientation.x, msg.orientation.y, msg.orientation.z, msg.orientation.w) = (
        float(v) for v in orientation_xyzw)
    msg.angular_velocity = _vector3(angular_velocity)
    msg.linear_acceleration = _vector3(linear_acceleration)
    return msg


def wrench_msg(stamp: Time, frame_id: str, force: np.ndarray, torque: np.ndarray) -> WrenchStamped:
    msg = WrenchStamped()
    msg.header.stamp = stamp
    msg.header.frame_id = frame_id
    msg.wrench.force = _vector3(force)
    msg.wrench.torque = _vector3(torque)
    return msg


def odometry_msg(stamp: Time, frame_id: str, child_frame_id: str, position: np.ndarray, orientation_xyzw: np.ndarray,
                 linear_velocity: np.ndarray, angular_velocity: np.ndarray) -> Odometry:
    """Odometry; twist in the child frame as REP-105 / nav_msgs say."""
    msg = Odometry()
    msg.header.stamp = stamp
    msg.header.frame_id = frame_id
    msg.child_frame_id = child_frame_id
    msg.pose.pose = pose_msg(position, orientation_xyzw)
    msg.twist.twist.linear = _vector3(linear_velocity)
    msg.twist.twist.angular = _vector3(angular_velocity)
    return msg


def rgb_image_msg(stamp: Time, frame_id: str, rgb: np.ndarray) -> Image:
    """(H, W, 3) uint8 -> sensor_msgs/Image rgb8."""
    height, width, _ = rgb.shape
    msg = Image(height=height, width=width, encoding="rgb8", is_bigendian=0, step=width * 3)
    msg.header.stamp = stamp
    msg.header.frame_id = frame_id
    msg.data = np.ascontiguousarray(rgb, dtype=np.uint8).tobytes()
    return msg


def depth_image_msg(stamp: Time, frame_id: str, depth: np.ndarray) -> Image:
    """(H, W) float32 metres -> sensor_msgs/Image 32FC1."""
    height, width = depth.shape
    msg = Image(height=height, width=width, encoding="32FC1", is_bigendian=0, step=width * 4)
    msg.header.stamp = stamp
    msg.header.frame_id = frame_id
    msg.data = np.ascontiguousarray(depth, dtype="<f4").tobytes()
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
                                          size=_vector3(size), confidence=1.0))
    return msg


def diagnostics_msg(stamp: Time, name: str, hardware_id: str, level: bytes, message: str,
                    values: dict[str, object]) -> DiagnosticArray:
    """One DiagnosticStatus; level is DiagnosticStatus.OK/WARN/ERROR/STALE (bytes)."""
    status = DiagnosticStatus(level=level, name=name, hardware_id=hardware_id, message=message,
                              values=[KeyValue(key=k, value=str(v)) for k, v in values.items()])
    msg = DiagnosticArray(status=[status])
    msg.header.stamp = stamp
    return msg
