"""Randomised sorting cells (legion_sim.cell_generator): deterministic per seed, loadable, buildable, and laid out as
the robot can work them (parts on the table within reach and apart, bins per class in their colours, obstacles and
people clear of the paths between the start and the stations), with a cell file in the shipped cell's format."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import mujoco
import numpy as np
import pytest
import yaml

from legion_sim.cell_generator import generate_cell, main
from legion_sim.errors import SimError
from legion_sim.model_builder import build_model
from legion_sim.scene import COLOURS, load_scene, parse_scene

SHIPPED_CELL = Path(__file__).resolve().parents[3] / "config" / "cells" / "sorting_cell.yaml"
SORTED = {"red_cube": ("red", "box", (0.05, 0.05, 0.05)), "green_cube": ("green", "box", (0.04, 0.04, 0.04)),
          "blue_cylinder": ("blue", "cylinder", (0.025, 0.08)), "yellow_sphere": ("yellow", "sphere", (0.03,))}
"""The four sortable classes of the shipped cell: colour, shape, nominal size [m]."""
STRAYS = {"green_sphere": ("green", "sphere", (0.03,)), "red_cylinder": ("red", "cylinder", (0.025, 0.08))}
REACH_X, REACH_Y = (0.42, 0.56), 0.20
"""[m] the part centres' box in the table station's frame (the shipped parts: 0.53-0.63 ahead, 0.15 across)."""
SEEDS = range(50)


def footprint_radius(shape: str, size) -> float:
    return math.hypot(size[0], size[1]) / 2.0 if shape == "box" else size[0]


def segment_distance(p, a, b) -> float:
    p, a, b = (np.asarray(v, dtype=float) for v in (p, a, b))
    t = np.clip(np.dot(p - a, b - a) / np.dot(b - a, b - a), 0.0, 1.0) if np.any(b != a) else 0.0
    return float(np.linalg.norm(p - (a + t * (b - a))))


def rectangle_distance(p, centre, yaw, size) -> float:
    dx, dy = p[0] - centre[0], p[1] - centre[1]
    c, s = math.cos(yaw), math.sin(yaw)
    local = np.abs([c * dx + s * dy, -s * dx + c * dy]) - np.asarray(size) / 2.0
    return float(np.linalg.norm(np.maximum(local, 0.0)))


def corners(centre, yaw, size) -> list:
    c, s = math.cos(yaw), math.sin(yaw)
    return [(centre[0] + c * x - s * y, centre[1] + s * x + c * y)
            for x in (-size[0] / 2, size[0] / 2) for y in (-size[1] / 2, size[1] / 2)]


def segments(cell: dict) -> list:
    """Start -> each station and station -> station, from the cell file."""
    points = [(0.0, 0.0)] + [tuple(s["pose"][:2]) for s in cell["stations"]]
    return [(points[i], points[j]) for i in range(len(points)) for j in range(i + 1, len(points))]


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """Every seed's files, written and read back through the scene loader."""
    folder = tmp_path_factory.mktemp("cells")
    out = {}
    for seed in SEEDS:
        generated = generate_cell(seed)
        scene_file, cell_file = generated.write(folder)
        out[seed] = (generated, load_scene(scene_file), yaml.safe_load(cell_file.read_text()))
    return out


def test_the_same_seed_gives_the_same_cell(tmp_path):
    first, second = generate_cell(11), generate_cell(11)
    assert first.scene == second.scene and first.cell == second.cell
    paths_a, paths_b = first.write(tmp_path / "a"), second.write(tmp_path / "b")
    for a, b in zip(paths_a, paths_b, strict=True):
        assert a.read_text() == b.read_text()


def test_different_seeds_give_different_cells():
    scenes = [generate_cell(seed).scene for seed in range(20)]
    layouts = {yaml.safe_dump({k: v for k, v in scene.items() if k != "name"}) for scene in scenes}
    assert len(layouts) == 20
    # not only the names and the parts: the table and the bins move too
    assert len({tuple(scene["tables"][0]["position"]) for scene in scenes}) == 20
    assert len({tuple(b["name"] for b in scene["bins"]) for scene in scenes}) > 5


def test_every_seed_loads_and_builds(written, tiny_robot):
    config, urdf = tiny_robot
    for seed, (generated, scene, cell) in written.items():
        assert scene.name == cell["name"] == f"random_cell_{seed}"
        assert parse_scene(generated.scene).parts == scene.parts
        built = build_model(urdf, config, scene)
        model = built.model
        data = mujoco.MjData(model)
        mujoco.mj_forward(model, data)
        parts = [model.geom(p.id).id for p in scene.parts]
        table = model.geom("work_table/top").id
        fromto = np.zeros(6)
        for i, part in enumerate(parts):  # [m] signed distances between the parts' and the table's geoms
            gap = mujoco.mj_geomDistance(model, data, part, table, 1.0, fromto)
            assert abs(gap) < 2e-4, f"seed {seed}: {model.geom(part).name} is {gap} m off the table top"
            for other in parts[i + 1:]:
                gap = mujoco.mj_geomDistance(model, data, part, other, 1.0, fromto)
                assert gap >= 0.025, f"seed {seed}: {model.geom(part).name}, {model.geom(other).name} {gap} m apart"


def test_parts_rest_on_the_table_within_reach_and_apart(written):
    for seed, (_, scene, cell) in written.items():
        assert 3 <= len(scene.parts) <= 8, seed
        (table,) = scene.tables
        station = next(s for s in cell["stations"] if s["name"] == "table")
        sx, sy, syaw = station["pose"]
        for part in scene.parts:
            radius = footprint_radius(part.shape, part.size)
            assert part.position[2] == pytest.approx(table.top_height + part.half_height), (seed, part.id)
            # the whole footprint on the top: distance from the centre to outside the shrunk top is zero
            top = (table.size[0] - 2 * radius, table.size[1] - 2 * radius)
            assert rectangle_distance(part.position, table.position, table.yaw, top) == 0.0, (seed, part.id)
            dx, dy = part.position[0] - sx, part.position[1] - sy
            ahead, left = math.cos(syaw) * dx + math.sin(syaw) * dy, -math.sin(syaw) * dx + math.cos(syaw) * dy
            assert REACH_X[0] <= ahead <= REACH_X[1] and abs(left) <= REACH_Y, (seed, part.id, ahead, left)
            assert -math.pi <= part.yaw <= math.pi
        for i, a in enumerate(scene.parts):
            for b in scene.parts[i + 1:]:
                distance = math.dist(a.position[:2], b.position[:2])
                assert distance >= 0.10, (seed, a.id, b.id, distance)
                # footprint circles 2.5 cm apart: room for fingers even between two large cubes corner to corner
                assert distance >= footprint_radius(a.shape, a.size) + footprint_radius(b.shape, b.size) + 0.025


def test_parts_are_of_known_classes_with_plausible_sizes_and_masses(written):
    for seed, (_, scene, _) in written.items():
        labels = Counter(p.label for p in scene.parts)
        assert sum(n for label, n in labels.items() if label in STRAYS) <= 1, seed
        for part in scene.parts:
            colour, shape, nominal = {**SORTED, **STRAYS}[part.label]
            assert part.colour == COLOURS[colour] and part.shape == shape, (seed, part.id)
            ratios = np.array(part.size) / np.array(nominal)
            assert np.all((ratios >= 0.85 - 1e-3) & (ratios <= 1.15 + 1e-3)), (seed, part.id, part.size)
            if shape == "box":  # a cube stays a cube (perception's `cube` label)
                assert part.size[0] == part.size[1] == part.size[2]
            volume = (math.prod(part.size) if shape == "box" else math.pi * part.size[0] ** 2 * part.size[1]
                      if shape == "cylinder" else 4 / 3 * math.pi * part.size[0] ** 3)
            assert 500.0 <= part.mass / volume <= 1200.0, (seed, part.id, part.mass)  # [kg/m^3] plastic, wood
            assert part.id.startswith(f"{part.label}_")


def test_every_class_has_one_bin_of_its_colour_at_its_station(written):
    for seed, (_, scene, cell) in written.items():
        assert sorted(b.accepts for b in scene.bins) == sorted(SORTED), seed
        cell_bins = {b["name"]: b for b in cell["bins"]}
        assert set(cell_bins) == {b.name for b in scene.bins}
        for bin_ in scene.bins:
            colour = SORTED[bin_.accepts][0]
            assert bin_.name == f"{colour}_bin" and bin_.colour == COLOURS[colour], (seed, bin_.name)
            entry = cell_bins[bin_.name]
            assert entry["accepts"] == [bin_.accepts]
            # nominal in the cell file, jittered by at most 3 cm per axis in the scene
            assert np.all(np.abs(np.subtract(bin_.position, entry["position"])) <= 0.03 + 1e-9), (seed, bin_.name)
            station = next(s for s in cell["stations"] if s["name"] == entry["station"])
            assert bin_.name in station["faces"]
            assert math.dist(station["pose"][:2], entry["position"]) < 0.6  # one step from the bin it faces
        nominal = {tuple(b["position"]) for b in cell["bins"]}
        assert nominal == {(0.35, 0.72), (0.70, 0.72), (0.35, -0.72), (0.70, -0.72)}
        (table,) = scene.tables
        assert np.all(np.abs(np.subtract(table.position, (0.60, 0.0))) <= 0.03 + 1e-9)
        assert abs(table.yaw) <= math.radians(3.0) + 1e-4
        # furniture apart: no bin touches the table or another bin (rims that nearly touch make phantom parts)
        furniture = [(table.position, table.yaw, table.size[:2])] + [(b.position, b.yaw, b.size[:2])
                                                                    for b in scene.bins]
        for i, a in enumerate(furniture):
            for b in furniture[i + 1:]:
                gap = min(min(rectangle_distance(c, *two) for c in corners(*one)) for one, two in ((a, b), (b, a)))
                assert gap >= 0.03 - 1e-9, (seed, a, b, gap)


def test_obstacles_and_people_keep_clear_of_the_paths(written):
    for seed, (_, scene, cell) in written.items():
        paths = segments(cell)
        assert len(scene.obstacles) <= 2
        keep_out = {k["name"]: k for k in cell["keep_out"]}
        assert set(keep_out) == {o.name for o in scene.obstacles}
        for obstacle in scene.obstacles:
            radius = footprint_radius(obstacle.shape, obstacle.size)
            extent = obstacle.size[:2] if obstacle.shape == "box" else (2 * obstacle.size[0],)
            assert all(0.2 - 1e-4 <= e <= 0.6 + 1e-4 for e in extent), (seed, obstacle.name)
            for a, b in paths:
                assert segment_distance(obstacle.position, a, b) - radius >= 0.6, (seed, obstacle.name)
            furniture = [(t.position, t.yaw, t.size[:2]) for t in scene.tables]
            furniture += [(b.position, b.yaw, b.size[:2]) for b in scene.bins]
            for centre, yaw, size in furniture:
                assert rectangle_distance(obstacle.position, centre, yaw, size) > radius, (seed, obstacle.name)
            entry = keep_out[obstacle.name]
            assert entry["position"] == list(obstacle.position)
            if obstacle.shape == "box":
                assert entry["shape"] == "box" and entry["size"] == list(obstacle.size[:2])
            else:
                assert entry["shape"] == "circle" and entry["radius"] == obstacle.size[0]
        assert len(scene.people) <= 1
        for person in scene.people:
            assert 2.0 <= math.hypot(*person.position) <= 4.0
            for a, b in paths:
                assert segment_distance(person.position, a, b) >= 0.6 + 0.3, (seed, person.id)
            towards_robot = math.atan2(-person.position[1], -person.position[0])
            assert abs(math.remainder(person.yaw - towards_robot, 2 * math.pi)) <= math.radians(20) + 1e-3
            for obstacle in scene.obstacles:
                assert math.dist(person.position, obstacle.position) > footprint_radius(obstacle.shape,
                                                                                      obstacle.size) + 0.3


def test_the_cell_file_has_the_shipped_format(written):
    shipped = yaml.safe_load(SHIPPED_CELL.read_text())
    keys = lambda items: {frozenset(item) for item in items}  # noqa: E731
    shipped_keep_out = {k["shape"]: set(k) for k in shipped["keep_out"]}
    for seed, (generated, _, cell) in written.items():
        assert cell == generated.cell
        assert list(cell) == list(shipped), seed
        assert keys(cell["tables"]) == keys(shipped["tables"])
        assert keys(cell["bins"]) == keys(shipped["bins"]) == {frozenset({"name", "accepts", "position", "size",
                                                                          "station"})}
        assert keys(cell["stations"]) == keys(shipped["stations"]) == {frozenset({"name", "pose", "faces", "look"})}
        assert set(cell["policy"]) == set(shipped["policy"])
        for entry in cell["keep_out"]:
            assert set(entry) == shipped_keep_out[entry["shape"]], (seed, entry)
        # the stations stand where the shipped ones do (the layout is the same kind of cell); a drop station is
        # named after the bin it faces, whichever class's bin stands at that place
        assert [(s["pose"], s["look"]) for s in cell["stations"]] == [(s["pose"], s["look"])
                                                                      for s in shipped["stations"]]
        for station in cell["stations"][1:]:
            assert station["name"] == station["faces"].removesuffix("_bin") + "_drop"


def test_the_random_ranges_are_all_reached():
    """Over many seeds every part count, the stray class, no/one/two obstacles (near and far) and a person occur."""
    counts, strays, obstacles, near, people = Counter(), 0, Counter(), 0, 0
    for seed in range(150):
        generated = generate_cell(seed)
        scene, paths = generated.scene, segments(generated.cell)
        counts[len(scene["parts"])] += 1
        strays += any(p["label"] in STRAYS for p in scene["parts"])
        obstacles[len(scene["obstacles"])] += 1
        near += sum(min(segment_distance(o["position"], a, b) for a, b in paths) <= 2.0 for o in scene["obstacles"])
        people += len(scene["people"])
    assert set(counts) == set(range(3, 9))
    assert 15 <= strays <= 65 and set(obstacles) == {0, 1, 2} and near >= 20 and 40 <= people <= 110


def test_the_command_line_writes_the_files(tmp_path, capsys):
    assert main(["--seed", "5", "--count", "2", "--output", str(tmp_path)]) == 0
    printed = capsys.readouterr().out.split()
    for seed in (5, 6):
        scene_file = tmp_path / "scenes" / f"random_cell_{seed}.yaml"
        cell_file = tmp_path / "cells" / f"random_cell_{seed}.yaml"
        assert yaml.safe_load(scene_file.read_text()) == generate_cell(seed).scene
        assert yaml.safe_load(cell_file.read_text()) == generate_cell(seed).cell
        assert str(scene_file) in printed and str(cell_file) in printed


def test_bad_arguments_are_refused():
    with pytest.raises(SimError, match="parts"):
        generate_cell(1, parts=(2, 12))
    with pytest.raises(SimError, match="obstacles"):
        generate_cell(1, obstacles=(-1, 2))
    with pytest.raises(SimError, match="stray_probability"):
        generate_cell(1, stray_probability=1.5)
