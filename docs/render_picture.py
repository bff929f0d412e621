"""Render the README picture: Centurion standing at the sorting cell, seen from a free camera, and the head camera.

Run: `. scripts/env.sh && python docs/render_picture.py` (writes docs/images/*.png).
"""

from pathlib import Path

import cv2
import mujoco
import numpy as np

from legion_description import load_robot_config
from legion_sim.simulation import Simulation


def main() -> None:
    out = Path(__file__).resolve().parent / "images"
    out.mkdir(exist_ok=True)
    sim = Simulation.from_names("centurion", "sorting_cell")
    config = load_robot_config("centurion")
    names = list(config.all_joints)
    posture = dict(config.standing) | config.postures["inspect_table"]
    # Position hold of the inspection posture on top of the simulator's own standing hold: head down at the table.
    for _ in range(1500):
        sim.set_command(names, [posture[n] for n in names], [0.0] * len(names), list(sim.joint_state().effort),
                        [config.gains[n].stiffness for n in names], [config.gains[n].damping for n in names])
        sim.step(1)
    renderer = mujoco.Renderer(sim.model, height=480, width=640)
    camera = mujoco.MjvCamera()
    camera.lookat[:] = [0.3, 0.0, 0.8]
    camera.distance, camera.azimuth, camera.elevation = 3.2, 145.0, -20.0
    renderer.update_scene(sim.data, camera)
    scene = renderer.render()
    head = sim.render_camera().rgb
    cv2.imwrite(str(out / "sorting_cell.png"), cv2.cvtColor(scene, cv2.COLOR_RGB2BGR))
    cv2.imwrite(str(out / "head_camera.png"), cv2.cvtColor(np.ascontiguousarray(head), cv2.COLOR_RGB2BGR))


if __name__ == "__main__":
    main()
