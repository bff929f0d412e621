"""Core math: camera geometry, fits, colour lookup, settings validation (rotations and transforms are
legion_common's, tested there)."""

import math

import numpy as np
import pytest

from legion_common.parameters import ParameterError, from_flat, parameter_specs, to_flat
from legion_common.transforms import invert_transform, pose_to_matrix, quaternion_to_matrix
from legion_perception.config import DetectionConfig, NodeParameters, PerceptionConfig, TrackingConfig
from legion_perception.detection import depth_edges, fit_circle, fit_sphere, hue_lookup
from legion_perception.errors import InputError
from legion_perception.geometry import CameraIntrinsics, deproject, project, transform_points
from legion_perception.pipeline import PerceptionCore

CAMERA = CameraIntrinsics(fx=376.7, fy=376.7, cx=319.5, cy=239.5, width=640, height=480)


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


def test_transform_points_and_its_inverse_return_the_points():
    rng = np.random.default_rng(2)
    for _ in range(20):
        q = rng.normal(size=4)
        transform = pose_to_matrix(rng.normal(size=3), q / np.linalg.norm(q))
        points = rng.normal(size=(10, 3))
        moved = transform_points(transform, points)
        np.testing.assert_allclose(moved, points @ transform[:3, :3].T + transform[:3, 3], atol=1e-12)
        np.testing.assert_allclose(transform_points(invert_transform(transform), moved), points, atol=1e-12)
    np.testing.assert_allclose(quaternion_to_matrix(q) @ [1.0, 0.0, 0.0], transform[:3, 0], atol=1e-12)


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


def test_hue_lookup_gives_each_named_hue_its_name():
    config = DetectionConfig()
    table = hue_lookup(config)
    for index, hue in enumerate(config.colour_hues):
        assert table[round(hue * 256 / 360) % 256] == index  # OpenCV's full-range hue: 0..255 for 0..360 deg
    assert (table == 255).any()  # hues far from every named colour are no part colour


def test_every_parameter_is_described_and_numbers_have_a_range():
    for spec in parameter_specs(PerceptionConfig) + parameter_specs(NodeParameters):
        assert spec.description, spec.name
        if spec.kind in (int, float) or spec.element in (int, float):
            assert spec.low is not None and spec.high is not None, spec.name
    assert from_flat(PerceptionConfig, to_flat(PerceptionConfig())) == PerceptionConfig()
    values = {"detection.colour_hues": [0, 120, 240], "detection.colour_names": ["r", "g", "b"]}
    assert from_flat(PerceptionConfig, values).detection.colour_hues == (0.0, 120.0, 240.0)


@pytest.mark.parametrize(("values", "fragment"), [
    ({"detection.max_range": -1.0}, r"detection\.max_range"),
    ({"detection.colour_hues": [0.0, 10.0]}, "colour_names"),
    ({"tracking.confirm_hits": 0}, r"tracking\.confirm_hits"),
    ({"tracking.confirm_hits": 2.5}, r"tracking\.confirm_hits.*whole number"),
    ({"detection.min_range": 3.0, "detection.max_range": 2.0}, "min_range"),
    ({"detection.min_part_size": 0.2, "detection.max_part_size": 0.1}, "min_part_size"),
    ({"people.min_face_width": 0.5, "people.max_face_width": 0.3}, "min_face_width"),
    ({"people.min_head_height": 2.0, "people.max_head_height": 1.0}, "min_head_height"),
    ({"obstacles.floor_height": 0.3, "obstacles.max_height": 0.2}, "floor_height"),
    ({"privacy.person_hold_blur": 1}, r"privacy\.person_hold_blur"),
    ({"detection.maximum_range": 1.0}, r"detection\.maximum_range"),
])
def test_settings_errors_name_the_parameter(values, fragment):
    with pytest.raises(ParameterError, match=fragment):
        from_flat(PerceptionConfig, values)


@pytest.mark.parametrize(("values", "fragment"), [
    ({"robot": ""}, "robot"), ({"process_rate": 0.0}, "process_rate"), ({"debug_image_scale": 2.0}, "scale"),
])
def test_node_parameter_errors_name_the_parameter(values, fragment):
    with pytest.raises(ParameterError, match=fragment):
        from_flat(NodeParameters, values)


def test_the_core_checks_settings_built_directly():
    with pytest.raises(ParameterError, match=r"tracking\.confirm_hits"):
        PerceptionCore(PerceptionConfig(tracking=TrackingConfig(confirm_hits=0)))
