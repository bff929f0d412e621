"""Support polygon of the feet in the world xy plane, and point-in-polygon tests.

The support polygon is the convex hull of the sole contact rectangles projected on the ground plane. A point (the
CoM ground projection, the ZMP) is statically balanced when it lies inside it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pinocchio as pin

from legion_model.exceptions import ModelError


def sole_corners_in_world(transform_sole_to_world: pin.SE3, length: float, width: float) -> np.ndarray:
    """Corners of a sole contact rectangle in the world frame.

    Args:
        transform_sole_to_world: pose of the sole frame (xy on the contact surface, rectangle centred on its origin).
        length: rectangle length along the sole x axis [m].
        width: rectangle width along the sole y axis [m].

    Returns:
        The four corners in world coordinates [m], counter-clockwise seen from the sole z axis.  # (4, 3)
    """
    half_length, half_width = 0.5 * length, 0.5 * width
    corners_in_sole = np.array(
        [
            [half_length, half_width, 0.0],
            [-half_length, half_width, 0.0],
            [-half_length, -half_width, 0.0],
            [half_length, -half_width, 0.0],
        ]
    )  # (4, 3)
    rotation = transform_sole_to_world.rotation
    return corners_in_sole @ rotation.T + transform_sole_to_world.translation


def _cross_2d(origin: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """z component of (a - origin) x (b - origin); positive when origin -> a -> b turns left."""
    return float((a[0] - origin[0]) * (b[1] - origin[1]) - (a[1] - origin[1]) * (b[0] - origin[0]))


def convex_hull_2d(points: np.ndarray) -> np.ndarray:
    """Convex hull of planar points (Andrew's monotone chain).

    Args:
        points: planar points [m].  # (n, 2)

    Returns:
        Hull vertices in counter-clockwise order, without collinear points or a repeated first vertex.  # (k, 2)
    """
    points = np.asarray(points, dtype=float)
    if points.ndim != 2 or points.shape[1] != 2 or len(points) == 0:
        raise ModelError(f"convex_hull_2d expects an (n, 2) array of points, got shape {points.shape}")
    unique = np.unique(points, axis=0)  # sorted by x, then y
    if len(unique) < 3:
        return unique

    def half_hull(ordered: np.ndarray) -> list[np.ndarray]:
        chain: list[np.ndarray] = []
        for point in ordered:
            while len(chain) >= 2 and _cross_2d(chain[-2], chain[-1], point) <= 0.0:
                chain.pop()
            chain.append(point)
        return chain

    lower = half_hull(unique)
    upper = half_hull(unique[::-1])
    return np.array(lower[:-1] + upper[:-1])


@dataclass(frozen=True)
class SupportPolygon:
    """Convex support polygon in the world xy plane."""

    vertices: np.ndarray
    """Vertices [m] in world xy, counter-clockwise.  # (k, 2)"""

    @classmethod
    def from_soles(
        cls, transforms_sole_to_world: Iterable[pin.SE3], sole_length: float, sole_width: float
    ) -> SupportPolygon:
        """Convex hull of the sole rectangles of the feet in contact, projected on the world xy plane.

        Args:
            transforms_sole_to_world: pose of each sole in contact.
            sole_length: sole rectangle length along the sole x axis [m].
            sole_width: sole rectangle width along the sole y axis [m].
        """
        corners = [sole_corners_in_world(transform, sole_length, sole_width)[:, :2]
                   for transform in transforms_sole_to_world]
        if not corners:
            raise ModelError("a support polygon needs at least one sole")
        return cls(vertices=convex_hull_2d(np.vstack(corners)))

    def signed_distance(self, point: np.ndarray) -> float:
        """Distance [m] from a point in world xy to the nearest edge line: positive inside, negative outside.

        Inside, this is the exact distance to the boundary. Outside, it is minus the largest violation among the edge
        half-planes, whose magnitude is at most the true distance to the polygon (exact unless nearest a vertex).

        Args:
            point: world xy position [m], or a 3D position whose z is ignored.
        """
        if len(self.vertices) < 3:
            raise ModelError(f"the support polygon is degenerate ({len(self.vertices)} vertices)")
        xy = np.asarray(point, dtype=float)[:2]
        edges = np.roll(self.vertices, -1, axis=0) - self.vertices  # (k, 2)
        inward_normals = np.stack([-edges[:, 1], edges[:, 0]], axis=1)  # (k, 2), left of each CCW edge
        inward_normals /= np.linalg.norm(inward_normals, axis=1, keepdims=True)
        distances = np.einsum("ij,ij->i", inward_normals, xy - self.vertices)  # (k,)
        return float(distances.min())

    def contains(self, point: np.ndarray, margin: float = 0.0) -> bool:
        """Whether a world xy point lies inside the polygon by at least `margin` [m] (a negative margin tolerates)."""
        return self.signed_distance(point) >= margin

    @property
    def centroid(self) -> np.ndarray:
        """Area centroid [m] of the polygon in world xy.  # (2,)"""
        x, y = self.vertices[:, 0], self.vertices[:, 1]
        x_next, y_next = np.roll(x, -1), np.roll(y, -1)
        cross = x * y_next - x_next * y
        area = 0.5 * cross.sum()
        if abs(area) < 1e-12:
            return self.vertices.mean(axis=0)
        return np.array([((x + x_next) * cross).sum(), ((y + y_next) * cross).sum()]) / (6.0 * area)

    @property
    def area(self) -> float:
        """Polygon area [m^2]."""
        x, y = self.vertices[:, 0], self.vertices[:, 1]
        return float(0.5 * (x * np.roll(y, -1) - np.roll(x, -1) * y).sum())


def point_in_polygon(point: np.ndarray, vertices: np.ndarray, margin: float = 0.0) -> bool:
    """Whether a point lies inside a convex counter-clockwise polygon by at least `margin` [m].

    Args:
        point: xy position [m] (a z component is ignored).
        vertices: convex polygon vertices, counter-clockwise, e.g. from `convex_hull_2d`.  # (k, 2)
        margin: required distance inside the boundary [m]; negative to accept points just outside.
    """
    return SupportPolygon(vertices=np.asarray(vertices, dtype=float)).contains(point, margin)


def closest_point_in_polygon(point: np.ndarray, vertices: np.ndarray) -> np.ndarray:
    """The point of a convex counter-clockwise polygon closest to `point`: the point itself when it lies inside (or
    on the boundary), else its projection on the nearest edge.

    Args:
        point: xy position [m].  # (2,)
        vertices: convex polygon vertices, counter-clockwise, e.g. from `convex_hull_2d`.  # (k, 2)

    Returns:
        The closest point of the polygon [m].  # (2,)
    """
    point = np.asarray(point, dtype=float)[:2]
    vertices = np.asarray(vertices, dtype=float)
    edges = np.roll(vertices, -1, axis=0) - vertices  # (k, 2)
    inward_normals = np.stack([-edges[:, 1], edges[:, 0]], axis=1)  # (k, 2), left of each CCW edge
    if np.all(np.einsum("ij,ij->i", inward_normals, point - vertices) >= 0.0):
        return point.copy()
    best, best_distance = point, np.inf
    for start, edge in zip(vertices, edges, strict=True):
        along = float(np.clip(np.dot(point - start, edge) / max(float(np.dot(edge, edge)), 1e-12), 0.0, 1.0))
        candidate = start + along * edge
        distance = float(np.linalg.norm(point - candidate))
        if distance < best_distance:
            best, best_distance = candidate, distance
    return best
