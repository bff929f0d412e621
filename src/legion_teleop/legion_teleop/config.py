"""The teleop file (config/teleop.yaml): speed and acceleration limits, timing, the keyboard's speed steps, and the
gamepad mapping (sensor_msgs/Joy axes and buttons -> teleop commands, with scales and the dead-man button).

    config = load_config("teleop")            # config/teleop.yaml in the bringup share, or a path
    config = config_from_dict(data, source)   # the same from a parsed mapping (tests)

Every error is a `TeleopError` whose message names the file and the key (`joy.axes.forward.axis`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from legion_common.parameters import ParameterError, flatten_yaml, from_flat, param, require
from legion_common.share import names_a_file, share_dir
from legion_teleop.errors import TeleopError

CHANNELS = ("forward", "left", "yaw", "head_pan", "head_tilt", "arm_x", "arm_y", "arm_z")
"""Continuous commands, each a demand in [-1, 1] times its limit: `forward`, `left` [of the speed limits], `yaw`
[of max_yaw_rate, positive turns left], `head_pan` (positive: look left), `head_tilt` (positive: look up) [of
head_speed], `arm_x`, `arm_y`, `arm_z` [of arm_speed, along the gripper frame's axes]."""
WALK_CHANNELS = ("forward", "left", "yaw")
ARM_CHANNELS = ("arm_x", "arm_y", "arm_z")
EVENTS = ("emergency_stop", "hand_open", "hand_close", "switch_side", "head_home", "arm_release")
"""One-shot commands (a button press, a key): latch the e-stop; open or close the selected hand; select the other
hand (and arm); the head back to its standing posture; release the arm jog (the hand task ends)."""


@dataclass(frozen=True)
class Limits:
    """What teleop commands at most (the gait planner clamps to its own limits too)."""

    max_forward_speed: float = param(0.3, "Fastest forward speed teleop commands.", unit="m/s", low=0.0, high=2.0)
    max_backward_speed: float = param(0.15, "Fastest backward speed.", unit="m/s", low=0.0, high=2.0)
    max_lateral_speed: float = param(0.1, "Fastest sideways speed.", unit="m/s", low=0.0, high=2.0)
    max_yaw_rate: float = param(0.5, "Fastest turning rate.", unit="rad/s", low=0.0, high=3.0)
    linear_acceleration: float = param(0.5, "Largest change of the commanded forward or sideways speed while the "
                                            "dead-man is held (speeding up and slowing down).", unit="m/s^2",
                                       low=0.01, high=10.0)
    yaw_acceleration: float = param(1.0, "Largest change of the commanded turning rate.", unit="rad/s^2", low=0.01,
                                    high=20.0)
    head_speed: float = param(0.6, "Neck joint speed at full demand.", unit="rad/s", low=0.0, high=5.0)
    arm_speed: float = param(0.05, "Gripper jog speed at full demand.", unit="m/s", low=0.0, high=0.5)
    arm_reach: float = param(0.2, "Farthest the jog moves the gripper from where it was when the jog began.",
                             unit="m", low=0.0, high=1.0)


@dataclass(frozen=True)
class Timing:
    """Rates and timeouts [s of wall time: teleop serves a person]."""

    rate: float = param(20.0, "Command rate while driving (cmd_vel, head, arm).", unit="Hz", low=1.0, high=200.0)
    joy_timeout: float = param(0.5, "A Joy message older than this is stale: stop.", unit="s", low=0.01, high=5.0)
    key_timeout: float = param(0.6, "No motion key for longer than this: stop (a held key repeats faster; the "
                                    "first repeat comes after the terminal's repeat delay).", unit="s", low=0.05,
                               high=5.0)

    def validated(self) -> Timing:
        require(self.joy_timeout <= 0.5, "joy_timeout must not exceed the gait planner's 0.5 s cmd_vel timeout")
        return self


@dataclass(frozen=True)
class Keyboard:
    """The terminal's motion keys."""

    speed: float = param(0.5, "Fraction of the limits a motion key commands at start.", low=0.05, high=1.0)
    speed_step: float = param(0.1, "Change of that fraction per speed key.", low=0.01, high=0.5)


@dataclass(frozen=True)
class AxisBinding:
    """A Joy axis driving a channel: demand = scale x axis value (after the dead zone), clipped to [-1, 1]."""

    axis: int
    """Index into Joy.axes."""
    scale: float = 1.0
    """Sign and gain; e.g. -1 where the pad reports the opposite direction."""


@dataclass(frozen=True)
class JoyMapping:
    """The gamepad mapping (`joy:` in the teleop file)."""

    deadman_buttons: tuple[int, ...]
    """Buttons (Joy.buttons indices) of which one must be held for any motion; release = stop."""
    axes: Mapping[str, AxisBinding]
    """Channel -> axis, while the arm button is not held."""
    buttons: Mapping[str, int] = field(default_factory=dict)
    """Event -> button; an event fires when its button goes down."""
    arm_mode_button: int | None = None
    """While held (with a dead-man button), `arm_axes` apply instead of `axes` (walking stops)."""
    arm_axes: Mapping[str, AxisBinding] = field(default_factory=dict)
    deadzone: float = 0.1
    """Axis values with |value| below this count as 0; above it the range is rescaled to start at 0."""

    def required_axes(self) -> int:
        """How many axes a Joy message must have for this mapping."""
        return 1 + max((b.axis for b in (*self.axes.values(), *self.arm_axes.values())), default=-1)

    def required_buttons(self) -> int:
        """How many buttons a Joy message must have for this mapping."""
        used = [*self.deadman_buttons, *self.buttons.values()]
        if self.arm_mode_button is not None:
            used.append(self.arm_mode_button)
        return 1 + max(used, default=-1)


@dataclass(frozen=True)
class TeleopConfig:
    """Everything in the teleop file."""

    limits: Limits = field(default_factory=Limits)
    timing: Timing = field(default_factory=Timing)
    keyboard: Keyboard = field(default_factory=Keyboard)
    joy: JoyMapping = field(default_factory=lambda: JoyMapping(deadman_buttons=(4,), axes={}))
    source: str = "<defaults>"


def default_path() -> Path:
    """config/teleop.yaml in the bringup share (installed) or the source workspace."""
    return share_dir("legion_bringup", "config", Path(__file__).resolve().parents[3]) / "config" / "teleop.yaml"


def load_config(name: str = "teleop") -> TeleopConfig:
    """The teleop file named `name` (`teleop` -> config/teleop.yaml) or at the path `name`.

    Raises:
        TeleopError: the file is missing, not YAML, or a key is unknown, of the wrong type or out of its range.
    """
    import yaml

    path = Path(name).expanduser() if names_a_file(name) else default_path().with_name(f"{name}.yaml")
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as error:
        raise TeleopError(f"teleop file {path}: cannot read it ({error.strerror or error})") from error
    except yaml.YAMLError as error:
        raise TeleopError(f"teleop file {path}: not valid YAML: {error}") from error
    return config_from_dict(data, str(path))


def config_from_dict(data: Any, source: str = "<teleop>") -> TeleopConfig:
    """A TeleopConfig from the parsed teleop file; see `load_config`."""
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise TeleopError(f"{source}: the teleop file must be a mapping with limits, timing, keyboard and joy")
    unknown = sorted(set(data) - {"limits", "timing", "keyboard", "joy"})
    if unknown:
        raise TeleopError(f"{source}: unknown section(s) {', '.join(map(str, unknown))} (known: limits, timing, "
                          "keyboard, joy)")
    sections = {}
    for key, cls in (("limits", Limits), ("timing", Timing), ("keyboard", Keyboard)):
        block = data.get(key) or {}
        if not isinstance(block, Mapping):
            raise TeleopError(f"{source}: {key} must be a mapping")
        try:
            sections[key] = from_flat(cls, flatten_yaml(block, f"{key}."), f"{key}.")
        except ParameterError as error:
            raise TeleopError(f"{source}: {error}") from error
    if "joy" not in data:
        raise TeleopError(f"{source}: joy: missing (the gamepad mapping)")
    return TeleopConfig(**sections, joy=_joy(data["joy"], source), source=source)


def _index(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise TeleopError(f"{where} must be a non-negative whole number (an index into the Joy message), "
                          f"got {value!r}")
    return value


def _axes(block: Any, allowed: tuple[str, ...], where: str) -> dict[str, AxisBinding]:
    if block is None:
        return {}
    if not isinstance(block, Mapping):
        raise TeleopError(f"{where} must map commands ({', '.join(allowed)}) to {{axis: <index>, scale: <number>}}")
    axes = {}
    for channel, binding in block.items():
        here = f"{where}.{channel}"
        if channel not in allowed:
            raise TeleopError(f"{here}: unknown command '{channel}' (known: {', '.join(allowed)})")
        if isinstance(binding, int) and not isinstance(binding, bool):
            binding = {"axis": binding}
        if not isinstance(binding, Mapping):
            raise TeleopError(f"{here} must be {{axis: <index>, scale: <number>}}, got {binding!r}")
        extra = sorted(set(binding) - {"axis", "scale"})
        if extra:
            raise TeleopError(f"{here}: unknown key(s) {', '.join(map(str, extra))} (known: axis, scale)")
        if "axis" not in binding:
            raise TeleopError(f"{here}.axis: missing")
        scale = binding.get("scale", 1.0)
        if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not math.isfinite(scale) \
                or not -10.0 <= scale <= 10.0:
            raise TeleopError(f"{here}.scale must be a finite number in [-10, 10], got {scale!r}")
        axes[channel] = AxisBinding(_index(binding["axis"], f"{here}.axis"), float(scale))
    return axes


def _joy(block: Any, source: str) -> JoyMapping:
    where = f"{source}: joy"
    if not isinstance(block, Mapping):
        raise TeleopError(f"{where} must be a mapping (deadman_buttons, axes, buttons, arm_mode_button, arm_axes, "
                          "deadzone)")
    known = {"deadman_buttons", "axes", "buttons", "arm_mode_button", "arm_axes", "deadzone"}
    unknown = sorted(set(block) - known)
    if unknown:
        raise TeleopError(f"{where}: unknown key(s) {', '.join(map(str, unknown))} (known: {', '.join(sorted(known))})")
    deadman = block.get("deadman_buttons")
    if isinstance(deadman, int) and not isinstance(deadman, bool):
        deadman = [deadman]
    if not isinstance(deadman, list) or not deadman:
        raise TeleopError(f"{where}.deadman_buttons: required, a list of button indices (one must be held to move)")
    deadman_buttons = tuple(_index(b, f"{where}.deadman_buttons[{i}]") for i, b in enumerate(deadman))
    buttons_block = block.get("buttons") or {}
    if not isinstance(buttons_block, Mapping):
        raise TeleopError(f"{where}.buttons must map events ({', '.join(EVENTS)}) to button indices")
    buttons = {}
    for event, button in buttons_block.items():
        if event not in EVENTS:
            raise TeleopError(f"{where}.buttons.{event}: unknown event '{event}' (known: {', '.join(EVENTS)})")
        buttons[event] = _index(button, f"{where}.buttons.{event}")
        if buttons[event] in deadman_buttons:
            raise TeleopError(f"{where}.buttons.{event}: button {buttons[event]} is also a dead-man button")
    taken: dict[int, str] = {}
    for event, button in buttons.items():
        if button in taken:
            raise TeleopError(f"{where}.buttons.{event}: button {button} is already {taken[button]}")
        taken[button] = event
    arm_button = block.get("arm_mode_button")
    if arm_button is not None:
        arm_button = _index(arm_button, f"{where}.arm_mode_button")
        if arm_button in deadman_buttons or arm_button in taken:
            raise TeleopError(f"{where}.arm_mode_button: button {arm_button} is already used")
    deadzone = block.get("deadzone", 0.1)
    if isinstance(deadzone, bool) or not isinstance(deadzone, (int, float)) or not 0.0 <= deadzone < 1.0:
        raise TeleopError(f"{where}.deadzone must be a number in [0, 1), got {deadzone!r}")
    axes = _axes(block.get("axes"), (*WALK_CHANNELS, "head_pan", "head_tilt"), f"{where}.axes")
    arm_axes = _axes(block.get("arm_axes"), (*ARM_CHANNELS, "head_pan", "head_tilt"), f"{where}.arm_axes")
    if arm_axes and arm_button is None:
        raise TeleopError(f"{where}.arm_axes: given without arm_mode_button (the button that switches to them)")
    if not axes:
        raise TeleopError(f"{where}.axes: required, at least one of {', '.join(WALK_CHANNELS)}")
    return JoyMapping(deadman_buttons, axes, buttons, arm_button, arm_axes, float(deadzone))
