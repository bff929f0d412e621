"""The report artefacts of a real (in-process) walk at the sorting cell: plots and an MP4, to look at.

Centurion (in-process: simulator + whole-body controller + gait planner, `legion_testing.walking_loop`, on the leg
odometry over the robot's noisy sensors) stands 1 s, walks backwards at 0.15 m/s for 4 s, turns left on the spot
for 3 s and settles. At each planner tick (20 Hz) the judge's side of the job is played in-process: the true and
estimated base, the measured CoM and ZMP (`shift_inputs.MeasuredBalance` over the simulator's ankle wrenches), the
planner's CoM and ZMP at that instant, the landed soles; a video frame every 0.1 s of simulated time from the cell
camera, posed from ground truth. No obstacle grid and no part handling in this loop (perception and the executive
are not in it): the parts are listed where the scene puts them, outcome `untouched`.

Run: `. scripts/env.sh && python bench/demo_shift_media.py [--out folder]` (default /tmp/legion_shift_demo).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from legion_bringup.shift_inputs import MeasuredBalance
from legion_bringup.shift_media import CellCamera, ShiftVideo, write_plots
from legion_bringup.shift_record import CellLayout, Footstep, PartEvent, ShiftRecord
from legion_common.transforms import yaw_from_quaternion
from legion_testing.walking_loop import WalkingLoop

CELL = Path(__file__).resolve().parents[1] / "config" / "cells" / "sorting_cell.yaml"
SCHEDULE = ((1.0, None, "stand"), (4.0, (-0.15, 0.0, 0.0), "walk back"), (3.0, (0.0, 0.0, 0.3), "turn"),
            (3.0, None, "settle"))
"""(duration [s], cmd_vel (forward, left, yaw rate) or None, phase name)."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="/tmp/legion_shift_demo", help="output folder")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    walker = WalkingLoop(scene="sorting_cell", odometry="leg")
    sim = walker.loop.sim
    balance = MeasuredBalance("centurion")
    camera = CellCamera("sorting_cell")
    record = ShiftRecord(scene="sorting_cell", robot="centurion", cell=CellLayout.load(CELL))
    record.parts = [PartEvent(p.id, p.label, "untouched", (p.position[0], p.position[1]), (p.position[0],
                                                                                          p.position[1]))
                    for p in sim.scene.parts]
    landed: dict[str, tuple[float, float, float]] = {}
    phase = ["stand"]
    render_time: list[float] = []

    with ShiftVideo(out / "shift.mp4", fps=10.0) as video:
        def on_tick(loop: WalkingLoop) -> None:
            t = loop.time
            base, joint_state = sim.ground_truth_base(), sim.joint_state()
            joints = dict(zip(joint_state.names, joint_state.position, strict=True))
            estimate = loop.loop.last_odometry
            estimated = None if estimate is None else (float(estimate.position[0]), float(estimate.position[1]),
                                                       yaw_from_quaternion(estimate.orientation))
            wrenches = {side: (w.force, w.torque) for side, w in sim.foot_wrenches().items()}
            com, zmp = balance.com_zmp(base.position, base.orientation, joints, wrenches)
            com_reference = zmp_reference = None
            output = loop.last_output
            if output is not None and output.samples is not None and len(output.samples):
                samples = output.samples
                i = int(np.argmin(np.abs(samples.time - t)))
                com_reference = tuple(samples.com_position[i, :2])
                zmp_reference = tuple(samples.zmp[i, :2])
            record.add_sample(t, (float(base.position[0]), float(base.position[1]),
                                  yaw_from_quaternion(base.orientation)), estimated, com, zmp, com_reference,
                              zmp_reference)
            if output is not None:
                for side, sole in output.soles.items():
                    pose = tuple(float(v) for v in sole)
                    if side not in landed or np.linalg.norm(np.subtract(pose[:2], landed[side][:2])) > 0.01 \
                            or abs(pose[2] - landed[side][2]) > 0.02:
                        landed[side] = pose
                        record.footsteps.append(Footstep(t, *pose, side=side))
            if video.due(t):
                start = time.perf_counter()
                parts = {o.id: (o.position, o.orientation) for o in sim.ground_truth_objects()}
                frame = camera.render(base.position, base.orientation, joints, parts,
                                      overlay=f"t {t:5.1f} s   {phase[0]}   parts 0/{len(record.parts)}")
                video.add(frame, t)
                render_time.append(time.perf_counter() - start)

        wall = time.perf_counter()
        for duration, command, name in SCHEDULE:
            phase[0] = name
            if command is None:
                walker.stop_command()
            else:
                walker.command(*command)
            if not walker.run(duration, on_tick):
                print(f"the robot fell during {name}")
                break
        wall = time.perf_counter() - wall
    camera.close()
    plots = write_plots(record, out, "shift", (walker.geometry.sole_length, walker.geometry.sole_width))
    record.save(out / "shift.json")
    print(f"simulated {walker.time:.1f} s in {wall:.1f} s wall; {len(record.samples)} samples, "
          f"{len(record.footsteps)} footsteps, {video.frames} video frames "
          f"(render + blur + encode median {np.median(render_time) * 1e3:.0f} ms)")
    for name, path in {**plots, "video": video.path, "record": out / "shift.json"}.items():
        print(f"  {name:<8} {path}")


if __name__ == "__main__":
    main()
