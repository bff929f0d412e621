"""`legion evaluate` without the stack: the episodes as Ray tasks on one local Ray (started once for the module) with
small runners injected in place of the sorting shift, and the default runner with a stand-in for `legion job`.

What is checked: rows in Parquet and the aggregate report; resuming skips the episodes already done; a Ray worker that
dies once is retried and one that keeps dying is recorded `crashed`, never a success; a job that dies without a report
is run once more, then recorded `crashed`; a job past its time limit is stopped with its process group; bad input
gives a plain error and exit code 2."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import pytest

from legion_bringup import evaluate as ev
from legion_bringup.cli import main

ray = pytest.importorskip("ray")
ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the runners below, sent to Ray's workers


@pytest.fixture(scope="module")
def local_ray():
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    ev.start_ray("", 2)
    yield
    ray.shutdown()


def options(tmp_path: Path, episodes: int, seed: int = 0, workers: int = 2) -> argparse.Namespace:
    return argparse.Namespace(episodes=episodes, workers=workers, address="", seed=seed, output=str(tmp_path / "out"),
                              parts="1-2", robot="centurion", timeout=60.0, cpus_per_episode=1.0, no_video=True)


def log_call(episode: ev.Episode) -> None:
    with open(Path(episode.folder).parent / "calls.txt", "a") as calls:
        calls.write(f"{episode.seed}\n")


def sorting_runner(episode: ev.Episode) -> dict:
    """Even seeds sort both parts, odd seeds one of two (a part dropped)."""
    log_call(episode)
    sorted_ = 2 if episode.seed % 2 == 0 else 1
    report = {"parts_total": 2, "parts_sorted": sorted_, "parts_sortable": 2, "success": sorted_ == 2,
              "fell": False, "errors": [], "sim_duration": 60.0 + episode.seed, "wall_duration": 150.0,
              "part_times": [30.0] * sorted_, "parts": [{"category": ""}] * sorted_ + [{"category": "dropped"}] * (
                  2 - sorted_), "artefacts": {"video": str(Path(episode.folder) / "shift.mp4")}}
    row = ev.row_from_report(episode.seed, report, str(Path(episode.folder) / "shift.md"))
    return row | {"episode_wall": 200.0 + episode.seed, "cpu_seconds": 300.0, "peak_rss_mb": 2000.0,
                  "peak_pss_mb": 1500.0, "attempts": 1}


def dies_once_runner(episode: ev.Episode) -> dict:
    """The worker process dies on the episode's first try (as an out-of-memory kill would end it)."""
    marker = Path(episode.folder) / "died"
    Path(episode.folder).mkdir(parents=True, exist_ok=True)
    if not marker.exists():
        marker.write_text("once")
        os._exit(1)
    return sorting_runner(episode)


def always_dies_runner(episode: ev.Episode) -> dict:
    os._exit(1)


def read_calls(tmp_path: Path) -> list[int]:
    calls = tmp_path / "out" / "calls.txt"
    return sorted(int(line) for line in calls.read_text().split()) if calls.exists() else []


def test_episodes_become_parquet_rows_and_an_aggregate_report(local_ray, tmp_path):
    summary = ev.evaluate(options(tmp_path, 4), runner=sorting_runner)
    rows = ev.read_rows(tmp_path / "out" / "episodes.parquet")
    assert [r["seed"] for r in rows] == [0, 1, 2, 3]
    assert [r["status"] for r in rows] == ["success", "partial", "success", "partial"]
    assert rows[1]["failure_categories"] == ["dropped"] and rows[1]["part_times"] == [30.0]
    assert summary["successes"] == 2 and summary["episodes"] == 4 and summary["parts_sorted"] == 6
    low, high = summary["success_rate_95"]
    assert low < 0.5 < high
    assert summary["failures"] == {"dropped": 2} and summary["run_episodes"] == 4
    assert summary["episodes_per_hour"] > 0
    report = (tmp_path / "out" / "evaluation.md").read_text()
    assert "2 of 4 episodes" in report and "| dropped | 2 |" in report
    assert "[video](seed-3/shift.mp4)" in report  # the slowest episode, with its video
    assert json.loads((tmp_path / "out" / "evaluation.json").read_text())["parts_sortable"] == 8


def test_running_again_resumes_where_it_stopped(local_ray, tmp_path):
    ev.evaluate(options(tmp_path, 3), runner=sorting_runner)
    assert read_calls(tmp_path) == [0, 1, 2]
    summary = ev.evaluate(options(tmp_path, 5), runner=sorting_runner)
    assert read_calls(tmp_path) == [0, 1, 2, 3, 4]  # 0-2 were not run again
    assert summary["episodes"] == 5 and summary["run_episodes"] == 2
    changed = options(tmp_path, 5)
    changed.parts = "3-4"
    with pytest.raises(ev.EvaluationError, match="another configuration"):
        ev.evaluate(changed, runner=sorting_runner)


def test_a_worker_that_dies_is_retried_and_one_that_keeps_dying_is_crashed_not_success(local_ray, tmp_path):
    summary = ev.evaluate(options(tmp_path, 2), runner=dies_once_runner)
    assert summary["successes"] == 1 and summary["by_status"]["partial"] == 1  # both ran after the retry
    other = tmp_path / "other"
    other.mkdir()
    summary = ev.evaluate(options(other, 2), runner=always_dies_runner)
    rows = ev.read_rows(other / "out" / "episodes.parquet")
    assert [r["status"] for r in rows] == ["crashed", "crashed"]
    assert not any(r["success"] for r in rows) and rows[0]["failure_categories"] == ["crashed"]
    assert summary["successes"] == 0 and summary["success_rate_95"][0] == 0.0 and summary["episodes"] == 2
    assert summary["success_rate_95"][1] < 1.0  # the crashed episodes count as trials, as failures


def test_a_runner_cannot_call_a_crash_a_success():
    row = ev.normalise_row({"seed": 3, "status": "crashed", "success": True, "parts_sorted": 2})
    assert row["success"] is False
    with pytest.raises(ValueError, match="unknown status"):
        ev.normalise_row({"seed": 3, "status": "great"})
    summary = ev.aggregate([row, ev.normalise_row(ev.empty_row(4, "timeout"))])
    assert summary["successes"] == 0 and summary["by_status"] == {"success": 0, "partial": 0, "failed": 0,
                                                                  "crashed": 1, "timeout": 1}
    assert summary["failures"] == {"crashed": 1, "timeout": 1}


def test_report_statuses():
    base = {"parts_total": 3, "parts_sortable": 2, "parts": [], "fell": False, "errors": [], "part_times": []}
    assert ev.row_from_report(0, base | {"parts_sorted": 2, "success": True}, "")["status"] == "success"
    assert ev.row_from_report(0, base | {"parts_sorted": 2, "success": True, "fell": True}, "")["status"] == "partial"
    assert ev.row_from_report(0, base | {"parts_sorted": 0}, "")["status"] == "failed"
    nothing = ev.row_from_report(0, base | {"parts_sorted": 0, "parts_sortable": 0, "success": False}, "")
    assert nothing["status"] == "failed" and nothing["failure_categories"] == ["nothing_sortable"]
    timeout = ev.row_from_report(0, base | {"parts_sorted": 1, "errors": ["wall-clock limit reached during x"]}, "")
    assert timeout["status"] == "timeout" and "timeout" in timeout["failure_categories"]


FAKE_JOB = """
import json, sys, time
from pathlib import Path
arguments = sys.argv[1:]
folder, stem = Path(arguments[arguments.index("--reports") + 1]), arguments[arguments.index("--stem") + 1]
mode = Path(sys.argv[0]).parent.joinpath("mode").read_text()
if mode == "crash":
    print("a node died", flush=True)
    sys.exit(3)
if mode == "hang":
    time.sleep(600)
report = {"parts_total": 1, "parts_sorted": 1, "parts_sortable": 1, "success": True, "fell": False, "errors": [],
          "sim_duration": 30.0, "wall_duration": 60.0, "part_times": [25.0], "parts": [{"category": ""}],
          "artefacts": {}, "scene": arguments[arguments.index("--scene") + 1]}
(folder / f"{stem}.json").write_text(json.dumps(report))
"""


def fake_episode(tmp_path: Path, mode: str, margin: float = 300.0) -> ev.Episode:
    script = tmp_path / "fake_job.py"
    script.write_text(FAKE_JOB)
    (tmp_path / "mode").write_text(mode)
    return ev.Episode(seed=5, folder=str(tmp_path / "seed-5"), parts=(1, 1), robot="centurion", timeout=1.0,
                      video=False, margin=margin, job=(sys.executable, str(script)))


def test_the_default_runner_judges_the_jobs_report_on_a_domain_of_its_own(tmp_path):
    row = ev.run_episode(fake_episode(tmp_path, "ok"))
    assert row["status"] == "success" and row["attempts"] == 1 and row["exit_code"] == 0
    assert row["ros_domain"] in ev.ROS_DOMAINS and row["ros_domain"] != 0
    assert row["episode_wall"] > 0 and row["time_per_part"] == 25.0
    assert (tmp_path / "seed-5" / "scenes" / "random_cell_5.yaml").exists()  # the generator's cell
    with ev.ros_domain() as first, ev.ros_domain() as second:
        assert first != second  # concurrent episodes on one host never share a domain


def test_a_job_that_dies_without_a_report_is_run_again_then_crashed(tmp_path):
    row = ev.run_episode(fake_episode(tmp_path, "crash"))
    assert row["status"] == "crashed" and row["attempts"] == 2 and row["exit_code"] == 3
    assert "without a report" in row["errors"][0] and "a node died" in row["errors"][0]


def test_a_job_past_its_limit_is_stopped_and_timed_out(tmp_path):
    start = time.monotonic()
    row = ev.run_episode(fake_episode(tmp_path, "hang", margin=1.0))
    assert row["status"] == "timeout" and not row["success"]
    assert time.monotonic() - start < 30.0


def test_bad_input_is_a_plain_error(capsys):
    assert main(["evaluate", "--episodes", "0"]) == 2
    assert "--episodes must be at least 1" in capsys.readouterr().err
    assert main(["evaluate", "--episodes", "2", "--parts", "two"]) == 2
    assert "--parts must be LOW-HIGH" in capsys.readouterr().err
    assert main(["evaluate", "--episodes", "2", "--robot", "no_such_robot"]) == 2
    assert "--robot no_such_robot" in capsys.readouterr().err
    start = time.monotonic()
    assert main(["evaluate", "--episodes", "1", "--address", "ray://127.0.0.1:1"]) == 2
    error = capsys.readouterr().err
    assert "cannot reach the Ray cluster at ray://127.0.0.1:1" in error and "Traceback" not in error
    assert time.monotonic() - start < 15.0
