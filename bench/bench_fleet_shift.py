#!/usr/bin/env python3
"""Two robots sorting in one cell (issue 16): the whole stack of each robot over DDS, in lockstep, headless, one
simulator for both, the fleet coordinator between them; each robot's executive runs its own cell's shift.

    python bench/bench_fleet_shift.py                    # both shifts at once (the legion)
    python bench/bench_fleet_shift.py --sequential       # the same work one robot at a time: robot_1's shift, then
                                                         # robot_2's (the other stands still at its table meanwhile)
    python bench/bench_fleet_shift.py --json out.json    # the figures also as JSON

The scene is config/scenes/two_station_cell.yaml (two tables 3 m apart, a bin of each robot's own and a yellow bin
both share, behind them); the cells config/cells/two_station_robot_1.yaml and _robot_2.yaml. Judged on the
simulator's ground truth, after the shifts: each part's place (inside the bin that accepts it, at rest: legion_bringup
.judge), a fall (base tilt over 45 degrees), and the closest the two robots' bases came (their bodies reach 0.4 m
from the base: below 0.8 m they could touch). Prints the simulated time of each shift, the makespan (first goal to
last result) and the wall time; the executives' decisions about the shared station (waits, grants) are counted from
`executive/status`.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time

ROBOTS = ("robot_1", "robot_2")
FALL_TILT_DEG = 45.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scene", default="two_station_cell")
    parser.add_argument("--cells", nargs=2, default=["two_station_robot_1", "two_station_robot_2"],
                        help="robot_1's and robot_2's cell files")
    parser.add_argument("--sequential", action="store_true", help="one shift after the other")
    parser.add_argument("--timeout", type=float, default=5400.0, help="wall-clock limit [s]")
    parser.add_argument("--json", default="", help="also write the figures to this file")
    args = parser.parse_args()

    import rclpy
    from nav_msgs.msg import Odometry
    from rclpy.action import ActionClient
    from rclpy.parameter import Parameter

    from legion_bringup.judge import judge_parts
    from legion_bringup.launcher import LaunchedNodes
    from legion_common.messages import xyzw
    from legion_common.stamps import header_seconds
    from legion_common.transforms import tilt_from_quaternion
    from legion_interfaces.action import RunJob
    from legion_interfaces.msg import DetectedObjectArray, ExecutiveStatus
    from legion_sim.scene import load_scene

    scene = load_scene(args.scene)
    cells = dict(zip(ROBOTS, args.cells, strict=True))
    wall_start = time.monotonic()
    figures: dict = {"scene": args.scene, "cells": cells, "mode": "sequential" if args.sequential else "parallel",
                     "robots": {r: {} for r in ROBOTS}, "errors": []}
    print(f"[fleet] starting two stacks: scene {args.scene}, lockstep, headless", flush=True)
    with LaunchedNodes("stack", {"scene": args.scene, "robots": "2", "lockstep": "true", "headless": "true"},
                       echo=False) as launched:
        rclpy.init()
        node = rclpy.create_node("fleet_shift_bench", parameter_overrides=[Parameter("use_sim_time", value=True)])
        truth: dict[str, tuple[float, float, float, float]] = {}  # robot -> (t, x, y, tilt deg)
        status: dict[str, ExecutiveStatus] = {}
        phases: dict[str, list[str]] = {r: [] for r in ROBOTS}
        objects: list = []
        closest = [math.inf, 0.0]  # base distance [m], sim time [s]
        fell: dict[str, float] = {}

        def on_truth(msg, robot: str) -> None:
            p = msg.pose.pose.position
            tilt = math.degrees(tilt_from_quaternion(xyzw(msg.pose.pose.orientation)))
            t = header_seconds(msg)
            truth[robot] = (t, p.x, p.y, tilt)
            if tilt > FALL_TILT_DEG and robot not in fell:
                fell[robot] = t
            if len(truth) == len(ROBOTS):
                (_, x1, y1, _), (_, x2, y2, _) = (truth[r] for r in ROBOTS)
                distance = math.hypot(x1 - x2, y1 - y2)
                if distance < closest[0]:
                    closest[:] = [distance, t]

        decisions: dict[str, list[str]] = {r: [] for r in ROBOTS}

        def on_status(msg, robot: str) -> None:
            status[robot] = msg
            if msg.phase and (not phases[robot] or phases[robot][-1] != msg.phase):
                phases[robot].append(msg.phase)
            if msg.last_decision and (not decisions[robot] or decisions[robot][-1] != msg.last_decision):
                decisions[robot].append(msg.last_decision)

        for robot in ROBOTS:
            node.create_subscription(Odometry, f"{robot}/ground_truth/odom", lambda m, r=robot: on_truth(m, r), 50)
            node.create_subscription(ExecutiveStatus, f"{robot}/executive/status",
                                     lambda m, r=robot: on_status(m, r), 10)
        node.create_subscription(DetectedObjectArray, f"{ROBOTS[0]}/ground_truth/objects",
                                 lambda m: objects.__setitem__(slice(None), [m]), 10)
        clients = {r: ActionClient(node, RunJob, f"{r}/run_job") for r in ROBOTS}
        deadline = wall_start + args.timeout
        last_print = [0.0]

        def now() -> float:
            return min((truth[r][0] for r in ROBOTS if r in truth), default=-1.0)

        def progress() -> None:
            if time.monotonic() - last_print[0] < 10.0:
                return
            last_print[0] = time.monotonic()
            parts = []
            for r in ROBOTS:
                s = status.get(r)
                parts.append(f"{r}: " + ("-" if s is None else f"{s.state.lower()} sorted {s.sorted}/{s.seen} "
                                                               f"{s.phase or '-'}"))
            print(f"[fleet] sim {now():7.1f} s | wall {time.monotonic() - wall_start:6.0f} s | " + " | ".join(parts),
                  flush=True)

        def spin_until(done, what: str) -> bool:
            while not done():
                rclpy.spin_once(node, timeout_sec=0.05)
                progress()
                exited = launched.exited_required()
                if exited is not None:
                    figures["errors"].append(f"node '{exited[0]}' exited with code {exited[1]} during {what}")
                    return False
                if time.monotonic() > deadline:
                    figures["errors"].append(f"wall-clock limit during {what}")
                    return False
                if fell:
                    figures["errors"].append(f"fell: {fell}")
                    return False
            return True

        ok = spin_until(lambda: len(truth) == len(ROBOTS) and objects, "start-up")
        start = now()
        ok = ok and spin_until(lambda: now() >= start + 1.0, "standing")
        ok = ok and all(clients[r].wait_for_server(timeout_sec=60.0) for r in ROBOTS)
        handles, results, spans = {}, {}, {}

        def start_shift(robot: str) -> bool:
            sent = clients[robot].send_goal_async(RunJob.Goal(cell=cells[robot], max_parts=0))
            if not spin_until(sent.done, f"{robot}'s run_job goal"):
                return False
            if not sent.result().accepted:
                figures["errors"].append(f"{robot}: run_job goal rejected")
                return False
            handles[robot] = sent.result().get_result_async()
            spans[robot] = [now(), math.nan]
            print(f"[fleet] {robot}: shift started at {now():.1f} s ({cells[robot]})", flush=True)
            return True

        def finished(robot: str) -> bool:
            if robot in results:
                return True
            if robot in handles and handles[robot].done():
                result = handles[robot].result().result
                results[robot] = f"{result.outcome}: {result.message}"
                spans[robot][1] = now()
                print(f"[fleet] {robot}: shift ended at {now():.1f} s: {results[robot]}", flush=True)
                return True
            return False

        order = [[ROBOTS[0]], [ROBOTS[1]]] if args.sequential else [list(ROBOTS)]
        first = now()
        for group in order:
            if not ok:
                break
            ok = all(start_shift(r) for r in group)
            ok = ok and spin_until(lambda g=group: all(finished(r) for r in g), "the shifts")
        makespan = now() - first
        spin_until(lambda: now() >= makespan + first + 1.0, "settle")
        fates = judge_parts([(o.id, o.label, (o.pose.position.x, o.pose.position.y, o.pose.position.z))
                             for o in objects[0].objects], scene) if objects else []
        node.destroy_node()
        rclpy.try_shutdown()

    figures.update({
        "parts": len(scene.parts), "sorted": sum(f.correct for f in fates),
        "unsorted": {f.id: f.place for f in fates if not f.correct},
        "makespan_sim_s": round(makespan, 1), "wall_s": round(time.monotonic() - wall_start, 1),
        "closest_bases_m": round(closest[0], 2), "closest_at_s": round(closest[1], 1), "fell": fell})
    for robot in ROBOTS:
        span = spans.get(robot, [math.nan, math.nan])
        # a wait behind another robot (not the moment a request is on its way, which shows `waiting for` alone)
        waits = [p for p in phases[robot] if p.startswith("waiting for") and "held by" in p]
        figures["robots"][robot] = {"result": results.get(robot, ""), "shift_sim_s": round(span[1] - span[0], 1),
                                    "waits": len(waits), "cell": cells[robot], "decisions": decisions[robot]}
    print(f"[fleet] {figures['mode']}: {figures['sorted']} of {figures['parts']} parts in their bins; makespan "
          f"{figures['makespan_sim_s']} s simulated, {figures['wall_s']} s wall; closest bases "
          f"{figures['closest_bases_m']} m (at {figures['closest_at_s']} s); falls {fell or 'none'}")
    for robot, values in figures["robots"].items():
        print(f"[fleet] {robot}: shift {values['shift_sim_s']} s simulated, {values['waits']} waits for the shared "
              f"station; {values['result']}")
    if figures["unsorted"]:
        print(f"[fleet] not sorted: {figures['unsorted']}")
    for error in figures["errors"]:
        print(f"[fleet] error: {error}")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(figures, handle, indent=2)
    return 0 if ok and figures["sorted"] == figures["parts"] and not fell else 1


if __name__ == "__main__":
    sys.exit(main())
