"""Pick-and-place cycles with the whole stack over DDS (lockstep): a scripted client asks `pick` for a part by label
and `place` into a container, both as perception names them, and the simulator's ground truth judges.

    python bench/bench_pick_place.py                        # scene bin_on_table: the red cube into the red bin
    python bench/bench_pick_place.py --runs 3               # three launches: median cycle time
    python bench/bench_pick_place.py --part blue_cylinder --container blue_bin --scene <file>

Prints per run: pick and place results, the cycle time in simulated seconds from the pick goal's acceptance to the
release (the place's `release` phase), the part's final position relative to the container's true centre and its
speed (at rest: under 3 mm/s), the wall time; then the median cycle over the runs.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray
from nav_msgs.msg import Odometry
from rclpy.action import ActionClient
from sensor_msgs.msg import JointState

from legion_bringup.launcher import LaunchedNodes
from legion_common.stamps import header_seconds
from legion_description import load_robot_config
from legion_interfaces.action import Pick, Place
from legion_interfaces.msg import DetectedObjectArray
from legion_sim.scene import load_scene
from legion_testing.probe import Probe


def sim_time(probe: Probe) -> float:
    return header_seconds(probe.received("ground_truth/odom")[-1])


def true_positions(probe: Probe) -> dict[str, np.ndarray]:
    """Scene object id -> its true position [m] (ground truth: for judging only)."""
    return {o.id: np.array([o.pose.position.x, o.pose.position.y, o.pose.position.z])
            for o in probe.received("ground_truth/objects")[-1].objects}


def one_run(args: argparse.Namespace, run: int) -> dict:
    scene = load_scene(args.scene)  # for judging only: where the container truly is
    container = next(b for b in scene.bins if b.name == args.container or b.accepts == args.part)
    launched = LaunchedNodes("stack", {"scene": args.scene, "lockstep": "true"}, echo=False)
    probe = Probe(f"bench_pick_place_{run}")
    record: dict = {"run": run}
    start_wall = time.monotonic()
    try:
        for topic, kind in (("diagnostics", DiagnosticArray), ("ground_truth/odom", Odometry),
                            ("ground_truth/objects", DetectedObjectArray)):
            probe.record(topic, kind)
        probe.wait_until(lambda: probe.diagnostic("whole_body_controller").get("state") == "balancing", 150.0,
                         "balance")
        posture = load_robot_config(args.robot).postures.get("inspect_table", {})
        probe.publisher(JointState, "posture/reference").publish(
            JointState(name=list(posture), position=list(posture.values())))
        probe.wait_sim_time(3.0, 60.0, topic="ground_truth/odom")
        pick, place = ActionClient(probe.node, Pick, "pick"), ActionClient(probe.node, Place, "place")
        assert pick.wait_for_server(timeout_sec=60.0) and place.wait_for_server(timeout_sec=60.0)
        released: list[float] = []

        def on_place_feedback(message) -> None:
            if message.feedback.phase == "release" and not released:
                released.append(sim_time(probe))

        sent = pick.send_goal_async(Pick.Goal(label=args.part))
        probe.wait_until(sent.done, 60.0, "pick accepted")
        accepted = sim_time(probe)
        result = sent.result().get_result_async()
        probe.wait_until(result.done, 600.0, "pick")
        picked = result.result().result
        record["pick"] = f"{'ok' if picked.success else 'FAILED'}: {picked.message}"
        if picked.success:
            sent = place.send_goal_async(Place.Goal(container=args.container), feedback_callback=on_place_feedback)
            probe.wait_until(sent.done, 60.0, "place accepted")
            result = sent.result().get_result_async()
            probe.wait_until(result.done, 600.0, "place")
            placed = result.result().result
            record["place"] = f"{'ok' if placed.success else 'FAILED'}: {placed.message}"
            if released:
                record["cycle"] = released[0] - accepted
            probe.wait_sim_time(1.0, 60.0, topic="ground_truth/odom")
            part = picked.object_id
            # the perceived id may differ from the scene's: judge the scene part nearest the container
            first = true_positions(probe)
            probe.wait_sim_time(1.0, 60.0, topic="ground_truth/odom")
            second = true_positions(probe)
            centre = np.array(container.position)
            name = min(second, key=lambda k: np.linalg.norm(second[k][:2] - centre))
            offset = second[name][:2] - centre
            inner = 0.5 * (np.array(container.size[:2]) - 2.0 * container.wall_thickness)
            record["inside"] = bool(np.all(np.abs(offset) < inner))
            record["offset_cm"] = float(np.linalg.norm(offset) * 100.0)
            record["speed_mm_s"] = float(np.linalg.norm(second[name] - first[name]) * 1000.0)
            record["part"] = f"{part} (scene {name})"
    finally:
        probe.close()
        launched.shutdown()
    record["wall_s"] = time.monotonic() - start_wall
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scene", default="bin_on_table")
    parser.add_argument("--robot", default="centurion")
    parser.add_argument("--part", default="red_cube", help="label of the part to pick")
    parser.add_argument("--container", default="red_bin", help="label of the container to place it into")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    cycles = []
    for run in range(args.runs):
        record = one_run(args, run)
        print(f"run {run}: pick {record.get('pick')}; place {record.get('place', '-')}")
        if "cycle" in record:
            cycles.append(record["cycle"])
            print(f"  cycle (pick accepted -> released) {record['cycle']:.2f} s simulated; part {record['part']} "
                  f"inside: {record['inside']}, {record['offset_cm']:.1f} cm from the container centre, "
                  f"{record['speed_mm_s']:.1f} mm/s; {record['wall_s']:.0f} s wall")
    if cycles:
        print(f"median cycle {statistics.median(cycles):.2f} s simulated over {len(cycles)} run(s) (full stack over "
              "DDS, lockstep, perception's poses)")


if __name__ == "__main__":
    main()
