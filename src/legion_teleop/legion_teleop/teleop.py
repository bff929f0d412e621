"""`Teleop`: a person's inputs (gamepad or keys) -> the commands teleop sends, behind the safety rules.

Rules (each tested in test/test_teleop_core.py):
- Dead-man. Gamepad: one of `joy.deadman_buttons` must be held in a Joy message younger than `timing.joy_timeout`;
  keys: a motion key pressed within `timing.key_timeout`. Otherwise nothing moves: at the moment motion stops, one
  zero `cmd_vel` goes out at once (no ramp), then no motion command at all (the gait planner's own 0.5 s timeout
  stands the robot if even that is lost). One-shot events from the gamepad (hand open and close, the head home,
  the arm release) also need the dead-man; the e-stop never does.
- Limits. Demands are clipped to [-1, 1] and scaled by `limits` (forward and backward speeds differ); while the
  dead-man is held the commanded velocity follows the demand within `limits.linear_acceleration` and
  `limits.yaw_acceleration`.
- E-stop. The e-stop event (space bar, a gamepad button) asks the node for an e-stop (the safety node's category-1
  stop, or the hardware's hold where no safety node runs) and latches here at once; while latched (here, or reported
  by the hardware) teleop sends only the zero `cmd_vel` of the moment it latched and no other command.
  `estop_reset()` (after the reset was confirmed) clears the latch.
- Head: the neck's pan and tilt joints move at `limits.head_speed` x demand within their joint limits, from the
  standing posture (`head_home` returns there). Arm: the selected side's gripper jogs along its own axes at
  `limits.arm_speed` x demand, at most `limits.arm_reach` from where it was when the jog began; the target is held
  (sent every cycle: the controller drops a hand target after 1 s) until `arm_release`.

Time is passed in [s] (any monotonic clock); the core never reads a clock.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from legion_teleop.config import ARM_CHANNELS, TeleopConfig
from legion_teleop.keys import BINDINGS


@dataclass(frozen=True)
class HeadJoints:
    """The neck joints teleop moves, found from the robot's kinematics (`legion_teleop.robot.head_joints`)."""

    pan: str = ""
    """The neck joint that turns the head about the vertical ("" if none)."""
    tilt: str = ""
    """The neck joint that nods it ("" if none)."""
    pan_sign: float = 1.0
    """+1 if a positive joint angle turns the head left."""
    tilt_sign: float = 1.0
    """+1 if a positive joint angle tilts the head up."""
    home: Mapping[str, float] = field(default_factory=dict)
    """Standing positions of the neck joints [rad]."""
    limits: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    """Joint -> (lower, upper) [rad]."""


@dataclass(frozen=True)
class ArmJog:
    """The held gripper target of one side: `offset` [m] along the gripper frame's axes as it was when the jog
    began (`started`: this cycle; the node then takes the gripper's current pose as the jog's origin)."""

    side: str
    offset: tuple[float, float, float]
    started: bool = False


@dataclass(frozen=True)
class Command:
    """What to send this cycle; None / empty: send nothing of that kind."""

    twist: tuple[float, float, float] | None = None
    """cmd_vel: forward [m/s], left [m/s], yaw rate [rad/s]."""
    head: Mapping[str, float] | None = None
    """posture/reference: neck joint targets [rad]."""
    arm: ArmJog | None = None
    arm_release: str = ""
    """The side whose hand target is released."""
    hand: tuple[str, str] | None = None
    """(side, "open" | "close")."""
    emergency_stop: bool = False
    """Publish emergency_stop true now."""


@dataclass(frozen=True)
class Status:
    """What teleop is doing, for the screen and diagnostics."""

    state: str
    """`driving`, `idle` or `estop`."""
    reason: str
    """Why it is not driving, or the source that drives."""
    twist: tuple[float, float, float]
    side: str
    speed: float
    """The keyboard's speed fraction."""


class Teleop:
    """The teleop core. Feed it `joy(...)`, `key(...)` and `hardware_estop(...)`; call `step(now)` at
    `timing.rate` and send what it returns."""

    def __init__(self, config: TeleopConfig, sides: Sequence[str] = ("left", "right"),
                 head: HeadJoints | None = None) -> None:
        self.config = config
        self.sides = tuple(sides)
        self.head_joints = head or HeadJoints()
        self.side = self.sides[-1] if self.sides else ""
        self.speed = config.keyboard.speed
        self.twist = np.zeros(3)  # [m/s, m/s, rad/s] the commanded velocity
        self._driving = False
        self._last_step: float | None = None
        self._joy_time = -math.inf
        self._joy_axes: tuple[float, ...] = ()
        self._joy_buttons: tuple[int, ...] = ()
        self._joy_error = ""
        self._key_time = -math.inf
        self._key_demand: dict[str, float] = {}
        self._events: list[str] = []
        self._estop_local = False
        self._estop_hardware = False
        self._head: dict[str, float] = dict(self.head_joints.home)
        self._arm: dict[str, np.ndarray] = {}
        self._arm_started: set[str] = set()
        self._arm_blocked: set[str] = set()
        """Sides released while their jog was demanded: no new jog until the demand returns to zero."""
        self._reason = "no input yet"

    # Inputs
    def joy(self, now: float, axes: Sequence[float], buttons: Sequence[int]) -> None:
        """A Joy message received at `now` [s]. One the mapping cannot use (too few axes or buttons, a non-finite
        axis) counts as no input: motion stops, the reason is kept for `status()`."""
        mapping = self.config.joy
        if len(axes) < mapping.required_axes() or len(buttons) < mapping.required_buttons():
            self._joy_error = (f"joy has {len(axes)} axes and {len(buttons)} buttons; the mapping needs "
                               f"{mapping.required_axes()} and {mapping.required_buttons()}")
            self._joy_time = -math.inf
            return
        if not all(math.isfinite(a) for a in axes):
            self._joy_error = "joy has a non-finite axis value"
            self._joy_time = -math.inf
            return
        self._joy_error = ""
        previous = self._joy_buttons
        self._joy_axes, self._joy_buttons, self._joy_time = tuple(axes), tuple(int(b) for b in buttons), now
        held = any(self._joy_buttons[b] for b in mapping.deadman_buttons)
        for event, button in mapping.buttons.items():
            pressed = self._joy_buttons[button] and not (len(previous) > button and previous[button])
            if pressed and (held or event == "emergency_stop"):
                self._events.append(event)

    def key(self, now: float, name: str) -> str:
        """A key pressed at `now` [s]; returns its front-end action (`reset`, `help`, `quit`) or ""."""
        action = BINDINGS.get(name)
        if action is None:
            return ""
        if action.motion:
            self._key_demand = dict(action.motion)
            self._key_time = now
        if action.event:
            self._events.append(action.event)
        if action.control == "faster":
            self.speed = min(1.0, self.speed + self.config.keyboard.speed_step)
        elif action.control == "slower":
            self.speed = max(self.config.keyboard.speed_step, self.speed - self.config.keyboard.speed_step)
        return action.control if action.control in ("reset", "help", "quit") else ""

    def emergency_stop(self) -> None:
        """Latch the e-stop (as the space bar does)."""
        self._events.append("emergency_stop")

    def hardware_estop(self, latched: bool) -> None:
        """The hardware's e-stop state (`hardware/status` key `emergency_stop`)."""
        self._estop_hardware = latched

    def estop_reset(self) -> None:
        """The hardware confirmed an `emergency_stop/reset`: clear the local latch."""
        self._estop_local = False

    @property
    def estop_latched(self) -> bool:
        return self._estop_local or self._estop_hardware

    # Output
    def _demand(self, now: float) -> tuple[dict[str, float] | None, str]:
        """(channel -> demand in [-1, 1], source) while some input holds the dead-man, else (None, why not)."""
        mapping = self.config.joy
        joy_age = now - self._joy_time
        if self._joy_buttons and joy_age <= self.config.timing.joy_timeout:
            if any(self._joy_buttons[b] for b in mapping.deadman_buttons):
                arm_mode = mapping.arm_mode_button is not None and bool(self._joy_buttons[mapping.arm_mode_button])
                bindings = mapping.arm_axes if arm_mode else mapping.axes
                demand = {}
                for channel, binding in bindings.items():
                    value = self._joy_axes[binding.axis]
                    magnitude = max(0.0, (abs(value) - mapping.deadzone) / (1.0 - mapping.deadzone))
                    demand[channel] = float(np.clip(math.copysign(magnitude, value) * binding.scale, -1.0, 1.0))
                return demand, "joy"
            joy_reason = "dead-man released"
        elif self._joy_error:
            joy_reason = self._joy_error
        elif self._joy_buttons:
            joy_reason = f"joy stale ({joy_age:.1f} s)"
        else:
            joy_reason = ""
        if now - self._key_time <= self.config.timing.key_timeout:
            return {c: v * self.speed for c, v in self._key_demand.items()}, "keys"
        return None, joy_reason or "no key held"

    def step(self, now: float) -> Command:
        """The commands of this cycle at time `now` [s]."""
        dt = 0.0 if self._last_step is None else min(max(now - self._last_step, 0.0),
                                                     2.0 / self.config.timing.rate)
        self._last_step = now
        demand, source = self._demand(now)
        events, self._events = self._events, []
        out: dict[str, object] = {}
        if "emergency_stop" in events:
            self._estop_local = True
            out["emergency_stop"] = True
        if self.estop_latched:
            self._reason = "e-stop latched"
            return Command(twist=self._stop(), **out)
        for event in events:
            self._event(event, out)
        if demand is None:
            self._reason = source
            out["twist"] = self._stop()
            self._arm_blocked.clear()
        else:
            self._reason = source
            out["twist"] = self._drive(demand, dt)
            head = self._move_head(demand, dt)
            if head is not None:
                out.setdefault("head", head)
            self._jog_arm(demand, dt)
        if self.side in self._arm:
            started = self.side in self._arm_started
            self._arm_started.discard(self.side)
            out["arm"] = ArmJog(self.side, tuple(float(v) for v in self._arm[self.side]), started)
        return Command(**out)

    def status(self) -> Status:
        state = "estop" if self.estop_latched else "driving" if self._driving else "idle"
        return Status(state, self._reason, (float(self.twist[0]), float(self.twist[1]), float(self.twist[2])),
                      self.side, self.speed)

    def stop(self) -> tuple[float, float, float] | None:
        """Stop now (the front end quits): the zero twist to send if teleop was driving, else None."""
        return self._stop()

    def _stop(self) -> tuple[float, float, float] | None:
        """One zero twist when motion stops, then nothing."""
        self.twist = np.zeros(3)
        if self._driving:
            self._driving = False
            return (0.0, 0.0, 0.0)
        return None

    def _drive(self, demand: Mapping[str, float], dt: float) -> tuple[float, float, float]:
        limits = self.config.limits
        forward = float(np.clip(demand.get("forward", 0.0), -1.0, 1.0))
        left = float(np.clip(demand.get("left", 0.0), -1.0, 1.0))
        yaw = float(np.clip(demand.get("yaw", 0.0), -1.0, 1.0))
        target = np.array([forward * (limits.max_forward_speed if forward > 0 else limits.max_backward_speed),
                           left * limits.max_lateral_speed, yaw * limits.max_yaw_rate])
        step = np.array([limits.linear_acceleration, limits.linear_acceleration, limits.yaw_acceleration]) * dt
        self.twist = self.twist + np.clip(target - self.twist, -step, step)
        self._driving = True
        return (float(self.twist[0]), float(self.twist[1]), float(self.twist[2]))

    def _event(self, event: str, out: dict[str, object]) -> None:
        if event in ("hand_open", "hand_close") and self.side:
            out["hand"] = (self.side, "open" if event == "hand_open" else "close")
        elif event == "switch_side" and self.sides:
            self.side = self.sides[(self.sides.index(self.side) + 1) % len(self.sides)]
        elif event == "head_home" and self._head:
            self._head = dict(self.head_joints.home)
            out["head"] = dict(self._head)
        elif event == "arm_release" and self.side in self._arm:
            del self._arm[self.side]
            self._arm_blocked.add(self.side)
            out["arm_release"] = self.side

    def _move_head(self, demand: Mapping[str, float], dt: float) -> dict[str, float] | None:
        joints = self.head_joints
        moved = False
        for channel, joint, sign in (("head_pan", joints.pan, joints.pan_sign),
                                     ("head_tilt", joints.tilt, joints.tilt_sign)):
            value = float(np.clip(demand.get(channel, 0.0), -1.0, 1.0))
            if not joint or value == 0.0 or dt == 0.0:
                continue
            lower, upper = joints.limits.get(joint, (-math.inf, math.inf))
            current = self._head.get(joint, joints.home.get(joint, 0.0))
            self._head[joint] = float(np.clip(current + sign * value * self.config.limits.head_speed * dt,
                                              lower, upper))
            moved = True
        return dict(self._head) if moved else None

    def _jog_arm(self, demand: Mapping[str, float], dt: float) -> None:
        velocity = np.array([float(np.clip(demand.get(c, 0.0), -1.0, 1.0)) for c in ARM_CHANNELS])
        if self.side in self._arm_blocked and not velocity.any():
            self._arm_blocked.discard(self.side)
        if not self.side or not velocity.any() or self.side in self._arm_blocked:
            return
        if self.side not in self._arm:
            self._arm[self.side] = np.zeros(3)
            self._arm_started.add(self.side)
        offset = self._arm[self.side] + velocity * self.config.limits.arm_speed * dt
        reach = self.config.limits.arm_reach
        norm = float(np.linalg.norm(offset))
        self._arm[self.side] = offset * (reach / norm) if norm > reach else offset
