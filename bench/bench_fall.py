"""When does the whole-body controller declare a fall, and by which criterion?

Pushes the standing robot (a 0.1 s push at the pelvis, forwards, sideways and backwards, at several impulses) and
reports, after the push, the time at which the controller declares `fallen`, its reason and the true base tilt at
that moment, with the capture-point criterion (`fall.capture_point`, the default) and without it (the tilt and CoM
criteria alone). In-process closed loop (legion_testing.walking_loop: gait planner, whole-body controller and MuJoCo
with config/stack.yaml), lockstep; the controller runs on the walking tests' odometry from the simulated base
(`--odometry truth`, the default) or on the stack's leg odometry over the simulated sensors (`--odometry leg`).
Ground truth only judges (the tilt printed).

    . scripts/env.sh && python bench/bench_fall.py
    python bench/bench_fall.py --odometry leg --directions side --impulses 30 60 70
"""

from __future__ import annotations

import argparse
import math

import numpy as np

from legion_testing.walking_loop import WalkingLoop

DIRECTIONS = {"front": (1.0, 0.0, 0.0), "side": (0.0, 1.0, 0.0), "back": (-1.0, 0.0, 0.0)}
PUSH_DURATION = 0.1  # [s]


def trial(impulse: float, direction: tuple[float, float, float], capture: bool, odometry: str,
          seconds: float) -> tuple[str, float]:
    """(what happened, the largest excess of the capture point over the reach [m]) after one push."""
    loop = WalkingLoop(wbc_overrides={"fall.capture_point": capture}, odometry=odometry)
    assert loop.run(1.0), "fell before the push"
    loop.push(tuple(np.asarray(direction) * impulse / PUSH_DURATION), PUSH_DURATION)
    pushed = loop.time
    worst = -math.inf
    while loop.time < pushed + seconds:
        loop.run(loop.loop.period, stop_on_fall=False)
        report = loop.loop.last_report
        if report.capture_point_reach:
            worst = max(worst, report.capture_point_outside - report.capture_point_reach)
        if report.state.value == "fallen":
            x, y, _, _ = loop.loop.sim.ground_truth_base().orientation  # judge only
            tilt = math.acos(max(-1.0, min(1.0, 1.0 - 2.0 * (x * x + y * y))))
            return f"{loop.time - pushed:.2f} s, tilt {tilt:.2f} rad: {report.fall_reason}", worst
    return "no fall", worst


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--odometry", choices=("truth", "leg"), default="truth")
    parser.add_argument("--directions", nargs="+", choices=sorted(DIRECTIONS), default=["front", "side", "back"])
    parser.add_argument("--impulses", nargs="+", type=float, default=[20.0, 30.0, 40.0, 60.0, 70.0, 80.0],
                        help="push impulses [N s]")
    parser.add_argument("--seconds", type=float, default=3.0, help="simulated time watched after each push")
    options = parser.parse_args()
    for name in options.directions:
        for impulse in options.impulses:
            declared, worst = trial(impulse, DIRECTIONS[name], True, options.odometry, options.seconds)
            without = (trial(impulse, DIRECTIONS[name], False, options.odometry, options.seconds)[0]
                       if declared != "no fall" else "-")
            print(f"{name:5s} {impulse:4.0f} N s | capture point: {declared} (largest excess over the reach "
                  f"{worst:+.3f} m) | without it: {without}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
