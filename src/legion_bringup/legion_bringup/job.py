"""The main job: the Legion stack on the simulated Centurion in MuJoCo, headless, in lockstep, with a report.

`legion job` starts `legion launch stack headless:=true lockstep:=true` and drives the robot through a short shift
at the sorting cell, through the stack's own interfaces only:

1. stand: the robot balances in place (`--stand` simulated seconds);
2. inspect: it takes the robot config's `inspect_table` posture (`posture/reference`: head down at the table) and
   reports the parts perception finds (`perception/objects`);
3. walk: `walk_to` a pose `--walk` metres behind the start, then `walk_to` back to the start (skipped with 0). The
   targets are set in `odom` from the state estimator's estimate of the start pose, as an operator would set them;
4. settle: it stands for a second.

Ground truth (`ground_truth/*`) is read here only to judge the run, never to steer it: base drift, falls, the state
estimator's error, perception's position errors and the walking pose errors (each walk is judged by where the robot
truly ends against where the target truly is: the target in `odom` moved by the estimator's error at the start).
What happened goes to `reports/job-<time>.md` and `.json`.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from legion_bringup.launcher import LaunchedNodes
from legion_bringup.nodes import LaunchError
from legion_common.messages import xyzw
from legion_common.stamps import header_seconds
from legion_common.transforms import tilt_from_quaternion, yaw_from_quaternion

FALL_TILT_DEG = 30.0
"""Base tilt beyond which the robot counts as fallen [deg]."""
PERCEPTION_TOLERANCE = 0.02
"""Largest position error of a perceived part that counts as found [m]."""
WALK_TOLERANCE = 0.05
"""Largest final position error of a walk that counts as arrived [m]."""


@dataclass
class JobReport:
    """What the job measured. Positions in `odom` [m], times [s]."""

    scene: str
    robot: str
    sim_duration: float = 0.0
    wall_duration: float = 0.0
    real_time_factor: float = 0.0
    phases: list[dict] = field(default_factory=list)
    """Each phase: name, start and end [sim s], result."""
    messages: dict[str, int] = field(default_factory=dict)
    """Topic -> messages received."""
    rates: dict[str, float] = field(default_factory=dict)
    """Topic -> messages per simulated second."""
    stand_drift_xy: float = 0.0
    """Base drift while standing [m]."""
    max_tilt_deg: float = 0.0
    fell: bool = False
    objects_in_scene: int = 0
    """Scene parts (ground truth)."""
    perceived: list[dict] = field(default_factory=list)
    """Parts on `perception/objects` after inspecting: id, label, error [m] to the nearest true part of that label."""
    parts_found: int = 0
    """True parts with a perceived part of the same label within PERCEPTION_TOLERANCE."""
    walks: list[dict] = field(default_factory=list)
    """Each walk_to: target, success, message, final position error [m], final yaw error [deg], duration [s]."""
    estimator_max_error: float = -1.0
    """Largest distance between the state estimator's `odom` and the true base position [m] (-1: no odom)."""
    hardware_status: str = ""
    success: bool = False
    errors: list[str] = field(default_factory=list)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scene", default="sorting_cell", help="scene name or file (default sorting_cell)")
    parser.add_argument("--robot", default="centurion", help="robot name (default centurion)")
    parser.add_argument("--stand", type=float, default=2.0, help="simulated seconds of standing first (default 2)")
    parser.add_argument("--walk", type=float, default=0.5,
                        help="walk_to this far back and return [m] (default 0.5; 0 skips walking)")
    parser.add_argument("--reports", default="reports", help="folder for the report files (default reports/)")
    parser.add_argument("--timeout", type=float, default=1200.0, help="wall-clock limit [s] (default 1200)")


class Shift:
    """The job's ROS side: one node that watches the stack and asks it for work, spun by the caller."""

    def __init__(self, report: JobReport, launched: LaunchedNodes, timeout: float) -> None:
        import rclpy
        from diagnostic_msgs.msg import DiagnosticArray
        from nav_msgs.msg import Odometry
        from rclpy.action import ActionClient
        from rclpy.parameter import Parameter
        from sensor_msgs.msg import JointState

        from legion_description import load_robot_config
        from legion_interfaces.action import WalkTo
        from legion_interfaces.msg import DetectedObjectArray

        self.rclpy = rclpy
        self.report, self.launched = report, launched
        self.deadline = time.monotonic() + timeout
        self.config = load_robot_config(report.robot)
        rclpy.init()
        self.node = rclpy.create_node("legion_job", parameter_overrides=[Parameter("use_sim_time", value=True)])
        self.counts: dict[str, int] = {}
        self.time = -1.0
        self.start_time = -1.0
        self.start_wall = math.nan
        """Wall time [s, time.monotonic()] of the first state: the real-time factor leaves out the stack's start-up."""
        self.truth = None
        self.estimate = None
        """The newest `odom` from the state estimator."""
        self.truth_objects = None
        self.perceived = None
        self.estimates: dict[int, tuple[float, float, float]] = {}
        self.truths: dict[int, tuple[float, float, float]] = {}
        """Positions by stamp [us] waiting for their counterpart (estimate or ground truth)."""
        # The job watches the robot at 50 Hz (the state estimator's decimated state), not at the control rate: a
        # 500 Hz subscriber costs the simulator and the machine as much as a node of the stack.
        for topic, kind, callback in (
                ("joint_states/decimated", JointState, self._on_joint_states),
                ("ground_truth/odom", Odometry, self._on_truth),
                ("ground_truth/objects", DetectedObjectArray, lambda m: setattr(self, "truth_objects", m)),
                ("perception/objects", DetectedObjectArray, lambda m: setattr(self, "perceived", m)),
                ("odom/decimated", Odometry, self._on_estimate),
                ("hardware/status", DiagnosticArray, self._on_status)):
            self.node.create_subscription(kind, topic, self._counted(topic, callback), 50)
        self.posture = self.node.create_publisher(JointState, "posture/reference", 10)
        self.walk_to = ActionClient(self.node, WalkTo, "walk_to")
        self.WalkTo = WalkTo

    def _counted(self, topic, callback):
        def wrapped(msg) -> None:
            self.counts[topic] = self.counts.get(topic, 0) + 1
            callback(msg)
        return wrapped

    def _on_joint_states(self, msg) -> None:
        self.time = header_seconds(msg)
        if self.start_time < 0:
            self.start_time = self.time
            self.start_wall = time.monotonic()

    def _on_truth(self, msg) -> None:
        self.truth = msg
        pose = msg.pose.pose
        tilt = math.degrees(tilt_from_quaternion(xyzw(pose.orientation)))
        self.report.max_tilt_deg = max(self.report.max_tilt_deg, tilt)
        if tilt > FALL_TILT_DEG:
            self.report.fell = True
        self._pair("truth", round(header_seconds(msg) * 1e6), (pose.position.x, pose.position.y, pose.position.z))

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
        if msg.status:
            self.report.hardware_status = msg.status[0].message

    # --- waiting ---------------------------------------------------------------------------------------------------
    def spin_until(self, done, what: str) -> bool:
        """Spin until `done()`; False (with an error in the report) on a node exit, a fall or the wall-clock limit."""
        while not done():
            self.rclpy.spin_once(self.node, timeout_sec=0.05)
            exited = self.launched.exited_required()
            if exited is not None:
                self.report.errors.append(f"node '{exited[0]}' exited with code {exited[1]} during {what}")
                return False
            if self.report.fell:
                self.report.errors.append(f"the robot fell during {what}")
                return False
            if time.monotonic() > self.deadline:
                self.report.errors.append(f"wall-clock limit reached during {what}")
                return False
        return True

    def wait_sim(self, seconds: float, what: str) -> bool:
        if not self.spin_until(lambda: self.time >= 0 and self.truth is not None and self.estimate is not None,
                               f"{what} (start-up)"):
            return False
        end = self.time + seconds
        return self.spin_until(lambda: self.time >= end, what)

    def phase(self, name: str, run) -> bool:
        start = max(self.time, 0.0)  # the first phase starts before the first state arrives
        result = run()
        ok = bool(result) and not self.report.fell
        self.report.phases.append({"name": name, "start": round(start, 3), "end": round(self.time, 3),
                                   "result": result if isinstance(result, str) else ("done" if ok else "failed")})
        return ok

    # --- the phases --------------------------------------------------------------------------------------------
    def stand(self, seconds: float):
        if not self.wait_sim(0.0, "stand"):
            return False
        start = self.truth.pose.pose.position
        if not self.wait_sim(seconds, "stand"):
            return False
        end = self.truth.pose.pose.position
        self.report.stand_drift_xy = math.hypot(end.x - start.x, end.y - start.y)
        return f"drift {self.report.stand_drift_xy * 100:.2f} cm"

    def inspect(self):
        from sensor_msgs.msg import JointState

        posture = self.config.postures.get("inspect_table", {})
        msg = JointState(name=list(posture), position=list(posture.values()))
        msg.header.stamp = self.node.get_clock().now().to_msg()
        self.posture.publish(msg)
        if not self.wait_sim(3.0, "inspect"):
            return False
        self.report.objects_in_scene = len(self.truth_objects.objects) if self.truth_objects else 0
        self.report.perceived = perception_errors(self.perceived, self.truth_objects)
        self.report.parts_found = parts_found(self.perceived, self.truth_objects)
        return f"{self.report.parts_found} of {self.report.objects_in_scene} parts found within 2 cm"

    def start_pose(self) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
        """(estimated, true) base pose (x, y, yaw) now: the estimate steers, the truth only judges."""
        estimate, truth = self.estimate.pose.pose, self.truth.pose.pose
        return ((estimate.position.x, estimate.position.y, yaw_from_quaternion(xyzw(estimate.orientation))),
                (truth.position.x, truth.position.y, yaw_from_quaternion(xyzw(truth.orientation))))

    def walk(self, x: float, y: float, yaw: float,
             start_poses: tuple[tuple[float, float, float], tuple[float, float, float]]):
        """`walk_to` (x, y, yaw) in `odom`. `start_poses` = (estimated, true) pose at the job's start: the target's
        true place is the odom target moved by the estimator's error there."""
        from geometry_msgs.msg import PoseStamped

        if not self.walk_to.wait_for_server(timeout_sec=30.0):
            self.report.errors.append("walk_to action server not available")
            return False
        goal = self.WalkTo.Goal(target=PoseStamped())
        goal.target.header.frame_id = self.config.frames["odom"]
        goal.target.pose.position.x, goal.target.pose.position.y = x, y
        goal.target.pose.orientation.z, goal.target.pose.orientation.w = math.sin(yaw / 2), math.cos(yaw / 2)
        start = self.time
        sent = self.walk_to.send_goal_async(goal)
        if not self.spin_until(sent.done, "walk_to (goal)"):
            return False
        handle = sent.result()
        if not handle.accepted:
            self.report.walks.append({"target": [x, y, yaw], "success": False, "message": "goal rejected"})
            return "goal rejected"
        result_future = handle.get_result_async()
        if not self.spin_until(result_future.done, "walk_to"):
            return False
        result = result_future.result().result
        if not self.wait_sim(1.0, "walk_to (settle)"):
            return False
        true_x, true_y, true_yaw = true_target((x, y, yaw), *start_poses)
        pose = self.truth.pose.pose
        error = math.hypot(pose.position.x - true_x, pose.position.y - true_y)
        yaw_error = math.degrees(abs(math.remainder(yaw_from_quaternion(xyzw(pose.orientation)) - true_yaw,
                                                    math.tau)))
        self.report.walks.append({"target": [x, y, yaw], "success": bool(result.success), "message": result.message,
                                  "position_error": round(error, 4), "yaw_error_deg": round(yaw_error, 2),
                                  "duration": round(self.time - start, 2)})
        return (f"{'arrived' if result.success else 'failed: ' + result.message}, {error * 100:.1f} cm and "
                f"{yaw_error:.1f} deg from the target in {self.time - start:.1f} s")

    def close(self) -> None:
        self.node.destroy_node()
        self.rclpy.try_shutdown()


def true_target(target: tuple[float, float, float], estimated_start: tuple[float, float, float],
                true_start: tuple[float, float, float]) -> tuple[float, float, float]:
    """Where a `walk_to` target given in `odom` truly is: the target's pose relative to the estimated start pose,
    placed at the true start pose. Poses are (x [m], y [m], yaw [rad])."""
    (x, y, yaw), (ex, ey, eyaw), (tx, ty, tyaw) = target, estimated_start, true_start
    c, s = math.cos(eyaw), math.sin(eyaw)
    local_x, local_y = c * (x - ex) + s * (y - ey), -s * (x - ex) + c * (y - ey)
    c, s = math.cos(tyaw), math.sin(tyaw)
    return tx + c * local_x - s * local_y, ty + s * local_x + c * local_y, tyaw + (yaw - eyaw)


def perception_errors(perceived, truth) -> list[dict]:
    """Each perceived part with the distance to the nearest true part of the same label [m] (None: no such part)."""
    if perceived is None:
        return []
    rows = []
    for seen in perceived.objects:
        p = seen.pose.position
        distances = [math.dist((p.x, p.y, p.z), (t.pose.position.x, t.pose.position.y, t.pose.position.z))
                     for t in (truth.objects if truth else []) if t.label == seen.label]
        rows.append({"id": seen.id, "label": seen.label,
                     "error": round(min(distances), 4) if distances else None})
    return rows


def parts_found(perceived, truth) -> int:
    """True parts with a perceived part of their label within PERCEPTION_TOLERANCE."""
    if perceived is None or truth is None:
        return 0
    found = 0
    for part in truth.objects:
        t = part.pose.position
        if any(seen.label == part.label and math.dist((t.x, t.y, t.z), (seen.pose.position.x, seen.pose.position.y,
                                                                          seen.pose.position.z)) < PERCEPTION_TOLERANCE
               for seen in perceived.objects):
            found += 1
    return found


def run_shift(report: JobReport, options: argparse.Namespace, launched: LaunchedNodes) -> None:
    shift = Shift(report, launched, options.timeout)
    wall_start = time.monotonic()
    try:
        ok = shift.phase("stand", lambda: shift.stand(options.stand))
        ok = ok and shift.phase("inspect", shift.inspect)
        if ok and options.walk > 0:
            start = shift.start_pose()
            (x, y, yaw) = start[0]
            back = (x - options.walk * math.cos(yaw), y - options.walk * math.sin(yaw), yaw)
            ok = shift.phase("walk back", lambda: shift.walk(*back, start))
            ok = ok and shift.phase("walk to start", lambda: shift.walk(x, y, yaw, start))
        ok and shift.phase("settle", lambda: shift.wait_sim(1.0, "settle"))
    finally:
        report.wall_duration = time.monotonic() - (shift.start_wall if math.isfinite(shift.start_wall) else wall_start)
        report.sim_duration = max(0.0, shift.time - shift.start_time) if shift.start_time >= 0 else 0.0
        report.real_time_factor = report.sim_duration / report.wall_duration if report.wall_duration else 0.0
        report.messages = dict(sorted(shift.counts.items()))
        if report.sim_duration > 0:
            report.rates = {k: round(v / report.sim_duration, 1) for k, v in report.messages.items()}
        shift.close()
    walks_ok = all(w.get("success") and w.get("position_error", 1.0) < WALK_TOLERANCE for w in report.walks)
    report.success = (not report.errors and not report.fell and report.parts_found == report.objects_in_scene > 0
                      and walks_ok)


def render_markdown(report: JobReport) -> str:
    lines = [
        f"# Legion job report: {report.robot} in scene {report.scene}",
        "",
        f"Result: **{'success' if report.success else 'FAILED'}**. Simulated {report.sim_duration:.2f} s in "
        f"{report.wall_duration:.1f} s of wall time (real-time factor {report.real_time_factor:.2f}, lockstep).",
        "",
        "| phase | sim time [s] | result |",
        "|---|---|---|",
        *(f"| {p['name']} | {p['start']:.2f} - {p['end']:.2f} | {p['result']} |" for p in report.phases),
        "",
        f"- balance: {'FELL' if report.fell else 'stayed up'}; largest base tilt {report.max_tilt_deg:.2f} deg; "
        f"drift while standing {report.stand_drift_xy * 100:.2f} cm",
        f"- perception: {report.parts_found} of {report.objects_in_scene} parts found within "
        f"{PERCEPTION_TOLERANCE * 100:.0f} cm; reported: "
        + (", ".join(f"{r['id']} ({r['label']}, " + (f"{r['error'] * 1000:.1f} mm)" if r["error"] is not None
                                                       else "no such part)") for r in report.perceived) or "none"),
        "- walking: " + ("; ".join(f"to ({w['target'][0]:.2f}, {w['target'][1]:.2f}): "
                                   + (f"{w['message'] or 'arrived'}, {w['position_error'] * 100:.1f} cm / "
                                      f"{w['yaw_error_deg']:.1f} deg off in {w['duration']:.1f} s"
                                      if "position_error" in w else w["message"]) for w in report.walks)
                         or "not done"),
        f"- state estimator: largest base position error {report.estimator_max_error * 100:.2f} cm"
        if report.estimator_max_error >= 0 else "- state estimator: no `odom` received",
        f"- hardware status at the end: {report.hardware_status or 'none received'}",
        "",
        "| topic | messages | rate [1/sim s] |",
        "|---|---:|---:|",
        *(f"| `{t}` | {n} | {report.rates.get(t, 0.0):.1f} |" for t, n in report.messages.items()),
    ]
    if report.errors:
        lines += ["", "Errors:", *(f"- {e}" for e in report.errors)]
    return "\n".join(lines) + "\n"


def run(options: argparse.Namespace) -> int:
    report = JobReport(scene=options.scene, robot=options.robot)
    print(f"[legion job] starting the stack: robot {options.robot}, scene {options.scene}, headless, lockstep",
          flush=True)
    try:
        with LaunchedNodes("stack", {"robot": options.robot, "scene": options.scene, "headless": "true",
                                     "lockstep": "true"}, echo=True) as launched:
            run_shift(report, options, launched)
    except LaunchError as error:
        report.errors.append(str(error))
    folder = Path(options.reports)
    folder.mkdir(parents=True, exist_ok=True)
    name = datetime.now(UTC).strftime("job-%Y%m%d-%H%M%S")
    markdown = render_markdown(report)
    (folder / f"{name}.md").write_text(markdown)
    (folder / f"{name}.json").write_text(json.dumps(asdict(report), indent=2) + "\n")
    print(markdown, flush=True)
    print(f"[legion job] report written to {folder / name}.md and .json", flush=True)
    return 0 if report.success else 1
