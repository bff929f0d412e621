"""The node-kill matrix over the whole stack (DDS, lockstep with a 0.1 s wall bound per tick, so that a dead
controller does not stall simulated time for long): each process of `legion launch stack` killed with SIGKILL in turn,
while the robot stands and while it walks at 0.2 m/s (cmd_vel), kept dead for 2 s of simulated time, then started
again with the launch's own command. Prints per kill: did the robot stay up (ground truth, judge only), did the
supervisor report the process's nodes dead, did supervisor/pause go true, the hardware's stop reason, were the nodes
taken back after the restart, and did work resume (standing balanced / walking again).

Run: `. scripts/env.sh && python bench/bench_node_kill.py` (about 15-25 minutes)
     `python bench/bench_node_kill.py --process perception --while walking`
"""

from __future__ import annotations

import argparse
import os
import sys

from legion_testing.fuzz_stack import StackUnderTest
from legion_testing.node_kill import KillBench, format_matrix

PROCESSES = ("perception", "gait_planner", "manipulation", "executive", "safety", "link_state_publisher",
             "whole_body_control", "supervisor",
             "sim_bridge")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--process", action="append", choices=PROCESSES, help="processes to kill (default: all)")
    parser.add_argument("--while", dest="conditions", action="append", choices=("standing", "walking"),
                        help="conditions (default: both)")
    parser.add_argument("--after", type=float, default=3.0,
                        help="[s] of simulated time watched after the restart (a restarted safety node holds the "
                             "robot for its zones.resume_time first)")
    options = parser.parse_args()
    os.environ.setdefault("MUJOCO_GL", "egl")
    stack = StackUnderTest(extra_parameters={"sim_bridge": {"camera_rate": 0.0, "lockstep_timeout": 0.1}})
    rows = []
    try:
        bench = KillBench(stack)
        stack.wait_standing()
        for process in options.process or PROCESSES:
            for condition in options.conditions or ("standing", "walking"):
                if not stack.upright():
                    try:
                        stack.recover()
                    except AssertionError as error:  # report what was measured so far
                        print(f"could not recover the robot after the last kill: {error}", flush=True)
                        break
                row = bench.kill(process, condition == "walking", after=options.after)
                rows.append(row)
                print(format_matrix([row]).splitlines()[-1], flush=True)
            else:
                continue
            break
    finally:
        stack.close()
    print("\n" + format_matrix(rows))
    return 0 if all(r.stayed_up for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
