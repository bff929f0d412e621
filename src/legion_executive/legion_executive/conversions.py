"""Message <-> core conversions of the executive: perception reports, action results, the status, the map.

Pure functions over message objects (no node, no rclpy.init), tested from messages.
"""

from __future__ import annotations

import math

from legion_common.messages import pose_arrays
from legion_common.stamps import header_seconds, to_stamp
from legion_common.transforms import quaternion_from_yaw
from legion_executive.cell_map import CellMap
from legion_executive.clients import Outcome, PerceivedObject, Scene
from legion_executive.shift import PartRecord
from legion_executive.tree import ExecutiveStatus

BIN_SUFFIX = "_bin"
"""Perception labels containers `<colour>_bin`; everything else it reports is a part."""


def scene_from_objects(msg) -> Scene:
    """A DetectedObjectArray (frame odom) as parts and bins; objects with a non-finite position are left out."""
    parts, bins = [], []
    for obj in msg.objects:
        position, _ = pose_arrays(obj.pose)
        if not all(math.isfinite(v) for v in position):
            continue
        item = PerceivedObject(obj.id, obj.label, (float(position[0]), float(position[1]), float(position[2])))
        (bins if obj.label.endswith(BIN_SUFFIX) else parts).append(item)
    return Scene(header_seconds(msg), tuple(parts), tuple(bins))


def people_from_poses(msg) -> list[tuple[float, float]]:
    """perception/people (PoseArray in odom) as (x, y) [m]; non-finite poses are left out."""
    return [(p.position.x, p.position.y) for p in msg.poses
            if math.isfinite(p.position.x) and math.isfinite(p.position.y)]


def code_names(result_type) -> dict[int, str]:
    """Result code value -> name, from an action result's constants (SUCCEEDED=0, ...)."""
    return {getattr(result_type, name): name for name in dir(result_type)
            if name.isupper() and isinstance(getattr(result_type, name), int)}


def manipulation_outcome(result, names: dict[int, str]) -> Outcome:
    """A Pick or Place result as an Outcome (code by name, what each hand holds, `verified` for a place)."""
    return Outcome(code=names.get(int(result.code), str(result.code)), message=result.message, side=result.side,
                   holds={"left": result.left_holds, "right": result.right_holds},
                   verified=bool(getattr(result, "verified", False)))


def walk_goal(goal_type, x: float, y: float, yaw: float, frame: str = "odom"):
    """A WalkTo goal for base_footprint at (x, y, yaw) in `frame`."""
    goal = goal_type()
    goal.target.header.frame_id = frame
    goal.target.pose.position.x, goal.target.pose.position.y = float(x), float(y)
    q = quaternion_from_yaw(yaw)
    (goal.target.pose.orientation.x, goal.target.pose.orientation.y, goal.target.pose.orientation.z,
     goal.target.pose.orientation.w) = (float(v) for v in q)
    return goal


def put_down_goal(goal_type, position, side: str, frame: str = "odom"):
    """A Place goal that puts what hand `side` holds down with its centre at `position` (x, y, z) [m] in `frame`."""
    goal = goal_type()
    goal.side = side
    goal.target.header.frame_id = frame
    goal.target.pose.position.x, goal.target.pose.position.y, goal.target.pose.position.z = (
        float(v) for v in position)
    goal.target.pose.orientation.w = 1.0
    return goal


def part_outcome_msg(record: PartRecord):
    from legion_interfaces.msg import PartOutcome

    msg = PartOutcome(id=record.id, label=record.label, bin=record.bin, outcome=record.outcome,
                      attempts=int(record.attempts), reason=record.reason)
    if record.position is not None:
        msg.position.x, msg.position.y, msg.position.z = (float(v) for v in record.position)
    if math.isfinite(record.start):
        msg.start = to_stamp(record.start)
    if math.isfinite(record.end):
        msg.end = to_stamp(record.end)
    return msg


def fill_counts(msg, counts: dict[str, int]) -> None:
    """Copy the shift's counts into a message with fields seen, sorted, skipped, dropped, ignored, failed."""
    for key in ("seen", "sorted", "skipped", "dropped", "ignored", "failed"):
        setattr(msg, key, int(counts.get(key, 0)))


def status_msg(status: ExecutiveStatus, stamp: float, cell: str):
    """The executive's status as legion_interfaces/ExecutiveStatus."""
    from legion_interfaces.msg import ExecutiveStatus as ExecutiveStatusMsg

    msg = ExecutiveStatusMsg(state=status.state.value, cell=cell, phase=status.phase, part_id=status.part_id,
                             part_label=status.part_label, tree=status.tree, last_decision=status.last_decision,
                             message=status.message)
    msg.header.stamp = to_stamp(stamp)
    fill_counts(msg, status.counts)
    msg.parts = [part_outcome_msg(r) for r in status.parts]
    return msg


def grid_msg(grid: CellMap, stamp: float, frame: str = "odom"):
    """A CellMap as nav_msgs/OccupancyGrid (row-major, rows along y, origin at the grid's corner)."""
    from nav_msgs.msg import OccupancyGrid

    msg = OccupancyGrid()
    msg.header.stamp = to_stamp(stamp)
    msg.header.frame_id = frame
    msg.info.map_load_time = msg.header.stamp
    msg.info.resolution = float(grid.resolution)
    msg.info.height, msg.info.width = (int(v) for v in grid.data.shape)
    msg.info.origin.position.x, msg.info.origin.position.y = float(grid.origin[0]), float(grid.origin[1])
    msg.info.origin.orientation.w = 1.0
    msg.data = grid.data.astype(int).ravel().tolist()
    return msg


def safety_stop(msg) -> bool:
    """safety/state (SafetyState) -> whether it stops the robot: a protective or emergency stop, or a zone this
    version does not know."""
    return int(msg.zone) not in (0, 1)  # SafetyState.CLEAR, SafetyState.WARNING
