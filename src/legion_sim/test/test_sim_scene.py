"""Scene files: the shipped scenes are sensible, and every kind of mistake gives a message naming file and key."""

from __future__ import annotations

import math

import pytest

from legion_sim.errors import SimError
from legion_sim.scene import COLOURS, load_scene, parse_scene

PART = "{id: p1, label: red_cube, shape: box, size: [0.05, 0.05, 0.05], mass: 0.1, position: [0.5, 0.0]}"


def test_empty_scene_is_floor_only():
    scene = load_scene("empty")
    assert scene.name == "empty"
    assert (scene.tables, scene.bins, scene.parts, scene.obstacles) == ((), (), (), ())
    assert scene.floor.friction > 0


def test_sorting_cell_layout():
    scene = load_scene("sorting_cell")
    assert (scene.robot_start.x, scene.robot_start.y, scene.robot_start.yaw) == (0.0, 0.0, 0.0)
    (table,) = scene.tables
    assert 0.7 <= table.top_height <= 0.8
    assert 0.5 <= table.position[0] <= 0.65 and abs(table.position[1]) < 0.05
    labels = {part.label for part in scene.parts}
    assert len(scene.parts) >= 6 and len(labels) >= 3
    near_edge = table.position[0] - table.size[0] / 2
    for part in scene.parts:
        assert 0.05 <= part.mass <= 0.5, part.id
        # on the table, in its near half (within reach), resting on the top
        assert near_edge < part.position[0] < table.position[0], part.id
        assert abs(part.position[1]) < table.size[1] / 2 - 0.1, part.id
        assert part.position[2] == pytest.approx(table.top_height + part.half_height), part.id
    assert {b.accepts for b in scene.bins} == labels, "one bin per class"
    for bin_ in scene.bins:
        assert abs(bin_.position[1]) > table.size[1] / 2, f"{bin_.name} beside the table"
        assert bin_.stand_height + bin_.size[2] < table.top_height
    assert len(scene.obstacles) == 2
    for obstacle in scene.obstacles:
        assert math.hypot(*obstacle.position) > 1.5, f"{obstacle.name} away from the robot"


def test_resting_height_on_floor_table_and_bin():
    scene = parse_scene({
        "name": "rest",
        "tables": [{"name": "t", "position": [1.0, 0.0], "yaw": 0.5, "size": [0.4, 0.6, 0.7]}],
        "bins": [{"name": "b", "position": [-1.0, 0.0], "size": [0.3, 0.3, 0.2], "wall_thickness": 0.02,
                  "stand_height": 0.3, "accepts": "x"}],
        "parts": [
            {"id": "floor", "label": "x", "shape": "sphere", "size": [0.03], "mass": 0.1, "position": [3.0, 0.0]},
            {"id": "table", "label": "x", "shape": "cylinder", "size": [0.02, 0.1], "mass": 0.1,
             "position": [1.1, 0.1]},
            {"id": "bin", "label": "x", "shape": "box", "size": [0.04, 0.04, 0.06], "mass": 0.1,
             "position": [-1.0, 0.05]},
            {"id": "given", "label": "x", "shape": "box", "size": [0.04, 0.04, 0.06], "mass": 0.1,
             "position": [1.0, 0.0, 2.0]},
        ],
    })
    heights = {part.id: part.position[2] for part in scene.parts}
    assert heights == pytest.approx({"floor": 0.03, "table": 0.75, "bin": 0.35, "given": 2.0})
    assert scene.part("bin").bounding_size == (0.04, 0.04, 0.06)
    assert scene.part("table").bounding_size == (0.04, 0.04, 0.1)


@pytest.mark.parametrize(("text", "fragment"), [
    ("name: [unclosed", "not valid YAML"),
    ("- just\n- a list\n", "must be a mapping"),
    ("floor: {friction: 1.0}\n", "'name' is missing"),
    ("name: s\nfloor: {friction: -1}\n", "'floor.friction' must be positive"),
    ("name: s\nrobot_start: {x: .nan}\n", "'robot_start.x' must be a finite number"),
    ("name: s\nrobot_start: {x: .inf}\n", "'robot_start.x' must be a finite number"),
    ("name: s\nfloor: {friction: 1.0, colour: red}\n", "'floor' has unknown key(s) ['colour']"),
    ("name: s\ntables: [{name: t, position: [0, 0], size: [0.5, -0.8, 0.7]}]\n",
     "'tables[0].size[1]' must be positive"),
    ("name: s\ntables: [{name: t, position: [0, 0, 0], size: [0.5, 0.8, 0.7]}]\n",
     "'tables[0].position' must be"),
    ("name: s\ntables: [{name: t, size: [0.5, 0.8, 0.7]}]\n", "'tables[0].position' is missing"),
    ("name: s\ntables: {name: t}\n", "'tables' must be a list"),
    (f"name: s\nparts: [{PART.replace('box', 'cone')}]\n", "'parts[0].shape' is an unknown shape 'cone'"),
    (f"name: s\nparts: [{PART.replace('0.1,', '0.0,')}]\n", "'parts[0].mass' must be positive"),
    (f"name: s\nparts: [{PART.replace('[0.05, 0.05, 0.05]', '[0.05, 0.05]')}]\n",
     "'parts[0].size' must be a list of 3"),
    (f"name: s\nparts: [{PART}, {PART}]\n", "'parts[1]' duplicates the name/id 'p1'"),
    (f"name: s\nparts: [{PART.replace('mass: 0.1', 'mass: 0.1, colour: mauve')}]\n", "unknown colour name 'mauve'"),
    (f"name: s\nparts: [{PART.replace('mass: 0.1', 'mass: 0.1, colour: [1, 0, 2]')}]\n", "must be in [0, 1]"),
    (f"name: s\nparts: [{PART.replace('mass: 0.1', 'mas: 0.1')}]\n", "'parts[0]' has unknown key(s) ['mas']"),
    (f"name: s\nparts: [{PART.replace('id: p1', 'id: a b')}]\n", "'parts[0].id' must be a name"),
    (f"name: s\nparts: [{PART.replace('mass: 0.1', 'mass: true')}]\n", "'parts[0].mass' must be a number"),
    ("name: s\nobstacles: [{name: o, shape: sphere, size: [1], position: [2, 2]}]\n", "'obstacles[0].shape'"),
    ("name: s\nbins: [{name: b, position: [1, 1], size: [0.3, 0.3, 0.2], accepts: x, wall_thickness: 0.2}]\n",
     "'bins[0].wall_thickness' (0.2) leaves no room"),
    ("name: s\nbins: [{name: b, position: [1, 1], size: [0.3, 0.3, 0.2]}]\n", "'bins[0].accepts' is missing"),
    ("name: s\ntables: [{name: x, position: [0, 0], size: [1, 1, 1]}]\n"
     "obstacles: [{name: x, shape: box, size: [1, 1, 1], position: [3, 3]}]\n", "'obstacles[0]' duplicates"),
])
def test_scene_errors_name_file_and_problem(tmp_path, text, fragment):
    path = tmp_path / "broken_scene.yaml"
    path.write_text(text)
    with pytest.raises(SimError) as error:
        load_scene(path)
    assert str(path) in str(error.value)
    assert fragment in str(error.value)


def test_missing_scene_file_is_named(tmp_path):
    with pytest.raises(SimError, match=r"cannot read scene file .*nowhere\.yaml"):
        load_scene(tmp_path / "nowhere.yaml")
    with pytest.raises(SimError, match="invalid scene name"):
        load_scene("bad name!")


def test_colours_are_rgba_in_range():
    assert all(len(c) == 4 and all(0.0 <= v <= 1.0 for v in c) for c in COLOURS.values())
