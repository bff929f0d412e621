#!/usr/bin/env python3
"""Pick each class of the sorting cell's parts, carry it at the manipulation node's carry pose and walk with it
(legion_testing.carry_study: a 90 degree turn each way, 1 m forward, a 0.5 m sidestep each way, by walk_to goals
to the gait planner; whole-body controller, hand grasp controller and MuJoCo in-process, by contact only), and count
the parts still in the hand after each motion (ground truth).

    python bench/bench_carry.py                         # one trial per class (seed 0)
    python bench/bench_carry.py --trials 3 --jobs 2     # seeds 0..2 of the pick's perception error
    python bench/bench_carry.py --classes red_cube yellow_sphere --wbc grasp.stiffness_scale=3.0

Each trial prints, per motion, held/LOST, the part's drift in the hand, the hand task's largest error, the
gripper's largest acceleration [m/s^2], the hand joints' largest effort / limit and the range of the hand's total
normal force on the part. Needs the colcon build (`. scripts/env.sh`).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor

from legion_testing.carry_study import CARRY_MOTIONS, CarryResult, run_carry, summary_row
from legion_testing.grasp_study import SORTING_CELL_PARTS

CLASSES = {"red_cube": 0, "blue_cylinder": 1, "green_cube": 2, "yellow_sphere": 3}
"""Class -> the sorting-cell part that represents it (its first in the scene file)."""


def _override(text: str) -> tuple[str, object]:
    name, _, value = text.partition("=")
    if not value:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        return name, float(value)
    except ValueError:
        return name, value


def _trial(job: tuple[str, str, int, dict]) -> CarryResult:
    label, side, seed, overrides = job
    return run_carry(SORTING_CELL_PARTS[CLASSES[label]], side, seed=seed, wbc_overrides=overrides or None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=1, help="trials per class (seeds 0..N-1)")
    parser.add_argument("--classes", nargs="+", choices=sorted(CLASSES), default=list(CLASSES))
    parser.add_argument("--hand", choices=("left", "right"), default="left")
    parser.add_argument("--jobs", type=int, default=1, help="trials in this many processes")
    parser.add_argument("--wbc", type=_override, action="append", default=[], metavar="NAME=VALUE",
                        help="a whole-body controller parameter over config/stack.yaml's (repeatable)")
    args = parser.parse_args()

    overrides = dict(args.wbc)
    jobs = [(label, args.hand, seed, overrides) for label in args.classes for seed in range(args.trials)]
    start = time.perf_counter()
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs) as pool:
            results = list(pool.map(_trial, jobs))
    else:
        results = [_trial(job) for job in jobs]
    for (_, _, seed, _), result in zip(jobs, results, strict=True):
        print(f"seed {seed}  {summary_row(result)}", flush=True)

    held: dict[tuple[str, str], list[bool]] = defaultdict(list)
    carried: dict[str, list[bool]] = defaultdict(list)
    for (label, _, _, _), result in zip(jobs, results, strict=True):
        carried[label].append(result.success)
        for motion in CARRY_MOTIONS:
            done = next((m for m in result.motions if m.motion.name == motion.name), None)
            if result.pick.success:  # a motion not reached (the part was lost before) counts as lost
                held[(label, motion.name)].append(done is not None and done.held)
    print(f"\ncarry success by class ({args.hand} hand, {time.perf_counter() - start:.0f} s wall):")
    names = [m.name for m in CARRY_MOTIONS]
    print(f"{'class':<14} {'carried':>8}  " + "  ".join(f"{n:>10}" for n in names))
    for label in args.classes:
        ok = carried[label]
        cells = "  ".join(f"{sum(held[(label, n)])}/{len(held[(label, n)])}".rjust(10) for n in names)
        print(f"{label:<14} {f'{sum(ok)}/{len(ok)}':>8}  {cells}")
    total = [ok for label in args.classes for ok in carried[label]]
    print(f"{'all':<14} {f'{sum(total)}/{len(total)}':>8}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
