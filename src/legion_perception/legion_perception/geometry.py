"""Pinhole camera geometry and rigid transforms (numpy only).

Camera optical frame (REP-103 optical convention): z forward along the optical axis, x right, y down in the image.
Pixel (u, v): column u to the right, row v down; pixel centres at integer coordinates. Depth is z-depth [m] (the
distance along the optical axis, as a depth camera and MuJoCo's depth buffer give it), not the ray length.
Transforms are (4, 4) homogeneous matrices named `<source>_to_<target>`: `camera_to_odom @ p_camera = p_odom`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from legion_perception.errors import InputError


@dataclass(frozen=True)
class CameraIntrinsics:
    """A pinhole camera without distortion (what the head camera's CameraInfo describes)."""

    fx: float
    """Focal length along u [px]."""
    fy: float
    """Focal length along v [px]."""
    cx: float
    """Principal point u [px]."""
    cy: float
    """Principal point v [px]."""
    width: int
    """Image width [px]."""
    height: int
    """Image height [px]."""

    def checked(self) -> CameraIntrinsics:
        """Self, or InputError if a value is non-finite or non-positive where it must be positive."""
        values = (self.fx, self.fy, self.cx, self.cy)
        if not all(math.isfinite(v) for v in values) or self.fx <= 0 or self.fy <= 0:
            raise InputError(f"camera intrinsics are invalid: fx={self.fx}, fy={self.fy}, cx={self.cx}, cy={self.cy}")
        if self.width <= 0 or self.height <= 0:
            raise InputError(f"camera size is invalid: {self.width}x{self.height}")
        return self

    def scaled(self, factor: float) -> CameraIntrinsics:
        """The intrinsics of the image resized by `factor` (pixel centres kept consistent)."""
        return CameraIntrinsics(self.fx * factor, self.fy * factor, (self.cx + 0.5) * factor - 0.5,
                                (self.cy + 0.5) * factor - 0.5, round(self.width * factor),
                                round(self.height * factor))


def deproject(u: np.ndarray, v: np.ndarray, depth: np.ndarray, camera: CameraIntrinsics) -> np.ndarray:
    """Pixels with z-depth -> points in the camera optical frame [m].  # (n, 3)

    p = (z (u - cx) / fx, z (v - cy) / fy, z).
    """
    z = np.asarray(depth, dtype=np.float64)
    x = (np.asarray(u, dtype=np.float64) - camera.cx) * z / camera.fx
    y = (np.asarray(v, dtype=np.float64) - camera.cy) * z / camera.fy
    return np.stack([x, y, z], axis=-1)


def project(points_camera: np.ndarray, camera: CameraIntrinsics) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points in the camera optical frame -> (u, v, z): pixel coordinates [px] and z-depth [m].  # each (n,)

    Points behind the camera (z <= 0) get u = v = nan.
    """
    points = np.atleast_2d(np.asarray(points_camera, dtype=np.float64))
    z = points[:, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        ahead = z > 1e-9
        u = np.where(ahead, camera.fx * points[:, 0] / np.where(ahead, z, 1.0) + camera.cx, np.nan)
        v = np.where(ahead, camera.fy * points[:, 1] / np.where(ahead, z, 1.0) + camera.cy, np.nan)
    return u, v, z


def transform_points(source_to_target: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply a homogeneous transform to points.  # (n, 3)"""
    points = np.asarray(points, dtype=np.float64)
    return points @ source_to_target[:3, :3].T + source_to_target[:3, 3]


def invert_transform(source_to_target: np.ndarray) -> np.ndarray:
    """The inverse of a rigid homogeneous transform (target_to_source).  # (4, 4)"""
    rotation = source_to_target[:3, :3]
    inverse = np.eye(4)
    inverse[:3, :3] = rotation.T
    inverse[:3, 3] = -rotation.T @ source_to_target[:3, 3]
    return inverse


def quaternion_to_matrix(quaternion_xyzw: np.ndarray) -> np.ndarray:
    """Unit quaternion (x, y, z, w) -> rotation matrix; the quaternion is normalised first.  # (3, 3)

    Raises:
        InputError: the quaternion is not finite or has (almost) zero norm.
    """
    q = np.asarray(quaternion_xyzw, dtype=np.float64)
    norm = float(np.linalg.norm(q))
    if q.shape != (4,) or not math.isfinite(norm) or norm < 1e-6:
        raise InputError(f"invalid quaternion {q.tolist()}")
    x, y, z, w = q / norm
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])


def matrix_to_quaternion(rotation: np.ndarray) -> np.ndarray:
    """Rotation matrix -> unit quaternion (x, y, z, w) with w >= 0.  # (4,)"""
    m = np.asarray(rotation, dtype=np.float64)
    trace = m[0, 0] + m[1, 1] + m[2, 2]
    if trace > 0:
        s = 2.0 * math.sqrt(trace + 1.0)
        q = [(m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s, 0.25 * s]
    elif m[0, 0] > m[1, 1] and m[0, 0] > m[2, 2]:
        s = 2.0 * math.sqrt(1.0 + m[0, 0] - m[1, 1] - m[2, 2])
        q = [0.25 * s, (m[0, 1] + m[1, 0]) / s, (m[0, 2] + m[2, 0]) / s, (m[2, 1] - m[1, 2]) / s]
    elif m[1, 1] > m[2, 2]:
        s = 2.0 * math.sqrt(1.0 + m[1, 1] - m[0, 0] - m[2, 2])
        q = [(m[0, 1] + m[1, 0]) / s, 0.25 * s, (m[1, 2] + m[2, 1]) / s, (m[0, 2] - m[2, 0]) / s]
    else:
        s = 2.0 * math.sqrt(1.0 + m[2, 2] - m[0, 0] - m[1, 1])
        q = [(m[0, 2] + m[2, 0]) / s, (m[1, 2] + m[2, 1]) / s, 0.25 * s, (m[1, 0] - m[0, 1]) / s]
    q = np.array(q)
    q /= np.linalg.norm(q)
    return -q if q[3] < 0 else q


def pose_to_matrix(position: np.ndarray, quaternion_xyzw: np.ndarray) -> np.ndarray:
    """Position [m] and orientation -> homogeneous transform (frame -> parent).  # (4, 4)"""
    transform = np.eye(4)
    transform[:3, :3] = quaternion_to_matrix(quaternion_xyzw)
    position = np.asarray(position, dtype=np.float64)
    if position.shape != (3,) or not np.isfinite(position).all():
        raise InputError(f"invalid position {position.tolist()}")
    transform[:3, 3] = position
    return transform


def yaw_quaternion(yaw: float) -> np.ndarray:
    """Rotation about z by `yaw` [rad] as a quaternion (x, y, z, w).  # (4,)"""
    return np.array([0.0, 0.0, math.sin(yaw / 2.0), math.cos(yaw / 2.0)])


def yaw_of(rotation: np.ndarray) -> float:
    """Heading [rad] of a rotation matrix's x axis in the xy plane."""
    return math.atan2(rotation[1, 0], rotation[0, 0])


def wrap_angle(angle: float, period: float = 2.0 * math.pi) -> float:
    """Angle wrapped into [-period/2, period/2) [rad]; period pi/2 for a square's symmetry, pi for a rectangle's."""
    return (angle + period / 2.0) % period - period / 2.0
