"""The cell's fixed obstacles as an occupancy grid for navigation: tables, bins and keep-out areas.

The executive publishes it on `map` (nav_msgs/OccupancyGrid, frame odom) when a job starts, so that the gait planner
can walk around what the cell file names, besides what perception sees. Cells whose centre lies inside a table, a bin
or a keep-out area (its footprint, not inflated: the planner inflates by the robot's size) are occupied (100), the
others free (0). The grid is axis-aligned in odom and covers every area and station with `margin` around them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from legion_executive.cell import CellConfig

OCCUPIED, FREE = 100, 0


@dataclass(frozen=True)
class CellMap:
    """An occupancy grid: `data[row, col]` is the cell at x = origin_x + (col + 0.5) * resolution (rows along y)."""

    data: np.ndarray
    """(height, width) int8, OCCUPIED or FREE."""
    origin: tuple[float, float]
    """(x, y) [m] in odom of the grid's corner (the outer corner of cell [0, 0])."""
    resolution: float
    """[m] cell side."""

    def occupied(self, x: float, y: float) -> bool:
        col = math.floor((x - self.origin[0]) / self.resolution)
        row = math.floor((y - self.origin[1]) / self.resolution)
        h, w = self.data.shape
        return 0 <= row < h and 0 <= col < w and self.data[row, col] == OCCUPIED


def cell_map(cell: CellConfig, resolution: float = 0.05, margin: float = 1.0) -> CellMap:
    """Rasterise the cell's tables, bins and keep-out areas (see the module's docstring)."""
    if not (math.isfinite(resolution) and resolution > 0.0 and math.isfinite(margin) and margin >= 0.0):
        raise ValueError(f"resolution must be positive and margin non-negative, got {resolution}, {margin}")
    areas = [*cell.tables, *cell.bins, *cell.keep_out]
    points = [s.pose[:2] for s in cell.stations]
    for area in areas:
        half = area.radius if getattr(area, "shape", "box") == "circle" else math.hypot(*area.size) / 2
        points += [(area.position[0] - half, area.position[1] - half), (area.position[0] + half,
                                                                          area.position[1] + half)]
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x0 = math.floor((min(xs) - margin) / resolution) * resolution
    y0 = math.floor((min(ys) - margin) / resolution) * resolution
    width = math.ceil((max(xs) + margin - x0) / resolution)
    height = math.ceil((max(ys) + margin - y0) / resolution)
    cx = x0 + (np.arange(width) + 0.5) * resolution
    cy = y0 + (np.arange(height) + 0.5) * resolution
    gx, gy = np.meshgrid(cx, cy)  # (height, width)
    occupied = np.zeros((height, width), dtype=bool)
    for area in areas:
        dx, dy = gx - area.position[0], gy - area.position[1]
        if getattr(area, "shape", "box") == "circle":
            occupied |= np.hypot(dx, dy) <= area.radius
        else:
            c, s = math.cos(area.yaw), math.sin(area.yaw)
            local_x, local_y = c * dx + s * dy, -s * dx + c * dy
            occupied |= (np.abs(local_x) <= area.size[0] / 2) & (np.abs(local_y) <= area.size[1] / 2)
    data = np.where(occupied, OCCUPIED, FREE).astype(np.int8)
    return CellMap(data, (x0, y0), resolution)
