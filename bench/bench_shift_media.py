"""Benchmark of the main job's report artefacts: the cell camera's frames, the MP4 and the plots.

Frames: the simulator (sorting cell, exact sensors) runs the standing robot under a sideways push for `--frames`
frames of 0.1 s (10 fps of simulated time); each frame the cell camera is posed from the simulator's ground truth and
joint positions, as the job does from `ground_truth/odom`, `joint_states` and `ground_truth/objects`. Per frame, wall
time [ms], median / p95: posing + rendering (640x480, EGL, shadows off), anonymising the co-worker's head, the
overlay line, handing the frame to ffmpeg (libx264 runs in its own process: the whole encode is the wall time of
the run including `close`, divided by the frames); and, once, the optional full-image face search
(`detect_faces=True`). Plots: a record the size of a 10-minute shift (12 000 samples at 20 Hz with every series,
1 200 footsteps, a 200 x 200 obstacle grid, 6 parts with 4 phases each): time per plot and the record's JSON size
and save + load time.

Run: `. scripts/env.sh && python bench/bench_shift_media.py` (`--frames N`, default 100).
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from legion_bringup.shift_media import (
    CellCamera,
    ShiftVideo,
    draw_overlay,
    plot_cell_map,
    plot_com_zmp,
    plot_part_timeline,
)
from legion_bringup.shift_record import CellLayout, Footstep, ObstacleGrid, PartEvent, PhaseSpan, ShiftRecord
from legion_sim.simulation import Simulation

CELL = Path(__file__).resolve().parents[1] / "config" / "cells" / "sorting_cell.yaml"


def stats(times: list[float]) -> str:
    ms = np.array(times) * 1e3
    return f"median {np.median(ms):6.1f} ms, p95 {np.percentile(ms, 95):6.1f} ms"


def bench_frames(frames: int, folder: Path) -> None:
    sim = Simulation.from_names("centurion", "sorting_cell", sensor_noise=False)
    camera = CellCamera("sorting_cell")
    base_frame = camera.config.frames["base"]
    times: dict[str, list[float]] = {"render": [], "anonymise": [], "overlay": [], "to ffmpeg": []}
    render_cpu: list[float] = []
    path = folder / "bench.mp4"
    start = time.perf_counter()
    with ShiftVideo(path, fps=10.0) as video:
        for k in range(frames):
            if k % 20 == 0:
                sim.apply_wrench(base_frame, (0.0, 30.0 if k % 40 == 0 else -30.0, 0.0), (0.0, 0.0, 0.0), 0.2)
            sim.step(100)
            base, joints = sim.ground_truth_base(), sim.joint_state()
            parts = {o.id: (o.position, o.orientation) for o in sim.ground_truth_objects()}
            t0, c0 = time.perf_counter(), time.process_time()
            image = camera.render(base.position, base.orientation,
                                  dict(zip(joints.names, joints.position, strict=True)), parts, anonymise=False)
            t1 = time.perf_counter()
            render_cpu.append(time.process_time() - c0)
            image = camera.anonymise(image)
            t2 = time.perf_counter()
            image = draw_overlay(image, f"t {sim.time:5.1f} s   phase stand   parts 0/6")
            t3 = time.perf_counter()
            video.add(image, sim.time)
            t4 = time.perf_counter()
            for key, seconds in zip(times, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
                times[key].append(seconds)
    total = time.perf_counter() - start
    sim.close()
    print(f"cell camera, {frames} frames of 640x480 (10 fps of simulated time), wall time per frame:")
    for key, values in times.items():
        print(f"  {key:<10} {stats(values)}")
    print(f"  render CPU time of this process (the GL driver's threads included) {stats(render_cpu)}")
    print(f"  all: pose + render + blur + overlay + encode {sum(np.median(v) for v in times.values()) * 1e3:.1f} ms "
          f"(medians); whole run incl. ffmpeg close {total / frames * 1e3:.1f} ms/frame "
          f"(the simulator's 100 steps per frame included)")
    print(f"  MP4: {video.frames} frames, {path.stat().st_size / 1024:.0f} KiB "
          f"({path.stat().st_size / 1024 / (video.frames / 10.0):.0f} KiB per simulated second)")
    camera.close()
    with CellCamera("sorting_cell", detect_faces=True) as detecting:
        image = detecting.render(anonymise=False)
        search = []
        for _ in range(10):
            t0 = time.perf_counter()
            detecting.anonymise(image)
            search.append(time.perf_counter() - t0)
    print(f"  anonymise with the full-image face search (detect_faces=True): {stats(search)}")


def shift_record(minutes: float = 10.0, seed: int = 0) -> ShiftRecord:
    rng = np.random.default_rng(seed)
    record = ShiftRecord(scene="sorting_cell", robot="centurion", cell=CellLayout.load(CELL))
    for k in range(int(minutes * 60 * 20)):
        t = 0.05 * k
        x, y = 0.5 * math.sin(t / 30.0), 1.1 * math.sin(t / 47.0)
        sway = 0.05 * math.sin(2 * math.pi * t / 1.6)
        record.add_sample(t, (x, y, 0.3 * math.sin(t / 20)), (x + 1e-4 * t, y, 0.0), (x, y + sway),
                          (x + 0.01 * rng.standard_normal(), y + 2 * sway), (x, y + sway), (x, y + 1.8 * sway))
    for k in range(1200):
        t = 0.5 * k
        record.footsteps.append(Footstep(t, 0.5 * math.sin(t / 30.0), 1.1 * math.sin(t / 47.0) + (0.1 if k % 2 else
                                                                                                   -0.1),
                                         0.3 * math.sin(t / 20), "left" if k % 2 else "right"))
    cells = (rng.random(200 * 200) > 0.97).astype(int) * 100
    record.grid = ObstacleGrid.from_occupancy(-5.0, -5.0, 0.0, 0.05, 200, 200, cells)
    for i in range(6):
        t = 60.0 + 90.0 * i
        record.parts.append(PartEvent(f"part_{i}", "red_cube", "placed", (0.43, 0.15 * (i - 3)), (0.35, 0.72),
                                      "red_bin", tuple(PhaseSpan(name, t + 10 * j, t + 10 * (j + 1))
                                                       for j, name in enumerate(("walk", "pick", "carry", "place")))))
    return record


def bench_plots(folder: Path) -> None:
    record = shift_record()
    print(f"plots of a 10-minute shift ({len(record.samples)} samples, {len(record.footsteps)} footsteps, "
          f"200x200 grid, {len(record.parts)} parts):")
    for name, plot in (("cell map", plot_cell_map), ("CoM/ZMP", plot_com_zmp), ("part timeline", plot_part_timeline)):
        t0 = time.perf_counter()
        path = plot(record, folder / f"{name.replace(' ', '_').replace('/', '_')}.png")
        print(f"  {name:<14} {(time.perf_counter() - t0) * 1e3:7.0f} ms, {path.stat().st_size / 1024:.0f} KiB")
    t0 = time.perf_counter()
    path = record.save(folder / "record.json")
    ShiftRecord.load(path)
    print(f"  record JSON {path.stat().st_size / 1e6:.1f} MB, save + load {(time.perf_counter() - t0) * 1e3:.0f} ms")


def gl_renderer() -> str:
    """The OpenGL renderer MuJoCo draws with (e.g. llvmpipe: software rendering on the CPU)."""
    import mujoco
    from OpenGL import GL

    renderer = mujoco.Renderer(mujoco.MjModel.from_xml_string("<mujoco/>"), 16, 16)
    try:
        return GL.glGetString(GL.GL_RENDERER).decode()
    finally:
        renderer.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=100, help="video frames (default 100)")
    args = parser.parse_args()
    print(f"OpenGL renderer: {gl_renderer()}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as folder:
        bench_frames(args.frames, Path(folder))
        bench_plots(Path(folder))


if __name__ == "__main__":
    main()
