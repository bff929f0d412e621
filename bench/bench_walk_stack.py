"""Walk the whole stack over DDS (lockstep): `cmd_vel` forward for a distance, measured with the simulator's ground
truth. Prints distance, mean speed over the steady part, tracking error, lateral drift, falls, wall time.

Run: `. scripts/env.sh && python bench/bench_walk_stack.py [--speed 0.5] [--distance 20]`
"""

from __future__ import annotations

import argparse
import math
import time

from geometry_msgs.msg import Twist
from nav_msgs.msg import Odometry

from legion_bringup.launcher import LaunchedNodes
from legion_common.messages import xyzw
from legion_common.stamps import header_seconds
from legion_common.transforms import tilt_from_quaternion
from legion_testing.probe import Probe


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--speed", type=float, default=0.5, help="commanded forward speed [m/s]")
    parser.add_argument("--distance", type=float, default=20.0, help="distance to walk [m]")
    parser.add_argument("--timeout", type=float, default=3600.0, help="wall-clock limit [s]")
    options = parser.parse_args()
    wall_start = time.monotonic()
    with LaunchedNodes("stack", {"scene": "empty", "lockstep": "true"}, echo=False,
                       extra_parameters={"sim_bridge": {"camera_rate": 0.0},
                             # no camera, no people sensing: the safety node assumes nobody is near
                             "safety": {"zones.people_required": False}}) as launched:
        probe = Probe("bench_walk_stack")
        probe.record("ground_truth/odom", Odometry)
        cmd_vel = probe.publisher(Twist, "cmd_vel")
        try:
            probe.wait_sim_time(1.0, 300.0, topic="ground_truth/odom")
            start = probe.received("ground_truth/odom")[-1]
            x0, y0, t0 = start.pose.pose.position.x, start.pose.pose.position.y, header_seconds(start)
            fell, samples = False, []
            while time.monotonic() - wall_start < options.timeout:
                command = Twist()
                command.linear.x = options.speed
                cmd_vel.publish(command)
                time.sleep(0.05)
                latest = probe.received("ground_truth/odom")[-1]
                p, q = latest.pose.pose.position, latest.pose.pose.orientation
                samples.append((header_seconds(latest), p.x, p.y))
                tilt = math.degrees(tilt_from_quaternion(xyzw(q)))
                if tilt > 30.0 or p.z < 0.6:
                    fell = True
                    break
                if p.x - x0 >= options.distance or launched.exited_required():
                    break
            end_time, x1, y1 = samples[-1]
            steady = [s for s in samples if s[0] - t0 >= 3.0]
            speed = ((steady[-1][1] - steady[0][1]) / (steady[-1][0] - steady[0][0])
                     if len(steady) > 1 and steady[-1][0] > steady[0][0] else float("nan"))
            print(f"full stack, lockstep, cmd_vel {options.speed:.2f} m/s: walked {x1 - x0:.2f} m in "
                  f"{end_time - t0:.1f} s simulated; mean speed after 3 s {speed:.3f} m/s "
                  f"(tracking error {abs(speed - options.speed) / options.speed * 100:.1f} %); lateral drift "
                  f"{y1 - y0:+.3f} m; fell: {'yes' if fell else 'no'}; wall time {time.monotonic() - wall_start:.0f} s")
        finally:
            probe.close()


if __name__ == "__main__":
    main()
