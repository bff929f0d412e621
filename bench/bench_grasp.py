#!/usr/bin/env python3
"""Pick parts off the sorting cell's table with the whole-body controller in MuJoCo, by contact only, and count
the successes (legion_testing.grasp_study: stand 1 s, pre-grasp above the part, approach, close, lift 5 cm, hold
2 s; judged on ground truth; the planner sees the part pose with a 3 mm / 3 degree perception error).

    python bench/bench_grasp.py                          # the six sorting-cell parts, each with both hands
    python bench/bench_grasp.py --part 1 --hand right    # one sorting-cell part (index in the scene file)
    python bench/bench_grasp.py --seeds 30               # 30 random parts (seeds 0..29) within reach, by class
    python bench/bench_grasp.py --shape box --size 0.03 0.03 0.03 --mass 0.3 --x 0.5 --y -0.1 --yaw 0.4
    python bench/bench_grasp.py --seeds 30 --jobs 2      # trials in 2 processes
    python bench/bench_grasp.py --seeds 50 --neighbours 3-5   # 50 random layouts: each seed's part among 3-5 others
    python bench/bench_grasp.py --sim hand_friction=0.8 --grasp-stiffness 1.0    # sensitivity of the contact
    python bench/bench_grasp.py --perception-offset 0.02 0 0   # every part seen 2 cm farther than it is
    python bench/bench_grasp.py --grasp wall_gap=0.003          # a grasp planning override (robot file's grasping:)

Each row: part, hand, success, lift [cm], slip of the part in the hand during the hold [cm], balance (lowest base
height, largest CoM error, fall), how far the gripper fell behind its path on the way down [mm] and how often it
came down again backed off (the manipulation node's guard, `blocked_lag`), what the node's grasp monitor makes of
the hand's joints (held, missed, slipped, or no approach) and the smallest grip it saw while holding [N m]. With
`--neighbours`: the finger heading chosen (as the manipulation node chooses it, `legion_manipulation.tasks
.choose_grasp`), the gap of the closing fingers' sweep to the nearest other part as perceived, and how far each other
part ended from where it rested [cm] (`*`: tipped over). Needs the colcon build (`. scripts/env.sh`).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace

import numpy as np

from legion_control.parameters import GraspParameters, WbcParameters
from legion_description import load_robot_config
from legion_manipulation.tasks import planning_parameters
from legion_testing.grasp_study import (
    NEIGHBOUR_TOLERANCE,
    SORTING_CELL_PARTS,
    PartSpec,
    TrialResult,
    grasp_sim_options,
    random_layout,
    random_part,
    run_trial,
)


def _trial(job: tuple) -> TrialResult:
    part, side, seed, neighbours, sim_overrides, stiffness_scale, odometry, offset, grasp_overrides = job
    planning = replace(planning_parameters(load_robot_config("centurion")), **grasp_overrides)
    params = None
    if stiffness_scale is not None:
        params = WbcParameters(grasp=replace(GraspParameters(), stiffness_scale=stiffness_scale))
    return run_trial(part, side, seed=seed, params=params, planning=planning,
                     sim_options=grasp_sim_options(**sim_overrides), odometry=odometry, perception_offset=offset,
                     neighbours=neighbours)


def _sim_override(text: str) -> tuple[str, float]:
    name, _, value = text.partition("=")
    if not value:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, float(value)


def _row(name: str, result: TrialResult) -> str:
    p = result.part
    size = "x".join(f"{s * 100:.1f}" for s in p.size)
    return (f"{name:<16} {p.shape:<8} {size:<14} {p.mass:5.2f} kg ({p.x:.3f}, {p.y:+.3f}, yaw {p.yaw:+.2f})  "
            f"{result.side:<5}  {'OK  ' if result.success else 'FAIL'}  lift {result.lifted * 100:5.1f} cm  "
            f"slip {result.slip * 100:4.1f} cm  base_z_min {result.min_base_height:.3f} m  "
            f"com_err_max {result.max_com_error * 1000:4.1f} mm  {'FALLEN' if result.fallen else 'upright'}  "
            f"descent lag {result.descent_lag * 1000:4.1f} mm  regrasps {result.regrasps}  monitor {result.monitor} "
            f"(grip >= {result.min_grip:.2f} N m)  {result.note}" + (_layout(result) if result.neighbours else ""))


def _layout(result: TrialResult) -> str:
    shifts = " ".join(f"{shift * 100:.1f}{'*' if tipped else ''}"
                      for shift, tipped in zip(result.neighbour_shift, result.neighbour_tipped, strict=True))
    return (f"  | heading {np.degrees(result.heading):+4.0f} deg {'clear' if result.clear else 'BLOCKED'} "
            f"(gap {result.sweep_gap * 100:.1f} cm){'' if result.reachable else ' UNREACHED'}  "
            f"{len(result.neighbours)} neighbours moved [{shifts}] cm  {result.neighbour_note}")


def _neighbour_count(text: str) -> int | tuple[int, int]:
    low, _, high = text.partition("-")
    return (int(low), int(high)) if high else int(low)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", type=int, help="index of one sorting-cell part (0-5)")
    parser.add_argument("--hand", choices=("left", "right", "both", "auto"), default=None,
                        help="hand: default both for the sorting-cell parts, auto (the part's side) for random parts")
    parser.add_argument("--seeds", type=int, default=0, help="random parts with seeds 0..N-1 instead")
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--neighbours", type=_neighbour_count, default=0, metavar="K|K1-K2",
                        help="with --seeds: random layouts, each seed's part among K (or K1 to K2) other random parts "
                             "(legion_testing.grasp_study.random_layout)")
    parser.add_argument("--min-spacing", type=float, default=0.08, help="least centre distance of a layout [m]")
    parser.add_argument("--min-gap", type=float, default=0.03, help="least gap between footprint circles [m]")
    parser.add_argument("--shape", choices=("box", "cylinder", "sphere"), help="one custom part")
    parser.add_argument("--size", type=float, nargs="+")
    parser.add_argument("--mass", type=float, default=0.1)
    parser.add_argument("--x", type=float, default=0.45)
    parser.add_argument("--y", type=float, default=0.0)
    parser.add_argument("--yaw", type=float, default=0.0)
    parser.add_argument("--sim", type=_sim_override, action="append", default=[], metavar="NAME=VALUE",
                        help="a SimOptions override, e.g. hand_friction=1.3 (repeatable)")
    parser.add_argument("--grasp", type=_sim_override, action="append", default=[], metavar="NAME=VALUE",
                        help="a grasp planning override of the robot file's `grasping:` block, e.g. wall_gap=0.003")
    parser.add_argument("--grasp-stiffness", type=float, default=None,
                        help="grasp.stiffness_scale (default: the controller's)")
    parser.add_argument("--odometry", choices=("truth", "leg"), default="truth",
                        help="the controller's base state: ground truth, or the stack's leg odometry")
    parser.add_argument("--perception-offset", type=float, nargs=3, metavar=("DX", "DY", "DZ"),
                        help="the planner sees the part this far from where it is, in odom [m] (instead of the "
                             "random 3 mm error); x is along the fingers for round parts")
    parser.add_argument("--jobs", type=int, default=1, help="processes (the machine is shared: keep it small)")
    args = parser.parse_args()
    extra = (dict(args.sim), args.grasp_stiffness, args.odometry,
             tuple(args.perception_offset) if args.perception_offset else None, dict(args.grasp))

    jobs: list[tuple[str, tuple]] = []
    if args.shape:
        part = PartSpec(f"custom_{args.shape}", args.shape, tuple(args.size), args.mass, args.x, args.y, args.yaw)
        sides = ["left", "right"] if args.hand == "both" else [None if args.hand in (None, "auto") else args.hand]
        jobs += [(part.label, (part, side, 0, (), *extra)) for side in sides]
    elif args.seeds:
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            if args.neighbours:
                layout = random_layout(np.random.default_rng(seed), args.neighbours, args.min_spacing, args.min_gap)
                part, neighbours = layout.part, layout.neighbours
            else:
                part, neighbours = random_part(np.random.default_rng(seed)), ()
            side = None if args.hand in (None, "auto", "both") else args.hand
            jobs.append((f"seed {seed}", (part, side, seed, neighbours, *extra)))
    else:
        indices = [args.part] if args.part is not None else range(len(SORTING_CELL_PARTS))
        sides = ["left", "right"] if args.hand in (None, "both") else [None if args.hand == "auto" else args.hand]
        for i in indices:
            jobs += [(f"[{i}] {SORTING_CELL_PARTS[i].label}", (SORTING_CELL_PARTS[i], side, i, (), *extra))
                     for side in sides]

    start = time.perf_counter()
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs) as pool:
            results = list(pool.map(_trial, [job for _, job in jobs]))
        for (name, _), result in zip(jobs, results, strict=True):
            print(_row(name, result), flush=True)
    else:
        results = []
        for name, job in jobs:
            results.append(_trial(job))
            print(_row(name, results[-1]), flush=True)

    by_class: dict[str, list[bool]] = defaultdict(list)
    by_hand: dict[str, list[bool]] = defaultdict(list)
    by_both: dict[tuple[str, str], list[bool]] = defaultdict(list)
    failures: dict[str, list[str]] = defaultdict(list)
    for (name, _), result in zip(jobs, results, strict=True):
        by_class[result.part.shape].append(result.success)
        by_hand[result.side].append(result.success)
        by_both[(result.part.shape, result.side)].append(result.success)
        if not result.success:
            failures[result.failure].append(name)
    print()
    for shape, successes in sorted(by_class.items()):
        hands = "  ".join(f"{side} {sum(s)}/{len(s)}" for (c, side), s in sorted(by_both.items()) if c == shape)
        print(f"{shape:<9} {sum(successes)}/{len(successes)}   ({hands})")
    for side, successes in sorted(by_hand.items()):
        print(f"{side + ' hand':<11} {sum(successes)}/{len(successes)}")
    total = sum(r.success for r in results)
    print(f"{'all':<9} {total}/{len(results)} ({100.0 * total / len(results):.0f} %)   falls: "
          f"{sum(r.fallen for r in results)}   {time.perf_counter() - start:.0f} s")
    for category, names in sorted(failures.items()):
        print(f"failed, {category}: {len(names)} ({', '.join(names)})")
    layouts = [(name, r) for (name, _), r in zip(jobs, results, strict=True) if r.neighbours]
    if layouts:
        disturbed = [(name, r) for name, r in layouts if r.neighbours_disturbed]
        print(f"neighbours: {sum(len(r.neighbours) for _, r in layouts)} in {len(layouts)} layouts; disturbed (moved "
              f"> {NEIGHBOUR_TOLERANCE * 100:.0f} cm or tipped) {sum(r.neighbours_disturbed for _, r in layouts)}, "
              f"in {len(disturbed)} layouts ({', '.join(name for name, _ in disturbed)}); tipped "
              f"{sum(sum(r.neighbour_tipped) for _, r in layouts)}")
        turned = sum(abs(r.heading) > 1e-3 and r.part.shape != "box" for _, r in layouts)
        print(f"grasps: clear of the neighbours {sum(r.clear for _, r in layouts)}/{len(layouts)}, round parts turned "
              f"from the robot's heading {turned}, unreached {sum(not r.reachable for _, r in layouts)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
