"""The pre-serialized control-rate messages (`conversions.SerializedState`) are what rclpy serializes for the message
the `*_msg` builders make, for any values: the same length, and the same message read back (CDR's padding bytes are
left uninitialised by the serializer, so the bytes are compared through the deserializer)."""

import numpy as np
import pytest
from rclpy.serialization import deserialize_message, serialize_message
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import JointState

from legion_common.stamps import to_stamp
from legion_sim import conversions as conv

NAMES = [f"joint_{i}_with_a_name_of_{'x' * (i % 5)}" for i in range(74)]


@pytest.mark.parametrize("seconds", [0.0, 0.002, 1.234567891, 4000.5])
def test_serialized_state_matches_rclpy_serialization(seconds):
    rng = np.random.default_rng(round(seconds * 1000))
    stamp = to_stamp(seconds)
    clock = conv.serialized_clock()
    joints = conv.serialized_joint_state(NAMES)
    imu = conv.serialized_imu("imu_link")
    wrench = conv.serialized_wrench("l_sole")
    for _ in range(3):  # the template is reused: nothing of an earlier message stays
        position, velocity, effort = (rng.normal(0.0, 10.0, len(NAMES)) for _ in range(3))
        velocity[3] = np.inf
        effort[5] = -0.0
        data = joints.serialize(stamp.sec, stamp.nanosec, position, velocity, effort)
        same(data, conv.joint_state_msg(stamp, NAMES, position, velocity, effort))
        back = deserialize_message(data, JointState)
        assert list(back.name) == NAMES and np.array_equal(back.position, position)

        quaternion, rate, accel = rng.normal(size=4), rng.normal(size=3), rng.normal(size=3)
        same(imu.serialize(stamp.sec, stamp.nanosec, quaternion, rate, accel),
             conv.imu_msg(stamp, "imu_link", quaternion, rate, accel))
        force, torque = rng.normal(size=3), rng.normal(size=3)
        same(wrench.serialize(stamp.sec, stamp.nanosec, force, torque), conv.wrench_msg(stamp, "l_sole", force, torque))
        same(clock.serialize(stamp.sec, stamp.nanosec), Clock(clock=stamp))


def same(data: bytes, message) -> None:
    expected = serialize_message(message)
    assert isinstance(data, bytes) and len(data) == len(expected) and data[:4] == expected[:4]
    assert deserialize_message(data, type(message)) == message


def test_serialized_state_checks_the_number_of_runs():
    with pytest.raises(ValueError):
        conv.serialized_wrench("r_sole").serialize(0, 0, [1.0, 2.0, 3.0])
