"""Benchmark of the perception core on the sorting-cell scene: accuracy against ground truth and time per frame.

Scripted viewpoints: the robot stands at 5 places (0.6 m back from its start to 0.1 m forward, up to 0.25 m to the
side, heading within +-0.3 rad) and looks at the table with 4 head poses each (neck pitch 0.5-0.9 rad, yaw +-0.25
rad), parts at 0.5-1.5 m from the camera. Each viewpoint is rendered by the simulator (640x480) with exact depth and
with the robot's depth camera errors (docs/sensors.md: stereo noise growing with range, occlusion dropout, 1 mm
steps) under normal, dim and bright light. The camera pose comes from the node's own path: the true base pose
composed with forward kinematics of the exact joint positions (legion_model), not from the renderer, so the figures
are perception's own error (the state estimator's error adds to it in the stack: see the job's report).

Prints, for the README:
- position error median / 95th percentile / max [mm] of the parts detected at 0.5-1.5 m, per condition;
- detection rate (parts wholly in view that were found) and label accuracy;
- phantoms: detections matching no part, per frame; and confirmed tracks matching no part over a 100-frame
  sequence of a moving head through the tracker;
- time placement: part position error [mm] when the camera pose comes from odom / joint_states at 50 Hz while
  the base drives at 0.5 m/s (and, second, also turns at 0.5 rad/s), the frame stamped at a random instant between
  two samples: the nearest sample (the node before) vs the state interpolated at the stamp
  (`legion_perception.state_buffer`, the node now);
- the node's state callbacks: wall time per `odom` and per `joint_states` message (they only append to the state
  buffer, so that 500 Hz streams cost little), called in-process on a perception node (no DDS transport counted);
- time per frame [ms] of the whole core (parts, tracking, obstacle grid, faces at head height) median / p95, its
  stages alone, and the anonymised debug image (full-image face search + drawing) when one is published.

Run: `. scripts/env.sh && python bench/bench_perception.py` (`--frames N` for shorter tracking and timing runs;
`--only placement` for the time placement alone).
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from legion_common.transforms import pose_to_matrix, quaternion_from_yaw
from legion_model import RobotModel
from legion_perception.camera_pose import CameraPoseSource
from legion_perception.pipeline import Frame, PerceptionCore
from legion_perception.state_buffer import StateBuffer
from legion_testing.rendered_scene import Viewpoint, capture, fully_in_view, look, make_sim, match, set_lighting, truth

CONDITIONS = {"exact depth": (1.0, False), "robot camera": (1.0, True), "dim": (0.35, True), "bright": (1.8, True)}
"""Condition -> (light scale, with the robot's depth camera errors)."""


def viewpoints() -> list[Viewpoint]:
    places = [(0.0, 0.0, 0.0), (-0.6, 0.0, 0.0), (-0.3, 0.25, -0.3), (-0.3, -0.25, 0.3), (0.1, 0.1, -0.1)]
    heads = [(0.8, 0.0), (0.65, 0.25), (0.65, -0.25), (0.5, 0.0)]
    return [Viewpoint(x=x, y=y, yaw=yaw, neck_pitch=pitch, neck_yaw=head_yaw)
            for x, y, yaw in places for pitch, head_yaw in heads]


def camera_from_kinematics(sim, source: CameraPoseSource) -> np.ndarray:
    base = sim.ground_truth_base()
    joints = sim.joint_state()
    return source.camera_to_odom(pose_to_matrix(base.position, base.orientation),
                                 dict(zip(joints.names, joints.position, strict=True)))


def accuracy(sims: dict[bool, object], source: CameraPoseSource) -> None:
    views = viewpoints()
    print(f"accuracy over {len(views)} viewpoints per condition; errors of parts at 0.5-1.5 m from the camera [mm];")
    print("labels and phantoms of detections seen whole (in brackets: of those with the top face partly hidden, "
          "which start no track)")
    print(f"  {'condition':<12} {'median':>6} {'p95':>6} {'max':>6}  {'found':>7}  {'labels':>14}  {'phantoms':>9}")
    for condition, (light, noise) in CONDITIONS.items():
        sim = sims[noise]
        set_lighting(sim, light)
        core = PerceptionCore()
        errors, found, in_view, phantoms, hidden_phantoms = [], 0, 0, 0, 0
        right, labelled, hidden_right, hidden = 0, 0, 0, 0
        for view in views:
            look(sim, view)
            cap = capture(sim)
            camera_to_odom = camera_from_kinematics(sim, source)
            detections = [d for d in core.detector.detect(cap.rgb, cap.depth, cap.camera, camera_to_odom)
                          if not d.is_container]  # the parts only: bins are no phantoms
            expected = truth(sim)
            pairs, extra, missed = match(detections, expected)
            phantoms += sum(not d.occluded for d in extra)
            hidden_phantoms += sum(d.occluded for d in extra)
            for part, detection, error in pairs:
                if 0.5 <= np.linalg.norm(expected[part][1] - camera_to_odom[:3, 3]) <= 1.5:
                    errors.append(error)
                if detection.occluded:
                    hidden += 1
                    hidden_right += detection.label == expected[part][0]
                else:
                    labelled += 1
                    right += detection.label == expected[part][0]
            visible = [p for p in expected if fully_in_view(sim, cap, expected[p][1])]
            in_view += len(visible)
            found += len([p for p in visible if p not in missed])
        errors_mm = np.array(errors) * 1e3
        labels = f"{right}/{labelled} ({hidden_right}/{hidden})"
        print(f"  {condition:<12} {np.median(errors_mm):6.2f} {np.percentile(errors_mm, 95):6.2f} "
              f"{errors_mm.max():6.2f}  {found:>3}/{in_view:<3}  {labels:>14}  {phantoms:>3} ({hidden_phantoms})")
        set_lighting(sim, 1.0)


def tracking(sim, source: CameraPoseSource, frames: int) -> None:
    core = PerceptionCore()
    expected = truth(sim)
    phantom_tracks, ids = 0, set()
    for k in range(frames):
        look(sim, Viewpoint(neck_pitch=0.75 + 0.1 * math.sin(k / 7.0), neck_yaw=0.2 * math.sin(k / 11.0),
                            x=-0.2 + 0.15 * math.sin(k / 17.0)))
        cap = capture(sim)
        frame = Frame(cap.rgb, cap.depth, cap.camera, camera_from_kinematics(sim, source), np.zeros(2), 0.1 * k)
        result = core.process(frame, obstacles=False, people=False)
        parts = [t for t in result.objects if not t.is_container]
        _, extra, _ = match(parts, expected, gate=0.02)
        phantom_tracks += len(extra)
        ids |= {t.id for t in parts}
    print(f"tracking over {frames} frames (moving head, robot camera): {len(ids)} ids for {len(expected)} parts, "
          f"{phantom_tracks} phantom track-frames")


def placement(sims: dict[bool, object], source: CameraPoseSource, speed: float = 0.5, state_rate: float = 50.0,
              seed: int = 0) -> None:
    """Part position errors with the camera pose from a `state_rate` state stream of a moving base, frames stamped
    at random instants between samples: nearest sample vs interpolated at the stamp."""
    period = 1.0 / state_rate
    print(f"time placement: state at {state_rate:.0f} Hz, base driving at {speed} m/s from 0.6 m back, frames at "
          f"random instants between samples; errors of parts at 0.5-1.5 m [mm]")
    print(f"  {'motion':<20} {'condition':<12} {'camera pose':<14} {'median':>6} {'p95':>6} {'max':>6}  {'parts':>5}")
    start_x, duration = -0.6, 0.6 / speed
    for turn_rate in (0.0, 0.5):
        motion = f"{speed} m/s" + (f", {turn_rate} rad/s" if turn_rate else "")

        def base(t, turn_rate=turn_rate):
            return np.array([start_x + speed * t, 0.0, 0.0]), turn_rate * (t - duration / 2)

        for noise, condition in ((False, "exact depth"), (True, "robot camera")):
            sim = sims[noise]
            rng = np.random.default_rng(seed)
            look(sim, Viewpoint(neck_pitch=0.8))  # the head posture of the whole run
            base_z = sim.ground_truth_base().position[2]
            joints = sim.joint_state()
            buffer = StateBuffer(length=duration + 1.0)
            samples = [k * period for k in range(round(duration / period) + 1)]
            for t in samples:
                position, yaw = base(t)
                buffer.add_base(t, (position[0], position[1], base_z), tuple(quaternion_from_yaw(yaw)))
                buffer.add_joints(t, joints.names, joints.position)
            errors = {"nearest sample": [], "interpolated": []}
            for k in range(len(samples) - 1):
                if k % 2:
                    continue  # a frame every other sample (25 Hz of stamps)
                t = samples[k] + rng.uniform(0.0, period)
                position, yaw = base(t)
                look(sim, Viewpoint(x=position[0], y=position[1], yaw=yaw, neck_pitch=0.8))
                cap = capture(sim)
                expected = truth(sim)
                for name, stamp in (("nearest sample", samples[k] if t - samples[k] < period / 2 else samples[k + 1]),
                                    ("interpolated", t)):
                    state = buffer.at(stamp)
                    camera_to_odom = source.camera_to_odom(state.base_to_odom, state.joint_positions)
                    detections = PerceptionCore().detector.detect(cap.rgb, cap.depth, cap.camera, camera_to_odom)
                    for part, _, error in match(detections, expected)[0]:
                        if 0.5 <= np.linalg.norm(expected[part][1] - cap.camera_to_odom[:3, 3]) <= 1.5:
                            errors[name].append(error)
            for name, values in errors.items():
                mm = np.array(values) * 1e3
                print(f"  {motion:<20} {condition:<12} {name:<14} {np.median(mm):6.2f} {np.percentile(mm, 95):6.2f} "
                      f"{mm.max():6.2f}  {len(mm):>5}")


def callbacks(messages: int = 20000) -> None:
    """Wall time of the perception node's `odom` and `joint_states` callbacks, called directly on a node."""
    import rclpy
    from nav_msgs.msg import Odometry
    from sensor_msgs.msg import JointState

    from legion_perception.perception_node import Perception

    rclpy.init()
    node = Perception()
    names = list(node.camera_pose.model.q_index)
    print(f"state callbacks over {messages} messages each ({len(names)} joints) [us per message]:")
    for name, callback, make in (
            ("odom", node.on_odom, Odometry),
            ("joint_states", node.on_joint_states, lambda: JointState(name=names, position=[0.1] * len(names)))):
        msgs = [make() for _ in range(messages)]
        for k, msg in enumerate(msgs):
            msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(k * 2_000_000, 1_000_000_000)
            if isinstance(msg, Odometry):
                msg.pose.pose.orientation.w = 1.0
        tick = time.perf_counter()
        for msg in msgs:
            callback(msg)
        print(f"  {name:<13} {(time.perf_counter() - tick) / messages * 1e6:6.1f}")
    node.destroy_node()
    rclpy.shutdown()


def timing(sim, source: CameraPoseSource, frames: int) -> None:
    core = PerceptionCore()
    views = viewpoints()
    captured = []
    for view in views:
        look(sim, view)
        cap = capture(sim)
        captured.append((cap, camera_from_kinematics(sim, source), np.array([view.x, view.y])))
    stages = {"whole core": [], "parts only": [], "obstacle grid only": [], "faces at head height only": [],
              "debug image (full face search)": [], "camera pose (kinematics)": []}
    for k in range(frames):
        cap, camera_to_odom, robot_xy = captured[k % len(captured)]
        frame = Frame(cap.rgb, cap.depth, cap.camera, camera_to_odom, robot_xy, 0.1 * k)
        tick = time.perf_counter()
        result = core.process(frame)
        stages["whole core"].append(time.perf_counter() - tick)
        tick = time.perf_counter()
        core.debug_image(frame, result)
        stages["debug image (full face search)"].append(time.perf_counter() - tick)
        tick = time.perf_counter()
        core.detector.detect(frame.rgb, frame.depth, frame.camera, frame.camera_to_odom)
        stages["parts only"].append(time.perf_counter() - tick)
        tick = time.perf_counter()
        core.mapper.update(frame.depth, frame.camera, frame.camera_to_odom, frame.robot_xy)
        stages["obstacle grid only"].append(time.perf_counter() - tick)
        tick = time.perf_counter()
        core.faces.detect(frame.rgb, frame.depth, frame.camera, frame.camera_to_odom)
        stages["faces at head height only"].append(time.perf_counter() - tick)
        tick = time.perf_counter()
        camera_from_kinematics(sim, source)
        stages["camera pose (kinematics)"].append(time.perf_counter() - tick)
    print(f"time per 640x480 frame over {frames} frames [ms]:")
    for name, values in stages.items():
        ms = np.array(values[3:]) * 1e3
        print(f"  {name:<32} median {np.median(ms):6.1f}   p95 {np.percentile(ms, 95):6.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100, help="frames for the timing and the tracking runs")
    parser.add_argument("--only", choices=("accuracy", "placement", "tracking", "timing", "callbacks"),
                        help="one section alone")
    args = parser.parse_args()
    if args.only == "callbacks":
        callbacks()
        return
    sims = {noise: make_sim("sorting_cell", sensor_noise=noise) for noise in (False, True)}
    source = CameraPoseSource(RobotModel.load("centurion", lock_hands=True), "head_camera_color_optical_frame")
    if args.only in (None, "accuracy"):
        accuracy(sims, source)
    if args.only in (None, "placement"):
        placement(sims, source)
    if args.only in (None, "tracking"):
        tracking(sims[True], source, args.frames)
    if args.only in (None, "timing"):
        timing(sims[True], source, args.frames)
    if args.only in (None, "callbacks"):
        callbacks()
    for sim in sims.values():
        sim.close()


if __name__ == "__main__":
    main()
