#!/usr/bin/env python3
"""Benchmark the gait planner: time per replan, and walking in closed loop with the whole-body controller.

    python bench/bench_gait.py                        # both parts, speeds 0.25 0.5 0.75 1.0, 10 m each
    python bench/bench_gait.py --replan-only          # planner timing only (a few seconds)
    python bench/bench_gait.py --speeds 1.0 1.1 1.2 --distance 20 --fast-limits --wbc fall.com_margin_ratio=0.32

Part 1 (replan): `GaitPlanner.update` driven by an ideal robot (legion_testing.ideal_walker.IdealWalker) at the node's
update rate, for several commands, plus building and serialising the `gait/reference` message; median, 95th
percentile and max in milliseconds.

Part 2 (walking): for each commanded forward speed, the in-process closed loop (legion_testing.walking_loop: MuJoCo
simulation + whole-body controller core + gait planner core, parameters of config/stack.yaml, planner at its update
rate; the base state from legion_estimation's leg odometry over the robot's sensors with their errors, as in the
stack, or with `--odometry truth` the simulator's ground truth at 50 Hz) starts from standing, walks until
`--distance` metres or the time it should take plus 50 %, and stops. Printed per speed: distance walked, mean speed
over the steady part (after the acceleration ramp), tracking error of that speed, lateral drift, fall (yes/no),
references the controller rejected (e.g. steps beyond its reach check), simulated and wall time.
`--fast-limits` raises max_forward_speed and max_step_forward for speeds above 1 m/s; `--wbc name=value` sets a
controller parameter over config/stack.yaml (e.g. its fall check's fall.com_margin_ratio, which at 0.13 of the standing
CoM height, 0.12 m, flags the CoM leading the stance sole at 1 m/s as a fall).
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

WORKSPACE = Path(__file__).resolve().parents[1]
for package in ("legion_description", "legion_model", "legion_common", "legion_gait", "legion_control", "legion_sim",
                "legion_testing"):
    try:
        __import__(package)
    except ImportError:
        sys.path.insert(0, str(WORKSPACE / "src" / package))

import numpy as np  # noqa: E402

from legion_testing.ideal_walker import IdealWalker  # noqa: E402


def percentiles(values: list[float]) -> str:
    array = 1e3 * np.asarray(values)
    return f"{np.median(array):7.2f} {np.percentile(array, 95):7.2f} {array.max():7.2f}"


def bench_replan(updates: int) -> None:
    from rclpy.serialization import serialize_message

    from legion_gait.conversions import gait_reference_msg

    print(f"Replanning ({updates} updates per case, ideal robot, 20 Hz)  [ms]:      median     p95     max")
    rng = np.random.default_rng(0)
    for label, command, pushed in (("forward 0.5 m/s", (0.5, 0.0, 0.0), False),
                                   ("forward 1.0 m/s", (1.0, 0.0, 0.0), False),
                                   ("turn 0.6 rad/s", (0.0, 0.0, 0.6), False),
                                   ("arc 0.4 m/s 0.3 rad/s", (0.4, 0.0, 0.3), False),
                                   ("0.5 m/s, pushed 0.3 m/s", (0.5, 0.0, 0.0), True)):
        walker = IdealWalker()
        walker.run(2.0, command)  # past the start
        update, message, samples = [], [], []
        for i in range(updates):
            if pushed and i % 10 == 0:  # a DCM error every 0.5 s: feedback (probes, re-solves, early steps)
                walker.disturb(np.array([rng.normal(0.0, 0.15), rng.choice([-0.3, 0.3]), 0.0]))
            walker.planner.set_velocity_command(walker.time, (command[0], command[1], 0.0), (0.0, 0.0, command[2]))
            measured = walker.measured()
            start = time.perf_counter()
            output = walker.planner.update(walker.time, measured)
            middle = time.perf_counter()
            serialize_message(gait_reference_msg(output.samples, walker.time, "odom"))
            end = time.perf_counter()
            update.append(middle - start)
            message.append(end - middle)
            samples.append(len(output.samples))
            walker.time = round(walker.time + walker.period, 9)
        print(f"  {label:24s} update               {percentiles(update)}")
        print(f"  {'':24s} gait/reference msg   {percentiles(message)}   ({np.mean(samples):.0f} samples)")
    print()


def bench_walking(speeds: list[float], distance: float, fast_limits: bool, wbc: dict[str, object],
                  odometry: str = "leg") -> list[dict]:
    from legion_testing.walking_loop import WalkingLoop, gait_parameters_from_stack

    rows = []
    for speed in speeds:
        overrides = {}
        if fast_limits and speed > 1.0:
            overrides = {"max_forward_speed": speed, "max_step_forward": speed * 0.5 + 1e-6}
        params = gait_parameters_from_stack(**overrides)
        loop = WalkingLoop(params, wbc_overrides=wbc, odometry=odometry)
        wall = time.perf_counter()
        loop.run(1.0)
        start_x = loop.base_pose()[0]
        loop.command(speed, 0.0, 0.0)
        budget = 1.5 * (distance / speed + 3.0)
        fell = False
        while loop.time < budget and loop.base_pose()[0] - start_x < distance:
            if not loop.run(0.5):
                fell = True
                break
        if not fell:
            loop.stop_command()
            fell = not loop.run(3.0)
        record = loop.record
        t = np.array(record.time)
        x = np.array([pose[0] for pose in record.base])
        y = np.array([pose[1] for pose in record.base])
        ramp = 1.0 + params.start_duration + speed / params.max_acceleration + 1.0
        walking = np.array([phase == "walking" for phase in record.phase])
        steady = (t > ramp) & walking
        mean_speed = float(np.polyfit(t[steady], x[steady], 1)[0]) if steady.sum() > 10 else float("nan")
        rows.append({"speed": speed, "distance": float(x[-1] - x[0]), "mean_speed": mean_speed,
                     "error": abs(mean_speed - speed) / speed * 100.0, "drift": float(np.max(np.abs(y))),
                     "fell": fell, "sim_time": loop.time, "wall": time.perf_counter() - wall,
                     "rejected": loop.rejections})
        row = rows[-1]
        print(f"  {speed:5.2f} m/s  {row['distance']:6.2f} m  {row['mean_speed']:6.3f} m/s  {row['error']:5.1f} %  "
              f"{row['drift']:5.3f} m  {'FELL' if fell else 'no':4s}  {row['rejected']:4d}  {row['sim_time']:5.1f} s  "
              f"{row['wall']:5.1f} s",
              flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--speeds", type=float, nargs="+", default=[0.25, 0.5, 0.75, 1.0])
    parser.add_argument("--distance", type=float, default=10.0, help="metres to walk per speed")
    parser.add_argument("--updates", type=int, default=200, help="timed replans per command")
    parser.add_argument("--replan-only", action="store_true")
    parser.add_argument("--odometry", choices=("leg", "truth"), default="leg",
                        help="base state: leg odometry over the robot's sensors (default) or ground truth")
    parser.add_argument("--fast-limits", action="store_true", help="raise the speed and step limits above 1 m/s")
    parser.add_argument("--wbc", action="append", default=[], metavar="NAME=VALUE",
                        help="controller parameter over config/stack.yaml (repeatable)")
    args = parser.parse_args()
    wbc = {name: float(value) for name, value in (item.split("=", 1) for item in args.wbc)}
    print(f"bench_gait on {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print("parameters: config/stack.yaml, block gait_planner (replanning: GaitParameters defaults)\n")
    bench_replan(args.updates)
    if args.replan_only:
        return
    print("Walking (in-process closed loop: MuJoCo + whole-body controller + gait planner, lockstep; base state: "
          + ("leg odometry over the robot's sensors" if args.odometry == "leg" else "ground truth at 50 Hz") + ")"
          + (f", controller {wbc}" if wbc else ""))
    print("  command   distance  mean speed  error  drift    fall  rej.  sim     wall")
    rows = bench_walking(args.speeds, args.distance, args.fast_limits, wbc, args.odometry)
    stable = [row["speed"] for row in rows if not row["fell"] and row["error"] < 10.0]
    print(f"\nfastest stable forward speed (no fall, tracking error < 10 %): "
          f"{max(stable):.2f} m/s" if stable else "\nno stable speed")


if __name__ == "__main__":
    main()
