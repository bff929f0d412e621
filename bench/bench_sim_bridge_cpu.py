"""CPU cost of the simulated hardware alone: `sim_bridge` in lockstep in the sorting cell, camera at 10 Hz, answered by
a probe (a position hold on every joint_states, as tests/test_sim_bridge.py does) and with `--clock-subscribers`
extra processes subscribed to `clock` (as the stack's nodes with use_sim_time are). Prints sim_bridge's CPU seconds
(utime + stime of its process, every thread) per simulated second over `--seconds` of simulated time, after 1 s to
settle; `--repeats` runs, one after the other (the machine is shared: compare the best and the median).

Run: `. scripts/env.sh && python bench/bench_sim_bridge_cpu.py [--seconds 5] [--repeats 3]`
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

from diagnostic_msgs.msg import DiagnosticArray

from legion_bringup.launcher import LaunchedNodes
from legion_common.diagnostics import diagnostic_values
from legion_description import load_robot_config
from legion_testing.probe import Probe

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from bench_stack import cpu_seconds

CLOCK_SUBSCRIBER = """
import rclpy
from rclpy.node import Node
from rclpy.qos import QoSProfile
from rosgraph_msgs.msg import Clock
rclpy.init()
node = Node("clock_subscriber")
node.create_subscription(Clock, "/clock", lambda msg: None, QoSProfile(depth=1))
try:
    rclpy.spin(node)
except Exception:
    pass
"""


def timeouts(probe: Probe) -> int:
    """lockstep_timeouts of the newest hardware/status (0 before the first)."""
    messages = probe.received("hardware/status")
    return int(diagnostic_values(messages[-1]).get("lockstep_timeouts", 0)) if messages else 0


def run_once(seconds: float, clock_subscribers: int, camera_rate: float) -> tuple[float, float, int]:
    """(sim_bridge CPU s per simulated s, real-time factor, lockstep timeouts in the interval)."""
    config = load_robot_config("centurion")
    names = list(config.all_joints)
    subscribers = [subprocess.Popen([sys.executable, "-c", CLOCK_SUBSCRIBER]) for _ in range(clock_subscribers)]
    launched = LaunchedNodes("sim", {"scene": "sorting_cell", "lockstep": "true"}, echo=False,
                             extra_parameters={"sim_bridge": {"camera_rate": camera_rate}})
    probe = Probe("bench_sim_bridge_cpu")
    try:
        probe.record("hardware/status", DiagnosticArray)
        probe.answer_lockstep(names, [config.standing[n] for n in names], [config.gains[n].stiffness for n in names],
                              [config.gains[n].damping for n in names])
        probe.wait_sim_time(1.0, 120.0)
        pid = launched.processes["sim_bridge"].pid
        cpu_start, sim_start, wall_start = cpu_seconds(pid), probe.latest_time("joint_states"), time.monotonic()
        timeouts_start = timeouts(probe)
        probe.wait_sim_time(seconds, 600.0)
        cpu_end, sim_end, wall_end = cpu_seconds(pid), probe.latest_time("joint_states"), time.monotonic()
        probe.wait_sim_time(0.6, 60.0)  # the next hardware/status (2 Hz) counts the interval's timeouts
        timeouts_end = timeouts(probe)
    finally:
        probe.close()
        launched.shutdown()
        for process in subscribers:
            process.terminate()
        for process in subscribers:
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    simulated = sim_end - sim_start
    return (cpu_end - cpu_start) / simulated, simulated / (wall_end - wall_start), timeouts_end - timeouts_start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="simulated seconds measured per run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--clock-subscribers", type=int, default=3, help="extra processes subscribed to clock")
    parser.add_argument("--camera-rate", type=float, default=10.0)
    args = parser.parse_args()
    results = []
    for _ in range(args.repeats):
        cpu, factor, lockstep_timeouts = run_once(args.seconds, args.clock_subscribers, args.camera_rate)
        results.append(cpu)
        print(f"sim_bridge {cpu:.3f} CPU s per simulated s (real-time factor {factor:.3f}, lockstep timeouts "
              f"{lockstep_timeouts})", flush=True)
    print(f"best {min(results):.3f}, median {statistics.median(results):.3f} over {len(results)} runs")


if __name__ == "__main__":
    main()
