"""What the main job records of a shift, as the judge: a plain-data record with a JSON round trip (no ROS).

The job watches the stack over DDS and may read ground truth and the scene file (the robot's software may not). It
fills a `ShiftRecord` and hands it to `legion_bringup.shift_media` for the plots; the video is rendered on the fly
(`shift_media.CellCamera` + `shift_media.ShiftVideo`), so the record holds no joint positions.

What the job should feed (all poses in `odom` = the scene's world frame, x, y [m], yaw [rad], times in simulated
seconds):

- `ShiftRecord.add_sample(t, true_base, ...)`, on every `ground_truth/odom` message (it keeps one sample per
  `sample_period`, 20 Hz by default):
  - `true_base`: `ground_truth/odom` (x, y, yaw);
  - `estimated_base`: the newest `odom/decimated` (the state estimator);
  - `com_reference`, `zmp_reference`: the gait planner's plan, from the newest `gait/reference`: the GaitSample
    whose stamp is nearest t, its `com_position` (x, y), and the ZMP of the linear inverted pendulum
    `zmp_from_lipm(com_position, com_acceleration, com_height)` with com_height = com_position.z minus the
    floor height (the soles' z);
  - `com`, `zmp`: measured. The judge knows the true base pose and the joint positions (`joint_states/decimated`),
    so `legion_model` gives the true CoM and the sole poses in `odom`; `zmp_from_sole_wrenches` combines those with
    the ankle force/torque sensors' wrenches (`l_foot/wrench`, `r_foot/wrench`, sole frames) into the measured ZMP.
    The whole-body controller's `diagnostics` (`contact.<side>.cop_x/y`, sole frames, 1 Hz) are the QP's *planned*
    centres of pressure, too sparse for a plot; left out.
  Any of these may be None; a series that is None throughout is not plotted.
- `footsteps`: landed soles (`Footstep.planned = False`): on each touch-down of the newest `gait/footsteps`
  (FootstepPlan) step whose `touch_down` time has passed, its sole pose; planned ones (`planned = True`) as the
  plan announces them. Both are drawn, planned ones hollow.
- `grid`: one `perception/obstacles` (nav_msgs/OccupancyGrid) snapshot, e.g. the newest at the end:
  `ObstacleGrid.from_occupancy(origin_x, origin_y, origin_yaw, resolution, width, height, data)`.
- `cell`: `CellLayout.load("config/cells/<cell>.yaml")`: tables, bins, keep-out areas and stations.
- `parts`: one `PartEvent` per scene part (`ground_truth/objects` gives where it started and ended; the executive's
  feedback gives the phases walk / pick / carry / place with their times, the bin and the outcome).

Every check raises `ReportError` naming the field (`samples[3].true_base`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

GRAVITY = 9.81
"""[m/s^2]"""

XY = tuple[float, float]
"""(x, y) in `odom` [m]."""
Pose2 = tuple[float, float, float]
"""(x [m], y [m], yaw [rad]) in `odom`."""

SAMPLE_DECIMALS = 6
"""Decimals a sample keeps ([m], [rad], [s])."""
SIDES = ("left", "right")
PHASES = ("walk", "pick", "carry", "place")
"""The phases of one part's cycle, in order; a PartEvent may also carry others (e.g. `look`, `retry`)."""


class ReportError(ValueError):
    """A shift record, cell file or media request that cannot be used; the message names the file or field."""


# --------------------------------------------------------------------------------------------------- checks
def _number(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ReportError(f"{where} must be a finite number, got {value!r}")
    return float(value)


def _vector(value: object, where: str, length: int) -> tuple[float, ...]:
    if not isinstance(value, (list, tuple)) or len(value) != length:
        raise ReportError(f"{where} must be a list of {length} numbers, got {value!r}")
    return tuple(_number(v, f"{where}[{i}]") for i, v in enumerate(value))


def _optional(value: object, where: str, length: int) -> tuple[float, ...] | None:
    return None if value is None else _vector(value, where, length)


def _text(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise ReportError(f"{where} must be a string, got {value!r}")
    return value


def _mapping(value: object, where: str, required: Sequence[str] = ()) -> dict:
    if not isinstance(value, dict):
        raise ReportError(f"{where} must be a mapping, got {type(value).__name__}")
    missing = [key for key in required if key not in value]
    if missing:
        raise ReportError(f"{where} lacks {missing}")
    return value


def _list(value: object, where: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ReportError(f"{where} must be a list, got {type(value).__name__}")
    return value


def _plain(value: object) -> object:
    """`value` with every tuple turned into a list, recursively (what JSON gives back)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


# --------------------------------------------------------------------------------------------------- ZMP helpers
def zmp_from_lipm(com: Sequence[float], com_acceleration: Sequence[float], com_height: float,
                  gravity: float = GRAVITY) -> XY:
    """ZMP of the linear inverted pendulum: p = c - (z_c / g) c_ddot, in the floor plane [m].

    `com` (x, y[, z]) [m] and `com_acceleration` (x, y[, z]) [m/s^2] in `odom`; `com_height` is the CoM's height
    above the floor [m] (the gait planner's `com_height`, or com z minus the soles' z)."""
    if not com_height > 0.0:
        raise ReportError(f"zmp_from_lipm: com_height must be positive, got {com_height!r}")
    scale = com_height / gravity
    return (float(com[0]) - scale * float(com_acceleration[0]), float(com[1]) - scale * float(com_acceleration[1]))


def zmp_from_sole_wrenches(soles: dict[str, Pose2], wrenches: dict[str, tuple[Sequence[float], Sequence[float]]],
                           min_force: float = 20.0) -> XY | None:
    """The measured ZMP (centre of pressure of both feet) in `odom` [m], or None when the feet carry less than
    `min_force` [N] (a fall, a jump, sensors not yet read).

    Args:
        soles: side -> sole frame pose (x, y, yaw) in `odom` (flat floor: the sole frames lie on it).
        wrenches: side -> (force (3,) [N], torque (3,) [N m] about the sole origin), in the sole frame, as the
            ankle force/torque sensors report them on `<side>_foot/wrench` (the ground's wrench on the foot).

    Per foot the CoP in the sole frame is (-tau_y / f_z, tau_x / f_z); the ZMP is the f_z-weighted mean of the
    feet's CoPs placed in `odom`. A foot with f_z <= 0 (in the air) is left out.
    """
    total, x, y = 0.0, 0.0, 0.0
    for side, (force, torque) in wrenches.items():
        if side not in soles:
            raise ReportError(f"zmp_from_sole_wrenches: no sole pose for side '{side}'")
        fz = float(force[2])
        if fz <= 0.0:
            continue
        cop_x, cop_y = -float(torque[1]) / fz, float(torque[0]) / fz
        sx, sy, yaw = soles[side]
        c, s = math.cos(yaw), math.sin(yaw)
        x += fz * (sx + c * cop_x - s * cop_y)
        y += fz * (sy + s * cop_x + c * cop_y)
        total += fz
    if total < min_force:
        return None
    return (x / total, y / total)


# --------------------------------------------------------------------------------------------------- the cell
@dataclass(frozen=True)
class Area:
    """A rectangle or circle on the floor: a table, a bin, a keep-out area or a station marker."""

    name: str
    kind: str
    """`table`, `bin` or `keep_out`."""
    shape: str
    """`box` (size = (lx, ly) along its own axes) or `circle` (radius)."""
    position: XY
    """Centre in `odom` [m]."""
    yaw: float = 0.0
    """[rad]"""
    size: XY = (0.0, 0.0)
    """box: extent (lx, ly) [m]."""
    radius: float = 0.0
    """circle: [m]."""
    accepts: tuple[str, ...] = ()
    """bin: the part labels it takes."""

    def corners(self) -> list[XY]:
        """The box's four corners in `odom` (counter-clockwise); a circle's bounding square."""
        lx, ly = (self.size if self.shape == "box" else (2.0 * self.radius, 2.0 * self.radius))
        c, s = math.cos(self.yaw), math.sin(self.yaw)
        return [(self.position[0] + c * u - s * v, self.position[1] + s * u + c * v)
                for u, v in ((lx / 2, ly / 2), (-lx / 2, ly / 2), (-lx / 2, -ly / 2), (lx / 2, -ly / 2))]


@dataclass(frozen=True)
class CellLayout:
    """What the cell file (`config/cells/<cell>.yaml`, the integrator's description for the executive) says about
    the floor: tables, bins, keep-out areas and the stations the robot works from. Only what a map needs is read."""

    name: str
    areas: tuple[Area, ...] = ()
    stations: dict[str, Pose2] = field(default_factory=dict)
    """Station name -> base_footprint pose (x, y, yaw) in `odom`."""

    @classmethod
    def load(cls, path: str | Path) -> CellLayout:
        """Read a cell file with the executive's loader (`legion_executive.cell.load_cell`: the same checks).
        Raises ReportError when it is missing, not YAML or misstated (the message names the file and the entry)."""
        from legion_executive.cell import CellError, load_cell

        try:
            return cls.from_cell(load_cell(str(path)))
        except CellError as error:
            raise ReportError(str(error)) from error

    @classmethod
    def from_cell(cls, cell) -> CellLayout:
        """From a loaded cell (`legion_executive.cell.CellConfig`)."""
        areas = [Area(t.name, "table", "box", tuple(t.position), t.yaw, tuple(t.size)) for t in cell.tables]
        areas += [Area(b.name, "bin", "box", tuple(b.position), b.yaw, tuple(b.size), accepts=tuple(b.accepts))
                  for b in cell.bins]
        areas += [Area(k.name, "keep_out", k.shape, tuple(k.position), k.yaw, tuple(k.size), k.radius)
                  for k in cell.keep_out]
        return cls(name=cell.name, areas=tuple(areas), stations={s.name: tuple(s.pose) for s in cell.stations})

    def to_dict(self) -> dict:
        return _plain({"name": self.name, "areas": [asdict(a) for a in self.areas],
                       "stations": {k: list(v) for k, v in self.stations.items()}})

    @classmethod
    def from_dict(cls, data: object, where: str = "cell") -> CellLayout:
        data = _mapping(data, where, ("name", "areas"))
        areas = []
        for i, item in enumerate(_list(data["areas"], f"{where}.areas")):
            at = f"{where}.areas[{i}]"
            item = _mapping(item, at, ("name", "kind", "shape", "position"))
            if item["shape"] not in ("box", "circle"):
                raise ReportError(f"{at}.shape must be 'box' or 'circle', got {item['shape']!r}")
            areas.append(Area(name=_text(item["name"], f"{at}.name"), kind=_text(item["kind"], f"{at}.kind"),
                              shape=item["shape"], position=_vector(item["position"], f"{at}.position", 2),
                              yaw=_number(item.get("yaw", 0.0), f"{at}.yaw"),
                              size=_vector(item.get("size", [0.0, 0.0]), f"{at}.size", 2),
                              radius=_number(item.get("radius", 0.0), f"{at}.radius"),
                              accepts=tuple(_text(a, f"{at}.accepts") for a in _list(item.get("accepts"),
                                                                                     f"{at}.accepts"))))
        stations = {k: _vector(v, f"{where}.stations.{k}", 3)
                    for k, v in _mapping(data.get("stations", {}), f"{where}.stations").items()}
        return cls(name=_text(data["name"], f"{where}.name"), areas=tuple(areas), stations=stations)


# --------------------------------------------------------------------------------------------------- the record
@dataclass(frozen=True)
class Sample:
    """The robot at one instant of simulated time. Every optional field may be None (not known at that time)."""

    t: float
    """Simulated time [s]."""
    true_base: Pose2
    """base_link (x, y, yaw) from ground truth."""
    estimated_base: Pose2 | None = None
    """base_link (x, y, yaw) from the state estimator (`odom`)."""
    com: XY | None = None
    """Measured CoM (x, y) [m] (the true CoM from the true base pose and the joint positions)."""
    zmp: XY | None = None
    """Measured ZMP (x, y) [m] (`zmp_from_sole_wrenches`)."""
    com_reference: XY | None = None
    """The gait planner's CoM (x, y) for this instant [m] (`gait/reference`)."""
    zmp_reference: XY | None = None
    """The gait planner's ZMP (x, y) for this instant [m] (`zmp_from_lipm` on its reference)."""


_SAMPLE_OPTIONAL = {"estimated_base": 3, "com": 2, "zmp": 2, "com_reference": 2, "zmp_reference": 2}


@dataclass(frozen=True)
class Footstep:
    """A sole on the floor: where a foot landed (or is planned to land)."""

    t: float
    """Touch-down time [s]."""
    x: float
    """Sole frame origin in `odom` [m]."""
    y: float
    """[m]"""
    yaw: float
    """[rad]"""
    side: str
    """`left` or `right`."""
    planned: bool = False
    """True: from a plan (`gait/footsteps`), not a landing."""


@dataclass(frozen=True)
class ObstacleGrid:
    """A snapshot of perception's obstacle grid (nav_msgs/OccupancyGrid): row-major cells from the origin, x along a
    row; values -1 unknown, 0 free .. 100 occupied."""

    origin: Pose2
    """Pose (x, y, yaw) in `odom` of the grid's cell (0, 0) corner [m, rad]."""
    resolution: float
    """Cell edge [m]."""
    width: int
    """Cells along the grid's x."""
    height: int
    """Cells along the grid's y."""
    data: tuple[int, ...]
    """(height * width) cell values, row-major."""

    def __post_init__(self) -> None:
        if not (isinstance(self.width, int) and isinstance(self.height, int)) or self.width < 0 or self.height < 0:
            raise ReportError(f"grid width and height must be non-negative integers, got {self.width}, {self.height}")
        if not self.resolution > 0.0:
            raise ReportError(f"grid resolution must be positive, got {self.resolution!r}")
        if len(self.data) != self.width * self.height:
            raise ReportError(f"grid data has {len(self.data)} cells, width x height is "
                              f"{self.width} x {self.height} = {self.width * self.height}")

    @classmethod
    def from_occupancy(cls, origin_x: float, origin_y: float, origin_yaw: float, resolution: float, width: int,
                       height: int, data: Iterable[int]) -> ObstacleGrid:
        """From an OccupancyGrid's fields (info.origin position x, y and yaw; info.resolution, width, height; data)."""
        return cls((float(origin_x), float(origin_y), float(origin_yaw)), float(resolution), int(width), int(height),
                   tuple(int(v) for v in data))


@dataclass(frozen=True)
class PhaseSpan:
    """One phase of a part's cycle."""

    name: str
    """`walk`, `pick`, `carry`, `place` (or another the executive reports)."""
    start: float
    """[s]"""
    end: float
    """[s]"""


@dataclass(frozen=True)
class PartEvent:
    """What happened to one part during the shift."""

    id: str
    """Scene part id (`red_cube_1`)."""
    label: str
    """Part class (`red_cube`)."""
    outcome: str
    """`placed` (in its bin), `wrong_bin`, `dropped`, `skipped`, `failed`, ... (free text, shown as is)."""
    start_position: XY
    """Where the part truly was at the start of the shift [m]."""
    end_position: XY | None = None
    """Where it truly was at the end [m]; None: not known."""
    bin: str = ""
    """The bin it was meant for (cell bin name); empty: none."""
    phases: tuple[PhaseSpan, ...] = ()

    @property
    def start(self) -> float:
        """Start of the first phase [s] (nan without phases)."""
        return min((p.start for p in self.phases), default=math.nan)

    @property
    def end(self) -> float:
        """End of the last phase [s] (nan without phases)."""
        return max((p.end for p in self.phases), default=math.nan)


@dataclass
class ShiftRecord:
    """Everything the judge records of a shift for the plots (see the module docstring for what feeds each field)."""

    scene: str
    robot: str
    sample_period: float = 0.05
    """Smallest time between two kept samples [s] (20 Hz)."""
    samples: list[Sample] = field(default_factory=list)
    footsteps: list[Footstep] = field(default_factory=list)
    grid: ObstacleGrid | None = None
    cell: CellLayout | None = None
    parts: list[PartEvent] = field(default_factory=list)

    def add_sample(self, t: float, true_base: Pose2, estimated_base: Pose2 | None = None, com: XY | None = None,
                   zmp: XY | None = None, com_reference: XY | None = None, zmp_reference: XY | None = None) -> bool:
        """Keep a sample if at least `sample_period` of simulated time passed since the last one kept; returns
        whether it was kept. Values are kept to SAMPLE_DECIMALS decimals (1 um, 1 urad, 1 us: finer than anything the
        robot measures; the JSON shrinks by a third). A sample earlier than the last one (the simulation was reset)
        raises ReportError."""
        t = _number(t, "add_sample: t")
        if self.samples:
            last = self.samples[-1].t
            if t < last:
                raise ReportError(f"add_sample: time went back from {last:.3f} s to {t:.3f} s")
            if t - last < self.sample_period - 1e-9:
                return False
        def rounded(values: tuple[float, ...] | None) -> tuple[float, ...] | None:
            return None if values is None else tuple(round(v, SAMPLE_DECIMALS) for v in values)

        self.samples.append(Sample(
            round(t, SAMPLE_DECIMALS), rounded(_vector(true_base, "add_sample: true_base", 3)),
            **{name: rounded(_optional(value, f"add_sample: {name}", _SAMPLE_OPTIONAL[name])) for name, value in (
                ("estimated_base", estimated_base), ("com", com), ("zmp", zmp), ("com_reference", com_reference),
                ("zmp_reference", zmp_reference))}))
        return True

    def series(self, name: str) -> tuple[list[float], list[tuple[float, ...]]]:
        """(times, values) of one sample field where it is known (`true_base`, `com`, `zmp_reference`, ...)."""
        times, values = [], []
        for sample in self.samples:
            value = getattr(sample, name)
            if value is not None:
                times.append(sample.t)
                values.append(value)
        return times, values

    # --- JSON ------------------------------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """The record as JSON-ready data (lists, dicts, numbers, strings; absent sample fields left out)."""
        return _plain({
            "scene": self.scene, "robot": self.robot, "sample_period": self.sample_period,
            "samples": [{k: v for k, v in asdict(s).items() if v is not None} for s in self.samples],
            "footsteps": [asdict(f) for f in self.footsteps],
            "grid": asdict(self.grid) if self.grid is not None else None,
            "cell": self.cell.to_dict() if self.cell is not None else None,
            "parts": [asdict(p) for p in self.parts],
        })

    @classmethod
    def from_dict(cls, data: object) -> ShiftRecord:
        """A record from `to_dict`'s output. Raises ReportError naming the first bad field."""
        data = _mapping(data, "record", ("scene", "robot"))
        record = cls(scene=_text(data["scene"], "scene"), robot=_text(data["robot"], "robot"),
                     sample_period=_number(data.get("sample_period", 0.05), "sample_period"))
        for i, item in enumerate(_list(data.get("samples"), "samples")):
            where = f"samples[{i}]"
            item = _mapping(item, where, ("t", "true_base"))
            record.samples.append(Sample(
                _number(item["t"], f"{where}.t"), _vector(item["true_base"], f"{where}.true_base", 3),
                **{name: _optional(item.get(name), f"{where}.{name}", n) for name, n in _SAMPLE_OPTIONAL.items()}))
        for i, item in enumerate(_list(data.get("footsteps"), "footsteps")):
            where = f"footsteps[{i}]"
            item = _mapping(item, where, ("t", "x", "y", "yaw", "side"))
            if item["side"] not in SIDES:
                raise ReportError(f"{where}.side must be one of {list(SIDES)}, got {item['side']!r}")
            record.footsteps.append(Footstep(*(_number(item[k], f"{where}.{k}") for k in ("t", "x", "y", "yaw")),
                                             side=item["side"], planned=bool(item.get("planned", False))))
        if data.get("grid") is not None:
            grid = _mapping(data["grid"], "grid", ("origin", "resolution", "width", "height", "data"))
            cells = _list(grid["data"], "grid.data")
            if not all(isinstance(v, int) and not isinstance(v, bool) for v in cells):
                raise ReportError("grid.data must be a list of integers")
            record.grid = ObstacleGrid(_vector(grid["origin"], "grid.origin", 3),
                                       _number(grid["resolution"], "grid.resolution"), grid["width"], grid["height"],
                                       tuple(cells))
        if data.get("cell") is not None:
            record.cell = CellLayout.from_dict(data["cell"])
        for i, item in enumerate(_list(data.get("parts"), "parts")):
            where = f"parts[{i}]"
            item = _mapping(item, where, ("id", "label", "outcome", "start_position"))
            phases = []
            for k, phase in enumerate(_list(item.get("phases"), f"{where}.phases")):
                at = f"{where}.phases[{k}]"
                phase = _mapping(phase, at, ("name", "start", "end"))
                start, end = _number(phase["start"], f"{at}.start"), _number(phase["end"], f"{at}.end")
                if end < start:
                    raise ReportError(f"{at} ends ({end}) before it starts ({start})")
                phases.append(PhaseSpan(_text(phase["name"], f"{at}.name"), start, end))
            record.parts.append(PartEvent(
                id=_text(item["id"], f"{where}.id"), label=_text(item["label"], f"{where}.label"),
                outcome=_text(item["outcome"], f"{where}.outcome"),
                start_position=_vector(item["start_position"], f"{where}.start_position", 2),
                end_position=_optional(item.get("end_position"), f"{where}.end_position", 2),
                bin=_text(item.get("bin", ""), f"{where}.bin"), phases=tuple(phases)))
        return record

    def save(self, path: str | Path) -> Path:
        """Write the record as JSON; returns the path."""
        path = Path(path)
        path.write_text(json.dumps(self.to_dict(), separators=(",", ":")) + "\n")
        return path

    @classmethod
    def load(cls, path: str | Path) -> ShiftRecord:
        """Read a record written by `save`. Raises ReportError (missing file, not JSON, a bad field)."""
        path = Path(path)
        try:
            data = json.loads(path.read_text())
        except OSError as error:
            raise ReportError(f"cannot read shift record {path}: {error}") from error
        except json.JSONDecodeError as error:
            raise ReportError(f"shift record {path} is not JSON: {error}") from error
        try:
            return cls.from_dict(data)
        except ReportError as error:
            raise ReportError(f"shift record {path}: {error}") from error
