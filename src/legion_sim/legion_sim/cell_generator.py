"""Randomised sorting cells: a scene file for the simulator and the matching cell file for the executive, per seed.

Every generated cell is of the shipped sorting cell's kind (`config/scenes/sorting_cell.yaml`,
`config/cells/sorting_cell.yaml`): the robot starts at the origin facing +x, a work table ahead of it, two pairs of
bins on stands beside the table (one pair on each side), a drop station behind each pair facing it, and a table
station just behind the start. What changes with the seed (numpy `Generator`, so one seed gives one cell):

- parts: 3-8 of the four sortable classes (sizes +-15 % about the shipped ones, masses from the shipped densities
  +-15 %), sometimes one part of a fifth class that perception labels but no bin accepts (`green_sphere`,
  `red_cylinder`); poses uniform in the reach box of the table station (`REACH_BOX`), on the table top, yaw uniform,
  centres at least `PART_SEPARATION` apart and footprints `PART_GAP` apart;
- the table: position +-3 cm, yaw +-3 deg; the bins: which class each of the four bin places takes (a bin keeps its
  class's colour and is named `<colour>_bin`), positions +-3 cm, kept `BIN_GAP` from the table and each other. The
  cell file gives the nominal positions, as an integrator would write them;
- obstacles: 0-2 boxes or cylinders on the floor, 0.2-0.6 m across, at least `CORRIDOR_CLEARANCE` from every
  straight path between the start and the stations, some within 1-2 m of a path; in the scene and in `keep_out`;
- a person: 0-1, 2-4 m from the start, facing it within +-20 deg, clear of the paths and the furniture.

World frame = `odom` (x forward from the start, y left), metres, radians, kilograms (docs/scenes.md).

    python -m legion_sim.cell_generator --seed 7 --count 3 --output /tmp/cells
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from legion_sim.errors import SimError


@dataclass(frozen=True)
class PartClass:
    """A part class as the shipped sorting cell has it."""

    label: str
    """What perception reports, `<colour>_<shape>` with shape `cube` for a box of equal sides."""
    colour: str
    shape: str
    """`box`, `cylinder` or `sphere` (scene shape)."""
    size: tuple[float, ...]
    """Nominal size in the scene format: box (lx, ly, lz), cylinder (radius, height), sphere (radius,) [m]."""
    mass: float
    """Nominal mass at the nominal size [kg]."""


SORTED_CLASSES = (
    PartClass("red_cube", "red", "box", (0.05, 0.05, 0.05), 0.10),
    PartClass("green_cube", "green", "box", (0.04, 0.04, 0.04), 0.06),
    PartClass("blue_cylinder", "blue", "cylinder", (0.025, 0.08), 0.12),
    PartClass("yellow_sphere", "yellow", "sphere", (0.03,), 0.08),
)
"""The four classes the bins accept (one bin each), with the shipped cell's sizes and masses."""
STRAY_CLASSES = (
    PartClass("green_sphere", "green", "sphere", (0.03,), 0.08),
    PartClass("red_cylinder", "red", "cylinder", (0.025, 0.08), 0.12),
)
"""Classes perception labels (a colour and a shape it knows) that no bin accepts: the executive must leave them."""

SIZE_SPREAD = 0.15
"""Relative spread of part sizes and of part densities about the nominal ones."""
PART_COUNT = (3, 8)
"""Fewest and most parts on the table."""
STRAY_PROBABILITY = 0.25
"""Chance that one of the parts is of a class no bin accepts."""
PART_SEPARATION = 0.10
"""[m] least distance between part centres, so a hand fits between neighbours."""
PART_GAP = 0.025
"""[m] least gap between two parts' footprint circles (two large cubes' corners stay this far apart)."""
REACH_BOX = ((0.42, 0.56), (-0.20, 0.20))
"""[m] where part centres may lie, in the table station's frame (x ahead of base_footprint, y left): the shipped
cell's parts are 0.43-0.53 m ahead of the station, 0.15 m either side."""
TABLE_EDGE_MARGIN = 0.01
"""[m] least distance from a part's footprint (its bounding circle) to the table top's edge."""

TABLE_NAME = "work_table"
TABLE_POSITION = (0.60, 0.0)
"""[m] nominal centre of the table top."""
TABLE_SIZE = (0.50, 1.00, 0.75)
"""[m] (lx, ly, height of the top)."""
TABLE_JITTER = 0.03
"""[m] largest offset of the table from its nominal position, along x and along y."""
TABLE_YAW_JITTER = math.radians(3.0)
"""[rad] largest yaw of the table."""

BIN_PLACES = ((0.35, 0.72), (0.70, 0.72), (0.35, -0.72), (0.70, -0.72))
"""The four bin places: nominal centres [m]. Each bin has its drop station behind it (seen from the table), facing
it, named after the bin (`red_drop` for `red_bin`)."""
BIN_SIZE = (0.30, 0.30, 0.20)
"""[m] outer extent and wall height."""
BIN_WALL = 0.01
"""[m]"""
BIN_STAND = 0.40
"""[m] stand height: rims 0.60 m high, below the table top."""
BIN_JITTER = 0.03
"""[m] largest offset of a bin from its nominal place, along x and along y."""
BIN_GAP = 0.03
"""[m] least gap between a bin and the table or another bin (the nominal places leave 5 cm between the bins of a
pair: two rims that nearly touch make a blob of mixed colour perception takes for a part)."""

TABLE_STATION_SETBACK = 0.60
"""[m] the table station's base_footprint behind the table centre (the shipped cell's 0.0 m: the robot's start)."""
DROP_STATION_SETBACK = 0.49
"""[m] a drop station's base_footprint beyond its bin's centre (the shipped cell's 1.21 m: the robot's front 0.34 m
from the bin, clear of it while stepping)."""
LOOK_POSTURE = "inspect_table"
"""The robot file's posture the table station looks with."""
DROP_LOOK_POSTURE = "inspect_bin"
"""The robot file's posture the drop stations look with (the bin's opening, lower and nearer than a table top)."""

OBSTACLE_COUNT = (0, 2)
OBSTACLE_EXTENT = (0.20, 0.60)
"""[m] footprint of an obstacle: box sides, cylinder diameter."""
OBSTACLE_HEIGHT = (0.40, 2.00)
"""[m]"""
OBSTACLE_COLOURS = ("light_grey", "steel", "dark_grey", "grey", "white")
"""Unsaturated colours only: perception takes saturated blobs for parts and bins."""
CORRIDOR_CLEARANCE = 0.60
"""[m] least distance from an obstacle's or a person's footprint to a path between the start and the stations."""
NEAR_OBSTACLE = (1.0, 2.0)
"""[m] a near obstacle's centre lies this far from the nearest path; the others up to `FAR_OBSTACLE`."""
FAR_OBSTACLE = 3.5
"""[m]"""
FURNITURE_CLEARANCE = 0.50
"""[m] least gap between an obstacle or a person and the table, a bin or another obstacle."""
FIELD = ((-3.5, 4.0), (-4.0, 4.0))
"""[m] where obstacles and people may stand (x range, y range)."""

PERSON_DISTANCE = (2.0, 4.0)
"""[m] a person's distance from the robot's start."""
PERSON_FACING = math.radians(20.0)
"""[rad] largest angle between a person's facing and the direction to the robot's start."""
PERSON_HEIGHT = (1.55, 1.95)
"""[m]"""
PERSON_RADIUS = 0.30
"""[m] radius of a person's footprint with the arms (legion_sim.model_builder._add_people)."""
PERSON_PROBABILITY = 0.5
SHIRT_COLOURS = ("safety_yellow", "steel", "dark_grey", "light_grey", "white")

POLICY = {"order": "closest_first", "max_attempts": 3, "other_hand": True, "bin_tolerance": 0.20,
          "protective_zone": 1.5, "resume_after": 2.0, "look_time": 1.5}
"""The shipped cell's policy block (config/cells/sorting_cell.yaml)."""

_PLACEMENT_TRIES = 400
"""Candidate positions drawn per part, per obstacle or person before that placement is given up."""
_RANDOM_STARTS = 15
"""Fresh starts of the random sequential part layout before the parts are pushed apart instead."""
_PUSH_STARTS = 60
"""Fresh starts of the pushed-apart part layout before the generator gives up."""
_ROUNDING = 0.0005
"""[m] margin on the part constraints so that they still hold for the values as written (rounded to 0.1 mm)."""


@dataclass(frozen=True)
class GeneratedCell:
    """One generated cell: the scene file for the simulator and the cell file for the executive, as dicts."""

    seed: int
    scene: dict[str, Any]
    """In the scene format (docs/scenes.md); `legion_sim.scene.parse_scene` reads it."""
    cell: dict[str, Any]
    """In the cell-file format of config/cells/sorting_cell.yaml."""

    @property
    def name(self) -> str:
        return self.scene["name"]

    def write(self, folder: str | Path) -> tuple[Path, Path]:
        """Write `<folder>/scenes/<name>.yaml` and `<folder>/cells/<name>.yaml`; returns (scene path, cell path)."""
        folder = Path(folder)
        paths = (folder / "scenes" / f"{self.name}.yaml", folder / "cells" / f"{self.name}.yaml")
        for path, data, what in zip(paths, (self.scene, self.cell), ("scene", "cell"), strict=True):
            path.parent.mkdir(parents=True, exist_ok=True)
            header = (f"# A randomised sorting cell's {what} file, generated by legion_sim.cell_generator "
                      f"(seed {self.seed}); regenerate it rather than editing it.\n")
            path.write_text(header + yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=120))
        return paths


def _r(value: float) -> float:
    """A number as written to a file: to 0.1 mm, 0.1 mrad, 0.1 g."""
    return round(float(value), 4)


def _rotate(x: float, y: float, yaw: float) -> tuple[float, float]:
    c, s = math.cos(yaw), math.sin(yaw)
    return c * x - s * y, s * x + c * y


def _segment_distance(point: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """[m] distance from a point to the segment a-b in the floor plane."""
    ab = b - a
    t = 0.0 if not ab.any() else float(np.clip(np.dot(point - a, ab) / np.dot(ab, ab), 0.0, 1.0))
    return float(np.linalg.norm(point - (a + t * ab)))


def _rectangle_distance(point: np.ndarray, centre: tuple[float, float], yaw: float, size: tuple[float, float]
                        ) -> float:
    """[m] distance from a point to a (yawed) rectangle in the floor plane; 0 inside."""
    local = np.array(_rotate(point[0] - centre[0], point[1] - centre[1], -yaw))
    outside = np.maximum(np.abs(local) - np.array(size) / 2.0, 0.0)
    return float(np.linalg.norm(outside))


def _rectangle_gap(a: tuple, b: tuple) -> float:
    """[m] gap between two (yawed) rectangles (centre, yaw, (lx, ly)) on the floor; 0 if they overlap. Measured from
    each one's corners to the other, which is exact for rectangles that do not cross like a plus sign."""
    def corners(centre, yaw, size):
        return [np.add(centre, _rotate(sx * size[0] / 2.0, sy * size[1] / 2.0, yaw))
                for sx in (-1, 1) for sy in (-1, 1)]

    return min(min(_rectangle_distance(c, *other) for c in corners(*one)) for one, other in ((a, b), (b, a)))


def footprint_radius(shape: str, size: tuple[float, ...] | list[float]) -> float:
    """[m] radius of the circle around an object's footprint: box (lx, ly, ...), cylinder or sphere (radius, ...)."""
    return math.hypot(size[0], size[1]) / 2.0 if shape == "box" else float(size[0])


def stations(bin_names: list[str], table_position: tuple[float, float] = TABLE_POSITION) -> list[dict[str, Any]]:
    """The stations of the layout (cell-file format): the table station, then one drop station per bin place
    (`bin_names[k]` stands at BIN_PLACES[k]), from the nominal table and bin places."""
    table = {"name": "table", "pose": [_r(table_position[0] - TABLE_STATION_SETBACK), _r(table_position[1]), 0.0],
             "faces": TABLE_NAME, "look": LOOK_POSTURE}
    drops = []
    for bin_name, (x, y) in zip(bin_names, BIN_PLACES, strict=True):
        side = 1.0 if y > 0 else -1.0
        drops.append({"name": drop_station(bin_name),
                      "pose": [_r(x), _r(y + side * DROP_STATION_SETBACK), _r(-side * math.pi / 2)],
                      "faces": bin_name, "look": DROP_LOOK_POSTURE})
    return [table, *drops]


def drop_station(bin_name: str) -> str:
    """The name of a bin's drop station: `red_drop` for `red_bin`."""
    return f"{bin_name.removesuffix('_bin')}_drop"


def paths(station_list: list[dict[str, Any]]) -> list[tuple[np.ndarray, np.ndarray]]:
    """The straight paths the robot may walk: start -> each station, and between every two stations (floor, [m])."""
    points = [np.zeros(2)] + [np.array(s["pose"][:2], dtype=float) for s in station_list]
    return [(points[i], points[j]) for i in range(len(points)) for j in range(i + 1, len(points))]


def path_distance(point: np.ndarray, path_list: list[tuple[np.ndarray, np.ndarray]]) -> float:
    """[m] distance from a floor point to the nearest path."""
    return min(_segment_distance(np.asarray(point, dtype=float), a, b) for a, b in path_list)


def _volume(shape: str, size) -> float:
    """[m^3] of a part: box (lx, ly, lz), cylinder (radius, height), sphere (radius,)."""
    if shape == "box":
        return math.prod(size)
    return math.pi * size[0] ** 2 * size[1] if shape == "cylinder" else 4.0 / 3.0 * math.pi * size[0] ** 3


def _part(rng: np.random.Generator, kind: PartClass, number: int) -> dict[str, Any]:
    """A part of a class (scene format, no pose yet): size and density each within `SIZE_SPREAD` of the nominal."""
    low, high = 1.0 - SIZE_SPREAD, 1.0 + SIZE_SPREAD
    if kind.shape == "box":  # one factor for all three sides: a cube stays a cube (perception's `cube` label)
        size = [s * rng.uniform(low, high) for s in kind.size[:1]] * 3
    else:
        size = [s * rng.uniform(low, high) for s in kind.size]
    mass = kind.mass * _volume(kind.shape, size) / _volume(kind.shape, kind.size) * rng.uniform(low, high)
    return {"id": f"{kind.label}_{number}", "label": kind.label, "shape": kind.shape, "colour": kind.colour,
            "size": [_r(s) for s in size], "mass": _r(mass), "position": None, "yaw": 0.0}


def _on_table(xy: np.ndarray, radius: float, table: dict[str, Any]) -> bool:
    """Whether a part's footprint circle lies on the table top, `TABLE_EDGE_MARGIN` inside its edges."""
    local = np.abs(_rotate(xy[0] - table["position"][0], xy[1] - table["position"][1], -table["yaw"]))
    half = np.array(table["size"][:2]) / 2.0 - radius - TABLE_EDGE_MARGIN
    return bool(np.all(local <= half))


def part_spacing(radius_a: float, radius_b: float) -> float:
    """[m] least distance between two parts' centres, given their footprint radii [m]."""
    return max(PART_SEPARATION, radius_a + radius_b + PART_GAP)


def _place_parts(rng: np.random.Generator, radii: list[float], table: dict[str, Any], station: list[float]
                 ) -> list[np.ndarray]:
    """Part centres [m] in the world: uniform in the reach box, on the table, `part_spacing` apart.

    Random sequential placement, started afresh when it jams; when it keeps jamming (7-8 parts fill the box), the
    last attempt's parts plus the missing ones at random are pushed apart pairwise and back into the box until they
    fit."""
    (x_low, x_high), (y_low, y_high) = REACH_BOX
    spacing = np.array([[part_spacing(a, b) + _ROUNDING for b in radii] for a in radii])  # (n, n)

    def world(local: np.ndarray) -> np.ndarray:
        dx, dy = _rotate(local[0], local[1], station[2])
        return np.array([station[0] + dx, station[1] + dy])

    def project(local: np.ndarray, radius: float) -> np.ndarray:
        """The nearest point (nearly) of the reach box that keeps the part on the table."""
        local = np.clip(local, (x_low, y_low), (x_high, y_high))
        xy = world(local)
        centre, yaw = table["position"], table["yaw"]
        on_table = np.array(_rotate(xy[0] - centre[0], xy[1] - centre[1], -yaw))
        half = np.array(table["size"][:2]) / 2.0 - radius - TABLE_EDGE_MARGIN - _ROUNDING
        on_table = np.clip(on_table, -half, half)
        dx, dy = _rotate(*on_table, yaw)
        back = np.array(_rotate(centre[0] + dx - station[0], centre[1] + dy - station[1], -station[2]))
        return np.clip(back, (x_low, y_low), (x_high, y_high))

    def fits(i: int, local: np.ndarray, others: dict[int, np.ndarray]) -> bool:
        """Whether part i fits at `local` (station frame) beside the others (index -> centre)."""
        inside = x_low <= local[0] <= x_high and y_low <= local[1] <= y_high
        return (inside and _on_table(world(local), radii[i] + _ROUNDING, table)
                and all(math.hypot(*(local - q)) >= spacing[i, k] for k, q in others.items() if k != i))

    def draw() -> np.ndarray:
        return np.array([rng.uniform(x_low, x_high), rng.uniform(y_low, y_high)])

    placed: dict[int, np.ndarray] = {}
    for _ in range(_RANDOM_STARTS):
        placed = {}
        for i in range(len(radii)):
            for _ in range(_PLACEMENT_TRIES // 8):
                candidate = draw()
                if fits(i, candidate, placed):
                    placed[i] = candidate
                    break
            else:
                break
        if len(placed) == len(radii):
            return [world(placed[i]) for i in range(len(radii))]

    for _ in range(_PUSH_STARTS):
        points = [placed[i] if i in placed else project(draw(), radii[i]) for i in range(len(radii))]
        for _ in range(_PLACEMENT_TRIES):
            for i in range(len(points)):
                for j in range(i + 1, len(points)):
                    gap = points[j] - points[i]
                    distance = math.hypot(*gap)
                    wanted = spacing[i, j] + 0.002
                    if distance < wanted:
                        direction = (gap / distance if distance > 1e-9
                                     else np.array(_rotate(1.0, 0.0, rng.uniform(-math.pi, math.pi))))
                        points[i] = points[i] - (wanted - distance) / 2.0 * direction
                        points[j] = points[j] + (wanted - distance) / 2.0 * direction
            points = [project(p, r) for p, r in zip(points, radii, strict=True)]
            layout = dict(enumerate(points))
            if all(fits(i, p, layout) for i, p in layout.items()):
                return [world(p) for p in points]
        placed = {}
    raise SimError(f"cell generator: {len(radii)} parts do not fit in the table's reach box")


def _clear_of_furniture(xy: np.ndarray, radius: float, table: dict[str, Any], bins: list[dict[str, Any]],
                        others: list[tuple[np.ndarray, float]]) -> bool:
    """Whether a footprint circle keeps `FURNITURE_CLEARANCE` from the table, the bins and other footprints."""
    if _rectangle_distance(xy, table["position"], table["yaw"], table["size"][:2]) < radius + FURNITURE_CLEARANCE:
        return False
    if any(_rectangle_distance(xy, b["position"], b.get("yaw", 0.0), b["size"][:2]) < radius + FURNITURE_CLEARANCE
           for b in bins):
        return False
    return all(np.linalg.norm(xy - c) >= radius + r + FURNITURE_CLEARANCE for c, r in others)


def _obstacle(rng: np.random.Generator, number: int, near: bool, path_list, table, bins,
              others: list[tuple[np.ndarray, float]]) -> dict[str, Any] | None:
    shape = "box" if rng.random() < 0.5 else "cylinder"
    height = rng.uniform(*OBSTACLE_HEIGHT)
    if shape == "box":
        size = [rng.uniform(*OBSTACLE_EXTENT), rng.uniform(*OBSTACLE_EXTENT), height]
    else:
        size = [rng.uniform(*OBSTACLE_EXTENT) / 2.0, height]
    size = [_r(s) for s in size]
    radius = footprint_radius(shape, size)
    low, high = (NEAR_OBSTACLE if near else (NEAR_OBSTACLE[1], FAR_OBSTACLE))
    low = max(low, radius + CORRIDOR_CLEARANCE)
    for _ in range(_PLACEMENT_TRIES):
        xy = np.array([rng.uniform(*FIELD[0]), rng.uniform(*FIELD[1])])
        if low <= path_distance(xy, path_list) <= high and _clear_of_furniture(xy, radius, table, bins, others):
            break
    else:
        return None
    obstacle = {"name": f"obstacle_{number}", "shape": shape, "size": size, "position": [_r(xy[0]), _r(xy[1])]}
    if shape == "box":
        obstacle["yaw"] = _r(rng.uniform(-math.pi / 2, math.pi / 2))
    obstacle["colour"] = str(rng.choice(OBSTACLE_COLOURS))
    return obstacle


def _person(rng: np.random.Generator, path_list, table, bins, others: list[tuple[np.ndarray, float]]
            ) -> dict[str, Any] | None:
    for _ in range(_PLACEMENT_TRIES):
        distance, bearing = rng.uniform(*PERSON_DISTANCE), rng.uniform(-math.pi, math.pi)
        xy = np.array([distance * math.cos(bearing), distance * math.sin(bearing)])
        if (path_distance(xy, path_list) >= PERSON_RADIUS + CORRIDOR_CLEARANCE
                and _clear_of_furniture(xy, PERSON_RADIUS, table, bins, others)):
            break
    else:
        return None
    yaw = math.atan2(-xy[1], -xy[0]) + rng.uniform(-PERSON_FACING, PERSON_FACING)
    return {"id": "worker_1", "position": [_r(xy[0]), _r(xy[1])], "yaw": _r(math.remainder(yaw, 2 * math.pi)),
            "height": _r(rng.uniform(*PERSON_HEIGHT)), "shirt_colour": str(rng.choice(SHIRT_COLOURS))}


def generate_cell(seed: int, *, parts: tuple[int, int] = PART_COUNT, obstacles: tuple[int, int] = OBSTACLE_COUNT,
                  people: bool = True, stray_probability: float = STRAY_PROBABILITY) -> GeneratedCell:
    """A random sorting cell for `seed` (the same seed gives the same cell).

    Args:
        seed: seeds numpy's default Generator; the cell is named `random_cell_<seed>`.
        parts: fewest and most parts (inclusive), within 1 and `PART_COUNT[1]`.
        obstacles: fewest and most floor obstacles (inclusive).
        people: whether a person may stand in the cell (half the cells have one).
        stray_probability: chance that one part is of a class no bin accepts.

    Raises:
        SimError: an argument is out of range, or the layout cannot be placed (it always can with the defaults).
    """
    if not 1 <= parts[0] <= parts[1] <= PART_COUNT[1]:
        raise SimError(f"cell generator: parts must be (low, high) with 1 <= low <= high <= {PART_COUNT[1]}, "
                       f"got {parts}")
    if not 0 <= obstacles[0] <= obstacles[1] <= 4:
        raise SimError(f"cell generator: obstacles must be (low, high) with 0 <= low <= high <= 4, got {obstacles}")
    if not 0.0 <= stray_probability <= 1.0:
        raise SimError(f"cell generator: stray_probability must be in [0, 1], got {stray_probability}")
    rng = np.random.default_rng(seed)
    name = f"random_cell_{seed}"

    table = {"name": TABLE_NAME,
             "position": [_r(TABLE_POSITION[0] + rng.uniform(-TABLE_JITTER, TABLE_JITTER)),
                          _r(TABLE_POSITION[1] + rng.uniform(-TABLE_JITTER, TABLE_JITTER))],
             "yaw": _r(rng.uniform(-TABLE_YAW_JITTER, TABLE_YAW_JITTER)), "size": list(TABLE_SIZE), "colour": "wood"}

    order = rng.permutation(len(SORTED_CLASSES))  # order[k]: the class whose bin stands at BIN_PLACES[k]
    scene_bins, cell_bins = [], []
    for k, (x, y) in enumerate(BIN_PLACES):
        kind = SORTED_CLASSES[order[k]]
        bin_name = f"{kind.colour}_bin"
        for _ in range(_PLACEMENT_TRIES):  # apart from the table and the bins placed before
            position = [_r(x + rng.uniform(-BIN_JITTER, BIN_JITTER)), _r(y + rng.uniform(-BIN_JITTER, BIN_JITTER))]
            others = [(table["position"], table["yaw"], table["size"][:2])]
            others += [(b["position"], 0.0, b["size"][:2]) for b in scene_bins]
            if all(_rectangle_gap((position, 0.0, BIN_SIZE[:2]), other) >= BIN_GAP for other in others):
                break
        else:
            raise SimError(f"cell generator: no room for {bin_name} at its place {[x, y]}")
        scene_bins.append({"name": bin_name, "position": position, "size": list(BIN_SIZE), "wall_thickness": BIN_WALL,
                           "stand_height": BIN_STAND, "colour": kind.colour, "accepts": kind.label})
        cell_bins.append({"name": bin_name, "accepts": [kind.label], "position": [x, y], "size": list(BIN_SIZE[:2]),
                          "station": drop_station(bin_name)})
    station_list = stations([b["name"] for b in cell_bins])

    count = int(rng.integers(parts[0], parts[1] + 1))
    kinds = [SORTED_CLASSES[i] for i in rng.integers(len(SORTED_CLASSES), size=count)]
    if rng.random() < stray_probability:
        kinds[int(rng.integers(count))] = STRAY_CLASSES[int(rng.integers(len(STRAY_CLASSES)))]
    numbers: dict[str, int] = {}
    scene_parts = []
    for kind in kinds:
        numbers[kind.label] = numbers.get(kind.label, 0) + 1
        scene_parts.append(_part(rng, kind, numbers[kind.label]))
    radii = [footprint_radius(p["shape"], p["size"]) for p in scene_parts]
    centres = _place_parts(rng, radii, table, station_list[0]["pose"])
    for part, xy in zip(scene_parts, centres, strict=True):
        part["position"] = [_r(xy[0]), _r(xy[1])]
        part["yaw"] = _r(rng.uniform(-math.pi, math.pi))

    path_list = paths(station_list)
    scene_obstacles, keep_out, footprints = [], [], []
    for number in range(1, int(rng.integers(obstacles[0], obstacles[1] + 1)) + 1):
        obstacle = _obstacle(rng, number, rng.random() < 0.5, path_list, table, scene_bins, footprints)
        if obstacle is None:
            continue
        scene_obstacles.append(obstacle)
        footprints.append((np.array(obstacle["position"]), footprint_radius(obstacle["shape"], obstacle["size"])))
        if obstacle["shape"] == "box":
            keep_out.append({"name": obstacle["name"], "shape": "box", "position": obstacle["position"],
                             "yaw": obstacle["yaw"], "size": obstacle["size"][:2]})
        else:
            keep_out.append({"name": obstacle["name"], "shape": "circle", "position": obstacle["position"],
                             "radius": obstacle["size"][0]})
    scene_people = []
    if people and rng.random() < PERSON_PROBABILITY:
        person = _person(rng, path_list, table, scene_bins, footprints)
        if person is not None:
            scene_people.append(person)

    scene = {"name": name, "robot_start": {"x": 0.0, "y": 0.0, "yaw": 0.0}, "floor": {"friction": 0.9},
             "tables": [table], "bins": scene_bins, "parts": scene_parts, "obstacles": scene_obstacles,
             "people": scene_people}
    cell = {"name": name,
            "tables": [{"name": TABLE_NAME, "position": list(TABLE_POSITION), "yaw": 0.0, "size": list(TABLE_SIZE[:2]),
                        "height": TABLE_SIZE[2]}],
            "stations": station_list, "bins": cell_bins, "keep_out": keep_out, "policy": dict(POLICY)}
    return GeneratedCell(seed=seed, scene=scene, cell=cell)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m legion_sim.cell_generator",
                                     description="Write randomised sorting cells: <output>/scenes/random_cell_<seed>"
                                                 ".yaml and <output>/cells/random_cell_<seed>.yaml per seed.")
    parser.add_argument("--seed", type=int, required=True, help="the first seed")
    parser.add_argument("--count", type=int, default=1, help="how many cells, seeds seed .. seed + count - 1")
    parser.add_argument("--output", type=Path, required=True, help="folder to write into (created if missing)")
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error("--count must be at least 1")
    try:
        for seed in range(args.seed, args.seed + args.count):
            scene_file, cell_file = generate_cell(seed).write(args.output)
            print(f"{scene_file} {cell_file}")
    except (SimError, OSError) as error:
        print(f"cell_generator: {error}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
