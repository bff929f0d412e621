"""The references the whole-body controller takes, as small typed carriers, their checks, and the book that keeps
the ones in force (`ReferenceBook`).

All poses are in the world (`odom`) frame; quaternions are (x, y, z, w); sides are the robot configuration's names
(`left`, `right`). Times are simulation/ROS times [s].
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pinocchio as pin

from legion_common.transforms import quaternion_to_matrix, rotation_z
from legion_control.errors import ControlError
from legion_control.parameters import HandTaskParameters, ReferenceParameters

REJECTION_REPORT_TIME = 2.0
"""[s] a rejected reference is reported for this long after the rejection."""
OFFSET_STAMP_LEAD = 0.05
"""[s] a balance offset stamped up to this far ahead of the control time still counts as fresh (clocks of two
processes); one stamped farther ahead is held without its feed-forward."""
MAX_OFFSET_STEP_TIME = 0.1
"""[s] the most control time one cycle lets the applied balance offset move for (after a pause it does not jump)."""


@dataclass(frozen=True)
class BaseState:
    """The floating base's state, as `odom` gives it (odom -> base_link)."""

    time: float
    """[s]"""
    position: np.ndarray
    """base_link origin in odom [m].  # (3,)"""
    orientation: np.ndarray
    """base_link orientation in odom, quaternion (x, y, z, w).  # (4,)"""
    linear_velocity: np.ndarray
    """Velocity of the base_link origin in base_link axes [m/s].  # (3,)"""
    angular_velocity: np.ndarray
    """Angular velocity in base_link axes [rad/s].  # (3,)"""


@dataclass(frozen=True)
class SoleReference:
    """One side's part of a gait sample."""

    in_contact: bool
    """True: the sole stands and the controller keeps it where it is; False: it swings and tracks `pose`."""
    position: np.ndarray
    """Sole origin in odom [m].  # (3,)"""
    orientation: np.ndarray
    """Sole orientation in odom, quaternion (x, y, z, w).  # (4,)"""
    velocity: np.ndarray
    """Sole origin velocity and angular velocity, odom axes [m/s, rad/s].  # (6,)"""
    acceleration: np.ndarray
    """Sole origin acceleration and angular acceleration, odom axes [m/s^2, rad/s^2].  # (6,)"""


@dataclass(frozen=True)
class GaitSample:
    """The gait planner's reference at one instant."""

    time: float
    """[s]"""
    com_position: np.ndarray
    """[m] odom.  # (3,)"""
    com_velocity: np.ndarray
    """[m/s]  # (3,)"""
    com_acceleration: np.ndarray
    """[m/s^2]  # (3,)"""
    base_orientation: np.ndarray | None
    """base_link orientation in odom (x, y, z, w), or None: level, facing the soles' mean heading.  # (4,)"""
    base_angular_velocity: np.ndarray
    """[rad/s] odom axes.  # (3,)"""
    soles: dict[str, SoleReference]
    """side -> that sole's reference."""


def _finite(name: str, values: np.ndarray, size: int) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.shape != (size,) or not np.isfinite(array).all():
        raise ControlError(f"{name} must be {size} finite numbers, got {values!r}")
    return array


def _unit_quaternion(name: str, quaternion: np.ndarray) -> np.ndarray:
    q = _finite(name, quaternion, 4)
    norm = math.sqrt(q @ q)  # np.linalg.norm's operations, without its overhead
    if abs(norm - 1.0) > 1e-3:
        raise ControlError(f"{name} must be a unit quaternion (x, y, z, w), got norm {norm:.4f}")
    return q / norm


def checked_gait_sample(sample: GaitSample) -> GaitSample:
    """The sample with its arrays checked (finite, right sizes, unit quaternions) and quaternions normalised.

    Raises:
        ControlError: a non-finite or malformed value, or a sample in which no sole stands.
    """
    # All vectors checked at once (a gait reference has tens of samples of 13 vectors each, 20 times a second); on
    # any fault the vector-by-vector check below raises the error that names it.
    soles = sample.soles.values()
    vectors = [np.asarray(v, dtype=float) for sole in soles
               for v in (sole.position, sole.orientation, sole.velocity, sole.acceleration)]
    vectors += [np.asarray(v, dtype=float) for v in (sample.com_position, sample.com_velocity,
                                                     sample.com_acceleration, sample.base_angular_velocity)]
    quaternions = vectors[1:4 * len(soles):4]
    if sample.base_orientation is not None:
        quaternions.append(np.asarray(sample.base_orientation, dtype=float))
        vectors.append(quaternions[-1])
    sizes = _GAIT_VECTOR_SIZES * len(soles) + _GAIT_SAMPLE_VECTOR_SIZES + (4,) * (sample.base_orientation is not None)
    if (not math.isfinite(sample.time) or any(v.shape != (n,) for v, n in zip(vectors, sizes, strict=True))
            or not np.isfinite(np.concatenate(vectors)).all()
            or any(abs(math.sqrt(q @ q) - 1.0) > 1e-3 for q in quaternions)
            or not any(sole.in_contact for sole in soles)):
        return _checked_gait_sample_one_by_one(sample)
    norms = [math.sqrt(q @ q) for q in quaternions]
    checked = {}
    for i, (side, sole) in enumerate(sample.soles.items()):
        position, orientation, velocity, acceleration = vectors[4 * i:4 * i + 4]
        checked[side] = SoleReference(bool(sole.in_contact), position, orientation / norms[i], velocity,
                                      acceleration)
    k = 4 * len(soles)
    orientation = None if sample.base_orientation is None else quaternions[-1] / norms[-1]
    return GaitSample(sample.time, vectors[k], vectors[k + 1], vectors[k + 2], orientation, vectors[k + 3], checked)


_GAIT_VECTOR_SIZES = (3, 4, 6, 6)
"""Sizes of a SoleReference's position, orientation, velocity, acceleration."""
_GAIT_SAMPLE_VECTOR_SIZES = (3, 3, 3, 3)
"""Sizes of a GaitSample's CoM position, velocity, acceleration and base angular velocity."""


def _checked_gait_sample_one_by_one(sample: GaitSample) -> GaitSample:
    """`checked_gait_sample`, one vector at a time: raises the error that names the first faulty one."""
    if not math.isfinite(sample.time):
        raise ControlError(f"gait sample time must be finite, got {sample.time}")
    soles = {}
    for side, sole in sample.soles.items():
        soles[side] = SoleReference(
            bool(sole.in_contact), _finite(f"{side} sole position", sole.position, 3),
            _unit_quaternion(f"{side} sole orientation", sole.orientation),
            _finite(f"{side} sole velocity", sole.velocity, 6),
            _finite(f"{side} sole acceleration", sole.acceleration, 6))
    if not any(sole.in_contact for sole in soles.values()):
        raise ControlError(f"gait sample at t={sample.time:.3f} s has no sole in contact (no flight phases)")
    orientation = None if sample.base_orientation is None else _unit_quaternion("base orientation",
                                                                                  sample.base_orientation)
    return GaitSample(sample.time, _finite("CoM position", sample.com_position, 3),
                      _finite("CoM velocity", sample.com_velocity, 3),
                      _finite("CoM acceleration", sample.com_acceleration, 3), orientation,
                      _finite("base angular velocity", sample.base_angular_velocity, 3), soles)


class GaitTrajectory:
    """A time series of gait samples, interpolated in time.

    Between two samples, CoM position, velocity and acceleration and swing sole motion are interpolated linearly
    (orientations by slerp); contact flags are those of the earlier sample. Before the first sample the first one
    holds; after the last one the last one holds, at rest (zero velocities and accelerations).

    Raises:
        ControlError: no samples, a malformed sample, or times that do not strictly increase.
    """

    def __init__(self, samples: Sequence[GaitSample]) -> None:
        if not samples:
            raise ControlError("a gait trajectory needs at least one sample")
        self.samples = [checked_gait_sample(s) for s in samples]
        self.times = np.array([s.time for s in self.samples])
        if np.any(np.diff(self.times) <= 0.0):
            raise ControlError("gait sample times must strictly increase")
        sides = set(self.samples[0].soles)
        if any(set(s.soles) != sides for s in self.samples):
            raise ControlError("every gait sample must name the same sides")
        self._times = self.times.tolist()
        self._sides = tuple(self.samples[0].soles)
        # Every sample's vectors in one row (CoM position, velocity, acceleration, base angular velocity, then per
        # side: sole position, velocity, acceleration), so that `sample` interpolates them all with one lerp.
        samples = self.samples
        columns = [[s.com_position for s in samples], [s.com_velocity for s in samples],
                   [s.com_acceleration for s in samples], [s.base_angular_velocity for s in samples]]
        for side in self._sides:
            soles = [s.soles[side] for s in samples]
            columns += [[sole.position for sole in soles], [sole.velocity for sole in soles],
                        [sole.acceleration for sole in soles]]
        self._rows = np.hstack([np.array(column) for column in columns])
        self._landings: dict[tuple[str, int], pin.SE3] = {}

    @property
    def end_time(self) -> float:
        return float(self.times[-1])

    def sample(self, time: float) -> GaitSample:
        """The reference at `time` [s] (see the class docstring)."""
        samples, times = self.samples, self._times
        if time <= times[0]:
            return samples[0]
        if time >= times[-1]:
            last = samples[-1]
            zero3, zero6 = np.zeros(3), np.zeros(6)
            soles = {side: SoleReference(s.in_contact, s.position, s.orientation, zero6, zero6)
                     for side, s in last.soles.items()}
            return GaitSample(time, last.com_position, zero3, zero3, last.base_orientation, zero3, soles)
        i = bisect.bisect_right(times, time) - 1
        a, b = samples[i], samples[i + 1]
        s = (time - times[i]) / (times[i + 1] - times[i])
        rows = self._rows
        row = rows[i] + s * (rows[i + 1] - rows[i])  # x + s (y - x), elementwise as for each vector alone

        soles = {}
        for k, side in enumerate(self._sides):
            sa, sb = a.soles[side], b.soles[side]
            start = 12 + 15 * k
            soles[side] = SoleReference(sa.in_contact, row[start:start + 3], slerp(sa.orientation, sb.orientation, s),
                                        row[start + 3:start + 9], row[start + 9:start + 15])
        if a.base_orientation is None or b.base_orientation is None:
            orientation = a.base_orientation
        else:
            orientation = slerp(a.base_orientation, b.base_orientation, s)
        return GaitSample(time, row[0:3], row[3:6], row[6:9], orientation, row[9:12], soles)

    def landing_pose(self, side: str, now: float) -> pin.SE3:
        """Where `side`'s sole lands after `now`: its pose at the first sample at or after `now` in which it stands,
        else at the last sample."""
        samples = self.samples
        index = bisect.bisect_left(self._times, now)
        while index < len(samples) and not samples[index].soles[side].in_contact:
            index += 1
        if index == len(samples):
            index = len(samples) - 1
        pose = self._landings.get((side, index))
        if pose is None:
            sole = samples[index].soles[side]
            pose = self._landings[(side, index)] = pin.SE3(quaternion_to_matrix(sole.orientation), sole.position)
        return pose.copy()


def slerp(a: np.ndarray, b: np.ndarray, s: float) -> np.ndarray:
    """Spherical interpolation of unit quaternions (x, y, z, w), s in [0, 1].  # (4,)"""
    qa = pin.Quaternion(a[3], a[0], a[1], a[2])
    qb = pin.Quaternion(b[3], b[0], b[1], b[2])
    q = qa.slerp(float(s), qb)
    return np.array([q.x, q.y, q.z, q.w])


@dataclass(frozen=True)
class BalanceOffset:
    """An offset of the CoM reference from where balancing would put it (for leaning, swaying, squatting)."""

    time: float
    """When it was sent [s]."""
    offset: np.ndarray
    """[m] in the robot's heading frame (x forward, y left, z up; heading = the stance soles' mean yaw).  # (3,)"""
    velocity: np.ndarray
    """Rate of the offset [m/s] (feed-forward), same axes.  # (3,)"""
    acceleration: np.ndarray
    """[m/s^2] (feed-forward), same axes.  # (3,)"""


def checked_balance_offset(offset: BalanceOffset, max_horizontal: float, max_lowering: float,
                           max_raising: float, max_speed: float = math.inf,
                           max_acceleration: float = math.inf) -> BalanceOffset:
    """The offset, checked for finite values and range.

    Raises:
        ControlError: non-finite values, an offset beyond the given bounds [m], or a feed-forward velocity or
            acceleration beyond `max_speed` [m/s] or `max_acceleration` [m/s^2].
    """
    position = _finite("CoM offset", offset.offset, 3)
    velocity = _finite("CoM offset velocity", offset.velocity, 3)
    acceleration = _finite("CoM offset acceleration", offset.acceleration, 3)
    if float(np.linalg.norm(velocity)) > max_speed:
        raise ControlError(f"CoM offset velocity of {np.linalg.norm(velocity):.3f} m/s exceeds {max_speed} m/s")
    if float(np.linalg.norm(acceleration)) > max_acceleration:
        raise ControlError(f"CoM offset acceleration of {np.linalg.norm(acceleration):.3f} m/s^2 exceeds "
                           f"{max_acceleration} m/s^2")
    horizontal = float(np.hypot(position[0], position[1]))
    if horizontal > max_horizontal:
        raise ControlError(f"CoM offset of {horizontal:.3f} m sideways/forwards exceeds {max_horizontal} m")
    if not -max_lowering <= position[2] <= max_raising:
        raise ControlError(f"vertical CoM offset {position[2]:.3f} m is outside [-{max_lowering}, {max_raising}] m")
    return BalanceOffset(float(offset.time), position, velocity, acceleration)


@dataclass(frozen=True)
class HandTarget:
    """Where a gripper frame should go: in odom, or relative to the robot's base_footprint (REP-120: the base's
    position on the floor and its heading), which moves with the robot (a hand carrying a part while it walks)."""

    time: float
    """When it was sent [s]; older than `hand.target_timeout` means stale."""
    position: np.ndarray
    """[m]  # (3,)"""
    orientation: np.ndarray
    """(x, y, z, w)  # (4,)"""
    in_base_footprint: bool = False
    """The pose is relative to base_footprint, which the controller follows at every cycle with its own base
    estimate (no latency between the walking base and the hand)."""


def checked_hand_target(target: HandTarget) -> HandTarget:
    """The target with finite values and a normalised quaternion.

    Raises:
        ControlError: non-finite values or a quaternion that is not of unit length.
    """
    return HandTarget(float(target.time), _finite("hand target position", target.position, 3),
                      _unit_quaternion("hand target orientation", target.orientation),
                      bool(target.in_base_footprint))


@dataclass
class HandTrack:
    """A hand task's target and the moving reference that approaches it."""

    target: HandTarget
    position: np.ndarray
    """The moving reference's position in odom [m].  # (3,)"""
    orientation: np.ndarray
    """Rotation matrix of the moving reference.  # (3, 3)"""
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(6))
    """Its velocity (linear, angular) in odom axes [m/s, rad/s].  # (6,)"""
    target_rotation: tuple[HandTarget, np.ndarray] | None = field(default=None, repr=False, compare=False)
    """(target, its rotation matrix): the matrix of the target in force, computed once per target."""


class ReferenceBook:
    """The references in force, checked when they arrive and expired when they age: gait reference, balance offset,
    hand targets (each with the moving reference that approaches it), posture; the blend of the CoM reference when
    its source changes; and the rejections still to report.

    A rejected reference leaves the last good one in force and is reported for `REJECTION_REPORT_TIME`.

    Args:
        params: the reference checks and shaping.
        hand: the hand task's speeds, timeout and reach margin.
        sides: the robot's sides.
        standing_com_height: CoM height above the soles in the standing posture [m].
        standing_posture: the standing joint positions [rad], in the controller's joint order.  # (na,)
        posture_lower, posture_upper: the joint position range a posture reference is clipped to [rad].  # (na,)
        joint_index: body joint name -> index in the posture.
        hand_joints: names of hand joints (a posture reference may name them; they follow the grasp controller).
    """

    def __init__(self, params: ReferenceParameters, hand: HandTaskParameters, sides: Sequence[str],
                 standing_com_height: float, standing_posture: np.ndarray, posture_lower: np.ndarray,
                 posture_upper: np.ndarray, joint_index: Mapping[str, int], hand_joints: Iterable[str]) -> None:
        self.params = params
        self.hand = hand
        self.sides = tuple(sides)
        self.standing_com_height = standing_com_height
        self.standing_posture = standing_posture
        self._posture_lower, self._posture_upper = posture_lower, posture_upper
        self._joint_index = dict(joint_index)
        self._hand_joints = frozenset(hand_joints)
        self.reset()

    def reset(self) -> None:
        """No references: balance in place with the standing posture."""
        self.gait: GaitTrajectory | None = None
        self.offset: BalanceOffset | None = None
        self.applied_offset: tuple[float, np.ndarray] | None = None
        """(time [s], offset [m]) of the balance offset applied, which follows `offset` at most
        `max_com_offset_speed` fast."""
        self.posture = self.standing_posture.copy()
        self.hand_tracks: dict[str, HandTrack | None] = {side: None for side in self.sides}
        self.rejections: dict[str, tuple[float, str]] = {}
        self.com_blend: tuple[float, np.ndarray] | None = None
        """(start time [s], CoM reference blended from [m]) while the CoM reference's source changes."""
        self.last_com_reference: np.ndarray | None = None

    # --- rejections ------------------------------------------------------------------------------------------
    def reject(self, key: str, error: Exception, now: float) -> None:
        self.rejections[key] = (now, str(error))

    def rejection_warnings(self, now: float) -> list[str]:
        """One line per rejection of the last `REJECTION_REPORT_TIME`; older ones are forgotten."""
        warnings = []
        for key, (when, message) in list(self.rejections.items()):
            if now - when > REJECTION_REPORT_TIME or now < when:
                del self.rejections[key]
            else:
                warnings.append(f"{key} rejected, keeping the last good reference: {message}")
        return warnings

    # --- gait reference and CoM blend ------------------------------------------------------------------------
    def set_gait(self, samples: Sequence[GaitSample], now: float) -> None:
        """See `WholeBodyController.set_gait_reference`."""
        try:
            if not samples:
                if self.gait is not None:
                    self.start_com_blend(now)
                self.gait = None
                return
            trajectory = GaitTrajectory(samples)
            self._check_gait_reachable(trajectory)
        except ControlError as error:
            self.reject("gait/reference", error, now)
            raise
        if self.gait is None:  # from balancing in place to the planner's reference; a new plan replacing the
            self.start_com_blend(now)  # previous one is continuous (the planner's business): no blend then
        self.gait = trajectory

    def _check_gait_reachable(self, trajectory: GaitTrajectory) -> None:
        refs = self.params
        heights = (refs.min_com_height_ratio * self.standing_com_height,
                   refs.max_com_height_ratio * self.standing_com_height)
        for sample in trajectory.samples:
            stance = [s for s in sample.soles.values() if s.in_contact]
            ground = min(s.position[2] for s in sample.soles.values())
            height = sample.com_position[2] - ground
            if not heights[0] <= height <= heights[1]:
                raise ControlError(f"gait CoM height {height:.3f} m at t={sample.time:.3f} s is outside "
                                   f"[{heights[0]:.3f}, {heights[1]:.3f}] m")
            middle = stance[0].position  # the mean of the stance soles' positions, summed in order as np.mean does
            for sole in stance[1:]:
                middle = middle + sole.position
            middle = middle / len(stance)
            distance = float(np.hypot(*(sample.com_position[:2] - middle[:2])))
            if distance > refs.max_com_distance_ratio * self.standing_com_height:
                raise ControlError(f"gait CoM {distance:.3f} m from the stance soles at t={sample.time:.3f} s is "
                                   "unreachable")
            for side, sole in sample.soles.items():
                if side not in self.sides:
                    raise ControlError(f"gait reference names unknown side '{side}'")
                if not sole.in_contact:
                    offset = sole.position - middle
                    gap = math.sqrt(offset @ offset)
                    if gap > refs.max_sole_distance_ratio * self.standing_com_height:
                        raise ControlError(f"{side} swing sole reference {gap:.3f} m from the stance sole is "
                                           "unreachable")

    def start_com_blend(self, now: float, com: np.ndarray | None = None) -> None:
        """Blend the CoM reference from `com` (default: the last CoM reference) over `transition_time`."""
        if com is not None:
            self.last_com_reference = np.array(com, dtype=float)
        if self.last_com_reference is not None:
            self.com_blend = (now, self.last_com_reference.copy())

    def shaped_com(self, time: float, com: np.ndarray, com_velocity: np.ndarray, com_acceleration: np.ndarray,
                   heading: float, ground: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The CoM reference (position, velocity, acceleration [m, m/s, m/s^2]) of the gait or of balancing in
        place, blended from the previous source, plus the balance offset (in the heading frame; its feed-forward
        only while fresh), with its height kept within the allowed range above `ground` [m]."""
        if self.com_blend is not None:
            blend_start, blend_from = self.com_blend
            duration = self.params.transition_time
            s = 1.0 if duration <= 0.0 else min((time - blend_start) / duration, 1.0)
            if s >= 1.0:
                self.com_blend = None
            else:
                smooth = s * s * (3.0 - 2.0 * s)
                com = blend_from + smooth * (com - blend_from)
        if self.offset is not None:
            heading_rotation = rotation_z(heading)
            applied, ramp = self._follow_offset(time)
            com = com + heading_rotation @ applied
            age = time - self.offset.time
            if ramp is not None:  # on the way to a new offset: the ramp's own rate
                com_velocity = com_velocity + heading_rotation @ ramp
            elif -OFFSET_STAMP_LEAD <= age <= self.params.offset_timeout:  # fresh (a future stamp is not)
                com_velocity = com_velocity + heading_rotation @ self.offset.velocity
                com_acceleration = com_acceleration + heading_rotation @ self.offset.acceleration
        refs = self.params
        com[2] = min(max(com[2], ground + refs.min_com_height_ratio * self.standing_com_height),
                     ground + refs.max_com_height_ratio * self.standing_com_height)
        self.last_com_reference = com.copy()
        return com, com_velocity, com_acceleration

    def _follow_offset(self, time: float) -> tuple[np.ndarray, np.ndarray | None]:
        """The balance offset applied at `time`: the last one moved towards `offset` by at most
        `max_com_offset_speed` since; and the ramp's velocity while it is still on the way (None: arrived)."""
        target = self.offset.offset
        if self.applied_offset is None:
            last_time, last = time, np.zeros(3)
        else:
            last_time, last = self.applied_offset
        step = target - last
        distance = float(np.linalg.norm(step))
        reach = self.params.max_com_offset_speed * min(max(time - last_time, 0.0), MAX_OFFSET_STEP_TIME)
        if distance <= reach:
            self.applied_offset = (time, target.copy())
            return target, None
        direction = step / distance
        applied = last + reach * direction
        self.applied_offset = (time, applied)
        return applied, self.params.max_com_offset_speed * direction

    def landing_poses(self, stance: Sequence[str], now: float) -> dict[str, pin.SE3]:
        """side -> where the gait reference lands each sole that is not in `stance` (its pose at the first later
        sample in which it stands, else at the last sample); empty without a gait reference."""
        if self.gait is None or len(stance) == len(self.sides):
            return {}
        return {side: self.gait.landing_pose(side, now) for side in self.sides if side not in stance}

    # --- balance offset, posture -----------------------------------------------------------------------------
    def set_balance_offset(self, offset: BalanceOffset, now: float) -> None:
        """See `WholeBodyController.set_balance_offset`."""
        refs = self.params
        try:
            size = self.standing_com_height
            self.offset = checked_balance_offset(offset, refs.max_com_offset_ratio * size,
                                                 refs.max_com_lowering_ratio * size, refs.max_com_raising_ratio * size,
                                                 refs.max_com_offset_speed, refs.max_com_offset_acceleration)
        except ControlError as error:
            self.reject("balance/offset", error, now)
            raise

    def set_posture(self, positions: Mapping[str, float], now: float) -> None:
        """See `WholeBodyController.set_posture_reference`."""
        posture = self.standing_posture.copy()
        try:
            for name, value in positions.items():
                if name not in self._joint_index:
                    if name in self._hand_joints:
                        continue  # the hands follow the grasp controller
                    raise ControlError(f"posture reference names unknown joint '{name}'")
                if not math.isfinite(value):
                    raise ControlError(f"posture reference for '{name}' is not finite")
                posture[self._joint_index[name]] = value
        except ControlError as error:
            self.reject("posture/reference", error, now)
            raise
        self.posture = np.clip(posture, self._posture_lower, self._posture_upper)

    # --- hand targets ----------------------------------------------------------------------------------------
    def set_hand_target(self, side: str, target: HandTarget | None, now: float, gripper: pin.SE3,
                        waist: np.ndarray | None = None, reach: float = math.inf,
                        footprint: pin.SE3 | None = None) -> None:
        """See `WholeBodyController.set_hand_target`; `gripper` is the gripper frame's pose in odom (where a new
        track starts), `waist` the waist position [m] a target must lie within `reach` [m] of (None: not checked),
        `footprint` the base_footprint pose in odom (for targets relative to it)."""
        if side not in self.sides:
            raise ControlError(f"no hand on side '{side}'")
        key = f"{side}_hand/target"
        if target is None:
            self.hand_tracks[side] = None
            return
        try:
            target = checked_hand_target(target)
        except ControlError as error:
            self.hand_tracks[side] = None
            released = ControlError(f"{error}; hand task released")
            self.reject(key, released, now)
            raise released from error
        if waist is not None:
            in_odom = footprint.act(target.position) if target.in_base_footprint and footprint else target.position
            distance = float(np.linalg.norm(in_odom - waist))
            limit = reach - self.hand.reach_margin
            if distance > limit:
                error = ControlError(f"{side} hand target {distance:.3f} m from the waist is beyond the reach "
                                     f"{limit:.3f} m; keeping the previous target")
                self.reject(key, error, now)
                raise error
        track = self.hand_tracks[side]
        if track is None:
            self.hand_tracks[side] = HandTrack(target, gripper.translation.copy(), gripper.rotation.copy())
        else:
            track.target = target

    def release_hands(self) -> None:
        for side in self.sides:
            self.hand_tracks[side] = None

    def hand_reference(self, side: str, dt: float, now: float, footprint: pin.SE3 | None = None
                       ) -> HandTrack | None:
        """That hand's moving reference, advanced by `dt` [s] towards its target at the hand task's speeds; None
        without a target, or when the target has gone stale (the hand task is released). `footprint` is the
        base_footprint pose in odom now (targets relative to it are carried along)."""
        track = self.hand_tracks[side]
        if track is None:
            return None
        if now - track.target.time > self.hand.target_timeout:
            self.hand_tracks[side] = None
            self.reject(f"{side}_hand/target", ControlError("target is stale: hand task released"), now)
            return None
        hand = self.hand
        target = track.target
        if track.target_rotation is None or track.target_rotation[0] is not target:
            track.target_rotation = (target, quaternion_to_matrix(target.orientation))
        position, rotation = target.position, track.target_rotation[1]
        if target.in_base_footprint and footprint is not None:
            position, rotation = footprint.act(position), footprint.rotation @ rotation
        error = position - track.position
        distance = math.sqrt(error @ error)  # np.linalg.norm's operations
        step = min(distance, hand.max_speed * dt)
        linear = error / distance * step / dt if distance > 1e-9 else np.zeros(3)
        rotation_error = pin.log3(rotation @ track.orientation.T)
        angle = math.sqrt(rotation_error @ rotation_error)
        turn = min(angle, hand.max_angular_speed * dt)
        angular = rotation_error / angle * turn / dt if angle > 1e-9 else np.zeros(3)
        track.position = track.position + linear * dt
        track.orientation = pin.exp3(angular * dt) @ track.orientation
        track.velocity = np.concatenate((linear, angular))
        return track
