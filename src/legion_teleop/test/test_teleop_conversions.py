"""Terminal bytes -> keys, and the message conversions, from message objects (no rclpy.init)."""

from __future__ import annotations

import math

import numpy as np
import pinocchio as pin
import pytest
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from geometry_msgs.msg import Twist
from nav_msgs.msg import Odometry
from sensor_msgs.msg import JointState, Joy

from legion_interfaces.msg import HandCommand
from legion_teleop import conversions as conv
from legion_teleop.keys import BINDINGS, HELP_LINE, decode


def test_decode_arrows_space_controls_and_letters() -> None:
    assert decode(b"w\x1b[A\x1bOD \t\x03R") == ["w", "up", "left", "space", "tab", "ctrl-c", "R"]
    assert decode(b"\x1b[1;5Cq") == ["q"]  # an unknown escape sequence is dropped whole
    assert decode(b"\x1b") == ["esc"]


def test_every_bound_key_is_in_the_help_line_or_named() -> None:
    for key, action in BINDINGS.items():
        assert action.help, key
    for key in ("w/s", "SPACE", "R reset", "TAB"):
        assert key in HELP_LINE


def test_twist_round_trip_and_joy() -> None:
    msg = conv.twist_msg((0.2, -0.1, 0.3))
    assert isinstance(msg, Twist) and conv.twist_values(msg) == pytest.approx((0.2, -0.1, 0.3))
    joy = Joy(axes=[0.5, -1.0], buttons=[0, 1])
    assert conv.joy_inputs(joy) == ([0.5, -1.0], [0, 1])


def test_hand_and_posture_messages() -> None:
    stamp = conv.twist_msg((0, 0, 0))  # any object: the stamp is copied
    opened = conv.hand_msg("open", JointState().header.stamp)
    closed = conv.hand_msg("close", JointState().header.stamp)
    assert (opened.mode, opened.closure) == (HandCommand.OPEN, 0.0)
    assert (closed.mode, closed.closure) == (HandCommand.POWER, 1.0)
    posture = conv.posture_msg({"neck_yaw": 0.1, "neck_pitch": -0.2}, JointState().header.stamp)
    assert posture.name == ["neck_yaw", "neck_pitch"] and list(posture.position) == [0.1, -0.2]
    assert stamp is not None


def test_target_and_release_messages() -> None:
    pose = pin.SE3(pin.utils.rpyToMatrix(0.0, 0.0, math.pi / 2), np.array([0.3, -0.2, 0.8]))
    msg = conv.target_msg(pose, JointState().header.stamp)
    assert msg.header.frame_id == "base_footprint"
    assert [msg.pose.position.x, msg.pose.position.y, msg.pose.position.z] == pytest.approx([0.3, -0.2, 0.8])
    assert [msg.pose.orientation.z, msg.pose.orientation.w] == pytest.approx([math.sqrt(0.5)] * 2)
    assert conv.target_msg(None, JointState().header.stamp).header.frame_id == ""


def test_odom_pose_and_joint_positions() -> None:
    odom = Odometry()
    odom.pose.pose.position.x, odom.pose.pose.orientation.w = 1.5, 1.0
    assert conv.odom_pose(odom).translation[0] == 1.5
    odom.pose.pose.position.y = math.nan
    assert conv.odom_pose(odom) is None
    joints = JointState(name=["a", "b"], position=[0.1, math.inf])
    assert conv.joint_positions(joints) == {"a": 0.1}


def test_hardware_estop_from_status() -> None:
    def status(value: str | None) -> DiagnosticArray:
        values = [KeyValue(key="commands_accepted", value="3")]
        if value is not None:
            values.append(KeyValue(key="emergency_stop", value=value))
        return DiagnosticArray(status=[DiagnosticStatus(name="hardware", values=values)])

    assert conv.hardware_estop(status("True")) is True
    assert conv.hardware_estop(status("False")) is False
    assert conv.hardware_estop(status(None)) is None
