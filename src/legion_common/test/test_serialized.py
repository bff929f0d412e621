"""SerializedReader reads the stamp and numbers of a message's CDR bytes in place (what SerializedState writes, what
rclpy serializes), and refuses (None: deserialize instead) bytes of another layout."""

import numpy as np
import pytest

pytest.importorskip("rclpy")

from geometry_msgs.msg import WrenchStamped
from rclpy.serialization import serialize_message
from sensor_msgs.msg import Imu

from legion_common.serialized import (
    SerializedReader,
    SerializedState,
    header_stamp,
    set_quaternion,
    set_vector,
)

IMU_RUNS = [(4, set_quaternion(lambda m: m.orientation)), (3, set_vector(lambda m: m.angular_velocity)),
            (3, set_vector(lambda m: m.linear_acceleration))]


def _imu(frame: str = "imu_link") -> Imu:
    msg = Imu()
    msg.header.frame_id = frame
    msg.orientation_covariance[0] = 0.01
    return msg


def test_reads_what_the_writer_wrote_for_many_messages_in_a_row():
    writer = SerializedState(_imu(), header_stamp, IMU_RUNS)
    reader = SerializedReader(Imu, header_stamp, IMU_RUNS)
    rng = np.random.default_rng(1)
    for k in range(5):
        quaternion, rate, accel = rng.normal(size=4), rng.normal(size=3), rng.normal(size=3)
        sec, nanosec = 1000 + k, 2_000_000 * k
        read = reader.read(writer.serialize(sec, nanosec, quaternion, rate, accel))
        assert read is not None and read[:2] == (sec, nanosec)
        assert np.array_equal(read[2][0], quaternion) and np.array_equal(read[2][1], rate)
        assert np.array_equal(read[2][2], accel)
    # A field outside the runs that changes from message to message (here the linear acceleration, when the reader
    # does not read it) makes every later message unreadable in place: they are deserialized instead.
    partial = SerializedReader(Imu, header_stamp, IMU_RUNS[:2])
    assert partial.read(writer.serialize(1, 0, [0, 0, 0, 1.0], [0, 0, 0], [0, 0, 9.8])) is not None
    assert partial.read(writer.serialize(1, 2, [0, 0, 0, 1.0], [0, 0, 0], [0, 0, 9.7])) is None


def test_rclpy_serialized_bytes_are_read_and_another_layout_is_refused():
    reader = SerializedReader(WrenchStamped, header_stamp, [(3, set_vector(lambda m: m.wrench.force))])
    msg = WrenchStamped()
    msg.header.frame_id = "l_sole"
    msg.header.stamp.sec, msg.header.stamp.nanosec = 7, 5
    msg.wrench.force.x, msg.wrench.force.y, msg.wrench.force.z = 1.0, -2.0, 300.5
    read = reader.read(serialize_message(msg))
    assert read is not None and read[:2] == (7, 5) and list(read[2][0]) == [1.0, -2.0, 300.5]
    msg.wrench.force.z = float("nan")  # numbers are read as they are (the estimator checks them)
    assert np.isnan(reader.read(serialize_message(msg))[2][0][2])
    msg.header.frame_id = "r_sole"  # same length, other frame: another sender
    assert reader.read(serialize_message(msg)) is None
    msg.header.frame_id = "left_sole"  # other length
    assert reader.read(serialize_message(msg)) is None
    msg.header.frame_id = "l_sole"
    msg.wrench.torque.x = 4.0  # a field outside the runs changed: not the learnt sender
    assert reader.read(serialize_message(msg)) is None
