"""Message <-> core conversions, tested from message objects alone (no rclpy.init)."""

import numpy as np
import pytest
from geometry_msgs.msg import PoseStamped
from nav_msgs.msg import Odometry
from rclpy.serialization import deserialize_message
from sensor_msgs.msg import JointState

from legion_common.stamps import to_stamp
from legion_control import conversions as conv
from legion_control.errors import ControlError
from legion_control.grasp import GraspMode
from legion_control.references import GaitSample, SoleReference
from legion_control.whole_body_controller import JointCommandArrays
from legion_interfaces.msg import GaitReference, HandCommand, JointCommand


def test_odometry_to_base_state():
    msg = Odometry()
    msg.header.stamp = to_stamp(12.345)
    msg.pose.pose.position.x, msg.pose.pose.position.z = 0.5, 0.96
    msg.pose.pose.orientation.z, msg.pose.pose.orientation.w = np.sin(0.1), np.cos(0.1)
    msg.twist.twist.linear.x, msg.twist.twist.angular.z = 0.2, -0.3
    base = conv.base_state_from_odometry(msg)
    assert base.time == pytest.approx(12.345)
    assert np.allclose(base.position, [0.5, 0.0, 0.96])
    assert np.allclose(base.orientation, [0.0, 0.0, np.sin(0.1), np.cos(0.1)])
    assert np.allclose(base.linear_velocity, [0.2, 0.0, 0.0]) and np.allclose(base.angular_velocity, [0, 0, -0.3])


def test_gait_sample_round_trip_keeps_sides_and_values():
    soles = {
        "left": SoleReference(True, np.array([0.0, 0.1, 0.0]), np.array([0.0, 0.0, 0.0, 1.0]), np.zeros(6),
                              np.zeros(6)),
        "right": SoleReference(False, np.array([0.2, -0.1, 0.05]), np.array([0.0, 0.0, 0.0, 1.0]),
                               np.array([0.4, 0.0, 0.1, 0.0, 0.0, 0.0]), np.array([0.0, 0.0, -1.0, 0.0, 0.0, 0.0])),
    }
    sample = GaitSample(3.5, np.array([0.05, 0.0, 0.9]), np.array([0.1, 0.0, 0.0]), np.array([0.0, -0.2, 0.0]), None,
                        np.zeros(3), soles)
    msg = GaitReference()
    msg.samples = [conv.gait_sample_msg(sample)]
    assert msg.samples[0].soles[1].in_contact is False  # RIGHT = 1
    back = conv.gait_samples_from_msg(msg)[0]
    assert back.time == pytest.approx(3.5) and back.base_orientation is None
    assert np.allclose(back.com_acceleration, sample.com_acceleration)
    assert back.soles["right"].in_contact is False and back.soles["left"].in_contact is True
    assert np.allclose(back.soles["right"].velocity, soles["right"].velocity)
    assert np.allclose(back.soles["right"].acceleration, soles["right"].acceleration)


def test_hand_targets_release_on_empty_frame_and_reject_other_frames():
    msg = PoseStamped()
    assert conv.hand_target_from_msg(msg, "odom") is None
    msg.header.frame_id = "odom"
    msg.header.stamp = to_stamp(1.0)
    msg.pose.position.x = 0.4
    target = conv.hand_target_from_msg(msg, "odom")
    assert target.time == 1.0 and target.position[0] == 0.4 and target.orientation[3] == 1.0
    msg.header.frame_id = "base_link"
    with pytest.raises(ControlError, match="must be in 'odom'"):
        conv.hand_target_from_msg(msg, "odom")


def test_hand_command_and_posture_and_offset():
    command = conv.hand_command_from_msg(HandCommand(mode=HandCommand.PINCH, closure=0.4))
    assert command.mode == GraspMode.PINCH and command.closure == 0.4
    with pytest.raises(ControlError):
        conv.hand_command_from_msg(HandCommand(mode=9, closure=0.4))
    assert conv.posture_from_msg(JointState(name=["a"], position=[0.3])) == {"a": 0.3}
    with pytest.raises(ControlError):
        conv.posture_from_msg(JointState(name=["a", "b"], position=[0.3]))
    offset = conv.balance_offset_from_msg(conv.balance_offset_msg(2.0, (0.0, 0.05, -0.1), (0.0, 0.1, 0.0)))
    assert offset.time == 2.0 and np.allclose(offset.offset, [0.0, 0.05, -0.1])
    assert np.allclose(offset.velocity, [0.0, 0.1, 0.0]) and np.allclose(offset.acceleration, 0.0)


def test_joint_command_message():
    arrays = JointCommandArrays(("a", "b"), np.array([0.1, 0.2]), np.zeros(2), np.array([5.0, -5.0]),
                                np.array([80.0, 80.0]), np.array([4.0, 4.0]))
    stamp = to_stamp(0.124)
    msg = conv.joint_command_msg(stamp, arrays)
    assert msg.header.stamp == stamp and list(msg.name) == ["a", "b"] and list(msg.effort) == [5.0, -5.0]


def test_joint_command_bytes_are_the_message_and_follow_a_change_of_joints():
    """The pre-serialized command reads back as the message `joint_command_msg` builds, for several commands in a
    row (the layout is reused) and after the joint names change (a new layout)."""
    to_bytes = conv.JointCommandBytes()
    rng = np.random.default_rng(3)
    for names in (tuple(f"joint_{i}" for i in range(30)), tuple(f"joint_{i}" for i in range(30)), ("a", "bb", "ccc")):
        n = len(names)
        arrays = JointCommandArrays(names, *(rng.normal(size=n) for _ in range(5)))
        stamp = to_stamp(float(rng.uniform(0.0, 5000.0)))
        data = to_bytes(stamp, arrays)
        expected = conv.joint_command_msg(stamp, arrays)
        assert isinstance(data, bytes) and deserialize_message(data, JointCommand) == expected
