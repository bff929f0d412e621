"""Message conversions of the gait planner (legion_gait.conversions), from message objects, without rclpy.init."""

from __future__ import annotations

import math

import numpy as np
import pytest
from geometry_msgs.msg import Twist
from nav_msgs.msg import Odometry
from sensor_msgs.msg import JointState
from visualization_msgs.msg import Marker

from legion_common.messages import xyzw
from legion_common.stamps import to_seconds
from legion_common.transforms import yaw_from_quaternion
from legion_gait import conversions as conv
from legion_interfaces.msg import Footstep as FootstepMsg
from legion_testing.ideal_walker import IdealWalker


@pytest.fixture(scope="module")
def walking():
    walker = IdealWalker()
    outputs = walker.run(2.0, command=(0.5, 0.1, 0.2))
    return outputs[-1]


def test_gait_reference_carries_every_sample(walking) -> None:
    samples = walking.samples
    msg = conv.gait_reference_msg(samples, walking.time, "odom")
    assert msg.header.frame_id == "odom"
    assert to_seconds(msg.header.stamp) == pytest.approx(walking.time, abs=1e-9)
    assert len(msg.samples) == len(samples)
    times = [to_seconds(sample.stamp) for sample in msg.samples]
    np.testing.assert_allclose(times, samples.time, atol=1e-9)
    for i in (0, len(samples) // 2, len(samples) - 1):
        sample = msg.samples[i]
        np.testing.assert_allclose([sample.com_position.x, sample.com_position.y, sample.com_position.z],
                                   samples.com_position[i])
        q = sample.base_orientation
        assert yaw_from_quaternion(xyzw(q)) == pytest.approx(samples.base_yaw[i])
        for side, index in conv.SIDE_INDEX.items():
            sole, expected = sample.soles[index], samples.soles[side]
            assert sole.in_contact == bool(expected.in_contact[i])
            assert [sole.pose.position.x, sole.pose.position.y, sole.pose.position.z] == pytest.approx(
                [expected.pose[i, 0], expected.pose[i, 1], expected.height[i]])
            o = sole.pose.orientation
            assert math.cos(yaw_from_quaternion(xyzw(o)) - expected.pose[i, 2]) == pytest.approx(1.0)
            assert sole.velocity.linear.z == pytest.approx(expected.velocity[i, 2])
            assert sole.acceleration.angular.z == pytest.approx(expected.acceleration[i, 5])


def test_the_controller_accepts_the_reference(walking) -> None:
    """The whole-body controller's own conversion and checks take the message as it is."""
    control_conversions = pytest.importorskip("legion_control.conversions")
    references = pytest.importorskip("legion_control.references")
    msg = conv.gait_reference_msg(walking.samples, walking.time, "odom")
    trajectory = references.GaitTrajectory(control_conversions.gait_samples_from_msg(msg))
    middle = trajectory.sample(walking.time + 0.3)
    expected = walking.plan.sample(np.array([walking.time + 0.3]))
    np.testing.assert_allclose(middle.com_position, expected.com_position[0], atol=2e-3)


def test_footstep_plan_round_trip(walking) -> None:
    msg = conv.footstep_plan_msg(walking.footsteps, walking.time, "odom")
    assert len(msg.steps) == len(walking.footsteps) > 0
    assert msg.steps[0].side in (FootstepMsg.LEFT, FootstepMsg.RIGHT)
    back = conv.footsteps_from_msg(msg)
    for (side, position, lift_off, touch_down), step in zip(back, walking.footsteps, strict=True):
        assert side == step.side
        np.testing.assert_allclose(position, [*step.pose[:2], step.height])
        assert (lift_off, touch_down) == pytest.approx((step.lift_off, step.touch_down), abs=1e-9)


def test_markers_show_footsteps_soles_and_paths(walking) -> None:
    msg = conv.markers_msg(walking.footsteps, walking.soles, walking.samples, walking.time, "odom", 0.22, 0.1, 0.0)
    namespaces = [marker.ns for marker in msg.markers]
    assert msg.markers[0].action == Marker.DELETEALL
    assert namespaces.count("footsteps") == len(walking.footsteps)
    assert namespaces.count("soles") == 2
    assert {"com", "dcm", "zmp"} <= set(namespaces)


def test_inputs_from_messages() -> None:
    twist = Twist()
    twist.linear.x, twist.angular.z = 0.4, -0.2
    assert conv.twist_components(twist) == ((0.4, 0.0, 0.0), (0.0, 0.0, -0.2))
    odometry = Odometry()
    odometry.header.stamp.sec, odometry.header.stamp.nanosec = 3, 500_000_000
    odometry.pose.pose.position.x = 1.0
    odometry.twist.twist.linear.y = 0.2
    stamp, position, orientation, linear, _angular = conv.odometry_arrays(odometry)
    assert stamp == 3.5 and position[0] == 1.0 and orientation[3] == 1.0 and linear[1] == 0.2
    joints = JointState(name=["a", "b"], position=[0.1, 0.2], velocity=[])
    assert conv.joint_maps(joints) == ({"a": 0.1, "b": 0.2}, {"a": 0.0, "b": 0.0})
    with pytest.raises(ValueError, match="2 names, 1 positions"):
        conv.joint_maps(JointState(name=["a", "b"], position=[0.1]))


def test_yaw_quaternion_is_level_and_turned_by_the_yaw() -> None:
    for yaw in (0.0, 0.3, math.pi / 2, -3.0):
        q = conv.yaw_quaternion_msg(yaw)
        assert (q.x, q.y) == (0.0, 0.0) and q.z ** 2 + q.w ** 2 == pytest.approx(1.0)
        assert yaw_from_quaternion(xyzw(q)) == pytest.approx(yaw)


def test_occupancy_grid_arrays_reads_rows_along_y_and_rejects_what_the_planner_cannot_use() -> None:
    from nav_msgs.msg import OccupancyGrid

    msg = OccupancyGrid()
    msg.header.frame_id = "odom"
    msg.header.stamp.sec = 3
    msg.info.resolution = 0.05
    msg.info.width, msg.info.height = 3, 2
    msg.info.origin.position.x, msg.info.origin.position.y = -1.0, 2.0
    msg.info.origin.orientation.w = 1.0
    msg.data = [0, 100, -1, 0, 0, 100]
    origin, resolution, data, stamp = conv.occupancy_grid_arrays(msg, "odom")
    assert origin == (-1.0, 2.0) and resolution == 0.05 and stamp == 3.0
    assert data.dtype == np.int8 and data.shape == (2, 3)
    assert data[0, 1] == 100 and data[0, 2] == -1 and data[1, 2] == 100  # row 1 is the next y
    msg.data = [0] * 5
    with pytest.raises(ValueError, match="expected 3 x 2"):
        conv.occupancy_grid_arrays(msg, "odom")
    msg.data = [0] * 6
    msg.header.frame_id = "map"
    with pytest.raises(ValueError, match="frame 'map'"):
        conv.occupancy_grid_arrays(msg, "odom")
    msg.header.frame_id = "odom"
    msg.info.origin.orientation.z, msg.info.origin.orientation.w = math.sin(0.2), math.cos(0.2)
    with pytest.raises(ValueError, match="rotated"):
        conv.occupancy_grid_arrays(msg, "odom")
