"""geometry_msgs and sensor_msgs builders and readers shared by the nodes: vectors, quaternions, poses, images.

Images: `rgb_image_msg` / `depth_image_msg` build rgb8 / 32FC1 images; `image_to_rgb` / `image_to_depth` read the
encodings a camera driver sends (rgb8, bgr8, rgba8, bgra8; 32FC1 in metres, 16UC1 in millimetres) with every size
checked.
"""

from __future__ import annotations

import array
from collections.abc import Sequence
from typing import Any

import numpy as np

COLOUR_ENCODINGS: dict[str, tuple[int, tuple[int, ...]]] = {
    "rgb8": (3, (0, 1, 2)), "bgr8": (3, (2, 1, 0)), "rgba8": (4, (0, 1, 2)), "bgra8": (4, (2, 1, 0)),
}
"""Colour encodings read: channels per pixel and the indices of R, G, B."""
DEPTH_ENCODINGS = ("32FC1", "16UC1")


class EncodingError(ValueError):
    """An image whose encoding is not supported or whose size, step and data do not agree."""


def xyz(vector: Any) -> np.ndarray:
    """geometry_msgs Vector3 / Point -> (3,) array."""
    return np.array([vector.x, vector.y, vector.z], dtype=float)


def xyzw(quaternion: Any) -> np.ndarray:
    """geometry_msgs Quaternion -> (4,) array (x, y, z, w)."""
    return np.array([quaternion.x, quaternion.y, quaternion.z, quaternion.w], dtype=float)


def vector3_msg(values: Sequence[float] | np.ndarray):
    from geometry_msgs.msg import Vector3

    return Vector3(x=float(values[0]), y=float(values[1]), z=float(values[2]))


def point_msg(values: Sequence[float] | np.ndarray):
    from geometry_msgs.msg import Point

    return Point(x=float(values[0]), y=float(values[1]), z=float(values[2]))


def quaternion_msg(quaternion_xyzw: Sequence[float] | np.ndarray):
    from geometry_msgs.msg import Quaternion

    x, y, z, w = (float(v) for v in quaternion_xyzw)
    return Quaternion(x=x, y=y, z=z, w=w)


def pose_msg(position: Sequence[float] | np.ndarray, quaternion_xyzw: Sequence[float] | np.ndarray):
    """Position [m] and quaternion (x, y, z, w) -> geometry_msgs/Pose."""
    from geometry_msgs.msg import Pose

    return Pose(position=point_msg(position), orientation=quaternion_msg(quaternion_xyzw))


def pose_arrays(pose: Any) -> tuple[np.ndarray, np.ndarray]:
    """geometry_msgs/Pose -> (position (3,), quaternion xyzw (4,))."""
    return xyz(pose.position), xyzw(pose.orientation)


def rgb_image_msg(rgb: np.ndarray, stamp: Any, frame_id: str):
    """(H, W, 3) uint8 RGB -> sensor_msgs/Image rgb8."""
    from sensor_msgs.msg import Image

    height, width, _ = rgb.shape
    msg = Image(height=height, width=width, encoding="rgb8", is_bigendian=0, step=width * 3)
    msg.header.stamp = stamp
    msg.header.frame_id = frame_id
    msg.data = np.ascontiguousarray(rgb, dtype=np.uint8).tobytes()
    return msg


def depth_image_msg(depth: np.ndarray, stamp: Any, frame_id: str):
    """(H, W) float32 z-depth [m] (NaN where unknown) -> sensor_msgs/Image 32FC1."""
    from sensor_msgs.msg import Image

    height, width = depth.shape
    msg = Image(height=height, width=width, encoding="32FC1", is_bigendian=0, step=width * 4)
    msg.header.stamp = stamp
    msg.header.frame_id = frame_id
    msg.data = np.ascontiguousarray(depth, dtype="<f4").tobytes()
    return msg


def _image_bytes(msg: Any, bytes_per_pixel: int) -> np.ndarray:
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


def image_to_rgb(msg: Any) -> np.ndarray:
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


def image_to_depth(msg: Any) -> np.ndarray:
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


def transform_stamped_msg(stamp: Any, parent_frame: str, child_frame: str, position: Sequence[float] | np.ndarray,
                          quaternion_xyzw: Sequence[float] | np.ndarray):
    """geometry_msgs/TransformStamped of `child_frame` in `parent_frame` (the pose of the child in the parent: the
    TF convention), position [m] and quaternion (x, y, z, w)."""
    from geometry_msgs.msg import Transform, TransformStamped

    msg = TransformStamped(child_frame_id=child_frame,
                           transform=Transform(translation=vector3_msg(position),
                                               rotation=quaternion_msg(quaternion_xyzw)))
    msg.header.stamp = stamp
    msg.header.frame_id = parent_frame
    return msg
