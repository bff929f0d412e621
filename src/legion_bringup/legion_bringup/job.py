"""The main job: the Legion stack on the simulated Centurion in MuJoCo, headless, in lockstep, with a report.

`legion job` starts `legion launch stack headless:=true lockstep:=true`, watches the robot through its ROS topics for
`--duration` seconds of simulated time, and writes what happened to `reports/job-<time>.md` and `.json`.
Ground truth is read here only to report and judge the run, never to control the robot.
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


@dataclass
class JobReport:
    """What the job measured. Positions in `odom` [m], times [s]."""

    scene: str
    robot: str
    sim_duration: float = 0.0
    wall_duration: float = 0.0
    real_time_factor: float = 0.0
    messages: dict[str, int] = field(default_factory=dict)
    """Topic -> messages received."""
    rates: dict[str, float] = field(default_factory=dict)
    """Topic -> messages per simulated second."""
    base_start: list[float] = field(default_factory=list)
    base_end: list[float] = field(default_factory=list)
    base_drift_xy: float = 0.0
    base_height_change: float = 0.0
    max_tilt_deg: float = 0.0
    objects_seen: int = 0
    """Scene parts (ground truth)."""
    estimator_max_error: float = -1.0
    """Largest distance between the state estimator's `odom` and the true base position [m] (-1: no odom)."""
    perceived: list[dict] = field(default_factory=list)
    """Parts on `perception/objects` at the end: id, label, error [m] to the nearest true part of that label."""
    camera_nonempty: bool = False
    hardware_status: str = ""
    stood: bool = False
    errors: list[str] = field(default_factory=list)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--duration", type=float, default=10.0, help="simulated seconds to run (default 10)")
    parser.add_argument("--scene", default="sorting_cell", help="scene name or file (default sorting_cell)")
    parser.add_argument("--robot", default="centurion", help="robot name (default centurion)")
    parser.add_argument("--reports", default="reports", help="folder for the report files (default reports/)")
    parser.add_argument("--timeout", type=float, default=600.0, help="wall-clock limit [s] (default 600)")


def _tilt_deg(qx: float, qy: float, qz: float, qw: float) -> float:
    """Angle between the base z axis and the world z axis [deg]."""
    zz = 1.0 - 2.0 * (qx * qx + qy * qy)
    return math.degrees(math.acos(max(-1.0, min(1.0, zz))))


def observe(report: JobReport, duration: float, timeout: float, launched: LaunchedNodes) -> None:
    """Watch the stack's topics until `duration` of simulated time has passed; fill `report`."""
    import rclpy
    from diagnostic_msgs.msg import DiagnosticArray
    from nav_msgs.msg import Odometry
    from rclpy.parameter import Parameter
    from sensor_msgs.msg import Image, Imu, JointState

    from legion_interfaces.msg import DetectedObjectArray

    rclpy.init()
    node = rclpy.create_node("legion_job", parameter_overrides=[Parameter("use_sim_time", value=True)])
    counts: dict[str, int] = {}
    state: dict[str, object] = {"first": None, "last": None, "tilt": 0.0, "status": "", "objects": 0,
                                "camera": False, "t0": None, "t": 0.0, "estimates": {}, "estimator_error": -1.0,
                                "truth": None, "perceived": None}

    def count(topic: str):
        def callback(msg) -> None:
            counts[topic] = counts.get(topic, 0) + 1
            stamp = msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9
            if topic == "joint_states":
                state["t0"] = stamp if state["t0"] is None else state["t0"]
                state["t"] = stamp
            elif topic == "ground_truth/odom":
                p, q = msg.pose.pose.position, msg.pose.pose.orientation
                state["first"] = state["first"] or (p.x, p.y, p.z)
                state["last"] = (p.x, p.y, p.z)
                state["tilt"] = max(state["tilt"], _tilt_deg(q.x, q.y, q.z, q.w))
                estimate = state["estimates"].pop(round(stamp * 1e6), None)
                if estimate is not None:
                    state["estimator_error"] = max(state["estimator_error"], math.dist(estimate, (p.x, p.y, p.z)))
            elif topic == "odom":
                p = msg.pose.pose.position
                state["estimates"][round(stamp * 1e6)] = (p.x, p.y, p.z)
                if len(state["estimates"]) > 2000:  # keep the newest only
                    for key in sorted(state["estimates"])[:1000]:
                        del state["estimates"][key]
            elif topic == "ground_truth/objects":
                state["objects"] = len(msg.objects)
                state["truth"] = msg
            elif topic == "perception/objects":
                state["perceived"] = msg
            elif topic == "head_camera/color/image_raw":
                state["camera"] = state["camera"] or any(msg.data[:: max(1, len(msg.data) // 997)])
            elif topic == "hardware/status" and msg.status:
                state["status"] = msg.status[0].message
        return callback

    for topic, kind in (("joint_states", JointState), ("imu/data", Imu), ("ground_truth/odom", Odometry),
                        ("ground_truth/objects", DetectedObjectArray), ("head_camera/color/image_raw", Image),
                        ("head_camera/depth/image_raw", Image), ("hardware/status", DiagnosticArray),
                        ("odom", Odometry), ("perception/objects", DetectedObjectArray)):
        node.create_subscription(kind, topic, count(topic), 50)
    wall_start = time.monotonic()
    try:
        while time.monotonic() - wall_start < timeout:
            rclpy.spin_once(node, timeout_sec=0.05)
            if state["t0"] is not None and state["t"] - state["t0"] >= duration:
                break
            exited = launched.exited_required()
            if exited is not None:
                report.errors.append(f"node '{exited[0]}' exited with code {exited[1]}")
                break
        else:
            report.errors.append(f"timed out after {timeout:.0f} s of wall time")
    finally:
        node.destroy_node()
        rclpy.try_shutdown()

    report.wall_duration = time.monotonic() - wall_start
    report.sim_duration = (state["t"] - state["t0"]) if state["t0"] is not None else 0.0
    report.real_time_factor = report.sim_duration / report.wall_duration if report.wall_duration else 0.0
    report.messages = dict(sorted(counts.items()))
    if report.sim_duration > 0:
        report.rates = {k: round(v / report.sim_duration, 1) for k, v in report.messages.items()}
    if state["first"] and state["last"]:
        report.base_start, report.base_end = list(state["first"]), list(state["last"])
        report.base_drift_xy = math.dist(state["first"][:2], state["last"][:2])
        report.base_height_change = state["last"][2] - state["first"][2]
    report.max_tilt_deg = state["tilt"]
    report.objects_seen = state["objects"]
    report.estimator_max_error = state["estimator_error"]
    report.perceived = _perception_errors(state["perceived"], state["truth"])
    report.camera_nonempty = bool(state["camera"])
    report.hardware_status = state["status"]
    report.stood = (report.sim_duration >= 0.99 * duration and abs(report.base_height_change) < 0.05
                    and report.max_tilt_deg < 10.0)


def _perception_errors(perceived, truth) -> list[dict]:
    """Each perceived part with the distance to the nearest true part of the same label [m] (None: no such part)."""
    if perceived is None:
        return []
    rows = []
    for seen in perceived.objects:
        p = seen.pose.position
        distances = [math.dist((p.x, p.y, p.z), (t.pose.position.x, t.pose.position.y, t.pose.position.z))
                     for t in (truth.objects if truth else []) if t.label == seen.label]
        rows.append({"id": seen.id, "label": seen.label, "error": min(distances) if distances else None})
    return rows


def render_markdown(report: JobReport) -> str:
    lines = [
        f"# Legion job report: {report.robot} in scene {report.scene}",
        "",
        f"- simulated {report.sim_duration:.2f} s in {report.wall_duration:.1f} s of wall time "
        f"(real-time factor {report.real_time_factor:.2f}, lockstep)",
        f"- stood: {'yes' if report.stood else 'NO'}; base drift {report.base_drift_xy * 100:.2f} cm in xy, "
        f"height change {report.base_height_change * 100:+.2f} cm, largest tilt {report.max_tilt_deg:.2f} deg",
        f"- scene objects (ground truth): {report.objects_seen}; camera images non-empty: "
        f"{'yes' if report.camera_nonempty else 'no'}",
        f"- state estimator: largest base position error {report.estimator_max_error * 100:.2f} cm"
        if report.estimator_max_error >= 0 else "- state estimator: no `odom` received",
        f"- perception: {len(report.perceived)} parts reported"
        + "".join(f"; {row['id']} ({row['label']}) " + (f"{row['error'] * 1000:.1f} mm off" if row["error"] is not None
                                                      else "matches no true part") for row in report.perceived),
        f"- hardware status: {report.hardware_status or 'none received'}",
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
            observe(report, options.duration, options.timeout, launched)
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
    return 0 if report.stood and not report.errors else 1
