#!/usr/bin/env python3
"""Time legion_model's per-cycle calls next to the raw Pinocchio calls they wrap.

    python bench/bench_model.py                  # Centurion, hands locked (the whole-body controller's model)
    python bench/bench_model.py --whole          # Centurion with every hand joint
    python bench/bench_model.py --generated      # the small generated test humanoid

Each call is timed alone (time.perf_counter_ns) after a warm-up, on states cycling through a pool of random
configurations near standing; the table gives the median and 99th percentile in microseconds and the wrapper's
overhead over raw Pinocchio (median difference). Runs from a source checkout without a colcon build.
"""

from __future__ import annotations

import argparse
import gc
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

WORKSPACE = Path(__file__).resolve().parents[1]
for package in ("legion_description", "legion_model"):
    try:
        __import__(package)
    except ImportError:
        sys.path.insert(0, str(WORKSPACE / "src" / package))

import numpy as np  # noqa: E402
import pinocchio as pin  # noqa: E402

from legion_model import RobotModel  # noqa: E402
from legion_model.testing import random_state, write_test_humanoid  # noqa: E402

LWA = pin.LOCAL_WORLD_ALIGNED


def time_calls(call: Callable[[int], object], samples: int, warmup: int) -> np.ndarray:
    """Durations [us] of `samples` calls of call(i), after `warmup` untimed calls."""
    for i in range(warmup):
        call(i)
    gc.collect()
    durations = np.empty(samples)
    clock = time.perf_counter_ns
    for i in range(samples):
        start = clock()
        call(i)
        durations[i] = clock() - start
    return durations * 1e-3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--robot", default="centurion", help="robot name (config/robots/<robot>.yaml)")
    parser.add_argument("--whole", action="store_true", help="keep the hand joints (default: hands locked)")
    parser.add_argument("--generated", action="store_true", help="benchmark the generated test humanoid")
    parser.add_argument("--samples", type=int, default=20000, help="timed calls per row")
    parser.add_argument("--warmup", type=int, default=2000, help="untimed calls per row before timing")
    args = parser.parse_args()

    if args.generated:
        files = write_test_humanoid(tempfile.mkdtemp(prefix="legion_bench_"))
        robot = RobotModel.load(files.name, config_path=files.config_path, lock_hands=not args.whole)
    else:
        robot = RobotModel.load(args.robot, lock_hands=not args.whole)

    model, data = robot.model, robot.data
    rng = np.random.default_rng(0)
    pool = [random_state(robot, rng) for _ in range(64)]
    qs = [q for q, _ in pool]
    vs = [v for _, v in pool]
    zero = np.zeros(robot.nv)
    sole = robot.config.sides["left"].sole
    sole_id = robot.frame_id(sole)
    mass = robot.mass

    def raw_update(i: int) -> None:
        pin.computeAllTerms(model, data, qs[i % 64], vs[i % 64])
        pin.updateFramePlacements(model, data)

    def raw_separate_algorithms(i: int) -> None:
        q, v = qs[i % 64], vs[i % 64]
        pin.forwardKinematics(model, data, q, v, zero)
        pin.updateFramePlacements(model, data)
        pin.computeJointJacobians(model, data)
        pin.crba(model, data, q)
        pin.nonLinearEffects(model, data, q, v)
        pin.computeGeneralizedGravity(model, data, q)
        pin.jacobianCenterOfMass(model, data, q)
        pin.centerOfMass(model, data, q, v)
        pin.dccrba(model, data, q, v)

    soles = [robot.config.sides[side].sole for side in ("left", "right")]

    def wrapped_cycle(i: int) -> None:
        robot.update(qs[i % 64], vs[i % 64])
        outputs = []
        for frame in soles:
            outputs.append(robot.frame_jacobian(frame))
            outputs.append(robot.frame_drift(frame))
        outputs += [robot.com_jacobian(), robot.com_drift(), robot.centroidal_momentum_matrix(), robot.mass_matrix(),
                    robot.nonlinear_effects()]

    sole_ids = [robot.frame_id(frame) for frame in soles]

    def raw_cycle(i: int) -> None:
        v = vs[i % 64]
        raw_update(i)
        outputs = []
        for frame_id in sole_ids:
            outputs.append(pin.getFrameJacobian(model, data, frame_id, LWA))
            outputs.append(pin.getFrameClassicalAcceleration(model, data, frame_id, LWA).vector)
        outputs += [data.Jcom, data.dAg[:3] @ v / mass, data.Ag, data.M, data.nle]

    rows: list[tuple[str, Callable[[int], object], Callable[[int], object]]] = [
        ("update(q, v)", lambda i: robot.update(qs[i % 64], vs[i % 64]), raw_update),
        ("update vs separate algorithms", lambda i: robot.update(qs[i % 64], vs[i % 64]), raw_separate_algorithms),
        ("transform_frame_to_world", lambda i: robot.transform_frame_to_world(sole), lambda i: data.oMf[sole_id]),
        ("transform_sole_to_world", lambda i: robot.transform_sole_to_world("left"), lambda i: data.oMf[sole_id]),
        ("frame_jacobian LWA", lambda i: robot.frame_jacobian(sole),
         lambda i: pin.getFrameJacobian(model, data, sole_id, LWA)),
        ("frame_jacobian LOCAL", lambda i: robot.frame_jacobian(sole, pin.LOCAL),
         lambda i: pin.getFrameJacobian(model, data, sole_id, pin.LOCAL)),
        ("frame_velocity LWA", lambda i: robot.frame_velocity(sole),
         lambda i: pin.getFrameVelocity(model, data, sole_id, LWA).vector),
        ("frame_drift LWA", lambda i: robot.frame_drift(sole),
         lambda i: pin.getFrameClassicalAcceleration(model, data, sole_id, LWA).vector),
        ("com_position + com_jacobian", lambda i: (robot.com_position(), robot.com_jacobian()),
         lambda i: (data.com[0], data.Jcom)),
        ("com_drift", lambda i: robot.com_drift(), lambda i: data.dAg[:3] @ vs[i % 64] / mass),
        ("centroidal_momentum_matrix", lambda i: robot.centroidal_momentum_matrix(), lambda i: data.Ag),
        ("mass_matrix", lambda i: robot.mass_matrix(), lambda i: data.M),
        ("nonlinear_effects", lambda i: robot.nonlinear_effects(), lambda i: data.nle),
        ("generalized_gravity", lambda i: robot.generalized_gravity(), lambda i: data.g),
        ("cycle: update + 2 soles J, drift + CoM + M, h", wrapped_cycle, raw_cycle),
    ]

    print(f"legion_model benchmark: robot '{robot.config.name}'"
          f"{' (hands locked)' if robot.locked_joints else ''}, nq={robot.nq}, nv={robot.nv}, "
          f"{len(model.frames)} frames; Pinocchio {pin.__version__}, numpy {np.__version__}, "
          f"Python {platform.python_version()}, {platform.processor() or platform.machine()}")
    print(f"{args.samples} timed calls per row after {args.warmup} warm-up calls; times in microseconds\n")
    header = (f"| {'call':<46} | {'legion_model median':>19} | {'p99':>7} | {'raw pinocchio median':>20} | "
              f"{'p99':>7} | {'overhead':>8} |")
    print(header)
    print("|" + "|".join("-" * len(cell) for cell in header.split("|")[1:-1]) + "|")
    for name, wrapped, raw in rows:
        wrapped_times = time_calls(wrapped, args.samples, args.warmup)
        raw_times = time_calls(raw, args.samples, args.warmup)
        wrapped_median, wrapped_p99 = np.median(wrapped_times), np.percentile(wrapped_times, 99)
        raw_median, raw_p99 = np.median(raw_times), np.percentile(raw_times, 99)
        print(f"| {name:<46} | {wrapped_median:>19.2f} | {wrapped_p99:>7.2f} | {raw_median:>20.2f} | {raw_p99:>7.2f} | "
              f"{wrapped_median - raw_median:>+8.2f} |")


if __name__ == "__main__":
    main()
