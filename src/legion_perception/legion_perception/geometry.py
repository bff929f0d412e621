"""Pinhole camera geometry (numpy only); rotations and rigid transforms are `legion_common.transforms`.

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
