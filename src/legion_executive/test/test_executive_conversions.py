"""The executive's message conversions, from message objects (no rclpy.init), and the cell's occupancy grid."""

from __future__ import annotations

import math

import numpy as np
from geometry_msgs.msg import Pose, PoseArray

from legion_executive import conversions as conv
from legion_executive.cell import load_cell
from legion_executive.cell_map import FREE, OCCUPIED, cell_map
from legion_executive.shift import PartRecord, State
from legion_executive.tree import ExecutiveStatus
from legion_interfaces.action import Pick, Place, WalkTo
from legion_interfaces.msg import DetectedObject, DetectedObjectArray


def test_objects_split_into_parts_and_bins_and_non_finite_ones_are_dropped() -> None:
    msg = DetectedObjectArray()
    msg.header.stamp.sec = 12
    for object_id, label, x in (("red_cube_1", "red_cube", 0.5), ("red_bin_1", "red_bin", 0.3),
                                ("blue_cube_1", "blue_cube", math.nan)):
        obj = DetectedObject(id=object_id, label=label)
        obj.pose.position.x = x
        msg.objects.append(obj)
    scene = conv.scene_from_objects(msg)
    assert scene.stamp == 12.0
    assert [p.id for p in scene.parts] == ["red_cube_1"] and [b.id for b in scene.bins] == ["red_bin_1"]
    people = PoseArray(poses=[Pose(), Pose()])
    people.poses[1].position.x = math.inf
    assert conv.people_from_poses(people) == [(0.0, 0.0)]


def test_manipulation_results_walk_goals_and_the_status() -> None:
    result = Place.Result(success=True, code=Place.Result.SUCCEEDED, message="ok", side="left", left_holds="",
                          right_holds="x", verified=True)
    outcome = conv.manipulation_outcome(result, conv.code_names(Place.Result))
    assert (outcome.code, outcome.side, outcome.holds, outcome.verified) == ("SUCCEEDED", "left",
                                                                             {"left": "", "right": "x"}, True)
    assert conv.code_names(Pick.Result)[Pick.Result.SLIPPED] == "SLIPPED"
    goal = conv.walk_goal(WalkTo.Goal, 1.0, 2.0, math.pi / 2)
    assert goal.target.header.frame_id == "odom" and math.isclose(goal.target.pose.orientation.z, math.sqrt(0.5))
    record = PartRecord("red_cube_1", "red_cube", "red_bin", "skipped", 3, 1.5, 7.25, "GRASP_MISSED")
    status = ExecutiveStatus(State.RUNNING, "picking", "red_cube_1", "red_cube",
                             {"seen": 2, "sorted": 1, "skipped": 1}, (record,), "tree", "decided")
    msg = conv.status_msg(status, 8.0, "sorting_cell")
    assert (msg.state, msg.cell, msg.seen, msg.sorted, msg.skipped, msg.failed) == ("RUNNING", "sorting_cell", 2, 1,
                                                                                   1, 0)
    part = msg.parts[0]
    assert (part.outcome, part.attempts, part.end.sec, part.end.nanosec) == ("skipped", 3, 7, 250_000_000)


def test_the_cell_map_marks_tables_bins_and_keep_out_areas() -> None:
    cell = load_cell("sorting_cell")
    grid = cell_map(cell, 0.05, 1.0)
    assert grid.occupied(0.6, 0.0) and grid.occupied(0.35, 0.72) and grid.occupied(1.6, 1.3)  # table, bin, pillar
    assert grid.occupied(-1.5, -1.4)  # the cabinet (a turned box)
    assert not grid.occupied(0.0, 0.0) and not grid.occupied(-0.10, 0.0)  # the start and the table station
    for station in cell.stations:
        assert not grid.occupied(*station.pose[:2])
    assert set(np.unique(grid.data)) == {FREE, OCCUPIED}
    msg = conv.grid_msg(grid, 3.0)
    assert msg.header.frame_id == "odom" and msg.info.width * msg.info.height == len(msg.data)
    col = int((0.6 - msg.info.origin.position.x) / msg.info.resolution)
    row = int((0.0 - msg.info.origin.position.y) / msg.info.resolution)
    assert msg.data[row * msg.info.width + col] == OCCUPIED
