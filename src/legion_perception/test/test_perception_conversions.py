"""Message <-> numpy conversions, straight from message objects (no rclpy.init). Stamps, images and poses are
legion_common's, tested there."""

import math

import numpy as np
import pytest
from nav_msgs.msg import Odometry
from sensor_msgs.msg import CameraInfo, JointState

from legion_common.stamps import to_stamp
from legion_perception import conversions as conv
from legion_perception.errors import InputError
from legion_perception.geometry import CameraIntrinsics
from legion_perception.obstacles import OccupancyGrid
from legion_perception.people import Person
from legion_perception.tracking import PartTrack

STAMP = to_stamp(12.345)


def test_camera_info():
    camera = CameraIntrinsics(376.7, 376.7, 319.5, 239.5, 640, 480)
    msg = conv.intrinsics_to_camera_info(camera, STAMP, "head_camera_color_optical_frame")
    assert conv.camera_info_to_intrinsics(msg) == camera
    with pytest.raises(InputError, match="intrinsics"):
        conv.camera_info_to_intrinsics(CameraInfo(width=640, height=480))  # K all zero: not calibrated


def test_odometry_and_joint_states():
    msg = Odometry()
    msg.pose.pose.position.x, msg.pose.pose.position.y, msg.pose.pose.position.z = 1.0, 2.0, 0.9
    msg.pose.pose.orientation.z, msg.pose.pose.orientation.w = math.sin(0.25), math.cos(0.25)
    transform = conv.odometry_to_matrix(msg)
    np.testing.assert_allclose(transform[:3, 3], [1.0, 2.0, 0.9])
    assert math.atan2(transform[1, 0], transform[0, 0]) == pytest.approx(0.5)
    msg.pose.pose.orientation.w = msg.pose.pose.orientation.z = 0.0
    with pytest.raises(InputError, match="quaternion"):
        conv.odometry_to_matrix(msg)
    assert conv.joint_positions(JointState(name=["a", "b"], position=[0.1, 0.2])) == {"a": 0.1, "b": 0.2}
    with pytest.raises(InputError, match="names"):
        conv.joint_positions(JointState(name=["a", "b"], position=[0.1]))


def test_objects_round_trip():
    track = PartTrack(label="red_cube", colour="red", shape="box", position=np.array([0.43, 0.15, 0.775]), yaw=0.3,
                      size=np.array([0.05, 0.05, 0.05]), confidence=0.9, last_seen=1.0, id="red_cube_1")
    msg = conv.objects_msg([track], STAMP, "odom")
    assert msg.header.frame_id == "odom" and msg.objects[0].label == "red_cube"
    assert msg.objects[0].confidence == pytest.approx(0.9)
    ((object_id, label, position, yaw, size),) = conv.objects_from_msg(msg)
    assert (object_id, label) == ("red_cube_1", "red_cube")
    np.testing.assert_allclose(position, track.position)
    assert yaw == pytest.approx(0.3)
    np.testing.assert_allclose(size, track.size)


def test_occupancy_grid_round_trip():
    data = np.full((4, 6), -1, np.int8)
    data[1, 2], data[3, 5] = 100, 0
    grid = OccupancyGrid(origin=(-0.1, -0.2), resolution=0.05, data=data)
    msg = conv.occupancy_grid_msg(grid, STAMP, "odom")
    assert (msg.info.width, msg.info.height, msg.header.frame_id) == (6, 4, "odom")
    assert msg.data[1 * 6 + 2] == 100
    back = conv.occupancy_grid_from_msg(msg)
    np.testing.assert_array_equal(back.data, data)
    assert back.origin == pytest.approx(grid.origin) and back.resolution == pytest.approx(0.05)
    # row = y, column = x: cell (1, 2) holds odom point origin + (2.5, 1.5) cells
    assert back.value_at(-0.1 + 2.5 * 0.05, -0.2 + 1.5 * 0.05) == 100


def test_people():
    msg = conv.people_msg([Person(1, np.array([2.0, -1.0, 1.6]), 0.2, 1.0)], STAMP, "odom")
    assert msg.header.frame_id == "odom" and msg.poses[0].position.x == 2.0 and msg.poses[0].orientation.w == 1.0
