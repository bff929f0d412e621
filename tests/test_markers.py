"""The nodes' `~/markers` (docs/interfaces.md, "Visualisation"), built in each package's `conversions` from core
data: perception's parts, containers and labels; the manipulation node's hand targets; the gait planner's walk_to
path. Conversion tests from message objects, no rclpy.init."""

from __future__ import annotations

import math

import numpy as np
import pinocchio as pin
import pytest
from visualization_msgs.msg import Marker

from legion_common.markers import LIFETIME
from legion_common.messages import xyz, xyzw
from legion_common.stamps import to_stamp
from legion_common.transforms import quaternion_to_matrix, yaw_from_quaternion
from legion_gait import conversions as gait_conv
from legion_manipulation import conversions as manipulation_conv
from legion_perception import conversions as perception_conv
from legion_perception.config import DetectionConfig
from legion_perception.tracking import PartTrack

HUES = dict(zip(DetectionConfig().colour_names, DetectionConfig().colour_hues, strict=True))


def _track(label: str, colour: str, shape: str, position, yaw: float, size, ident: str) -> PartTrack:
    return PartTrack(label=label, colour=colour, shape=shape, position=np.array(position, float), yaw=yaw,
                     size=np.array(size, float), confidence=0.9, last_seen=1.0, id=ident)


def _by_namespace(msg) -> dict[str, list[Marker]]:
    groups: dict[str, list[Marker]] = {}
    for item in msg.markers[1:]:
        groups.setdefault(item.ns, []).append(item)
    return groups


def test_every_array_starts_by_clearing_and_markers_expire() -> None:
    stamp = to_stamp(3.5)
    for msg in (perception_conv.object_markers_msg([], stamp, "odom", HUES),
                manipulation_conv.hand_target_markers_msg({}, stamp, "odom")):
        assert [m.action for m in msg.markers] == [Marker.DELETEALL]
        assert msg.markers[0].header.frame_id == "odom"
    track = _track("red_cube", "red", "cube", [1.0, 0.0, 0.8], 0.0, [0.04] * 3, "red_cube_1")
    item = perception_conv.object_markers_msg([track], stamp, "odom", HUES).markers[1]
    assert item.lifetime.sec + item.lifetime.nanosec * 1e-9 == pytest.approx(LIFETIME)
    assert item.header.stamp == stamp


def test_parts_and_containers_from_tracks() -> None:
    tracks = [
        _track("red_cube", "red", "cube", [1.0, 0.2, 0.82], 0.3, [0.04, 0.04, 0.04], "red_cube_1"),
        _track("blue_cylinder", "blue", "cylinder", [1.1, -0.2, 0.83], 0.0, [0.05, 0.05, 0.06], "blue_cylinder_1"),
        _track("green_sphere", "green", "sphere", [0.9, 0.0, 0.82], 0.0, [0.05, 0.05, 0.05], "green_sphere_1"),
        _track("red_bin", "red", "bin", [2.0, 1.0, 0.9], -0.2, [0.4, 0.3, 0.15], "red_bin_1"),
        _track("grey_box", "grey", "box", [0.5, 0.5, 0.5], 0.0, [0.1, 0.05, 0.02], "grey_box_1"),
    ]
    msg = perception_conv.object_markers_msg(tracks, to_stamp(1.0), "odom", HUES)
    groups = _by_namespace(msg)
    assert set(groups) == {"parts", "containers", "labels"}
    parts = {m.id: m for m in groups["parts"]}
    assert [parts[i].type for i in (0, 1, 2, 4)] == [Marker.CUBE, Marker.CYLINDER, Marker.SPHERE, Marker.CUBE]
    np.testing.assert_allclose(xyz(parts[0].pose.position), [1.0, 0.2, 0.82])
    assert yaw_from_quaternion(xyzw(parts[0].pose.orientation)) == pytest.approx(0.3)
    np.testing.assert_allclose([parts[1].scale.x, parts[1].scale.y, parts[1].scale.z], [0.05, 0.05, 0.06])
    assert parts[0].color.r > 0.8 and parts[0].color.g < 0.2 and parts[0].color.b < 0.2  # red
    assert parts[1].color.b > 0.8 and parts[1].color.r < 0.3  # blue
    assert (parts[4].color.r, parts[4].color.g, parts[4].color.b) == pytest.approx(perception_conv.UNKNOWN_COLOUR)
    (container,) = groups["containers"]
    # the track's position is the opening's centre at rim height: the box hangs below it, down to the inner floor
    np.testing.assert_allclose(xyz(container.pose.position), [2.0, 1.0, 0.9 - 0.075])
    np.testing.assert_allclose([container.scale.x, container.scale.y, container.scale.z], [0.4, 0.3, 0.15])
    assert container.color.a < 0.5
    labels = {m.text: m for m in groups["labels"]}
    assert set(labels) == {t.id for t in tracks}
    assert all(m.type == Marker.TEXT_VIEW_FACING for m in labels.values())
    assert labels["red_cube_1"].pose.position.z > 0.82 + 0.02
    assert all(m.header.frame_id == "odom" for m in msg.markers)


def test_hand_targets_point_along_the_gripper_x_axis() -> None:
    yaw = 0.7
    left = pin.SE3(pin.utils.rpyToMatrix(0.0, math.pi / 2, yaw), np.array([0.5, 0.2, 0.9]))
    right = pin.SE3(np.eye(3), np.array([0.3, -0.25, 0.2]))
    msg = manipulation_conv.hand_target_markers_msg({"left": (left, "odom"), "right": (right, "base_footprint")},
                                                    to_stamp(2.0), "odom")
    groups = _by_namespace(msg)
    arrows = {m.id: m for m in groups["hand_targets"]}
    assert all(m.type == Marker.ARROW for m in arrows.values())
    assert (arrows[0].header.frame_id, arrows[1].header.frame_id) == ("odom", "base_footprint")
    np.testing.assert_allclose(xyz(arrows[0].pose.position), left.translation)
    # an ARROW marker points along its pose's x axis: the gripper's x (towards the object)
    np.testing.assert_allclose(quaternion_to_matrix(xyzw(arrows[0].pose.orientation))[:, 0], left.rotation[:, 0],
                               atol=1e-9)
    assert arrows[0].color.b > arrows[0].color.r and arrows[1].color.r > arrows[1].color.b
    assert sorted(m.text for m in groups["labels"]) == ["left hand", "right hand"]


def test_gait_markers_show_walk_tos_path_when_there_is_one() -> None:
    path = np.array([[0.0, 0.0], [0.5, 0.1], [1.0, 0.5]])
    with_path = gait_conv.markers_msg((), {}, None, 1.0, "odom", 0.22, 0.1, 0.0, path=path)
    (line,) = [m for m in with_path.markers if m.ns == "path"]
    assert line.type == Marker.LINE_STRIP
    np.testing.assert_allclose([[p.x, p.y] for p in line.points], path)
    without = gait_conv.markers_msg((), {}, None, 1.0, "odom", 0.22, 0.1, 0.0)
    assert not [m for m in without.markers if m.ns == "path"]
