"""Message <-> core conversions of the whole-body controller's ROS interface (the only place that does them).

Every function works on message objects alone (no node, no `rclpy.init`), so tests build messages and call them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from builtin_interfaces.msg import Time
from geometry_msgs.msg import PoseStamped
from nav_msgs.msg import Odometry
from sensor_msgs.msg import JointState

from legion_common.messages import xyz, xyzw
from legion_common.serialized import SerializedState, header_stamp, set_array
from legion_common.stamps import to_seconds, to_stamp
from legion_control.errors import ControlError
from legion_control.grasp import HandCommand, checked_hand_command
from legion_control.references import BalanceOffset, BaseState, GaitSample, HandTarget, SoleReference
from legion_control.whole_body_controller import JointCommandArrays
from legion_description.robot_config import SIDES
from legion_interfaces.msg import BalanceOffset as BalanceOffsetMsg
from legion_interfaces.msg import GaitReference, JointCommand
from legion_interfaces.msg import GaitSample as GaitSampleMsg
from legion_interfaces.msg import HandCommand as HandCommandMsg

SIDE_INDEX = {side: i for i, side in enumerate(SIDES)}
"""Side name -> index in GaitSample.soles (LEFT = 0, RIGHT = 1)."""


def base_state_from_odometry(msg: Odometry) -> BaseState:
    """nav_msgs/Odometry (odom -> base_link, twist in base_link) -> BaseState (not checked: the core checks)."""
    pose, twist = msg.pose.pose, msg.twist.twist
    return BaseState(to_seconds(msg.header.stamp), xyz(pose.position), xyzw(pose.orientation),
                     xyz(twist.linear), xyz(twist.angular))


def gait_samples_from_msg(msg: GaitReference) -> list[GaitSample]:
    """GaitReference -> samples keyed by side (soles[LEFT] is `left`). A base orientation of all zeros is None
    (level, facing the soles' mean heading)."""
    samples = []
    for sample in msg.samples:
        soles = {}
        for side, index in SIDE_INDEX.items():
            sole = sample.soles[index]
            soles[side] = SoleReference(
                bool(sole.in_contact), xyz(sole.pose.position), xyzw(sole.pose.orientation),
                np.concatenate((xyz(sole.velocity.linear), xyz(sole.velocity.angular))),
                np.concatenate((xyz(sole.acceleration.linear), xyz(sole.acceleration.angular))))
        orientation = xyzw(sample.base_orientation)
        samples.append(GaitSample(
            to_seconds(sample.stamp), xyz(sample.com_position), xyz(sample.com_velocity),
            xyz(sample.com_acceleration), None if not np.any(orientation) else orientation,
            xyz(sample.base_angular_velocity), soles))
    return samples


def balance_offset_from_msg(msg: BalanceOffsetMsg) -> BalanceOffset:
    return BalanceOffset(to_seconds(msg.header.stamp), xyz(msg.com_offset), xyz(msg.com_velocity),
                         xyz(msg.com_acceleration))


BASE_FOOTPRINT = "base_footprint"
"""REP-120 frame a hand target may be given in (the base on the floor, heading only)."""


def hand_target_from_msg(msg: PoseStamped, odom_frame: str, footprint_frame: str = BASE_FOOTPRINT
                         ) -> HandTarget | None:
    """PoseStamped of a gripper frame -> HandTarget, or None (release) for an empty frame_id.

    A target in `footprint_frame` (REP-120's base_footprint, with the robot's frame prefix) moves with the robot: the
    controller follows it with its own base estimate.

    Raises:
        ControlError: a frame other than `odom_frame` or `footprint_frame`.
    """
    frame = msg.header.frame_id.lstrip("/")
    if not frame:
        return None
    if frame not in (odom_frame, footprint_frame):
        raise ControlError(f"hand target must be in '{odom_frame}' or '{footprint_frame}', got "
                           f"'{msg.header.frame_id}'")
    return HandTarget(to_seconds(msg.header.stamp), xyz(msg.pose.position), xyzw(msg.pose.orientation),
                      in_base_footprint=frame == footprint_frame)


def hand_command_from_msg(msg: HandCommandMsg) -> HandCommand:
    """HandCommand message -> checked HandCommand. Raises ControlError on an unknown mode or a bad closure."""
    return checked_hand_command(int(msg.mode), float(msg.closure))


def posture_from_msg(msg: JointState) -> dict[str, float]:
    """JointState (names and positions) -> joint name -> position [rad].

    Raises:
        ControlError: names and positions differ in length.
    """
    if len(msg.name) != len(msg.position):
        raise ControlError(f"posture reference has {len(msg.name)} names and {len(msg.position)} positions")
    return {name: float(value) for name, value in zip(msg.name, msg.position, strict=True)}


def joint_command_msg(stamp: Time, command: JointCommandArrays) -> JointCommand:
    """JointCommandArrays -> JointCommand stamped with the joint state it answers."""
    msg = JointCommand()
    msg.header.stamp = stamp
    msg.name = list(command.names)
    msg.position = command.position.tolist()
    msg.velocity = command.velocity.tolist()
    msg.effort = command.effort.tolist()
    msg.stiffness = command.stiffness.tolist()
    msg.damping = command.damping.tolist()
    return msg


COMMAND_ARRAYS = ("position", "velocity", "effort", "stiffness", "damping")
"""JointCommand's float64[] fields, in message order."""


class JointCommandBytes:
    """JointCommandArrays -> the CDR bytes of the message `joint_command_msg` builds, for `Publisher.publish(bytes)`
    (legion_common.serialized: the 500 Hz command costs a few microseconds instead of a Python message's conversion).
    The layout is made for the first command's joint names and again whenever they change."""

    def __init__(self) -> None:
        self._names: tuple[str, ...] | None = None
        self._layout: SerializedState | None = None

    def __call__(self, stamp: Time, command: JointCommandArrays) -> bytes:
        if command.names is not self._names and command.names != self._names:
            template = JointCommand()
            template.name = list(command.names)
            self._layout = SerializedState(template, header_stamp,
                                           [(len(command.names), set_array(field)) for field in COMMAND_ARRAYS])
            self._names = command.names
        return self._layout.serialize(stamp.sec, stamp.nanosec, command.position, command.velocity, command.effort,
                                      command.stiffness, command.damping)


# ---------------------------------------------------------------------------------------- builders (other nodes)
def balance_offset_msg(stamp_seconds: float, offset: Sequence[float], velocity: Sequence[float] = (0.0, 0.0, 0.0),
                       acceleration: Sequence[float] = (0.0, 0.0, 0.0)) -> BalanceOffsetMsg:
    """A BalanceOffset message (heading-frame offset [m], its rate [m/s] and acceleration [m/s^2])."""
    msg = BalanceOffsetMsg()
    msg.header.stamp = to_stamp(stamp_seconds)
    for field, values in (("com_offset", offset), ("com_velocity", velocity), ("com_acceleration", acceleration)):
        vector = getattr(msg, field)
        vector.x, vector.y, vector.z = (float(v) for v in values)
    return msg


def gait_sample_msg(sample: GaitSample) -> GaitSampleMsg:
    """GaitSample -> message (the inverse of `gait_samples_from_msg` for one sample)."""
    msg = GaitSampleMsg()
    msg.stamp = to_stamp(sample.time)
    msg.com_position.x, msg.com_position.y, msg.com_position.z = (float(v) for v in sample.com_position)
    msg.com_velocity.x, msg.com_velocity.y, msg.com_velocity.z = (float(v) for v in sample.com_velocity)
    msg.com_acceleration.x, msg.com_acceleration.y, msg.com_acceleration.z = (
        float(v) for v in sample.com_acceleration)
    orientation = np.zeros(4) if sample.base_orientation is None else sample.base_orientation
    (msg.base_orientation.x, msg.base_orientation.y, msg.base_orientation.z,
     msg.base_orientation.w) = (float(v) for v in orientation)
    (msg.base_angular_velocity.x, msg.base_angular_velocity.y,
     msg.base_angular_velocity.z) = (float(v) for v in sample.base_angular_velocity)
    for side, index in SIDE_INDEX.items():
        sole, out = sample.soles[side], msg.soles[index]
        out.in_contact = bool(sole.in_contact)
        out.pose.position.x, out.pose.position.y, out.pose.position.z = (float(v) for v in sole.position)
        (out.pose.orientation.x, out.pose.orientation.y, out.pose.orientation.z,
         out.pose.orientation.w) = (float(v) for v in sole.orientation)
        out.velocity.linear.x, out.velocity.linear.y, out.velocity.linear.z = (float(v) for v in sole.velocity[:3])
        out.velocity.angular.x, out.velocity.angular.y, out.velocity.angular.z = (
            float(v) for v in sole.velocity[3:])
        (out.acceleration.linear.x, out.acceleration.linear.y,
         out.acceleration.linear.z) = (float(v) for v in sole.acceleration[:3])
        (out.acceleration.angular.x, out.acceleration.angular.y,
         out.acceleration.angular.z) = (float(v) for v in sole.acceleration[3:])
    return msg

