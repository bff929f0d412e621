"""What recording costs: the whole stack over DDS in lockstep (sorting cell, standing, head camera at 10 Hz) with
`legion record` (default topic set, a separate process, as an operator runs it). Prints:

- MB per minute of simulated time of the default topic set: the bag on disk (zstd chunks) and the message payload;
- the largest topics by payload;
- the recorder's CPU seconds per simulated second (utime + stime of its process over a steady interval, from
  /proc/<pid>/stat, as bench/bench_stack.py measures each node), next to the stack's own total;
- messages the recorder received against what it wrote.

Run: `. scripts/env.sh && python bench/bench_record.py --seconds 20`
"""

from __future__ import annotations

import argparse
import math
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from diagnostic_msgs.msg import DiagnosticArray
from nav_msgs.msg import Odometry

from legion_bringup.launcher import LaunchedNodes
from legion_common.diagnostics import diagnostic_values
from legion_common.stamps import header_seconds
from legion_recording.bag import mcap_file, read_info, read_messages
from legion_testing.probe import Probe

CLOCK_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime [s] of a process (its threads included), from /proc/<pid>/stat; NaN once it has exited."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return math.nan
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICK


def sim_time(probe: Probe) -> float:
    messages = probe.received("ground_truth/odom")
    return header_seconds(messages[-1]) if messages else -1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20.0, help="simulated seconds measured (default 20)")
    parser.add_argument("--settle", type=float, default=2.0,
                        help="simulated seconds after the recorder starts before the interval (subscriptions match)")
    parser.add_argument("--scene", default="sorting_cell")
    parser.add_argument("--timeout", type=float, default=1800.0, help="wall-clock limit of each wait [s]")
    options = parser.parse_args()
    os.environ["ROS_DOMAIN_ID"] = os.environ.get("LEGION_BENCH_DOMAIN_ID", str(random.SystemRandom().randint(100, 200)))
    print(f"ROS_DOMAIN_ID={os.environ['ROS_DOMAIN_ID']}", flush=True)
    bag = Path(tempfile.mkdtemp(prefix="legion_bench_record_")) / "bag"
    arguments = {"scene": options.scene, "lockstep": "true"}
    with LaunchedNodes("stack", arguments, echo=False, extra_parameters={"sim_bridge": {"camera_rate": 10.0}}) as stack:
        probe = Probe("bench_record_probe")
        recorder = None
        try:
            probe.record("ground_truth/odom", Odometry)
            probe.record("hardware/status", DiagnosticArray)
            probe.wait_until(lambda: any(float(diagnostic_values(m).get("commands_accepted", "0")) > 0
                                         for m in probe.received("hardware/status")), options.timeout,
                             "the controller's first commands")
            probe.wait_sim_time(1.0, options.timeout, topic="ground_truth/odom")
            recorder = subprocess.Popen([sys.executable, "-m", "legion_bringup.cli", "record", "--purpose",
                                         "bench/bench_record.py", "-o", str(bag)],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            # The recorder's discovery (a late DDS joiner: seconds of wall time), then a settling interval.
            probe.wait_until(lambda: (bag / f"{bag.name}_0.mcap").exists(), options.timeout, "the recorder's bag")
            probe.wait_sim_time(options.settle, options.timeout, topic="ground_truth/odom")
            pids = {name: process.pid for name, process in stack.processes.items()}
            stack_start = {name: cpu_seconds(pid) for name, pid in pids.items()}
            cpu_start, sim_start, wall_start = cpu_seconds(recorder.pid), sim_time(probe), time.monotonic()
            probe.wait_sim_time(options.seconds, options.timeout, topic="ground_truth/odom")
            cpu_end, sim_end, wall_end = cpu_seconds(recorder.pid), sim_time(probe), time.monotonic()
            stack_end = {name: cpu_seconds(pid) for name, pid in pids.items()}
            recorder.send_signal(signal.SIGINT)
            stdout, stderr = recorder.communicate(timeout=120)
        finally:
            if recorder is not None and recorder.poll() is None:
                recorder.kill()
            probe.close()
    if recorder.returncode != 0:
        raise SystemExit(f"legion record failed ({recorder.returncode}):\n{stdout}\n{stderr}")
    simulated = sim_end - sim_start
    info = read_info(bag)
    span = (info.end_ns - info.start_ns) * 1e-9
    size = mcap_file(bag).stat().st_size
    payload: dict[str, int] = defaultdict(int)
    counts: dict[str, int] = defaultdict(int)
    for message in read_messages(bag):
        payload[message.topic] += len(message.data)
        counts[message.topic] += 1
    total_payload = sum(payload.values())
    stack_cpu = sum((stack_end[n] - stack_start[n]) for n in pids if math.isfinite(stack_end[n] - stack_start[n]))
    print(f"\n=== legion record, default topic set, full stack over DDS in lockstep, {options.scene}, camera 10 Hz ===")
    print(stdout.strip())
    print(f"bag: {span:.2f} s simulated recorded, {len(payload)} topics, {sum(counts.values())} messages")
    print(f"size: {size / 1e6:.2f} MB on disk (zstd chunks) = {size / 1e6 / span * 60:.1f} MB per simulated minute; "
          f"message payload {total_payload / 1e6 / span * 60:.1f} MB per simulated minute")
    print("largest topics (payload MB per simulated minute, messages per simulated second):")
    for topic in sorted(payload, key=payload.get, reverse=True)[:8]:
        print(f"  {topic:40s} {payload[topic] / 1e6 / span * 60:7.2f} MB/min  {counts[topic] / span:7.1f} msg/s")
    print(f"CPU over {simulated:.2f} s simulated ({wall_end - wall_start:.1f} s wall, real-time factor "
          f"{simulated / (wall_end - wall_start):.3f}): recorder {(cpu_end - cpu_start) / simulated:.3f} CPU s per "
          f"simulated s; the stack's nodes together {stack_cpu / simulated:.3f}")
    print(f"load average now {os.getloadavg()[0]:.2f} (the machine is shared: timings are upper bounds)")
    print(f"bag kept at {bag}")


if __name__ == "__main__":
    main()
