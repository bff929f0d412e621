"""The state buffer: interpolation at a stamp (linear positions and joints, slerp orientation), its exactness on
smooth motions, and its clear outcomes for stamps outside the buffer, out-of-order and duplicate samples and time
going back."""

import math

import numpy as np
import pytest

from legion_common.transforms import quaternion_from_yaw, quaternion_to_matrix, yaw_from_quaternion
from legion_perception.errors import InputError
from legion_perception.state_buffer import Miss, StateBuffer, slerp

JOINTS = ("neck_pitch", "neck_yaw")
IDENTITY = (0.0, 0.0, 0.0, 1.0)


def fill(buffer: StateBuffer, stamps, x=lambda t: 0.5 * t, yaw=lambda t: 0.0, neck=lambda t: 0.0) -> None:
    for t in stamps:
        buffer.add_base(t, (x(t), 0.0, 0.8), tuple(quaternion_from_yaw(yaw(t))))
        buffer.add_joints(t, JOINTS, (neck(t), -neck(t)))


def at_50hz(start: float, end: float) -> list[float]:
    return [start + k * 0.02 for k in range(round((end - start) / 0.02) + 1)]


def test_interpolates_linearly_between_the_samples_around_the_stamp():
    buffer = StateBuffer()
    fill(buffer, [1.00, 1.02], x=lambda t: 0.5 * t, neck=lambda t: 10.0 * (t - 1.0))
    state = buffer.at(1.005)
    assert state.stamp == 1.005
    np.testing.assert_allclose(state.base_position, (0.5025, 0.0, 0.8), atol=1e-12)
    assert state.joint_positions["neck_pitch"] == pytest.approx(0.05)
    assert state.joint_positions["neck_yaw"] == pytest.approx(-0.05)
    assert buffer.last_miss is None
    exact = buffer.at(1.02)  # on a sample: that sample
    assert exact.base_position[0] == pytest.approx(0.51) and exact.joint_positions["neck_pitch"] == pytest.approx(0.2)


def test_orientation_is_slerped_at_a_constant_rate():
    buffer = StateBuffer()
    fill(buffer, [0.0, 0.02], yaw=lambda t: 3.0 * t)  # 0.06 rad in 20 ms
    for fraction in (0.1, 0.25, 0.5, 0.9):
        state = buffer.at(0.02 * fraction)
        assert yaw_from_quaternion(state.base_orientation) == pytest.approx(0.06 * fraction, abs=1e-12)
        assert np.linalg.norm(state.base_orientation) == pytest.approx(1.0)
    np.testing.assert_allclose(buffer.at(0.01).base_to_odom[:3, :3], quaternion_to_matrix(quaternion_from_yaw(0.03)),
                               atol=1e-12)


def test_slerp_takes_the_shorter_arc_and_stays_exact_for_large_angles():
    q0 = quaternion_from_yaw(3.0)
    q1 = -quaternion_from_yaw(-3.0)  # the same rotation as yaw -3.0 (= 3.283), other sign: 0.283 rad away
    halfway = slerp(q0, q1, 0.5)
    assert math.remainder(yaw_from_quaternion(halfway) - (3.0 + (2 * math.pi - 6.0) / 2), 2 * math.pi) == \
        pytest.approx(0.0, abs=1e-12)
    big = slerp(quaternion_from_yaw(0.0), quaternion_from_yaw(2.0), 0.3)
    assert yaw_from_quaternion(big) == pytest.approx(0.6, abs=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_interpolating_a_smooth_motion_gives_the_true_state_within_the_linear_interpolation_bound(seed):
    """Base walking at 0.5 m/s with a 1 Hz sway, heading turning, head nodding; samples at 50 Hz; the error of linear
    interpolation of f is at most max|f''| h^2 / 8 (h = 20 ms)."""
    rng = np.random.default_rng(seed)
    sway, omega = 0.03, 2 * math.pi * 1.0
    nod, nod_omega = 0.2, 2 * math.pi * 2.0
    buffer = StateBuffer()
    fill(buffer, at_50hz(0.0, 2.0), x=lambda t: 0.5 * t + sway * math.sin(omega * t), yaw=lambda t: 0.4 * t,
         neck=lambda t: 0.7 + nod * math.sin(nod_omega * t))
    h = 0.02
    position_bound = sway * omega**2 * h**2 / 8 + 1e-12  # 0.059 mm
    joint_bound = nod * nod_omega**2 * h**2 / 8 + 1e-12  # 1.6 mrad
    worst_position, worst_joint, worst_yaw = 0.0, 0.0, 0.0
    for t in rng.uniform(0.05, 1.95, 200):
        state = buffer.at(t)
        worst_position = max(worst_position, abs(state.base_position[0] - (0.5 * t + sway * math.sin(omega * t))))
        worst_joint = max(worst_joint, abs(state.joint_positions["neck_pitch"] - (0.7 + nod * math.sin(nod_omega * t))))
        worst_yaw = max(worst_yaw, abs(yaw_from_quaternion(state.base_orientation) - 0.4 * t))
    assert worst_position <= position_bound
    assert worst_joint <= joint_bound
    assert worst_yaw < 1e-9  # constant turn rate: slerp is exact
    # the nearest sample is up to 10 ms off: 5 mm at 0.5 m/s; interpolation is far better
    assert worst_position < 0.005 / 50


def test_a_stamp_newer_than_the_newest_sample_waits_unless_within_the_tolerance():
    buffer = StateBuffer(tolerance=0.002)
    fill(buffer, [1.0, 1.02])
    assert buffer.at(1.021).base_position[0] == pytest.approx(0.51)  # held: within the tolerance
    assert buffer.at(1.03) is None and buffer.last_miss is Miss.NOT_YET
    fill(buffer, [1.04])  # the state arrives: the frame can be placed
    assert buffer.at(1.03).base_position[0] == pytest.approx(0.515)
    assert buffer.misses[Miss.NOT_YET] == 1 and buffer.counts["miss.not_yet"] == 1


def test_not_yet_until_both_streams_cover_the_stamp():
    buffer = StateBuffer()
    assert buffer.at(1.0) is None and buffer.last_miss is Miss.NO_STATE
    buffer.add_base(1.0, (0, 0, 0), IDENTITY)
    buffer.add_base(1.02, (0, 0, 0), IDENTITY)
    assert buffer.at(1.01) is None and buffer.last_miss is Miss.NO_STATE and buffer.newest is None
    buffer.add_joints(1.0, JOINTS, (0.0, 0.0))
    assert buffer.at(1.01) is None and buffer.last_miss is Miss.NOT_YET and buffer.newest == 1.0
    buffer.add_joints(1.02, JOINTS, (0.0, 0.0))
    assert buffer.at(1.01) is not None and buffer.newest == 1.02


def test_a_stamp_older_than_the_buffer_is_too_old_and_old_samples_are_forgotten():
    buffer = StateBuffer(length=1.0)
    fill(buffer, at_50hz(0.0, 3.0))
    assert buffer.at(1.5) is None and buffer.last_miss is Miss.TOO_OLD
    assert buffer.at(2.01) is not None  # within the last second
    assert len(buffer._base.stamps) <= 51 and len(buffer._joints.stamps) <= 51


def test_a_gap_in_the_stream_larger_than_max_gap_is_not_interpolated_across():
    buffer = StateBuffer(max_gap=0.1)
    fill(buffer, [1.0, 1.02, 1.5, 1.52])
    assert buffer.at(1.2) is None and buffer.last_miss is Miss.GAP
    assert buffer.at(1.51) is not None


def test_out_of_order_samples_are_put_in_place_and_duplicates_replace():
    buffer = StateBuffer()
    fill(buffer, [1.0, 1.04, 1.02], x=lambda t: t)  # 1.02 arrives late
    assert buffer._base.stamps == [1.0, 1.02, 1.04]
    assert buffer.at(1.03).base_position[0] == pytest.approx(1.03)
    buffer.add_base(1.02, (5.0, 0.0, 0.8), IDENTITY)  # the same stamp again: the newer message wins
    assert buffer.at(1.02).base_position[0] == 5.0
    assert buffer.counts["odom.out_of_order"] == 1 and buffer.counts["joints.out_of_order"] == 1
    assert buffer.counts["odom.duplicates"] == 1


def test_time_going_back_clears_the_buffer():
    buffer = StateBuffer(length=2.0)
    fill(buffer, at_50hz(8.0, 10.0), x=lambda t: t)
    fill(buffer, [0.0, 0.02], x=lambda t: -t)  # simulation reset: a new time line
    assert buffer._base.stamps == [0.0, 0.02]
    assert buffer.at(9.0) is None and buffer.last_miss is Miss.NOT_YET
    assert buffer.at(0.01).base_position[0] == pytest.approx(-0.01)
    assert buffer.counts["odom.resets"] == 1 and buffer.counts["joints.resets"] == 1
    fill(buffer, [0.04, 0.06])
    buffer.drop_newer_than(0.045)
    assert buffer.newest == 0.04
    buffer.clear()
    assert buffer.at(0.01) is None and buffer.last_miss is Miss.NO_STATE


def test_joint_messages_naming_different_joints_interpolate_the_common_ones():
    buffer = StateBuffer()
    buffer.add_base(0.0, (0, 0, 0), IDENTITY)
    buffer.add_base(0.02, (0, 0, 0), IDENTITY)
    buffer.add_joints(0.0, ("neck_pitch", "neck_yaw"), (0.0, 1.0))
    buffer.add_joints(0.02, ("neck_pitch", "waist_pitch"), (0.2, 3.0))
    early = buffer.at(0.005).joint_positions
    assert early["neck_pitch"] == pytest.approx(0.05) and early["neck_yaw"] == 1.0 and early["waist_pitch"] == 3.0
    assert buffer.at(0.015).joint_positions["neck_pitch"] == pytest.approx(0.15)


def test_bad_samples_are_refused_with_a_clear_error():
    buffer = StateBuffer()
    with pytest.raises(InputError, match="finite"):
        buffer.add_base(1.0, (math.nan, 0.0, 0.0), IDENTITY)
    with pytest.raises(InputError, match="zero quaternion"):
        buffer.add_base(1.0, (0.0, 0.0, 0.0), (0.0, 0.0, 0.0, 0.0))
    with pytest.raises(InputError, match="2 names but 1 positions"):
        buffer.add_joints(1.0, JOINTS, (0.0,))
    with pytest.raises(InputError, match="finite"):
        buffer.add_joints(math.inf, JOINTS, (0.0, 0.0))
    buffer.add_base(1.0, (0.0, 0.0, 0.0), IDENTITY)
    buffer.add_joints(1.0, JOINTS, (math.nan, 0.0))  # kept (appending stays cheap); refused when used
    with pytest.raises(InputError, match="non-finite"):
        buffer.at(1.0)
    with pytest.raises(InputError):
        StateBuffer(length=0.0)
