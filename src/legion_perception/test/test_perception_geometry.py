"""Core math: camera geometry, transforms, fits, colour lookup, settings validation."""

import math

import cv2
import numpy as np
import pytest

from legion_perception.config import DetectionConfig, PerceptionConfig, flatten, from_flat, validate
from legion_perception.detection import depth_edges, fit_circle, fit_sphere, hue_lookup
from legion_perception.errors import ConfigError, InputError
from legion_perception.geometry import (
    CameraIntrinsics,
    deproject,
    invert_transform,
    matrix_to_quaternion,
    pose_to_matrix,
    project,
    quaternion_to_matrix,
    transform_points,
    wrap_angle,
    yaw_of,
    yaw_quaternion,
)

CAMERA = CameraIntrinsics(fx=376.7, fy=376.7, cx=319.5, cy=239.5, width=640, height=480)


def random_rotation(rng: np.random.Generator) -> np.ndarray:
    q = rng.normal(size=4)
    return quaternion_to_matrix(q / np.linalg.norm(q))


def test_deproject_then_project_returns_the_pixels():
    rng = np.random.default_rng(1)
    u, v = rng.uniform(0, 640, 200), rng.uniform(0, 480, 200)
    z = rng.uniform(0.3, 5.0, 200)
    points = deproject(u, v, z, CAMERA)
    u2, v2, z2 = project(points, CAMERA)
    np.testing.assert_allclose(u2, u, atol=1e-9)
    np.testing.assert_allclose(v2, v, atol=1e-9)
    np.testing.assert_allclose(z2, z, atol=1e-12)


def test_principal_point_lies_on_the_optical_axis_and_behind_projects_to_nan():
    np.testing.assert_allclose(deproject(np.array([319.5]), np.array([239.5]), np.array([2.0]), CAMERA),
                               [[0.0, 0.0, 2.0]])
    u, v, _ = project(np.array([[0.1, 0.1, -1.0]]), CAMERA)
    assert np.isnan(u[0]) and np.isnan(v[0])


def test_quaternion_matrix_round_trip_and_transform_inverse():
    rng = np.random.default_rng(2)
    for _ in range(50):
        rotation = random_rotation(rng)
        assert np.allclose(rotation @ rotation.T, np.eye(3), atol=1e-12)
        q = matrix_to_quaternion(rotation)
        assert q[3] >= 0
        np.testing.assert_allclose(quaternion_to_matrix(q), rotation, atol=1e-12)
        transform = pose_to_matrix(rng.normal(size=3), q)
        points = rng.normal(size=(10, 3))
        np.testing.assert_allclose(transform_points(invert_transform(transform), transform_points(transform, points)),
                                   points, atol=1e-12)


def test_yaw_helpers():
    for yaw in (-3.0, -0.7, 0.0, 0.3, 2.9):
        assert yaw_of(quaternion_to_matrix(yaw_quaternion(yaw))) == pytest.approx(yaw)
    assert wrap_angle(0.9, math.pi / 2) == pytest.approx(0.9 - math.pi / 2)
    assert wrap_angle(-math.pi) == pytest.approx(-math.pi)
    assert wrap_angle(3 * math.pi) == pytest.approx(-math.pi)


@pytest.mark.parametrize("quaternion", [[0, 0, 0, 0], [np.nan, 0, 0, 1], [1, 2, 3]])
def test_bad_quaternions_are_input_errors(quaternion):
    with pytest.raises(InputError):
        quaternion_to_matrix(np.array(quaternion, dtype=float))


def test_intrinsics_checks_and_scaling():
    with pytest.raises(InputError, match="intrinsics"):
        CameraIntrinsics(0.0, 0.0, 0.0, 0.0, 640, 480).checked()
    with pytest.raises(InputError, match="size"):
        CameraIntrinsics(300.0, 300.0, 320.0, 240.0, 0, 480).checked()
    half = CAMERA.scaled(0.5)
    # A point's pixel in the half-size image is half its pixel in the full image (in pixel-edge coordinates).
    point = np.array([[0.2, -0.1, 1.5]])
    u, v, _ = project(point, CAMERA)
    u2, v2, _ = project(point, half)
    assert (u2[0] + 0.5) == pytest.approx((u[0] + 0.5) / 2) and (v2[0] + 0.5) == pytest.approx((v[0] + 0.5) / 2)
    assert (half.width, half.height) == (320, 240)


def test_sphere_and_circle_fits_recover_the_shape_under_noise():
    rng = np.random.default_rng(3)
    centre, radius = np.array([0.5, -0.1, 0.8]), 0.03
    directions = rng.normal(size=(400, 3))
    directions[:, 0] = -np.abs(directions[:, 0])  # only the half facing a viewer at -x
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    points = centre + radius * directions + rng.normal(0, 0.0003, (400, 3))
    fitted, r, rms = fit_sphere(points)
    assert np.linalg.norm(fitted - centre) < 1e-3 and abs(r - radius) < 1e-3 and rms < 5e-4
    # a flat patch is no sphere: its best sphere is huge or its fit poor
    flat = np.column_stack([rng.uniform(0, 0.05, 200), rng.uniform(0, 0.05, 200), np.full(200, 0.8)])
    _, r_flat, rms_flat = fit_sphere(flat)
    assert r_flat > 0.1 or rms_flat > 0.08 * r_flat

    angles = rng.uniform(0, 2 * math.pi, 100)
    circle = np.column_stack([0.2 + 0.025 * np.cos(angles), -0.3 + 0.025 * np.sin(angles)])
    c, r = fit_circle(circle + rng.normal(0, 0.0002, circle.shape))
    assert np.linalg.norm(c - [0.2, -0.3]) < 3e-4 and abs(r - 0.025) < 3e-4


def test_depth_edges_mark_the_far_side_only():
    depth = np.full((10, 10), 2.0, np.float32)
    depth[3:7, 3:7] = 1.0  # a near square in front of a far wall
    edges = depth_edges(depth, 0.02)
    assert not edges[3:7, 3:7].any()  # the near surface keeps every pixel
    assert edges[3:7, 2].all() and edges[3:7, 7].all() and edges[2, 3:7].all() and edges[7, 3:7].all()
    depth[0, 0] = np.nan
    assert depth_edges(depth, 0.02).shape == depth.shape  # NaN does not raise


def test_named_colours_map_to_their_names_and_furniture_is_not_a_part_colour():
    from legion_sim.scene import COLOURS

    config = DetectionConfig()
    table = hue_lookup(config)
    for name in config.colour_names:
        rgb = np.array([[np.array(COLOURS[name][:3]) * 255]], dtype=np.uint8)
        for shade in (0.4, 0.7, 1.0):  # lighting scales every channel: the hue and saturation stay
            hsv = cv2.cvtColor((rgb * shade).astype(np.uint8), cv2.COLOR_RGB2HSV_FULL)[0, 0]
            assert config.colour_names[table[hsv[0]]] == name
            assert hsv[1] >= config.min_saturation * 255
    for name in ("wood", "grey", "white", "steel", "light_grey", "dark_grey", "black"):
        rgb = np.array([[np.array(COLOURS[name][:3]) * 255]], dtype=np.uint8)
        assert cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV_FULL)[0, 0, 1] < config.min_saturation * 255, name


def test_settings_validation_names_the_parameter():
    validate(PerceptionConfig())
    flat = {name: value for name, (value, _) in flatten(PerceptionConfig()).items()}
    assert all(description for _, description in flatten(PerceptionConfig()).values())
    assert from_flat(flat) == PerceptionConfig()
    assert from_flat({"detection.colour_hues": [0, 120, 240], "detection.colour_names": ["r", "g", "b"]}
                     ).detection.colour_hues == (0.0, 120.0, 240.0)
    with pytest.raises(ConfigError, match=r"detection\.max_range"):
        from_flat({"detection.max_range": -1.0})
    with pytest.raises(ConfigError, match="colour_names"):
        from_flat({"detection.colour_hues": [0.0, 10.0]})
    with pytest.raises(ConfigError, match=r"tracking\.confirm_hits"):
        from_flat({"tracking.confirm_hits": 0})
    with pytest.raises(ConfigError, match="integer"):
        from_flat({"tracking.confirm_hits": 2.5})
    with pytest.raises(ConfigError, match="min_range"):
        from_flat({"detection.min_range": 3.0, "detection.max_range": 2.0})


def test_stack_yaml_sets_every_perception_parameter_to_its_documented_default():
    """config/stack.yaml is where the tunables live; the code's defaults are the same values."""
    from dataclasses import fields as dataclass_fields
    from pathlib import Path

    import yaml

    from legion_perception.perception_node import NodeParameters

    root = Path(__file__).resolve().parents[3]
    block = yaml.safe_load((root / "config" / "stack.yaml").read_text())["/**/perception"]["ros__parameters"]
    flat = {}
    for key, value in block.items():
        if isinstance(value, dict):
            flat.update({f"{key}.{k}": v for k, v in value.items()})
        else:
            flat[key] = value
    expected = {name: value for name, (value, _) in flatten(PerceptionConfig()).items()}
    expected |= {f.name: f.default for f in dataclass_fields(NodeParameters) if f.name != "robot"}
    assert set(flat) == set(expected)
    for name, value in expected.items():
        assert (tuple(flat[name]) if isinstance(value, tuple) else flat[name]) == value, name
    assert from_flat(flat) == PerceptionConfig()
