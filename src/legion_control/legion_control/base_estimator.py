"""The floating base's state at the control rate: `odom` (possibly slower, possibly late), propagated in between with
the kinematic core of legion_estimation (`stance_kinematics`, the one the state estimator uses too).

The controller reads the base state from `odom` only; in the stack it comes from `state_estimator` (leg odometry),
once per joint state, and is processed a cycle after the joint state of the same time; other sources may be slower
(e.g. 50 Hz). This module is only the odom-anchoring glue: the kinematics (soles in the base frame, base pose from
anchored soles, base twist from still soles) live in `legion_estimation.stance_kinematics`. Between odometry
messages the base is propagated assuming the stance soles do not move:

- when odometry stamped t_o arrives, each stance sole's pose in odom is anchored: `sole_to_odom = base_to_odom(t_o) *
  sole_to_base(q(t_o))`, with the joint positions of that time (kept in a short history);
- the base pose is `sole_to_odom * sole_to_base(q)^-1`, averaged over the stance soles with their share of the load
  as weights; when odometry comes at the control rate it is the odometry's (or, for odometry one cycle late, the
  odometry's propagated over that cycle by the kinematics);
- a low-rate odometry's correction (new anchors, new twist offset, below) is blended in with the time constant
  `blend_time` rather than at once: a jump every odometry period rocks the robot on its compliant soles;
- while a sole stands, the kinematic base twist is the load-weighted mean, over the stance soles, of the twist that
  keeps the sole still (`StanceKinematics.base_twist`). Real soles are not perfectly still (compliant contact, load
  transfer), so the kinematic twist is biased; the estimate is the kinematic twist plus the offset
  `odom twist - kinematic twist` at the latest odometry's stamp: exactly the odometry at its stamps, and the
  kinematic changes in between (switching between the two at the odometry rate would jolt the legs every odometry
  period). The kinematic twist is filtered (`TWIST_FILTER`) so that a sole rocking at half the control rate does not
  feed back through the controller;
- with no stance sole (a fall), the last odometry is extrapolated at constant velocity.
A sole that starts to stand is anchored where the current estimate puts it.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pinocchio as pin

from legion_control.references import BaseState
from legion_estimation.stance_kinematics import StanceKinematics, anchor_soles, base_pose, load_weights
from legion_model import BASE_NQ, BASE_NV, RobotModel

SAME_STAMP = 1e-6
"""[s] two stamps closer than this are the same cycle."""
TWIST_FILTER = (0.25, 0.5, 0.25)
"""Binomial filter on the kinematic twist (newest last): a zero at the Nyquist frequency, one cycle of delay. Without
it, a compliant sole's rocking at half the control rate reads as base motion and sustains itself through the
controller."""


@dataclass
class _HistoryEntry:
    time: float
    joint_positions: np.ndarray
    twist: np.ndarray | None
    """Kinematic base twist of that cycle, None without a stance sole."""
    soles: dict[str, pin.SE3]
    """side -> that stance sole's pose in the base frame at that cycle."""


class OdomAnchoredEstimator:
    """See the module docstring.

    Args:
        robot: the controller's robot model (its Pinocchio model is shared; the estimator has its own data).
        sole_frames: side -> sole frame name.
        blend_time: time constant [s] with which a low-rate odometry's correction is blended in (0: at once).
        history: number of past cycles' joint positions kept to anchor late odometry.
    """

    def __init__(self, robot: RobotModel, sole_frames: Mapping[str, str], blend_time: float = 0.02,
                 history: int = 64) -> None:
        self.model = robot.model
        self.kinematics = StanceKinematics(robot.model, sole_frames)
        self._history: deque[_HistoryEntry] = deque(maxlen=history)
        self.blend_time = blend_time
        self._twist_offset: np.ndarray | None = None
        self._offset_target: np.ndarray | None = None
        self._anchor_targets: dict[str, pin.SE3] = {}
        self._previous_arrived = False
        self._last_time: float | None = None
        self._raw_twists: deque[np.ndarray] = deque(maxlen=len(TWIST_FILTER))
        self._pending: list[BaseState] = []
        self.odom: BaseState | None = None
        """The latest odometry taken into account."""
        self.anchors: dict[str, pin.SE3] = {}
        """side -> stance sole pose in odom."""
        self.loads: dict[str, float] = {}
        """side -> normal force [N] on that sole (the controller's last plan): the kinematic estimate trusts the
        more loaded sole more."""
        self.source = "none"
        """Where the last estimate came from: `odom`, `kinematics`, `extrapolated` or `none`."""

    def add_odometry(self, base: BaseState) -> None:
        """Queue an odometry message; it is used at the next `estimate`."""
        self._pending.append(base)

    def reset(self) -> None:
        self._history.clear()
        self._pending.clear()
        self.odom = None
        self._twist_offset = None
        self._offset_target = None
        self._anchor_targets.clear()
        self._previous_arrived = False
        self._last_time = None
        self._raw_twists.clear()
        self.anchors.clear()
        self.source = "none"

    @property
    def has_odometry(self) -> bool:
        return self.odom is not None or bool(self._pending)

    def _entry_at(self, time: float) -> _HistoryEntry | None:
        """The history entry of `time`, else the latest older one, else the oldest."""
        older = None
        for entry in reversed(self._history):
            if abs(entry.time - time) < SAME_STAMP:
                return entry
            if entry.time < time and older is None:
                older = entry
        return older if older is not None else (self._history[0] if self._history else None)

    def estimate(self, time: float, joint_positions: np.ndarray, joint_velocities: np.ndarray,
                 stance: Iterable[str]) -> tuple[np.ndarray, np.ndarray] | None:
        """Configuration q and velocity v of the robot at `time`, or None before the first odometry.

        Args:
            time: stamp of the joint state [s].
            joint_positions, joint_velocities: actuated joints in the model's order.  # (na,)
            stance: sides whose soles stand (do not move).
        """
        stance = [side for side in stance if side in self.kinematics.sole_ids]
        joint_positions = np.array(joint_positions, dtype=float)
        soles: dict[str, pin.SE3] = {}
        kinematic_twist = None
        weights = load_weights(stance, self.loads) if stance else {}
        if stance:
            soles = self.kinematics.soles_in_base(joint_positions, stance, jacobians=True)
            raw = self.kinematics.base_twist(joint_velocities, soles, weights)
            self._raw_twists.append(raw)
            if len(self._raw_twists) == len(TWIST_FILTER):
                kinematic_twist = sum(w * t for w, t in zip(TWIST_FILTER, self._raw_twists, strict=True))
            else:
                kinematic_twist = raw
        else:
            self._raw_twists.clear()
        self._history.append(_HistoryEntry(time, joint_positions, kinematic_twist, soles))

        arrived = False
        for odom in self._pending:
            if self.odom is not None and odom.time < self.odom.time - SAME_STAMP:
                continue  # older than what we have
            self.odom = odom
            arrived = True
            entry = self._entry_at(odom.time)
            odom_twist = np.concatenate((odom.linear_velocity, odom.angular_velocity))
            self._offset_target = None if entry is None or entry.twist is None else odom_twist - entry.twist
            if entry is not None and stance:
                past = entry.soles
                if any(side not in past for side in stance):
                    past = self.kinematics.soles_in_base(entry.joint_positions, stance)
                self._anchor_targets.update(anchor_soles(self._odom_pose(odom), {side: past[side] for side in stance}))
        self._pending.clear()
        odom = self.odom
        if odom is None:
            self.source = "none"
            return None
        for anchors in (self.anchors, self._anchor_targets):
            for side in list(anchors):
                if side not in stance:
                    del anchors[side]

        fresh = abs(odom.time - time) < SAME_STAMP
        high_rate = arrived and self._previous_arrived  # odometry at the control rate (maybe a cycle late)
        self._previous_arrived = arrived
        dt = 0.0 if self._last_time is None else max(time - self._last_time, 0.0)
        self._last_time = time
        self._blend(1.0 if high_rate or self.blend_time <= 0.0 else 1.0 - math.exp(-dt / self.blend_time))

        q = np.empty(self.model.nq)
        v = np.empty(self.model.nv)
        q[BASE_NQ:] = joint_positions
        v[BASE_NV:] = joint_velocities
        anchored = [side for side in stance if side in self.anchors]
        if kinematic_twist is None or (not anchored and not fresh):
            # No stance sole: extrapolate the last odometry at constant velocity.
            delta = max(time - odom.time, 0.0)
            twist = np.concatenate((odom.linear_velocity, odom.angular_velocity))
            base_to_odom = self._odom_pose(odom) * pin.exp6(twist * delta)
            q[:BASE_NQ] = pin.SE3ToXYZQUAT(base_to_odom)
            v[:BASE_NV] = twist
            self.source = "odom" if fresh else "extrapolated"
            return q, v

        if (high_rate and fresh) or not anchored:
            base_to_odom = self._odom_pose(odom)
            self.source = "odom"
        else:
            base_to_odom = base_pose({side: self.anchors[side] for side in anchored}, soles, weights)
            self.source = "kinematics"
        for side in stance:
            if side not in self.anchors:
                self.anchors[side] = self._anchor_targets[side] = base_to_odom * soles[side]
        q[:BASE_NQ] = pin.SE3ToXYZQUAT(base_to_odom)
        v[:BASE_NV] = kinematic_twist if self._twist_offset is None else kinematic_twist + self._twist_offset
        return q, v

    def _blend(self, share: float) -> None:
        """Move the anchors and the twist offset in use `share` (0..1) of the way to the latest odometry's."""
        for side, target in self._anchor_targets.items():
            current = self.anchors.get(side)
            if current is None or share >= 1.0:
                self.anchors[side] = target.copy()
            else:
                self.anchors[side] = current * pin.exp6(share * pin.log6(current.actInv(target)))
        if self._offset_target is None or self._twist_offset is None or share >= 1.0:
            self._twist_offset = None if self._offset_target is None else self._offset_target.copy()
        else:
            self._twist_offset = self._twist_offset + share * (self._offset_target - self._twist_offset)

    @staticmethod
    def _odom_pose(odom: BaseState) -> pin.SE3:
        return pin.XYZQUATToSE3(np.concatenate((odom.position, odom.orientation)))
