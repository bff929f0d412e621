"""legion_common's image readers and transforms as perception uses them: every colour and depth encoding a camera
driver sends, padded rows, big-endian data, malformed images; the quarter-turn wrap of a box's yaw; bad quaternions.
(Moved here from legion_perception's tests when these helpers moved to legion_common.)"""

import math

import numpy as np
import pytest
from sensor_msgs.msg import Image

from legion_common import messages, stamps, transforms

STAMP = stamps.to_stamp(12.345)


def image(encoding: str, pixels: np.ndarray, pad: int = 0, bigendian: bool = False):
    height, width = pixels.shape[:2]
    rows = pixels.reshape(height, -1).view(np.uint8)
    if pad:
        rows = np.hstack([rows, np.zeros((height, pad), np.uint8)])
    return Image(height=height, width=width, encoding=encoding, is_bigendian=int(bigendian), step=rows.shape[1],
                 data=rows.tobytes())


@pytest.mark.parametrize("encoding", ["rgb8", "bgr8", "rgba8", "bgra8"])
def test_colour_encodings_give_rgb(encoding):
    rng = np.random.default_rng(5)
    rgb = rng.integers(0, 256, (4, 5, 3), dtype=np.uint8)
    pixels = rgb[..., ::-1] if encoding.startswith("bgr") else rgb
    if encoding.endswith("a8"):
        pixels = np.concatenate([pixels, np.full((4, 5, 1), 255, np.uint8)], axis=2)
    out = messages.image_to_rgb(image(encoding, np.ascontiguousarray(pixels), pad=3))
    assert out.dtype == np.uint8 and out.shape == (4, 5, 3)
    np.testing.assert_array_equal(out, rgb)


def test_rgb_image_round_trip():
    rgb = np.random.default_rng(6).integers(0, 256, (6, 7, 3), dtype=np.uint8)
    msg = messages.rgb_image_msg(rgb, STAMP, "cam")
    assert (msg.encoding, msg.step, msg.header.frame_id) == ("rgb8", 21, "cam")
    np.testing.assert_array_equal(messages.image_to_rgb(msg), rgb)


def test_depth_32fc1_and_16uc1():
    depth = np.array([[0.5, np.nan], [1.25, 3.0]], np.float32)
    np.testing.assert_array_equal(messages.image_to_depth(messages.depth_image_msg(depth, STAMP, "cam")), depth)
    big = image("32FC1", depth.astype(">f4"), bigendian=True)
    np.testing.assert_array_equal(messages.image_to_depth(big), depth)
    millimetres = np.array([[500, 0], [1250, 3000]], "<u2")
    out = messages.image_to_depth(image("16UC1", millimetres, pad=2))
    assert out.dtype == np.float32 and np.isnan(out[0, 1])  # 0 mm: no return
    np.testing.assert_allclose(out[[0, 1, 1], [0, 0, 1]], [0.5, 1.25, 3.0])


@pytest.mark.parametrize(("reader", "msg", "fragment"), [
    ("image_to_rgb", Image(height=2, width=2, encoding="mono8", step=2, data=bytes(4)), "not supported"),
    ("image_to_rgb", Image(height=2, width=2, encoding="rgb8", step=6, data=bytes(7)), "bytes of data"),
    ("image_to_rgb", Image(height=2, width=2, encoding="rgb8", step=4, data=bytes(8)), "step"),
    ("image_to_rgb", Image(height=0, width=2, encoding="rgb8", step=6, data=b""), "empty"),
    ("image_to_depth", Image(height=2, width=2, encoding="rgb8", step=6, data=bytes(12)), "not supported"),
    ("image_to_depth", Image(height=2, width=2, encoding="32FC1", step=8, data=bytes(12)), "bytes of data"),
])
def test_malformed_images_raise_encoding_errors(reader, msg, fragment):
    with pytest.raises(messages.EncodingError, match=fragment):
        getattr(messages, reader)(msg)


def test_wrap_angle_with_a_box_symmetry_and_yaw_round_trip():
    assert transforms.wrap_angle(0.9, math.pi / 2) == pytest.approx(0.9 - math.pi / 2)
    assert transforms.wrap_angle(-math.pi) == pytest.approx(-math.pi)
    for yaw in (-3.0, -0.7, 0.0, 0.3, 2.9):
        rotation = transforms.quaternion_to_matrix(transforms.quaternion_from_yaw(yaw))
        assert transforms.yaw_from_matrix(rotation) == pytest.approx(yaw)


@pytest.mark.parametrize("quaternion", [[0, 0, 0, 0], [np.nan, 0, 0, 1], [1, 2, 3]])
def test_bad_quaternions_are_transform_errors(quaternion):
    with pytest.raises(transforms.TransformError):
        transforms.quaternion_to_matrix(np.array(quaternion, dtype=float))
