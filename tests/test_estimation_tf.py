"""The state estimator's `tf`: `odom` -> `base_link` as `odom` says, `odom` -> `base_footprint` the base projected
on the floor with its heading only (REP-120). Conversion tests from message objects, no rclpy.init."""

from __future__ import annotations

import math

import numpy as np
import pytest
from nav_msgs.msg import Odometry

from legion_common.messages import pose_msg, xyz, xyzw
from legion_common.transforms import quaternion_to_matrix, yaw_from_quaternion
from legion_estimation.conversions import FOOTPRINT_FRAME, footprint_pose, odom_transforms_msg


def _odometry(position, quaternion) -> Odometry:
    msg = Odometry(child_frame_id="pelvis")
    msg.header.frame_id = "world_odom"
    msg.header.stamp.sec, msg.header.stamp.nanosec = 12, 500_000_000
    msg.pose.pose = pose_msg(position, quaternion)
    return msg


def _random_quaternion(rng: np.random.Generator) -> np.ndarray:
    q = rng.normal(size=4)
    return q / np.linalg.norm(q)


def test_base_transform_is_the_odometry_pose_and_footprint_is_level_under_it() -> None:
    rng = np.random.default_rng(7)
    for _ in range(50):
        position, quaternion = rng.uniform(-3.0, 3.0, size=3), _random_quaternion(rng)
        msg = odom_transforms_msg(_odometry(position, quaternion))
        base, footprint = msg.transforms
        assert (base.header.frame_id, base.child_frame_id) == ("world_odom", "pelvis")
        assert (footprint.header.frame_id, footprint.child_frame_id) == ("world_odom", FOOTPRINT_FRAME)
        assert base.header.stamp == footprint.header.stamp
        assert (base.header.stamp.sec, base.header.stamp.nanosec) == (12, 500_000_000)
        np.testing.assert_allclose(xyz(base.transform.translation), position)
        np.testing.assert_allclose(xyzw(base.transform.rotation), quaternion)
        # base_footprint: x, y of the base, on the floor, z axis vertical, x axis = the base's x projected on the floor
        np.testing.assert_allclose(xyz(footprint.transform.translation), [position[0], position[1], 0.0])
        rotation = quaternion_to_matrix(xyzw(footprint.transform.rotation))
        np.testing.assert_allclose(rotation[:, 2], [0.0, 0.0, 1.0], atol=1e-12)
        base_x = quaternion_to_matrix(quaternion)[:, 0]
        heading = base_x[:2] / np.linalg.norm(base_x[:2])
        np.testing.assert_allclose(rotation[:2, 0], heading, atol=1e-9)


def test_footprint_of_a_level_base_keeps_its_yaw() -> None:
    yaw = 2.5
    position, quaternion = footprint_pose(np.array([1.0, -2.0, 0.93]),
                                          np.array([0.0, 0.0, math.sin(yaw / 2), math.cos(yaw / 2)]))
    np.testing.assert_allclose(position, [1.0, -2.0, 0.0])
    assert yaw_from_quaternion(quaternion) == pytest.approx(yaw)


@pytest.mark.parametrize("position, quaternion", [
    ([math.nan, 0.0, 0.9], [0.0, 0.0, 0.0, 1.0]),
    ([0.0, 0.0, 0.9], [0.0, 0.0, 0.0, 0.0]),
    ([0.0, 0.0, 0.9], [0.0, 0.0, math.inf, 1.0]),
])
def test_an_invalid_pose_gives_no_transform(position, quaternion) -> None:
    msg = _odometry([0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0])
    msg.pose.pose.position.x, msg.pose.pose.position.y, msg.pose.pose.position.z = position
    o = msg.pose.pose.orientation
    o.x, o.y, o.z, o.w = quaternion
    assert odom_transforms_msg(msg).transforms == []
