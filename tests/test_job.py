"""The main job (`legion job`, what `./run.sh` runs) end to end: the whole stack in lockstep at the sorting cell with
the robot's sensor errors, steered by the state estimator's estimate only, judged by ground truth in its report."""

import argparse
import json

import pytest

from legion_bringup import job

pytestmark = pytest.mark.stack


def test_the_shift_succeeds_and_its_report_says_how(tmp_path):
    options = argparse.Namespace(scene="sorting_cell", robot="centurion", stand=1.0, walk=0.3,
                                 reports=str(tmp_path), timeout=900.0)
    assert job.run(options) == 0
    (report_file,) = tmp_path.glob("job-*.json")
    report = json.loads(report_file.read_text())
    assert report["success"] and not report["fell"] and not report["errors"]
    assert report["parts_found"] == report["objects_in_scene"] == 6
    assert [w["success"] for w in report["walks"]] == [True, True]
    assert all(w["position_error"] < job.WALK_TOLERANCE for w in report["walks"])
    assert 0.0 <= report["estimator_max_error"] < 0.03
    assert [p["name"] for p in report["phases"]] == ["stand", "inspect", "walk back", "walk to start", "settle"]
    markdown = next(tmp_path.glob("job-*.md")).read_text()
    assert "Result: **success**" in markdown and "state estimator" in markdown
