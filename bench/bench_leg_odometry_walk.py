#!/usr/bin/env python3
"""The leg odometry's error against ground truth while the robot sidesteps walk_to goals, and what the planner makes
of it.

    python bench/bench_leg_odometry_walk.py                   # the stack's contact_settle_time
    python bench/bench_leg_odometry_walk.py --settle 0        # new contacts count at once (before the fix)

In-process closed loop (legion_testing.walking_loop, lockstep, the robot's sensor errors), scene `sorting_cell`,
walk_to goals stepping omnidirectionally (goal_approach_distance 2 m): 0.72 m left, back, 0.72 m right, back. Printed:
the base velocity error of the estimate in odom (RMS and max per axis) over all control cycles and over the first
30 ms after a touch-down (up to a second before a fall), the largest horizontal position error, the planner's
measured DCM error (p95), its re-anchorings and capture-point step adjustments, and each goal's outcome by ground truth.
"""

from __future__ import annotations

import argparse
import math

import numpy as np

from legion_common.transforms import quaternion_from_yaw, quaternion_to_matrix, wrap_angle
from legion_estimation.leg_odometry import LegOdometry, LegOdometryParameters
from legion_testing.walking_loop import WalkingLoop, gait_parameters_from_stack, stack_parameters

TOUCH_DOWN_WINDOW = 0.03
"""[s] after a sole's contact begins: the window whose errors are reported apart."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--settle", type=float, default=None,
                        help="contact_settle_time [s] (default: config/stack.yaml's state_estimator block)")
    parser.add_argument("--scene", default="sorting_cell")
    args = parser.parse_args()
    known = {"contact_on", "contact_off", "contact_settle_time"}
    values = {k: v for k, v in stack_parameters("state_estimator").items() if k in known}
    if args.settle is not None:
        values["contact_settle_time"] = args.settle
    loop = WalkingLoop(params=gait_parameters_from_stack(goal_approach_distance=2.0), scene=args.scene, odometry="leg")
    closed = loop.loop
    closed._leg_odometry = LegOdometry(closed.robot, LegOdometryParameters(**values))
    odometry = closed._leg_odometry
    update = odometry.update
    samples = []  # (time, contacts, velocity error (3,), position error (3,))

    def measured_update(*measurements, **keywords):
        estimate = update(*measurements, **keywords)
        truth = closed.sim.ground_truth_base()
        velocity = quaternion_to_matrix(estimate.orientation) @ estimate.linear_velocity
        samples.append((closed.sim.time, estimate.contacts, velocity - truth.linear_velocity_world,
                        estimate.position - truth.position))
        return estimate

    odometry.update = measured_update
    loop.run(1.0)
    print(f"bench_leg_odometry_walk: scene {args.scene}, contact_settle_time {values['contact_settle_time']} s")
    for x, y in ((-0.10, 0.0), (-0.10, 0.72), (-0.10, 0.0), (-0.10, -0.72), (-0.10, 0.0)):
        loop.planner.set_goal(loop.time, "odom", np.array([x, y, 0.0]), quaternion_from_yaw(0.0))
        start = loop.time
        progress = loop.planner.progress
        while loop.time - start < 20.0 and not progress.done and loop.run(0.25):
            pass
        base = loop.base_pose()
        print(f"  goal ({x:+.2f}, {y:+.2f}): {'FELL' if loop.fallen() else progress.status.value:9s} "
              f"{math.hypot(base[0] - x, base[1] - y) * 100:5.1f} cm {math.degrees(abs(wrap_angle(base[2]))):4.1f} deg "
              f"{loop.time - start:5.1f} s")
        if loop.fallen():
            break
    times = np.array([s[0] for s in samples])
    velocity_errors = np.array([s[2] for s in samples])  # (n, 3)
    position_errors = np.array([s[3] for s in samples])
    began: dict[str, float] = {}
    after_touch_down = np.zeros(len(samples), dtype=bool)
    for i, (time, contacts, _, _) in enumerate(samples):
        for side in list(began):
            if side not in contacts:
                del began[side]
        for side in contacts:
            began.setdefault(side, time)
        after_touch_down[i] = i > 0 and any(time - t < TOUCH_DOWN_WINDOW for t in began.values())
    # After the first standing; before a fall, less its last second (a falling robot's feet do not stand).
    end = loop.time - 1.0 if loop.fallen() else math.inf
    keep = (times > 1.5) & (times < end)
    print("  base velocity error in odom [m/s]            RMS x, y, z            max x, y, z")
    for label, mask in (("every control cycle", keep), ("30 ms after a touch-down", keep & after_touch_down)):
        errors = velocity_errors[mask]
        rms, largest = np.sqrt(np.mean(errors ** 2, axis=0)), np.max(np.abs(errors), axis=0)
        print(f"    {label:28s} {rms[0]:7.4f} {rms[1]:7.4f} {rms[2]:7.4f}   {largest[0]:6.3f} {largest[1]:6.3f} "
              f"{largest[2]:6.3f}")
    largest = np.max(np.linalg.norm(position_errors[keep, :2], axis=1))
    note = " (before the fall)" if loop.fallen() else ""
    print(f"  largest horizontal position error: {largest * 100:.1f} cm{note}")
    events = [event for _, event in loop.record.events]
    print(f"  planner: measured DCM error p95 {np.percentile(loop.record.dcm_error, 95) * 100:.1f} cm, "
          f"{sum('re-anchored' in e for e in events)} re-anchorings, "
          f"{sum('capture-point' in e for e in events)} capture-point step adjustments")


if __name__ == "__main__":
    main()
