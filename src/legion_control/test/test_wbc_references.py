"""The reference book on its own: checks, rejection reports that expire, hand targets that go stale, the posture,
and the blend of the CoM reference when its source changes."""

from __future__ import annotations

import numpy as np
import pinocchio as pin
import pytest

from legion_control.errors import ControlError
from legion_control.parameters import HandTaskParameters, ReferenceParameters
from legion_control.references import REJECTION_REPORT_TIME, BalanceOffset, HandTarget, ReferenceBook

STANDING = np.array([0.1, -0.2, 0.3])


@pytest.fixture
def book() -> ReferenceBook:
    return ReferenceBook(ReferenceParameters(), HandTaskParameters(), ("left", "right"), 0.8, STANDING,
                         np.full(3, -1.0), np.full(3, 1.0), {"a": 0, "b": 1, "c": 2}, ("finger",))


def test_a_rejected_offset_keeps_the_last_good_one_and_is_reported_for_a_while(book):
    good = BalanceOffset(0.0, np.array([0.02, 0.0, 0.0]), np.zeros(3), np.zeros(3))
    book.set_balance_offset(good, 0.0)
    with pytest.raises(ControlError):
        book.set_balance_offset(BalanceOffset(0.1, np.array([0.5, 0.0, 0.0]), np.zeros(3), np.zeros(3)), 0.1)
    assert np.allclose(book.offset.offset, good.offset)
    assert len(book.rejection_warnings(0.2)) == 1
    assert book.rejection_warnings(0.1 + REJECTION_REPORT_TIME + 0.01) == []


def test_posture_names_known_joints_skips_hands_and_is_clipped(book):
    book.set_posture({"a": 2.0, "finger": 0.5}, 0.0)
    assert np.allclose(book.posture, [1.0, -0.2, 0.3])
    with pytest.raises(ControlError, match="unknown joint"):
        book.set_posture({"z": 0.0}, 0.0)
    assert np.allclose(book.posture, [1.0, -0.2, 0.3])
    book.set_posture({}, 0.0)
    assert np.allclose(book.posture, STANDING)


def test_a_hand_reference_moves_at_the_hand_speed_and_goes_stale(book):
    gripper = pin.SE3(np.eye(3), np.zeros(3))
    book.set_hand_target("left", HandTarget(0.0, np.array([1.0, 0.0, 0.0]), np.array([0.0, 0.0, 0.0, 1.0])), 0.0,
                         gripper)
    track = book.hand_reference("left", 0.1, 0.1)
    assert track.position[0] == pytest.approx(HandTaskParameters().max_speed * 0.1)
    with pytest.raises(ControlError, match="reach"):
        book.set_hand_target("left", HandTarget(0.2, np.array([5.0, 0.0, 0.0]), np.array([0.0, 0.0, 0.0, 1.0])),
                             0.2, gripper, waist=np.zeros(3), reach=1.0)
    assert book.hand_tracks["left"] is track
    assert book.hand_reference("left", 0.1, HandTaskParameters().target_timeout + 0.01) is None
    assert book.hand_tracks["left"] is None and book.rejection_warnings(1.1)


def test_the_com_reference_blends_from_the_last_one_and_stays_in_the_height_range(book):
    book.start_com_blend(0.0, np.array([0.0, 0.0, 0.8]))
    target = np.array([0.1, 0.0, 0.8])
    halfway, *_ = book.shaped_com(0.25, target.copy(), np.zeros(3), np.zeros(3), 0.0, 0.0)
    assert halfway[0] == pytest.approx(0.05)  # smoothstep at s = 0.5
    done, *_ = book.shaped_com(0.6, target.copy(), np.zeros(3), np.zeros(3), 0.0, 0.0)
    assert done[0] == pytest.approx(0.1) and book.com_blend is None
    low, *_ = book.shaped_com(0.7, np.array([0.0, 0.0, 0.1]), np.zeros(3), np.zeros(3), 0.0, 0.0)
    assert low[2] == pytest.approx(ReferenceParameters().min_com_height_ratio * 0.8)


def _gait_sample(rng, time=0.0, base_orientation=True):
    from legion_control.references import GaitSample, SoleReference

    def quaternion():
        q = rng.normal(size=4)
        return q / np.linalg.norm(q) * (1.0 + 1e-4)  # within the unit tolerance, so it gets normalised

    soles = {side: SoleReference(side == "left", rng.normal(size=3), quaternion(), rng.normal(size=6),
                                 rng.normal(size=6)) for side in ("left", "right")}
    return GaitSample(time, rng.normal(size=3), rng.normal(size=3), rng.normal(size=3),
                      quaternion() if base_orientation else None, rng.normal(size=3), soles)


def test_checking_a_gait_sample_at_once_gives_what_checking_each_vector_gives():
    """The all-at-once check returns the same arrays as the vector-by-vector one, and a faulty vector still raises
    the error that names it."""
    import dataclasses

    from legion_control.references import _checked_gait_sample_one_by_one, checked_gait_sample

    rng = np.random.default_rng(4)
    for base_orientation in (True, False):
        sample = _gait_sample(rng, base_orientation=base_orientation)
        fast, slow = checked_gait_sample(sample), _checked_gait_sample_one_by_one(sample)
        for name in ("com_position", "com_velocity", "com_acceleration", "base_orientation", "base_angular_velocity"):
            a, b = getattr(fast, name), getattr(slow, name)
            assert (a is None and b is None) or np.array_equal(a, b)
        for side in sample.soles:
            for name in ("in_contact", "position", "orientation", "velocity", "acceleration"):
                assert np.array_equal(getattr(fast.soles[side], name), getattr(slow.soles[side], name))
    sample = _gait_sample(rng)
    bad_soles = dict(sample.soles)
    bad_soles["right"] = dataclasses.replace(sample.soles["right"], velocity=np.array([0.0, np.nan, 0, 0, 0, 0]))
    with pytest.raises(ControlError, match="right sole velocity"):
        checked_gait_sample(dataclasses.replace(sample, soles=bad_soles))
    with pytest.raises(ControlError, match="base orientation must be a unit quaternion"):
        checked_gait_sample(dataclasses.replace(sample, base_orientation=np.array([0.0, 0.0, 0.0, 2.0])))
    with pytest.raises(ControlError, match="CoM velocity"):
        checked_gait_sample(dataclasses.replace(sample, com_velocity=np.zeros(4)))
    no_contact = {side: dataclasses.replace(sole, in_contact=False) for side, sole in sample.soles.items()}
    with pytest.raises(ControlError, match="no sole in contact"):
        checked_gait_sample(dataclasses.replace(sample, soles=no_contact))


def test_the_applied_offset_follows_a_new_one_at_most_its_speed_and_a_future_stamp_has_no_feed_forward(book):
    """A stream of jumping offsets (the fuzz campaign's flood) moves the CoM reference no faster than
    max_com_offset_speed; a future-stamped offset's feed-forward does not stay in force; large feed-forwards are
    refused."""
    speed = book.params.max_com_offset_speed
    zero = np.zeros(3)
    base = np.array([0.0, 0.0, 0.8])  # the CoM at the standing height: no height clamp
    com, *_ = book.shaped_com(0.0, base.copy(), zero.copy(), zero.copy(), 0.0, 0.0)
    rng = np.random.default_rng(0)
    last, t = com.copy(), 0.0
    for _ in range(200):
        jump = rng.uniform(-1.0, 1.0, 3) * np.array([0.07, 0.07, 0.02])
        book.set_balance_offset(BalanceOffset(t, jump, zero, zero), t)
        t += 0.002
        com, velocity, _ = book.shaped_com(t, base.copy(), zero.copy(), zero.copy(), 0.0, 0.0)
        assert np.linalg.norm(com - last) <= speed * 0.002 + 1e-9
        assert np.linalg.norm(velocity) <= speed + 1e-9
        last = com.copy()
    # Arrived at a held offset: its feed-forward counts while fresh, not when stamped 30 years ahead.
    target = np.array([0.02, 0.0, 0.0])
    book.set_balance_offset(BalanceOffset(t, target, np.array([0.1, 0.0, 0.0]), zero), t)
    for _ in range(200):
        t += 0.002
        com, velocity, _ = book.shaped_com(t, base.copy(), zero.copy(), zero.copy(), 0.0, 0.0)
    assert np.allclose(com, base + target) and np.allclose(velocity, zero)  # arrived, and no longer fresh
    book.set_balance_offset(BalanceOffset(t, target, np.array([0.1, 0.0, 0.0]), zero), t)
    _, velocity, _ = book.shaped_com(t + 0.002, base.copy(), zero.copy(), zero.copy(), 0.0, 0.0)
    assert np.allclose(velocity, [0.1, 0.0, 0.0])  # fresh
    book.set_balance_offset(BalanceOffset(t + 1e9, target, np.array([0.1, 0.0, 0.0]), zero), t)
    _, velocity, _ = book.shaped_com(t + 0.004, base.copy(), zero.copy(), zero.copy(), 0.0, 0.0)
    assert np.allclose(velocity, zero)  # from the future: held, without feed-forward
    with pytest.raises(ControlError, match="velocity"):
        book.set_balance_offset(BalanceOffset(t, target, np.array([speed + 0.1, 0.0, 0.0]), zero), t)
    with pytest.raises(ControlError, match="acceleration"):
        book.set_balance_offset(BalanceOffset(t, target, zero, np.array([0.0, 0.0, 50.0])), t)
