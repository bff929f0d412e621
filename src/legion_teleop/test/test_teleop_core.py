"""The teleop core (no ROS): key and gamepad inputs -> commands, the dead-man rule, stale input, acceleration limits,
clamping, the e-stop latch, head and arm jog."""

from __future__ import annotations

import math

import numpy as np
import pytest

from legion_teleop.config import load_config
from legion_teleop.teleop import HeadJoints, Teleop

CONFIG = load_config("teleop")
LIMITS = CONFIG.limits
DT = 1.0 / CONFIG.timing.rate
HEAD = HeadJoints(pan="neck_yaw", tilt="neck_pitch", pan_sign=1.0, tilt_sign=-1.0,
                  home={"neck_yaw": 0.0, "neck_pitch": 0.0},
                  limits={"neck_yaw": (-1.3, 1.3), "neck_pitch": (-0.6, 0.9)})
N_AXES, N_BUTTONS = 8, 11
DEADMAN = CONFIG.joy.deadman_buttons[0]


def joy(forward: float = 0.0, yaw: float = 0.0, deadman: bool = True, pressed: tuple[int, ...] = (),
        axes: dict[int, float] | None = None) -> tuple[list[float], list[int]]:
    values = [0.0] * N_AXES
    values[CONFIG.joy.axes["forward"].axis] = forward
    values[CONFIG.joy.axes["yaw"].axis] = yaw
    for index, value in (axes or {}).items():
        values[index] = value
    buttons = [0] * N_BUTTONS
    buttons[DEADMAN] = int(deadman)
    for b in pressed:
        buttons[b] = 1
    return values, buttons


def run(teleop: Teleop, start: float, duration: float, feed=None) -> list:
    """Step at the configured rate for `duration` [s]; `feed(t)` gives inputs before each step."""
    commands = []
    for i in range(round(duration / DT)):
        t = start + i * DT
        if feed is not None:
            feed(t)
        commands.append(teleop.step(t))
    return commands


def test_a_held_key_drives_and_stops_after_the_key_timeout() -> None:
    teleop = Teleop(CONFIG)
    teleop.step(0.0)
    assert teleop.key(0.0, "w") == ""
    first = teleop.step(DT)
    assert first.twist is not None and first.twist[0] > 0.0
    # Auto-repeat every 30 ms for 2 s: keeps driving, ramps up to the keyboard speed.
    commands = run(teleop, DT * 2, 2.0, feed=lambda t: teleop.key(t, "w"))
    assert all(c.twist is not None and c.twist[0] > 0 for c in commands)
    assert commands[-1].twist[0] == pytest.approx(CONFIG.keyboard.speed * LIMITS.max_forward_speed)
    last_key = DT * 2 + 2.0 - DT
    # Released: still driving within key_timeout, then exactly one zero twist, then nothing.
    after = run(teleop, last_key + DT, CONFIG.timing.key_timeout + 1.0)
    times = [last_key + DT + i * DT for i in range(len(after))]
    zero = [i for i, c in enumerate(after) if c.twist == (0.0, 0.0, 0.0)]
    assert len(zero) == 1
    assert times[zero[0]] - last_key == pytest.approx(CONFIG.timing.key_timeout, abs=DT + 1e-9)
    assert all(c.twist is None for c in after[zero[0] + 1:])
    assert teleop.status().state == "idle"


@pytest.mark.parametrize(("key", "index", "sign"), [("s", 0, -1), ("a", 2, 1), ("d", 2, -1), ("q", 1, 1),
                                                    ("e", 1, -1), ("up", 0, 1), ("left", 2, 1)])
def test_each_motion_key_commands_its_direction_only(key, index, sign) -> None:
    teleop = Teleop(CONFIG)
    teleop.step(0.0)
    commands = run(teleop, DT, 3.0, feed=lambda t: teleop.key(t, key))
    twist = np.array(commands[-1].twist)
    limit = [LIMITS.max_backward_speed if sign < 0 else LIMITS.max_forward_speed, LIMITS.max_lateral_speed,
             LIMITS.max_yaw_rate][index]
    assert twist[index] == pytest.approx(sign * CONFIG.keyboard.speed * limit)
    assert np.count_nonzero(twist) == 1


def test_speed_keys_change_the_keyboard_speed_within_bounds() -> None:
    teleop = Teleop(CONFIG)
    for _ in range(20):
        teleop.key(0.0, "+")
    assert teleop.speed == 1.0
    commands = run(teleop, 0.0, 3.0, feed=lambda t: teleop.key(t, "w"))
    assert commands[-1].twist[0] == pytest.approx(LIMITS.max_forward_speed)
    for _ in range(30):
        teleop.key(0.0, "-")
    assert teleop.speed == pytest.approx(CONFIG.keyboard.speed_step)


def test_joy_with_the_deadman_drives_clamped_to_the_limits() -> None:
    teleop = Teleop(CONFIG)
    # An axis beyond 1 (a miscalibrated pad) is clipped: full speed, never more.
    commands = run(teleop, 0.0, 3.0, feed=lambda t: teleop.joy(t, *joy(forward=1.7, yaw=-3.0)))
    vx, vy, wz = commands[-1].twist
    assert vx == pytest.approx(LIMITS.max_forward_speed)
    assert wz == pytest.approx(-LIMITS.max_yaw_rate)
    assert vy == 0.0
    commands = run(teleop, 3.0, 3.0, feed=lambda t: teleop.joy(t, *joy(forward=-1.0)))
    assert commands[-1].twist[0] == pytest.approx(-LIMITS.max_backward_speed)


def test_joy_deadzone_gives_zero_demand() -> None:
    teleop = Teleop(CONFIG)
    commands = run(teleop, 0.0, 1.0, feed=lambda t: teleop.joy(t, *joy(forward=0.09, yaw=-0.05)))
    assert commands[-1].twist == (0.0, 0.0, 0.0)  # driving (dead-man held) at zero speed


def test_the_commanded_speed_follows_the_acceleration_limits() -> None:
    teleop = Teleop(CONFIG)
    commands = run(teleop, 0.0, 2.0, feed=lambda t: teleop.joy(t, *joy(forward=1.0, yaw=1.0)))
    twists = np.array([c.twist for c in commands])
    rates = np.abs(np.diff(twists, axis=0)) / DT
    assert rates[:, 0].max() <= LIMITS.linear_acceleration + 1e-9
    assert rates[:, 2].max() <= LIMITS.yaw_acceleration + 1e-9
    assert rates[:, 0].max() == pytest.approx(LIMITS.linear_acceleration)  # the limit is what binds
    # Slowing down with the dead-man held is limited too.
    commands = run(teleop, 2.0, 0.5, feed=lambda t: teleop.joy(t, *joy(forward=0.0)))
    assert commands[0].twist[0] == pytest.approx(LIMITS.max_forward_speed - LIMITS.linear_acceleration * DT)


def test_a_long_pause_between_steps_does_not_jump_the_ramp() -> None:
    teleop = Teleop(CONFIG)
    teleop.step(0.0)
    teleop.joy(5.0, *joy(forward=1.0))
    command = teleop.step(5.0)
    assert command.twist[0] <= LIMITS.linear_acceleration * 2 * DT + 1e-9


def test_releasing_the_deadman_sends_one_zero_at_once_then_nothing() -> None:
    teleop = Teleop(CONFIG)
    run(teleop, 0.0, 2.0, feed=lambda t: teleop.joy(t, *joy(forward=1.0)))
    teleop.joy(2.0, *joy(forward=1.0, deadman=False))
    assert teleop.step(2.0).twist == (0.0, 0.0, 0.0)  # no ramp down
    after = run(teleop, 2.0 + DT, 1.0, feed=lambda t: teleop.joy(t, *joy(forward=1.0, deadman=False)))
    assert all(c.twist is None and c.head is None and c.arm is None for c in after)
    assert teleop.status().reason == "dead-man released"
    # Holding it again starts from rest.
    teleop.joy(3.1, *joy(forward=1.0))
    assert teleop.step(3.1).twist[0] <= LIMITS.linear_acceleration * 2 * DT + 1e-9


def test_stale_joy_is_a_stop() -> None:
    teleop = Teleop(CONFIG)
    run(teleop, 0.0, 1.0, feed=lambda t: teleop.joy(t, *joy(forward=1.0)))
    last = 1.0 - DT
    after = run(teleop, 1.0, 1.0)  # no more Joy messages: the pad or its driver died
    zero = [i for i, c in enumerate(after) if c.twist == (0.0, 0.0, 0.0)]
    assert len(zero) == 1 and all(c.twist is None for c in after[zero[0] + 1:])
    assert 1.0 + zero[0] * DT - last == pytest.approx(CONFIG.timing.joy_timeout, abs=DT + 1e-9)
    assert teleop.status().reason.startswith("joy stale")


@pytest.mark.parametrize(("axes", "buttons", "reason"), [
    ([0.0] * 3, [1] * N_BUTTONS, "axes"), ([0.0] * N_AXES, [1] * 3, "buttons"),
    ([0.0, math.nan] + [0.0] * 6, [1] * N_BUTTONS, "non-finite")])
def test_a_joy_message_the_mapping_cannot_use_is_a_stop(axes, buttons, reason) -> None:
    teleop = Teleop(CONFIG)
    run(teleop, 0.0, 1.0, feed=lambda t: teleop.joy(t, *joy(forward=1.0)))
    teleop.joy(1.0, axes, buttons)
    assert teleop.step(1.0).twist == (0.0, 0.0, 0.0)
    assert reason in teleop.status().reason


def test_the_estop_latches_sends_true_and_then_only_stop() -> None:
    teleop = Teleop(CONFIG)
    run(teleop, 0.0, 1.0, feed=lambda t: teleop.key(t, "w"))
    teleop.key(1.0, "space")
    command = teleop.step(1.0)
    assert command.emergency_stop and command.twist == (0.0, 0.0, 0.0)
    # Keys, the gamepad, hands, head: nothing moves while latched.
    def feed(t):
        teleop.key(t, "w")
        teleop.key(t, "o")
        teleop.joy(t, *joy(forward=1.0))
    after = run(teleop, 1.0 + DT, 1.0, feed=feed)
    assert all(c.twist is None and c.hand is None and c.head is None and not c.emergency_stop for c in after)
    assert teleop.status().state == "estop"
    teleop.estop_reset()
    assert run(teleop, 2.0, 0.2, feed=lambda t: teleop.key(t, "w"))[-1].twist[0] > 0


def test_the_estop_button_works_without_the_deadman_and_the_hardware_latch_holds() -> None:
    teleop = Teleop(CONFIG)
    button = CONFIG.joy.buttons["emergency_stop"]
    teleop.joy(0.0, *joy(deadman=False))
    teleop.joy(0.05, *joy(deadman=False, pressed=(button,)))
    assert teleop.step(0.05).emergency_stop
    teleop.estop_reset()
    teleop.hardware_estop(True)  # the hardware still reports it (or someone else latched it)
    assert run(teleop, 0.1, 0.5, feed=lambda t: teleop.key(t, "w"))[-1].twist is None
    teleop.hardware_estop(False)
    assert run(teleop, 0.6, 0.5, feed=lambda t: teleop.key(t, "w"))[-1].twist[0] > 0


def test_gamepad_events_need_the_deadman_and_fire_once_per_press() -> None:
    teleop = Teleop(CONFIG, sides=("left", "right"))
    close = CONFIG.joy.buttons["hand_close"]
    teleop.joy(0.0, *joy(deadman=False, pressed=(close,)))
    assert teleop.step(0.0).hand is None
    teleop.joy(0.05, *joy())
    teleop.step(0.05)
    teleop.joy(0.1, *joy(pressed=(close,)))
    assert teleop.step(0.1).hand == ("right", "close")
    teleop.joy(0.15, *joy(pressed=(close,)))  # still held: no second command
    assert teleop.step(0.15).hand is None


def test_hand_keys_and_side_switch() -> None:
    teleop = Teleop(CONFIG, sides=("left", "right"))
    teleop.key(0.0, "o")
    assert teleop.step(0.0).hand == ("right", "open")
    teleop.key(0.1, "tab")
    teleop.key(0.1, "c")
    assert teleop.step(0.1).hand == ("left", "close")


def test_the_head_moves_at_its_speed_within_joint_limits_and_comes_home() -> None:
    teleop = Teleop(CONFIG, head=HEAD)
    teleop.step(0.0)
    commands = run(teleop, DT, 0.5, feed=lambda t: teleop.key(t, "j"))  # look left
    pan = commands[-1].head["neck_yaw"]
    assert pan == pytest.approx(CONFIG.keyboard.speed * LIMITS.head_speed * 0.5, rel=0.01)
    commands = run(teleop, 1.0, 5.0, feed=lambda t: teleop.key(t, "i"))  # look up: negative pitch here
    assert commands[-1].head["neck_pitch"] == pytest.approx(-0.6)  # the lower limit
    assert commands[-1].head["neck_yaw"] == pytest.approx(pan)
    teleop.key(7.0, "h")
    assert teleop.step(7.0).head == {"neck_yaw": 0.0, "neck_pitch": 0.0}


def test_the_arm_jogs_in_the_gripper_frame_within_its_reach_and_is_held_until_released() -> None:
    teleop = Teleop(CONFIG, sides=("left", "right"))
    teleop.step(0.0)
    commands = run(teleop, DT, 1.0, feed=lambda t: teleop.key(t, "8"))
    assert commands[0].arm.started and not commands[1].arm.started
    assert commands[-1].arm.side == "right"
    offset = np.array(commands[-1].arm.offset)
    assert offset[0] == pytest.approx(CONFIG.keyboard.speed * LIMITS.arm_speed * 1.0, rel=0.01)
    assert offset[1] == offset[2] == 0.0
    assert commands[-1].twist == (0.0, 0.0, 0.0)  # arm keys do not walk
    held = run(teleop, 2.0, 1.0)  # key released: the target is held (re-sent), not moved
    assert all(c.arm is not None and c.arm.offset == tuple(offset) for c in held)
    commands = run(teleop, 3.0, 30.0, feed=lambda t: teleop.key(t, "9"))
    assert np.linalg.norm(commands[-1].arm.offset) == pytest.approx(LIMITS.arm_reach)
    teleop.key(32.9, "9")
    teleop.key(33.0, "0")  # released while the jog key still repeats: no new jog until the key is let go
    command = teleop.step(33.0)
    assert command.arm_release == "right" and command.arm is None
    assert teleop.step(33.05).arm is None
    assert all(c.arm is None for c in run(teleop, 33.1, 1.0, feed=lambda t: teleop.key(t, "9")))
    assert all(c.arm is None for c in run(teleop, 34.1, 1.0))
    assert run(teleop, 35.1, 0.1, feed=lambda t: teleop.key(t, "9"))[0].arm.started
