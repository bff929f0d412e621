"""Link transforms for TF on the pip path (legion_description.link_states, .conversions): each joint's transform is
the child link's pose in the parent link; composed along the tree they give every link's pose as the robot's model
does. Core and conversion tests, no rclpy.init."""

from __future__ import annotations

import math

import numpy as np
import pinocchio as pin
import pytest
from builtin_interfaces.msg import Time
from sensor_msgs.msg import JointState

from legion_common.messages import xyz, xyzw
from legion_common.transforms import pose_to_matrix
from legion_description import DescriptionError, load_robot
from legion_description import conversions as conv
from legion_description.link_states import LinkStates, quaternions_from_matrices
from legion_model import RobotModel


@pytest.fixture(scope="module")
def centurion():
    config, urdf = load_robot("centurion")
    return config, LinkStates(urdf)


def _compose(links: LinkStates, transforms: dict[str, np.ndarray], link: str) -> np.ndarray:
    """Pose (4, 4) of `link` in the root, composing the edges' transforms from the root down."""
    parent_of = {edge.child: edge.parent for edge in links.edges}
    pose = np.eye(4)
    while link != links.root:
        pose = transforms[link] @ pose
        link = parent_of[link]
    return pose


def _all_transforms(links: LinkStates, positions: dict[str, float]) -> dict[str, np.ndarray]:
    moving = links.moving_transforms(positions)
    fixed = links.fixed_transforms()
    result = {}
    for edges, (places, quaternions) in ((links.moving_edges, moving), (links.fixed_edges_, fixed)):
        for edge, place, quaternion in zip(edges, places, quaternions, strict=True):
            result[edge.child] = pose_to_matrix(place, quaternion)
    return result


def test_tree_of_centurion(centurion) -> None:
    config, links = centurion
    assert links.root == config.frames["base"]
    children = [edge.child for edge in links.edges]
    assert len(children) == len(set(children))  # a tree: one parent per link
    for frame in (config.frames["camera_color_optical"], *(config.sides[s].gripper for s in config.sides)):
        assert frame in children
    assert set(config.all_joints) <= {edge.joint for edge in links.moving_edges}


def test_composed_transforms_match_the_robot_model(centurion) -> None:
    config, links = centurion
    model = RobotModel.load("centurion")
    rng = np.random.default_rng(3)
    for _ in range(5):
        positions = {name: float(rng.uniform(-0.5, 0.5)) for name in model.joint_names}
        transforms = _all_transforms(links, positions)
        q = model.q_from_joint_positions(np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]), positions)
        model.update(q)
        for frame in (config.frames["camera_color_optical"], config.sides["left"].gripper,
                      config.sides["right"].sole, config.frames["imu"]):
            expected = model.transform_frame_to_world_matrix(frame)
            np.testing.assert_allclose(_compose(links, transforms, frame), expected, atol=1e-9)


def test_joints_not_given_keep_their_last_position_and_bad_values_are_not_taken(centurion) -> None:
    _, links = centurion
    joint = next(edge for edge in links.moving_edges if edge.joint == "l_knee")
    assert links.set_positions({"l_knee": 0.7, "no_such_joint": 1.0}) == 1
    assert links.set_positions({"l_knee": math.nan}) == 0
    assert links.position("l_knee") == pytest.approx(0.7)
    before = _all_transforms(links, {})[joint.child]
    np.testing.assert_allclose(_all_transforms(links, {"r_knee": 0.2})[joint.child], before)


def test_batched_quaternions_match_pinocchio() -> None:
    rng = np.random.default_rng(11)
    rotations = np.array([pin.Quaternion(*q).normalized().toRotationMatrix() for q in rng.normal(size=(200, 4))])
    rotations = np.concatenate([rotations, np.array([np.eye(3), np.diag([1.0, -1.0, -1.0]),
                                                     np.diag([-1.0, 1.0, -1.0]), np.diag([-1.0, -1.0, 1.0])])])
    quaternions = quaternions_from_matrices(rotations)
    for rotation, quaternion in zip(rotations, quaternions, strict=True):
        expected = pin.Quaternion(rotation).coeffs()
        expected = -expected if expected[3] < 0 else expected
        assert abs(abs(float(np.dot(quaternion, expected))) - 1.0) < 1e-12
        np.testing.assert_allclose(pin.Quaternion(*np.roll(quaternion, 1)).toRotationMatrix(), rotation, atol=1e-12)


TINY = """<robot name="tiny">
  <link name="base"/><link name="arm"/><link name="finger_a"/><link name="finger_b"/><link name="wheel"/>
  <link name="tool"/>
  <joint name="shoulder" type="revolute"><parent link="base"/><child link="arm"/>
    <origin xyz="0 0 0.5"/><axis xyz="0 1 0"/><limit lower="-2" upper="2" effort="1" velocity="1"/></joint>
  <joint name="jaw_a" type="prismatic"><parent link="arm"/><child link="finger_a"/>
    <origin xyz="0.3 0 0"/><axis xyz="0 1 0"/><limit lower="0" upper="0.05" effort="1" velocity="1"/></joint>
  <joint name="jaw_b" type="prismatic"><parent link="arm"/><child link="finger_b"/>
    <origin xyz="0.3 0 0"/><axis xyz="0 1 0"/><limit lower="-0.05" upper="0" effort="1" velocity="1"/>
    <mimic joint="jaw_a" multiplier="-1" offset="0"/></joint>
  <joint name="spin" type="continuous"><parent link="base"/><child link="wheel"/><axis xyz="0 0 1"/></joint>
  <joint name="mount" type="fixed"><parent link="arm"/><child link="tool"/>
    <origin xyz="0.1 0 0" rpy="0 0 1.5707963267948966"/></joint>
</robot>"""


def test_mimic_continuous_and_fixed_joints() -> None:
    links = LinkStates(TINY)
    assert links.root == "base"
    assert [edge.joint for edge in links.fixed_edges_] == ["mount"]
    places, quaternions = links.moving_transforms({"jaw_a": 0.02, "spin": 3.0, "shoulder": 0.5})
    by_joint = {edge.joint: (p, q) for edge, p, q in zip(links.moving_edges, places, quaternions, strict=True)}
    np.testing.assert_allclose(by_joint["jaw_a"][0], [0.3, 0.02, 0.0], atol=1e-12)
    np.testing.assert_allclose(by_joint["jaw_b"][0], [0.3, -0.02, 0.0], atol=1e-12)  # mimic, multiplier -1
    np.testing.assert_allclose(by_joint["spin"][1], [0.0, 0.0, math.sin(1.5), math.cos(1.5)], atol=1e-12)
    np.testing.assert_allclose(by_joint["shoulder"][1], [0.0, math.sin(0.25), 0.0, math.cos(0.25)], atol=1e-12)
    (place,), (quaternion,) = links.fixed_transforms()
    np.testing.assert_allclose(place, [0.1, 0.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(quaternion, [0.0, 0.0, math.sqrt(0.5), math.sqrt(0.5)], atol=1e-12)


@pytest.mark.parametrize("urdf, message", [
    ("<robot name='x'><link name='a'/>", "does not parse"),
    (TINY.replace('type="continuous"', 'type="floating"'), "floating"),
])
def test_a_bad_description_is_named(urdf, message) -> None:
    with pytest.raises(DescriptionError, match=message):
        LinkStates(urdf)


def test_transforms_message_and_joint_states() -> None:
    links = LinkStates(TINY)
    stamp = Time(sec=4, nanosec=20)
    msg = conv.link_transforms_msg(stamp, links.moving_edges, *links.moving_transforms({"shoulder": 0.1}), "r1/")
    assert [(t.header.frame_id, t.child_frame_id) for t in msg.transforms] == [
        ("r1/base", "r1/arm"), ("r1/arm", "r1/finger_a"), ("r1/arm", "r1/finger_b"), ("r1/base", "r1/wheel")]
    assert all(t.header.stamp == stamp for t in msg.transforms)
    np.testing.assert_allclose(xyz(msg.transforms[0].transform.translation), [0.0, 0.0, 0.5])
    np.testing.assert_allclose(xyzw(msg.transforms[0].transform.rotation), [0.0, math.sin(0.05), 0.0, math.cos(0.05)])
    assert conv.joint_positions(JointState(name=["a", "b"], position=[1.0, 2.0])) == {"a": 1.0, "b": 2.0}
    assert conv.joint_positions(JointState(name=["a", "b"], position=[1.0])) == {}


def test_the_reused_message_equals_a_fresh_one() -> None:
    links = LinkStates(TINY)
    message = conv.LinkTransformsMessage(links.moving_edges, "r1/")
    for positions, stamp in (({"shoulder": 0.3, "jaw_a": 0.01}, Time(sec=1)), ({"spin": -2.0}, Time(sec=2))):
        transforms = links.moving_transforms(positions)
        assert message.update(stamp, *transforms) == conv.link_transforms_msg(stamp, links.moving_edges, *transforms,
                                                                              "r1/")
