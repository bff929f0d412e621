"""The main job: the sorting shift. The Legion stack on the simulated robot in MuJoCo, headless, in lockstep, sorts
a table of mixed parts into their bins, unattended, and writes what happened.

`legion job` (what `./run.sh` runs) starts `legion launch stack headless:=true lockstep:=true` in a scene, waits
until the robot balances, and asks the executive for the shift through its own interface (`run_job` with the cell
file). While the shift runs it shows progress on the terminal (parts done of total, phase, simulated time, real-time
factor) from `executive/status`. At the end it writes, under `--reports` (default `reports/`):

- `shift-<time>.md` and `.json`: each part's outcome and times (the executive's account, and where the part truly
  ended), falls, the state estimator's error, the success rate;
- `shift-<time>-map.png`, `-com_zmp.png`, `-timeline.png`: the base path with footsteps and obstacles on the cell
  map, the CoM and ZMP, a timeline of each part (`legion_bringup.shift_media`);
- `shift-<time>.mp4`: the shift from a fixed camera in the cell, rendered headless, faces blurred (`--no-video`
  leaves it out).

`--episodes N --seed S` runs N randomised cells (`legion_sim.cell_generator`: parts, classes, poses, bins,
obstacles, a person), one stack each, and reports the share of parts sorted with a 95 % confidence interval and each
failure with its category (`episodes-<time>.md/.json`).

Ground truth (`ground_truth/*`) and the scene file are read here only to judge the shift (`legion_bringup.judge`),
never to steer it: the robot works from the cell file and its own perception.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import signal
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from legion_bringup.judge import failure_category, judge_parts, wilson_interval
from legion_bringup.launcher import LaunchedNodes
from legion_bringup.nodes import LaunchError
from legion_bringup.shift_inputs import footsteps_from_plan, grid_from_occupancy, reference_at
from legion_common.messages import xyzw
from legion_common.stamps import header_seconds, to_seconds
from legion_common.transforms import tilt_from_quaternion, yaw_from_quaternion

FALL_TILT_DEG = 30.0
"""Base tilt beyond which the robot counts as fallen [deg]."""
VIDEO_FPS = 10.0
"""Video frames per simulated second."""
FINAL_STATES = ("SUCCEEDED", "FAILED", "CANCELLED", "STOPPED")
WALL_CLOCK_LIMIT = "wall-clock limit reached"
"""How a report's error begins when the shift ran out of its `--timeout`."""
DOMAIN_BUSY = "another stack is running on ROS domain"
"""How a report's error begins when the job refused to start beside another stack on its ROS domain."""


@dataclass
class ShiftReport:
    """What one shift did and how it was judged. Positions in `odom` [m], times in simulated seconds."""

    scene: str
    cell: str
    robot: str
    sim_duration: float = 0.0
    wall_duration: float = 0.0
    real_time_factor: float = 0.0
    executive_result: str = ""
    """The run_job result: outcome and message."""
    parts: list[dict] = field(default_factory=list)
    """Each scene part: id, label, the executive's outcome and reason, where it truly ended (place, container,
    correct), start and end [sim s], attempts."""
    parts_total: int = 0
    parts_sorted: int = 0
    """Scene parts truly inside a bin that accepts their class at the end."""
    parts_sortable: int = 0
    """Scene parts whose class a bin of the scene accepts."""
    success_rate: float = 0.0
    """parts_sorted / parts_sortable."""
    part_times: list[float] = field(default_factory=list)
    """Simulated time of each sorted part's cycle, as the executive reports it [s]."""
    median_part_time: float = 0.0
    fell: bool = False
    max_tilt_deg: float = 0.0
    estimator_max_error: float = -1.0
    """Largest distance between the state estimator's `odom` and the true base position [m] (-1: no odom)."""
    decisions: list[str] = field(default_factory=list)
    """The executive's decisions, as `executive/status` reported them."""
    artefacts: dict[str, str] = field(default_factory=dict)
    success: bool = False
    errors: list[str] = field(default_factory=list)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cell", default="sorting_cell", help="cell file name or path (default sorting_cell)")
    parser.add_argument("--scene", default="", help="scene name or file (default: the cell's name)")
    parser.add_argument("--robot", default="centurion", help="robot name or file (default centurion)")
    parser.add_argument("--episodes", type=int, default=0,
                        help="run this many randomised cells instead of the shipped one (default 0: the shipped cell)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first randomised cell (default 0)")
    parser.add_argument("--max-parts", type=int, default=0, help="stop after this many parts (default 0: all)")
    parser.add_argument("--no-video", action="store_true", help="do not render the shift's video")
    parser.add_argument("--reports", default="reports", help="folder for the report files (default reports/)")
    parser.add_argument("--timeout", type=float, default=3600.0,
                        help="wall-clock limit of one shift [s] (default 3600)")
    parser.add_argument("--stem", default="",
                        help="name of the report files without extension (default shift-<time>; one shift only)")


# -------------------------------------------------------------------------------------------------------------- ROS
class Shift:
    """The job's ROS side: one node that watches the stack, asks the executive for the shift and records it for the
    judge; spun by the caller."""

    def __init__(self, report: ShiftReport, launched: LaunchedNodes, options: argparse.Namespace,
                 scene_path: str) -> None:
        import rclpy
        from diagnostic_msgs.msg import DiagnosticArray
        from nav_msgs.msg import OccupancyGrid, Odometry
        from rclpy.action import ActionClient
        from rclpy.parameter import Parameter
        from sensor_msgs.msg import JointState

        from legion_bringup.shift_record import CellLayout, ShiftRecord
        from legion_interfaces.action import RunJob
        from legion_interfaces.msg import DetectedObjectArray, ExecutiveStatus, FootstepPlan, GaitReference

        self.rclpy = rclpy
        self.report, self.launched, self.options = report, launched, options
        self.deadline = time.monotonic() + options.timeout
        from rclpy.signals import SignalHandlerOptions

        # Ctrl-C comes as KeyboardInterrupt with the context still valid (the report is written after it)
        rclpy.init(signal_handler_options=SignalHandlerOptions.NO)
        self.node = rclpy.create_node("legion_job", parameter_overrides=[Parameter("use_sim_time", value=True)])
        self.time = -1.0
        self.start_time = -1.0
        self.start_wall = math.nan
        """Wall time [s, time.monotonic()] of the first state: the real-time factor leaves out the stack's start-up."""
        self.truth = None
        self.estimate = None
        self.truth_objects = None
        self.start_objects: dict[str, tuple[float, float, float]] = {}
        self.status = None
        self.reference = None
        self.grid = None
        self.scene_parts: set[str] = set()
        """The scene's part ids (the video poses these; the judge reads the scene)."""
        self.segments: list[list] = []
        """[start, end, part id, phase] of the executive's phases per part (`executive/status`), for the timeline."""
        self.estimates: dict[int, tuple[float, float, float]] = {}
        self.truths: dict[int, tuple[float, float, float]] = {}
        self.footsteps: dict[tuple[int, int], object] = {}
        self.record = ShiftRecord(scene=report.scene, robot=report.robot)
        try:
            self.record.cell = CellLayout.load(_cell_file(report.cell))
        except Exception as error:  # the map plot goes without the cell's outlines
            report.errors.append(f"cell layout for the map: {error}")
        from legion_bringup.shift_media import FrameLog

        self.scene_path = scene_path
        self.frames = None if options.no_video else FrameLog(VIDEO_FPS)
        """Video frame states logged during the shift, rendered after it (rendering would take the stack's CPU)."""
        self._last_line = ""
        self._last_print = 0.0
        # The job watches the robot at 50 Hz (the state estimator's decimated state), not at the control rate.
        for topic, kind, callback, qos in (
                ("joint_states/decimated", JointState, self._on_joint_states, 50),
                ("ground_truth/odom", Odometry, self._on_truth, 50),
                ("ground_truth/objects", DetectedObjectArray, self._on_truth_objects, 10),
                ("odom/decimated", Odometry, self._on_estimate, 50),
                ("executive/status", ExecutiveStatus, self._on_status, 10),
                ("gait/reference", GaitReference, lambda m: setattr(self, "reference", m), 10),
                ("gait/footsteps", FootstepPlan, self._on_footsteps, 10),
                ("perception/obstacles", OccupancyGrid, lambda m: setattr(self, "grid", m), 2),
                ("hardware/status", DiagnosticArray, lambda m: None, 10)):
            self.node.create_subscription(kind, topic, callback, qos)
        self.run_job = ActionClient(self.node, RunJob, "run_job")
        self.RunJob = RunJob

    # --- callbacks -------------------------------------------------------------------------------------------------
    def _on_joint_states(self, msg) -> None:
        from legion_bringup.shift_media import FrameState

        self.time = header_seconds(msg)
        if self.start_time < 0:
            self.start_time = self.time
            self.start_wall = time.monotonic()
        if self.frames is not None and self.truth is not None and self.frames.due(self.time):
            pose = self.truth.pose.pose
            parts = {} if self.truth_objects is None else {
                o.id: ((o.pose.position.x, o.pose.position.y, o.pose.position.z), xyzw(o.pose.orientation))
                for o in self.truth_objects.objects if o.id in self.scene_parts}
            self.frames.add(FrameState(self.time, (pose.position.x, pose.position.y, pose.position.z),
                                       xyzw(pose.orientation), dict(zip(msg.name, msg.position, strict=True)), parts,
                                       self.progress_line(video=True)))

    def _on_truth(self, msg) -> None:
        self.truth = msg
        pose = msg.pose.pose
        tilt = math.degrees(tilt_from_quaternion(xyzw(pose.orientation)))
        self.report.max_tilt_deg = max(self.report.max_tilt_deg, tilt)
        if tilt > FALL_TILT_DEG and not self.report.fell:
            self.report.fell = True
            self.report.errors.append(f"the robot fell at {header_seconds(msg):.1f} s")
        t = header_seconds(msg)
        self._pair("truth", round(t * 1e6), (pose.position.x, pose.position.y, pose.position.z))
        estimate = None
        if self.estimate is not None:
            e = self.estimate.pose.pose
            estimate = (e.position.x, e.position.y, yaw_from_quaternion(xyzw(e.orientation)))
        com_ref = zmp_ref = None
        if self.reference is not None:
            with contextlib.suppress(Exception):  # a reference the record refuses: this sample goes without it
                com_ref, zmp_ref = reference_at(self.reference, t)
        # (a time jump back, a simulator reset, raises: what was recorded stays)
        with contextlib.suppress(Exception):
            self.record.add_sample(t, (pose.position.x, pose.position.y, yaw_from_quaternion(xyzw(pose.orientation))),
                                   estimate, com_reference=com_ref, zmp_reference=zmp_ref)

    def _on_truth_objects(self, msg) -> None:
        self.truth_objects = msg
        if not self.start_objects:
            self.start_objects = {o.id: (o.pose.position.x, o.pose.position.y, o.pose.position.z)
                                  for o in msg.objects}

    def _on_estimate(self, msg) -> None:
        self.estimate = msg
        p = msg.pose.pose.position
        self._pair("estimate", round(header_seconds(msg) * 1e6), (p.x, p.y, p.z))

    def _pair(self, kind: str, stamp: int, position: tuple[float, float, float]) -> None:
        """The estimator's error at every stamp both the estimate and the truth carry, whichever arrives first."""
        other = self.truths if kind == "estimate" else self.estimates
        mine = self.estimates if kind == "estimate" else self.truths
        if stamp in other:
            error = math.dist(position, other.pop(stamp))
            self.report.estimator_max_error = max(self.report.estimator_max_error, error)
            return
        mine[stamp] = position
        if len(mine) > 2000:  # keep the newest only
            for key in sorted(mine)[:1000]:
                del mine[key]

    def _on_status(self, msg) -> None:
        previous = self.status
        self.status = msg
        kind = phase_kind(msg.phase, bool(msg.part_id))
        if msg.part_id and kind:
            last = self.segments[-1] if self.segments else None
            if last is not None and last[2] == msg.part_id and last[3] == kind:
                last[1] = self.time
            else:
                self.segments.append([self.time, self.time, msg.part_id, kind])
        decision = getattr(msg, "last_decision", "")
        if decision and (previous is None or decision != getattr(previous, "last_decision", "")):
            self.report.decisions.append(f"{self.time:8.2f} s  {decision}")
        self.print_progress()

    def _on_footsteps(self, msg) -> None:
        """The plan's steps by side and touch-down time: a later plan replaces a step not yet landed; at the end
        the steps whose touch-down has passed are the landings."""
        with contextlib.suppress(Exception):
            for step in footsteps_from_plan(msg, planned=False):
                self.footsteps[(step.side, round(step.t * 100))] = step

    # --- progress --------------------------------------------------------------------------------------------------
    def progress_line(self, video: bool = False) -> str:
        s = self.status
        sim = max(self.time - self.start_time, 0.0) if self.start_time >= 0 else 0.0
        wall = time.monotonic() - self.start_wall if math.isfinite(self.start_wall) else 0.0
        rtf = sim / wall if wall > 0 else 0.0
        if video:  # the video's overlay: simulated time only (the real-time factor is the machine's)
            if s is None:
                return f"{sim:6.1f} s"
            return f"{sim:6.1f} s  sorted {s.sorted} of {s.seen} parts  {s.phase or ''}"
        if s is None:
            return f"waiting for the executive | sim {sim:6.1f} s | RTF {rtf:.2f}"
        done = s.sorted + s.skipped + s.dropped + s.failed + s.ignored
        return (f"{s.state.lower():9s} | parts {done}/{s.seen} (sorted {s.sorted}) | {s.phase or '-'} | "
                f"sim {sim:6.1f} s | RTF {rtf:.2f}")

    def print_progress(self, force: bool = False) -> None:
        """One progress line: rewritten in place on a terminal, else printed when it changes (at most every 5 s of
        wall time unless the phase changed)."""
        line = self.progress_line()
        now = time.monotonic()
        if sys.stdout.isatty():
            if force or now - self._last_print > 0.2:
                print(f"\r[shift] {line:<110s}", end="", flush=True)
                self._last_print = now
            return
        changed = line.split("| sim")[0] != self._last_line.split("| sim")[0]
        if force or changed or now - self._last_print > 5.0:
            print(f"[shift] {line}", flush=True)
            self._last_line, self._last_print = line, now

    # --- waiting ---------------------------------------------------------------------------------------------------
    def spin_until(self, done, what: str) -> bool:
        """Spin until `done()`; False (with an error in the report) on a node exit or the wall-clock limit."""
        while not done():
            self.rclpy.spin_once(self.node, timeout_sec=0.05)
            exited = self.launched.exited_required()
            if exited is not None:
                self.report.errors.append(f"node '{exited[0]}' exited with code {exited[1]} during {what}")
                return False
            if time.monotonic() > self.deadline:
                self.report.errors.append(f"{WALL_CLOCK_LIMIT} during {what}")
                return False
        return True

    def wait_sim(self, seconds: float, what: str) -> bool:
        if not self.spin_until(lambda: self.time >= 0 and self.truth is not None and self.estimate is not None
                               and self.truth_objects is not None, f"{what} (start-up)"):
            return False
        end = self.time + seconds
        return self.spin_until(lambda: self.time >= end, what)

    # --- the shift -------------------------------------------------------------------------------------------------
    def run(self, scene) -> bool:
        """Stand, then ask the executive for the shift and follow it to its end. Ctrl-C (which stops the stack's
        nodes too: they share the terminal) ends it early: the report then covers the shift up to that moment."""
        try:
            return self._run(scene)
        except KeyboardInterrupt:
            self.report.errors.append("interrupted (Ctrl-C or SIGTERM): the stack was stopped; this report covers the "
                                      "shift up to that moment")
            print("\n[legion job] interrupted: writing the report of the shift so far", flush=True)
            return False

    def _run(self, scene) -> bool:
        self.scene_parts = {part.id for part in scene.parts}
        print("[shift] waiting for the robot to stand", flush=True)
        if not self.wait_sim(1.0, "stand"):
            return False
        if not self.run_job.wait_for_server(timeout_sec=60.0):
            self.report.errors.append("run_job action server not available")
            return False
        goal = self.RunJob.Goal(cell=str(self.report.cell), max_parts=max(int(self.options.max_parts), 0))
        sent = self.run_job.send_goal_async(goal)
        if not self.spin_until(sent.done, "run_job (goal)"):
            return False
        handle = sent.result()
        if not handle.accepted:
            self.report.errors.append("run_job goal rejected (see the executive's log)")
            return False
        result_future = handle.get_result_async()
        ok = self.spin_until(lambda: result_future.done() or self.report.fell, "the shift")
        if not result_future.done():
            cancel = handle.cancel_goal_async()
            self.spin_until(lambda: cancel.done() or time.monotonic() > self.deadline, "cancelling the shift")
            self.spin_until(lambda: result_future.done(), "the shift's end")
        if result_future.done():
            result = result_future.result().result
            self.report.executive_result = f"{result.outcome}: {result.message}"
            self.executive_parts = list(result.parts)
        self.print_progress(force=True)
        print(flush=True)
        self.wait_sim(1.0, "settle")
        return ok

    def finish(self) -> None:
        """The record's landings and obstacle grid from the newest messages."""
        self.record.footsteps = sorted((f for f in self.footsteps.values() if f.t <= self.time),
                                       key=lambda f: f.t)
        if self.grid is not None:
            try:
                self.record.grid = grid_from_occupancy(self.grid)
            except Exception as error:
                self.report.errors.append(f"obstacle grid for the map: {error}")

    def close(self) -> None:
        self.node.destroy_node()
        self.rclpy.try_shutdown()


def phase_kind(phase: str, has_part: bool) -> str:
    """The timeline's phase of the executive's phase text (`walking to red_drop`, `picking red_cube_1`, ...):
    walk, pick, carry, place or look ('' for none)."""
    words = phase.split()
    first = words[0] if words else ""
    if first == "picking":
        return "pick"
    if first == "placing":
        return "place"
    if first == "looking":
        return "look"
    if first == "walking":
        return "carry" if has_part and len(words) > 2 and words[2] != "table" else "walk"
    return ""


def _cell_file(cell: str) -> Path:
    from legion_executive.cell import cell_path

    return cell_path(cell)


# -------------------------------------------------------------------------------------------------------------- judge
def judge(report: ShiftReport, shift: Shift, scene) -> None:
    """Each scene part's fate against the executive's account; the figures of the shift."""
    from legion_bringup.shift_record import PartEvent, PhaseSpan

    objects = [] if shift.truth_objects is None else [
        (o.id, o.label, (o.pose.position.x, o.pose.position.y, o.pose.position.z)) for o in shift.truth_objects.objects]
    fates = judge_parts(objects, scene)
    accepted = {bin_.accepts for bin_ in scene.bins}
    told = {}
    for outcome in getattr(shift, "executive_parts", []):
        told.setdefault(outcome.label, []).append(outcome)
    report.parts_total = len(fates)
    report.parts_sortable = sum(1 for f in fates if f.label in accepted)
    report.parts_sorted = sum(1 for f in fates if f.correct)
    report.success_rate = report.parts_sorted / report.parts_sortable if report.parts_sortable else 0.0
    for fate in fates:
        account = _nearest_account(told.get(fate.label, []), shift.start_objects.get(fate.id))
        outcome = account.outcome if account is not None else ""
        row = {"id": fate.id, "label": fate.label, "place": fate.place, "container": fate.container,
               "correct": fate.correct, "executive_outcome": outcome,
               "reason": account.reason if account is not None else "",
               "attempts": int(account.attempts) if account is not None else 0,
               "start": round(to_seconds(account.start), 2) if account is not None else None,
               "end": round(to_seconds(account.end), 2) if account is not None else None,
               "category": failure_category(fate, outcome, report.fell) if fate.label in accepted else "no_bin"}
        report.parts.append(row)
        begin, end = (to_seconds(account.start), to_seconds(account.end)) if account is not None else (0.0, 0.0)
        if fate.correct and end > begin:
            report.part_times.append(round(end - begin, 2))
        start = shift.start_objects.get(fate.id, fate.position)
        phases = tuple(PhaseSpan(kind, a, max(b, a + 0.5)) for a, b, pid, kind in shift.segments
                       if account is not None and pid == account.id) or (
            (PhaseSpan("sort", begin, end),) if end > begin else ())
        shift.record.parts.append(PartEvent(fate.id, fate.label, "placed" if fate.correct else (
            outcome or fate.place), (start[0], start[1]), (fate.position[0], fate.position[1]),
            account.bin if account is not None else "", phases))
    report.median_part_time = statistics.median(report.part_times) if report.part_times else 0.0
    report.success = (not report.fell and not report.errors and report.parts_sortable > 0
                      and report.parts_sorted == report.parts_sortable)


def _nearest_account(accounts: list, start: tuple[float, float, float] | None):
    """The executive's outcome for a true part: of its class, the one perception saw nearest where the part truly
    started (the executive names parts by perception's tracks, not by the scene's ids)."""
    if not accounts:
        return None
    if start is None:
        return accounts.pop(0)
    best = min(accounts, key=lambda a: math.hypot(a.position.x - start[0], a.position.y - start[1]))
    accounts.remove(best)
    return best


# -------------------------------------------------------------------------------------------------------------- report
def render_markdown(report: ShiftReport) -> str:
    rate = f"{report.parts_sorted} of {report.parts_sortable} parts sorted ({report.success_rate:.0%})"
    lines = [
        f"# Legion shift report: {report.robot} in cell {report.cell} (scene {report.scene})",
        "",
        f"Result: **{'success' if report.success else 'FAILED'}**: {rate}. Simulated {report.sim_duration:.1f} s in "
        f"{report.wall_duration:.1f} s of wall time (real-time factor {report.real_time_factor:.2f}, lockstep, full "
        f"stack over DDS, steered by the state estimator's estimate; judged by ground truth).",
        "",
        f"- executive: {report.executive_result or 'no result'}",
        f"- balance: {'FELL' if report.fell else 'no fall'}; largest base tilt {report.max_tilt_deg:.1f} deg",
        f"- state estimator: largest base position error {report.estimator_max_error * 100:.1f} cm"
        if report.estimator_max_error >= 0 else "- state estimator: no `odom` received",
        f"- time per sorted part (simulated): median {report.median_part_time:.1f} s over {len(report.part_times)}",
        "",
        "| part | class | executive | attempts | truly ended | sim time [s] |",
        "|---|---|---|---:|---|---|",
    ]
    for p in report.parts:
        where = f"{p['place']} {p['container']}".strip() + (" (correct)" if p["correct"] else "")
        span = f"{p['start']:.1f} - {p['end']:.1f}" if p["start"] is not None else "-"
        told = p["executive_outcome"] + (f": {p['reason']}" if p["reason"] else "")
        lines.append(f"| {p['id']} | {p['label']} | {told or '-'} | {p['attempts']} | {where} | {span} |")
    if report.artefacts:
        lines += ["", "Files: " + ", ".join(f"[{k}]({Path(v).name})" for k, v in report.artefacts.items())]
    if report.errors:
        lines += ["", "Errors:", *(f"- {e}" for e in report.errors)]
    if report.decisions:
        lines += ["", "<details><summary>The executive's decisions</summary>", "", "```", *report.decisions, "```",
                  "", "</details>"]
    return "\n".join(lines) + "\n"


STACK_NODES = ("sim_bridge", "state_estimator", "whole_body_controller", "gait_planner", "executive")
"""Nodes of a running stack: one of them already on the domain means another stack would hear this one."""


def stack_nodes_on_domain(discovery: float = 2.5) -> list[str]:
    """Names of `STACK_NODES` already on this process's ROS domain (root namespace), after `discovery` [s] of DDS
    discovery (a late joiner is found within about 2.5-3 s)."""
    import rclpy
    from rclpy.executors import SingleThreadedExecutor

    context = rclpy.Context()
    rclpy.init(context=context)
    try:
        node = rclpy.create_node("legion_job_domain_check", context=context)
        executor = SingleThreadedExecutor(context=context)
        executor.add_node(node)
        end = time.monotonic() + discovery
        found: set[str] = set()
        while time.monotonic() < end:
            executor.spin_once(timeout_sec=0.1)
            found |= {name for name, namespace in node.get_node_names_and_namespaces()
                      if namespace == "/" and name in STACK_NODES}
        node.destroy_node()
        return sorted(found)
    finally:
        context.try_shutdown()


def run_one(options: argparse.Namespace, scene: str, cell: str, stem: str) -> ShiftReport:
    """One shift in its own stack; the report's files under options.reports named `stem`."""
    from legion_sim.scene import load_scene, scene_path

    report = ShiftReport(scene=str(scene), cell=str(cell), robot=options.robot)
    folder = Path(options.reports)
    folder.mkdir(parents=True, exist_ok=True)
    options.stem = stem
    try:
        scene_model = load_scene(scene)
        _cell_file(cell)  # a missing or broken cell file stops here, before any node starts
        from legion_executive.cell import load_cell

        load_cell(cell)
    except Exception as error:
        report.errors.append(f"{type(error).__name__}: {error}")
        return report
    others = stack_nodes_on_domain()
    if others:
        domain = os.environ.get("ROS_DOMAIN_ID", "0")
        report.errors.append(f"{DOMAIN_BUSY} {domain} (nodes {', '.join(others)}): its "
                             f"topics would mix with this shift's; stop it, or run with ROS_DOMAIN_ID set to a free "
                             f"domain")
        return report
    print(f"[legion job] starting the stack: robot {options.robot}, scene {scene}, cell {cell}, headless, lockstep",
          flush=True)
    wall_start = time.monotonic()
    shift = None
    try:
        with LaunchedNodes("stack", {"robot": options.robot, "scene": str(scene), "headless": "true",
                                     "lockstep": "true"}, echo=False) as launched:
            shift = Shift(report, launched, options, str(scene_path(scene)))
            try:
                shift.run(scene_model)
            finally:
                report.wall_duration = time.monotonic() - (shift.start_wall if math.isfinite(shift.start_wall)
                                                           else wall_start)
                report.sim_duration = max(0.0, shift.time - shift.start_time) if shift.start_time >= 0 else 0.0
                report.real_time_factor = report.sim_duration / report.wall_duration if report.wall_duration else 0.0
                shift.finish()
                judge(report, shift, scene_model)
                shift.close()
    except LaunchError as error:
        report.errors.append(str(error))
    if shift is not None:
        _write_media(report, shift, folder, stem)
    (folder / f"{stem}.md").write_text(render_markdown(report))
    (folder / f"{stem}.json").write_text(json.dumps(asdict(report), indent=2) + "\n")
    return report


def _write_media(report: ShiftReport, shift: Shift, folder: Path, stem: str) -> None:
    """The record, the plots and (after the stack has stopped, so it takes no CPU from it) the video."""
    from legion_bringup.shift_media import CellCamera, render_video, write_plots

    try:
        report.artefacts["record"] = str(shift.record.save(folder / f"{stem}-record.json"))
        for name, path in write_plots(shift.record, folder, stem).items():
            report.artefacts[name] = str(path)
    except Exception as error:
        report.errors.append(f"plots: {type(error).__name__}: {error}")
    if shift.frames is None or not shift.frames.states:
        return
    print(f"[legion job] rendering the video ({len(shift.frames.states)} frames)", flush=True)
    try:
        with CellCamera(shift.scene_path, report.robot) as camera:
            report.artefacts["video"] = str(render_video(shift.frames.states, folder / f"{stem}.mp4", camera,
                                                         VIDEO_FPS))
    except Exception as error:  # no GL, no ffmpeg: the report says so; the shift's result stands
        report.errors.append(f"video: {type(error).__name__}: {error}")


def run(options: argparse.Namespace) -> int:
    if options.episodes > 0:
        return run_episodes(options)
    stem = options.stem or f"shift-{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}"
    scene = options.scene or Path(str(options.cell)).stem
    # SIGTERM (a supervisor stopping the job, e.g. `legion evaluate` at its time limit) ends the shift as Ctrl-C does:
    # the stack is stopped and the report of the shift so far written.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    report = run_one(options, scene, options.cell, stem)
    markdown = render_markdown(report)
    print(markdown, flush=True)
    print(f"[legion job] report written to {Path(options.reports) / stem}.md and .json", flush=True)
    return 0 if report.success else 1


def run_episodes(options: argparse.Namespace) -> int:
    """N randomised cells, one stack each: the share of parts sorted with its 95 % interval and the failures."""
    from legion_sim.cell_generator import generate_cell

    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    folder = Path(options.reports) / f"episodes-{stamp}"
    folder.mkdir(parents=True, exist_ok=True)
    rows, failures = [], {}
    for k in range(options.episodes):
        seed = options.seed + k
        scene_file, cell_file = generate_cell(seed).write(folder)
        episode = argparse.Namespace(**vars(options))
        episode.reports = str(folder)
        print(f"[legion job] episode {k + 1}/{options.episodes}: seed {seed}", flush=True)
        report = run_one(episode, str(scene_file), str(cell_file), f"shift-seed{seed}")
        for part in report.parts:
            if part["category"] and part["category"] != "no_bin":
                failures[part["category"]] = failures.get(part["category"], 0) + 1
        rows.append({"seed": seed, "sorted": report.parts_sorted, "sortable": report.parts_sortable,
                     "fell": report.fell, "errors": report.errors, "sim_duration": round(report.sim_duration, 1),
                     "wall_duration": round(report.wall_duration, 1)})
        print(f"[legion job] seed {seed}: {report.parts_sorted}/{report.parts_sortable} sorted"
              + (" (FELL)" if report.fell else ""), flush=True)
    sorted_total = sum(r["sorted"] for r in rows)
    sortable_total = sum(r["sortable"] for r in rows)
    low, high = wilson_interval(sorted_total, sortable_total)
    summary = {"episodes": rows, "parts_sorted": sorted_total, "parts_sortable": sortable_total,
               "success_rate": sorted_total / sortable_total if sortable_total else 0.0,
               "confidence_95": [round(low, 3), round(high, 3)], "failures": failures,
               "falls": sum(1 for r in rows if r["fell"])}
    lines = [f"# Legion: {options.episodes} randomised sorting cells (seeds {options.seed}-"
             f"{options.seed + options.episodes - 1})", "",
             f"Parts sorted: **{sorted_total} of {sortable_total}** ({summary['success_rate']:.1%}, 95 % Wilson "
             f"interval {low:.1%} - {high:.1%}); falls: {summary['falls']}.", "",
             "| seed | sorted | sim [s] | wall [s] | fell | errors |", "|---:|---|---:|---:|---|---|",
             *(f"| {r['seed']} | {r['sorted']}/{r['sortable']} | {r['sim_duration']} | {r['wall_duration']} | "
               f"{'yes' if r['fell'] else 'no'} | {'; '.join(r['errors'])[:120]} |" for r in rows), "",
             "Failures by category: " + (", ".join(f"{k} {v}" for k, v in sorted(failures.items())) or "none")]
    (folder / "episodes.md").write_text("\n".join(lines) + "\n")
    (folder / "episodes.json").write_text(json.dumps(summary, indent=2) + "\n")
    print("\n".join(lines), flush=True)
    return 0 if sortable_total and sorted_total == sortable_total else 1
