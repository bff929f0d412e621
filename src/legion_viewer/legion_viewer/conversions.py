"""Messages -> the plain data the viewer draws. Every function takes a message object (no rclpy needed) and raises
ViewerError on one it cannot show; poses come out as position (3,) [m] and quaternion (w, x, y, z), viser's order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from legion_viewer.errors import ViewerError

LABEL_COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 40, 40), "orange": (240, 140, 30), "yellow": (235, 210, 40), "green": (40, 170, 70),
    "cyan": (40, 200, 210), "blue": (40, 80, 220), "purple": (140, 60, 200), "magenta": (220, 50, 190),
    "black": (30, 30, 30), "white": (235, 235, 235), "grey": (128, 128, 128), "gray": (128, 128, 128),
}
"""Display colour of an object whose label contains the colour's name (`red_cube`, `blue_bin`)."""
UNKNOWN_COLOUR = (150, 150, 150)


@dataclass(frozen=True)
class Pose:
    """A pose: position [m] and orientation (w, x, y, z), in the frame its message names."""

    position: np.ndarray
    wxyz: np.ndarray

    def matrix(self) -> np.ndarray:
        """(4, 4) homogeneous transform."""
        w, x, y, z = self.wxyz
        T = np.eye(4)
        T[:3, :3] = [[1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
                     [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
                     [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)]]
        T[:3, 3] = self.position
        return T


IDENTITY = Pose(np.zeros(3), np.array([1.0, 0.0, 0.0, 0.0]))


def matrix_to_pose(T: np.ndarray) -> Pose:
    """(4, 4) rigid transform -> Pose (quaternion from the rotation matrix, w >= 0)."""
    from legion_viewer.kinematics import rotation_to_wxyz

    return Pose(np.array(T[:3, 3], dtype=float), rotation_to_wxyz(T[:3, :3]))


def pose(msg: Any, what: str = "pose") -> Pose:
    """geometry_msgs/Pose -> Pose; a non-finite value or a zero quaternion is an error; the quaternion is
    normalised."""
    position = np.array([msg.position.x, msg.position.y, msg.position.z], dtype=float)
    q = np.array([msg.orientation.w, msg.orientation.x, msg.orientation.y, msg.orientation.z], dtype=float)
    norm = float(np.linalg.norm(q))
    if not (np.all(np.isfinite(position)) and np.all(np.isfinite(q))) or norm < 1e-9:
        raise ViewerError(f"{what} is not finite or has a zero quaternion")
    return Pose(position, q / norm)


def joint_positions(msg: Any) -> dict[str, float]:
    """sensor_msgs/JointState -> joint name -> position [rad or m]; names and positions must pair up; non-finite
    positions are left out."""
    if len(msg.name) != len(msg.position):
        raise ViewerError(f"joint_states has {len(msg.name)} names but {len(msg.position)} positions")
    return {name: float(q) for name, q in zip(msg.name, msg.position, strict=True) if math.isfinite(q)}


def base_pose(msg: Any) -> Pose:
    """nav_msgs/Odometry -> the robot's root link in the odometry frame."""
    return pose(msg.pose.pose, "odom pose")


@dataclass(frozen=True)
class GridCells:
    """The occupied cells of an occupancy grid."""

    centres: np.ndarray
    """(n, 3) cell centres [m] in the grid's frame (z: the grid origin's height)."""
    resolution: float
    """Cell size [m]."""
    frame: str


def occupied_cells(msg: Any, threshold: int) -> GridCells:
    """nav_msgs/OccupancyGrid -> its cells whose occupancy is at least `threshold` (0..100; -1, unknown, is left
    out). The grid's origin may be rotated about z."""
    width, height, resolution = int(msg.info.width), int(msg.info.height), float(msg.info.resolution)
    if len(msg.data) != width * height:
        raise ViewerError(f"occupancy grid {width}x{height} has {len(msg.data)} cells")
    if not (math.isfinite(resolution) and resolution > 0):
        raise ViewerError(f"occupancy grid resolution {resolution} is not positive")
    data = np.asarray(msg.data, dtype=np.int16).reshape(height, width)
    rows, cols = np.nonzero(data >= threshold)
    origin = pose(msg.info.origin, "occupancy grid origin").matrix()
    local = np.stack([(cols + 0.5) * resolution, (rows + 0.5) * resolution, np.zeros(len(rows)),
                      np.ones(len(rows))])  # (4, n)
    centres = (origin @ local)[:3].T if len(rows) else np.zeros((0, 3))
    return GridCells(centres, resolution, msg.header.frame_id)


def label_colour(label: str) -> tuple[int, int, int]:
    """Display colour (RGB 0..255) for a class label: the first colour name among its `_`-separated words."""
    for word in label.lower().split("_"):
        if word in LABEL_COLOURS:
            return LABEL_COLOURS[word]
    return UNKNOWN_COLOUR


@dataclass(frozen=True)
class ObjectBox:
    """One detected object, as drawn."""

    id: str
    label: str
    pose: Pose
    size: np.ndarray
    """(3,) extent [m] along its own axes."""
    colour: tuple[int, int, int]
    shape: str
    """`box`, `cylinder`, `sphere` or `container` (from the label)."""


def _shape(label: str) -> str:
    words = label.lower().split("_")
    if "bin" in words or "container" in words:
        return "container"
    if "sphere" in words or "ball" in words:
        return "sphere"
    if "cylinder" in words:
        return "cylinder"
    return "box"


def detected_objects(msg: Any) -> tuple[str, list[ObjectBox]]:
    """legion_interfaces/DetectedObjectArray -> (frame, objects); an object with a bad pose or size is left out."""
    objects = []
    for obj in msg.objects:
        size = np.array([obj.size.x, obj.size.y, obj.size.z], dtype=float)
        try:
            object_pose = pose(obj.pose, f"object {obj.id}")
        except ViewerError:
            continue
        if not np.all(np.isfinite(size)) or np.any(size <= 0):
            continue
        objects.append(ObjectBox(obj.id or f"object_{len(objects)}", obj.label, object_pose, size,
                                 label_colour(obj.label), _shape(obj.label)))
    return msg.header.frame_id, objects


@dataclass(frozen=True)
class Step:
    """One planned footstep: which side and where the sole lands."""

    side: str
    pose: Pose


def footsteps(msg: Any) -> tuple[str, list[Step]]:
    """legion_interfaces/FootstepPlan -> (frame, steps in time order)."""
    steps = []
    for step in msg.steps:
        side = "left" if step.side == step.LEFT else "right"
        steps.append(Step(side, pose(step.pose, "footstep pose")))
    return msg.header.frame_id, steps


def people(msg: Any) -> tuple[str, np.ndarray]:
    """geometry_msgs/PoseArray (perception/people) -> (frame, (n, 3) positions [m]); non-finite ones left out."""
    points = np.array([[p.position.x, p.position.y, p.position.z] for p in msg.poses], dtype=float).reshape(-1, 3)
    return msg.header.frame_id, points[np.all(np.isfinite(points), axis=1)]


def camera_image(msg: Any) -> np.ndarray:
    """sensor_msgs/Image (rgb8, bgr8, rgba8, bgra8) -> (h, w, 3) uint8 RGB."""
    from legion_common.messages import EncodingError, image_to_rgb

    try:
        return image_to_rgb(msg)
    except EncodingError as error:
        raise ViewerError(f"debug image: {error}") from error


def executive_text(msg: Any) -> str:
    """legion_interfaces/ExecutiveStatus -> a short markdown summary."""
    lines = [f"**{msg.state or 'UNKNOWN'}** {msg.cell}".rstrip()]
    if msg.phase:
        lines.append(f"phase: {msg.phase}")
    lines.append(f"seen {msg.seen} · sorted {msg.sorted} · skipped {msg.skipped} · dropped {msg.dropped} · "
                 f"ignored {msg.ignored} · failed {msg.failed}")
    if msg.last_decision:
        lines.append(f"last decision: {msg.last_decision}")
    if msg.message:
        lines.append(f"message: {msg.message}")
    return "  \n".join(lines)


def fields_text(msg: Any) -> str:
    """Any message -> markdown of its scalar fields (`name: value`), headers and arrays of messages left out: for a
    status message whose definition the viewer does not hard-code (safety/state)."""
    lines = []
    for name in msg.get_fields_and_field_types():
        value = getattr(msg, name)
        if name == "header" or hasattr(value, "get_fields_and_field_types"):
            continue
        if isinstance(value, (list, tuple)) and value and hasattr(value[0], "get_fields_and_field_types"):
            continue
        if isinstance(value, float):
            value = f"{value:.3g}"
        lines.append(f"{name}: **{value}**")
    return "  \n".join(lines) if lines else "(no fields)"


MARKER_TYPES = {0: "arrow", 1: "cube", 2: "sphere", 3: "cylinder", 4: "line_strip", 5: "line_list", 6: "cube_list",
                7: "sphere_list", 8: "points", 9: "text"}
"""visualization_msgs/Marker types drawn (by their constant); mesh resources and triangle lists are not."""
ADD, DELETE, DELETEALL = 0, 2, 3
"""visualization_msgs/Marker actions (MODIFY = 0 = ADD)."""


@dataclass(frozen=True)
class MarkerShape:
    """One visualization_msgs/Marker, as drawn: `key` is (ns, id); `action` add, delete or deleteall."""

    key: tuple[str, int]
    action: str
    kind: str = ""
    frame: str = ""
    pose: Pose = IDENTITY
    scale: np.ndarray = field(default_factory=lambda: np.ones(3))
    colour: tuple[int, int, int] = UNKNOWN_COLOUR
    opacity: float = 1.0
    points: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    """(n, 3) [m] in the marker's pose frame (line, list and point types; arrow start and end)."""
    text: str = ""


def _rgb(colour: Any) -> tuple[int, int, int]:
    return tuple(round(255 * min(1.0, max(0.0, float(c)))) for c in (colour.r, colour.g, colour.b))


def markers(msg: Any) -> tuple[list[MarkerShape], list[str]]:
    """visualization_msgs/MarkerArray -> (shapes, problems): a marker of a type not drawn, or with a bad pose, is
    left out and named in `problems`."""
    shapes, problems = [], []
    for marker in msg.markers:
        key = (marker.ns, int(marker.id))
        if marker.action == DELETEALL:
            shapes.append(MarkerShape(key, "deleteall"))
            continue
        if marker.action == DELETE:
            shapes.append(MarkerShape(key, "delete"))
            continue
        kind = MARKER_TYPES.get(int(marker.type))
        if kind is None:
            problems.append(f"{marker.ns}/{marker.id}: type {marker.type} is not drawn")
            continue
        try:
            marker_pose = pose(marker.pose, f"marker {marker.ns}/{marker.id}")
        except ViewerError as error:
            problems.append(str(error))
            continue
        points = np.array([[p.x, p.y, p.z] for p in marker.points], dtype=float).reshape(-1, 3)
        scale = np.array([marker.scale.x, marker.scale.y, marker.scale.z], dtype=float)
        if not (np.all(np.isfinite(points)) and np.all(np.isfinite(scale))):
            problems.append(f"{marker.ns}/{marker.id}: points or scale not finite")
            continue
        colour = marker.colors[0] if len(marker.colors) and kind in ("points", "cube_list", "sphere_list") \
            else marker.color
        shapes.append(MarkerShape(key, "add", kind, marker.header.frame_id, marker_pose, scale, _rgb(colour),
                                  float(min(1.0, max(0.0, marker.color.a))), points, marker.text))
    return shapes, problems
