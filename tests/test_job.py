"""The main job (`legion job`, what `./run.sh` runs) end to end: the whole stack in lockstep with the robot's sensor
errors sorts a short shift of two parts at the sorting cell, steered by the state estimator's estimate and the cell
file only, judged by ground truth in its report.

The two parts are the cell's red cubes: cylinders and spheres still slip out of the palm-down grip while they are
carried (docs/grasping.md, "Carrying"), so a shift with them fails on the grasp, not on what this test checks: the
executive's cycle (look, pick, walk around the table to the bin's station, check the bin, place, walk back, again)
over the real stack."""

import argparse
import json

import pytest
import yaml

from legion_bringup import job
from legion_sim.scene import scene_path

pytestmark = [pytest.mark.stack, pytest.mark.slow]


def two_part_scene(folder) -> str:
    """The sorting cell with two of its parts: its red cubes (both for the red bin)."""
    scene = yaml.safe_load(scene_path("sorting_cell").read_text())
    scene["name"] = "two_part_cell"
    scene["parts"] = [p for p in scene["parts"] if p["id"] in ("red_cube_1", "red_cube_2")]
    path = folder / "two_part_cell.yaml"
    path.write_text(yaml.safe_dump(scene, sort_keys=False))
    return str(path)


@pytest.mark.xfail(strict=False, reason=(
    "Known failure (issue 13, open). Three runs on 2026-11-30: one sorted both cubes (the second pick needed the "
    "other hand) but its leg odometry drifted 8.8 cm, closing the table station on the cell map (walk_to now moves "
    "such a goal up to 10 cm); one sorted the first and fell during the second pick (an arm swung up); one had its "
    "walk blocked by the held part mapped as an obstacle (since fixed in perception)."))
def test_a_two_part_shift_sorts_both_and_its_report_says_how(tmp_path):
    options = argparse.Namespace(cell="sorting_cell", scene=two_part_scene(tmp_path), robot="centurion", episodes=0,
                                 seed=0, max_parts=0, no_video=False, reports=str(tmp_path), timeout=1500.0)
    assert job.run(options) == 0, next(tmp_path.glob("shift-*.md")).read_text()
    report = json.loads(next(tmp_path.glob("shift-*[0-9].json")).read_text())
    assert report["success"] and not report["fell"] and not report["errors"]
    assert report["parts_sorted"] == report["parts_sortable"] == 2
    assert {p["executive_outcome"] for p in report["parts"]} == {"sorted"}
    assert all(p["place"] == "bin" and p["correct"] for p in report["parts"])
    assert 0.0 <= report["estimator_max_error"] < 0.05
    for artefact in ("map", "com_zmp", "parts", "video", "record"):
        assert artefact in report["artefacts"], artefact
    markdown = next(tmp_path.glob("shift-*.md")).read_text()
    assert "Result: **success**" in markdown and "2 of 2 parts sorted" in markdown
