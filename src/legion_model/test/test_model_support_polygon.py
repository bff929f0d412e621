"""Convex hull, point-in-polygon and support polygons from sole poses."""

from __future__ import annotations

import numpy as np
import pinocchio as pin
import pytest

from legion_model import (
    ModelError,
    SupportPolygon,
    closest_point_in_polygon,
    convex_hull_2d,
    point_in_polygon,
    sole_corners_in_world,
)


def test_convex_hull_of_a_square_with_inner_and_collinear_points() -> None:
    rng = np.random.default_rng(30)
    corners = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    points = np.vstack([corners, rng.uniform(0.0, 1.0, (50, 2)), [[0.5, 0.0], [1.0, 0.5]]])
    rng.shuffle(points)
    hull = convex_hull_2d(points)
    assert len(hull) == 4
    assert {tuple(p) for p in hull} == {tuple(p) for p in corners}
    edges = np.roll(hull, -1, axis=0) - hull
    turns = edges[:, 0] * np.roll(edges, -1, axis=0)[:, 1] - edges[:, 1] * np.roll(edges, -1, axis=0)[:, 0]
    assert np.all(turns > 0.0)  # counter-clockwise


def test_points_inside_and_outside_with_margin() -> None:
    square = convex_hull_2d(np.array([[0.0, 0.0], [2.0, 0.0], [2.0, 1.0], [0.0, 1.0]]))
    polygon = SupportPolygon(vertices=square)
    assert polygon.contains([1.0, 0.5]) and point_in_polygon([1.0, 0.5, 7.0], square)
    assert polygon.signed_distance([1.0, 0.5]) == pytest.approx(0.5)
    assert polygon.contains([1.0, 0.5], margin=0.49) and not polygon.contains([1.0, 0.5], margin=0.51)
    assert not polygon.contains([2.1, 0.5])
    assert polygon.signed_distance([2.1, 0.5]) == pytest.approx(-0.1)
    assert polygon.contains([2.1, 0.5], margin=-0.11)
    assert polygon.area == pytest.approx(2.0)
    np.testing.assert_allclose(polygon.centroid, [1.0, 0.5])


def test_support_polygon_of_two_soles() -> None:
    left = pin.SE3(pin.rpy.rpyToMatrix(0.0, 0.0, 0.1), np.array([0.0, 0.1, 0.0]))
    right = pin.SE3(pin.rpy.rpyToMatrix(0.0, 0.0, -0.1), np.array([0.0, -0.1, 0.0]))
    corners = sole_corners_in_world(left, 0.2, 0.1)  # (4, 3)
    np.testing.assert_allclose(corners.mean(axis=0), left.translation, atol=1e-15)
    np.testing.assert_allclose(np.linalg.norm(corners[0] - corners[1]), 0.2)
    polygon = SupportPolygon.from_soles([left, right], 0.2, 0.1)
    assert polygon.contains([0.0, 0.0], margin=0.05)
    assert polygon.contains([0.0, 0.14]) and not polygon.contains([0.0, 0.2])
    assert not polygon.contains([0.12, 0.0])


def test_degenerate_inputs_raise_model_error() -> None:
    with pytest.raises(ModelError):
        convex_hull_2d(np.zeros((0, 2)))
    with pytest.raises(ModelError):
        SupportPolygon.from_soles([], 0.2, 0.1)
    with pytest.raises(ModelError, match="degenerate"):
        SupportPolygon(vertices=convex_hull_2d(np.array([[0.0, 0.0], [1.0, 1.0]]))).contains([0.5, 0.5])


def test_closest_point_in_polygon_is_the_point_inside_and_the_nearest_boundary_point_outside() -> None:
    square = convex_hull_2d(np.array([[0.0, 0.0], [2.0, 0.0], [2.0, 1.0], [0.0, 1.0]]))
    np.testing.assert_allclose(closest_point_in_polygon(np.array([1.5, 0.25]), square), [1.5, 0.25])
    np.testing.assert_allclose(closest_point_in_polygon(np.array([2.0, 0.5]), square), [2.0, 0.5])  # on an edge
    np.testing.assert_allclose(closest_point_in_polygon(np.array([3.0, 0.5]), square), [2.0, 0.5])  # edge
    np.testing.assert_allclose(closest_point_in_polygon(np.array([-1.0, -2.0]), square), [0.0, 0.0])  # corner
    rng = np.random.default_rng(31)
    boundary = np.vstack([np.linspace(corner, next_corner, 201) for corner, next_corner
                          in zip(square, np.roll(square, -1, axis=0), strict=True)])  # (804, 2)
    for point in rng.uniform(-2.0, 4.0, (50, 2)):
        closest = closest_point_in_polygon(point, square)
        if point_in_polygon(point, square):
            np.testing.assert_allclose(closest, point)
        else:  # no point of the sampled boundary is nearer
            assert point_in_polygon(closest, square, margin=-1e-12)
            nearest = np.min(np.linalg.norm(boundary - point, axis=1))
            assert np.linalg.norm(closest - point) <= nearest + 1e-12
