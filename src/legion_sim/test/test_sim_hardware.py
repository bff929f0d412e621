"""The simulated hardware core on the tiny humanoid: servo law, command validation, watchdog, e-stop, sensors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from legion_sim.errors import SimError
from legion_sim.simulation import Simulation, _view


def _command(sim: Simulation, names=None, position=None, velocity=0.0, effort=0.0, stiffness=None, damping=None):
    """A full set of arrays for `names` (default: every joint), scalars broadcast; defaults hold the current pose."""
    names = list(sim.joint_names if names is None else names)
    state = sim.joint_state()
    index = [state.names.index(name) for name in names]
    gains = sim.config.gains

    def array(value, default):
        if value is None:
            return list(default)
        return [float(value)] * len(names) if np.isscalar(value) else list(value)

    return (names, array(position, state.position[index]), array(velocity, []), array(effort, []),
            array(stiffness, [gains[n].stiffness for n in names]), array(damping, [gains[n].damping for n in names]))


def _expected_effort(sim: Simulation, before, position, velocity, effort, stiffness, damping) -> np.ndarray:
    limits = np.array([sim.effort_limits[name] for name in sim.joint_names])
    tau = np.asarray(effort) + np.asarray(stiffness) * (np.asarray(position) - before.position) \
        + np.asarray(damping) * (np.asarray(velocity) - before.velocity)
    return np.clip(tau, -limits, limits)


def test_initial_state_stands_on_the_floor(tiny_sim):
    sim = tiny_sim
    assert sim.time == 0.0
    state = sim.joint_state()
    assert state.names == sim.config.all_joints
    np.testing.assert_allclose(state.position, [sim.config.standing[n] for n in state.names], atol=1e-12)
    soles = [sim.data.site(sim.config.sides[side].sole).xpos for side in ("left", "right")]
    assert min(sole[2] for sole in soles) == pytest.approx(0.0, abs=1e-9)
    base = sim.ground_truth_base()
    np.testing.assert_allclose(base.position[:2], [sim.scene.robot_start.x, sim.scene.robot_start.y], atol=1e-12)
    status = sim.status()
    assert not status["protective_stop"] and not status["watchdog_armed"] and status["commands_accepted"] == 0


def test_servo_law_is_applied_at_every_step(tiny_sim):
    sim = tiny_sim
    rng = np.random.default_rng(7)
    n = len(sim.joint_names)
    standing = np.array([sim.config.standing[name] for name in sim.joint_names])
    command = (list(sim.joint_names), standing + rng.uniform(-0.1, 0.1, n), rng.uniform(-0.5, 0.5, n),
               rng.uniform(-3.0, 3.0, n), rng.uniform(0.0, 100.0, n), rng.uniform(0.0, 3.0, n))
    assert sim.set_command(*command) == (True, "")
    for _ in range(5):
        before = sim.joint_state()
        sim.step()
        np.testing.assert_allclose(sim.joint_state().effort, _expected_effort(sim, before, *command[1:]),
                                   rtol=1e-12, atol=1e-12)
    assert sim.time == pytest.approx(5 * sim.timestep)


def test_servo_clamps_to_the_effort_limit(tiny_sim):
    sim = tiny_sim
    names = ["l_knee", "r_knee", "l_finger"]
    limits = np.array([sim.effort_limits[name] for name in names])
    state = sim.joint_state()
    q = state.position[[state.names.index(name) for name in names]]
    # huge stiffness towards +1 rad on the knees, a huge negative feed-forward on the finger
    sim.set_command(*_command(sim, names, position=q + np.array([1.0, 1.0, 0.0]), effort=[0.0, 0.0, -1e6],
                              stiffness=[1e6, 1e6, 0.0], damping=0.0))
    sim.step()
    effort = sim.joint_state().effort
    applied = effort[[sim.joint_names.index(name) for name in names]]
    np.testing.assert_allclose(applied, [limits[0], limits[1], -limits[2]])
    assert np.all(np.abs(effort) <= np.array([sim.effort_limits[n] for n in sim.joint_names]) + 1e-12)


def test_joints_not_named_keep_their_last_command(tiny_sim):
    sim = tiny_sim
    sim.set_command(*_command(sim, effort=1.5, stiffness=0.0, damping=0.0))  # pure torque on every joint
    sim.set_command(*_command(sim, ["l_elbow"], effort=-2.0, stiffness=0.0, damping=0.0))
    sim.step()
    effort = dict(zip(sim.joint_names, sim.joint_state().effort, strict=True))
    assert effort.pop("l_elbow") == pytest.approx(-2.0)
    assert all(value == pytest.approx(1.5) for value in effort.values())


BAD_COMMANDS = [
    ("length_mismatch", lambda c: (c[0], c[1][:-1], *c[2:])),
    ("length_mismatch", lambda c: (*c[:5], [*c[5], 1.0])),
    ("unknown_joint", lambda c: ([*c[0][:-1], "l_tail"], *c[1:])),
    ("duplicate_joint", lambda c: ([c[0][0], *c[0][:-1]], *c[1:])),
    ("non_finite", lambda c: (c[0], [math.nan, *c[1][1:]], *c[2:])),
    ("non_finite", lambda c: (*c[:5], [*c[5][:-1], math.inf])),
    ("non_finite", lambda c: (c[0], c[1], c[2], [-math.inf, *c[3][1:]], *c[4:])),
    ("negative_gain", lambda c: (*c[:4], [-1.0, *c[4][1:]], c[5])),
    ("negative_gain", lambda c: (*c[:5], [*c[5][:-1], -0.1])),
    ("out_of_range", lambda c: (c[0], [1e308, *c[1][1:]], c[2], c[3], [1e308, *c[4][1:]], c[5])),
    ("not_a_number", lambda c: (c[0], ["x", *c[1][1:]], *c[2:])),
    ("empty", lambda c: ([], [], [], [], [], [])),
]


def test_malformed_commands_are_rejected_whole_and_counted(tiny_sim):
    sim = tiny_sim
    sim.set_command(*_command(sim, effort=0.5, stiffness=0.0, damping=0.0))
    sim.step()
    reference = sim.joint_state().effort.copy()
    good = _command(sim, ["l_knee", "r_knee", "waist_yaw"], effort=9.0, stiffness=0.0, damping=0.0)
    for key, corrupt in BAD_COMMANDS:
        accepted, reason = sim.set_command(*corrupt(good))
        assert not accepted and reason.startswith(f"{key}:"), (key, reason)
        sim.step()
        np.testing.assert_array_equal(sim.joint_state().effort, reference)  # nothing of it applied
    status = sim.status()
    expected: dict[str, int] = {}
    for key, _ in BAD_COMMANDS:
        expected[key] = expected.get(key, 0) + 1
    assert status["commands_rejected"] == expected
    assert status["commands_rejected_total"] == len(BAD_COMMANDS)
    assert status["commands_accepted"] == 1
    assert sim.set_command(*good) == (True, "")


def test_watchdog_is_not_armed_before_the_first_command(tiny_sim):
    sim = tiny_sim
    sim.step(300)
    status = sim.status()
    assert status["watchdog_trips"] == 0 and not status["protective_stop"] and not status["watchdog_armed"]


def test_watchdog_trips_after_the_timeout_holds_and_recovers(tiny_sim):
    sim = tiny_sim
    timeout, dt = sim.config.watchdog_timeout, sim.timestep
    sim.step(100)
    assert sim.set_command(*_command(sim))[0]
    sim.step(round(timeout / dt))  # exactly the timeout: not longer than it yet
    assert sim.status()["watchdog_trips"] == 0
    sim.step(1)
    status = sim.status()
    assert status["watchdog_trips"] == 1 and status["stop_reason"] == "watchdog" and not status["emergency_stop"]
    at_trip = sim.joint_state()
    # the stop holds the positions measured at the trip with the configured gains, keeping the load torque of that
    # instant as feed-forward: tau = tau_trip + kp (q_trip - q) - kd scale qdot
    kp = np.array([sim.config.gains[n].stiffness for n in sim.joint_names])
    kd = np.array([sim.config.gains[n].damping for n in sim.joint_names]) * sim.config.protective_stop_damping_scale
    for _ in range(3):
        before = sim.joint_state()
        sim.step()
        np.testing.assert_allclose(sim.joint_state().effort, _expected_effort(
            sim, before, at_trip.position, 0.0, at_trip.effort, kp, kd), rtol=1e-12, atol=1e-12)
    sim.step(200)
    assert np.max(np.abs(sim.joint_state().position - at_trip.position)) < 0.05
    assert sim.status()["watchdog_trips"] == 1, "one trip per stop"
    # a fresh valid command clears the stop and is applied
    assert sim.set_command(*_command(sim, ["l_elbow"], effort=1.0, stiffness=0.0, damping=0.0)) == (True, "")
    assert not sim.status()["protective_stop"]
    sim.step()
    assert sim.joint_state().effort[sim.joint_names.index("l_elbow")] == pytest.approx(1.0)


def test_emergency_stop_latches_ignores_commands_and_reset_clears(tiny_sim):
    sim = tiny_sim
    sim.step(50)
    sim.set_emergency_stop(True)
    latched = sim.joint_state().position
    status = sim.status()
    assert status["emergency_stop"] and status["stop_reason"] == "emergency_stop"
    accepted, reason = sim.set_command(*_command(sim, ["l_elbow"], position=[1.2]))
    assert not accepted and reason.startswith("emergency_stop")
    sim.set_emergency_stop(False)  # does not clear
    sim.step(300)
    assert sim.status()["emergency_stop"]
    assert sim.status()["commands_ignored"] == 1 and sim.status()["commands_rejected_total"] == 0
    assert np.max(np.abs(sim.joint_state().position - latched)) < 0.05, "held, not limp, command ignored"
    assert sim.reset_emergency_stop() is True
    assert sim.reset_emergency_stop() is False
    status = sim.status()
    assert not status["emergency_stop"] and not status["protective_stop"] and not status["watchdog_armed"]
    sim.step(200)  # still holding after the reset, with no command and no watchdog trip
    assert sim.status()["watchdog_trips"] == 0
    assert np.max(np.abs(sim.joint_state().position - latched)) < 0.05
    assert sim.set_command(*_command(sim, ["l_elbow"], position=[1.2]))[0]


def test_reset_returns_to_the_start(tiny_sim):
    sim = tiny_sim
    start = sim.joint_state().position.copy()
    base = sim.ground_truth_base().position.copy()
    sim.set_command(*_command(sim, effort=5.0, stiffness=0.0, damping=0.0))
    sim.set_command([], [], [], [], [], [])
    sim.set_emergency_stop(True)
    sim.apply_wrench("base_link", [50.0, 0.0, 0.0], [0.0, 0.0, 0.0], 1.0)
    sim.step(100)
    sim.reset()
    assert sim.time == 0.0
    np.testing.assert_allclose(sim.joint_state().position, start)
    np.testing.assert_allclose(sim.ground_truth_base().position, base)
    status = sim.status()
    assert status["commands_accepted"] == status["commands_rejected_total"] == status["watchdog_trips"] == 0
    assert not status["emergency_stop"]
    sim.step(10)
    assert not sim.data.xfrc_applied.any()


def test_apply_wrench_pushes_the_base_then_stops(tiny_sim):
    sim = tiny_sim
    sim.apply_wrench("base_link", [0.0, 150.0, 0.0], [0.0, 0.0, 0.0], 0.05)
    sim.step(50)
    assert sim.ground_truth_base().linear_velocity_world[1] > 0.1
    sim.step(5)
    assert not sim.data.xfrc_applied.any(), "the wrench ends after its duration"
    # a link frame that is not a body of its own (fused into its parent) is accepted too
    sim.apply_wrench("l_gripper", [0.0, 0.0, 1.0], [0.0, 0.0, 0.0], 0.01)
    sim.step(2)
    gripper_body = sim.model.site("l_gripper").bodyid[0]
    assert sim.data.xfrc_applied[gripper_body, 2] == pytest.approx(1.0)


@pytest.mark.parametrize(("args", "fragment"), [
    (("no_such_link", [0, 0, 1], [0, 0, 0], 0.1), "no body or link frame named 'no_such_link'"),
    (("world", [0, 0, 1], [0, 0, 0], 0.1), "world body"),
    (("base_link", [0, math.nan, 1], [0, 0, 0], 0.1), "force must be 3 finite numbers"),
    (("base_link", [0, 1], [0, 0, 0], 0.1), "force must be 3 finite numbers"),
    (("base_link", [0, 0, 1], [0, 0, 0], 0.0), "duration must be a positive"),
])
def test_apply_wrench_errors(tiny_sim, args, fragment):
    with pytest.raises(SimError, match=fragment):
        tiny_sim.apply_wrench(*args)


def test_step_count_is_checked(tiny_sim):
    with pytest.raises(SimError):
        tiny_sim.step(-1)
    tiny_sim.step(0)
    assert tiny_sim.time == 0.0


def test_foot_wrenches_carry_the_weight_and_match_the_contacts(tiny_sim):
    sim = tiny_sim
    sim.step(500)
    wrenches, contacts = sim.foot_wrenches(), sim.contact_wrenches()
    total = sum(w.force[2] for w in wrenches.values())
    assert total == pytest.approx(sim.robot_mass * 9.81, rel=0.01)
    for side in ("left", "right"):
        np.testing.assert_allclose(wrenches[side].force, contacts[side].force, atol=1.0)
        np.testing.assert_allclose(wrenches[side].torque, contacts[side].torque, atol=0.1)


def test_imu_at_rest_measures_gravity_in_imu_link(tiny_sim):
    sim = tiny_sim
    sim.step(500)
    imu = sim.imu()
    x, y, z, w = imu.orientation
    assert np.linalg.norm(imu.orientation) == pytest.approx(1.0)
    rotation = np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                         [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                         [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])
    np.testing.assert_allclose(rotation @ imu.linear_acceleration, [0.0, 0.0, 9.81], atol=0.05)
    np.testing.assert_allclose(imu.angular_velocity, 0.0, atol=0.02)
    np.testing.assert_allclose(np.abs(imu.orientation), np.abs(sim.ground_truth_base().orientation), atol=1e-9)


def test_joint_views_read_and_write_through():
    array = np.arange(10.0)
    contiguous = _view(array, np.array([2, 3, 4]))
    assert contiguous.base is array  # a view: no copy per physics step
    gathered = _view(array, np.array([1, 5, 3]))  # the fallback for a non-contiguous joint layout
    np.testing.assert_array_equal(np.asarray(gathered), [1.0, 5.0, 3.0])
    gathered[:] = [10.0, 50.0, 30.0]
    np.testing.assert_array_equal(array[[1, 5, 3]], [10.0, 50.0, 30.0])
    out = np.zeros(3)
    np.subtract(np.ones(3), gathered, out=out)
    np.testing.assert_array_equal(out, [-9.0, -49.0, -29.0])


def test_emergency_stop_before_the_first_step_keeps_the_standing_torques(tiny_sim):
    sim = tiny_sim
    standing_torques = sim.joint_state().effort.copy()
    assert np.any(np.abs(standing_torques) > 1.0), "the initial hold carries the weight from t = 0"
    sim.set_emergency_stop(True)
    sim.step()
    np.testing.assert_allclose(sim.joint_state().effort, standing_torques, atol=1.0)
