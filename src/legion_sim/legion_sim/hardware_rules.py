"""Legion's hardware rules (docs/interfaces.md, "Hardware interface"), independent of any simulator.

Every implementation of the hardware interface (the MuJoCo `Simulation`, the Gazebo joint command adapter, a real
robot's driver) applies the same rules, kept here once:

- **Servo law** per actuated joint: `tau = effort + stiffness * (position - q) + damping * (velocity - qdot)`,
  clamped to +-the joint's effort limit (`impedance_torques`).
- **Command validation** (`validate_command`): a command with no joints, unequal array lengths, an unknown or
  repeated joint, a value that is not a finite number, or a negative gain is rejected whole, with a reason key.
- **The stored command and the protective-stop state machine** (`HardwareRules`): valid commands update the joints
  they name (the others keep their last command); an e-stop latches until reset; the watchdog arms with the first
  valid command and trips when none has arrived for longer than the timeout; a stop holds the joint positions
  measured when it began with the position-hold gains, keeping the torque each joint applied at that instant as
  feed-forward (bumpless: a standing robot keeps carrying its weight). A fresh valid command clears a watchdog stop;
  only `reset_emergency_stop` clears an e-stop.

Nothing here reads a clock: every time is passed in [s] by the caller (simulated or ROS time). Not thread-safe.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Container, Sequence

import numpy as np

STOP_NONE = ""
STOP_ESTOP = "emergency_stop"
STOP_WATCHDOG = "watchdog"

REJECT_EMPTY = "empty"
REJECT_LENGTH = "length_mismatch"
REJECT_UNKNOWN = "unknown_joint"
REJECT_DUPLICATE = "duplicate_joint"
REJECT_NOT_NUMBER = "not_a_number"
REJECT_NON_FINITE = "non_finite"
REJECT_NEGATIVE_GAIN = "negative_gain"
REJECT_OUT_OF_RANGE = "out_of_range"
MAX_COMMAND_MAGNITUDE = 1e6
"""Largest magnitude of any value of a joint command ([rad], [rad/s], [N m], [N m/rad], [N m s/rad]): far beyond any
joint, and small enough that the servo law stays finite (1e308 targets times 1e308 gains give inf - inf = NaN)."""

COMMAND_FIELDS = ("position", "velocity", "effort", "stiffness", "damping")
"""The per-joint value arrays of a joint command, in JointCommand's order."""

WATCHDOG_TOLERANCE = 1e-9
"""[s] slack on the watchdog comparison, so that a command exactly `timeout` old has not yet expired."""


def validate_command(names: Sequence[str], position: Sequence[float], velocity: Sequence[float],
                     effort: Sequence[float], stiffness: Sequence[float], damping: Sequence[float],
                     known_joints: Container[str]) -> tuple[str, str] | None:
    """The first problem with a joint command, as (reason_key, detail), or None if it is valid.

    Args:
        names: joint names; every array holds one value per name.
        position, velocity, effort, stiffness, damping: [rad], [rad/s], [N m], [N m/rad], [N m s/rad].
        known_joints: the joints the hardware actuates.

    Returns:
        None, or (key, detail) with key one of empty, length_mismatch, unknown_joint, duplicate_joint, not_a_number,
        non_finite, negative_gain, out_of_range (a magnitude beyond MAX_COMMAND_MAGNITUDE).
    """
    arrays = (position, velocity, effort, stiffness, damping)
    try:
        count = len(names)
        lengths = [len(a) for a in arrays]
    except TypeError:
        return REJECT_NOT_NUMBER, "names and every value array must be sequences"
    if count == 0:
        return REJECT_EMPTY, "command names no joint"
    for label, length in zip(COMMAND_FIELDS, lengths, strict=True):
        if length != count:
            return REJECT_LENGTH, f"{label} has {length} values for {count} joint names"
    unknown = [name for name in names if not isinstance(name, str) or name not in known_joints]
    if unknown:
        return REJECT_UNKNOWN, f"unknown joint(s) {unknown[:5]}"
    if len(set(names)) != count:
        repeated = sorted({name for name in names if list(names).count(name) > 1})
        return REJECT_DUPLICATE, f"joint(s) named more than once {repeated}"
    for label, values in zip(COMMAND_FIELDS, arrays, strict=True):
        try:
            values = np.asarray(values, dtype=float)
        except (TypeError, ValueError):
            return REJECT_NOT_NUMBER, f"{label} holds a value that is not a number"
        if values.shape != (count,):
            return REJECT_NOT_NUMBER, f"{label} must be a flat list of numbers"
        if not np.all(np.isfinite(values)):
            bad = [names[i] for i in np.flatnonzero(~np.isfinite(values))[:5]]
            return REJECT_NON_FINITE, f"{label} is not finite for {bad}"
        if label in ("stiffness", "damping") and np.any(values < 0.0):
            bad = [names[i] for i in np.flatnonzero(values < 0.0)[:5]]
            return REJECT_NEGATIVE_GAIN, f"{label} is negative for {bad}"
        if np.any(np.abs(values) > MAX_COMMAND_MAGNITUDE):
            bad = [names[i] for i in np.flatnonzero(np.abs(values) > MAX_COMMAND_MAGNITUDE)[:5]]
            return REJECT_OUT_OF_RANGE, f"{label} is beyond +-{MAX_COMMAND_MAGNITUDE:g} for {bad}"
    return None


def impedance_torques(position: np.ndarray, velocity: np.ndarray, effort: np.ndarray, stiffness: np.ndarray,
                      damping: np.ndarray, q: np.ndarray, qd: np.ndarray, limit: np.ndarray,
                      out: np.ndarray | None = None, scratch: np.ndarray | None = None) -> np.ndarray:
    """The servo law `tau = effort + stiffness (position - q) + damping (velocity - qd)`, clamped to +-limit.

    All arrays are (n,) in one joint order: the command ([rad], [rad/s], [N m], [N m/rad], [N m s/rad]), the measured
    position q [rad] and velocity qd [rad/s], and the effort limit [N m]. `out` and `scratch` (n,) avoid allocations
    in a servo loop; `out` is returned.
    """
    tau = np.empty(len(limit)) if out is None else out
    scratch = np.empty(len(limit)) if scratch is None else scratch
    np.subtract(position, q, out=tau)
    tau *= stiffness
    np.subtract(velocity, qd, out=scratch)
    scratch *= damping
    tau += scratch
    tau += effort
    np.clip(tau, -limit, limit, out=tau)
    return tau


class HardwareRules:
    """The command in force and the protective-stop state machine of one robot's hardware.

    Arrays are (n,) in the joint order given at construction (the caller's: MuJoCo actuator order in `Simulation`,
    `RobotConfig.all_joints` in the Gazebo adapter).

    Args:
        joint_names: the actuated joints, in the order of every array here.
        hold_stiffness: position-hold stiffness per joint [N m/rad] (the robot config's gains).
        hold_damping: position-hold damping per joint [N m s/rad].
        effort_limit: per joint [N m], > 0.
        watchdog_timeout: [s] longest time without a valid command before a protective stop.
        stop_damping_scale: the protective stop holds with `hold_damping * stop_damping_scale`.

    Attributes:
        position, velocity, effort, stiffness, damping: the command in force, (n,) each.
    """

    def __init__(self, joint_names: Sequence[str], hold_stiffness: np.ndarray, hold_damping: np.ndarray,
                 effort_limit: np.ndarray, watchdog_timeout: float, stop_damping_scale: float = 1.0):
        self.joint_names: tuple[str, ...] = tuple(joint_names)
        n = len(self.joint_names)
        self.index: dict[str, int] = {name: i for i, name in enumerate(self.joint_names)}
        """Joint name -> its index in the arrays."""
        self.hold_stiffness = np.array(hold_stiffness, dtype=float)
        self.hold_damping = np.array(hold_damping, dtype=float)
        self.stop_damping = self.hold_damping * stop_damping_scale
        self.effort_limit = np.array(effort_limit, dtype=float)
        for label, array in (("hold_stiffness", self.hold_stiffness), ("hold_damping", self.hold_damping),
                             ("effort_limit", self.effort_limit)):
            if array.shape != (n,):
                raise ValueError(f"{label} has shape {array.shape}, expected ({n},)")
        self.watchdog_timeout = float(watchdog_timeout)
        self.position = np.zeros(n)
        self.velocity = np.zeros(n)
        self.effort = np.zeros(n)
        self.stiffness = np.zeros(n)
        self.damping = np.zeros(n)
        self._scratch = np.zeros(n)
        self._last_names: tuple[list[str], np.ndarray] | None = None
        """(names, their indices) of the last command that passed the name checks."""
        self.reset()

    def reset(self) -> None:
        """No stop latched, the watchdog disarmed, every counter zero (the stored command is left as it is)."""
        self._stop = STOP_NONE
        self._estop_latched = False
        self._watchdog_armed = False
        self._last_command_time = 0.0
        self._watchdog_trips = 0
        self._accepted = 0
        self._ignored = 0
        self._rejected: Counter[str] = Counter()

    # ------------------------------------------------------------------------------------------------ the command
    def hold(self, position: np.ndarray, effort: np.ndarray, damping: np.ndarray | None = None) -> None:
        """Make the stored command a position hold at `position` [rad] with the hold stiffness, `damping` (the hold
        damping if None) and the feed-forward `effort` [N m]."""
        self.position[:] = position
        self.velocity[:] = 0.0
        self.effort[:] = effort
        self.stiffness[:] = self.hold_stiffness
        self.damping[:] = self.hold_damping if damping is None else damping

    def torques(self, q: np.ndarray, qd: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """The servo law for the stored command at measured q [rad], qd [rad/s]: (n,) [N m], into `out` if given."""
        return impedance_torques(self.position, self.velocity, self.effort, self.stiffness, self.damping, q, qd,
                                 self.effort_limit, out=out, scratch=self._scratch)

    def set_command(self, names: Sequence[str], position: Sequence[float], velocity: Sequence[float],
                    effort: Sequence[float], stiffness: Sequence[float], damping: Sequence[float], time: float
                    ) -> tuple[bool, str]:
        """Take a joint command received at `time` [s].

        Returns:
            (accepted, reason): reason is "" when accepted, else `<reason_key>: <detail>` with reason_key one of
            empty, length_mismatch, unknown_joint, duplicate_joint, not_a_number, non_finite, negative_gain,
            out_of_range (each
            counted in `status()["commands_rejected"]`) or emergency_stop (a valid command ignored during an e-stop,
            counted in `status()["commands_ignored"]`).
        """
        # A controller names the same joints in every command: for the names of the last valid command, the name
        # checks and the index are those already made, and the values are checked in one array (anything wrong:
        # the full validation, which names the problem).
        values = None
        if self._last_names is not None and names == self._last_names[0]:
            try:
                values = np.array((position, velocity, effort, stiffness, damping), dtype=float)
            except (TypeError, ValueError):
                values = None
            else:
                if not (values.shape == (5, len(names)) and np.isfinite(values).all() and values[3:].min() >= 0.0
                        and np.abs(values).max() <= MAX_COMMAND_MAGNITUDE):
                    values = None
        if values is None:
            error = validate_command(names, position, velocity, effort, stiffness, damping, self.index)
            if error is not None:
                key, detail = error
                self._rejected[key] += 1
                return False, f"{key}: {detail}"
            values = np.array((position, velocity, effort, stiffness, damping), dtype=float)
            self._last_names = (list(names), np.fromiter((self.index[name] for name in names), dtype=int,
                                                         count=len(names)))
        if self._estop_latched:
            self._ignored += 1
            return False, f"{STOP_ESTOP}: emergency stop latched, command ignored until reset"
        index = self._last_names[1]
        self.position[index], self.velocity[index], self.effort[index], self.stiffness[index], \
            self.damping[index] = values
        self._accepted += 1
        self._last_command_time = float(time)
        self._watchdog_armed = True
        self._stop = STOP_NONE  # only a watchdog stop can be active here: an e-stop returned above
        return True, ""

    # ------------------------------------------------------------------------------------------------ stops
    def enter_stop(self, reason: str, q: np.ndarray, tau: np.ndarray) -> None:
        """Take a protective stop: hold the measured positions q [rad] with the stop gains and the last applied
        torques tau [N m] as feed-forward. An active stop keeps the positions it latched (only its reason changes)."""
        if not self._stop:
            self.hold(np.array(q, dtype=float), np.array(tau, dtype=float), self.stop_damping)
        self._stop = reason

    def check_watchdog(self, time: float, q: np.ndarray, tau: np.ndarray) -> bool:
        """Trip the watchdog if it is armed, no stop is active and the last valid command is older than the timeout
        at `time` [s]; q, tau as for `enter_stop`. Returns whether it tripped now."""
        if (self._watchdog_armed and not self._stop
                and time - self._last_command_time > self.watchdog_timeout + WATCHDOG_TOLERANCE):
            self._watchdog_trips += 1
            self.enter_stop(STOP_WATCHDOG, q, tau)
            return True
        return False

    def set_emergency_stop(self, active: bool, q: np.ndarray, tau: np.ndarray) -> None:
        """`True` latches an emergency (protective) stop (q, tau as for `enter_stop`). `False` does nothing: only
        `reset_emergency_stop` clears it."""
        if active:
            self._estop_latched = True
            self.enter_stop(STOP_ESTOP, q, tau)

    def reset_emergency_stop(self) -> bool:
        """Clear a latched e-stop; the robot keeps holding until the next valid command (which re-arms the
        watchdog). Returns whether an e-stop was latched."""
        was_latched = self._estop_latched
        if was_latched:
            self._estop_latched = False
            self._stop = STOP_NONE
            self._watchdog_armed = False
        return was_latched

    @property
    def stopped(self) -> str:
        """Why the hardware is in a protective stop: "", "emergency_stop" or "watchdog"."""
        return self._stop

    @property
    def emergency_stop_latched(self) -> bool:
        return self._estop_latched

    def status(self, time: float) -> dict:
        """Hardware status at `time` [s], for `hardware/status`.

        Keys: emergency_stop (bool, latched), protective_stop (bool), stop_reason ("", "emergency_stop",
        "watchdog"), watchdog_armed (bool), watchdog_trips (int), commands_accepted (int), commands_rejected
        (dict reason -> count), commands_rejected_total (int), commands_ignored (int, valid but during an e-stop),
        last_command_age (float [s] or None before the first command), time (float [s]).
        """
        return {
            "emergency_stop": self._estop_latched,
            "protective_stop": bool(self._stop),
            "stop_reason": self._stop,
            "watchdog_armed": self._watchdog_armed,
            "watchdog_trips": self._watchdog_trips,
            "commands_accepted": self._accepted,
            "commands_rejected": dict(self._rejected),
            "commands_rejected_total": sum(self._rejected.values()),
            "commands_ignored": self._ignored,
            "last_command_age": (time - self._last_command_time) if self._accepted else None,
            "time": time,
        }
