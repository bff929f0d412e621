"""Obstacle occupancy grid in `odom` from depth images, with the floor removed, for the gait planner.

Every `pixel_step`-th pixel of a depth image is deprojected and put into `odom`. Points lower than `floor_height`
are floor: they make their cell observed and, if no obstacle point falls there, lower its evidence. Points between
`floor_height` and `max_height` (the robot's height) are obstacles and raise it. The robot itself is ignored: points
within `self_radius` of its base (horizontally), within `arm_radius` of its arms (the segments between the arm's
joints, shoulder to gripper: an arm reaching out over the floor) and within `hand_radius` of its gripper frames (its
hands and what they hold). Evidence saturates at +-`max_evidence`, so a cell changes state
within a few frames when the world changes. The grid is a square of side `size` centred on the robot; it moves with
the robot in whole cells, keeping what it knew of the overlap.

Cell values (nav_msgs/OccupancyGrid): -1 never observed, 0 free, 100 occupied. Rows run along odom y, columns along
odom x; `origin` is the odom position of the corner of cell (0, 0).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from legion_perception.config import ObstacleConfig
from legion_perception.geometry import CameraIntrinsics, deproject, transform_points

UNKNOWN, FREE, OCCUPIED = -1, 0, 100


@dataclass(frozen=True)
class OccupancyGrid:
    """A 2D occupancy grid in `odom` (z up, at floor level)."""

    origin: tuple[float, float]
    """Odom (x, y) of the outer corner of cell (row 0, column 0) [m]."""
    resolution: float
    """Cell side [m]."""
    data: np.ndarray
    """Cell values -1 / 0 / 100; row index along y, column index along x.  # (rows, columns) int8"""

    def cell_of(self, x: float, y: float) -> tuple[int, int]:
        """(row, column) of the cell holding odom point (x, y); may be outside the grid."""
        return (math.floor((y - self.origin[1]) / self.resolution), math.floor((x - self.origin[0]) / self.resolution))

    def value_at(self, x: float, y: float) -> int:
        """Value of the cell at odom (x, y), UNKNOWN outside the grid."""
        row, column = self.cell_of(x, y)
        if 0 <= row < self.data.shape[0] and 0 <= column < self.data.shape[1]:
            return int(self.data[row, column])
        return UNKNOWN


class ObstacleMapper:
    """Accumulates depth frames into a robot-centred occupancy grid (see the module docstring)."""

    def __init__(self, config: ObstacleConfig):
        self.config = config
        self.cells = max(1, round(config.size / config.resolution))
        self.evidence = np.zeros((self.cells, self.cells), np.int16)
        self.observed = np.zeros((self.cells, self.cells), bool)
        self.origin_index: tuple[int, int] | None = None  # (ix, iy) of cell (0, 0) in units of resolution
        self._pixel_cache: tuple[tuple[int, ...], np.ndarray, np.ndarray] | None = None

    def reset(self) -> None:
        self.evidence[:] = 0
        self.observed[:] = False
        self.origin_index = None

    def update(self, depth: np.ndarray, camera: CameraIntrinsics, camera_to_odom: np.ndarray,
               robot_xy: np.ndarray, hands: np.ndarray | None = None,
               arms: Sequence[np.ndarray] = ()) -> OccupancyGrid:
        """Fold one depth frame in and return the grid.

        Args:
            depth: z-depth [m], NaN/inf/0 where unknown.  # (H, W)
            camera: intrinsics of the depth image.
            camera_to_odom: pose of the camera optical frame in `odom`.  # (4, 4)
            robot_xy: the robot base's odom (x, y) [m]: the grid's centre and the self filter's centre.  # (2,)
            hands: the robot's gripper frames in odom [m]: points within `hand_radius` of one are the robot's hand
                or what it holds, not an obstacle (None: none).  # (k, 3)
            arms: per arm, its joints' and gripper frame's positions in odom, shoulder to gripper [m]: points within
                `arm_radius` of the polyline are the robot's arm.  # each (m, 3)
        """
        cfg = self.config
        self._recentre(robot_xy)
        step = cfg.pixel_step
        sub = np.asarray(depth[::step, ::step], dtype=np.float32)
        u, v = self._pixels(sub.shape, step)
        with np.errstate(invalid="ignore"):
            valid = (sub > 0.05) & (sub < cfg.max_range)
        points = transform_points(camera_to_odom, deproject(u[valid], v[valid], sub[valid], camera))
        near_robot = np.hypot(points[:, 0] - robot_xy[0], points[:, 1] - robot_xy[1]) < cfg.self_radius
        keep = ~near_robot & (points[:, 2] <= cfg.max_height)
        if hands is not None and len(hands):
            for hand in np.asarray(hands, dtype=float).reshape(-1, 3):
                keep &= np.sum((points - hand) ** 2, axis=1) >= cfg.hand_radius ** 2
        for arm in arms:
            keep &= ~near_polyline(points, np.asarray(arm, dtype=float).reshape(-1, 3), cfg.arm_radius)
        points = points[keep]

        ox, oy = self.origin_index
        column = np.floor(points[:, 0] / cfg.resolution).astype(np.int64) - ox
        row = np.floor(points[:, 1] / cfg.resolution).astype(np.int64) - oy
        inside = (column >= 0) & (column < self.cells) & (row >= 0) & (row < self.cells)
        flat = (row * self.cells + column)[inside]
        is_obstacle = points[inside, 2] >= cfg.floor_height
        n = self.cells * self.cells
        hits = np.bincount(flat[is_obstacle], minlength=n).reshape(self.cells, self.cells)
        floor = np.bincount(flat[~is_obstacle], minlength=n).reshape(self.cells, self.cells)

        hit = hits >= cfg.min_points
        self.evidence[hit] += cfg.hit_evidence
        self.evidence[(floor > 0) & ~hit] -= cfg.free_evidence
        np.clip(self.evidence, -cfg.max_evidence, cfg.max_evidence, out=self.evidence)
        self.observed |= hit | (floor > 0)
        return self.grid()

    def grid(self) -> OccupancyGrid:
        cfg = self.config
        data = np.full((self.cells, self.cells), UNKNOWN, np.int8)
        data[self.observed] = FREE
        data[self.observed & (self.evidence >= cfg.occupied_threshold)] = OCCUPIED
        ox, oy = self.origin_index if self.origin_index is not None else (0, 0)
        return OccupancyGrid(origin=(ox * cfg.resolution, oy * cfg.resolution), resolution=cfg.resolution, data=data)

    def _recentre(self, robot_xy: np.ndarray) -> None:
        """Move the grid (in whole cells) so that the robot is at its centre, keeping the overlap."""
        res = self.config.resolution
        wanted = (math.floor(robot_xy[0] / res) - self.cells // 2, math.floor(robot_xy[1] / res) - self.cells // 2)
        if self.origin_index is None:
            self.origin_index = wanted
            return
        dx, dy = wanted[0] - self.origin_index[0], wanted[1] - self.origin_index[1]
        if dx == 0 and dy == 0:
            return
        self.evidence = _shifted(self.evidence, dy, dx, 0)
        self.observed = _shifted(self.observed, dy, dx, False)
        self.origin_index = wanted

    def _pixels(self, shape: tuple[int, ...], step: int) -> tuple[np.ndarray, np.ndarray]:
        if self._pixel_cache is None or self._pixel_cache[0] != (*shape, step):
            v, u = np.mgrid[0:shape[0], 0:shape[1]]
            self._pixel_cache = ((*shape, step), (u * step).astype(np.float64), (v * step).astype(np.float64))
        return self._pixel_cache[1], self._pixel_cache[2]


def near_polyline(points: np.ndarray, line: np.ndarray, radius: float) -> np.ndarray:
    """Which of `points` lie within `radius` of the polyline through `line`'s points.  # (n,) bool

    Only the points inside the polyline's bounding box grown by `radius` are measured (a depth frame's points are
    mostly far from the robot's arms)."""
    near = np.zeros(len(points), bool)
    if len(line) == 0 or radius <= 0.0 or len(points) == 0:
        return near
    low, high = line.min(axis=0) - radius, line.max(axis=0) + radius
    candidates = np.flatnonzero(np.all((points >= low) & (points <= high), axis=1))
    if len(candidates) == 0:
        return near
    p = points[candidates]
    if len(line) == 1:
        near[candidates] = np.sum((p - line[0]) ** 2, axis=1) < radius ** 2
        return near
    start, segment = line[:-1], np.diff(line, axis=0)  # (m, 3)
    length2 = np.maximum(np.sum(segment ** 2, axis=1), 1e-12)
    offset = p[:, None, :] - start[None, :, :]  # (n, m, 3)
    t = np.clip(np.einsum("nmk,mk->nm", offset, segment) / length2, 0.0, 1.0)
    distance2 = np.sum((offset - t[..., None] * segment[None, :, :]) ** 2, axis=2)
    near[candidates] = distance2.min(axis=1) < radius ** 2
    return near


def _shifted(array: np.ndarray, rows: int, columns: int, fill: object) -> np.ndarray:
    """`array` moved so that new[r, c] = old[r + rows, c + columns]; cells from outside get `fill`."""
    out = np.full_like(array, fill)
    h, w = array.shape
    if abs(rows) >= h or abs(columns) >= w:
        return out
    src_r = slice(max(rows, 0), h + min(rows, 0))
    dst_r = slice(max(-rows, 0), h + min(-rows, 0))
    src_c = slice(max(columns, 0), w + min(columns, 0))
    dst_c = slice(max(-columns, 0), w + min(-columns, 0))
    out[dst_r, dst_c] = array[src_r, src_c]
    return out
