"""Joint-space grasp controller of the hands: open, power grasp or pinch, with a closure level.

The hands are not part of the whole-body QP: each hand's joints track a posture interpolated between its `open`
synergy and the mode's fully closed synergy (`power`, `pinch`), `target = open + closure * (closed - open)`, moving
at most `speed` [rad/s] per joint so that a new command closes the fingers smoothly. The synergies are the robot
file's (`hands.<side>.synergies`, mirrored from the other hand where the file says so), so a 22-joint hand, a 7-joint
hand and a 1-DoF gripper run the same code, keyed by side.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from legion_control.errors import ControlError
from legion_control.parameters import GraspParameters


class GraspMode(enum.IntEnum):
    """Hand modes, with the values of legion_interfaces/msg/HandCommand."""

    OPEN = 0
    POWER = 1
    PINCH = 2


@dataclass(frozen=True)
class HandCommand:
    """What one hand should do."""

    mode: GraspMode
    closure: float
    """0 (open) .. 1 (fully closed); ignored in OPEN."""


def checked_hand_command(mode: int, closure: float) -> HandCommand:
    """A HandCommand from raw values.

    Raises:
        ControlError: an unknown mode or a closure that is not a number in [0, 1].
    """
    try:
        grasp_mode = GraspMode(int(mode))
    except (ValueError, TypeError):
        raise ControlError(f"unknown hand mode {mode!r}; expected one of {[m.value for m in GraspMode]}") from None
    if not isinstance(closure, (int, float)) or not math.isfinite(closure) or not 0.0 <= closure <= 1.0:
        raise ControlError(f"hand closure must be in [0, 1], got {closure!r}")
    return HandCommand(grasp_mode, float(closure))


class GraspController:
    """Joint targets of every hand.

    Args:
        hands: side -> (that hand's joint names, its synergies: name -> one position per joint [rad]), for the sides
            that have a hand (the robot configuration's `hands`).
        lower, upper: joint name -> position limits [rad]; targets are clamped into them.
        params: speed and gains scales.
        initial: joint name -> position the targets start from (the standing posture).

    Raises:
        ControlError: a hand lacks the `open`, `power` or `pinch` synergy, or a synergy does not have one value per
            hand joint.
    """

    def __init__(self, hands: Mapping[str, tuple[Sequence[str], Mapping[str, Sequence[float]]]],
                 lower: Mapping[str, float], upper: Mapping[str, float], params: GraspParameters,
                 initial: Mapping[str, float]) -> None:
        self.hand_joints = {side: tuple(names) for side, (names, _) in hands.items()}
        self.params = params
        self._lower = {side: np.array([lower[n] for n in names]) for side, names in self.hand_joints.items()}
        self._upper = {side: np.array([upper[n] for n in names]) for side, names in self.hand_joints.items()}
        self._postures: dict[str, dict[GraspMode, np.ndarray]] = {}
        for side, (names, synergies) in hands.items():
            self._postures[side] = {}
            for mode in GraspMode:
                values = synergies.get(mode.name.lower())
                if values is None:
                    raise ControlError(f"the {side} hand has no '{mode.name.lower()}' synergy")
                if len(values) != len(names):
                    raise ControlError(f"the {side} hand's '{mode.name.lower()}' synergy has {len(values)} values "
                                       f"but the hand has {len(names)} joints")
                self._postures[side][mode] = np.asarray(values, dtype=float)
        self.commands = {side: HandCommand(GraspMode.OPEN, 0.0) for side in self.hand_joints}
        self.targets = {side: np.array([initial.get(n, 0.0) for n in names])
                        for side, names in self.hand_joints.items()}
        self._settled: set[str] = set()
        """Sides whose targets have reached their goal (nothing to move until the next command)."""

    def set_command(self, side: str, command: HandCommand) -> None:
        if side not in self.hand_joints:
            raise ControlError(f"no hand on side '{side}'")
        self.commands[side] = command
        self._settled.discard(side)

    def goal(self, side: str) -> np.ndarray:
        """Posture the hand is heading for under its current command, clamped into the joint limits.  # (n,)"""
        command = self.commands[side]
        postures = self._postures[side]
        opened = postures[GraspMode.OPEN]
        if command.mode == GraspMode.OPEN:
            posture = opened
        else:
            posture = opened + command.closure * (postures[command.mode] - opened)
        return np.clip(posture, self._lower[side], self._upper[side])

    def update(self, dt: float) -> dict[str, np.ndarray]:
        """Move every hand's targets towards its goal by at most `speed * dt`; side -> targets [rad]."""
        step = self.params.speed * max(dt, 0.0)
        for side, targets in self.targets.items():
            if side in self._settled:
                continue
            error = self.goal(side) - targets
            targets += np.clip(error, -step, step)
            if np.max(np.abs(error)) <= step:
                self._settled.add(side)
        return {side: targets.copy() for side, targets in self.targets.items()}
