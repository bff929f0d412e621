#!/usr/bin/env python3
"""Figures of the safety chain: the robot's stopping time and distance, e-stop to hold, and a person walking at the
robot over the whole stack.

    python bench/bench_safety.py stopping [--speeds 0.25 0.5]   # T_s, S_s (in-process closed loop, ~2 min)
    python bench/bench_safety.py estop                           # e-stop to hold in control ticks (in-process)
    python bench/bench_safety.py approach                        # full stack over DDS, lockstep (~4 min)

stopping: the in-process closed loop (legion_testing.walking_loop: MuJoCo + whole-body controller core + gait planner
core, leg odometry over the robot's sensors with their errors as in the stack; lockstep by construction) walks at each
speed for 6 s; then the safety speed scale goes to 0 (what a protective stop does to the gait planner). T_s is the
time from that stop command to the last moment the ground-truth base speed is above 0.05 m/s; S_s the ground-truth
base travel over that time. These are the robot file's `safety:` stopping_time / stopping_distance (rounded up).

estop: the same loop, standing and walking at 0.5 m/s; category 0: the hardware's emergency stop latched at a
control tick; category 1 (the safety node's `safety/emergency_stop`): the speed scale set to 0, the hardware's stop
latched once the base has been still for 0.3 s (ground-truth speed here) or after 3 s. Counted in control ticks
(2 ms) from the request: until the hardware holds (its status says protective_stop) and until every joint is slower
than 0.1 rad/s; and whether the robot is still up 3 s later.

approach: the stack over DDS in lockstep on scene `safety_approach` (a person walks at 1.6 m/s towards the robot,
which walks towards them at 0.25 m/s by cmd_vel; the person stops, turns and walks away). From safety/state and
ground truth (judging only): the ground-truth distance robot-person when the speed scale first fell below 1, when
the protective stop began, when the robot's base came to rest, the smallest distance, the S_p reported; and when
motion resumed.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

WORKSPACE = Path(__file__).resolve().parents[1]
for package in ("legion_description", "legion_model", "legion_common", "legion_gait", "legion_control", "legion_sim",
                "legion_testing", "legion_estimation", "legion_bringup", "legion_safety"):
    try:
        __import__(package)
    except ImportError:
        sys.path.insert(0, str(WORKSPACE / "src" / package))

import numpy as np  # noqa: E402

REST_SPEED = 0.05
"""[m/s] ground-truth base speed below which the robot counts as stopped."""


def stopping(speed: float, walk: float = 6.0, after: float = 4.0) -> dict:
    """T_s and S_s from `speed` [m/s] (see the module docstring)."""
    from legion_testing.walking_loop import WalkingLoop

    loop = WalkingLoop(odometry="leg")
    loop.run(1.0)
    loop.command(speed, 0.0, 0.0)
    if not loop.run(walk):
        return {"speed": speed, "fell": True}
    start = len(loop.record.time)
    t0, p0 = loop.time, loop.base_pose()[:2]
    loop.planner.set_speed_scale(0.0)  # the protective stop; cmd_vel keeps coming
    up = loop.run(after)
    times = np.array(loop.record.time[start:])
    speeds = np.array([np.hypot(*v[:2]) for v in loop.record.base_velocity[start:]])
    moving = np.nonzero(speeds > REST_SPEED)[0]
    rest = times[moving[-1] + 1] if len(moving) and moving[-1] + 1 < len(times) else times[0]
    index = int(np.searchsorted(times, rest))
    p1 = loop.record.base[start + min(index, len(times) - 1)][:2]
    return {"speed": speed, "fell": not up, "stopping_time": float(rest - t0),
            "stopping_distance": float(np.hypot(*(p1 - p0))), "standing": loop.last_output.phase.value}


def estop(speed: float, category: int = 0) -> dict:
    """Control ticks from the e-stop request to the hardware's hold (see the module docstring). Category 0: the
    hardware's emergency_stop at once; category 1: the safety node's way (`safety/emergency_stop`): speed scale 0 to
    the gait planner, `legion_safety.zones.ControlledStop` on the base speed (ground truth here), then the hold."""
    from legion_safety.zones import ControlledStop, ControlledStopParameters
    from legion_testing.walking_loop import WalkingLoop

    loop = WalkingLoop(odometry="leg")
    loop.run(1.0)
    if speed > 0.0:
        loop.command(speed, 0.0, 0.0)
        loop.run(5.0)
    sim = loop.loop.sim
    requested = 0
    if category == 1:
        controlled = ControlledStop(ControlledStopParameters())
        controlled.start(loop.time)
        loop.planner.set_speed_scale(0.0)
        while not controlled.update(loop.time, float(np.hypot(*sim.ground_truth_base().linear_velocity_world[:2]))):
            loop.run(loop.loop.period)
            requested += 1
    sim.set_emergency_stop(True)  # from here the hardware ignores every command: the simulator steps alone
    steps, ticks, held_at, still_at = loop.loop.steps_per_cycle, 0, None, None
    ticks = requested
    while ticks < requested + 1500:
        sim.step(steps)
        ticks += 1
        if held_at is None and sim.status()["protective_stop"]:
            held_at = ticks
        if still_at is None and np.max(np.abs(sim.joint_state().velocity)) < 0.1:
            still_at = ticks
        if held_at is not None and still_at is not None:
            break
    sim.step(steps * round(3.0 / loop.loop.period))
    height = float(sim.ground_truth_base().position[2])
    return {"speed": speed, "hold_ticks": held_at, "still_ticks": still_at, "period": loop.loop.period,
            "up": height > 0.7 * loop.planner.params.com_height}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("part", choices=("stopping", "estop", "approach"))
    parser.add_argument("--speeds", type=float, nargs="+", default=[0.25, 0.5])
    args = parser.parse_args()
    wall = time.perf_counter()
    if args.part == "stopping":
        print("Stopping from a walk (in-process closed loop: MuJoCo + WBC core + gait core, leg odometry; lockstep)")
        print("  speed [m/s]   T_s [s]   S_s [m]   fell   final phase")
        for speed in args.speeds:
            row = stopping(speed)
            if row["fell"] and "stopping_time" not in row:
                print(f"  {speed:10.2f}   fell while walking")
                continue
            print(f"  {speed:10.2f}   {row['stopping_time']:7.2f}   {row['stopping_distance']:7.3f}   "
                  f"{'yes' if row['fell'] else 'no ':4s}   {row['standing']}")
    elif args.part == "estop":
        print("Hardware e-stop to hold (in-process: MuJoCo hardware rules + WBC core + gait core; 2 ms control ticks)")
        print("  category   walking [m/s]   ticks to hold   ticks to joints < 0.1 rad/s   up 3 s later")
        for category, speed in ((0, 0.0), (0, 0.5), (1, 0.5)):
            row = estop(speed, category)
            print(f"  {category:8d}   {speed:13.2f}   {row['hold_ticks']!s:>13}   {row['still_ticks']!s:>27}   "
                  f"{'yes' if row['up'] else 'NO (fell)'}")
    else:
        from legion_testing.safety_approach import run_approach

        result = run_approach()
        for line in result.report():
            print(line)
    print(f"(wall time {time.perf_counter() - wall:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
