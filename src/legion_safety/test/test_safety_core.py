"""legion_safety core: S_p (ISO/TS 15066 with ISO 13855 speeds), zone hysteresis, the e-stop latch."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from legion_safety.errors import SafetyError
from legion_safety.separation import (
    ISO13855_FAST_SPEED,
    ISO13855_SLOW_SPEED,
    RobotSafety,
    SeparationParameters,
    protective_separation,
)
from legion_safety.zones import EmergencyStopLatch, SeparationMonitor, TrackedPerson, Zone, ZoneParameters

ROBOT = RobotSafety(stopping_time=0.8, stopping_distance=0.2, reference_speed=0.5, body_radius=0.4)
SEPARATION = SeparationParameters()
ZONES = ZoneParameters()


def person(x: float, y: float = 0.0, vx: float = 0.0, vy: float = 0.0, name: str = "p") -> TrackedPerson:
    return TrackedPerson(name, np.array([x, y]), np.array([vx, vy]))


def monitor(zones: ZoneParameters = ZONES) -> SeparationMonitor:
    return SeparationMonitor(zones, SEPARATION, ROBOT)


def run(m: SeparationMonitor, now: float, people: list[TrackedPerson], speed: float = 0.0):
    return m.update(now, np.zeros(2), speed, people, now, now)


# ------------------------------------------------------------------------------------------------ S_p
def test_protective_distance_is_the_sum_of_its_terms_by_hand():
    terms = protective_separation(SEPARATION, ROBOT, robot_speed=0.5, person_approach_speed=0.0)
    t_r, t_s = SEPARATION.reaction_time, ROBOT.stopping_time
    expected = (1.6 * (t_r + t_s) + 0.5 * t_r + 0.2 + SEPARATION.intrusion_distance + SEPARATION.person_uncertainty
                + SEPARATION.robot_uncertainty)
    assert terms.person_speed == ISO13855_SLOW_SPEED  # S > 0.5 m with 2.0 m/s: ISO 13855 takes 1.6 m/s
    assert terms.protective_distance == pytest.approx(expected)


def test_iso13855_fast_speed_below_half_a_metre():
    quick = RobotSafety(stopping_time=0.05, stopping_distance=0.0, reference_speed=0.5, body_radius=0.3)
    params = SeparationParameters(reaction_time=0.05, intrusion_distance=0.0, person_uncertainty=0.0,
                                  robot_uncertainty=0.0)
    terms = protective_separation(params, quick, 0.2)  # T_r + T_s = 0.1 s
    assert terms.person_speed == ISO13855_FAST_SPEED  # 2.0 m/s x 0.1 s + 0.2 m/s x 0.05 s = 0.21 m <= 0.5 m
    assert terms.protective_distance == pytest.approx(0.21)


def test_a_person_faster_than_the_standard_is_taken_at_the_measured_speed():
    terms = protective_separation(SEPARATION, ROBOT, 0.0, person_approach_speed=2.5)
    assert terms.person_speed == 2.5


def test_non_finite_speed_is_an_error():
    with pytest.raises(SafetyError):
        protective_separation(SEPARATION, ROBOT, math.nan)


def test_robot_file_block_checked():
    with pytest.raises(SafetyError, match="missing"):
        RobotSafety.from_mapping({"stopping_time": 1.0})
    with pytest.raises(SafetyError, match="unknown"):
        RobotSafety.from_mapping({"stopping_time": 1.0, "stopping_distance": 0.1, "reference_speed": 0.5,
                                  "body_radius": 0.3, "typo": 1.0})
    with pytest.raises(SafetyError, match="reference_speed"):
        RobotSafety.from_mapping({"stopping_time": 1.0, "stopping_distance": 0.1, "reference_speed": 0.0,
                                  "body_radius": 0.3})


@settings(max_examples=200, deadline=None)
@given(v_r=st.floats(0.0, 2.0), dv_r=st.floats(0.0, 1.0), v_h=st.floats(-3.0, 3.0), dv_h=st.floats(0.0, 2.0))
def test_protective_distance_grows_with_either_speed(v_r, dv_r, v_h, dv_h):
    base = protective_separation(SEPARATION, ROBOT, v_r, v_h).protective_distance
    assert protective_separation(SEPARATION, ROBOT, v_r + dv_r, v_h).protective_distance >= base - 1e-12
    assert protective_separation(SEPARATION, ROBOT, v_r, v_h + dv_h).protective_distance >= base - 1e-12
    assert base >= 0.5  # ISO 13855: never below 0.5 m


# ------------------------------------------------------------------------------------------------ zones
def test_starts_stopped_until_inputs_arrive_then_clears_after_resume_time():
    m = monitor()
    assert m.update(0.0, None, 0.0, [], -math.inf, -math.inf).zone == Zone.PROTECTIVE_STOP
    t = 0.0
    while t < ZONES.resume_time - 0.1:
        assert run(m, t, []).zone == Zone.PROTECTIVE_STOP
        t += 0.05
    t += 0.2
    a = run(m, t, [])
    assert a.zone == Zone.CLEAR and a.speed_scale == 1.0


def clear_monitor() -> tuple[SeparationMonitor, float]:
    m = monitor()
    run(m, 0.0, [])
    run(m, ZONES.resume_time + 0.01, [])
    assert not m.stopped
    return m, ZONES.resume_time + 0.01


def test_warning_scale_is_proportional_between_sp_and_the_warning_distance():
    m, t = clear_monitor()
    s_p = protective_separation(SEPARATION, ROBOT, 0.0).protective_distance + ROBOT.body_radius
    for fraction in (0.1, 0.5, 0.9):
        a = run(m, t, [person(s_p + fraction * ZONES.warning_margin)])
        assert a.zone == Zone.WARNING
        assert a.speed_scale == pytest.approx(fraction)
        assert a.protective_distance == pytest.approx(s_p)
    assert run(m, t, [person(s_p + ZONES.warning_margin + 0.01)]).zone == Zone.CLEAR
    assert run(m, t, [person(s_p - 0.01)]).zone == Zone.PROTECTIVE_STOP


def test_stop_is_held_inside_the_release_margin_and_for_resume_time():
    m, t = clear_monitor()
    s_p = protective_separation(SEPARATION, ROBOT, 0.0).protective_distance + ROBOT.body_radius
    assert run(m, t, [person(s_p - 0.1)]).zone == Zone.PROTECTIVE_STOP
    # back out just past S_p, inside the release margin: still stopped however long
    for k in range(100):
        assert run(m, t + 0.05 * k, [person(s_p + 0.5 * ZONES.release_margin)]).zone == Zone.PROTECTIVE_STOP
    t += 5.0
    run(m, t, [person(s_p + 2.0 * ZONES.release_margin)])
    assert run(m, t + ZONES.resume_time - 0.05, [person(s_p + 2 * ZONES.release_margin)]).zone == Zone.PROTECTIVE_STOP
    # the person comes back in during the wait: the wait starts again
    run(m, t + ZONES.resume_time - 0.04, [person(s_p)])
    assert run(m, t + ZONES.resume_time + 0.1, [person(s_p + 5.0)]).zone == Zone.PROTECTIVE_STOP
    assert run(m, t + 2 * ZONES.resume_time + 0.2, [person(s_p + 5.0)]).zone == Zone.CLEAR


def test_approaching_person_stops_earlier_than_a_still_one():
    m, t = clear_monitor()
    s_p_still = protective_separation(SEPARATION, ROBOT, 0.0).protective_distance + ROBOT.body_radius
    d = s_p_still + 0.2
    assert run(m, t, [person(d)]).zone == Zone.WARNING
    assert run(m, t, [person(d, vx=-3.0)]).zone == Zone.PROTECTIVE_STOP  # 3 m/s towards the robot


def test_stale_people_or_odometry_stop():
    m, t = clear_monitor()
    assert m.update(t, np.zeros(2), 0.0, [], t - 2 * ZONES.input_timeout, t).zone == Zone.PROTECTIVE_STOP
    assert "people" in m.last.reason
    assert m.update(t, np.zeros(2), 0.0, [], t, t - 2 * ZONES.input_timeout).zone == Zone.PROTECTIVE_STOP
    assert "odometry" in m.last.reason
    assert m.update(t, np.array([math.nan, 0.0]), 0.0, [], t, t).zone == Zone.PROTECTIVE_STOP


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.floats(0.0, 8.0), st.floats(-math.pi, math.pi), st.floats(-2.0, 2.0),
                          st.floats(0.0, 1.0)), min_size=1, max_size=60), st.integers(0, 2**31 - 1))
def test_never_clear_or_warning_inside_sp_and_never_resumes_early(samples, seed):
    """Property: whatever the people do, the scale is 0 whenever someone is inside S_p, and after a violation motion
    resumes no sooner than resume_time later."""
    rng = np.random.default_rng(seed)
    m, t = clear_monitor()
    last_violation = -math.inf
    for distance, bearing, approach, speed in samples:
        t += float(rng.uniform(0.01, 0.3))
        position = distance * np.array([math.cos(bearing), math.sin(bearing)])
        velocity = -approach * np.array([math.cos(bearing), math.sin(bearing)])
        a = run(m, t, [person(*position, *velocity)], speed)
        s_p = protective_separation(SEPARATION, ROBOT, speed, approach).protective_distance + ROBOT.body_radius
        if distance < s_p:
            last_violation = t
            assert a.zone == Zone.PROTECTIVE_STOP and a.speed_scale == 0.0
        if a.zone in (Zone.CLEAR, Zone.WARNING):
            assert t - last_violation >= ZONES.resume_time
        assert 0.0 <= a.speed_scale <= 1.0


def test_zone_parameters_checked():
    from legion_common.parameters import ParameterError

    with pytest.raises(ParameterError):
        ZoneParameters(warning_margin=0.2, release_margin=0.5).validated()


# ------------------------------------------------------------------------------------------------ e-stop latch
def test_latch_needs_name_and_reason_and_a_released_source():
    latch = EmergencyStopLatch()
    assert latch.trigger(1.0, "emergency_stop topic")
    assert not latch.trigger(2.0, "hardware")  # already latched: the first source is kept
    latch.asserted = True
    assert latch.reset(3.0, "alice", "checked")[0] is False
    latch.asserted = False
    ok, message = latch.reset(3.0, "", "checked")
    assert not ok and "requested_by" in message
    ok, message = latch.reset(3.0, "alice", "  ")
    assert not ok
    assert latch.latched
    ok, message = latch.reset(4.0, "alice", "area checked")
    assert ok and not latch.latched
    assert "alice" in message and "area checked" in message and "emergency_stop topic" in message
    assert "alice" in latch.log[-1]


def test_controlled_stop_holds_once_still_or_after_its_timeout():
    from legion_safety.zones import ControlledStop, ControlledStopParameters

    params = ControlledStopParameters(still_speed=0.05, still_time=0.3, timeout=3.0)
    stop = ControlledStop(params)
    assert stop.update(0.0, 0.0) == ""  # nothing started
    stop.start(1.0)
    speeds = [0.5, 0.4, 0.2, 0.04, 0.1, 0.03, 0.02, 0.01, 0.0]  # a dip below, then still from t = 1.5
    due = [stop.update(1.0 + 0.1 * k, v) for k, v in enumerate(speeds)]
    assert due[:8] == [""] * 8 and due[8] == "stopped"  # still from 1.5 s, due at 1.8 s
    assert stop.started is None
    stop.start(10.0)
    assert stop.update(12.9, 0.3) == "" and stop.update(13.0, 0.3) == "timeout"
    stop.start(20.0)
    assert stop.update(20.5, math.nan) == "" and stop.update(23.0, math.nan) == "timeout"  # no odometry: timeout


def test_other_robots_count_even_where_people_reports_are_not_required():
    """Another robot of the cell comes from its odometry, not from perception: with the people input stale and not
    required (camera off) perception's people are dropped, the robot still stops near the other robot."""
    zones = ZoneParameters(people_required=False, resume_time=0.0)
    other = TrackedPerson("robot robot_2", np.array([0.8, 0.0]), np.zeros(2))
    for others, zone in (((), Zone.CLEAR), ((other,), Zone.PROTECTIVE_STOP)):
        m = monitor(zones)
        m.update(0.0, np.zeros(2), 0.0, [], -math.inf, 0.0, others)
        assessment = m.update(0.1, np.zeros(2), 0.0, [], -math.inf, 0.1, others)
        assert assessment.zone == zone, assessment.reason
    assert "robot robot_2" in assessment.reason


def test_another_robots_odometry_becomes_the_nearest_point_of_its_body_moving_as_it_does():
    from nav_msgs.msg import Odometry

    from legion_safety.conversions import nearest_points, other_robot_from_odometry

    msg = Odometry()
    msg.pose.pose.position.x, msg.pose.pose.position.y = 3.0, 0.0
    msg.pose.pose.orientation.z, msg.pose.pose.orientation.w = math.sin(math.pi / 4), math.cos(math.pi / 4)  # +y
    msg.twist.twist.linear.x = 0.5  # forward in its base frame: +y in odom
    robot = other_robot_from_odometry(msg, "robot robot_2")
    assert robot.position == pytest.approx([3.0, 0.0]) and robot.velocity == pytest.approx([0.0, 0.5], abs=1e-12)
    (near,) = nearest_points([robot], np.array([0.0, 0.0]), 0.4)
    assert near.position == pytest.approx([2.6, 0.0]) and near.id == "robot robot_2"
    (close,) = nearest_points([robot], np.array([2.9, 0.0]), 0.4)  # never past this robot's base
    assert close.position == pytest.approx([2.9, 0.0])
    msg.pose.pose.position.x = float("nan")
    assert other_robot_from_odometry(msg, "robot robot_2") is None
