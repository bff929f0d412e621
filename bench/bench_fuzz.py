"""Fuzz the whole stack over DDS, in lockstep: every topic and service every node subscribes to or offers (found
from the live graph), N malformed messages or calls each (default 10,000), with the robot standing in the empty
scene (camera off). Prints per target: messages sent, service calls answered, rejections reported on `diagnostics` /
`hardware/status`, whether the robot fell, which nodes died; then the totals: crashes (must be 0), falls (must be 0).

Run: `. scripts/env.sh && python bench/bench_fuzz.py --count 10000 --seed 0` (every target: about an hour)
     `python bench/bench_fuzz.py --count 10000 --only joint_commands --only cmd_vel` (some targets)
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from legion_testing.fuzz_stack import StackUnderTest, run_campaign


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=10_000, help="messages or calls per topic or service")
    parser.add_argument("--seed", type=int, default=0, help="seed of the message generator")
    parser.add_argument("--sensor-noise", default="true", choices=("true", "false"))
    parser.add_argument("--only", action="append", default=[],
                        help="fuzz only the topics and services whose name contains this (repeatable)")
    options = parser.parse_args()
    os.environ.setdefault("MUJOCO_GL", "egl")
    start = time.monotonic()
    stack = StackUnderTest(arguments={"sensor_noise": options.sensor_noise})
    try:
        report = run_campaign(stack, options.count, options.seed, only=tuple(options.only))
    finally:
        stack.close()
    sent = sum(t.outcome.sent for t in report.targets)
    print(f"\nnodes: {', '.join(report.node_names)}")
    print(f"targets fuzzed: {len(report.targets)}; messages and calls sent: {sent}; "
          f"wall time {time.monotonic() - start:.0f} s (lockstep, full stack over DDS)")
    print(f"rejections reported: {report.rejections}")
    for key, value in sorted(report.counters.items()):
        print(f"    {key} = {value}")
    print(f"crashes: {len(report.crashes)} {report.crashes}")
    print(f"nodes missing from the graph at the end: {report.missing_from_graph}")
    print(f"falls: {report.falls}; upright at the end: {report.upright_at_end}")
    return 0 if not report.crashes and report.falls == 0 and report.upright_at_end else 1


if __name__ == "__main__":
    sys.exit(main())
