"""The shipped two-robot sorting cell (config/scenes/two_station_cell.yaml, its cells config/cells/two_station_robot_
1.yaml and _2.yaml; docs/fleet.md): the cells agree with the scene (the test reads both; no node does), the shared bin
is one resource for both robots, and every station keeps each robot clear of the other's protective stop."""

from __future__ import annotations

import math

import pytest

from legion_common.parameters import from_flat, parameter_specs
from legion_description import load_robot_config
from legion_executive.cell import load_cell
from legion_safety.safety_node import SafetyParameters
from legion_safety.separation import RobotSafety, protective_separation
from legion_sim.scene import load_scene
from legion_testing.walking_loop import stack_parameters

CELLS = {"robot_1": "two_station_robot_1", "robot_2": "two_station_robot_2"}


@pytest.fixture(scope="module")
def layout():
    scene = load_scene("two_station_cell")
    return scene, {robot: load_cell(name) for robot, name in CELLS.items()}


def test_each_cell_starts_its_robot_at_its_table_station_and_finds_the_scenes_bins_where_it_says(layout):
    scene, cells = layout
    starts = {robot.name: robot.start for robot in scene.robots}
    assert set(starts) == set(cells)
    bins = {b.name: b for b in scene.bins}
    for robot, cell in cells.items():
        (station,) = cell.work_stations
        start = starts[robot]
        assert math.dist(station.pose[:2], (start.x, start.y)) < 0.01 and station.pose[2] == pytest.approx(start.yaw)
        for bin_ in cell.bins:
            assert math.dist(bin_.position, bins[bin_.name].position) <= cell.policy.bin_tolerance / 2, bin_.name
            assert set(bin_.accepts) == {bins[bin_.name].accepts}
        # every part on the robot's table has a bin in its cell; no part lies on a table of the other cell
        mine = [p for p in scene.parts if cell.table_at(p.position[0], p.position[1])]
        assert len(mine) == 3 and all(cell.bin_for(p.label) is not None for p in mine), [p.id for p in mine]
    assert sum(len([p for p in scene.parts if c.table_at(p.position[0], p.position[1])]) for c in cells.values()) \
        == len(scene.parts)


def test_the_shared_bin_is_one_station_of_one_name_in_both_cells(layout):
    _, cells = layout
    one, two = cells.values()
    shared = {b.name for b in one.bins} & {b.name for b in two.bins}
    assert shared == {"yellow_bin"}
    stations = [cell.station(next(b for b in cell.bins if b.name == "yellow_bin").station) for cell in (one, two)]
    assert stations[0] == stations[1]  # the same name (the fleet coordinator's resource) and the same pose


def test_no_station_puts_a_robot_inside_the_others_protective_stop_and_none_slows_it_below_half_speed(layout):
    """With the other robot standing at its table (where it works, or waits for the shared station), every station of
    a robot is beyond S_p + both body radii from it, and in the slow-down zone above it (`zones.warning_margin`) no
    deeper than half: the speed scale is at least 0.5 (0.75 at the shared station, 1 at the others)."""
    _, cells = layout
    names = {spec.name for spec in parameter_specs(SafetyParameters)}
    safety = from_flat(SafetyParameters, {k: v for k, v in stack_parameters("safety").items() if k in names})
    robot = RobotSafety.from_mapping(dict(load_robot_config("centurion").safety))
    stop = protective_separation(safety.separation, robot, 0.0).protective_distance + 2 * robot.body_radius
    margin = safety.zones.warning_margin
    for name, cell in cells.items():
        other = next(c for n, c in cells.items() if n != name)
        (table,) = other.work_stations
        for station in cell.stations:
            distance = math.dist(station.pose[:2], table.pose[:2])
            scale = min(1.0, (distance - stop) / margin)
            assert scale >= 0.5, (f"{name}'s {station.name} is {distance:.2f} m from the other's table: speed scale "
                                  f"{scale:.2f} (stop below {stop:.2f} m)")
