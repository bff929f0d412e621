"""Message <-> numpy conversions of the perception node (the only module that touches message types).

Images: colour `rgb8`, `bgr8`, `rgba8`, `bgra8` -> (H, W, 3) uint8 RGB; depth `32FC1` [m] and `16UC1` [mm] ->
(H, W) float32 [m] with NaN where unknown (0 in a 16UC1 image means no return). Anything else raises EncodingError,
as do sizes, steps and data lengths that do not agree.
"""

from __future__ import annotations

import array
import math
from collections.abc import Iterable, Sequence

import numpy as np
from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from geometry_msgs.msg import Pose, PoseArray
from nav_msgs.msg import OccupancyGrid as OccupancyGridMsg
from nav_msgs.msg import Odometry
from sensor_msgs.msg import CameraInfo, Image, JointState

from legion_interfaces.msg import DetectedObject, DetectedObjectArray
from legion_perception.errors import EncodingError, InputError
from legion_perception.geometry import CameraIntrinsics, pose_to_matrix, yaw_quaternion
from legion_perception.obstacles import OccupancyGrid
from legion_perception.people import Person
from legion_perception.tracking import PartTrack

COLOUR_ENCODINGS = {"rgb8": (3, (0, 1, 2)), "bgr8": (3, (2, 1, 0)), "rgba8": (4, (0, 1, 2)), "bgra8": (4, (2, 1, 0))}
"""Colour encoding -> (channels, indices of R, G, B)."""
DEPTH_ENCODINGS = ("32FC1", "16UC1")


def time_msg(seconds: float) -> Time:
    """Seconds -> builtin_interfaces/Time."""
    nanoseconds = round(seconds * 1e9)
    return Time(sec=nanoseconds // 1_000_000_000, nanosec=nanoseconds % 1_000_000_000)


def stamp_seconds(stamp: Time) -> float:
    """builtin_interfaces/Time -> seconds."""
    return stamp.sec + stamp.nanosec * 1e-9


def _image_bytes(msg: Image, bytes_per_pixel: int) -> np.ndarray:
    """The image's rows as a (height, width * bytes_per_pixel) uint8 array, checked against step and data length."""
    height, width, step = int(msg.height), int(msg.width), int(msg.step)
    if height <= 0 or width <= 0:
        raise EncodingError(f"image '{msg.encoding}' has an empty size {width}x{height}")
    row = width * bytes_per_pixel
    if step < row:
        raise EncodingError(f"image '{msg.encoding}' {width}x{height}: step {step} is shorter than a row ({row} bytes)")
    data = np.frombuffer(bytes(msg.data) if not isinstance(msg.data, (bytes, array.array)) else msg.data,
                         dtype=np.uint8)
    if data.size < step * height:
        raise EncodingError(f"image '{msg.encoding}' {width}x{height}: {data.size} bytes of data, "
                            f"expected {step * height}")
    return data[:step * height].reshape(height, step)[:, :row]


def image_to_rgb(msg: Image) -> np.ndarray:
    """A colour Image -> RGB pixels.  # (H, W, 3) uint8

    Raises:
        EncodingError: not a colour encoding this reads, or inconsistent size / step / data.
    """
    if msg.encoding not in COLOUR_ENCODINGS:
        raise EncodingError(f"colour image encoding '{msg.encoding}' is not supported; expected one of "
                            f"{', '.join(COLOUR_ENCODINGS)}")
    channels, order = COLOUR_ENCODINGS[msg.encoding]
    pixels = _image_bytes(msg, channels).reshape(int(msg.height), int(msg.width), channels)
    if order == (0, 1, 2) and channels == 3:
        return np.ascontiguousarray(pixels)
    return np.ascontiguousarray(pixels[..., list(order)])


def image_to_depth(msg: Image) -> np.ndarray:
    """A depth Image -> z-depth [m], NaN where unknown.  # (H, W) float32

    Raises:
        EncodingError: not `32FC1` or `16UC1`, or inconsistent size / step / data.
    """
    if msg.encoding == "32FC1":
        rows = _image_bytes(msg, 4)
        depth = rows.copy().view(">f4" if msg.is_bigendian else "<f4").astype(np.float32)
    elif msg.encoding == "16UC1":
        rows = _image_bytes(msg, 2)
        millimetres = rows.copy().view(">u2" if msg.is_bigendian else "<u2")
        depth = millimetres.astype(np.float32) * 1e-3
        depth[millimetres == 0] = np.nan
    else:
        raise EncodingError(f"depth image encoding '{msg.encoding}' is not supported; expected one of "
                            f"{', '.join(DEPTH_ENCODINGS)}")
    return depth.reshape(int(msg.height), int(msg.width))


def rgb_to_image(rgb: np.ndarray, stamp: Time, frame_id: str) -> Image:
    """(H, W, 3) uint8 RGB -> sensor_msgs/Image rgb8."""
    height, width, _ = rgb.shape
    msg = Image(height=height, width=width, encoding="rgb8", is_bigendian=0, step=width * 3)
    msg.header.stamp = stamp
    msg.header.frame_id = frame_id
    msg.data = np.ascontiguousarray(rgb, dtype=np.uint8).tobytes()
    return msg


def depth_to_image(depth: np.ndarray, stamp: Time, frame_id: str) -> Image:
    """(H, W) float32 [m] -> sensor_msgs/Image 32FC1 (for tests and tools)."""
    height, width = depth.shape
    msg = Image(height=height, width=width, encoding="32FC1", is_bigendian=0, step=width * 4)
    msg.header.stamp = stamp
    msg.header.frame_id = frame_id
    msg.data = np.ascontiguousarray(depth, dtype="<f4").tobytes()
    return msg


def camera_info_to_intrinsics(msg: CameraInfo) -> CameraIntrinsics:
    """CameraInfo -> pinhole intrinsics from K (distortion is ignored: the head camera is rectified).

    Raises:
        InputError: K is not calibrated (zeros) or not finite, or the size is empty.
    """
    k = list(msg.k)
    if len(k) != 9:
        raise InputError(f"camera_info K has {len(k)} values, expected 9")
    return CameraIntrinsics(fx=float(k[0]), fy=float(k[4]), cx=float(k[2]), cy=float(k[5]), width=int(msg.width),
                            height=int(msg.height)).checked()


def intrinsics_to_camera_info(camera: CameraIntrinsics, stamp: Time, frame_id: str) -> CameraInfo:
    """Pinhole intrinsics -> CameraInfo (plumb_bob, no distortion)."""
    msg = CameraInfo(width=camera.width, height=camera.height, distortion_model="plumb_bob")
    msg.header.stamp = stamp
    msg.header.frame_id = frame_id
    msg.d = [0.0] * 5
    msg.k = [camera.fx, 0.0, camera.cx, 0.0, camera.fy, camera.cy, 0.0, 0.0, 1.0]
    msg.r = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    msg.p = [camera.fx, 0.0, camera.cx, 0.0, 0.0, camera.fy, camera.cy, 0.0, 0.0, 0.0, 1.0, 0.0]
    return msg


def odometry_to_matrix(msg: Odometry) -> np.ndarray:
    """Odometry pose (child frame in the header frame) -> homogeneous transform.  # (4, 4)

    Raises:
        InputError: a non-finite position or an invalid quaternion.
    """
    p, q = msg.pose.pose.position, msg.pose.pose.orientation
    return pose_to_matrix(np.array([p.x, p.y, p.z]), np.array([q.x, q.y, q.z, q.w]))


def joint_positions(msg: JointState) -> dict[str, float]:
    """JointState -> joint name -> position [rad].

    Raises:
        InputError: names and positions differ in length.
    """
    if len(msg.name) != len(msg.position):
        raise InputError(f"joint_states has {len(msg.name)} names but {len(msg.position)} positions")
    return dict(zip(msg.name, (float(p) for p in msg.position), strict=True))


def _pose(position: Sequence[float], quaternion_xyzw: Sequence[float]) -> Pose:
    pose = Pose()
    pose.position.x, pose.position.y, pose.position.z = (float(v) for v in position)
    pose.orientation.x, pose.orientation.y, pose.orientation.z, pose.orientation.w = (float(v) for v in quaternion_xyzw)
    return pose


def objects_msg(tracks: Iterable[PartTrack], stamp: Time, frame_id: str) -> DetectedObjectArray:
    """Confirmed part tracks -> DetectedObjectArray (pose = centre and yaw in `frame_id`, size [m])."""
    msg = DetectedObjectArray()
    msg.header.stamp = stamp
    msg.header.frame_id = frame_id
    for track in tracks:
        item = DetectedObject(id=track.id, label=track.label, pose=_pose(track.position, yaw_quaternion(track.yaw)),
                              confidence=float(track.confidence))
        item.size.x, item.size.y, item.size.z = (float(v) for v in track.size)
        msg.objects.append(item)
    return msg


def objects_from_msg(msg: DetectedObjectArray) -> list[tuple[str, str, np.ndarray, float, np.ndarray]]:
    """DetectedObjectArray -> [(id, label, position (3,), yaw [rad], size (3,))] (for tests, tools, the bench)."""
    out = []
    for item in msg.objects:
        p, q = item.pose.position, item.pose.orientation
        yaw = math.atan2(2.0 * (q.w * q.z + q.x * q.y), 1.0 - 2.0 * (q.y * q.y + q.z * q.z))
        out.append((item.id, item.label, np.array([p.x, p.y, p.z]), yaw,
                    np.array([item.size.x, item.size.y, item.size.z])))
    return out


def occupancy_grid_msg(grid: OccupancyGrid, stamp: Time, frame_id: str) -> OccupancyGridMsg:
    """Core grid -> nav_msgs/OccupancyGrid (row-major from the origin corner, rows along y)."""
    msg = OccupancyGridMsg()
    msg.header.stamp = stamp
    msg.header.frame_id = frame_id
    msg.info.map_load_time = stamp
    msg.info.resolution = float(grid.resolution)
    msg.info.height, msg.info.width = (int(n) for n in grid.data.shape)
    msg.info.origin = _pose((grid.origin[0], grid.origin[1], 0.0), (0.0, 0.0, 0.0, 1.0))
    msg.data = array.array("b", np.ascontiguousarray(grid.data, dtype=np.int8).tobytes())
    return msg


def occupancy_grid_from_msg(msg: OccupancyGridMsg) -> OccupancyGrid:
    """nav_msgs/OccupancyGrid (axis-aligned origin) -> core grid."""
    data = np.asarray(msg.data, dtype=np.int8).reshape(msg.info.height, msg.info.width)
    return OccupancyGrid(origin=(msg.info.origin.position.x, msg.info.origin.position.y),
                         resolution=msg.info.resolution, data=data)


def people_msg(people: Iterable[Person], stamp: Time, frame_id: str) -> PoseArray:
    """People -> PoseArray: one pose per person at the face centre in `frame_id`, identity orientation."""
    msg = PoseArray()
    msg.header.stamp = stamp
    msg.header.frame_id = frame_id
    msg.poses = [_pose(person.position, (0.0, 0.0, 0.0, 1.0)) for person in people]
    return msg


def diagnostics_msg(stamp: Time, name: str, level: int | bytes, message: str,
                    values: dict[str, object]) -> DiagnosticArray:
    """One DiagnosticStatus; level is DiagnosticStatus.OK / WARN / ERROR / STALE (bytes) or 0..3."""
    level = level if isinstance(level, bytes) else bytes([level])
    status = DiagnosticStatus(level=level, name=name, hardware_id=name, message=message,
                              values=[KeyValue(key=k, value=str(v)) for k, v in values.items()])
    msg = DiagnosticArray(status=[status])
    msg.header.stamp = stamp
    return msg
