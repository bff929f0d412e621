"""Render test frames of scenes with the real simulator (legion_sim), for the perception tests and the bench.

Needs legion_sim and MuJoCo (test dependencies); the node and the core never import this module.

Poses are set kinematically (base pose and joint positions written into MuJoCo's state, no physics step), so a
frame is exactly reproducible and the parts stay where the scene puts them. The reference camera pose here is the
simulator's own (ground truth); that is allowed in tests only - the node computes it from `odom` and kinematics.
"""

from __future__ import annotations

import copy
import functools
import math
from dataclasses import dataclass
from pathlib import Path

import mujoco
import numpy as np
import yaml

from legion_common.transforms import invert_transform
from legion_description.robot_config import load_robot_config
from legion_description.robot_files import expand_urdf
from legion_perception.geometry import CameraIntrinsics, project, transform_points
from legion_sim.scene import load_scene, scene_path
from legion_sim.simulation import Simulation

OPTICAL_FROM_MUJOCO_CAMERA = np.diag([1.0, -1.0, -1.0])
"""A MuJoCo camera looks along its -z with y up; the optical frame looks along +z with y down."""


@functools.cache
def robot_files(robot: str = "centurion") -> tuple:
    """(RobotConfig, expanded URDF) of a robot, loaded once per test session."""
    return load_robot_config(robot), expand_urdf(robot)


def sorting_cell() -> dict:
    """The standard sorting-cell scene as a mapping (to modify in a test)."""
    return yaml.safe_load(scene_path("sorting_cell").read_text())


def make_sim(scene: dict | str, directory: Path | None = None, robot: str = "centurion",
             sensor_noise: bool = True) -> Simulation:
    """A simulation of `robot` in a scene given by name or as a mapping (written to `directory` as YAML), with the
    robot's sensor figures (docs/sensors.md) or, with `sensor_noise=False`, exact images."""
    config, urdf = robot_files(robot)
    if isinstance(scene, dict):
        path = Path(directory) / f"{scene['name']}.yaml"
        path.write_text(yaml.safe_dump(copy.deepcopy(scene), sort_keys=False))
        scene = str(path)
    return Simulation(config, load_scene(scene), urdf, sensor_noise=sensor_noise)


@dataclass(frozen=True)
class Viewpoint:
    """Where the robot stands and where its head looks."""

    x: float = 0.0
    """Base position in the world [m]."""
    y: float = 0.0
    yaw: float = 0.0
    """Base heading [rad]."""
    neck_pitch: float = 0.85
    """[rad], positive looks down."""
    neck_yaw: float = 0.0
    """[rad], positive looks left."""
    waist_pitch: float = 0.0
    """[rad], positive leans forward."""


def look(sim: Simulation, view: Viewpoint) -> None:
    """Put the robot at a viewpoint (kinematically: no physics step)."""
    model, data = sim.model, sim.data
    root = model.jnt_qposadr[model.joint("floating_base").id]
    data.qpos[root:root + 2] = (view.x, view.y)
    data.qpos[root + 3:root + 7] = (math.cos(view.yaw / 2.0), 0.0, 0.0, math.sin(view.yaw / 2.0))
    for joint, value in (("neck_pitch", view.neck_pitch), ("neck_yaw", view.neck_yaw),
                         ("waist_pitch", view.waist_pitch)):
        data.qpos[model.jnt_qposadr[model.joint(joint).id]] = value
    mujoco.mj_forward(model, data)


def set_lighting(sim: Simulation, scale: float) -> None:
    """Scale every light's diffuse part and the headlight (1 = the scene's own lighting)."""
    model = sim.model
    if not hasattr(sim, "_base_lighting"):
        sim._base_lighting = (model.light_diffuse.copy(), model.vis.headlight.ambient.copy(),
                              model.vis.headlight.diffuse.copy())
    diffuse, ambient, head = sim._base_lighting
    model.light_diffuse[:] = np.clip(diffuse * scale, 0.0, 1.0)
    model.vis.headlight.ambient[:] = np.clip(ambient * scale, 0.0, 1.0)
    model.vis.headlight.diffuse[:] = np.clip(head * scale, 0.0, 1.0)


def reset_scene(sim: Simulation) -> Simulation:
    """The simulation back at its start state (`Simulation.reset`) and the scene's own lighting, for a simulation
    shared by several tests that move the robot or change the light. Returns `sim`."""
    sim.reset()
    set_lighting(sim, 1.0)
    return sim


def camera_to_world(sim: Simulation) -> np.ndarray:
    """True pose of the head camera's optical frame in the world (= odom in simulation).  # (4, 4)"""
    camera = sim.model.camera("head_camera").id
    transform = np.eye(4)
    transform[:3, :3] = sim.data.cam_xmat[camera].reshape(3, 3) @ OPTICAL_FROM_MUJOCO_CAMERA
    transform[:3, 3] = sim.data.cam_xpos[camera]
    return transform


@dataclass(frozen=True)
class Capture:
    rgb: np.ndarray
    depth: np.ndarray
    camera: CameraIntrinsics
    camera_to_odom: np.ndarray


def capture(sim: Simulation) -> Capture:
    """Render the head camera: colour and depth as the robot's camera gives them (with its depth errors unless the
    simulation was made with `sensor_noise=False`), and the camera's true pose."""
    frame = sim.render_camera()
    i = frame.intrinsics
    return Capture(frame.rgb, frame.depth, CameraIntrinsics(i.fx, i.fy, i.cx, i.cy, i.width, i.height),
                   camera_to_world(sim))


def truth(sim: Simulation) -> dict[str, tuple[str, np.ndarray]]:
    """Part id -> (label, true centre in the world)."""
    return {o.id: (o.label, o.position) for o in sim.ground_truth_objects()}


def fully_in_view(sim: Simulation, cap: Capture, position: np.ndarray, radius: float = 0.06, margin: int = 4) -> bool:
    """Whether a sphere of `radius` around a point projects entirely inside the image (not whether it is occluded)."""
    offsets = np.array([[dx, dy, dz] for dx in (-1, 1) for dy in (-1, 1) for dz in (-1, 1)]) * radius
    points = transform_points(invert_transform(cap.camera_to_odom), position + offsets)
    if (points[:, 2] <= 0.05).any():
        return False
    u, v, _ = project(points, cap.camera)
    return bool((u >= margin).all() and (u < cap.camera.width - margin).all() and (v >= margin).all()
                and (v < cap.camera.height - margin).all())


def match(detections, expected: dict[str, tuple[str, np.ndarray]], gate: float = 0.05):
    """Greedy nearest matching of detections (with .label, .position) to true parts.

    Returns (pairs [(part id, detection, error [m])], unmatched detections, unmatched part ids)."""
    candidates = sorted((float(np.linalg.norm(d.position - p)), i, part)
                        for i, d in enumerate(detections) for part, (_, p) in expected.items())
    used_d, used_p, pairs = set(), set(), []
    for error, i, part in candidates:
        if error > gate or i in used_d or part in used_p:
            continue
        used_d.add(i)
        used_p.add(part)
        pairs.append((part, detections[i], error))
    extra = [d for i, d in enumerate(detections) if i not in used_d]
    missed = [part for part in expected if part not in used_p]
    return pairs, extra, missed
