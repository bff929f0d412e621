"""Evaluation at scale on this machine: `legion evaluate` on a local Ray with 1 and with 2 workers (episodes run at
once), each episode the sorting shift over the whole stack (DDS, lockstep, ground truth judging) in a randomised cell.

    python bench/bench_evaluate.py --episodes-1 4 --episodes-2 4 --parts 1-2 --seed 100
    python bench/bench_evaluate.py --episodes-1 2 --episodes-2 2 --no-video --timeout 900

The two runs take consecutive seeds (the 1-worker run seeds S.., the 2-worker run the next ones), each in a fresh
folder under --output. Prints per run: episodes, wall time, episodes per hour (per worker too), and per episode (from
the Parquet rows: the episode's process tree) CPU seconds and peak memory (PSS, and RSS summed over the processes);
then the success rate over both runs with its 95 % Wilson interval (crashed and timed-out episodes count as
failures), and the scaling to a cluster computed from the measured rates (computed, not measured). The machine's
load average is printed too: the episodes share the cores with whatever else runs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
from pathlib import Path

from legion_bringup.evaluate import aggregate, evaluate, read_rows, start_ray
from legion_bringup.judge import wilson_interval


def one_run(args: argparse.Namespace, workers: int, episodes: int, seed: int) -> tuple[dict, list[dict]]:
    import ray

    output = Path(args.output) / f"workers-{workers}"
    shutil.rmtree(output, ignore_errors=True)  # a fresh run: resumed episodes would not be timed
    options = argparse.Namespace(episodes=episodes, workers=workers, address="", seed=seed, output=str(output),
                                 parts=args.parts, robot="centurion", timeout=args.timeout,
                                 cpus_per_episode=1.0, no_video=args.no_video)
    load = os.getloadavg()[0]
    start_ray("", workers)
    try:
        summary = evaluate(options)
    finally:
        ray.shutdown()
    summary["load_before"], summary["load_after"] = round(load, 1), round(os.getloadavg()[0], 1)
    return summary, read_rows(output / "episodes.parquet")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes-1", type=int, default=2, help="episodes with 1 worker (default 2)")
    parser.add_argument("--episodes-2", type=int, default=2, help="episodes with 2 workers (default 2)")
    parser.add_argument("--seed", type=int, default=100, help="first seed (default 100)")
    parser.add_argument("--parts", default="1-2", help="parts per cell, LOW-HIGH (default 1-2)")
    parser.add_argument("--timeout", type=float, default=1200.0, help="a shift's wall-clock limit [s]")
    parser.add_argument("--no-video", action="store_true")
    parser.add_argument("--output", default="reports/bench-evaluate")
    args = parser.parse_args()

    results = {}
    all_rows: list[dict] = []
    seed = args.seed
    for workers, episodes in ((1, args.episodes_1), (2, args.episodes_2)):
        if episodes <= 0:
            continue
        summary, rows = one_run(args, workers, episodes, seed)
        seed += episodes
        results[workers] = summary
        all_rows += rows
        print(f"\n[bench] {workers} worker(s): {summary['run_episodes']} episodes in {summary['run_wall']:.0f} s: "
              f"{summary['episodes_per_hour']:.2f} episodes/h ({summary['episodes_per_hour_per_worker']:.2f} per "
              f"worker); statuses {summary['by_status']}; load average {summary['load_before']} -> "
              f"{summary['load_after']}", flush=True)

    ran = [r for r in all_rows if r["status"] != "crashed"]
    overall = aggregate(all_rows)
    low, high = wilson_interval(overall["successes"], overall["episodes"])
    cpu = [r["cpu_seconds"] for r in ran]
    walls = [r["episode_wall"] for r in ran]
    print("\n## legion evaluate on this machine (local Ray, 2 cores)\n")
    print("| workers | episodes | wall [s] | episodes/h | per worker | load avg (start -> end) |")
    print("|---:|---:|---:|---:|---:|---|")
    for workers, s in results.items():
        print(f"| {workers} | {s['run_episodes']} | {s['run_wall']:.0f} | {s['episodes_per_hour']:.2f} | "
              f"{s['episodes_per_hour_per_worker']:.2f} | {s['load_before']} -> {s['load_after']} |")
    print(f"\nSuccess rate: {overall['successes']} of {overall['episodes']} episodes "
          f"({overall['success_rate']:.0%}, 95 % Wilson interval {low:.0%} - {high:.0%}); parts sorted "
          f"{overall['parts_sorted']} of {overall['parts_sortable']}; statuses {overall['by_status']}; failures "
          f"{overall['failures']}")
    if ran:
        print(f"Per episode: wall {statistics.median(walls):.0f} s median ({min(walls):.0f}-{max(walls):.0f}), "
              f"CPU {statistics.median(cpu):.0f} s median ({min(cpu):.0f}-{max(cpu):.0f}), simulated "
              f"{statistics.median(r['sim_duration'] for r in ran):.0f} s median; peak memory "
              f"{max(r['peak_pss_mb'] for r in ran):.0f} MB PSS at most "
              f"({max(r['peak_rss_mb'] for r in ran):.0f} MB RSS summed over the processes)")
        # Computed, not measured: a cluster's throughput from the CPU an episode took here.
        cpu_per_hour = statistics.median(cpu) / 3600.0  # core-hours per episode
        print(f"\nComputed from these figures (not measured on a cluster): an episode takes "
              f"{cpu_per_hour:.3f} core-hours, so one fully used core gives about {1 / cpu_per_hour:.1f} episodes/h "
              f"and a cluster of H hosts with C free cores each about H x C x {1 / cpu_per_hour:.1f} episodes/h "
              f"(e.g. 10 hosts x 8 cores: {80 / cpu_per_hour:.0f} episodes/h; 100 episodes in "
              f"{100 * cpu_per_hour / 80 * 60:.0f} min), as long as each episode gets the CPU it took here and the "
              "driver is not the bottleneck.")
        if 2 in results and results[2]["episodes_per_hour_per_worker"] > 0:
            rate = results[2]["episodes_per_hour_per_worker"]
            print(f"At the per-worker rate measured with 2 workers on this machine's 2 cores ({rate:.2f}/h, about a "
                  f"core each): W such workers give about W x {rate:.2f} episodes/h (e.g. 40 workers: "
                  f"{40 * rate:.0f}/h; 100 episodes in {100 / (40 * rate):.1f} h).")
    (Path(args.output) / "bench.json").write_text(json.dumps(
        {"runs": {str(k): v for k, v in results.items()}, "overall": overall}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
