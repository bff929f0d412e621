"""`legion evaluate --episodes 1` over the whole stack: one episode (a generated one-part cell) as a Ray task on a
local Ray, the sorting shift in a ROS domain of its own, and its Parquet row is the job's real, ground-truth judged
report (whatever the shift achieved: the shift's wall-clock limit is kept short, so it may end as `timeout`)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from legion_bringup.cli import main
from legion_bringup.evaluate import STATUSES, read_rows

# A whole sorting episode (about 4 minutes of wall time here): with the acceptance runs (./test.sh --slow), not in
# every CI run, whose whole suite must stay within 10 minutes.
pytestmark = [pytest.mark.stack, pytest.mark.slow]


def test_one_episode_gives_a_real_parquet_row(tmp_path: Path) -> None:
    output = tmp_path / "evaluation"
    code = main(["evaluate", "--episodes", "1", "--seed", "11", "--parts", "1-1", "--timeout", "240", "--no-video",
                 "--output", str(output)])
    rows = read_rows(output / "episodes.parquet")
    assert len(rows) == 1
    row = rows[0]
    assert row["seed"] == 11 and row["status"] in STATUSES and row["status"] != "crashed", row["errors"]
    assert code == (0 if row["status"] == "success" else 1)
    report = json.loads(Path(row["report"]).with_suffix(".json").read_text())
    assert report["parts_total"] == row["parts_total"] == 1  # the generated cell's one part, judged
    assert (report["parts_sorted"], report["fell"]) == (row["parts_sorted"], row["fell"])
    assert row["sim_duration"] > 1.0 and row["episode_wall"] > row["wall_duration"] > 0
    assert row["cpu_seconds"] > 10.0 and row["peak_pss_mb"] > 100.0  # the stack's processes, measured
    assert row["ros_domain"] != int(os.environ["ROS_DOMAIN_ID"])  # not the test session's own domain
    summary = json.loads((output / "evaluation.json").read_text())
    assert summary["episodes"] == 1 and summary["successes"] == (1 if row["status"] == "success" else 0)
    assert "success rate" in (output / "evaluation.md").read_text()
