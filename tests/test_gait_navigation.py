"""legion_gait.navigation on synthetic grids: costmap inflation, A* with shortcuts, the heading plan along the path,
rejections, replanning when a grid changes; and the planner's walk_to with grids (no simulation)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from legion_gait.navigation import (
    Costmap,
    Footprint,
    GridLayer,
    NavigationError,
    Navigator,
    Speeds,
    plan_path,
)
from legion_gait.parameters import NavigationParameters

PARAMS = NavigationParameters()
FOOTPRINT = Footprint(front=0.22, back=0.11, half_width=0.33)
SPEEDS = Speeds(forward=0.5, backward=0.3, lateral=0.15, yaw_rate=0.6)
RES = 0.05
ORIGIN = (-2.0, -2.0)


def empty(size: float = 4.0) -> np.ndarray:
    cells = round(size / RES)
    return np.zeros((cells, cells), np.int8)


def fill(data: np.ndarray, x0: float, x1: float, y0: float, y1: float, value: int = 100) -> np.ndarray:
    """Set the cells of the odom box [x0, x1] x [y0, y1] (grid origin ORIGIN)."""
    c0, c1 = round((x0 - ORIGIN[0]) / RES), round((x1 - ORIGIN[0]) / RES)
    r0, r1 = round((y0 - ORIGIN[1]) / RES), round((y1 - ORIGIN[1]) / RES)
    data[r0:r1, c0:c1] = value
    return data


def wall_with_gap(gap: float) -> np.ndarray:
    """A 0.1 m thick wall across the grid at x = 0, with a gap of `gap` [m] centred on y = 0.5."""
    data = fill(empty(), 0.0, 0.1, -2.0, 2.0)
    return fill(data, 0.0, 0.1, 0.5 - gap / 2, 0.5 + gap / 2, 0)


def navigator(data: np.ndarray) -> Navigator:
    nav = Navigator(FOOTPRINT, SPEEDS, PARAMS)
    nav.set_layer("map", GridLayer(ORIGIN, RES, data))
    return nav


def test_costmap_is_lethal_within_the_inscribed_radius_and_decays_to_the_circumscribed_plus_margin() -> None:
    data = fill(empty(), -0.05, 0.0, -0.05, 0.0)  # one occupied cell, centre (-0.025, -0.025)
    costmap = Costmap.build([GridLayer(ORIGIN, RES, data)], np.array([-1.0, -1.0]), np.array([1.0, 1.0]),
                            FOOTPRINT, PARAMS)
    centre = np.array([-0.025, -0.025])

    def at(dx: float) -> tuple[bool, float]:
        cell = costmap.cell_of(centre + np.array([dx, 0.0]))
        return bool(costmap.lethal[tuple(cell)]), float(costmap.cost[tuple(cell)])

    assert at(0.10) == (True, 1.0)  # inside the inscribed radius (0.11 m)
    lethal, near = at(0.15)
    assert not lethal and 0.5 < near < 1.0
    _, mid = at(0.35)
    assert 0.0 < mid < near
    reach = FOOTPRINT.circumscribed_radius + PARAMS.inflation_margin
    assert at(reach + 0.05) == (False, 0.0)
    assert abs(float(costmap.clearance[tuple(costmap.cell_of(centre + np.array([0.3, 0.4])))]) - 0.5) < 1e-9


def test_path_goes_through_the_gap_of_a_wall_and_keeps_the_footprint_clear() -> None:
    nav = navigator(wall_with_gap(1.0))  # (the wall spans the planning area: start and goal +- 1.5 m)
    path = nav.plan(np.array([-1.0, 0.0, 0.0]), np.array([1.0, 0.0, 0.0]))
    crossing = path.points[np.argmin(np.abs(path.points[:, 0] - 0.05))]
    assert abs(crossing[1] - 0.5) < 0.1, f"crossed the wall at y = {crossing[1]:.2f} m"
    assert path.blocked_poses == 0
    costmap = nav.costmap(np.array([-1.0, 0.0]), np.array([1.0, 0.0]))
    points = FOOTPRINT.sample_points(0.02, PARAMS.footprint_padding - 0.01)
    assert np.all(costmap.footprint_clear(np.column_stack([path.points, path.headings]), points, 0.0))
    # through the 1 m gap the robot (0.66 m wide) must face the wall within about 40 degrees
    near_wall = np.abs(path.points[:, 0] - 0.05) < 0.15
    assert np.all(np.abs(np.cos(path.headings[near_wall])) > math.cos(math.radians(40.0)))
    # the shortcuts leave few waypoints, and the path is not much longer than the way through the gap
    assert len(path.waypoints) < 10  # of some 60 cells
    assert path.length < 1.3 * (math.hypot(1.05, 0.5) * 2)


def test_a_gap_narrower_than_the_robot_is_no_way_through() -> None:
    nav = navigator(wall_with_gap(0.4))  # wide enough for the robot's centre, not for its footprint
    with pytest.raises(NavigationError, match="does not fit"):
        nav.plan(np.array([-1.0, 0.0, 0.0]), np.array([1.0, 0.0, 0.0]))
    nav = navigator(wall_with_gap(0.15))
    with pytest.raises(NavigationError, match="no way"):
        nav.plan(np.array([-1.0, 0.0, 0.0]), np.array([1.0, 0.0, 0.0]))


def test_a_gap_the_centre_passes_but_the_robot_does_not_is_closed_and_a_detour_found() -> None:
    """A 0.28 m gap: wider than the inscribed circle (A* goes through), narrower than the robot at any heading; a
    1.2 m gap farther away is the way."""
    data = fill(empty(), 0.0, 0.1, -2.0, 2.0)
    fill(data, 0.0, 0.1, 0.5 - 0.14, 0.5 + 0.14, 0)
    fill(data, 0.0, 0.1, -1.6, -0.4, 0)
    start, goal = np.array([-0.8, 0.5, 0.0]), np.array([0.8, 0.5, 0.0])
    no_detour = Navigator(FOOTPRINT, SPEEDS, NavigationParameters(detour_attempts=0))
    no_detour.set_layer("map", GridLayer(ORIGIN, RES, data))
    with pytest.raises(NavigationError, match="does not fit"):
        no_detour.plan(start, goal)
    path = navigator(data).plan(start, goal)
    crossing = path.points[np.argmin(np.abs(path.points[:, 0] - 0.05))]
    assert -1.6 < crossing[1] < -0.4, f"crossed the wall at y = {crossing[1]:.2f} m"
    assert path.blocked_poses == 0


def test_a_goal_inside_an_obstacle_is_rejected_with_the_reason() -> None:
    nav = navigator(fill(empty(), 0.5, 1.0, -0.5, 0.5))
    with pytest.raises(NavigationError, match="inside an obstacle"):
        nav.plan(np.array([-1.0, 0.0, 0.0]), np.array([0.75, 0.0, 0.0]))
    # next to it, facing it with the front 0.1 m from its edge, is fine
    nav.plan(np.array([-1.0, 0.0, 0.0]), np.array([0.5 - 0.1 - FOOTPRINT.front, 0.0, 0.0]))


def test_a_goal_a_little_inside_an_obstacle_moves_to_the_nearest_clear_pose() -> None:
    """Odometry drifts against the map: a station whose footprint overlaps the table by a few cm is moved back (same
    heading) by at most goal_tolerance; deeper inside, the goal is rejected."""
    nav = navigator(fill(empty(), 0.5, 1.0, -0.5, 0.5))
    start = np.array([-1.0, 0.0, 0.0])
    touching = np.array([0.5 - FOOTPRINT.front + 0.04, 0.0, 0.0])  # the front 4 cm into the table
    moved, distance = nav.clear_goal(start, touching)
    assert 0.04 <= distance <= PARAMS.goal_tolerance and moved[2] == 0.0
    assert moved[0] < touching[0] and abs(moved[1]) < 0.05
    nav.plan(start, moved)
    clear = np.array([0.0, 0.0, 0.0])
    assert nav.clear_goal(start, clear)[1] == 0.0
    with pytest.raises(NavigationError, match="inside an obstacle"):
        nav.clear_goal(start, np.array([0.5 - FOOTPRINT.front + PARAMS.goal_tolerance + 0.05, 0.0, 0.0]))


def test_an_enclosed_goal_is_unreachable() -> None:
    data = fill(empty(), 0.3, 1.7, 0.3, 1.7)
    data = fill(data, 0.4, 1.6, 0.4, 1.6, 0)  # a closed ring 0.1 m thick with 1.2 m of free space inside
    nav = navigator(data)
    with pytest.raises(NavigationError, match="no way"):
        nav.plan(np.array([-1.0, -1.0, 0.0]), np.array([1.0, 1.0, 0.0]))


def test_unknown_cells_are_traversable() -> None:
    data = np.full((80, 80), -1, np.int8)
    nav = navigator(data)
    path = nav.plan(np.array([-1.0, 0.0, 0.0]), np.array([1.0, 0.0, 0.0]))
    assert len(path.waypoints) == 2 and abs(path.length - 2.0) < 1e-9


def test_a_start_inside_the_inflated_zone_near_a_table_still_plans_out() -> None:
    # a table edge at x = 0.3: at a station (front 0.2 m from the edge) the robot is in the inflation band; with
    # its base 0.08 m from the edge (odometry drift, or a push) it is even in the lethal band: both plan out
    data = fill(empty(), 0.3, 1.3, -0.5, 0.5)
    nav = navigator(data)
    goal = np.array([-1.0, -1.5, 0.0])
    for x in (0.3 - 0.2 - FOOTPRINT.front, 0.22):
        start = np.array([x, 0.0, 0.0])
        costmap = nav.costmap(start[:2], goal[:2])
        cell = tuple(costmap.cell_of(start[:2]))
        assert costmap.cost[cell] > 0.0 and costmap.lethal[cell] == (x > 0.0)
        path = nav.plan(start, goal)
        assert path.length > 1.5
        clearance = costmap.clearance_at(path.points)
        assert np.all(clearance[len(clearance) // 2:] > FOOTPRINT.inscribed_radius), "ran along the lethal band"


def test_short_sideways_moves_stay_sideways_long_paths_face_their_direction() -> None:
    nav = navigator(empty())
    short = nav.plan(np.array([0.0, 0.0, 0.0]), np.array([0.0, 0.7, 0.0]))
    assert np.all(np.abs(short.headings) < 1e-9), "a 0.7 m sideways move should not turn"
    long = nav.plan(np.array([-1.5, -1.5, 0.0]), np.array([-1.5, 1.5, 0.0]))
    middle = long.headings[len(long.headings) // 2]
    assert abs(middle - math.pi / 2) < 0.3, f"a 3 m path walked at {math.degrees(middle):.0f} deg"


def test_turns_happen_where_the_footprint_is_clear() -> None:
    # The sorting cell's left drop station: the robot ends 0.30 m behind two bins, facing them; turning there
    # (circumscribed radius 0.39 m) would hit them, so the turn is done before, where there is room.
    data = empty()
    data = fill(data, 0.20, 0.50, 0.57, 0.87)
    data = fill(data, 0.55, 0.85, 0.57, 0.87)
    data = fill(data, 0.35, 0.85, -0.5, 0.5)
    nav = navigator(data)
    goal = np.array([0.525, 1.17, -math.pi / 2])
    path = nav.plan(np.array([-0.1, 0.0, 0.0]), goal)
    assert path.blocked_poses == 0
    near_goal = np.linalg.norm(path.points - goal[:2], axis=1) < 0.35
    assert np.all(np.abs(np.sin(path.headings[near_goal]) + 1.0) < 0.05), "turned next to the bins"
    assert abs(path.headings[-1] + math.pi / 2) < 1e-9


def test_replanning_when_a_grid_changes() -> None:
    nav = navigator(empty())
    start, goal = np.array([-1.0, 0.0, 0.0]), np.array([1.0, 0.0, 0.0])
    path = nav.plan(start, goal)
    assert not nav.blocked(path, 0.0, start, goal)
    unchanged = nav.set_layer("map", GridLayer(ORIGIN, RES, empty()))
    assert not unchanged and nav.version == 1
    box = fill(empty(), -0.2, 0.2, -0.3, 0.3)
    assert nav.set_layer("obstacles", GridLayer(ORIGIN, RES, box, time=1.0))
    assert nav.blocked(path, 0.0, start, goal)
    detour = nav.plan(start, goal)
    assert np.min(np.abs(detour.points[:, 1])) < 0.05 and np.max(np.abs(detour.points[:, 1])) > 0.6
    assert not nav.blocked(detour, 0.0, start, goal)
    # the perception grid goes stale: dropped, the straight path is free again
    assert nav.drop_stale("obstacles", now=10.0, timeout=5.0)
    assert not nav.blocked(path, 0.0, start, goal)


def test_plan_path_errors_outside_the_area() -> None:
    costmap = Costmap.build([], np.array([0.0, 0.0]), np.array([1.0, 1.0]), FOOTPRINT, PARAMS)
    with pytest.raises(NavigationError, match="outside"):
        plan_path(costmap, np.array([0.5, 0.5]), np.array([3.0, 0.5]), PARAMS)


def test_the_planner_rejects_unreachable_goals_and_aborts_when_the_path_is_blocked_for_good() -> None:
    from legion_gait.errors import GaitError
    from legion_gait.parameters import GaitParameters
    from legion_gait.robot_geometry import RobotGeometry
    from legion_testing.ideal_walker import IdealWalker

    walker = IdealWalker(GaitParameters(), RobotGeometry())
    planner = walker.planner
    walker.run(0.5)
    planner.set_grid("map", ORIGIN, RES, fill(empty(), 0.5, 1.0, -0.5, 0.5), 0.0)
    with pytest.raises(GaitError, match="inside an obstacle"):
        planner.check_goal(walker.time, "odom", (0.75, 0.0, 0.0), (0.0, 0.0, 0.0, 1.0))
    progress = planner.set_goal(walker.time, "odom", (1.5, 0.0, 0.0), (0.0, 0.0, 0.0, 1.0))
    assert planner.route is not None and planner.route.length > 1.6
    walker.run(1.0)
    # a wall closes every way: the goal is aborted with the reason
    planner.set_grid("obstacles", ORIGIN, RES, fill(empty(), 1.2, 1.3, -2.0, 2.0), walker.time)
    walker.run(1.0)
    assert progress.status.value == "aborted" and "path blocked" in progress.message


def test_footprint_from_the_robot_file_or_derived_from_the_model(tmp_path) -> None:
    import yaml

    from legion_description.robot_config import load_robot_config
    from legion_description.robot_files import DescriptionError
    from legion_gait.robot_geometry import RobotGeometry
    from legion_model import RobotModel
    from legion_testing.humanoids import SPRITE, write_humanoid

    centurion = RobotGeometry.from_model(RobotModel.load("centurion", lock_hands=True))
    assert centurion.footprint == (0.22, 0.11, 0.33)
    path = write_humanoid(SPRITE, tmp_path / "robots")  # a 1.3 m robot whose file gives no footprint
    sprite = RobotGeometry.from_model(RobotModel.load(SPRITE.name, config_path=path))
    front, back, half_width = sprite.footprint
    assert front > 0.5 * sprite.sole_length and back > 0.5 * sprite.sole_length
    assert 0.5 * sprite.hip_width < half_width < 0.5, sprite.footprint
    config = yaml.safe_load(path.read_text())
    config["walking"] = {**config.get("walking", {}), "footprint": {"front": 0.2, "back": 0.1}}
    path.write_text(yaml.safe_dump(config))
    with pytest.raises(DescriptionError, match=r"walking\.footprint"):
        load_robot_config(SPRITE.name, path=path)
