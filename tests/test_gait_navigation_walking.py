"""walk_to around obstacles in closed loop, in-process: the gait planner core (with its path planning,
legion_gait.navigation) + the whole-body controller core + MuJoCo, with leg odometry (legion_testing.walking_loop).

The planner gets a static map rasterised here from a cell-like obstacle list (what the executive publishes on `map`
from the cell file); the simulator's ground truth only judges: the pose reached, no fall, and every robot geom's
distance to the tables, bins and obstacles (mujoco.mj_geomDistance).
"""

from __future__ import annotations

import math

import mujoco
import numpy as np
import pytest

pytest.importorskip("legion_control")
pytest.importorskip("legion_sim")

from legion_testing.walking_loop import WalkingLoop, heading_error

pytestmark = pytest.mark.long  # in-process walks of 20 s or more each: left out of `./test.sh --fast`

RESOLUTION = 0.05
"""[m] the map's cells."""

SORTING_CELL = [
    # (kind, x, y, yaw, size x / radius, size y): the cell file's tables, bins and keep-out areas
    ("box", 0.60, 0.0, 0.0, 0.50, 1.00),
    ("box", 0.35, 0.72, 0.0, 0.30, 0.30), ("box", 0.70, 0.72, 0.0, 0.30, 0.30),
    ("box", 0.35, -0.72, 0.0, 0.30, 0.30), ("box", 0.70, -0.72, 0.0, 0.30, 0.30),
    ("circle", 1.60, 1.30, 0.0, 0.15, 0.0),
    ("box", -1.50, -1.40, 0.4, 0.60, 0.40),
]
SORTING_BODIES = ("work_table", "red_bin", "green_bin", "blue_bin", "yellow_bin", "pillar", "cabinet")
OBSTACLE_COURSE = [("box", 1.50, 0.0, 0.0, 0.40, 0.60)]


def rasterised(shapes: list[tuple], lower: tuple[float, float], upper: tuple[float, float]
               ) -> tuple[tuple[float, float], np.ndarray]:
    """A map (origin, int8 data: 100 occupied, 0 free) where every cell the shapes overlap is occupied."""
    columns = round((upper[0] - lower[0]) / RESOLUTION)
    rows = round((upper[1] - lower[1]) / RESOLUTION)
    x, y = np.meshgrid(lower[0] + (np.arange(columns) + 0.5) * RESOLUTION,
                       lower[1] + (np.arange(rows) + 0.5) * RESOLUTION)
    grow = 0.5 * RESOLUTION * math.sqrt(2.0)  # a cell whose centre is this close overlaps the shape
    data = np.zeros((rows, columns), np.int8)
    for kind, cx, cy, yaw, a, b in shapes:
        dx, dy = x - cx, y - cy
        if kind == "circle":
            inside = np.hypot(dx, dy) <= a + grow
        else:
            u = np.cos(yaw) * dx + np.sin(yaw) * dy
            v = -np.sin(yaw) * dx + np.cos(yaw) * dy
            outside = np.hypot(np.maximum(np.abs(u) - 0.5 * a, 0.0), np.maximum(np.abs(v) - 0.5 * b, 0.0))
            inside = outside <= grow
        data[inside] = 100
    return lower, data


class Clearance:
    """The smallest distance [m] between any robot geom and the named scene objects' geoms, from the simulation's
    ground truth (mj_geomDistance, with a bounding-sphere prefilter)."""

    def __init__(self, loop: WalkingLoop, bodies: tuple[str, ...], watch: float = 0.3) -> None:
        model = loop.loop.sim.model
        self.model, self.data, self.watch = model, loop.loop.sim.data, watch
        base = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, loop.model.config.frames["base"])
        self.robot = np.array([g for g in range(model.ngeom) if model.body_rootid[model.geom_bodyid[g]] == base])
        names = {g: mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_GEOM, g) or "" for g in range(model.ngeom)}
        self.names = {g: name for g, name in names.items() if name.split("/")[0] in bodies}  # `<object>/<part>`
        assert {name.split("/")[0] for name in self.names.values()} == set(bodies), f"scene objects missing: {bodies}"
        self.scene = np.array(sorted(self.names), dtype=int)
        self.closest: tuple = (math.inf, "", "", 0.0)
        """(distance [m], robot body, scene geom, time [s]) of the closest approach so far."""
        self.closest_walking: tuple = (math.inf, "", "", 0.0)
        """The same, leaving out the stepping at the stations given to `update` as `at_station`."""
        self._fromto = np.zeros(6)

    def update(self, at_station: bool = False) -> float:
        model, data = self.model, self.data
        if len(self.scene) == 0:
            return self.closest[0]
        rx, sx = data.geom_xpos[self.robot], data.geom_xpos[self.scene]
        gap = (np.linalg.norm(rx[:, None, :] - sx[None, :, :], axis=2) - model.geom_rbound[self.robot][:, None]
               - model.geom_rbound[self.scene][None, :])
        for i, j in zip(*np.nonzero(gap < self.watch), strict=True):
            g1, g2 = int(self.robot[i]), int(self.scene[j])
            distance = mujoco.mj_geomDistance(model, data, g1, g2, self.watch, self._fromto)
            body = mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_BODY, model.geom_bodyid[g1])
            record = (float(distance), body, self.names[g2], round(float(data.time), 2))
            self.closest = min(self.closest, record)
            if not at_station:
                self.closest_walking = min(self.closest_walking, record)
        return self.closest[0]


def new_loop(scene: str, shapes: list[tuple], bodies: tuple[str, ...]) -> tuple[WalkingLoop, Clearance]:
    loop = WalkingLoop(scene=scene, odometry="leg")
    origin, data = rasterised(shapes, (-3.0, -3.0), (5.0, 3.0))
    loop.planner.set_grid("map", origin, RESOLUTION, data, 0.0)
    assert loop.run(1.0)
    return loop, Clearance(loop, bodies)


def walk_to(loop: WalkingLoop, clearance: Clearance, goal: tuple[float, float, float], timeout: float,
            stations: tuple[tuple[float, float, float], ...] = ()) -> None:
    """walk_to `goal` (x, y, yaw) and check it was reached (5 cm, 3 deg) without a fall; the clearance is watched at
    every planner tick (the steps within STATION_ZONE of `stations` apart, `Clearance.closest_walking`)."""

    def watch(_: WalkingLoop) -> None:
        base = loop.base_pose()
        clearance.update(any(math.hypot(base[0] - x, base[1] - y) < STATION_ZONE for x, y, _ in stations))

    x, y, yaw = goal
    progress = loop.planner.set_goal(loop.time, "odom", (x, y, 0.0), (0.0, 0.0, math.sin(yaw / 2),
                                                                       math.cos(yaw / 2)))
    start = loop.time
    while not progress.done:
        assert loop.run(0.25, on_tick=watch), (
            f"fell at {loop.base_pose().round(3)} on the way to {goal}; closest {clearance.closest}")
        assert loop.time - start < timeout, f"{goal} not reached in {timeout} s: {progress.distance_remaining:.3f} m"
    assert progress.status.value == "succeeded", progress.message
    assert loop.run(1.0)
    final = loop.base_pose()
    assert np.linalg.norm(final[:2] - np.array(goal[:2])) < 0.05, f"stopped at {final.round(3)} for {goal}"
    assert math.degrees(heading_error(final[2], yaw)) < 3.0, f"stopped at {final.round(3)} for {goal}"


STATION_ZONE = 0.2
"""[m] around a drop station: the last steps onto it."""
STATION_CLEARANCE = 0.03
"""[m] what the steps onto a drop station keep from the bins. The sorting cell's drop stations put the base 0.30 m
behind the bins' edge; Centurion's swing thigh reaches ~0.28 m ahead of the base when it steps (0.22 m standing), so
stepping there keeps 3-4 cm, not 5 (measured 0.040 m and 0.044 m, the thighs against the green and blue bins)."""
TABLE = (0.0, 0.0, 0.0)
LEFT_DROP = (0.35, 1.21, -math.pi / 2)
RIGHT_DROP = (0.70, -1.21, math.pi / 2)
"""The shipped cell's table station and two of its drop stations (config/cells/sorting_cell.yaml: red_drop and
yellow_drop)."""


WALKING_CLEARANCE = 0.04
"""[m] what walking keeps from the table and bins away from the stations: the swing thigh reaches past the standing
footprint the path is planned with (measured 0.047 m, the left thigh passing the red bin's near wall)."""


@pytest.mark.slow
@pytest.mark.xfail(strict=False, reason=(
    "Known failure (issue 13, open): since the leg odometry's touch-down fix the robot no longer falls on these "
    "round trips and reaches every station, but it passes too close: measured 2.8 cm from the red bin at its "
    "station (3 cm asked) and, on the way back from the yellow bin's station, a right finger 0.6 cm from the table "
    "top (4 cm asked): the hands and the swing thigh reach past the standing footprint the path is planned with."))
@pytest.mark.parametrize("station", [LEFT_DROP, RIGHT_DROP], ids=["left_drop", "right_drop"])
def test_walks_between_the_sorting_cell_stations_clear_of_table_and_bins(station: tuple[float, float, float]) -> None:
    loop, clearance = new_loop("sorting_cell", SORTING_CELL, SORTING_BODIES)
    walk_to(loop, clearance, TABLE, timeout=15.0)
    walk_to(loop, clearance, station, timeout=40.0, stations=(station,))
    walk_to(loop, clearance, TABLE, timeout=40.0, stations=(station,))
    assert clearance.closest_walking[0] > WALKING_CLEARANCE, f"came within {clearance.closest_walking[0]:.3f} m: " \
                                                f"{clearance.closest_walking}"
    assert clearance.closest[0] > STATION_CLEARANCE, f"came within {clearance.closest[0]:.3f} m: {clearance.closest}"
    assert loop.rejections == 0


def test_walks_around_a_box_on_the_straight_line() -> None:
    loop, clearance = new_loop("obstacle_course", OBSTACLE_COURSE, ("crate",))
    walk_to(loop, clearance, (3.0, 0.0, 0.0), timeout=40.0)
    assert clearance.closest[0] > 0.10, f"came within {clearance.closest[0]:.3f} m: {clearance.closest}"
