"""Scene files (`config/scenes/<scene>.yaml`): what is in the simulated factory cell besides the robot.

The same files feed the MuJoCo model builder and the Gazebo world generator, so this module is plain Python (no
MuJoCo). The format is documented in `docs/scenes.md`. All poses are in the world (`odom`) frame: x, y on the floor
[m], z up [m], yaw about z [rad]. Every check raises `SimError` with the file and the offending key in the message.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from legion_description.robot_files import DescriptionError
from legion_description.sensor_config import SensorConfig
from legion_sim.errors import SimError

_SENSOR_GROUPS = tuple(item.name for item in fields(SensorConfig))

SHAPES = ("box", "cylinder", "sphere")
"""Part shapes. Size: box (lx, ly, lz), cylinder (radius, height), sphere (radius,) [m]."""
OBSTACLE_SHAPES = ("box", "cylinder")
_SIZE_LENGTH = {"box": 3, "cylinder": 2, "sphere": 1}
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
_ROBOT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
"""A robot's name in a scene: a ROS namespace token (it becomes `<name>/joint_states`, frame `<name>/base_link`)."""

COLOURS: dict[str, tuple[float, float, float, float]] = {
    "red": (0.85, 0.1, 0.1, 1.0),
    "green": (0.1, 0.7, 0.2, 1.0),
    "blue": (0.1, 0.25, 0.85, 1.0),
    "yellow": (0.95, 0.85, 0.1, 1.0),
    "orange": (1.0, 0.5, 0.05, 1.0),
    "purple": (0.55, 0.2, 0.75, 1.0),
    "cyan": (0.1, 0.8, 0.85, 1.0),
    "magenta": (0.9, 0.15, 0.7, 1.0),
    "white": (0.95, 0.95, 0.95, 1.0),
    "black": (0.08, 0.08, 0.08, 1.0),
    "grey": (0.5, 0.5, 0.5, 1.0),
    "gray": (0.5, 0.5, 0.5, 1.0),
    "dark_grey": (0.25, 0.25, 0.27, 1.0),
    "light_grey": (0.75, 0.75, 0.75, 1.0),
    "brown": (0.45, 0.3, 0.15, 1.0),
    "wood": (0.62, 0.47, 0.3, 1.0),
    "steel": (0.6, 0.62, 0.66, 1.0),
    "safety_yellow": (0.98, 0.78, 0.05, 1.0),
}
"""Colour names a scene may use, as RGBA in [0, 1]. Any colour may also be given as [r, g, b] or [r, g, b, a]."""

RGBA = tuple[float, float, float, float]


@dataclass(frozen=True)
class RobotStart:
    """Where the robot's base stands at start and after a reset (world frame)."""

    x: float
    """[m]"""
    y: float
    """[m]"""
    yaw: float
    """Heading about z [rad]; 0 faces +x."""


@dataclass(frozen=True)
class SceneRobot:
    """One robot of a multi-robot scene (`robots:`): its name (its ROS namespace and the prefix of its frames and
    simulator elements), its robot file and its start pose."""

    name: str
    """e.g. `robot_1`: letters, digits and `_`, not starting with a digit (a ROS namespace token)."""
    robot: str | None
    """Robot name or robot file path; None: the launch's `robot`."""
    start: RobotStart


@dataclass(frozen=True)
class Floor:
    friction: float
    """Sliding friction coefficient of the floor (used for every contact with the floor)."""


@dataclass(frozen=True)
class Table:
    """A table: a top slab on four legs; (x, y) is the centre of its top."""

    name: str
    position: tuple[float, float]
    """Centre of the table in the floor plane [m]."""
    yaw: float
    """[rad]"""
    size: tuple[float, float, float]
    """(lx, ly, height): top extent along the table's x and y, and height of the top surface above the floor [m]."""
    colour: RGBA

    @property
    def top_height(self) -> float:
        """Height of the table top surface above the floor [m]."""
        return self.size[2]


@dataclass(frozen=True)
class Bin:
    """An open box (floor slab and four walls), optionally raised on a solid stand; it accepts one part class."""

    name: str
    position: tuple[float, float]
    """Centre of the bin in the floor plane [m]."""
    yaw: float
    """[rad]"""
    size: tuple[float, float, float]
    """(lx, ly, height): outer extent and wall height (from the bin's bottom) [m]."""
    wall_thickness: float
    """Thickness of the walls and of the bin's floor slab [m]."""
    stand_height: float
    """Height of the bin's bottom above the floor [m]; 0 = standing on the floor."""
    colour: RGBA
    accepts: str
    """The part class (label) that belongs in this bin, e.g. `red_cube`."""

    @property
    def inner_floor_height(self) -> float:
        """Height of the surface a part rests on inside the bin [m]."""
        return self.stand_height + self.wall_thickness


@dataclass(frozen=True)
class Part:
    """A loose object to be handled: a free rigid body."""

    id: str
    """Unique instance id, e.g. `red_cube_1`; also its MuJoCo body name."""
    label: str
    """Class label, e.g. `red_cube`; what perception reports and what a bin accepts."""
    shape: str
    """One of `SHAPES`."""
    colour: RGBA
    size: tuple[float, ...]
    """box: (lx, ly, lz); cylinder: (radius, height); sphere: (radius,) [m]."""
    mass: float
    """[kg]"""
    position: tuple[float, float, float]
    """Centre of the part in the world [m]. When the file omits z, z is the resting height on the support below."""
    yaw: float
    """[rad]"""

    @property
    def half_height(self) -> float:
        """Distance from the centre to the bottom of the part when upright [m]."""
        return _half_height(self.shape, self.size)

    @property
    def bounding_size(self) -> tuple[float, float, float]:
        """Extent of the part's bounding box in its own axes (x, y, z) [m]."""
        return _bounding_size(self.shape, self.size)


@dataclass(frozen=True)
class Obstacle:
    """A fixed object standing on the floor (a pillar, a cabinet, a pallet)."""

    name: str
    shape: str
    """`box` or `cylinder`."""
    size: tuple[float, ...]
    """box: (lx, ly, height); cylinder: (radius, height) [m]."""
    position: tuple[float, float]
    """Centre in the floor plane [m]."""
    yaw: float
    """[rad]"""
    colour: RGBA

    @property
    def height(self) -> float:
        return self.size[-1]


PERSON_HEIGHTS = (1.2, 2.1)
"""Allowed range of a person's height [m]."""


PERSON_MAX_SPEED = 3.0
"""Fastest walking speed of a simulated person [m/s] (ISO 13855 takes 1.6-2.0 m/s for a walking approach)."""


@dataclass(frozen=True)
class Person:
    """A person in the cell: a figure (legs, torso, arms, head with a face texture) for the perception and safety
    tests, standing still or, with a `path`, walking it at `speed` (a kinematic mocap body the simulator moves at each
    physics step: seen by the camera, an obstacle to the robot). Built by `model_builder._add_people`."""

    id: str
    position: tuple[float, float]
    """Centre of the person's footprint on the floor [m]."""
    yaw: float
    """Direction the person faces about z [rad]; 0 faces +x (the face is on the figure's +x side)."""
    height: float
    """Top of the head above the floor [m]."""
    shirt_colour: RGBA
    path: tuple[tuple[float, float, float], ...] = ()
    """Waypoints (x [m], y [m], pause [s]) walked in order from `position` after `start_time`, pausing at each for
    its pause; empty: the person stands still."""
    speed: float = 0.0
    """Walking speed along the path [m/s]."""
    start_time: float = 0.0
    """When the person starts walking [s of simulated time]."""

    def pose_at(self, time: float) -> tuple[float, float, float]:
        """(x [m], y [m], yaw [rad]) at simulated `time` [s]: along the path at `speed`, facing the way it walks
        (at a pause, the way it came; before the start, `yaw`)."""
        x, y = self.position
        yaw = self.yaw
        left = time - self.start_time
        if not self.path or left <= 0.0 or self.speed <= 0.0:
            return x, y, yaw
        for wx, wy, pause in self.path:
            length = math.hypot(wx - x, wy - y)
            if length > 1e-9:
                yaw = math.atan2(wy - y, wx - x)
            duration = length / self.speed
            if left < duration:
                f = left / duration
                return x + f * (wx - x), y + f * (wy - y), yaw
            left -= duration
            x, y = wx, wy
            if left < pause:
                return x, y, yaw
            left -= pause
        return x, y, yaw


@dataclass(frozen=True)
class Scene:
    """A whole scene file."""

    name: str
    source: Path
    """The file this was read from."""
    robot_start: RobotStart
    floor: Floor
    tables: tuple[Table, ...]
    bins: tuple[Bin, ...]
    parts: tuple[Part, ...]
    obstacles: tuple[Obstacle, ...]
    people: tuple[Person, ...] = ()
    robots: tuple[SceneRobot, ...] = ()
    """The robots of a multi-robot scene (`robots:`), in file order; empty: one robot, unprefixed, at
    `robot_start`. `legion_sim.scene_robots.scene_robots` resolves and checks them (robot files, footprints)."""
    sensors: Mapping[str, Any] = field(default_factory=dict)
    """Overrides of the robot's sensor figures for this scene (the nested `sensors:` block, same keys as the robot
    file's; docs/sensors.md). Empty: the robot's own figures."""

    def part(self, part_id: str) -> Part:
        """The part with this id; raises SimError if there is none."""
        for part in self.parts:
            if part.id == part_id:
                return part
        raise SimError(f"scene {self.source}: no part with id '{part_id}'")


def _half_height(shape: str, size: tuple[float, ...]) -> float:
    return size[2] / 2.0 if shape == "box" else size[1] / 2.0 if shape == "cylinder" else size[0]


def _bounding_size(shape: str, size: tuple[float, ...]) -> tuple[float, float, float]:
    if shape == "box":
        return (size[0], size[1], size[2])
    if shape == "cylinder":
        return (2.0 * size[0], 2.0 * size[0], size[1])
    return (2.0 * size[0],) * 3


class _Reader:
    """Typed access to one YAML mapping with error messages that name the file and the key path."""

    def __init__(self, source: Path):
        self.source = source

    def fail(self, where: str, problem: str) -> SimError:
        return SimError(f"scene {self.source}: '{where}' {problem}" if where else f"scene {self.source}: {problem}")

    def mapping(self, value: object, where: str, allowed: tuple[str, ...]) -> dict:
        if not isinstance(value, dict):
            raise self.fail(where, f"must be a mapping, got {type(value).__name__}")
        unknown = sorted(str(k) for k in value if k not in allowed)
        if unknown:
            raise self.fail(where, f"has unknown key(s) {unknown}; allowed: {list(allowed)}")
        return value

    def require(self, mapping: dict, key: str, where: str) -> object:
        if key not in mapping or mapping[key] is None:
            raise self.fail(f"{where}{key}", "is missing")
        return mapping[key]

    def number(self, value: object, where: str, *, positive: bool = False, non_negative: bool = False) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(where, f"must be a number, got {value!r}")
        if not math.isfinite(value):
            raise self.fail(where, f"must be a finite number, got {value!r}")
        if positive and value <= 0:
            raise self.fail(where, f"must be positive, got {value!r}")
        if non_negative and value < 0:
            raise self.fail(where, f"must not be negative, got {value!r}")
        return float(value)

    def vector(self, value: object, where: str, lengths: tuple[int, ...], *, positive: bool = False
               ) -> tuple[float, ...]:
        if not isinstance(value, (list, tuple)) or len(value) not in lengths:
            expected = " or ".join(str(n) for n in lengths)
            raise self.fail(where, f"must be a list of {expected} numbers, got {value!r}")
        return tuple(self.number(v, f"{where}[{i}]", positive=positive) for i, v in enumerate(value))

    def name(self, value: object, where: str) -> str:
        if not isinstance(value, str) or not _NAME.match(value):
            raise self.fail(where, f"must be a name of letters, digits, '_', '-', '.', got {value!r}")
        return value

    def colour(self, value: object, where: str) -> RGBA:
        if isinstance(value, str):
            if value not in COLOURS:
                raise self.fail(where, f"is an unknown colour name {value!r}; known: {sorted(COLOURS)}")
            return COLOURS[value]
        rgba = self.vector(value, where, (3, 4))
        if not all(0.0 <= c <= 1.0 for c in rgba):
            raise self.fail(where, f"components must be in [0, 1], got {list(rgba)}")
        return (rgba[0], rgba[1], rgba[2], rgba[3] if len(rgba) == 4 else 1.0)

    def shape(self, value: object, where: str, allowed: tuple[str, ...]) -> str:
        if value not in allowed:
            raise self.fail(where, f"is an unknown shape {value!r}; allowed: {list(allowed)}")
        return str(value)

    def items(self, data: dict, key: str) -> list:
        value = data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(key, f"must be a list, got {type(value).__name__}")
        return value


def scenes_dirs() -> list[Path]:
    """Directories that may hold scene files, in search order: the installed `legion_sim` and `legion_bringup`
    shares (`config/scenes`), then the source workspace's top-level `config/scenes`."""
    dirs = []
    try:
        from ament_index_python.packages import get_package_share_directory

        for package in ("legion_sim", "legion_bringup"):
            # PackageNotFoundError, or no ament index in the environment at all
            with contextlib.suppress(Exception):
                dirs.append(Path(get_package_share_directory(package)) / "config" / "scenes")
    except ImportError:
        pass
    # Source checkout: <ws>/src/legion_sim/legion_sim/scene.py
    dirs.append(Path(__file__).resolve().parents[3] / "config" / "scenes")
    return dirs


def scene_path(scene: str | Path) -> Path:
    """Path of a scene given by name (`sorting_cell`) or by file path (anything with a `/` or a `.yaml` suffix)."""
    text = str(scene)
    if "/" in text or text.endswith((".yaml", ".yml")):
        return Path(text)
    if not _NAME.match(text):
        raise SimError(f"invalid scene name {text!r}")
    candidates = [folder / f"{text}.yaml" for folder in scenes_dirs()]
    return next((path for path in candidates if path.is_file()), candidates[-1])


def load_scene(scene: str | Path = "empty") -> Scene:
    """Read and validate a scene file, given by name or path.

    Raises:
        SimError: the file is missing or not YAML, or a key is missing, unknown or misstated (the message names the
            file and the key, e.g. `parts[2].size[0]`).
    """
    source = scene_path(scene)
    try:
        text = source.read_text()
    except OSError as error:
        raise SimError(f"cannot read scene file {source}: {error}") from error
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise SimError(f"scene file {source} is not valid YAML: {error}") from error
    return parse_scene(data, source)


def parse_scene(data: object, source: Path | str = "<memory>") -> Scene:
    """Validate an already-parsed scene mapping; `source` is only used in messages."""
    read = _Reader(Path(source))
    data = read.mapping(data, "", ("name", "robot_start", "robots", "floor", "tables", "bins", "parts", "obstacles",
                                          "people", "sensors"))
    name = read.name(read.require(data, "name", ""), "name")

    start_in = read.mapping(data.get("robot_start") or {}, "robot_start", ("x", "y", "yaw"))
    robot_start = RobotStart(*(read.number(start_in.get(k, 0.0), f"robot_start.{k}") for k in ("x", "y", "yaw")))
    robots = _robots(read, data)
    floor_in = read.mapping(data.get("floor") or {}, "floor", ("friction",))
    floor = Floor(friction=read.number(floor_in.get("friction", 1.0), "floor.friction", positive=True))

    tables = []
    for i, item in enumerate(read.items(data, "tables")):
        where = f"tables[{i}]"
        item = read.mapping(item, where, ("name", "position", "yaw", "size", "colour"))
        tables.append(Table(
            name=read.name(read.require(item, "name", f"{where}."), f"{where}.name"),
            position=read.vector(read.require(item, "position", f"{where}."), f"{where}.position", (2,)),
            yaw=read.number(item.get("yaw", 0.0), f"{where}.yaw"),
            size=read.vector(read.require(item, "size", f"{where}."), f"{where}.size", (3,), positive=True),
            colour=read.colour(item.get("colour", "wood"), f"{where}.colour"),
        ))

    bins = []
    for i, item in enumerate(read.items(data, "bins")):
        where = f"bins[{i}]"
        item = read.mapping(item, where, ("name", "position", "yaw", "size", "wall_thickness", "stand_height",
                                          "colour", "accepts"))
        size = read.vector(read.require(item, "size", f"{where}."), f"{where}.size", (3,), positive=True)
        wall = read.number(item.get("wall_thickness", 0.01), f"{where}.wall_thickness", positive=True)
        if 2.0 * wall >= min(size[0], size[1]) or wall >= size[2]:
            raise read.fail(f"{where}.wall_thickness", f"({wall}) leaves no room inside a bin of size {list(size)}")
        bins.append(Bin(
            name=read.name(read.require(item, "name", f"{where}."), f"{where}.name"),
            position=read.vector(read.require(item, "position", f"{where}."), f"{where}.position", (2,)),
            yaw=read.number(item.get("yaw", 0.0), f"{where}.yaw"),
            size=size,
            wall_thickness=wall,
            stand_height=read.number(item.get("stand_height", 0.0), f"{where}.stand_height", non_negative=True),
            colour=read.colour(item.get("colour", "grey"), f"{where}.colour"),
            accepts=read.name(read.require(item, "accepts", f"{where}."), f"{where}.accepts"),
        ))

    obstacles = []
    for i, item in enumerate(read.items(data, "obstacles")):
        where = f"obstacles[{i}]"
        item = read.mapping(item, where, ("name", "shape", "size", "position", "yaw", "colour"))
        shape = read.shape(read.require(item, "shape", f"{where}."), f"{where}.shape", OBSTACLE_SHAPES)
        obstacles.append(Obstacle(
            name=read.name(read.require(item, "name", f"{where}."), f"{where}.name"),
            shape=shape,
            size=read.vector(read.require(item, "size", f"{where}."), f"{where}.size", (_SIZE_LENGTH[shape],),
                             positive=True),
            position=read.vector(read.require(item, "position", f"{where}."), f"{where}.position", (2,)),
            yaw=read.number(item.get("yaw", 0.0), f"{where}.yaw"),
            colour=read.colour(item.get("colour", "dark_grey"), f"{where}.colour"),
        ))

    parts = []
    for i, item in enumerate(read.items(data, "parts")):
        where = f"parts[{i}]"
        item = read.mapping(item, where, ("id", "label", "shape", "colour", "size", "mass", "position", "yaw"))
        shape = read.shape(read.require(item, "shape", f"{where}."), f"{where}.shape", SHAPES)
        size = read.vector(read.require(item, "size", f"{where}."), f"{where}.size", (_SIZE_LENGTH[shape],),
                           positive=True)
        position = read.vector(read.require(item, "position", f"{where}."), f"{where}.position", (2, 3))
        if len(position) == 2:
            support = _support_height(position[0], position[1], tables, bins, obstacles)
            position = (position[0], position[1], support + _half_height(shape, size))
        parts.append(Part(
            id=read.name(read.require(item, "id", f"{where}."), f"{where}.id"),
            label=read.name(read.require(item, "label", f"{where}."), f"{where}.label"),
            shape=shape,
            colour=read.colour(item.get("colour", "grey"), f"{where}.colour"),
            size=size,
            mass=read.number(read.require(item, "mass", f"{where}."), f"{where}.mass", positive=True),
            position=position,
            yaw=read.number(item.get("yaw", 0.0), f"{where}.yaw"),
        ))

    people = []
    for i, item in enumerate(read.items(data, "people")):
        where = f"people[{i}]"
        item = read.mapping(item, where, ("id", "position", "yaw", "height", "shirt_colour", "path", "speed",
                                          "start_time"))
        height = read.number(item.get("height", 1.75), f"{where}.height", positive=True)
        if not PERSON_HEIGHTS[0] <= height <= PERSON_HEIGHTS[1]:
            raise read.fail(f"{where}.height", f"must be in [{PERSON_HEIGHTS[0]}, {PERSON_HEIGHTS[1]}] m, got {height}")
        people.append(Person(
            id=read.name(read.require(item, "id", f"{where}."), f"{where}.id"),
            position=read.vector(read.require(item, "position", f"{where}."), f"{where}.position", (2,)),
            yaw=read.number(item.get("yaw", 0.0), f"{where}.yaw"),
            height=height,
            shirt_colour=read.colour(item.get("shirt_colour", "steel"), f"{where}.shirt_colour"),
            **_person_path(read, item, where),
        ))

    seen: dict[str, str] = {}
    for kind, names in (("tables", [t.name for t in tables]), ("bins", [b.name for b in bins]),
                        ("obstacles", [o.name for o in obstacles]), ("parts", [p.id for p in parts]),
                        ("people", [p.id for p in people])):
        for i, entry in enumerate(names):
            if entry in seen:
                raise read.fail(f"{kind}[{i}]", f"duplicates the name/id '{entry}' already used by {seen[entry]}")
            seen[entry] = f"{kind}[{i}]"

    sensors = data.get("sensors") or {}
    try:  # the keys and values are checked now; the robot's figures are applied by the simulator
        SensorConfig().with_overrides(read.mapping(sensors, "sensors", _SENSOR_GROUPS), f"scene {source}")
    except DescriptionError as error:
        raise SimError(str(error)) from error
    return Scene(name=name, source=Path(source), robot_start=robot_start, floor=floor, tables=tuple(tables),
                 bins=tuple(bins), parts=tuple(parts), obstacles=tuple(obstacles), people=tuple(people),
                 robots=robots, sensors=sensors)


def _robots(read: _Reader, data: dict) -> tuple[SceneRobot, ...]:
    """The `robots:` list (names unique namespace tokens, starts given); it excludes `robot_start`."""
    if "robots" not in data:
        return ()
    if "robot_start" in data:
        raise read.fail("robots", "and 'robot_start' exclude each other: give each robot its 'start' in 'robots'")
    items = data["robots"]
    if not isinstance(items, list) or not items:
        raise read.fail("robots", "must be a non-empty list of {name, robot, start: {x, y, yaw}}, got "
                                  f"{items!r}")
    robots: list[SceneRobot] = []
    for i, item in enumerate(items):
        where = f"robots[{i}]"
        item = read.mapping(item, where, ("name", "robot", "start"))
        name = read.require(item, "name", f"{where}.")
        if not isinstance(name, str) or not _ROBOT_NAME.match(name):
            raise read.fail(f"{where}.name", "must be letters, digits and '_', not starting with a digit (it "
                                             f"becomes the robot's namespace), got {name!r}")
        for k, other in enumerate(robots):
            if other.name == name:
                raise read.fail(f"{where}.name", f"duplicates the name '{name}' of robots[{k}]")
        robot = item.get("robot")
        if robot is not None and (not isinstance(robot, str) or not robot.strip()):
            raise read.fail(f"{where}.robot", f"must be a robot name or robot file path, got {robot!r}")
        start_in = read.mapping(read.require(item, "start", f"{where}."), f"{where}.start", ("x", "y", "yaw"))
        start = RobotStart(*(read.number(start_in.get(k, 0.0), f"{where}.start.{k}") for k in ("x", "y", "yaw")))
        robots.append(SceneRobot(name=name, robot=robot, start=start))
    return tuple(robots)


def _person_path(read: _Reader, item: dict, where: str) -> dict:
    """A person's optional `path` (waypoints [x, y] or [x, y, pause]), `speed` and `start_time`."""
    if "path" not in item:
        for key in ("speed", "start_time"):
            if key in item:
                raise read.fail(f"{where}.{key}", "needs a path")
        return {}
    raw = item["path"]
    if not isinstance(raw, list) or not raw:
        raise read.fail(f"{where}.path", "must be a non-empty list of waypoints [x, y] or [x, y, pause]")
    path = []
    for k, point in enumerate(raw):
        values = read.vector(point, f"{where}.path[{k}]", (2, 3))
        pause = values[2] if len(values) == 3 else 0.0
        if pause < 0.0:
            raise read.fail(f"{where}.path[{k}]", f"pause must be >= 0 s, got {pause}")
        path.append((values[0], values[1], pause))
    speed = read.number(read.require(item, "speed", f"{where}."), f"{where}.speed", positive=True)
    if speed > PERSON_MAX_SPEED:
        raise read.fail(f"{where}.speed", f"must be at most {PERSON_MAX_SPEED} m/s, got {speed}")
    start_time = read.number(item.get("start_time", 0.0), f"{where}.start_time", non_negative=True)
    return {"path": tuple(path), "speed": speed, "start_time": start_time}


def _in_footprint(x: float, y: float, centre: tuple[float, float], yaw: float, lx: float, ly: float) -> bool:
    """Whether (x, y) lies in a rectangle of extent (lx, ly) centred at `centre`, rotated by `yaw`."""
    dx, dy = x - centre[0], y - centre[1]
    c, s = math.cos(yaw), math.sin(yaw)
    return abs(c * dx + s * dy) <= lx / 2.0 and abs(-s * dx + c * dy) <= ly / 2.0


def _support_height(x: float, y: float, tables: list[Table], bins: list[Bin], obstacles: list[Obstacle]) -> float:
    """Height [m] of the highest surface under (x, y): a table top, a bin's inner floor, an obstacle top, or 0."""
    heights = [0.0]
    heights += [t.top_height for t in tables if _in_footprint(x, y, t.position, t.yaw, t.size[0], t.size[1])]
    heights += [b.inner_floor_height for b in bins if _in_footprint(x, y, b.position, b.yaw, b.size[0], b.size[1])]
    for o in obstacles:
        inside = (_in_footprint(x, y, o.position, o.yaw, o.size[0], o.size[1]) if o.shape == "box"
                  else math.hypot(x - o.position[0], y - o.position[1]) <= o.size[0])
        if inside:
            heights.append(o.height)
    return max(heights)
