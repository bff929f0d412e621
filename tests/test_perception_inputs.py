"""Missing and malformed input to the core: a clear InputError or an empty result, never a crash or a phantom."""

from types import MappingProxyType

import numpy as np
import pytest

from legion_perception.errors import InputError
from legion_perception.pipeline import Frame, PerceptionCore
from legion_testing.rendered_scene import Viewpoint, capture, look, make_sim, match, truth


@pytest.fixture(scope="module")
def view():
    """One rendered frame and the true parts, shared by the tests and read-only: a test that writes into them fails."""
    sim = make_sim("sorting_cell")
    look(sim, Viewpoint(neck_pitch=0.8))
    cap = capture(sim)
    expected = truth(sim)
    sim.close()
    for array in (cap.rgb, cap.depth, cap.camera_to_odom, *(position for _, position in expected.values())):
        array.flags.writeable = False
    return cap, MappingProxyType(expected)


def frame(cap, rgb=None, depth=None, pose=None, camera=None, stamp=0.0) -> Frame:
    return Frame(cap.rgb if rgb is None else rgb, cap.depth if depth is None else depth,
                 cap.camera if camera is None else camera, cap.camera_to_odom if pose is None else pose,
                 np.zeros(2), stamp)


@pytest.mark.parametrize("fill", [np.nan, 0.0, np.inf, -1.0])
def test_depth_without_any_valid_pixel_gives_nothing(view, fill):
    cap, _ = view
    result = PerceptionCore().process(frame(cap, depth=np.full_like(cap.depth, fill)))
    assert result.detections == [] and result.faces == []
    assert (result.grid.data == -1).all()  # nothing observed: every cell unknown


def test_holes_in_the_depth_give_no_phantom_and_no_wrong_label(view):
    cap, expected = view
    rng = np.random.default_rng(9)
    depth = cap.depth.copy()
    depth[rng.random(depth.shape) < 0.3] = np.nan  # 30 % dropouts
    depth[:, ::17] = 0.0  # and dead columns
    detections = PerceptionCore().process(frame(cap, depth=depth)).detections
    pairs, extra, _ = match(detections, expected)
    assert not extra and len(pairs) >= 5
    assert all(d.label == expected[p][0] and e < 0.01 for p, d, e in pairs)


@pytest.mark.parametrize(("change", "fragment"), [
    ({"rgb": np.zeros((480, 640), np.uint8)}, "colour image"),
    ({"rgb": np.zeros((480, 640, 3), np.float32)}, "colour image"),
    ({"depth": np.zeros((240, 320), np.float32)}, "registered"),
    ({"depth": np.zeros((480, 640), np.uint16)}, "depth image"),
    ({"pose": np.full((4, 4), np.nan)}, "camera pose"),
])
def test_malformed_frames_raise_input_errors(view, change, fragment):
    cap, _ = view
    with pytest.raises(InputError, match=fragment):
        PerceptionCore().process(frame(cap, **change))


def test_intrinsics_that_do_not_match_the_image_size(view):
    cap, _ = view
    from dataclasses import replace

    with pytest.raises(InputError, match="camera info says 320x240"):
        PerceptionCore().process(frame(cap, camera=replace(cap.camera, width=320, height=240)))


def test_a_black_or_saturated_image_gives_nothing(view):
    cap, _ = view
    for value in (0, 255):
        result = PerceptionCore().process(frame(cap, rgb=np.full_like(cap.rgb, value)))
        assert result.detections == []
