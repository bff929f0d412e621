"""Grasp planning for parts on a table: from a part's shape, size and pose to the hand grasp (synergy and closure)
and the gripper poses of a pick (pre-grasp, grasp, lift), for the whole-body controller's hand task.

Pure numpy: no ROS, no simulator. The manipulation node and the grasp study (`legion_testing.grasp_study`) use it.

The grasp (found in MuJoCo on Centurion's 22-joint hands, `bench/bench_grasp.py`, docs/grasping.md) is one top-down
"thumb wall" grasp for every class:

- the palm faces down above the part (gripper x axis = -z of odom), the fingers point forward along the heading
  (gripper z axis), horizontal; for a box the heading is one of its faces' normals, so that the fingers close on a
  face and not on an edge;
- the hand comes down from `approach_height` above the grasp, open, so that the fingers and the thumb go down past
  the part's sides without touching it;
- the `pinch` synergy then closes the thumb across the palm's near (wrist) side, where it makes a wall behind the
  part, while the index, middle and ring fingers curl over the far side and press the part back against the thumb:
  a two-sided grip along the fingers' direction, held by the finger stiffness, with the palm just above the top;
- the part's centre sits where that grip holds it in the gripper frame (`PlanningParameters.part_in_gripper`,
  measured), so closing does not push the part across the table first;
- lift straight up by `lift_height`.

Frames: poses are in odom (any world frame with z up); quaternions (x, y, z, w). The gripper frame is the robot
file's `sides.<side>.gripper` (x out of the palm towards the object, z along the fingers). The hands are mirror
images, so the thumb is on +y of the right gripper frame and on -y of the left one: `part_in_gripper` is given for
the right hand and mirrored in y for the left.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pinocchio as pin

from legion_common.transforms import matrix_to_quaternion, wrap_angle
from legion_control.errors import ControlError
from legion_control.grasp import GraspMode

SHAPES = ("box", "cylinder", "sphere")
"""Part shapes; size: box (lx, ly, lz), cylinder (radius, height), sphere (radius,) [m] (as the scene files)."""


@dataclass(frozen=True)
class PartGeometry:
    """A part as perception (or the simulator's ground truth) gives it."""

    shape: str
    """One of `SHAPES`."""
    size: tuple[float, ...]
    """box (lx, ly, lz); cylinder (radius, height); sphere (radius,) [m]."""
    position: np.ndarray
    """Centre of the part in odom [m].  # (3,)"""
    yaw: float = 0.0
    """Heading of the part's x axis about the vertical [rad] (upright parts: boxes on a face, cylinders on an end)."""

    @property
    def half_height(self) -> float:
        """Centre to bottom, upright [m]."""
        if self.shape == "box":
            return self.size[2] / 2.0
        if self.shape == "cylinder":
            return self.size[1] / 2.0
        return self.size[0]

    @property
    def width(self) -> float:
        """Largest horizontal extent across the grip (box: the larger side, cylinder/sphere: the diameter) [m]."""
        if self.shape == "box":
            return max(self.size[0], self.size[1])
        return 2.0 * self.size[0]


@dataclass(frozen=True)
class PlanningParameters:
    """Tunables of the grasp choice (defaults: Centurion, measured with bench/bench_grasp.py)."""

    thumb_wall: float = -0.025
    """Gripper z of the inner surface of the opposed thumb [m] (the `open` synergy holds the thumb across the palm's
    wrist side; the fingers close towards it)."""
    wall_gap: float = 0.012
    """Gap left between the thumb and the part's near side at the grasp [m]: the hand comes down without touching
    the part even when it is seen up to about this much (plus the thumb's rounded edge) farther along the fingers
    than it is, then the fingers press it back against the thumb (a slide of the gap across the table; the palm on
    the top keeps a tall part upright). 3 mm let the thumb land on the part's near edge for a part seen 2 cm too far
    (a cylinder tipped over, a cube was missed; bench/bench_grasp.py --perception-offset)."""
    lateral: float = 0.0
    """Part centre on the gripper's y axis, towards the thumb (right hand; mirrored for the left) [m]."""
    top_clearance: float = -0.004
    """Gap between the palm and the top of the part at the grasp [m]; negative: the palm presses this far onto the
    top (the hand task is compliant: a few newtons), so that the finger push cannot tilt a tall part about the
    thumb."""
    min_support_clearance: float = 0.035
    """Least height of the gripper origin above the surface the part stands on [m]: the closed fingers and thumb
    reach about 3 cm below it."""
    palm_to_gripper: float = 0.030
    """Distance from the palm surface to the gripper origin along the gripper's x axis [m] (hand geometry)."""
    regrasp_step: float = 0.02
    """A hand held up on its way down onto the part is, below its palm, held up by the thumb (the open fingers lie in
    the palm's plane): the thumb landed on the part's near edge, so the part is nearer the wrist than it was seen. The
    hand rises and comes down again this much farther back along the fingers [m] (the thumb's thickness and a
    margin)."""
    approach_height: float = 0.10
    """Pre-grasp: this far above the grasp [m]."""
    lift_height: float = 0.07
    """The lift raises the gripper this far [m]: 5 cm asked, plus the sag of the arm and the slip of the part in the
    grip under a load of up to 0.3 kg (1-2 cm)."""
    mode: GraspMode = GraspMode.PINCH
    """Synergy the hand closes with: `pinch` (the thumb opposed as in `open`, index and middle curl over the far
    side). Every class and size takes it: a hook synergy for parts under 4 cm (index and middle knuckles at 90
    degrees, tips down to the thumb's depth) held 9 of 12 small parts against 12 of 12 with this one (the tips
    reach the table under a short part and lift the hand)."""
    closure: float = 1.0
    """Closure of the synergy: the fingers stop on the part; the rest of the way sets the grip force (stiffness x
    position error)."""
    max_width: float = 0.075
    """Widest part across the grip [m]: the open hand's thumb-to-finger span less a margin."""
    finger_reach: float = 0.125
    """Gripper z of the open fingers' tips [m]: closing, they sweep down from there over the part's far side, so a
    neighbouring part within this reach along the fingers is struck (bench/bench_grasp.py --neighbours)."""
    finger_half_width: float = 0.05
    """Half the width of the band the closing fingers sweep, across the gripper's y [m] (index to little finger, with
    their thickness)."""
    neighbour_clearance: float = 0.01
    """Least horizontal gap left between that sweep and a neighbouring part's footprint circle [m]."""
    hand_back_reach: float = 0.12
    """How far behind the gripper origin, back along the fingers, the opposed thumb, the palm and the wrist reach at
    the grasp [m]: a neighbouring part standing within this band (`finger_half_width` either side of the fingers'
    mid-line) and reaching above `hand_back_floor` holds the hand up on its way down (bench/bench_grasp.py
    --neighbours: the thumb and the wrist pitch link on a taller cylinder 9-12 cm behind the part)."""
    hand_back_floor: float = 0.02
    """Height above the gripper origin at the grasp of the lowest point of the hand in that band [m]: a neighbour
    whose perceived top is below it passes under the thumb's base and the wrist (the palm is `palm_to_gripper` above
    the origin, level with the picked part's top; the thumb's base links hang a little below it)."""
    max_heading_turn: float = 1.8
    """The fingers may be turned at most this far from the preferred heading about the vertical to sweep clear of
    neighbouring parts [rad] (a box turns by its faces: 1.8 lets a cube yawed 0.2 rad be taken across the face
    normal 101 degrees off)."""
    heading_step: float = 0.2618
    """Step between the headings tried for a round part [rad]."""
    carry_roll: float = 0.0
    """While it carries a part, the hand is turned this much about the gripper's z axis (the fingers) from its grasp
    orientation [rad] (right hand; mirrored for the left). 0: palm down as it picked. A palm-down hand holds the
    part by friction alone, with nothing under it; turned palm up, the part rests in the palm and the fingers close
    over it."""

    carry_heading: float | None = None
    """While it carries a part, the fingers point this far from the robot's heading about the vertical [rad] (right
    hand, positive towards the body's middle; mirrored for the left), whatever heading they picked at: the hand turns
    about the vertical (still palm down) as it retreats to the carry pose. None: as they picked. A grasp turned away
    from the robot's heading (to sweep clear of a neighbouring part) kept at the carry pose pushed the wrist to its
    pitch limit, and the place then found no arm pose over a bin ahead of the robot."""

    def carry_fingers(self, side: str) -> float | None:
        """The fingers' heading relative to the base while carrying with the `side` hand [rad], or None (`carry_heading`
        mirrored for the left hand)."""
        if self.carry_heading is None:
            return None
        return self.carry_heading if side == "right" else -self.carry_heading

    def carry_rotation(self, side: str) -> np.ndarray:
        """The carry's turn of the hand in the gripper frame: carry orientation = grasp orientation @ this.  # (3, 3)"""
        angle = self.carry_roll if side == "right" else -self.carry_roll
        return pin.exp3(np.array([0.0, 0.0, angle]))


@dataclass(frozen=True)
class GraspPlan:
    """One pick: where the gripper goes, in order, and how the hand closes."""

    side: str
    mode: GraspMode
    closure: float
    rotation: np.ndarray
    """Gripper orientation in odom for the whole pick (rotation matrix).  # (3, 3)"""
    pre_grasp: np.ndarray
    """Gripper position above the part, reached first [m].  # (3,)"""
    grasp: np.ndarray
    """Gripper position at which the hand closes [m].  # (3,)"""
    lift: np.ndarray
    """Gripper position after the lift [m].  # (3,)"""
    heading: float
    """Direction of the fingers about the vertical [rad]."""

    @property
    def orientation(self) -> np.ndarray:
        """The gripper orientation as a quaternion (x, y, z, w).  # (4,)"""
        return matrix_to_quaternion(self.rotation)

    @property
    def waypoints(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(pre-grasp, grasp, lift) positions [m]."""
        return self.pre_grasp, self.grasp, self.lift

    def backed_off(self, distance: float) -> GraspPlan:
        """The same pick with every gripper position moved `distance` [m] back along the fingers (towards the wrist):
        for a hand whose thumb landed on the part's near edge."""
        shift = -distance * self.rotation[:, 2]
        return replace(self, pre_grasp=self.pre_grasp + shift, grasp=self.grasp + shift,
                                   lift=self.lift + shift)

    def transit(self, start: np.ndarray) -> list[np.ndarray]:
        """Gripper positions from `start` to the pre-grasp, the pre-grasp last [m]: a hand below the pre-grasp
        height first rises straight up to it, so that it does not sweep through the part or the table's edge on its
        way over."""
        start = np.asarray(start, dtype=float)
        if start[2] < self.pre_grasp[2] - 0.01:
            return [np.array([start[0], start[1], self.pre_grasp[2]]), self.pre_grasp.copy()]
        return [self.pre_grasp.copy()]


def top_down_rotation(heading: float) -> np.ndarray:
    """Gripper orientation of a top-down grasp: palm down (x = -z), fingers horizontal along `heading` (z).
    # (3, 3)"""
    z = np.array([math.cos(heading), math.sin(heading), 0.0])
    x = np.array([0.0, 0.0, -1.0])
    return np.column_stack((x, np.cross(z, x), z))


def grasp_heading(part: PartGeometry, preferred: float) -> float:
    """Heading of the fingers [rad]: `preferred` for round parts; for a box the face normal (yaw + k pi/2) nearest
    to `preferred`, so that the grip closes across two parallel faces."""
    if part.shape != "box":
        return wrap_angle(preferred)
    quarter = math.pi / 2.0
    k = round(wrap_angle(preferred - part.yaw) / quarter)
    return wrap_angle(part.yaw + k * quarter)


def grasp_offset(part: PartGeometry, side: str, heading: float, params: PlanningParameters) -> np.ndarray:
    """The part's centre in the gripper frame at the grasp [m] (see `plan_grasp`).  # (3,)"""
    half = part.half_height
    # x (down) puts the palm on the top, unless the fingers would then reach the table; y on the fingers' mid-line;
    # z (along the fingers) just clear of the thumb.
    depth = max(half + params.top_clearance - params.palm_to_gripper, params.min_support_clearance - half)
    return np.array([depth, params.lateral if side == "right" else -params.lateral,
                     params.thumb_wall + params.wall_gap + _half_extent_along(part, heading)])


def sweep_clearance(part: PartGeometry, side: str, heading: float, neighbours: Sequence[tuple],
                    params: PlanningParameters | None = None) -> float:
    """Smallest horizontal gap [m] between the hand of the grasp of `part` at `heading` and the footprint circles of
    `neighbours` ((centre in odom, radius) or (centre, radius, top height in odom) each, as `neighbour_footprints`
    gives them); inf without neighbours, negative where one overlaps the hand. The hand is two bands
    `finger_half_width` either side of the fingers' mid-line: the closing fingers' sweep, from the gripper origin
    to `finger_reach` along the fingers, which strikes any neighbour; and behind the origin, back to
    `hand_back_reach`, the thumb, the palm and the wrist, which strike a neighbour whose top is above
    `hand_back_floor` over the gripper origin at the grasp (a neighbour of unknown height: always)."""
    params = params or PlanningParameters()
    offset = grasp_offset(part, side, heading, params)
    along = np.array([math.cos(heading), math.sin(heading)])
    across = np.array([-along[1], along[0]])
    gripper = np.asarray(part.position, dtype=float)[:2] - offset[2] * along - offset[1] * across
    # the gripper origin's height at the grasp: offset[0] is the part's centre below it (gripper x points down)
    floor = float(np.asarray(part.position, dtype=float)[2]) + offset[0] + params.hand_back_floor
    gap = math.inf
    for neighbour in neighbours:
        centre, radius = neighbour[0], neighbour[1]
        top = float(neighbour[2]) if len(neighbour) > 2 else math.inf
        back = params.hand_back_reach if top > floor else 0.0
        d = np.asarray(centre, dtype=float)[:2] - gripper
        u, v = float(d @ along), float(d @ across)
        du = max(-back - u, u - params.finger_reach, 0.0)
        dv = max(abs(v) - params.finger_half_width, 0.0)
        gap = min(gap, math.hypot(du, dv) - radius)
    return gap


def candidate_headings(part: PartGeometry, side: str, preferred: float,
                       neighbours: Sequence[tuple] = (),
                       params: PlanningParameters | None = None) -> list[float]:
    """Finger headings to try for `part` [rad], best first: those whose finger sweep keeps `neighbour_clearance`
    from every neighbouring part (`sweep_clearance`), the least turned from `preferred` first (within
    `max_heading_turn`; a box only on its face normals; on a tie, turned towards the other hand's side, across the
    body); then the others, the clearest first. Without neighbours: the preferred heading alone (as
    `grasp_heading`)."""
    params = params or PlanningParameters()
    first = grasp_heading(part, preferred)
    if not neighbours:
        return [first]
    inward = -1.0 if side == "left" else 1.0
    if part.shape == "box":
        quarter = math.pi / 2.0
        turns = [wrap_angle(first + k * quarter - preferred) for k in range(4)]
    else:
        count = int(params.max_heading_turn / params.heading_step + 1e-9) if params.heading_step > 0.0 else 0
        turns = [sign * k * params.heading_step for k in range(count + 1)
                 for sign in ((1.0,) if k == 0 else (1.0, -1.0))]
    turns = [t for t in turns if abs(t) <= params.max_heading_turn + 1e-9]
    turns.sort(key=lambda t: (round(abs(t), 6), -t * inward))
    headings = [wrap_angle(preferred + t) for t in turns]
    gaps = {h: sweep_clearance(part, side, h, neighbours, params) for h in headings}
    clear = [h for h in headings if gaps[h] >= params.neighbour_clearance]
    blocked = sorted((h for h in headings if gaps[h] < params.neighbour_clearance), key=lambda h: -gaps[h])
    return clear + blocked


def _half_extent_along(part: PartGeometry, heading: float) -> float:
    """Half the part's extent along the horizontal direction `heading` [m]."""
    if part.shape != "box":
        return part.size[0]
    angle = heading - part.yaw
    return 0.5 * (abs(math.cos(angle)) * part.size[0] + abs(math.sin(angle)) * part.size[1])


def choose_side(part_position: Sequence[float], base_position: Sequence[float], base_yaw: float,
                sides: Sequence[str] = ("left", "right")) -> str:
    """The hand on the part's side of the robot (left if the part is left of the base's heading line)."""
    dx, dy = part_position[0] - base_position[0], part_position[1] - base_position[1]
    lateral = -math.sin(base_yaw) * dx + math.cos(base_yaw) * dy
    side = "left" if lateral >= 0.0 else "right"
    if side not in sides:
        side = sides[0]
    return side


LABEL_SHAPES = {"cube": "box", "box": "box", "cylinder": "cylinder", "sphere": "sphere", "ball": "sphere"}
"""Last word of a class label (`red_cube`, `blue_cylinder`, `yellow_sphere`) -> part shape."""


def shape_from_label(label: str) -> str:
    """The part shape a class label names by its last word (`blue_cylinder` -> `cylinder`, `red_cube` -> `box`).

    Raises:
        ControlError: the label's last word names no known shape.
    """
    word = label.rsplit("_", 1)[-1].lower()
    if word not in LABEL_SHAPES:
        raise ControlError(f"part label {label!r} names no known shape; its last word must be one of "
                           f"{sorted(LABEL_SHAPES)}")
    return LABEL_SHAPES[word]


def check_part(part: PartGeometry) -> None:
    """Raises ControlError if the part is not something `plan_grasp` knows (shape, size, finite pose)."""
    if part.shape not in SHAPES:
        raise ControlError(f"unknown part shape {part.shape!r}; expected one of {SHAPES}")
    sizes = {"box": 3, "cylinder": 2, "sphere": 1}[part.shape]
    if len(part.size) != sizes or not all(math.isfinite(s) and s > 0.0 for s in part.size):
        raise ControlError(f"a {part.shape} needs {sizes} positive sizes, got {part.size!r}")
    position = np.asarray(part.position, dtype=float)
    if position.shape != (3,) or not np.isfinite(position).all() or not math.isfinite(part.yaw):
        raise ControlError(f"part pose must be finite, got {part.position!r}, yaw {part.yaw!r}")


def plan_grasp(part: PartGeometry, side: str, preferred_heading: float = 0.0,
               params: PlanningParameters | None = None) -> GraspPlan:
    """The top-down pick of `part` with the `side` hand (see the module docstring).

    Args:
        part: the part, upright on a table.
        side: `left` or `right` (the thumb side of the gripper frame depends on it).
        preferred_heading: direction the fingers should point about the vertical [rad]: the robot's heading, or the
            direction from the shoulder to the part (a box turns it to its nearest face normal).
        params: tunables; defaults if None.

    Raises:
        ControlError: an unknown shape or side, bad sizes or pose, or a part too wide for the hand.
    """
    params = params or PlanningParameters()
    check_part(part)
    if side not in ("left", "right"):
        raise ControlError(f"unknown side {side!r}; expected 'left' or 'right'")
    if part.width > params.max_width:
        raise ControlError(f"part is {part.width:.3f} m wide across the grip; the hand takes at most "
                           f"{params.max_width:.3f} m")
    heading = grasp_heading(part, preferred_heading)
    rotation = top_down_rotation(heading)
    offset = grasp_offset(part, side, heading, params)
    position = np.asarray(part.position, dtype=float)
    grasp = position - rotation @ offset
    up = np.array([0.0, 0.0, 1.0])
    return GraspPlan(side=side, mode=params.mode, closure=params.closure, rotation=rotation,
                     pre_grasp=grasp + params.approach_height * up, grasp=grasp,
                     lift=grasp + params.lift_height * up, heading=heading)
