"""Randomised cells (legion_sim.cell_generator) as the head camera sees them: from the table station every part is
found and labelled as its class, the class no bin accepts included, with no phantoms; from each drop station the two
bins it faces are found under their names, where the scene put them.

The seeds cover a full table (8 parts) with a stray `red_cylinder`, a `green_sphere` with two obstacles and a person,
and a full table with obstacles and a person.
"""

import math

import numpy as np
import pytest

from legion_perception.config import PerceptionConfig
from legion_perception.detection import PartDetector
from legion_sim.cell_generator import STRAY_CLASSES, generate_cell
from legion_testing.rendered_scene import Viewpoint, capture, look, make_sim, match, truth

DETECTOR = PartDetector(PerceptionConfig().detection)
SEEDS = (6, 10, 18)
LOOK_AT_TABLE = 0.8
"""[rad] neck pitch that points the head camera at the table from the table station."""


def station_view(station: dict) -> Viewpoint:
    """The robot at a station, in the robot file's posture the station looks with (`look:`)."""
    from legion_description import load_robot_config

    posture = load_robot_config("centurion").postures[station["look"]]
    x, y, yaw = station["pose"]
    return Viewpoint(x=x, y=y, yaw=yaw, neck_pitch=posture.get("neck_pitch", 0.0),
                     waist_pitch=posture.get("waist_pitch", 0.0))


@pytest.fixture(scope="module", params=SEEDS)
def cell(request, tmp_path_factory):
    generated = generate_cell(request.param)
    sim = make_sim(generated.scene, tmp_path_factory.mktemp("cell"))
    yield generated, sim
    sim.close()


def view_from(station: dict, neck_pitch: float) -> Viewpoint:
    x, y, yaw = station["pose"]
    return Viewpoint(x=x, y=y, yaw=yaw, neck_pitch=neck_pitch)


def detect(sim, view: Viewpoint):
    look(sim, view)
    cap = capture(sim)
    return DETECTOR.detect(cap.rgb, cap.depth, cap.camera, cap.camera_to_odom)


def test_every_part_is_found_and_labelled_from_the_table_station(cell):
    generated, sim = cell
    station = next(s for s in generated.cell["stations"] if s["name"] == "table")
    detections = [d for d in detect(sim, view_from(station, LOOK_AT_TABLE)) if not d.is_container]
    expected = truth(sim)
    pairs, extra, missed = match(detections, expected)
    assert not missed and not extra, (generated.seed, missed, [d.label for d in extra])
    for part, detection, error in pairs:
        assert detection.label == expected[part][0], (generated.seed, part)
        assert error < 0.005, (generated.seed, part, error)


def test_the_seeds_cover_a_stray_class():
    labels = {p["label"] for seed in SEEDS for p in generate_cell(seed).scene["parts"]}
    assert labels & {kind.label for kind in STRAY_CLASSES}
    assert max(len(generate_cell(seed).scene["parts"]) for seed in SEEDS) == 8


def test_each_drop_station_sees_its_bins(cell):
    generated, sim = cell
    scene_bins = {b["name"]: b for b in generated.scene["bins"]}
    for station in generated.cell["stations"]:
        if station["name"] == "table":
            continue
        containers = {d.label: d for d in detect(sim, station_view(station)) if d.is_container}
        faces = station["faces"]
        for name in [faces] if isinstance(faces, str) else faces:
            assert name in containers, (generated.seed, station["name"], name, sorted(containers))
            offset = np.subtract(containers[name].position[:2], scene_bins[name]["position"])
            assert math.hypot(*offset) < 0.02, (generated.seed, name, offset)
