"""The head camera renders from the optical frame its images are stamped with, whatever that frame's pose."""

from __future__ import annotations

import numpy as np
import pytest

from legion_sim.scene import load_scene, parse_scene
from legion_sim.simulation import Simulation

STANDARD_OPTICAL_RPY = 'rpy="-1.5707963 0 -1.5707963"'
"""The tiny robot's optical frames: the REP-103 rotation of the camera link."""
SKEWED_OPTICAL_RPY = 'rpy="-2.0 0.3 -1.9"'
"""Optical frames that are not that rotation (looking down and to the right of the link's x, rolled)."""
BALL_RADIUS = 0.06
"""[m]"""


def _optical_pose(sim: Simulation) -> tuple[np.ndarray, np.ndarray]:
    """(origin, rotation) of the colour optical frame in the world."""
    site = sim.data.site(sim.config.frames["camera_color_optical"])
    return site.xpos.copy(), site.xmat.reshape(3, 3).copy()


def test_a_ball_appears_where_the_optical_frame_projects_it(tiny_robot):
    config, urdf = tiny_robot
    skewed = urdf.replace(STANDARD_OPTICAL_RPY, SKEWED_OPTICAL_RPY)
    assert skewed.count(SKEWED_OPTICAL_RPY) == 2  # colour and depth optical frames

    # Where the optical frame's pixel (0.7 W, 0.3 H) ray meets a ball resting on the floor: the robot stands the same
    # in any scene, so an empty one gives the camera pose.
    probe = Simulation(config, load_scene("empty"), skewed, sensor_noise=False)
    k = probe.camera_intrinsics
    origin, rotation = _optical_pose(probe)
    probe.close()
    u0, v0 = 0.7 * k.width, 0.3 * k.height
    ray = rotation @ np.array([(u0 - k.cx) / k.fx, (v0 - k.cy) / k.fy, 1.0])
    target = origin + (BALL_RADIUS - origin[2]) / ray[2] * ray
    scene = parse_scene(
        {
            "name": "ball",
            "parts": [
                {
                    "id": "ball",
                    "label": "red_ball",
                    "shape": "sphere",
                    "size": [BALL_RADIUS],
                    "mass": 0.2,
                    "colour": "red",
                    "position": [float(target[0]), float(target[1])],
                }
            ],
        },
        "ball.yaml",
    )

    sim = Simulation(config, scene, skewed, sensor_noise=False)
    try:
        frame = sim.render_camera()
        origin, rotation = _optical_pose(sim)
        (ball,) = sim.ground_truth_objects()
    finally:
        sim.close()
    x, y, z = rotation.T @ (np.asarray(ball.position) - origin)
    u, v = k.fx * x / z + k.cx, k.fy * y / z + k.cy
    assert (u, v) == pytest.approx((u0, v0), abs=1.0)

    rgb = frame.rgb.astype(int)
    red = (rgb[..., 0] > 120) & (rgb[..., 1] < 60) & (rgb[..., 2] < 60)
    rows, columns = np.nonzero(red)
    assert rows.size > 100, "the ball is in the image"
    assert abs(columns.mean() - u) < 3.0 and abs(rows.mean() - v) < 3.0, ((columns.mean(), rows.mean()), (u, v))
    # the depth image is registered to the colour one: the ball's near side, one radius before its centre
    assert frame.depth[round(v), round(u)] == pytest.approx(z - BALL_RADIUS, abs=0.01)
