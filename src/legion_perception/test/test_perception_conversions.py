"""Message <-> numpy conversions, straight from message objects (no rclpy.init)."""

import math

import numpy as np
import pytest
from nav_msgs.msg import Odometry
from sensor_msgs.msg import CameraInfo, Image, JointState

from legion_perception import conversions as conv
from legion_perception.errors import EncodingError, InputError
from legion_perception.geometry import CameraIntrinsics
from legion_perception.obstacles import OccupancyGrid
from legion_perception.people import Person
from legion_perception.tracking import PartTrack

STAMP = conv.time_msg(12.345)


def image(encoding: str, pixels: np.ndarray, channels: int, pad: int = 0, bigendian: bool = False) -> Image:
    height, width = pixels.shape[:2]
    rows = pixels.reshape(height, -1).view(np.uint8)
    if pad:
        rows = np.hstack([rows, np.zeros((height, pad), np.uint8)])
    return Image(height=height, width=width, encoding=encoding, is_bigendian=int(bigendian), step=rows.shape[1],
                 data=rows.tobytes())


def test_time_round_trip():
    assert conv.stamp_seconds(conv.time_msg(12.345)) == pytest.approx(12.345)
    assert conv.time_msg(3.0).nanosec == 0


@pytest.mark.parametrize("encoding", ["rgb8", "bgr8", "rgba8", "bgra8"])
def test_colour_encodings_give_rgb(encoding):
    rng = np.random.default_rng(5)
    rgb = rng.integers(0, 256, (4, 5, 3), dtype=np.uint8)
    channels = 4 if encoding.endswith("a8") else 3
    pixels = rgb[..., ::-1] if encoding.startswith("bgr") else rgb
    if channels == 4:
        pixels = np.concatenate([pixels, np.full((4, 5, 1), 255, np.uint8)], axis=2)
    out = conv.image_to_rgb(image(encoding, np.ascontiguousarray(pixels), channels, pad=3))
    assert out.dtype == np.uint8 and out.shape == (4, 5, 3)
    np.testing.assert_array_equal(out, rgb)


def test_rgb_image_round_trip():
    rgb = np.random.default_rng(6).integers(0, 256, (6, 7, 3), dtype=np.uint8)
    msg = conv.rgb_to_image(rgb, STAMP, "cam")
    assert (msg.encoding, msg.step, msg.header.frame_id) == ("rgb8", 21, "cam")
    np.testing.assert_array_equal(conv.image_to_rgb(msg), rgb)


def test_depth_32fc1_and_16uc1():
    depth = np.array([[0.5, np.nan], [1.25, 3.0]], np.float32)
    np.testing.assert_array_equal(conv.image_to_depth(conv.depth_to_image(depth, STAMP, "cam")), depth)
    big = image("32FC1", depth.astype(">f4"), 4, bigendian=True)
    np.testing.assert_array_equal(conv.image_to_depth(big), depth)
    millimetres = np.array([[500, 0], [1250, 3000]], "<u2")
    out = conv.image_to_depth(image("16UC1", millimetres, 2, pad=2))
    assert out.dtype == np.float32 and np.isnan(out[0, 1])
    np.testing.assert_allclose(out[[0, 1, 1], [0, 0, 1]], [0.5, 1.25, 3.0])


@pytest.mark.parametrize(("convert", "msg", "fragment"), [
    (conv.image_to_rgb, Image(height=2, width=2, encoding="mono8", step=2, data=bytes(4)), "not supported"),
    (conv.image_to_rgb, Image(height=2, width=2, encoding="rgb8", step=6, data=bytes(7)), "bytes of data"),
    (conv.image_to_rgb, Image(height=2, width=2, encoding="rgb8", step=4, data=bytes(8)), "step"),
    (conv.image_to_rgb, Image(height=0, width=2, encoding="rgb8", step=6, data=b""), "empty"),
    (conv.image_to_depth, Image(height=2, width=2, encoding="rgb8", step=6, data=bytes(12)), "not supported"),
    (conv.image_to_depth, Image(height=2, width=2, encoding="32FC1", step=8, data=bytes(12)), "bytes of data"),
])
def test_malformed_images_raise_encoding_errors(convert, msg, fragment):
    with pytest.raises(EncodingError, match=fragment):
        convert(msg)


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


def test_people_and_diagnostics():
    msg = conv.people_msg([Person(1, np.array([2.0, -1.0, 1.6]), 0.2, 1.0)], STAMP, "odom")
    assert msg.header.frame_id == "odom" and msg.poses[0].position.x == 2.0 and msg.poses[0].orientation.w == 1.0
    diag = conv.diagnostics_msg(STAMP, "perception", 1, "warn", {"frames": 3})
    assert diag.status[0].level == b"\x01" and diag.status[0].values[0].value == "3"
