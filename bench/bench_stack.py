"""The whole stack over DDS, standing (and optionally walking) in the sorting cell with the head camera on at 10 Hz,
in lockstep and / or real-time mode. Prints, per mode, for the measured interval (after start-up):

- CPU seconds per simulated second of each launched node (utime + stime of its process, /proc/<pid>/stat);
- the tick-to-command latency (median / p99 / max: since the controller's first answer, and over the bridge's last
  window) and the ticks answered on time / late / missed and watchdog trips, from `hardware/status`;
- the real-time factor (simulated seconds per wall second);
- base drift while standing, distance walked and falls, from the simulator's ground truth (for judging only);
- the load average before and after (the machine is shared: timings are upper bounds).

Run: `. scripts/env.sh && python bench/bench_stack.py --mode lockstep --seconds 5`
     `python bench/bench_stack.py --mode both --seconds 10 --walk 0.3 --distance 1`
One stack at a time: the modes run one after the other.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import time
from dataclasses import dataclass, field

import yaml
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import Twist
from nav_msgs.msg import Odometry
from sensor_msgs.msg import JointState

from legion_bringup.job import FALL_TILT_DEG
from legion_bringup.launcher import LaunchedNodes
from legion_common.diagnostics import diagnostic_values
from legion_common.messages import xyzw
from legion_common.stamps import header_seconds
from legion_common.transforms import tilt_from_quaternion, yaw_from_quaternion
from legion_description import load_robot_config
from legion_interfaces.msg import DetectedObjectArray
from legion_testing.probe import Probe

LAUNCH_ARGUMENTS: dict[str, str] = {}
"""Extra launch arguments (`--launch composed:=false`)."""
NODE_PARAMETERS: dict[str, dict[str, object]] = {}
"""Extra node parameters (`--set sim_bridge:realtime.priority=80`)."""
CLOCK_TICK = os.sysconf("SC_CLK_TCK")
"""[1/s] the unit of utime and stime in /proc/<pid>/stat."""
FALL_HEIGHT = 0.6
"""[m] a base lower than this has fallen (as bench_walk_stack.py)."""
MAX_ACCELERATION = 0.5
"""[m/s^2] the gait planner's max_acceleration (config/stack.yaml): the walk lasts distance / speed plus the ramp."""


PERCEPTION_TOLERANCE = 0.02
"""Largest position error of a perceived part that counts as found [m] (ground truth judges)."""


def perception_errors(perceived, truth) -> list[dict]:
    """Each perceived part with the distance to the nearest true part of the same label [m] (None: no such part)."""
    if perceived is None:
        return []
    rows = []
    for seen in perceived.objects:
        p = seen.pose.position
        distances = [math.dist((p.x, p.y, p.z), (t.pose.position.x, t.pose.position.y, t.pose.position.z))
                     for t in (truth.objects if truth else []) if t.label == seen.label]
        rows.append({"id": seen.id, "label": seen.label, "error": round(min(distances), 4) if distances else None})
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


def cpu_seconds(pid: int) -> float:
    """utime + stime [s] of a process (its threads included), from /proc/<pid>/stat; NaN once it has exited."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return math.nan
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICK  # fields 14 and 15 of stat(5), after pid and comm


@dataclass
class Watch:
    """Ground truth and hardware status as they arrive (probe thread)."""

    fell_at: float = math.nan
    max_tilt_deg: float = 0.0
    statuses: list = field(default_factory=list)

    def on_truth(self, msg: Odometry) -> None:
        pose = msg.pose.pose
        tilt = math.degrees(tilt_from_quaternion(xyzw(pose.orientation)))
        self.max_tilt_deg = max(self.max_tilt_deg, tilt)
        if math.isnan(self.fell_at) and (tilt > FALL_TILT_DEG or pose.position.z < FALL_HEIGHT):
            self.fell_at = header_seconds(msg)

    def on_status(self, msg: DiagnosticArray) -> None:
        self.statuses.append((header_seconds(msg), diagnostic_values(msg)))


def latest_truth(probe: Probe) -> Odometry:
    return probe.received("ground_truth/odom")[-1]


def sim_time(probe: Probe) -> float:
    messages = probe.received("ground_truth/odom")
    return header_seconds(messages[-1]) if messages else -1.0


def status_after(probe: Probe, watch: Watch, time_s: float, timeout: float) -> dict[str, str]:
    """The first hardware/status stamped at or after `time_s` [s simulated]."""
    probe.wait_until(lambda: bool(watch.statuses) and watch.statuses[-1][0] >= time_s, timeout,
                     f"hardware/status at {time_s:.2f} s")
    return next(values for stamp, values in watch.statuses if stamp >= time_s)


def number(values: dict[str, str], key: str) -> float:
    try:
        return float(values.get(key, "nan"))
    except ValueError:
        return math.nan


def run_mode(mode: str, options: argparse.Namespace) -> None:
    lockstep = mode == "lockstep"
    load_before = os.getloadavg()
    wall_launch = time.monotonic()
    sim_parameters = {"camera_rate": float(os.environ.get("LEGION_BENCH_CAMERA_RATE", "10")), "latency_window": 2.0}
    arguments = {"scene": options.scene, "lockstep": "true" if lockstep else "false"} | dict(LAUNCH_ARGUMENTS)
    extra: dict[str, dict[str, object]] = {"sim_bridge": sim_parameters}
    for node, values in NODE_PARAMETERS.items():
        extra[node] = extra.get(node, {}) | values
    with LaunchedNodes("stack", arguments, echo=False, extra_parameters=extra) as launched:
        probe = Probe(f"bench_stack_{mode}")
        watch = Watch()
        try:
            probe.record("ground_truth/odom", Odometry, callback=watch.on_truth)
            probe.record("hardware/status", DiagnosticArray, callback=watch.on_status)
            probe.record("perception/objects", DetectedObjectArray)
            probe.record("odom/decimated", Odometry)
            probe.record("ground_truth/objects", DetectedObjectArray)
            cmd_vel = probe.publisher(Twist, "cmd_vel")
            if options.inspect:  # the job's posture: the head looks down at the table
                posture = load_robot_config(arguments.get("robot", "centurion")).postures.get("inspect_table", {})
                posture_pub = probe.publisher(JointState, "posture/reference")
                probe.wait_until(lambda: posture_pub.get_subscription_count() > 0, options.timeout,
                                 "the controller on posture/reference")
                posture_pub.publish(JointState(name=list(posture), position=list(posture.values())))
            # Start-up: the controller answers (commands accepted), then 1 s of simulated time to settle.
            probe.wait_until(lambda: bool(watch.statuses) and number(watch.statuses[-1][1], "commands_accepted") > 0,
                             options.timeout, "the controller's first commands")
            probe.wait_sim_time(1.0, options.timeout, topic="ground_truth/odom")
            startup_wall = time.monotonic() - wall_launch
            pids = {name: process.pid for name, process in launched.processes.items()}
            cpu_start = {name: cpu_seconds(pid) for name, pid in pids.items()}
            wall_start, sim_start = time.monotonic(), sim_time(probe)
            status_start = status_after(probe, watch, sim_start, options.timeout)
            start = latest_truth(probe).pose.pose.position
            heading = yaw_from_quaternion(xyzw(latest_truth(probe).pose.pose.orientation))
            fell_before = not math.isnan(watch.fell_at)

            probe.wait_sim_time(options.seconds, options.timeout, topic="ground_truth/odom")
            stood = latest_truth(probe).pose.pose.position
            drift = math.hypot(stood.x - start.x, stood.y - start.y)
            walked = math.nan
            if options.walk > 0:
                walk_time = options.distance / options.walk + options.walk / MAX_ACCELERATION
                walk_end = sim_time(probe) + walk_time
                command = Twist()
                command.linear.x = options.walk
                while sim_time(probe) < walk_end and time.monotonic() - wall_start < options.timeout:
                    cmd_vel.publish(command)
                    time.sleep(0.05)
                cmd_vel.publish(Twist())
                probe.wait_sim_time(1.0, options.timeout, topic="ground_truth/odom")  # stop and settle
                end = latest_truth(probe).pose.pose.position
                walked = (end.x - stood.x) * math.cos(heading) + (end.y - stood.y) * math.sin(heading)  # forward

            perceived = probe.received("perception/objects")
            truth_objects = probe.received("ground_truth/objects")
            errors = [row["error"] for row in perception_errors(perceived[-1] if perceived else None,
                                                                 truth_objects[-1] if truth_objects else None)
                      if row["error"] is not None]
            found = parts_found(perceived[-1] if perceived else None, truth_objects[-1] if truth_objects else None)
            truth_at = {round(header_seconds(m), 4): m.pose.pose.position for m in probe.received("ground_truth/odom")}
            estimate_errors = [math.dist((e.x, e.y, e.z), (t.x, t.y, t.z))
                               for m in probe.received("odom/decimated")[-50:]
                               if (t := truth_at.get(round(header_seconds(m), 4))) is not None
                               for e in (m.pose.pose.position,)]
            cpu_end = {name: cpu_seconds(pid) for name, pid in pids.items()}
            wall_end, sim_end = time.monotonic(), sim_time(probe)
            status_end = status_after(probe, watch, sim_end, options.timeout)
        finally:
            probe.close()
    load_after = os.getloadavg()

    simulated, wall = sim_end - sim_start, wall_end - wall_start
    print(f"\n=== full stack over DDS, {mode}, {arguments['scene']}, camera {sim_parameters['camera_rate']:g} Hz: "
          f"{simulated:.2f} s simulated in "
          f"{wall:.1f} s wall (real-time factor {simulated / wall:.3f}); start-up {startup_wall:.0f} s wall; "
          f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after ===")
    print("CPU seconds per simulated second (utime + stime of each node's process):")
    total = 0.0
    for name in pids:
        used = (cpu_end[name] - cpu_start[name]) / simulated
        total += used if math.isfinite(used) else 0.0
        print(f"  {name:24s} {used:7.3f}")
    print(f"  {'total':24s} {total:7.3f}")

    def delta(key: str) -> str:
        change = number(status_end, key) - number(status_start, key)
        return f"{change:.0f}" if math.isfinite(change) else f"? ({key} missing)"
    print(f"control ticks in the interval: {delta('tick_latency.total.ticks')}: on time "
          f"{delta('tick_latency.total.on_time')}, late {delta('tick_latency.total.late')}, missed "
          f"{delta('tick_latency.total.missed')}; watchdog trips {delta('watchdog_trips')}; lockstep timeouts "
          f"{delta('lockstep_timeouts')}")
    for scope in ("total", "window"):
        label = "since the first command" if scope == "total" else "last 2 s simulated"
        print(f"tick-to-command latency {label}: median {number(status_end, f'tick_latency.{scope}.median_ms'):.2f}"
              f" ms, p99 {number(status_end, f'tick_latency.{scope}.p99_ms'):.2f} ms, max "
              f"{number(status_end, f'tick_latency.{scope}.max_ms'):.2f} ms over "
              f"{int(number(status_end, f'tick_latency.{scope}.ticks'))} ticks (on time "
              f"{int(number(status_end, f'tick_latency.{scope}.on_time'))}, late "
              f"{int(number(status_end, f'tick_latency.{scope}.late'))}, missed "
              f"{int(number(status_end, f'tick_latency.{scope}.missed'))})")
    if options.inspect:
        print(f"perception (newest perception/objects against ground truth, judging only): {found} parts found "
              f"within 2 cm; error of the {len(errors)} reported parts: median "
              + (f"{1000 * statistics.median(errors):.1f} mm, max {1000 * max(errors):.1f} mm" if errors
                 else "- (none reported)"))
    if estimate_errors:
        print(f"state estimator (odom/decimated against ground truth at the same stamps, last second): base position "
              f"error median {1000 * statistics.median(estimate_errors):.1f} mm")
    print(f"ground truth (judging only): base drift standing {drift * 100:.2f} cm over {options.seconds:.1f} s"
          + (f"; walked {walked:.2f} m forward of {options.distance:.2f} m at {options.walk:.2f} m/s"
             if options.walk > 0 else "")
          + f"; largest tilt {watch.max_tilt_deg:.1f} deg; fell: "
          + (f"yes, at {watch.fell_at:.2f} s simulated" + (" (before the interval)" if fell_before else "")
             if math.isfinite(watch.fell_at) else "no"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=("lockstep", "realtime", "both"), default="both")
    parser.add_argument("--seconds", type=float, default=10.0, help="simulated seconds standing (default 10)")
    parser.add_argument("--scene", default="sorting_cell",
                        help="scene (default sorting_cell, whose table is 0.35 m ahead: walk in `empty`)")
    parser.add_argument("--inspect", action="store_true",
                        help="stand in the job's inspect_table posture (head down at the table) and print "
                             "perception's part errors")
    parser.add_argument("--walk", type=float, default=0.0, help="then walk forward at this speed [m/s] (0: no walk)")
    parser.add_argument("--distance", type=float, default=1.0, help="distance to walk [m] (default 1)")
    parser.add_argument("--timeout", type=float, default=1800.0, help="wall-clock limit of each wait [s]")
    parser.add_argument("--launch", nargs="*", default=[], metavar="NAME:=VALUE",
                        help="extra launch arguments, e.g. composed:=false")
    parser.add_argument("--set", nargs="*", default=[], metavar="NODE:NAME=VALUE",
                        help="extra node parameters (YAML values), e.g. sim_bridge:realtime.priority=80 "
                             "whole_body_controller:realtime.cpus=[1]")
    options = parser.parse_args()
    LAUNCH_ARGUMENTS.update(word.split(":=", 1) for word in options.launch)
    for word in options.set:
        node, _, assignment = word.partition(":")
        name, _, value = assignment.partition("=")
        if not (node and name and value):
            parser.error(f"--set takes NODE:NAME=VALUE, got {word!r}")
        NODE_PARAMETERS.setdefault(node, {})[name] = yaml.safe_load(value)
    # A ROS domain of its own: never hear, or be heard by, another stack on this machine (LEGION_BENCH_DOMAIN_ID).
    os.environ["ROS_DOMAIN_ID"] = os.environ.get("LEGION_BENCH_DOMAIN_ID", str(random.SystemRandom().randint(100, 200)))
    print(f"ROS_DOMAIN_ID={os.environ['ROS_DOMAIN_ID']}", flush=True)
    if options.seconds <= 0 or options.walk < 0 or options.distance <= 0:
        parser.error("--seconds and --distance must be > 0, --walk >= 0")
    for mode in ("lockstep", "realtime") if options.mode == "both" else (options.mode,):
        run_mode(mode, options)


if __name__ == "__main__":
    main()
