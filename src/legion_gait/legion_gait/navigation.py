"""Paths for walk_to around obstacles: a costmap from occupancy grids, a global path on it, and the robot's heading
along that path. Plain numpy, heapq and scipy's distance transform; no ROS, no clock.

The inputs are occupancy grids in odom (nav_msgs/OccupancyGrid semantics: 100 occupied, 0 free, -1 unknown): the
static `map` of the cell (tables, bins, keep-out areas) and perception's `perception/obstacles`. A cell is occupied
when any grid says so (value >= `occupied_threshold`); unknown is traversable, because a perception grid only knows
what the camera saw.

1. Costmap (`Costmap.build`), Nav2-like, on a grid of its own over the planning area: `clearance` is the distance
   [m] from a cell centre to the nearest occupied cell centre (computed up to the circumscribed radius plus margin).
   Cells closer than the robot's inscribed radius are lethal (the robot's centre cannot be there whatever its
   heading); from there the cost decays to 0 at the circumscribed radius plus `inflation_margin`, so that paths keep
   clear but stations close to a table stay reachable.
2. Path (`plan_path`): A* over the 8-connected cells, step cost = length x (1 + cost_weight x cost). A start or goal
   inside the lethal band (a station next to a table) is allowed out of it: cells with at least the clearance of the
   start or goal are passable. Then shortcuts: a waypoint is skipped when the straight line past it stays on cells
   that are no more costly than those the search went through.
3. Heading (`plan_headings`): the path is sampled every `path_sample`; at each sample the robot's oriented
   footprint (a rectangle, grown by `footprint_padding`) is tested against the occupied cells for `heading_bins`
   headings. A dynamic programme over (sample, heading) picks the fastest collision-free profile: walking time at
   the speed the robot has in that direction relative to its heading (forward, backward and sideways limits, an
   ellipse), plus turning time (and a stop for each turn in place), with turns in place allowed only where every
   heading swept is clear. A short sideways move thus stays sideways, a long path faces its direction, and turns
   happen where there is room.
4. Detours (`Navigator.plan`): where the exact footprint touches an obstacle at every heading (a gap the inscribed
   circle passes but the robot does not), the cells around those poses are closed and steps 2-3 run again, at most
   `detour_attempts` times.

A `NavPath` holds the result; `Navigator` keeps the grids, plans, and says when the path is blocked or worth
replanning.
"""

from __future__ import annotations

import heapq
import itertools
import math
from dataclasses import dataclass, replace

import numpy as np
from scipy.ndimage import distance_transform_edt

from legion_common.transforms import wrap_angle
from legion_gait.errors import GaitError
from legion_gait.parameters import NavigationParameters

SQRT2 = math.sqrt(2.0)
COLLISION_TIME = 1000.0
"""[s] what a pose whose footprint touches an obstacle costs the heading plan (it is used only if nothing is
clear, and reported)."""


START_ZONE = 0.3
"""[m] poses this close to the start are not held against a path (a robot that finds itself touching an obstacle,
or believes it does, must still be able to step away)."""


STOP_TIME = 2.0
"""[s] what stopping to turn in place costs the heading plan beyond the turn itself (a biped stops, turns and starts
again; turning a little at each step while walking is smoother), so it turns on the way where there is room."""
FINAL_TURN_TIME = 30.0
"""[s] what a pose on the final stretch before the goal costs the heading plan when it is not turned to the goal."""


class NavigationError(GaitError):
    """No path: the goal is inside an obstacle or cannot be reached (the message says which)."""


@dataclass(frozen=True)
class Footprint:
    """The robot's outline on the floor, a rectangle in base_footprint (x forward, y left) [m]."""

    front: float
    """[m] ahead of the base."""
    back: float
    """[m] behind the base."""
    half_width: float
    """[m] to either side."""

    @property
    def inscribed_radius(self) -> float:
        """[m] the largest circle about the base inside the rectangle."""
        return min(self.front, self.back, self.half_width)

    @property
    def circumscribed_radius(self) -> float:
        """[m] the smallest circle about the base around the rectangle (what turning in place sweeps)."""
        return math.hypot(max(self.front, self.back), self.half_width)

    def sample_points(self, spacing: float, padding: float = 0.0) -> np.ndarray:
        """Points covering the rectangle grown by `padding`, at most `spacing` apart, in base axes.  # (m, 2)"""
        xs = np.linspace(-self.back - padding, self.front + padding,
                         max(2, math.ceil((self.front + self.back + 2 * padding) / spacing) + 1))
        ys = np.linspace(-self.half_width - padding, self.half_width + padding,
                         max(2, math.ceil((2 * self.half_width + 2 * padding) / spacing) + 1))
        gx, gy = np.meshgrid(xs, ys)
        return np.column_stack([gx.ravel(), gy.ravel()])


@dataclass(frozen=True)
class GridLayer:
    """An input occupancy grid in odom (axis-aligned)."""

    origin: tuple[float, float]
    """Odom (x, y) of the outer corner of cell (row 0, column 0) [m]."""
    resolution: float
    """[m] cell side."""
    data: np.ndarray
    """Values -1 unknown, 0..100 occupancy; rows along odom y, columns along odom x.  # (rows, columns) int8"""
    time: float = 0.0
    """[s] stamp."""

    def sample(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Values at odom points (-1 outside the grid).  # same shape as x"""
        column = np.floor((x - self.origin[0]) / self.resolution).astype(np.int64)
        row = np.floor((y - self.origin[1]) / self.resolution).astype(np.int64)
        rows, columns = self.data.shape
        inside = (row >= 0) & (row < rows) & (column >= 0) & (column < columns)
        out = np.full(np.shape(x), -1, dtype=np.int16)
        out[inside] = self.data[row[inside], column[inside]]
        return out

    def same_as(self, other: GridLayer | None) -> bool:
        """Same geometry and values (the stamp aside)."""
        return (other is not None and other.origin == self.origin and other.resolution == self.resolution
                and other.data.shape == self.data.shape and bool(np.array_equal(other.data, self.data)))


@dataclass(frozen=True)
class Costmap:
    """The planning grid (see the module docstring). Rows along odom y, columns along odom x."""

    origin: tuple[float, float]
    """Odom (x, y) of the outer corner of cell (0, 0) [m]."""
    resolution: float
    """[m]"""
    occupied: np.ndarray
    """Some input grid says occupied.  # (rows, columns) bool"""
    clearance: np.ndarray
    """[m] distance from the cell centre to the nearest occupied cell centre (inf beyond the inflation range).
    # (rows, columns)"""
    cost: np.ndarray
    """0..1 inflation cost (1 at the inscribed radius, 0 from the circumscribed radius + margin on).
    # (rows, columns)"""
    lethal: np.ndarray
    """Closer than the inscribed radius to an occupied cell.  # (rows, columns) bool"""

    @property
    def shape(self) -> tuple[int, int]:
        return self.occupied.shape

    @classmethod
    def build(cls, layers: list[GridLayer], lower: np.ndarray, upper: np.ndarray, footprint: Footprint,
              params: NavigationParameters) -> Costmap:
        """The costmap over the odom box [lower, upper] [m] from the input grids.  # lower, upper: (2,)"""
        resolution = params.resolution
        extent = np.maximum(np.asarray(upper, float) - np.asarray(lower, float), resolution)
        while np.prod(np.ceil(extent / resolution)) > params.max_cells:
            resolution *= 1.25
        columns, rows = (int(v) for v in np.ceil(extent / resolution))
        origin = (float(lower[0]), float(lower[1]))
        occupied = np.zeros((rows, columns), bool)
        # Sample each cell at sub-points as fine as the finest input grid, so no occupied input cell falls between.
        finest = min([layer.resolution for layer in layers], default=resolution)
        sub = max(1, min(4, math.ceil(resolution / finest)))
        offsets = (np.arange(sub) + 0.5) / sub * resolution
        cx = origin[0] + np.arange(columns) * resolution
        cy = origin[1] + np.arange(rows) * resolution
        for layer in layers:
            for dy in offsets:
                for dx in offsets:
                    x, y = np.meshgrid(cx + dx, cy + dy)
                    occupied |= layer.sample(x, y) >= params.occupied_threshold
        reach = footprint.circumscribed_radius + params.inflation_margin
        clearance = _clearance(occupied, resolution, max(reach, params.footprint_padding) + resolution)
        inscribed = footprint.inscribed_radius
        cost = np.clip((reach - clearance) / max(reach - inscribed, 1e-6), 0.0, 1.0) ** 2
        lethal = clearance < inscribed
        cost[lethal] = 1.0
        return cls(origin, resolution, occupied, clearance, cost, lethal)

    def cell_of(self, xy: np.ndarray) -> np.ndarray:
        """(row, column) of odom points (may be outside).  # (..., 2) int"""
        xy = np.asarray(xy, float)
        column = np.floor((xy[..., 0] - self.origin[0]) / self.resolution).astype(np.int64)
        row = np.floor((xy[..., 1] - self.origin[1]) / self.resolution).astype(np.int64)
        return np.stack([row, column], axis=-1)

    def centre_of(self, cells: np.ndarray) -> np.ndarray:
        """Odom (x, y) of cell centres.  # (..., 2)"""
        cells = np.asarray(cells)
        return np.stack([self.origin[0] + (cells[..., 1] + 0.5) * self.resolution,
                         self.origin[1] + (cells[..., 0] + 0.5) * self.resolution], axis=-1)

    def inside(self, cells: np.ndarray) -> np.ndarray:
        rows, columns = self.shape
        return (cells[..., 0] >= 0) & (cells[..., 0] < rows) & (cells[..., 1] >= 0) & (cells[..., 1] < columns)

    def clearance_at(self, xy: np.ndarray) -> np.ndarray:
        """[m] clearance at odom points (inf outside the costmap: nothing known there).  # (...)"""
        cells = self.cell_of(xy)
        inside = self.inside(cells)
        out = np.full(cells.shape[:-1], np.inf)
        out[inside] = self.clearance[cells[inside][:, 0], cells[inside][:, 1]]
        return out

    def footprint_clear(self, poses: np.ndarray, points: np.ndarray, padding: float) -> np.ndarray:
        """Whether the footprint (sample points in base axes, (m, 2)) at each odom pose (x, y, yaw) keeps more than
        `padding` [m] from every occupied cell (to half a cell).  # (n,) bool"""
        poses = np.atleast_2d(poses)
        c, s = np.cos(poses[:, 2])[:, None], np.sin(poses[:, 2])[:, None]
        x = poses[:, 0:1] + c * points[None, :, 0] - s * points[None, :, 1]
        y = poses[:, 1:2] + s * points[None, :, 0] + c * points[None, :, 1]
        clearance = self.clearance_at(np.stack([x, y], axis=-1))
        return np.all(clearance > padding + 0.5 * self.resolution * SQRT2 - 1e-9, axis=1) if padding > 0.0 else \
            np.all(clearance > 0.0, axis=1)


def _clearance(occupied: np.ndarray, resolution: float, reach: float) -> np.ndarray:
    """[m] distance from each cell centre to the nearest occupied one, up to `reach` (inf beyond).  # same shape

    The exact Euclidean distance transform (scipy.ndimage, a few milliseconds for a 100 x 100 grid)."""
    out = np.full(occupied.shape, np.inf)
    if not occupied.any():
        return out
    distance = distance_transform_edt(~occupied) * resolution
    out[distance <= reach] = distance[distance <= reach]
    return out


# ---------------------------------------------------------------------------------------------------- the path
_MOVES = ((-1, -1, SQRT2), (-1, 0, 1.0), (-1, 1, SQRT2), (0, -1, 1.0), (0, 1, 1.0), (1, -1, SQRT2), (1, 0, 1.0),
          (1, 1, SQRT2))


def plan_path(costmap: Costmap, start: np.ndarray, goal: np.ndarray, params: NavigationParameters,
              closed: np.ndarray | None = None) -> np.ndarray:
    """The global path from odom point `start` to `goal` [m]: A*, then shortcuts (module docstring), avoiding the
    `closed` cells too (bool, the costmap's shape; e.g. where the oriented footprint did not fit).  # (k, 2)

    Raises:
        NavigationError: the goal or the start is outside the costmap, or no passable way joins them.
    """
    start_cell, goal_cell = costmap.cell_of(np.asarray(start)[:2]), costmap.cell_of(np.asarray(goal)[:2])
    if not (costmap.inside(start_cell) and costmap.inside(goal_cell)):
        raise NavigationError("the start or the goal is outside the planning area")
    ends = [float(costmap.clearance[tuple(start_cell)]), float(costmap.clearance[tuple(goal_cell)])]
    passable = ~costmap.lethal | (costmap.clearance >= min(ends) - 1e-9) & ~costmap.occupied
    if closed is not None:
        passable &= ~closed
    passable[tuple(start_cell)] = passable[tuple(goal_cell)] = True
    cells = _astar(passable, costmap.cost, params.cost_weight, tuple(start_cell), tuple(goal_cell))
    if cells is None:
        raise NavigationError(f"no way to ({goal[0]:.2f}, {goal[1]:.2f}) m: obstacles (grown by the robot's "
                              f"inscribed radius) close every path from ({start[0]:.2f}, {start[1]:.2f}) m")
    points = costmap.centre_of(np.array(cells))
    points[0], points[-1] = np.asarray(start)[:2], np.asarray(goal)[:2]
    return _shortcut(costmap, points, passable)


def _astar(passable: np.ndarray, cost: np.ndarray, weight: float, start: tuple[int, int], goal: tuple[int, int]
           ) -> list[tuple[int, int]] | None:
    rows, columns = passable.shape
    step_cost = 1.0 + weight * cost
    best = np.full(passable.shape, np.inf)
    parent = np.full((*passable.shape, 2), -1, dtype=np.int64)
    closed = np.zeros(passable.shape, bool)
    best[start] = 0.0
    gr, gc = goal

    def heuristic(r: int, c: int) -> float:
        dr, dc = abs(r - gr), abs(c - gc)
        return (dr + dc) + (SQRT2 - 2.0) * min(dr, dc)

    queue = [(heuristic(*start), 0.0, start)]
    while queue:
        _, g, cell = heapq.heappop(queue)
        if closed[cell]:
            continue
        if cell == goal:
            path = [cell]
            while path[-1] != start:
                r, c = parent[path[-1]]
                path.append((int(r), int(c)))
            return path[::-1]
        closed[cell] = True
        r, c = cell
        for dr, dc, length in _MOVES:
            nr, nc = r + dr, c + dc
            if not (0 <= nr < rows and 0 <= nc < columns) or closed[nr, nc] or not passable[nr, nc]:
                continue
            if dr and dc and not (passable[r, nc] and passable[nr, c]):
                continue  # no corner cutting
            candidate = g + length * 0.5 * (step_cost[r, c] + step_cost[nr, nc])
            if candidate < best[nr, nc]:
                best[nr, nc] = candidate
                parent[nr, nc] = (r, c)
                heapq.heappush(queue, (candidate + heuristic(nr, nc), candidate, (nr, nc)))
    return None


def _line_cells(costmap: Costmap, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cells a straight segment a -> b crosses (sampled at a quarter cell).  # (n, 2)"""
    n = max(2, math.ceil(float(np.linalg.norm(b - a)) / (0.25 * costmap.resolution)) + 1)
    t = np.linspace(0.0, 1.0, n)[:, None]
    return costmap.cell_of(a[None, :] + t * (b - a)[None, :])


def _shortcut(costmap: Costmap, points: np.ndarray, passable: np.ndarray) -> np.ndarray:
    """Waypoints of a cell path: from each kept point, the farthest later one the straight line reaches over
    passable cells no costlier than the most costly cell the search path crossed between them."""
    cells = costmap.cell_of(points)
    cost_along = costmap.cost[cells[:, 0], cells[:, 1]]
    kept = [0]
    i = 0
    while i < len(points) - 1:
        j = len(points) - 1
        while j > i + 1:
            line = _line_cells(costmap, points[i], points[j])
            line = line[costmap.inside(line)]
            if (np.all(passable[line[:, 0], line[:, 1]])
                    and np.max(costmap.cost[line[:, 0], line[:, 1]]) <= np.max(cost_along[i:j + 1]) + 1e-6):
                break
            j -= 1
        kept.append(j)
        i = j
    return points[kept]


def path_cost(costmap: Costmap, points: np.ndarray, weight: float) -> float:
    """Length x (1 + weight x cost) along a polyline (inf over a lethal cell that is not where it starts)."""
    total = 0.0
    for a, b in itertools.pairwise(points):
        line = _line_cells(costmap, a, b)
        line = line[costmap.inside(line)]
        if len(line) == 0:
            total += float(np.linalg.norm(b - a))
            continue
        total += float(np.linalg.norm(b - a)) * (1.0 + weight * float(np.mean(costmap.cost[line[:, 0], line[:, 1]])))
    return total


# ---------------------------------------------------------------------------------------------------- headings
@dataclass(frozen=True)
class Speeds:
    """How fast the robot walks [m/s] and turns [rad/s] (for the heading plan's walking time)."""

    forward: float
    backward: float
    lateral: float
    yaw_rate: float

    def along(self, angle: np.ndarray) -> np.ndarray:
        """[m/s] top speed in the direction `angle` [rad] from the heading (an ellipse per half plane)."""
        c, s = np.cos(angle), np.sin(angle)
        longitudinal = np.where(c >= 0.0, self.forward, self.backward)
        return 1.0 / np.sqrt((c / longitudinal) ** 2 + (s / self.lateral) ** 2)


def resample(waypoints: np.ndarray, spacing: float) -> tuple[np.ndarray, np.ndarray]:
    """Points every `spacing` [m] along a polyline (both ends included) and their arc length.  # (n, 2), (n,)"""
    segments = np.diff(waypoints, axis=0)
    lengths = np.linalg.norm(segments, axis=1)
    cumulative = np.concatenate([[0.0], np.cumsum(lengths)])
    total = float(cumulative[-1])
    s = np.linspace(0.0, total, max(2, math.ceil(total / spacing) + 1))
    return _interpolate(waypoints, cumulative, s), s


def _interpolate(waypoints: np.ndarray, cumulative: np.ndarray, s: np.ndarray) -> np.ndarray:
    return np.column_stack([np.interp(s, cumulative, waypoints[:, axis]) for axis in range(2)])


def plan_headings(costmap: Costmap, points: np.ndarray, start_yaw: float, goal_yaw: float, footprint: Footprint,
                  speeds: Speeds, params: NavigationParameters, final_stretch: float = 0.0
                  ) -> tuple[np.ndarray, np.ndarray]:
    """The heading [rad] at each path point (n, 2), fastest with a clear footprint (module docstring), and which
    poses beyond START_ZONE from the start touch an obstacle even so (exact footprint; none: the path is good).
    Over the last `final_stretch` [m] (the omnidirectional approach onto the goal pose) the heading is the goal's:
    any other costs FINAL_TURN_TIME, so the robot has turned, where there is room, before it gets there.
    # (n,), (n,) bool"""
    n, k = len(points), params.heading_bins
    bins = np.arange(k) * (2.0 * math.pi / k)
    bin_width = 2.0 * math.pi / k
    samples = footprint.sample_points(0.7 * costmap.resolution, params.footprint_padding)
    poses = np.column_stack([np.repeat(points, k, axis=0), np.tile(bins, n)])
    clear = costmap.footprint_clear(poses, samples, 0.0).reshape(n, k)
    penalty = np.where(clear, 0.0, COLLISION_TIME)  # (n, k)
    goal_bin = round(wrap_angle(goal_yaw) / (2.0 * math.pi / k)) % k
    arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(points, axis=0), axis=1))])
    final = arc > arc[-1] - final_stretch + 1e-9
    off_goal = np.ones(k, bool)
    off_goal[goal_bin] = False
    penalty[np.ix_(final, off_goal)] += FINAL_TURN_TIME
    turn_time = bin_width / speeds.yaw_rate
    half = k // 2

    def turned(values: np.ndarray, at: int) -> tuple[np.ndarray, np.ndarray]:
        """Best value per heading after turning in place at sample `at` from headings with `values` (every heading
        swept charged its collision penalty), and the heading each came from.  # (k,), (k,)"""
        best, source = values.copy(), np.arange(k)
        for direction in (1, -1):
            reach, origin = values.copy() + STOP_TIME, np.arange(k)
            for _ in range(half):
                reach = np.roll(reach, direction) + turn_time + penalty[at]
                origin = np.roll(origin, direction)
                better = reach < best
                best = np.where(better, reach, best)
                source = np.where(better, origin, source)
        return best, source

    start_bin = round(wrap_angle(start_yaw) / bin_width) % k
    value = np.full(k, np.inf)
    value[start_bin] = 0.0
    turn_from = np.zeros((n, k), dtype=np.int64)
    move_from = np.zeros((n, k), dtype=np.int64)
    for i in range(n):
        value, turn_from[i] = turned(value, i)
        if i == n - 1:
            break
        direction = math.atan2(*(points[i + 1] - points[i])[::-1])
        distance = float(np.linalg.norm(points[i + 1] - points[i]))
        walk = distance / speeds.along(direction - bins)
        # keep the heading or change it by one bin while walking (both poses must be clear)
        candidates = np.stack([value, np.roll(value, 1), np.roll(value, -1)])
        extra = np.array([0.0, turn_time, turn_time])[:, None]
        total = candidates + extra
        choice = np.argmin(total, axis=0)
        move_from[i + 1] = (np.arange(k) - np.array([0, 1, -1])[choice]) % k
        value = total[choice, np.arange(k)] + walk + penalty[i + 1]
    # Back from the goal's heading at the last sample: the heading after the turn (if any) at each sample.
    after = np.zeros(n, dtype=np.int64)
    current = goal_bin
    for i in range(n - 1, -1, -1):
        after[i] = current
        before = turn_from[i][current]
        if i > 0:
            current = move_from[i][before]
    headings = bins[after]
    headings[-1] = goal_yaw
    # Poses whose exact footprint (without padding) touches an obstacle, beyond the start's own surroundings.
    exact = footprint.sample_points(0.7 * costmap.resolution)
    touching = ~costmap.footprint_clear(np.column_stack([points, headings]), exact, 0.0)
    away = np.linalg.norm(points - points[0], axis=1) > START_ZONE
    return np.array([wrap_angle(h) for h in headings]), touching & away


@dataclass(frozen=True)
class NavPath:
    """A path to a goal: points every `path_sample` with their arc length and planned heading (odom)."""

    points: np.ndarray
    """Odom (x, y) [m].  # (n, 2)"""
    s: np.ndarray
    """[m] arc length at each point.  # (n,)"""
    headings: np.ndarray
    """[rad] planned base heading at each point.  # (n,)"""
    waypoints: np.ndarray
    """The corners of the path after shortcuts.  # (k, 2)"""
    blocked_poses: int = 0
    """Poses (beyond START_ZONE) whose footprint touches an obstacle (always 0 for a path `Navigator.plan` gives)."""
    occupied: np.ndarray | None = None
    """The costmap's occupied cells the path was planned (or last checked) on, over the box of its first point and
    its goal (`Navigator.costmap`).  # (rows, columns) bool"""

    @property
    def length(self) -> float:
        return float(self.s[-1])

    def project(self, xy: np.ndarray, low: float = 0.0, high: float = math.inf) -> float:
        """[m] arc length of the path point nearest to odom (x, y), searched in [low, high]."""
        segments = self.points[1:] - self.points[:-1]
        lengths2 = np.maximum(np.sum(segments ** 2, axis=1), 1e-12)
        t = np.clip(np.sum((np.asarray(xy)[None, :2] - self.points[:-1]) * segments, axis=1) / lengths2, 0.0, 1.0)
        nearest = self.points[:-1] + t[:, None] * segments
        s = self.s[:-1] + t * (self.s[1:] - self.s[:-1])
        distance = np.linalg.norm(nearest - np.asarray(xy)[None, :2], axis=1)
        distance[(s < low - 1e-9) | (s > high + 1e-9)] = np.inf
        if not np.isfinite(distance).any():
            return float(np.clip(low, 0.0, self.length))
        return float(s[int(np.argmin(distance))])

    def point_at(self, s: float) -> np.ndarray:
        """Odom (x, y) at arc length s (clamped to the path).  # (2,)"""
        return _interpolate(self.points, self.s, np.array([np.clip(s, 0.0, self.length)]))[0]

    def heading_at(self, s: float) -> float:
        """[rad] planned heading at arc length s: that of the path point at or before it."""
        index = int(np.searchsorted(self.s, np.clip(s, 0.0, self.length), side="right")) - 1
        return float(self.headings[max(0, min(index, len(self.headings) - 1))])

    def next_turn(self, s: float, angle: float) -> float:
        """[m] arc length of the first path point after s whose planned heading differs from the heading at s by more
        than `angle` [rad] (a turn in place ahead); the path's length if none."""
        current = self.heading_at(s)
        ahead = self.s > s + 1e-9
        turned = ahead & (np.abs(np.arctan2(np.sin(self.headings - current), np.cos(self.headings - current))) > angle)
        return float(self.s[np.argmax(turned)]) if turned.any() else self.length

    def distance_to(self, xy: np.ndarray, s: float) -> float:
        """[m] from odom (x, y) to the path point at arc length s."""
        return float(np.linalg.norm(self.point_at(s) - np.asarray(xy)[:2]))


class Navigator:
    """The grids walk_to plans around, the costmap and the path (see the module docstring).

    Args:
        footprint: the robot's outline (`RobotGeometry.footprint`).
        speeds: walking and turning speeds for the heading plan.
        params: navigation parameters.
        final_stretch: [m] the robot walks the last stretch of a path turned to the goal's heading.
    """

    def __init__(self, footprint: Footprint, speeds: Speeds, params: NavigationParameters,
                 final_stretch: float = 0.0) -> None:
        self.footprint = footprint
        self.final_stretch = final_stretch
        """[m] the last stretch of a path is walked already turned to the goal's heading (`plan_headings`)."""
        self.speeds = speeds
        self.params = params
        self.layers: dict[str, GridLayer] = {}
        self.version = 0
        """Counts changes of the grids' contents."""
        self._points = footprint.sample_points(0.7 * params.resolution, params.footprint_padding)
        self._costmap: tuple[int, tuple[float, ...], Costmap] | None = None

    @property
    def active(self) -> bool:
        """Some grid is known: walk_to plans paths (else it walks straight, as without navigation)."""
        return bool(self.layers)

    def set_layer(self, name: str, layer: GridLayer | None) -> bool:
        """Replace (None: drop) one input grid; returns whether the contents changed."""
        old = self.layers.get(name)
        if layer is None:
            if old is None:
                return False
            del self.layers[name]
        elif layer.same_as(old):
            self.layers[name] = layer  # a newer stamp
            return False
        else:
            if layer.data.ndim != 2 or layer.resolution <= 0.0 or not math.isfinite(layer.resolution):
                raise NavigationError(f"grid '{name}' is not a 2D grid with a positive resolution")
            self.layers[name] = layer
        self.version += 1
        return True

    def drop_stale(self, name: str, now: float, timeout: float) -> bool:
        """Drop grid `name` when its stamp is older than `timeout` [s]; returns whether it was dropped."""
        layer = self.layers.get(name)
        if layer is not None and now - layer.time > timeout:
            return self.set_layer(name, None)
        return False

    def costmap(self, start: np.ndarray, goal: np.ndarray) -> Costmap:
        """The costmap over the box around `start` and `goal` (odom x, y) grown by `padding` (cached per grid
        version and box)."""
        pad = self.params.padding
        lower = np.floor((np.minimum(start[:2], goal[:2]) - pad) / self.params.resolution) * self.params.resolution
        upper = np.ceil((np.maximum(start[:2], goal[:2]) + pad) / self.params.resolution) * self.params.resolution
        key = (*lower.tolist(), *upper.tolist())
        if self._costmap is not None and self._costmap[0] == self.version and self._costmap[1] == key:
            return self._costmap[2]
        costmap = Costmap.build(list(self.layers.values()), lower, upper, self.footprint, self.params)
        self._costmap = (self.version, key, costmap)
        return costmap

    def check_goal(self, goal: np.ndarray, costmap: Costmap) -> None:
        """Raise NavigationError if the robot standing at `goal` (x, y, yaw) would overlap an occupied cell."""
        exact = self.footprint.sample_points(0.7 * costmap.resolution)
        if not costmap.footprint_clear(np.asarray(goal)[None, :], exact, 0.0)[0]:
            raise NavigationError(f"goal ({goal[0]:.2f}, {goal[1]:.2f}) m, {math.degrees(goal[2]):.0f} deg is inside "
                                  "an obstacle: the robot's footprint there overlaps an occupied cell")

    def clear_goal(self, start: np.ndarray, goal: np.ndarray) -> tuple[np.ndarray, float]:
        """`goal` (x, y, yaw) if the robot's footprint there is clear; else the nearest pose with the same heading
        within `goal_tolerance` where it is, and how far the goal moved [m]. Raises NavigationError when there is
        none (the message says the goal is inside an obstacle)."""
        goal = np.asarray(goal, dtype=float)
        costmap = self.costmap(start, goal)
        exact = self.footprint.sample_points(0.7 * costmap.resolution)
        if costmap.footprint_clear(goal[None, :], exact, 0.0)[0]:
            return goal, 0.0
        step = 0.5 * costmap.resolution
        reach = int(self.params.goal_tolerance / step) if step > 0 else 0
        offsets = np.array([(i * step, j * step) for i in range(-reach, reach + 1) for j in range(-reach, reach + 1)
                            if 0 < math.hypot(i, j) * step <= self.params.goal_tolerance + 1e-9]).reshape(-1, 2)
        if len(offsets):
            offsets = offsets[np.argsort(np.hypot(offsets[:, 0], offsets[:, 1]), kind="stable")]
            candidates = np.column_stack([goal[:2] + offsets, np.full(len(offsets), goal[2])])
            clear = costmap.footprint_clear(candidates, exact, 0.0)
            if np.any(clear):
                k = int(np.argmax(clear))
                return candidates[k], float(np.hypot(*offsets[k]))
        self.check_goal(goal, costmap)  # raises, with the reason
        return goal, 0.0

    def plan(self, start: np.ndarray, goal: np.ndarray) -> NavPath:
        """A path from base pose `start` to `goal` (odom x, y, yaw).

        Raises:
            NavigationError: the goal is inside an obstacle or cannot be reached.
        """
        costmap = self.costmap(start, goal)
        self.check_goal(goal, costmap)
        closed = np.zeros(costmap.shape, bool)
        rows, columns = np.indices(costmap.shape)
        radius = self.params.detour_radius / costmap.resolution
        for attempt in range(self.params.detour_attempts + 1):
            try:
                waypoints = plan_path(costmap, start[:2], goal[:2], self.params, closed)
            except NavigationError:
                if attempt == 0:
                    raise
                break  # no detour left
            points, s = resample(waypoints, self.params.path_sample)
            headings, blocked = plan_headings(costmap, points, float(start[2]), float(goal[2]), self.footprint,
                                              self.speeds, self.params, self.final_stretch)
            if not blocked.any():
                return NavPath(points, s, headings, waypoints, 0, costmap.occupied.copy())
            # A gap the centre passes but the robot does not: close it and look for another way (a detour).
            for row, column in costmap.cell_of(points[blocked]):
                closed |= (rows - row) ** 2 + (columns - column) ** 2 <= radius ** 2
        raise NavigationError(f"no way to ({goal[0]:.2f}, {goal[1]:.2f}) m: the robot's footprint does not fit "
                              f"through at {int(blocked.sum())} poses of the best path, whatever its heading "
                              f"({attempt} detours tried)")

    def changed_near(self, path: NavPath, s: float, goal: np.ndarray) -> tuple[bool, NavPath]:
        """Whether an occupied cell appeared or went within the circumscribed radius + margin of the rest of `path`
        (from arc length s) since it was planned or last checked; and the path with the new cells as its reference.
        Changes elsewhere (perception's grid moving with the robot, far cells) do not count."""
        costmap = self.costmap(path.points[0], goal)
        if path.occupied is None or path.occupied.shape != costmap.occupied.shape:
            return True, replace(path, occupied=costmap.occupied.copy())
        changed = np.argwhere(path.occupied != costmap.occupied)
        updated = replace(path, occupied=costmap.occupied.copy())
        rest = path.points[path.s >= s - 1e-9]
        if len(changed) == 0 or len(rest) == 0:
            return False, updated
        centres = costmap.centre_of(changed)
        reach = self.footprint.circumscribed_radius + self.params.inflation_margin
        near = np.min(np.linalg.norm(centres[:, None, :] - rest[None, :, :], axis=2), axis=1) < reach
        return bool(np.any(near)), updated

    def blocked(self, path: NavPath, s: float, start: np.ndarray, goal: np.ndarray) -> bool:
        """Whether the rest of `path` from arc length s crosses a lethal cell or its footprint (at the planned
        headings) now touches an obstacle it did not touch when planned. (`start` is unused: the costmap covers the
        path's first point and the goal, so that it is rebuilt only when a grid changes.)"""
        del start
        costmap = self.costmap(path.points[0], goal)
        keep = path.s >= s - 1e-9
        points, headings = path.points[keep], path.headings[keep]
        if len(points) == 0:
            return False
        cells = costmap.cell_of(points)
        inside = costmap.inside(cells)
        lethal = costmap.lethal[cells[inside][:, 0], cells[inside][:, 1]]
        start_clearance = float(costmap.clearance_at(points[0]))
        goal_clearance = float(costmap.clearance_at(points[-1]))
        lethal &= costmap.clearance[cells[inside][:, 0], cells[inside][:, 1]] < min(start_clearance,
                                                                                     goal_clearance) - 1e-9
        if np.any(lethal):
            return True
        clear = costmap.footprint_clear(np.column_stack([points, headings]), self._points, 0.0)
        return int(np.sum(~clear)) > path.blocked_poses

    def cost(self, path: NavPath, s: float, start: np.ndarray, goal: np.ndarray) -> float:
        """Cost of the rest of `path` from arc length s on the costmap over the box of `start` and the goal."""
        costmap = self.costmap(start, goal)
        rest = np.vstack([path.point_at(s)[None, :], path.points[path.s > s]])
        return path_cost(costmap, rest, self.params.cost_weight)
