"""Benchmark of the MuJoCo bridge node (sim_bridge) against bare MuJoCo on the same model.

Prints, for the README:
- bare `mj_step` steps per second on the Centurion + sorting-cell model;
- the bridge node's physics steps per second when it runs as fast as it can (real_time_factor 0), camera off and on,
  and the overhead ratio against bare MuJoCo (the bridge also runs the servo law, publishes every topic at 500 Hz
  and spins its executor);
- the achieved real-time factor in real-time mode (real_time_factor 1), camera off and on;
- the camera frame time (RGB + depth, 640x480).

Run: `. scripts/env.sh && python bench/bench_bridge.py [--seconds 10]`
"""

from __future__ import annotations

import argparse
import time

import mujoco
import numpy as np
from rosgraph_msgs.msg import Clock

from legion_bringup.launcher import LaunchedNodes
from legion_sim.simulation import Simulation
from legion_testing.probe import Probe


def bare_mujoco(seconds: float) -> tuple[float, float]:
    """(mj_step steps/s, median camera frame time [ms]) on the bridge's own model."""
    sim = Simulation.from_names("centurion", "sorting_cell")
    model, data = sim.model, sim.data
    for _ in range(500):
        mujoco.mj_step(model, data)
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(100):
            mujoco.mj_step(model, data)
        steps += 100
    rate = steps / (time.perf_counter() - start)
    frame_times = []
    for _ in range(20):
        tick = time.perf_counter()
        sim.render_camera()
        frame_times.append(time.perf_counter() - tick)
    sim.close()
    return rate, float(np.median(frame_times[2:])) * 1e3


def bridge_rate(seconds: float, real_time_factor: float, camera_rate: float) -> float:
    """Simulated seconds per wall second of the sim_bridge process (sampled from `clock` after warm-up)."""
    parameters = {"sim_bridge": {"real_time_factor": real_time_factor, "camera_rate": camera_rate}}
    with LaunchedNodes("sim", {"scene": "sorting_cell", "lockstep": "false"}, echo=False,
                       extra_parameters=parameters):
        probe = Probe("bench_bridge_probe")
        latest: list[float] = []
        probe.record("/clock", Clock, callback=lambda m: latest.append(m.clock.sec + m.clock.nanosec * 1e-9))
        try:
            probe.wait_until(lambda: bool(latest), 90.0, "the simulation clock")
            time.sleep(2.0)  # warm-up
            sim_start, wall_start = latest[-1], time.monotonic()
            time.sleep(seconds)
            return (latest[-1] - sim_start) / (time.monotonic() - wall_start)
        finally:
            probe.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="wall seconds per measurement")
    options = parser.parse_args()
    bare, frame_ms = bare_mujoco(options.seconds)
    physics_rate = 1000.0
    print(f"bare mj_step (Centurion + sorting_cell):         {bare:8.0f} steps/s")
    print(f"camera frame RGB + depth 640x480 (median):       {frame_ms:8.1f} ms")
    for camera_rate in (0.0, 10.0):
        label = "camera on (10 Hz)" if camera_rate else "camera off"
        fastest = bridge_rate(options.seconds, 0.0, camera_rate)
        print(f"sim_bridge as fast as it can, {label:18s} {fastest * physics_rate:8.0f} steps/s "
              f"(real-time factor {fastest:.2f}; bare MuJoCo / bridge = {bare / (fastest * physics_rate):.2f})")
    for camera_rate in (0.0, 10.0):
        label = "camera on (10 Hz)" if camera_rate else "camera off"
        achieved = bridge_rate(options.seconds, 1.0, camera_rate)
        print(f"sim_bridge real-time mode, {label:21s} real-time factor {achieved:.3f}")


if __name__ == "__main__":
    main()
