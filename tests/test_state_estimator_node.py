"""The state estimator node in-process: it estimates only from a full set of measurements of one stamp, and a lone
message stamped in the past (malformed or spoofed: the fuzz campaign sends them) does not restart the estimate,
while a whole set that went back in time (sim/reset) does."""

from __future__ import annotations

import pytest

rclpy = pytest.importorskip("rclpy")

from geometry_msgs.msg import WrenchStamped  # noqa: E402
from sensor_msgs.msg import Imu, JointState  # noqa: E402

from legion_common.stamps import to_stamp  # noqa: E402
from legion_estimation.state_estimator_node import StateEstimator  # noqa: E402


@pytest.fixture
def estimator():
    context = rclpy.Context()
    rclpy.init(context=context)
    node = StateEstimator(context=context)
    try:
        yield node
    finally:
        node.destroy_node()
        rclpy.try_shutdown(context=context)


def _joints(node: StateEstimator, t: float, names=None) -> JointState:
    msg = JointState()
    msg.header.stamp = to_stamp(t)
    msg.name = list(names if names is not None else node.config.standing)
    msg.position = [node.config.standing.get(n, 0.0) for n in msg.name]
    msg.velocity = [0.0] * len(msg.name)
    return msg


def _feed_set(node: StateEstimator, t: float) -> None:
    """One set as the hardware publishes it: joint states, IMU, both foot wrenches, one stamp."""
    node.on_joint_states(_joints(node, t))
    imu = Imu()
    imu.header.stamp = to_stamp(t)
    imu.orientation.w = 1.0
    node.on_measurement("imu", imu)
    for side in node.config.sides:
        wrench = WrenchStamped()
        wrench.header.stamp = to_stamp(t)
        wrench.wrench.force.z = 300.0
        node.on_measurement(side, wrench)


def test_a_lone_message_stamped_in_the_past_does_not_restart_the_estimate(estimator, monkeypatch) -> None:
    resets, estimates = [], []
    monkeypatch.setattr(estimator.estimator, "reset", lambda: resets.append(True))
    monkeypatch.setattr(estimator, "estimate", lambda joints: estimates.append(joints.header.stamp.sec))
    for k in range(5):
        _feed_set(estimator, 20.0 + 0.002 * k)
    assert len(estimates) == 5 and estimator.last_stamp == pytest.approx(20.008)
    # Stamped 0, 5 s back, and partial: each waits for peers of its stamp that never come.
    for t, names in ((0.0, None), (15.0, None), (0.0, list(estimator.config.standing)[:3])):
        estimator.on_joint_states(_joints(estimator, t, names))
        assert resets == [] and estimator.last_stamp == pytest.approx(20.008)
    _feed_set(estimator, 20.010)  # the hardware's next set is estimated as usual
    assert len(estimates) == 6 and resets == []
    # The whole set went back (the simulation was reset): the estimate starts again, then goes on from the new time.
    _feed_set(estimator, 0.002)
    assert resets == [True] and estimator.last_stamp == -1.0
    _feed_set(estimator, 0.004)
    assert len(estimates) == 7 and estimator.last_stamp == pytest.approx(0.004)


def test_odom_goes_out_as_the_bytes_of_its_message_and_the_listener_gets_the_same_estimate(estimator) -> None:
    """odom is published pre-serialized: the bytes read back as the Odometry message of the estimate (frames, stamp,
    pose, twist), and the in-process listener (composed control process) is handed that stamp and estimate."""
    from nav_msgs.msg import Odometry
    from rclpy.serialization import deserialize_message

    from legion_estimation.state_estimator_node import StateListener

    published, handed = [], []
    estimator.pub_odom.publish = published.append
    estimator.listener = StateListener(joint_states=lambda msg: None,
                                       odom=lambda stamp, estimate: handed.append((stamp, estimate)))
    for t in (1.0, 1.002, 1.004):
        _feed_set(estimator, t)
    assert len(published) == len(handed) == 3 and all(isinstance(data, bytes) for data in published)
    for data, (stamp, estimate) in zip(published, handed, strict=True):
        msg = deserialize_message(data, Odometry)
        assert msg == estimator._odometry_msg(to_stamp(stamp), estimate)
        assert msg.header.frame_id == estimator.config.frames["odom"]
        assert msg.child_frame_id == estimator.config.frames["base"]
        assert abs(msg.pose.pose.position.z - estimate.position[2]) == 0.0 and msg.pose.pose.position.z > 0.5
    assert [stamp for stamp, _ in handed] == [1.0, 1.002, 1.004]


def test_raw_imu_and_wrench_bytes_read_in_place_give_the_messages_readings(estimator) -> None:
    """The composed process takes the IMU and the wrenches as CDR bytes: read in place they give the same Reading as
    the message; bytes of another layout come back as the message (checked as any message is)."""
    from rclpy.serialization import serialize_message

    from legion_estimation.state_estimator_node import Reading, imu_reading, wrench_reading

    read_imu, read_wrench = estimator._raw_reader(Imu), estimator._raw_reader(WrenchStamped)
    for k in range(3):
        imu = Imu()
        imu.header.stamp, imu.header.frame_id = to_stamp(2.0 + 0.002 * k), "imu_link"
        imu.orientation.z, imu.orientation.w = 0.1 * k, 1.0
        imu.angular_velocity.x, imu.linear_acceleration.z = 0.3 * k, 9.8 + k
        got, expected = read_imu(serialize_message(imu)), imu_reading(imu)
        assert isinstance(got, Reading) and got.stamp == pytest.approx(expected.stamp, abs=1e-9)
        assert all((a == b).all() for a, b in zip(got.values[:2], expected.values, strict=True))
        wrench = WrenchStamped()
        wrench.header.stamp, wrench.header.frame_id = to_stamp(2.0 + 0.002 * k), "l_sole"
        wrench.wrench.force.z, wrench.wrench.torque.y = 300.0 + k, 0.5 * k
        got = read_wrench(serialize_message(wrench))
        assert isinstance(got, Reading) and list(got.values[0]) == list(wrench_reading(wrench).values[0])
    wrench.header.frame_id = "another_frame"
    assert isinstance(read_wrench(serialize_message(wrench)), WrenchStamped)
