#!/usr/bin/env python3
"""Time one leg odometry update (legion_estimation.LegOdometry.update), with the IMU on the pelvis and in the torso.

    python bench/bench_leg_odometry.py                 # Centurion, hands locked (the state estimator's model)
    python bench/bench_leg_odometry.py --samples 50000

Two rows: the robot's own IMU frame (`imu_link`, rigidly on the base) and the same robot with `frames.imu: torso`
(behind the waist joints, so the IMU-to-base rotation changes with the joints). The measurements cycle through a pool
of random joint states near standing, IMU orientations and angular velocities, with both feet loaded (both stance
legs' kinematics run every tick). Each update is timed alone (time.perf_counter_ns) after a warm-up; the table gives
the median and 99th percentile in microseconds.
"""

from __future__ import annotations

import argparse
import gc
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

from legion_common.transforms import matrix_to_quaternion
from legion_description.robot_files import robot_config_path
from legion_estimation import LegOdometry
from legion_model import RobotModel
from legion_model.testing import random_state


def odometry_with_imu(robot: str, imu_frame: str | None, directory: Path) -> LegOdometry:
    """The leg odometry of `robot` (hands locked), with the IMU on `imu_frame` (None: the robot's own)."""
    path = robot_config_path(robot)
    if imu_frame is not None:
        data = yaml.safe_load(path.read_text())
        data["frames"]["imu"] = imu_frame
        path = directory / f"{robot}.yaml"
        path.write_text(yaml.safe_dump(data))
    return LegOdometry(RobotModel.load(robot, config_path=path, lock_hands=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--robot", default="centurion", help="robot name (config/robots/<robot>.yaml)")
    parser.add_argument("--torso", default="torso", help="the frame behind the waist to put the IMU on")
    parser.add_argument("--samples", type=int, default=20000, help="timed updates per row")
    parser.add_argument("--warmup", type=int, default=2000, help="untimed updates per row before timing")
    args = parser.parse_args()

    rows = []
    with tempfile.TemporaryDirectory(prefix="legion_bench_") as directory:
        for label, frame in (("IMU on the base", None), (f"IMU on {args.torso}", args.torso)):
            estimator = odometry_with_imu(args.robot, frame, Path(directory))
            robot = estimator.model
            rng = np.random.default_rng(0)
            pool = []
            for _ in range(64):
                q, v = random_state(robot, rng)
                rotation = np.linalg.qr(rng.standard_normal((3, 3)))[0]
                rotation *= np.sign(np.linalg.det(rotation))
                joints = (robot.joint_positions_from_q(q), robot.joint_velocities_from_v(v))
                imu = (matrix_to_quaternion(rotation), rng.normal(0.0, 0.5, 3))
                pool.append((*joints, *imu, {"left": 400.0, "right": 400.0}))
            period = 0.002  # [s] stamps at the control rate, as the state estimator gets them
            for i in range(args.warmup):
                estimator.update(*pool[i % 64], stamp=i * period)
            gc.collect()
            durations = np.empty(args.samples)
            clock = time.perf_counter_ns
            for i in range(args.samples):
                sample = pool[i % 64]
                start = clock()
                estimator.update(*sample, stamp=(args.warmup + i) * period)
                durations[i] = clock() - start
            durations *= 1e-3
            name = f"{label} ({estimator.model.config.frames['imu']})"
            rows.append((name, float(np.median(durations)), float(np.percentile(durations, 99))))

    python = f"{platform.python_implementation()} {platform.python_version()}"
    print(f"LegOdometry.update: robot '{args.robot}', hands locked, {args.samples} samples, {python}")
    print(f"{'':<32} {'median [us]':>12} {'p99 [us]':>10}")
    for label, median, p99 in rows:
        print(f"{label:<32} {median:>12.1f} {p99:>10.1f}")


if __name__ == "__main__":
    main()
