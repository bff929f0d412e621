"""The main job's judge: where each part truly ended, against the scene, and the statistics of many shifts.

The judge reads the simulator's scene file and ground truth (`ground_truth/objects`, `ground_truth/odom`); nothing
that steers the robot does. Pure functions, no ROS: tested on their own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

PLACES = ("bin", "table", "floor", "hand", "elsewhere")
"""Where a part can end: inside a bin, on a table top, on the floor, in (or near) a hand above the floor, elsewhere."""

FLOOR_HEIGHT = 0.10
"""A part whose centre is lower than this has fallen to the floor [m]."""


@dataclass(frozen=True)
class PartFate:
    """Where one part truly ended."""

    id: str
    label: str
    place: str
    """One of PLACES."""
    container: str
    """The bin it is in ('' when not in a bin)."""
    correct: bool
    """In a bin that accepts its class."""
    position: tuple[float, float, float]


def _inside_box(x: float, y: float, cx: float, cy: float, yaw: float, half_x: float, half_y: float) -> bool:
    c, s = math.cos(yaw), math.sin(yaw)
    dx, dy = x - cx, y - cy
    return abs(c * dx + s * dy) <= half_x and abs(-s * dx + c * dy) <= half_y


def part_fate(part_id: str, label: str, position: tuple[float, float, float], scene) -> PartFate:
    """Where a part at `position` (true, in the scene's world frame = odom) is, by the scene's bins and tables
    (`legion_sim.scene.Scene`)."""
    x, y, z = position
    for bin_ in scene.bins:
        lx, ly, height = bin_.size
        rim = bin_.stand_height + height
        if (_inside_box(x, y, bin_.position[0], bin_.position[1], bin_.yaw, 0.5 * lx, 0.5 * ly)
                and bin_.stand_height < z < rim + 0.05):
            accepts = bin_.accepts if isinstance(bin_.accepts, (list, tuple)) else [bin_.accepts]
            return PartFate(part_id, label, "bin", bin_.name, label in accepts, position)
    if z < FLOOR_HEIGHT:
        return PartFate(part_id, label, "floor", "", False, position)
    for table in scene.tables:
        lx, ly, height = table.size
        if (_inside_box(x, y, table.position[0], table.position[1], table.yaw, 0.5 * lx, 0.5 * ly)
                and height - 0.01 < z < height + 0.15):
            return PartFate(part_id, label, "table", "", False, position)
    return PartFate(part_id, label, "hand" if z > 0.3 else "elsewhere", "", False, position)


def judge_parts(truth_objects: list[tuple[str, str, tuple[float, float, float]]], scene) -> list[PartFate]:
    """The fate of every scene part: `truth_objects` = (id, label, position) from `ground_truth/objects` (bins and
    other non-part objects are left out by their id not being a scene part)."""
    parts = {part.id: part for part in scene.parts}
    return [part_fate(pid, parts[pid].label, position, scene) for pid, _label, position in truth_objects
            if pid in parts]


def wilson_interval(successes: int, trials: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a success rate (95 % for z = 1.96); (0, 1) without trials."""
    if trials <= 0:
        return 0.0, 1.0
    p = successes / trials
    denominator = 1.0 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def failure_category(fate: PartFate, executive_outcome: str, fell: bool) -> str:
    """One word for why a part was not sorted: `fall` (the robot fell), `dropped` (on the floor), `wrong_bin`,
    `left_on_table` (with the executive's outcome, e.g. `left_on_table:skipped`), `in_hand`, `elsewhere`;
    '' for a sorted part."""
    if fate.correct:
        return ""
    if fell:
        return "fall"
    if fate.place == "bin":
        return "wrong_bin"
    if fate.place == "floor":
        return "dropped"
    if fate.place == "table":
        return f"left_on_table:{executive_outcome or 'unknown'}"
    return "in_hand" if fate.place == "hand" else "elsewhere"
