#!/usr/bin/env python3
"""Time the simulated hardware: physics steps per second with the servo law against bare mj_step, and the camera.

    python bench/bench_sim.py                        # Centurion in the sorting cell
    python bench/bench_sim.py --scene empty --frames 50

Rows:
- `Simulation.step`: the hardware's physics step (servo law, watchdog check, then mj_step), standing under the hold.
- `mujoco.mj_step`: the same model stepped bare from the same start, replaying the torques the hardware applied (so
  the same trajectory): the physics alone.
- per control tick: joint_state() + imu() + foot_wrenches(), what the node reads at 500 Hz.
- camera: render_camera() (640x480 rgb + depth, EGL on the CPU), median of `--frames` frames after one warm-up.
Each stepping row runs `--steps` steps from a fresh reset, `--repeats` times, and reports the best rate (the least
disturbed by other load on the machine). Runs from a source checkout without a colcon build.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

WORKSPACE = Path(__file__).resolve().parents[1]
for package in ("legion_description", "legion_sim"):
    try:
        __import__(package)
    except ImportError:
        sys.path.insert(0, str(WORKSPACE / "src" / package))

os.environ.setdefault("MUJOCO_GL", "egl")

import mujoco  # noqa: E402
import numpy as np  # noqa: E402

from legion_sim.simulation import Simulation  # noqa: E402


def steps_per_second(step, reset, steps: int, repeats: int) -> float:
    """Best rate [steps/s] over `repeats` runs of `steps` steps, each from a reset."""
    best = 0.0
    for _ in range(repeats):
        reset()
        start = time.perf_counter()
        step(steps)
        best = max(best, steps / (time.perf_counter() - start))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--robot", default="centurion", help="robot name (config/robots/<robot>.yaml)")
    parser.add_argument("--scene", default="sorting_cell", help="scene name or path")
    parser.add_argument("--steps", type=int, default=2000, help="physics steps per timed run (2 s of sim time)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per row; the best is reported")
    parser.add_argument("--frames", type=int, default=20, help="camera frames to time")
    args = parser.parse_args()

    sim = Simulation.from_names(args.robot, args.scene)
    model, data = sim.model, sim.data
    print(f"# legion_sim bench: robot {args.robot} ({model.nu} actuated joints, nq {model.nq}, nv {model.nv}, "
          f"{model.ngeom} geoms), scene {args.scene}, timestep {model.opt.timestep * 1e3:.1f} ms")
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"python {platform.python_version()}, mujoco {mujoco.__version__}, MUJOCO_GL={os.environ.get('MUJOCO_GL')}")

    hardware = steps_per_second(sim.step, sim.reset, args.steps, args.repeats)

    # The bare physics replays the torques the hardware computed, so it follows the same trajectory (same contacts,
    # same solver work) and the difference is the hardware layer alone.
    sim.reset()
    torques = np.empty((args.steps, model.nu))
    for i in range(args.steps):
        sim.step()
        torques[i] = data.ctrl
    contacts = data.ncon

    def bare(steps: int) -> None:
        ctrl = data.ctrl
        for i in range(steps):
            ctrl[:] = torques[i]
            mujoco.mj_step(model, data)

    physics = steps_per_second(bare, sim.reset, args.steps, args.repeats)

    sim.reset()
    sim.step(500)
    reads = []
    for _ in range(2000):
        start = time.perf_counter()
        sim.joint_state()
        sim.imu()
        sim.foot_wrenches()
        reads.append(time.perf_counter() - start)

    frames = []
    sim.render_camera()  # creates the renderer and the GL context
    for _ in range(args.frames):
        sim.step(10)
        start = time.perf_counter()
        sim.render_camera()
        frames.append(time.perf_counter() - start)
    sim.close()

    print()
    print("| what | rate | per call |")
    print("|---|---|---|")
    print(f"| Simulation.step (servo law + mj_step) | {hardware:,.0f} steps/s | {1e6 / hardware:.1f} us |")
    print(f"| bare mujoco.mj_step, same model and trajectory ({contacts} contacts at the end) | "
          f"{physics:,.0f} steps/s | {1e6 / physics:.1f} us |")
    print(f"| overhead of the hardware layer | x{physics / hardware:.2f} | {1e6 / hardware - 1e6 / physics:.1f} us |")
    print(f"| sensor reads per control tick (joint_state, imu, foot_wrenches) | median | "
          f"{np.median(reads) * 1e6:.1f} us |")
    print(f"| camera rgb+depth {sim.options.camera_width}x{sim.options.camera_height} | median of {args.frames} | "
          f"{np.median(frames) * 1e3:.1f} ms (p90 {np.percentile(frames, 90) * 1e3:.1f} ms) |")
    print(f"| real-time factor at {1 / model.opt.timestep:.0f} Hz physics, no camera | "
          f"x{hardware * model.opt.timestep:.1f} | |")


if __name__ == "__main__":
    main()
