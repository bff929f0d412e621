#!/usr/bin/env python3
"""Benchmarks of the whole-body controller (legion_control), in-process and lockstep with the simulated robot.

    python bench/bench_control.py                # per-cycle time: state + model update, QP build, QP solve, total
    python bench/bench_control.py --odometry leg # the same, plus the CPU time of the state estimator's leg odometry
                                                 # per tick and of both together (the composed control process)
    python bench/bench_control.py --solvers      # the same QPs solved by every installed QP solver
    python bench/bench_control.py --push         # largest 0.2 s pelvis push survived without a step, front and side
    python bench/bench_control.py --hands        # per-cycle time with both hand tasks (--one-hand: one, the other
                                                 # hand held by the free-hand task)

Cycle times come from the controller's own timers (time.perf_counter; and time.thread_time for the CPU time, which
leaves out time other processes took the core) over a run of standing then swaying +-5 cm at 0.5 Hz (so the QP's
active set changes), after a warm-up; median and 99th percentile in milliseconds, garbage collector on and frozen
after start-up (as in the node). Field anchors: a C++ TSID hierarchical QP takes 0.25-0.4 ms per cycle; placo's C++
dynamics solver about 0.11 ms on Talos. The target here is p99 < 1 ms (1 kHz possible).

The base state reaches the controller one cycle late, as from the `stack` launch's estimator node: the simulator's
ground truth for the timing and solver runs, legion_estimation's leg odometry for the push runs (`--odometry`).
Solvers other than daqp and proxsuite are used when `qpsolvers` finds them (e.g.
`pip install --target DIR quadprog piqp osqp clarabel` and `--extra-path DIR`).
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import platform
import sys
import time
from pathlib import Path

WORKSPACE = Path(__file__).resolve().parents[1]
for package in ("legion_description", "legion_model", "legion_sim", "legion_estimation", "legion_control"):
    try:
        __import__(package)
    except ImportError:
        sys.path.insert(0, str(WORKSPACE / "src" / package))

import numpy as np  # noqa: E402
import pinocchio as pin  # noqa: E402

from legion_control import BalanceOffset, ControllerState, HandTarget, WbcParameters  # noqa: E402
from legion_control.qp_solvers import QpSolver, make_solver  # noqa: E402
from legion_testing.closed_loop import ClosedLoop  # noqa: E402


def make_loop(args: argparse.Namespace, odometry: str, params: WbcParameters | None = None) -> ClosedLoop:
    """The closed loop with the base state arriving one cycle late, as from the stack's estimator node."""
    return ClosedLoop(params, odometry=odometry, odometry_delay=1)


def sway(loop: ClosedLoop, t0: float) -> None:
    """Sway the CoM +-5 cm sideways at 0.5 Hz from t0 on."""
    t = loop.sim.time - t0
    if t < 0.0:
        return
    amplitude, omega = 0.05, math.pi
    loop.controller.set_balance_offset(BalanceOffset(
        loop.sim.time, np.array([0.0, amplitude * math.sin(omega * t), 0.0]),
        np.array([0.0, amplitude * omega * math.cos(omega * t), 0.0]),
        np.array([0.0, -amplitude * omega ** 2 * math.sin(omega * t), 0.0])))


def percentiles(values_s: list[float]) -> tuple[float, float, float]:
    values = np.array(values_s) * 1e3
    return float(np.median(values)), float(np.percentile(values, 99)), float(np.max(values))


def _time_estimator(loop: ClosedLoop) -> list[float]:
    """CPU time [s] of each leg odometry update of the loop (none with ground truth), appended as they run."""
    times: list[float] = []
    estimator = loop._leg_odometry
    if estimator is not None:
        update = estimator.update

        def timed(*args, **kwargs):
            start = time.thread_time()
            try:
                return update(*args, **kwargs)
            finally:
                times.append(time.thread_time() - start)

        estimator.update = timed
    return times


def bench_cycle(args: argparse.Namespace) -> None:
    odometry = args.odometry or "truth"
    loop = make_loop(args, odometry)
    estimator_times = _time_estimator(loop)
    gc.freeze()
    loop.run(args.warmup)
    reports, estimator_cpu = [], []
    t_sway = loop.sim.time + args.duration / 2.0
    hands = {}
    if args.hands or args.one_hand:  # hand tasks held 15 cm ahead of and above where the grippers are, 0.5 kg each
        controller = loop.controller
        for side in controller.sides[:1] if args.one_hand else controller.sides:  # one hand: the other is free
            pose = controller.data.oMf[controller._gripper_ids[side]]
            hands[side] = (pose.translation + np.array([0.15, 0.0, 0.15]), pin.SE3ToXYZQUAT(pose)[3:])
            controller.set_payload(side, 0.5)
    for _ in range(round(args.duration / loop.period)):
        sway(loop, t_sway)
        for side, (position, orientation) in hands.items():
            loop.controller.set_hand_target(side, HandTarget(loop.sim.time, position, orientation))
        before = len(estimator_times)
        reports.append(loop.cycle())
        estimator_cpu.append(sum(estimator_times[before:]))
    balancing = [r for r in reports if r.state == ControllerState.BALANCING]
    estimator_cpu = [cpu for cpu, r in zip(estimator_cpu, reports, strict=True)
                     if r.state == ControllerState.BALANCING]
    print(f"# whole_body_controller cycle, {len(balancing)} cycles ({args.duration:.0f} s: standing, then swaying"
          f"{'; both hand tasks and 0.5 kg payloads' if args.hands else ''}"
          f"{'; one hand task, 0.5 kg, the other hand held free' if args.one_hand else ''}), "
          f"odometry={odometry} one cycle late, solver=daqp, nv={loop.robot.nv}")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, load average {load:.2f}, "
          f"Python {platform.python_version()}")
    print(f"{'part':<28}{'median [ms]':>12}{'p99 [ms]':>10}{'max [ms]':>10}")
    for label, attribute in (("state + model update", "model_update_time"), ("QP build", "qp_build_time"),
                             ("QP solve (daqp)", "qp_solve_time"), ("whole cycle", "total_time"),
                             ("whole cycle, CPU time", "cpu_time")):
        median, p99, worst = percentiles([getattr(r, attribute) for r in balancing])
        print(f"{label:<28}{median:>12.3f}{p99:>10.3f}{worst:>10.3f}")
    if odometry == "leg":  # the state estimator's compute of each tick, as the composed control process runs it
        for label, values in (("leg odometry, CPU time", estimator_cpu),
                              ("cycle + odometry, CPU time", [r.cpu_time + cpu for r, cpu in zip(balancing,
                                                                                                 estimator_cpu,
                                                                                                 strict=True)])):
            median, p99, worst = percentiles(values)
            print(f"{label:<28}{median:>12.3f}{p99:>10.3f}{worst:>10.3f}")
    iterations = [r.qp_iterations for r in balancing]
    print(f"daqp iterations: median {np.median(iterations):.0f}, max {max(iterations)}")
    _, p99, _ = percentiles([r.total_time for r in balancing])
    print(f"field anchors: C++ TSID hierarchical QP 0.25-0.4 ms per cycle; placo C++ dynamics solver ~0.11 ms (Talos). "
          f"Target p99 < 1 ms (1 kHz): {'met' if p99 < 1.0 else 'NOT met'} in this run (p99 {p99:.3f} ms)")


class _Recorder(QpSolver):
    """Wraps the controller's solver and keeps the problems it is given."""

    def __init__(self, inner: QpSolver, problems: list) -> None:
        self.inner, self.problems, self.name = inner, problems, inner.name

    def solve(self, problem):
        self.problems.append(problem.copy())
        return self.inner.solve(problem)


def bench_solvers(args: argparse.Namespace) -> None:
    import warnings

    import qpsolvers

    warnings.filterwarnings("ignore", module="qpsolvers")  # dense -> sparse conversion notes of osqp, clarabel

    problems: list = []
    loop = make_loop(args, args.odometry or "truth")
    loop.controller.qp.solver = _Recorder(loop.controller.qp.solver, problems)
    loop.run(0.5)
    problems.clear()
    t_sway = loop.sim.time
    for _ in range(round(args.duration / loop.period)):
        sway(loop, t_sway)
        loop.cycle()
    problems = problems[::max(len(problems) // args.samples, 1)]
    n = len(problems[0].g)
    first = problems[0]
    print(f"# {len(problems)} QPs of the controller while swaying: {n} variables, {first.n_eq} equalities, "
          f"{len(first.A) - first.n_eq} inequality rows, {first.n_box} bounds; solved cold, one at a time")
    reference = [make_solver("daqp").solve(p).x for p in problems]
    names = ["daqp", "proxsuite"] + [s for s in qpsolvers.available_solvers if s not in ("daqp", "proxqp")]
    print(f"{'solver':<12}{'median [ms]':>12}{'p99 [ms]':>10}{'failed':>8}{'max |x - x_daqp|':>18}")
    for name in names:
        try:
            solver = make_solver(name)
        except Exception as error:  # not installed or not importable
            print(f"{name:<12} not available: {error}")
            continue
        times, failed, deviation = [], 0, 0.0
        for problem, x_ref in zip(problems, reference, strict=True):
            if name == "proxsuite":
                solver = make_solver(name)  # cold: no previous solution
            start = time.perf_counter()
            result = solver.solve(problem)
            times.append(time.perf_counter() - start)
            if not result.ok:
                failed += 1
            else:
                deviation = max(deviation, float(np.max(np.abs(result.x - x_ref))))
        median, p99, _ = percentiles(times)
        print(f"{name:<12}{median:>12.3f}{p99:>10.3f}{failed:>8}{deviation:>18.2e}")


def survives(args: argparse.Namespace, direction: np.ndarray, impulse: float, duration: float = 0.2) -> bool:
    """Whether the robot, pushed at the pelvis for `duration` with `impulse`, is still balancing 3 s later with no
    sole moved more than 2 cm along the ground (no step, no slide)."""
    loop = make_loop(args, args.odometry or "leg")
    loop.run(0.5)
    soles = loop.sole_positions()
    loop.sim.apply_wrench(loop.robot.config.frames["base"], direction * impulse / duration, np.zeros(3), duration)
    for _ in range(round((duration + 3.0) / loop.period)):
        report = loop.cycle()
        if report.state == ControllerState.FALLEN or loop.base_position()[2] < 0.6:
            return False
        moved = max(float(np.linalg.norm(loop.sole_positions()[s][:2] - soles[s][:2])) for s in soles)
        if moved > 0.02:
            return False
    return True


def bench_push(args: argparse.Namespace) -> None:
    print(f"# largest impulse [N s] of a 0.2 s push at the pelvis survived without a step (bisection to "
          f"{args.tolerance} N s), odometry={args.odometry or 'leg'} one cycle late")
    for label, direction in (("front", (1.0, 0.0, 0.0)), ("side", (0.0, 1.0, 0.0)), ("back", (-1.0, 0.0, 0.0))):
        low, high = 0.0, args.max_impulse
        while high - low > args.tolerance:
            middle = 0.5 * (low + high)
            if survives(args, np.array(direction), middle):
                low = middle
            else:
                high = middle
        print(f"{label:<6} survives {low:5.1f} N s (falls or steps at {high:5.1f} N s; "
              f"peak force {low / 0.2:.0f} N for 0.2 s)", flush=True)


def bench_behaviours(args: argparse.Namespace) -> None:
    """The README's behaviour figures: stand, sway, squat, reach, each from a fresh standing start, with the base
    state from `--odometry` (default: leg odometry over the robot's sensors with their errors), judged by ground
    truth."""
    import pinocchio as pin


    odometry = args.odometry or "leg"
    print(f"# behaviours in closed loop, odometry={odometry} one cycle late, sensors with the robot's errors; "
          "errors against the simulator's ground truth")

    def soles_moved(loop: ClosedLoop, start: dict[str, np.ndarray]) -> float:
        now = loop.sole_positions()
        return max(float(np.linalg.norm(now[side] - start[side])) for side in start)

    loop = make_loop(args, odometry)
    start, soles = loop.base_position(), loop.sole_positions()
    record = loop.run(args.stand, record_every=50)
    drift = max(float(np.linalg.norm(p[:2] - start[:2])) for p in record.base_position)
    print(f"stand {args.stand:.0f} s: largest base drift {drift * 1e3:.2f} mm, "
          f"soles moved {soles_moved(loop, soles) * 1e3:.2f} mm")

    loop = make_loop(args, odometry)
    loop.run(0.5)
    soles, com0, t0 = loop.sole_positions(), loop.true_com(), loop.sim.time
    errors = []
    for _ in range(round(4.0 / loop.period)):
        sway(loop, t0)
        loop.cycle()
        t = loop.sim.time - t0
        if t > 1.0:
            errors.append(abs(loop.true_com()[1] - com0[1] - 0.05 * math.sin(math.pi * t)))
    print(f"sway +-5 cm at 0.5 Hz: CoM error max {max(errors) * 1e3:.2f} mm after the first second, "
          f"soles moved {soles_moved(loop, soles) * 1e3:.2f} mm")

    t0, lowest = loop.sim.time, 0.0
    for _ in range(round(3.0 / loop.period)):  # smoothly 10 cm down over 2 s, hold 1 s
        s = min((loop.sim.time - t0) / 2.0, 1.0)
        down = -0.1 * s * s * (3 - 2 * s)
        loop.controller.set_balance_offset(BalanceOffset(loop.sim.time, np.array([0.0, 0.0, down]), np.zeros(3),
                                                         np.zeros(3)))
        loop.cycle()
        lowest = min(lowest, float(loop.true_com()[2] - com0[2]))
    print(f"squat 10 cm: CoM lowered {-lowest * 100:.2f} cm, soles moved {soles_moved(loop, soles) * 1e3:.2f} mm")

    loop = make_loop(args, odometry)
    loop.run(0.5)
    controller = loop.controller
    controller.set_posture_reference(dict(controller.config.postures.get("inspect_table", {})))
    robot = controller.robot
    chest = robot.frame_position(robot.config.frames["torso"])
    gripper = robot.config.sides["right"].gripper
    orientation = pin.SE3ToXYZQUAT(robot.transform_frame_to_world(gripper))[3:]
    target = np.array([chest[0] + 0.40, -0.10, 0.78])
    t0, within = loop.sim.time, None
    for _ in range(round(2.5 / loop.period)):
        controller.set_hand_target("right", HandTarget(loop.sim.time, target, orientation))
        loop.cycle()
        error = float(np.linalg.norm(robot.frame_position(gripper) - target))
        within = within if within is not None or error > 0.01 else loop.sim.time - t0
    print(f"reach 40 cm ahead of the chest at table height: final error {error * 1e3:.1f} mm, within 1 cm after "
          + (f"{within:.2f} s" if within is not None else "never"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--solvers", action="store_true", help="compare QP solvers on the controller's QPs")
    parser.add_argument("--push", action="store_true", help="find the largest survived push, front and side")
    parser.add_argument("--behaviours", action="store_true", help="stand, sway, squat and reach figures")
    parser.add_argument("--hands", action="store_true", help="time the cycle with both hand tasks and payloads")
    parser.add_argument("--one-hand", action="store_true",
                        help="time the cycle with one hand task and payload (the other hand's free-hand task)")
    parser.add_argument("--stand", type=float, default=60.0, help="standing time of --behaviours [s]")
    parser.add_argument("--odometry", choices=("leg", "truth"), default=None,
                        help="base state, one cycle late: legion_estimation's leg odometry (default for --push) or "
                             "the simulator's ground truth (default for timing: in the stack the estimator runs in "
                             "its own process, in-process its cache footprint would be charged to the controller)")
    parser.add_argument("--duration", type=float, default=6.0, help="simulated seconds timed [s]")
    parser.add_argument("--warmup", type=float, default=1.0, help="simulated seconds before timing [s]")
    parser.add_argument("--samples", type=int, default=300, help="QPs per solver in --solvers")
    parser.add_argument("--max-impulse", type=float, default=80.0, help="upper end of the push bisection [N s]")
    parser.add_argument("--tolerance", type=float, default=1.0, help="push bisection resolution [N s]")
    parser.add_argument("--extra-path", action="append", default=[],
                        help="directory appended to sys.path (e.g. extra QP solvers installed with pip --target)")
    args = parser.parse_args()
    sys.path.extend(args.extra_path)
    if args.solvers:
        bench_solvers(args)
    elif args.push:
        bench_push(args)
    elif args.behaviours:
        bench_behaviours(args)
    else:
        bench_cycle(args)


if __name__ == "__main__":
    main()
