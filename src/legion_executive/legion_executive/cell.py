"""A work cell as the integrator describes it to the executive: `config/cells/<cell>.yaml` (docs/cells.md).

The cell file names where the robot stands to work (stations, base_footprint poses in `odom`), the tables parts lie
on, the bins and the part classes each accepts, fixed keep-out areas on the floor and the shift's policy (attempts,
tolerances, the protective zone around the robot). Poses are approximate: the executive finds parts and checks bins
with perception. The executive never reads the simulator's scene file.

A cell is named like a robot (`legion_description.robot_files`): a name, whose `<cell>.yaml` is searched for in

1. the directories on `LEGION_CELL_PATH` (`:`-separated);
2. `config/cells/` of the `legion_bringup` share (found through the ament index), else the source workspace's
   top-level `config/cells/`;
3. the workspace folder the installed cell files link to (a `colcon build --symlink-install`), so that a cell file
   added there is found without a rebuild;

or the path of a cell file itself. Every problem is a `CellError` whose message names the file and the key path
(`sorting_cell.yaml: bins[2].station: unknown station 'x'`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from legion_common.share import names_a_file, search_dirs
from legion_common.share import share_dir as common_share_dir

CELL_PATH_VARIABLE = "LEGION_CELL_PATH"
"""Environment variable: directories (`:`-separated) searched for `<cell>.yaml` before the bringup share."""
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


class CellError(Exception):
    """A cell file is missing or invalid; the message names the file and the key path."""


@dataclass(frozen=True)
class Table:
    """A table parts lie on: a rectangle on the floor of `size` centred at `position`, turned by `yaw`."""

    name: str
    position: tuple[float, float]
    """Centre (x, y) in odom [m]."""
    size: tuple[float, float]
    """Extents along its own x and y [m]."""
    height: float
    """Top surface above the floor [m]."""
    yaw: float = 0.0
    """[rad]"""

    def contains(self, x: float, y: float, margin: float = 0.0) -> bool:
        """Whether (x, y) in odom lies on the table's footprint grown by `margin` [m]."""
        return _in_box(x, y, self.position, self.size, self.yaw, margin)


@dataclass(frozen=True)
class Bin:
    """A bin: the part classes it accepts, roughly where it stands and the station the robot places from."""

    name: str
    """Also the label perception gives it (`red_bin`; its ids are `red_bin_<n>`)."""
    accepts: tuple[str, ...]
    """Part classes (perception labels, e.g. `red_cube`)."""
    position: tuple[float, float]
    """Centre (x, y) in odom [m], approximate."""
    size: tuple[float, float]
    """Outer extents x, y [m]."""
    station: str
    """The station the robot stands at to place into it."""
    yaw: float = 0.0
    """[rad]"""

    def contains(self, x: float, y: float, margin: float = 0.0) -> bool:
        """Whether (x, y) in odom lies on the bin's footprint grown by `margin` [m]."""
        return _in_box(x, y, self.position, self.size, self.yaw, margin)


@dataclass(frozen=True)
class Station:
    """Where the robot stands to work: a base_footprint pose in odom and what it faces."""

    name: str
    pose: tuple[float, float, float]
    """(x [m], y [m], yaw [rad]) of base_footprint in odom."""
    faces: tuple[str, ...]
    """Names of the tables and bins it faces."""
    look: str = ""
    """The robot file's named posture that points the head camera at what it faces ("" : the standing posture)."""


@dataclass(frozen=True)
class KeepOut:
    """A fixed obstacle on the floor: a circle (`radius`) or a box (`size`, `yaw`) at `position`."""

    name: str
    shape: str
    """`circle` or `box`."""
    position: tuple[float, float]
    """Centre (x, y) in odom [m]."""
    radius: float = 0.0
    """[m] (circle)"""
    size: tuple[float, float] = (0.0, 0.0)
    """Extents along its own x and y [m] (box)."""
    yaw: float = 0.0
    """[rad] (box)"""

    def contains(self, x: float, y: float, margin: float = 0.0) -> bool:
        """Whether (x, y) in odom lies inside the area grown by `margin` [m]."""
        if self.shape == "circle":
            return math.hypot(x - self.position[0], y - self.position[1]) <= self.radius + margin
        return _in_box(x, y, self.position, self.size, self.yaw, margin)


@dataclass(frozen=True)
class Policy:
    """How the shift is run (docs/cells.md, `policy`)."""

    order: str = "closest_first"
    """The next part: `closest_first` (to the robot) is the only order today."""
    max_attempts: int = 3
    """Picks of one part, each after a fresh look, before it is skipped."""
    other_hand: bool = True
    """A failed pick is retried with the other hand."""
    bin_tolerance: float = 0.20
    """[m] a perceived bin farther than this from its cell position is not used."""
    protective_zone: float = 1.5
    """[m] the shift pauses while a person is nearer than this to the robot."""
    resume_after: float = 2.0
    """[s] the zone must be clear this long before the shift resumes."""
    look_time: float = 1.5
    """[s] settle time after the head moves, before perception is read."""
    walk_attempts: int = 2
    """walk_to goals to one station before it counts as unreachable (the first try and one retry)."""
    station_tolerance: float = 0.10
    """[m] the robot is at a station when its base is this close (else it walks there)."""
    station_yaw_tolerance: float = 0.15
    """[rad] and its heading this close."""
    table_margin: float = 0.02
    """[m] a part on a table's footprint grown by this is on the table (parts in bins are not)."""
    check_bins_first: bool = False
    """Check every bin from its station before the first part (a walk to each); else each bin is checked when the
    robot first arrives at its station with a part for it."""
    reservation_timeout: float = 120.0
    """[s] in a cell shared with other robots: how long the robot waits for a bin's station another robot holds
    (fleet coordinator) before the part counts as failed (and is put back)."""


ORDERS = ("closest_first",)


@dataclass(frozen=True)
class CellConfig:
    """A validated cell file."""

    name: str
    path: Path
    tables: tuple[Table, ...]
    stations: tuple[Station, ...]
    bins: tuple[Bin, ...]
    keep_out: tuple[KeepOut, ...] = ()
    policy: Policy = field(default_factory=Policy)

    def station(self, name: str) -> Station:
        return next(s for s in self.stations if s.name == name)

    def bin(self, name: str) -> Bin:
        return next(b for b in self.bins if b.name == name)

    def bin_for(self, label: str) -> Bin | None:
        """The bin that accepts part class `label`, or None."""
        return next((b for b in self.bins if label in b.accepts), None)

    @property
    def work_stations(self) -> tuple[Station, ...]:
        """Stations that face a table (where parts are looked at and picked), in file order."""
        tables = {t.name for t in self.tables}
        return tuple(s for s in self.stations if tables & set(s.faces))

    def table_at(self, x: float, y: float) -> Table | None:
        """The table whose footprint (grown by policy.table_margin) holds (x, y), or None."""
        return next((t for t in self.tables if t.contains(x, y, self.policy.table_margin)), None)

    def station_for_table(self, table: str) -> Station | None:
        return next((s for s in self.stations if table in s.faces), None)


def _in_box(x: float, y: float, centre: tuple[float, float], size: tuple[float, float], yaw: float,
            margin: float) -> bool:
    dx, dy = x - centre[0], y - centre[1]
    c, s = math.cos(yaw), math.sin(yaw)
    local_x, local_y = c * dx + s * dy, -s * dx + c * dy
    return abs(local_x) <= size[0] / 2 + margin and abs(local_y) <= size[1] / 2 + margin


# ------------------------------------------------------------------------------------------------ finding files
def share_dir() -> Path:
    """Directory that holds `config/cells/`: the legion_bringup share, or the source workspace root
    (this file is <ws>/src/legion_executive/legion_executive/cell.py)."""
    return common_share_dir("legion_bringup", "config", Path(__file__).resolve().parents[3])


def is_cell_file(cell: str) -> bool:
    """Whether `cell` names a cell file by path (ends in `.yaml`/`.yml` or contains a `/`) rather than a name."""
    return names_a_file(cell)


def cell_search_dirs() -> list[Path]:
    """Directories searched for `<cell>.yaml`, in order (see the module's docstring)."""
    return search_dirs(CELL_PATH_VARIABLE, share_dir() / "config" / "cells")


def cell_path(cell: str) -> Path:
    """The cell file of `cell` (a name or a path); CellError, saying where it looked, if there is none."""
    if not isinstance(cell, str) or not cell:
        raise CellError(f"invalid cell {cell!r}: expected a cell name or the path of a cell file (.yaml)")
    if is_cell_file(cell):
        path = Path(cell).expanduser()
        if not path.is_file():
            raise CellError(f"no cell file: {path} does not exist")
        return path.resolve()
    if not _NAME.match(cell):
        raise CellError(f"invalid cell name {cell!r}: expected letters, digits and underscores, or a path (.yaml)")
    searched = cell_search_dirs()
    for directory in searched:
        path = directory / f"{cell}.yaml"
        if path.is_file():
            return path
    raise CellError(f"no cell file for cell {cell!r}: no {cell}.yaml in {', '.join(str(d) for d in searched)}; put "
                    f"its directory on {CELL_PATH_VARIABLE} or pass the file itself")


# ------------------------------------------------------------------------------------------------ validation
class _Reader:
    """Typed access to the YAML tree; every error names the file and the key path."""

    def __init__(self, source: str) -> None:
        self.source = source

    def error(self, key: str, message: str) -> CellError:
        return CellError(f"{self.source}: {key}: {message}" if key else f"{self.source}: {message}")

    def mapping(self, value: Any, key: str, allowed: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.error(key, f"must be a mapping, got {type(value).__name__}")
        for name in value:
            if name not in allowed:
                where = f"{key}.{name}" if key else str(name)
                raise self.error(where, f"unknown key (known: {', '.join(allowed)})")
        return value

    def required(self, data: dict[str, Any], name: str, key: str) -> Any:
        if name not in data or data[name] is None:
            raise self.error(f"{key}.{name}" if key else name, "missing")
        return data[name]

    def number(self, value: Any, key: str, low: float | None = None, positive: bool = False) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(key, f"must be a number, got {value!r}")
        number = float(value)
        if not math.isfinite(number):
            raise self.error(key, f"must be finite, got {value!r}")
        if positive and number <= 0.0:
            raise self.error(key, f"must be positive, got {value!r}")
        if low is not None and number < low:
            raise self.error(key, f"must be at least {low:g}, got {value!r}")
        return number

    def integer(self, value: Any, key: str, low: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"must be a whole number, got {value!r}")
        if value < low:
            raise self.error(key, f"must be at least {low}, got {value!r}")
        return int(value)

    def boolean(self, value: Any, key: str) -> bool:
        if not isinstance(value, bool):
            raise self.error(key, f"must be true or false, got {value!r}")
        return value

    def name(self, value: Any, key: str) -> str:
        if not isinstance(value, str) or not value:
            raise self.error(key, f"must be a non-empty string, got {value!r}")
        return value

    def vector(self, value: Any, key: str, length: int, positive: bool = False) -> tuple[float, ...]:
        if not isinstance(value, (list, tuple)) or len(value) != length:
            raise self.error(key, f"must be a list of {length} numbers, got {value!r}")
        return tuple(self.number(v, f"{key}[{i}]", positive=positive) for i, v in enumerate(value))

    def names(self, value: Any, key: str) -> tuple[str, ...]:
        """A name or a list of names."""
        if isinstance(value, str):
            return (self.name(value, key),)
        if not isinstance(value, list) or not value:
            raise self.error(key, f"must be a name or a non-empty list of names, got {value!r}")
        return tuple(self.name(v, f"{key}[{i}]") for i, v in enumerate(value))

    def items(self, data: dict[str, Any], name: str, required: bool) -> list[Any]:
        if name not in data or data[name] is None:
            if required:
                raise self.error(name, "missing")
            return []
        value = data[name]
        if not isinstance(value, list):
            raise self.error(name, f"must be a list, got {type(value).__name__}")
        return value


def _unique(reader: _Reader, names: list[tuple[str, str]], kind: str) -> None:
    seen: dict[str, str] = {}
    for key, name in names:
        if name in seen:
            raise reader.error(key, f"duplicate {kind} name '{name}' (also {seen[name]})")
        seen[name] = key


def parse_cell(data: Any, source: str, path: Path | None = None) -> CellConfig:
    """Validate a cell file's YAML tree; `source` names it in errors (usually the file name)."""
    r = _Reader(source)
    if data is None:
        raise r.error("", "the file is empty")
    top = r.mapping(data, "", ("name", "tables", "stations", "bins", "keep_out", "policy"))
    name = r.name(top["name"], "name") if "name" in top else Path(source).stem

    tables = []
    for i, item in enumerate(r.items(top, "tables", required=True)):
        key = f"tables[{i}]"
        t = r.mapping(item, key, ("name", "position", "size", "height", "yaw"))
        tables.append(Table(name=r.name(r.required(t, "name", key), f"{key}.name"),
                            position=r.vector(r.required(t, "position", key), f"{key}.position", 2),
                            size=r.vector(r.required(t, "size", key), f"{key}.size", 2, positive=True),
                            height=r.number(r.required(t, "height", key), f"{key}.height", positive=True),
                            yaw=r.number(t.get("yaw", 0.0), f"{key}.yaw")))

    bins_raw = []
    for i, item in enumerate(r.items(top, "bins", required=True)):
        key = f"bins[{i}]"
        b = r.mapping(item, key, ("name", "accepts", "position", "size", "station", "yaw"))
        bins_raw.append((key, Bin(name=r.name(r.required(b, "name", key), f"{key}.name"),
                                  accepts=r.names(r.required(b, "accepts", key), f"{key}.accepts"),
                                  position=r.vector(r.required(b, "position", key), f"{key}.position", 2),
                                  size=r.vector(r.required(b, "size", key), f"{key}.size", 2, positive=True),
                                  station=r.name(r.required(b, "station", key), f"{key}.station"),
                                  yaw=r.number(b.get("yaw", 0.0), f"{key}.yaw"))))

    keep_out = []
    for i, item in enumerate(r.items(top, "keep_out", required=False)):
        key = f"keep_out[{i}]"
        k = r.mapping(item, key, ("name", "shape", "position", "radius", "size", "yaw"))
        shape = r.required(k, "shape", key)
        if shape not in ("circle", "box"):
            raise r.error(f"{key}.shape", f"must be circle or box, got {shape!r}")
        area_name = r.name(r.required(k, "name", key), f"{key}.name")
        position = r.vector(r.required(k, "position", key), f"{key}.position", 2)
        if shape == "circle":
            if "size" in k:
                raise r.error(f"{key}.size", "a circle has a radius, not a size")
            keep_out.append(KeepOut(area_name, shape, position,
                                    radius=r.number(r.required(k, "radius", key), f"{key}.radius", positive=True)))
        else:
            if "radius" in k:
                raise r.error(f"{key}.radius", "a box has a size, not a radius")
            keep_out.append(KeepOut(area_name, shape, position,
                                    size=r.vector(r.required(k, "size", key), f"{key}.size", 2, positive=True),
                                    yaw=r.number(k.get("yaw", 0.0), f"{key}.yaw")))

    stations = []
    for i, item in enumerate(r.items(top, "stations", required=True)):
        key = f"stations[{i}]"
        s = r.mapping(item, key, ("name", "pose", "faces", "look"))
        look = s.get("look", "")
        if look is None or not isinstance(look, str):
            raise r.error(f"{key}.look", f"must be a posture name, got {look!r}")
        stations.append(Station(name=r.name(r.required(s, "name", key), f"{key}.name"),
                                pose=r.vector(r.required(s, "pose", key), f"{key}.pose", 3),
                                faces=r.names(r.required(s, "faces", key), f"{key}.faces"), look=look))

    policy_data = r.mapping(top.get("policy") or {}, "policy", tuple(Policy.__dataclass_fields__))
    defaults = Policy()
    values: dict[str, Any] = {}
    for key, value in policy_data.items():
        where = f"policy.{key}"
        default = getattr(defaults, key)
        if key == "order":
            if value not in ORDERS:
                raise r.error(where, f"must be one of {', '.join(ORDERS)}, got {value!r}")
            values[key] = value
        elif isinstance(default, bool):
            values[key] = r.boolean(value, where)
        elif isinstance(default, int):
            values[key] = r.integer(value, where, 1)
        else:
            values[key] = r.number(value, where, low=0.0)
    policy = Policy(**values)

    # Names and references.
    _unique(r, [(f"tables[{i}].name", t.name) for i, t in enumerate(tables)]
            + [(key, b.name) for key, b in ((f"{k}.name", b) for k, b in bins_raw)]
            + [(f"keep_out[{i}].name", k.name) for i, k in enumerate(keep_out)], "table, bin or keep-out")
    _unique(r, [(f"stations[{i}].name", s.name) for i, s in enumerate(stations)], "station")
    station_names = {s.name for s in stations}
    facing = {t.name for t in tables} | {b.name for _, b in bins_raw}
    accepted: dict[str, str] = {}
    for key, b in bins_raw:
        if b.station not in station_names:
            known = ", ".join(sorted(station_names))
            raise r.error(f"{key}.station", f"unknown station '{b.station}' (known: {known})")
        for j, label in enumerate(b.accepts):
            if label in accepted:
                raise r.error(f"{key}.accepts[{j}]", f"class '{label}' is already accepted by bin '{accepted[label]}'")
            accepted[label] = b.name
    for i, s in enumerate(stations):
        for j, target in enumerate(s.faces):
            if target not in facing:
                raise r.error(f"stations[{i}].faces" + (f"[{j}]" if len(s.faces) > 1 else ""),
                              f"unknown table or bin '{target}'")
        x, y = s.pose[0], s.pose[1]
        for area in [*tables, *keep_out, *(b for _, b in bins_raw)]:
            if area.contains(x, y):
                raise r.error(f"stations[{i}].pose", f"station '{s.name}' stands inside '{area.name}'")
    if not any(set(s.faces) & {t.name for t in tables} for s in stations):
        raise r.error("stations", "no station faces a table: the robot has nowhere to pick parts from")
    return CellConfig(name=name, path=path or Path(source), tables=tuple(tables), stations=tuple(stations),
                      bins=tuple(b for _, b in bins_raw), keep_out=tuple(keep_out), policy=policy)


def load_cell(cell: str | Path) -> CellConfig:
    """Find (see the module's docstring) and validate a cell file; CellError naming the file and key on a problem."""
    path = cell_path(str(cell))
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise CellError(f"{path.name}: cannot read the cell file: {error}") from error
    return parse_cell(data, path.name, path)
