"""`legion evaluate`: randomised sorting episodes at scale, as Ray tasks, judged by ground truth.

    legion evaluate --episodes N [--workers W] [--address ray://HOST:PORT] [--seed S] [--output DIR] [--parts LO-HI]

Episode k is the sorting shift (`legion job`) in the randomised cell of seed S + k (`legion_sim.cell_generator`): the
whole stack over DDS, headless, in lockstep, in a process group and a ROS domain of its own (a domain locked on its
host for the episode's time, discovery kept on the host), judged by the simulator's ground truth. Each episode is one
Ray task (`--cpus-per-episode` CPUs); at most W run at once. On this machine Ray is local (`ray.init(num_cpus=...)`);
`--address` runs the tasks on a Ray cluster (docs/evaluation.md).

Under `--output` (default reports/evaluation):

- `episodes.parquet`: one row per episode (`ROW_SCHEMA`): seed, status (`STATUSES`), parts sorted and sortable,
  failure categories, simulated and wall time, time per part, fall, errors, CPU seconds and peak memory of the
  episode's process tree, the report's and the video's paths;
- `evaluation.md` and `.json`: the success rate with its 95 % Wilson interval (crashed and timed-out episodes count as
  failures, never as successes), time per part, failures by category, the slowest and the failed episodes with links
  to their reports and videos, episodes per hour;
- `seed-<S>/`: each episode's cell, the job's log, report, plots and video.

Running again with the same `--output` resumes: episodes with a row are not run again. An episode whose job process
died without a report is run once more, then recorded `crashed`; a Ray worker that died is retried by Ray
(`max_retries=1`), then the episode is recorded `crashed`. An episode past its time limit is stopped and recorded
`timeout`.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import fcntl
import json
import math
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from legion_bringup.job import DOMAIN_BUSY, WALL_CLOCK_LIMIT
from legion_bringup.judge import wilson_interval

STATUSES = ("success", "partial", "failed", "crashed", "timeout")
"""success: every sortable part sorted, no fall, no error; partial: some parts sorted; failed: none sorted (or an
error); crashed: the episode's process or its Ray worker died without a report (after one retry); timeout: stopped at
its time limit."""
ROS_DOMAINS = (*range(215, 233), *range(101, 0, -1))
"""Valid ROS domain ids an episode may take, in the order tried (the test suite draws from 10-100; 0 is the default
that a stack started by hand uses)."""
DOMAIN_LOCKS = Path(tempfile.gettempdir()) / "legion-evaluate-domains"
"""One lock file per ROS domain id: an episode holds its domain's lock (`fcntl.flock`) while it runs."""
TIME_LIMIT_MARGIN = 300.0
"""[s] an episode's hard limit is `--timeout` (the shift's own limit, which the job enforces) plus the stack's
start-up and the video's rendering: `--timeout` + max(this, half of `--timeout`)."""
SAMPLE_PERIOD = 2.0
"""[s] between samples of the episode process tree's memory."""
REPORT_STEM = "shift"


@dataclass(frozen=True)
class Episode:
    """What a runner needs to run one episode (sent to the Ray task)."""

    seed: int
    folder: str
    """The episode's own folder (created by the runner)."""
    parts: tuple[int, int]
    robot: str
    timeout: float
    """The shift's wall-clock limit [s] (the job's `--timeout`)."""
    video: bool
    margin: float = TIME_LIMIT_MARGIN
    """[s] the episode's hard limit is `timeout` + max(margin, timeout / 2)."""
    job: tuple[str, ...] = ()
    """The job's command before its arguments (default: this interpreter's `legion job`)."""

    @property
    def limit(self) -> float:
        return self.timeout + max(self.margin, 0.5 * self.timeout)


def _row_schema():
    import pyarrow as pa

    return pa.schema([
        ("seed", pa.int64()), ("status", pa.string()), ("success", pa.bool_()),
        ("parts_total", pa.int64()), ("parts_sorted", pa.int64()), ("parts_sortable", pa.int64()),
        ("failure_categories", pa.list_(pa.string())), ("fell", pa.bool_()), ("errors", pa.list_(pa.string())),
        ("sim_duration", pa.float64()), ("wall_duration", pa.float64()), ("episode_wall", pa.float64()),
        ("part_times", pa.list_(pa.float64())), ("time_per_part", pa.float64()),
        ("cpu_seconds", pa.float64()), ("peak_rss_mb", pa.float64()), ("peak_pss_mb", pa.float64()),
        ("attempts", pa.int64()), ("exit_code", pa.int64()), ("ros_domain", pa.int64()), ("host", pa.string()),
        ("report", pa.string()), ("video", pa.string()), ("finished_at", pa.float64()),
    ])


ROW_FIELDS = ("seed", "status", "success", "parts_total", "parts_sorted", "parts_sortable", "failure_categories",
              "fell", "errors", "sim_duration", "wall_duration", "episode_wall", "part_times", "time_per_part",
              "cpu_seconds", "peak_rss_mb", "peak_pss_mb", "attempts", "exit_code", "ros_domain", "host", "report",
              "video", "finished_at")
"""The columns of `episodes.parquet`, in order. sim_duration: simulated [s]; wall_duration: the shift's wall time
from the robot's first state [s]; episode_wall: the episode's whole wall time, start-up and video included [s];
time_per_part: median simulated time per sorted part [s] (0 when none); cpu_seconds: the episode's process tree;
peak_rss_mb / peak_pss_mb: the tree's largest summed resident / proportional set size [MB]."""


class EvaluationError(Exception):
    """Bad input or an unusable Ray: `legion evaluate` says so and exits 2."""


# ------------------------------------------------------------------------------------------------------------- rows
def empty_row(seed: int, status: str, errors: list[str] | None = None) -> dict:
    """A row with nothing measured (a crash, a timeout, an episode that never started)."""
    return {"seed": seed, "status": status, "success": False, "parts_total": 0, "parts_sorted": 0,
            "parts_sortable": 0, "failure_categories": [status] if status in ("crashed", "timeout") else [],
            "fell": False, "errors": list(errors or []), "sim_duration": 0.0, "wall_duration": 0.0,
            "episode_wall": 0.0, "part_times": [], "time_per_part": 0.0, "cpu_seconds": 0.0, "peak_rss_mb": 0.0,
            "peak_pss_mb": 0.0, "attempts": 0, "exit_code": -1, "ros_domain": -1, "host": socket.gethostname(),
            "report": "", "video": "", "finished_at": time.time()}


def row_from_report(seed: int, report: dict, report_path: str) -> dict:
    """An episode's row from its job report (`legion_bringup.job.ShiftReport` as JSON)."""
    errors = [str(e) for e in report.get("errors", [])]
    categories = [p["category"] for p in report.get("parts", []) if p.get("category") not in ("", "no_bin", None)]
    sorted_, sortable = int(report.get("parts_sorted", 0)), int(report.get("parts_sortable", 0))
    if any(e.startswith(WALL_CLOCK_LIMIT) for e in errors):
        status = "timeout"
        categories.append("timeout")
    elif report.get("success") and sortable > 0 and sorted_ == sortable and not errors and not report.get("fell"):
        status = "success"
    elif sorted_ > 0:
        status = "partial"
    else:
        status = "failed"
    if status in ("partial", "failed") and not categories:
        # nothing_sortable: the cell's parts are all of classes no bin accepts (the generator's stray class, in a
        # cell of few parts); a shift with nothing to sort is not a success, as `legion job` judges it
        categories.append("error" if errors else "nothing_sortable" if sortable == 0 else "unsorted")
    part_times = [float(t) for t in report.get("part_times", [])]
    row = empty_row(seed, status, errors)
    row.update({"success": status == "success", "parts_total": int(report.get("parts_total", 0)),
                "parts_sorted": sorted_, "parts_sortable": sortable, "failure_categories": categories,
                "fell": bool(report.get("fell", False)), "sim_duration": float(report.get("sim_duration", 0.0)),
                "wall_duration": float(report.get("wall_duration", 0.0)), "part_times": part_times,
                "time_per_part": statistics.median(part_times) if part_times else 0.0, "report": report_path,
                "video": str(report.get("artefacts", {}).get("video", ""))})
    return row


def normalise_row(row: dict) -> dict:
    """A runner's row with every column (missing ones from `empty_row`); a status outside `STATUSES`, or a success
    that is not one, is refused."""
    full = empty_row(int(row["seed"]), str(row["status"])) | row
    if full["status"] not in STATUSES:
        raise ValueError(f"episode {full['seed']}: unknown status {full['status']!r}")
    full["success"] = full["status"] == "success"
    return {name: full[name] for name in ROW_FIELDS}


def read_rows(path: Path) -> list[dict]:
    """The rows of an `episodes.parquet` ([] when there is none)."""
    if not path.exists():
        return []
    import pyarrow.parquet as pq

    return pq.read_table(path).to_pylist()


def write_rows(path: Path, rows: list[dict]) -> None:
    """All rows, sorted by seed, into `path` (written beside it, then renamed: a reader never sees half a file)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pylist(sorted(rows, key=lambda r: r["seed"]), schema=_row_schema())
    partial = path.with_suffix(".parquet.partial")
    pq.write_table(table, partial)
    os.replace(partial, path)


# --------------------------------------------------------------------------------------------------------- aggregate
def aggregate(rows: list[dict], *, workers: int = 0, run_wall: float = 0.0, run_episodes: int = 0) -> dict:
    """The figures of a set of episode rows. Crashed and timed-out episodes count in the success rate's trials, as
    failures. `run_wall` [s] and `run_episodes`: the wall time this invocation took and the episodes it ran, for the
    episodes per hour."""
    n = len(rows)
    by_status = {s: sum(1 for r in rows if r["status"] == s) for s in STATUSES}
    successes = sum(1 for r in rows if r["status"] == "success")
    low, high = wilson_interval(successes, n)
    sorted_ = sum(r["parts_sorted"] for r in rows)
    sortable = sum(r["parts_sortable"] for r in rows)
    part_low, part_high = wilson_interval(sorted_, sortable)
    part_times = [t for r in rows for t in r["part_times"]]
    failures: dict[str, int] = {}
    for r in rows:
        for category in r["failure_categories"]:
            failures[category] = failures.get(category, 0) + 1
    ran = [r for r in rows if r["status"] not in ("crashed",) and r["episode_wall"] > 0]

    def median(values: list[float]) -> float:
        return round(statistics.median(values), 2) if values else 0.0

    per_hour = run_episodes * 3600.0 / run_wall if run_wall > 0 and run_episodes else 0.0
    return {
        "episodes": n, "by_status": by_status, "successes": successes,
        "success_rate": successes / n if n else 0.0, "success_rate_95": [round(low, 4), round(high, 4)],
        "parts_sorted": sorted_, "parts_sortable": sortable,
        "parts_rate": sorted_ / sortable if sortable else 0.0,
        "parts_rate_95": [round(part_low, 4), round(part_high, 4)],
        "time_per_part_median": median(part_times), "time_per_part_mean": round(statistics.fmean(part_times), 2)
        if part_times else 0.0, "parts_timed": len(part_times),
        "episode_wall_median": median([r["episode_wall"] for r in ran]),
        "sim_duration_median": median([r["sim_duration"] for r in ran]),
        "cpu_seconds_median": median([r["cpu_seconds"] for r in ran]),
        "peak_rss_mb_max": round(max((r["peak_rss_mb"] for r in ran), default=0.0), 1),
        "peak_pss_mb_max": round(max((r["peak_pss_mb"] for r in ran), default=0.0), 1),
        "failures": dict(sorted(failures.items(), key=lambda kv: (-kv[1], kv[0]))),
        "falls": sum(1 for r in rows if r["fell"]),
        "workers": workers, "run_wall": round(run_wall, 1), "run_episodes": run_episodes,
        "episodes_per_hour": round(per_hour, 2),
        "episodes_per_hour_per_worker": round(per_hour / workers, 2) if workers else 0.0,
    }


def _link(path: str, folder: Path, text: str) -> str:
    if not path:
        return "-"
    with contextlib.suppress(ValueError):
        path = str(Path(path).resolve().relative_to(folder.resolve()))
    return f"[{text}]({path})"


def render_report(summary: dict, rows: list[dict], folder: Path, title: str, slowest: int = 5) -> str:
    """The aggregate report in Markdown."""
    s = summary
    by_status = ", ".join(f"{name} {s['by_status'][name]}" for name in STATUSES)
    lines = [
        f"# {title}", "",
        "Each episode: the sorting shift (`legion job`) in a randomised cell, the whole stack over DDS, headless, "
        "lockstep, in a ROS domain of its own; judged by the simulator's ground truth.", "",
        f"- episodes: {s['episodes']} ({by_status})",
        f"- **success rate: {s['successes']} of {s['episodes']} episodes ({s['success_rate']:.1%}), 95 % Wilson "
        f"interval {s['success_rate_95'][0]:.1%} - {s['success_rate_95'][1]:.1%}** (an episode succeeds when every "
        "sortable part ends in its bin with no fall and no error; crashed and timed-out episodes count as failures)",
        f"- parts sorted: {s['parts_sorted']} of {s['parts_sortable']} ({s['parts_rate']:.1%}, 95 % Wilson interval "
        f"{s['parts_rate_95'][0]:.1%} - {s['parts_rate_95'][1]:.1%}); falls: {s['falls']}",
        f"- time per sorted part (simulated): median {s['time_per_part_median']:.1f} s, mean "
        f"{s['time_per_part_mean']:.1f} s over {s['parts_timed']} parts",
        f"- per episode (median): {s['episode_wall_median']:.0f} s of wall time (start-up and video included), "
        f"{s['sim_duration_median']:.0f} s simulated, {s['cpu_seconds_median']:.0f} CPU s; largest peak memory of an "
        f"episode's processes {s['peak_pss_mb_max']:.0f} MB PSS ({s['peak_rss_mb_max']:.0f} MB RSS summed)",
    ]
    if s["run_episodes"]:
        lines.append(f"- this run: {s['run_episodes']} episodes in {s['run_wall']:.0f} s with {s['workers']} "
                     f"worker(s): **{s['episodes_per_hour']:.2f} episodes per hour** "
                     f"({s['episodes_per_hour_per_worker']:.2f} per worker)")
    lines += ["", "## Failures by category", ""]
    if s["failures"]:
        lines += ["| category | count |", "|---|---:|", *(f"| {k} | {v} |" for k, v in s["failures"].items())]
    else:
        lines.append("none")

    def table(selected: list[dict]) -> list[str]:
        out = ["| seed | status | sorted | sim [s] | wall [s] | categories | first error | report | video |",
               "|---:|---|---|---:|---:|---|---|---|---|"]
        for r in selected:
            error = (r["errors"][0] if r["errors"] else "").replace("|", "/")[:100]
            categories = ", ".join(r["failure_categories"]) or "-"
            out.append(f"| {r['seed']} | {r['status']} | {r['parts_sorted']}/{r['parts_sortable']} | "
                       f"{r['sim_duration']:.0f} | {r['episode_wall']:.0f} | {categories} | {error or '-'} | "
                       f"{_link(r['report'], folder, 'report')} | "
                       f"{_link(r['video'], folder, 'video')} |")
        return out

    lines += ["", f"## The {min(slowest, len(rows))} slowest episodes (wall time)", "",
              *table(sorted(rows, key=lambda r: -r["episode_wall"])[:slowest])]
    failed = [r for r in rows if r["status"] != "success"]
    lines += ["", f"## Episodes that did not succeed ({len(failed)})", ""]
    lines += table(failed) if failed else ["none"]
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------------------- one episode (worker)
@contextlib.contextmanager
def ros_domain(busy: set[int] = frozenset()):
    """A ROS domain id no other episode on this host uses, locked for the `with` block's time."""
    DOMAIN_LOCKS.mkdir(parents=True, exist_ok=True)
    for domain in ROS_DOMAINS:
        if domain in busy:
            continue
        handle = open(DOMAIN_LOCKS / f"{domain}.lock", "w")  # noqa: SIM115 (held open for the block's time)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            continue
        try:
            yield domain
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()
        return
    raise RuntimeError("no free ROS domain on this host")


def process_tree(root: int) -> list[int]:
    """`root` and its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def tree_memory(root: int) -> tuple[float, float]:
    """Summed resident and proportional set sizes of `root`'s process tree [MB] (RSS counts shared pages, e.g. the
    libraries every node maps, once per process; PSS shares them out)."""
    rss = pss = 0.0
    for pid in process_tree(root):
        try:
            with open(f"/proc/{pid}/smaps_rollup") as rollup:
                for line in rollup:
                    if line.startswith("Rss:"):
                        rss += float(line.split()[1]) / 1024.0
                    elif line.startswith("Pss:"):
                        pss += float(line.split()[1]) / 1024.0
        except OSError:
            continue
    return rss, pss


_LIBC = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the job's process, between fork and exec: a process group of its own (the job and its stack, stopped
    together), and SIGTERM when the Ray worker that started it dies, which ends the shift and stops its stack (the
    job takes SIGTERM as Ctrl-C). Only async-signal-safe calls (libc was loaded before the fork)."""
    os.setsid()
    _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _stop_group(process: subprocess.Popen, grace: float = 20.0) -> None:
    """SIGTERM to the job's process group (the job and its stack), SIGKILL after `grace` [s]."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 10.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _attempt(episode: Episode, folder: Path, scene: Path, cell: Path, domain: int) -> dict:
    """One run of the job for the episode: its row, or a `crashed` row when the job died without a report."""
    report_path = folder / f"{REPORT_STEM}.json"
    report_path.unlink(missing_ok=True)
    job = episode.job or (sys.executable, "-m", "legion_bringup.cli", "job")
    command = [*job, "--scene", str(scene), "--cell", str(cell), "--robot", episode.robot, "--reports", str(folder),
               "--stem", REPORT_STEM,
               "--timeout", str(episode.timeout)] + ([] if episode.video else ["--no-video"])
    environment = os.environ | {"ROS_DOMAIN_ID": str(domain), "ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST",
                                "MUJOCO_GL": "egl", "PYOPENGL_PLATFORM": "egl", "PYTHONUNBUFFERED": "1"}
    limit = episode.limit
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    peak_rss = peak_pss = 0.0
    timed_out = False
    with open(folder / "job.log", "ab") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=environment,
                                   preexec_fn=_die_with_parent)
        try:
            while process.poll() is None:
                rss, pss = tree_memory(process.pid)
                peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
                if time.monotonic() - start > limit:
                    timed_out = True
                    _stop_group(process)
                    break
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(SAMPLE_PERIOD)
        finally:
            if process.poll() is None:
                _stop_group(process)
            # whatever of the stack outlived the job (the job normally stops it)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    measured = {"episode_wall": time.monotonic() - start, "exit_code": process.returncode, "ros_domain": domain,
                "cpu_seconds": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
                "peak_rss_mb": peak_rss, "peak_pss_mb": peak_pss}
    if report_path.exists():
        try:
            row = row_from_report(episode.seed, json.loads(report_path.read_text()), str(folder / f"{REPORT_STEM}.md"))
        except (ValueError, KeyError, TypeError) as error:
            row = empty_row(episode.seed, "crashed", [f"unreadable report: {error}"])
        if timed_out and row["status"] != "timeout":
            row["status"] = "timeout"
            row["failure_categories"].append("timeout")
            row["errors"].append(f"episode stopped at its time limit ({limit:.0f} s)")
        return row | measured
    if timed_out:
        return empty_row(episode.seed, "timeout", [f"episode stopped at its time limit ({limit:.0f} s), no report"]) \
            | measured
    tail = (folder / "job.log").read_text(errors="replace").strip().splitlines()[-3:]
    return empty_row(episode.seed, "crashed", [f"job exited with code {process.returncode} without a report: "
                                               + " / ".join(tail)]) | measured


def run_episode(episode: Episode) -> dict:
    """The default runner, in a Ray task: generate the episode's cell, run the job on a free ROS domain (again on
    another domain if the job finds a stack on its domain; once more if it dies without a report); its row."""
    from legion_sim.cell_generator import generate_cell

    folder = Path(episode.folder)
    folder.mkdir(parents=True, exist_ok=True)
    attempts_file = folder / "attempts"
    attempts = int(attempts_file.read_text() or 0) if attempts_file.exists() else 0
    try:
        scene, cell = generate_cell(episode.seed, parts=episode.parts).write(folder)
    except Exception as error:
        return empty_row(episode.seed, "failed", [f"cell generator: {type(error).__name__}: {error}"])
    busy: set[int] = set()
    crashes = 0
    row: dict = {}
    while True:
        attempts += 1
        attempts_file.write_text(str(attempts))
        with ros_domain(busy) as domain:
            row = _attempt(episode, folder, scene, cell, domain)
        if row["status"] == "crashed" and crashes == 0:
            crashes += 1
            continue
        if row["parts_total"] == 0 and any(e.startswith(DOMAIN_BUSY) for e in row["errors"]) and len(busy) < 3:
            busy.add(domain)  # a stack started by other means is on that domain: take another one
            continue
        break
    return row | {"attempts": attempts}


def _episode_task(episode: Episode, runner: Callable[[Episode], dict]) -> dict:
    return runner(episode)


# ------------------------------------------------------------------------------------------------------------ driver
def add_arguments(parser: argparse.ArgumentParser) -> None:
    from legion_sim.cell_generator import PART_COUNT

    parser.add_argument("--episodes", type=int, required=True, help="number of episodes (seeds S .. S+N-1)")
    parser.add_argument("--workers", type=int, default=1, help="episodes run at once (default 1)")
    parser.add_argument("--address", default="",
                        help="a Ray cluster: ray://HEAD:10001 (Ray Client) or HEAD:6379 from a cluster node "
                             "(default: a local Ray on this machine)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first episode's cell (default 0)")
    parser.add_argument("--output", default="reports/evaluation",
                        help="folder of the results; running again with it resumes (default reports/evaluation)")
    parser.add_argument("--parts", default=f"{PART_COUNT[0]}-{PART_COUNT[1]}",
                        help="fewest-most parts of a cell, e.g. 1-2 (default %(default)s, the generator's range)")
    parser.add_argument("--robot", default="centurion", help="robot name or file (default centurion)")
    parser.add_argument("--timeout", type=float, default=3600.0,
                        help="wall-clock limit of one shift [s] (default 3600; the episode's own limit adds "
                             "start-up and video)")
    parser.add_argument("--cpus-per-episode", type=float, default=1.0,
                        help="CPUs Ray reserves for one episode (default 1)")
    parser.add_argument("--no-video", action="store_true", help="do not render the episodes' videos")


def parse_parts(text: str) -> tuple[int, int]:
    from legion_sim.cell_generator import PART_COUNT

    low, _, high = str(text).partition("-")
    try:
        parts = (int(low), int(high or low))
    except ValueError:
        raise EvaluationError(f"--parts must be LOW-HIGH (e.g. 1-2), got {text!r}") from None
    if not 1 <= parts[0] <= parts[1] <= PART_COUNT[1]:
        raise EvaluationError(f"--parts must satisfy 1 <= LOW <= HIGH <= {PART_COUNT[1]}, got {text!r}")
    return parts


def check_options(options: argparse.Namespace) -> tuple[int, int]:
    """Bad input as an `EvaluationError` with what to do; the parts range."""
    if options.episodes < 1:
        raise EvaluationError(f"--episodes must be at least 1, got {options.episodes}")
    if options.workers < 1:
        raise EvaluationError(f"--workers must be at least 1, got {options.workers}")
    if options.seed < 0:
        raise EvaluationError(f"--seed must be 0 or more, got {options.seed}")
    if not options.timeout > 0:
        raise EvaluationError(f"--timeout must be positive, got {options.timeout}")
    if not options.cpus_per_episode > 0:
        raise EvaluationError(f"--cpus-per-episode must be positive, got {options.cpus_per_episode}")
    parts = parse_parts(options.parts)
    from legion_description import load_robot_config
    from legion_description.robot_files import DescriptionError

    try:
        load_robot_config(options.robot)
    except DescriptionError as error:
        raise EvaluationError(f"--robot {options.robot}: {error}") from None
    return parts


def start_ray(address: str, cpus: float) -> None:
    """A local Ray with `cpus` CPUs, or the cluster at `address` (reachability checked first, so that a wrong
    address fails in seconds with a plain message)."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # nothing leaves the machine
    import ray

    quiet = {"logging_level": "ERROR", "log_to_driver": False, "configure_logging": True}
    if not address:
        ray.init(num_cpus=max(1, math.ceil(cpus)), include_dashboard=False, **quiet)
        return
    target = address.removeprefix("ray://")
    host, _, port = target.rpartition(":")
    if not host or not port.isdigit():
        raise EvaluationError(f"--address must be ray://HOST:PORT or HOST:PORT, got {address!r}")
    try:
        socket.create_connection((host, int(port)), timeout=5.0).close()
    except OSError as error:
        raise EvaluationError(f"cannot reach the Ray cluster at {address} ({error}); is `ray start --head` "
                              f"running there, and the port open?") from None
    try:
        ray.init(address=address, **quiet)
    except (Exception, SystemExit) as error:
        raise EvaluationError(f"cannot connect to the Ray cluster at {address}: {error}") from None


def evaluate(options: argparse.Namespace, runner: Callable[[Episode], dict] = run_episode,
             max_retries: int = 1) -> dict:
    """Run the episodes not yet in `--output`'s Parquet as Ray tasks; write the rows and the aggregate report; the
    summary. Ray must be started (`start_ray`)."""
    import ray

    parts = check_options(options)
    folder = Path(options.output).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    config = {"parts": list(parts), "robot": options.robot}
    config_path = folder / "evaluation-config.json"
    if config_path.exists():
        stored = json.loads(config_path.read_text())
        if stored != config:
            raise EvaluationError(f"{folder} holds episodes of another configuration ({stored}); choose another "
                                  f"--output, or the same --parts and --robot")
    config_path.write_text(json.dumps(config) + "\n")
    parquet = folder / "episodes.parquet"
    rows = {r["seed"]: r for r in read_rows(parquet)}
    seeds = list(range(options.seed, options.seed + options.episodes))
    todo = [s for s in seeds if s not in rows]
    total = len(seeds)
    done = total - len(todo)
    if done:
        print(f"[legion evaluate] resuming: {done} of {total} episodes already in {parquet}", flush=True)
    deadline_after = Episode(0, "", parts, options.robot, float(options.timeout), False).limit + 120.0
    task = ray.remote(_episode_task).options(num_cpus=options.cpus_per_episode, max_retries=max_retries,
                                             retry_exceptions=False)
    pending: dict = {}
    start = time.monotonic()
    ran = 0

    def submit(seed: int) -> None:
        episode = Episode(seed=seed, folder=str(folder / f"seed-{seed}"), parts=parts, robot=options.robot,
                          timeout=float(options.timeout), video=not options.no_video)
        pending[task.remote(episode, runner)] = (seed, time.monotonic())

    queue = list(todo)
    try:
        while queue or pending:
            while queue and len(pending) < options.workers:
                submit(queue.pop(0))
            finished, _ = ray.wait(list(pending), num_returns=1, timeout=5.0)
            for ref in finished:
                seed, _ = pending.pop(ref)
                try:
                    row = normalise_row(ray.get(ref))
                except ray.exceptions.RayError as error:  # the worker died (after Ray's retry), or the runner raised
                    cause = str(error).strip().splitlines()[0][:300] if str(error).strip() else type(error).__name__
                    row = normalise_row(empty_row(seed, "crashed", [f"{type(error).__name__}: {cause}"])
                                        | {"attempts": max_retries + 1})
                rows[seed] = row
                ran += 1
                write_rows(parquet, list(rows.values()))
                _print_progress(rows, seeds, row, ran, time.monotonic() - start)
            now = time.monotonic()
            for ref, (seed, submitted) in list(pending.items()):
                if now - submitted > deadline_after:  # the runner's own limit did not end it: stop the task
                    ray.cancel(ref, force=True)
                    pending.pop(ref)
                    rows[seed] = normalise_row(empty_row(seed, "timeout", [
                        f"the episode's task was cancelled after {deadline_after:.0f} s"]))
                    ran += 1
                    write_rows(parquet, list(rows.values()))
    finally:
        for ref in pending:  # interrupted: the episodes in flight are run again on the next invocation
            ray.cancel(ref, force=True)
        selected = [rows[s] for s in seeds if s in rows]
        summary = aggregate(selected, workers=options.workers, run_wall=time.monotonic() - start, run_episodes=ran)
        summary |= {"seeds": [options.seed, options.seed + options.episodes - 1], "parts": list(parts),
                    "robot": options.robot, "parquet": str(parquet)}
        title = (f"Legion evaluation: {len(selected)} of {total} randomised sorting episodes (seeds {seeds[0]}-"
                 f"{seeds[-1]}, {parts[0]}-{parts[1]} parts)")
        (folder / "evaluation.md").write_text(render_report(summary, selected, folder, title))
        (folder / "evaluation.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def _print_progress(rows: dict, seeds: list[int], row: dict, ran: int, elapsed: float) -> None:
    selected = [rows[s] for s in seeds if s in rows]
    successes = sum(1 for r in selected if r["status"] == "success")
    per_hour = ran * 3600.0 / elapsed if elapsed > 0 else 0.0
    print(f"[legion evaluate] {len(selected)}/{len(seeds)} done | seed {row['seed']}: {row['status']} "
          f"({row['parts_sorted']}/{row['parts_sortable']} sorted, {row['episode_wall']:.0f} s) | success so far "
          f"{successes}/{len(selected)} | {per_hour:.1f} episodes/h", flush=True)


def run(options: argparse.Namespace) -> int:
    """`legion evaluate`: 0 when every episode succeeded, 1 when some did not, 2 on bad input or no Ray."""
    import ray

    try:
        check_options(options)
        start_ray(options.address, options.workers * options.cpus_per_episode)
        try:
            summary = evaluate(options)
        finally:
            ray.shutdown()
    except EvaluationError as error:
        print(f"legion evaluate: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\n[legion evaluate] interrupted: the finished episodes are kept; run the same command again to "
              "resume", file=sys.stderr)
        return 130
    print((Path(options.output) / "evaluation.md").read_text(), flush=True)
    return 0 if summary["successes"] == summary["episodes"] == options.episodes else 1
