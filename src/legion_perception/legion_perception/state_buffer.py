"""The robot's state at a past instant, interpolated from short time-ordered buffers of base poses and joint positions.

A camera frame is stamped with its capture time and arrives later (the simulated head camera publishes it 50 ms
after the capture); the state streams (`odom`, `joint_states`, ~50 Hz decimated in the stack) arrive on their own.
`StateBuffer.at(stamp)` gives the state at the frame's stamp: base position and joint angles linear between the two
samples around the stamp, base orientation by slerp. Appending is cheap (a stamp compare and a list append: the
samples are kept as the caller's float sequences and only the two used by a lookup are converted), so that a node
can take 500 Hz streams.

Outcomes of `at(stamp)` (None plus `last_miss`, each counted in `misses`):
    `Miss.NO_STATE`: a stream has no sample yet;
    `Miss.NOT_YET`: the stamp is newer than a stream's newest sample by more than `tolerance` - the state has not
        arrived yet (a caller waits for it, or gives up);
    `Miss.TOO_OLD`: the stamp is older than a stream's oldest kept sample (the buffer holds `length` seconds);
    `Miss.GAP`: the two samples around the stamp are more than `max_gap` apart (the stream stalled there).
Within `tolerance` past the newest sample, the newest sample is held (not extrapolated).

Appending: a sample newer than the newest is appended; an older one (out of order) is inserted in its place; one with
the stamp of a kept sample replaces it (`duplicates`); one older than the newest by more than `reset_jump` means the
(simulated) time went back - `sim/reset` - and the stream is cleared before it is kept (`resets`). Samples older than
the newest by more than `length` are forgotten.

No rclpy: the node converts the messages' fields (plain floats) and passes them in.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from legion_common.transforms import pose_to_matrix
from legion_perception.errors import InputError


class Miss(StrEnum):
    """Why `StateBuffer.at` found no state."""

    NO_STATE = "no_state"
    NOT_YET = "not_yet"
    TOO_OLD = "too_old"
    GAP = "gap"


@dataclass(frozen=True)
class RobotState:
    """The robot's state at `stamp`, interpolated."""

    stamp: float
    """[s] the instant asked for."""
    base_position: np.ndarray
    """Base origin in `odom` [m].  # (3,)"""
    base_orientation: np.ndarray
    """Base orientation in `odom`, unit quaternion x, y, z, w.  # (4,)"""
    joint_positions: dict[str, float]
    """Joint name -> position [rad] (or [m] for a prismatic joint)."""

    @property
    def base_to_odom(self) -> np.ndarray:
        """Pose of the base frame in `odom`.  # (4, 4)"""
        return pose_to_matrix(self.base_position, self.base_orientation)


def slerp(q0: np.ndarray, q1: np.ndarray, fraction: float) -> np.ndarray:
    """Spherical linear interpolation of unit quaternions (x, y, z, w) along the shorter arc.  # (4,)

    `fraction` 0 gives q0, 1 gives q1; the rotation angle grows linearly with it."""
    dot = float(np.dot(q0, q1))
    if dot < 0.0:  # q and -q are the same rotation: take the shorter way
        q1, dot = -q1, -dot
    if dot > 1.0 - 1e-9:  # under 45 urad apart: linear and normalised (the slerp formula loses precision)
        q = q0 + fraction * (q1 - q0)
        return q / np.linalg.norm(q)
    angle = math.acos(min(dot, 1.0))
    sin_angle = math.sin(angle)
    return (math.sin((1.0 - fraction) * angle) * q0 + math.sin(fraction * angle) * q1) / sin_angle


class _Series:
    """Time-ordered samples of one stream: stamps [s] and opaque values."""

    def __init__(self, length: float, reset_jump: float):
        self.length = length
        self.reset_jump = reset_jump
        self.stamps: list[float] = []
        self.values: list[object] = []
        self.out_of_order = 0
        self.duplicates = 0
        self.resets = 0

    def add(self, stamp: float, value: object) -> None:
        stamps = self.stamps
        if not stamps or stamp > stamps[-1]:
            stamps.append(stamp)
            self.values.append(value)
        elif stamp < stamps[-1] - self.reset_jump:  # time went back (simulation reset): a new time line
            self.resets += 1
            self.clear()
            stamps.append(stamp)
            self.values.append(value)
            return
        else:
            index = bisect.bisect_left(stamps, stamp)
            if stamps[index] == stamp:
                self.duplicates += 1
                self.values[index] = value
            else:
                self.out_of_order += 1
                stamps.insert(index, stamp)
                self.values.insert(index, value)
        oldest_kept = bisect.bisect_left(stamps, stamps[-1] - self.length)
        if oldest_kept > 0:
            del stamps[:oldest_kept]
            del self.values[:oldest_kept]

    def clear(self) -> None:
        self.stamps.clear()
        self.values.clear()

    def drop_newer_than(self, stamp: float) -> None:
        index = bisect.bisect_right(self.stamps, stamp)
        del self.stamps[index:]
        del self.values[index:]

    @property
    def newest(self) -> float | None:
        return self.stamps[-1] if self.stamps else None

    def around(self, stamp: float, tolerance: float, max_gap: float) -> tuple[Miss | None, int, int, float]:
        """(miss, i0, i1, fraction): the state at `stamp` is values[i0] + fraction (values[i1] - values[i0])."""
        stamps = self.stamps
        if not stamps:
            return Miss.NO_STATE, 0, 0, 0.0
        if stamp > stamps[-1]:
            if stamp - stamps[-1] > tolerance:
                return Miss.NOT_YET, 0, 0, 0.0
            return None, len(stamps) - 1, len(stamps) - 1, 0.0
        if stamp < stamps[0]:
            return Miss.TOO_OLD, 0, 0, 0.0
        i1 = bisect.bisect_left(stamps, stamp)
        if stamps[i1] == stamp:
            return None, i1, i1, 0.0
        i0 = i1 - 1
        span = stamps[i1] - stamps[i0]
        if span > max_gap:
            return Miss.GAP, 0, 0, 0.0
        return None, i0, i1, (stamp - stamps[i0]) / span


class StateBuffer:
    """Base poses and joint positions of the last `length` seconds; `at(stamp)` interpolates them.

    Args:
        length: [s] history kept, counted back from each stream's newest sample.
        tolerance: [s] a stamp at most this much newer than a stream's newest sample holds that sample; beyond, the
            state has not arrived yet (`Miss.NOT_YET`).
        max_gap: [s] largest time between the two samples interpolated across.
        reset_jump: [s] a sample this much older than its stream's newest means time went back (a new time line).
    """

    def __init__(self, length: float = 2.0, tolerance: float = 0.001, max_gap: float = 0.1, reset_jump: float = 1.0):
        if not (length > 0.0 and tolerance >= 0.0 and max_gap > 0.0 and reset_jump > 0.0):
            raise InputError(f"state buffer: length {length} s, max_gap {max_gap} s and reset_jump {reset_jump} s "
                             f"must be positive, tolerance {tolerance} s not negative")
        self.tolerance = tolerance
        self.max_gap = max_gap
        self._base = _Series(length, reset_jump)
        self._joints = _Series(length, reset_jump)
        self.misses: Counter[Miss] = Counter()
        self.last_miss: Miss | None = None
        """Why the last `at` returned None (None after a success)."""

    # ------------------------------------------------------------------------------------------------ input

    def add_base(self, stamp: float, position: Sequence[float], orientation_xyzw: Sequence[float]) -> None:
        """Keep a base pose in `odom` (position [m], quaternion x, y, z, w, normalised on use).

        Raises:
            InputError: a non-finite stamp or value, or a zero quaternion (the sample is not kept).
        """
        values = (*position, *orientation_xyzw)
        if len(values) != 7 or not all(math.isfinite(v) for v in values) or not math.isfinite(stamp):
            raise InputError(f"base pose at {stamp} s is not 3 + 4 finite numbers")
        if not any(orientation_xyzw):
            raise InputError(f"base pose at {stamp} s has a zero quaternion")
        self._base.add(stamp, values)

    def add_joints(self, stamp: float, names: Sequence[str], positions: Sequence[float]) -> None:
        """Keep joint positions [rad] by name (the sequences are kept as given: pass ones that are not reused).

        Raises:
            InputError: names and positions differ in length, or a non-finite stamp (not kept).
        """
        if len(names) != len(positions):
            raise InputError(f"joint_states has {len(names)} names but {len(positions)} positions")
        if not math.isfinite(stamp):
            raise InputError(f"joint_states stamp {stamp} s is not finite")
        self._joints.add(stamp, (names, positions))

    def clear(self) -> None:
        """Forget every sample (a new time line)."""
        self._base.clear()
        self._joints.clear()

    def drop_newer_than(self, stamp: float) -> None:
        """Forget the samples stamped after `stamp` (those of an old time line after a simulation reset)."""
        self._base.drop_newer_than(stamp)
        self._joints.drop_newer_than(stamp)

    # ------------------------------------------------------------------------------------------------ lookup

    @property
    def newest(self) -> float | None:
        """[s] the newest instant both streams cover (None before both have a sample)."""
        if self._base.newest is None or self._joints.newest is None:
            return None
        return min(self._base.newest, self._joints.newest)

    @property
    def counts(self) -> dict[str, int]:
        """Samples out of order, duplicated and time resets seen, per stream; lookups missed, per reason."""
        out = {}
        for name, series in (("odom", self._base), ("joints", self._joints)):
            out[f"{name}.out_of_order"] = series.out_of_order
            out[f"{name}.duplicates"] = series.duplicates
            out[f"{name}.resets"] = series.resets
        out.update({f"miss.{miss.value}": n for miss, n in self.misses.items()})
        return out

    def at(self, stamp: float) -> RobotState | None:
        """The state at `stamp` [s], or None (reason in `last_miss`, counted in `misses`).

        Raises:
            InputError: a joint sample's positions are not finite (reported when used).
        """
        base_miss, b0, b1, base_fraction = self._base.around(stamp, self.tolerance, self.max_gap)
        joint_miss, j0, j1, joint_fraction = self._joints.around(stamp, self.tolerance, self.max_gap)
        miss = base_miss or joint_miss
        self.last_miss = miss
        if miss is not None:
            self.misses[miss] += 1
            return None
        p0 = np.asarray(self._base.values[b0], dtype=float)
        p1 = np.asarray(self._base.values[b1], dtype=float)
        position = p0[:3] + base_fraction * (p1[:3] - p0[:3])
        q0, q1 = p0[3:] / np.linalg.norm(p0[3:]), p1[3:] / np.linalg.norm(p1[3:])
        orientation = slerp(q0, q1, base_fraction)
        return RobotState(stamp, position, orientation, self._joint_positions(j0, j1, joint_fraction))

    def _joint_positions(self, i0: int, i1: int, fraction: float) -> dict[str, float]:
        names0, positions0 = self._joints.values[i0]
        names1, positions1 = self._joints.values[i1]
        a = np.asarray(positions0, dtype=float)
        if i0 == i1 or fraction == 0.0:
            joined = dict(zip(names0, a.tolist(), strict=True))
        elif list(names0) == list(names1):
            b = np.asarray(positions1, dtype=float)
            joined = dict(zip(names0, (a + fraction * (b - a)).tolist(), strict=True))
        else:  # the two messages name different joints: the common ones interpolated, the others from the nearer
            first = dict(zip(names0, (float(p) for p in positions0), strict=True))
            second = dict(zip(names1, (float(p) for p in positions1), strict=True))
            joined = {**second, **first} if fraction < 0.5 else {**first, **second}
            for name in first.keys() & second.keys():
                joined[name] = first[name] + fraction * (second[name] - first[name])
        if not all(math.isfinite(p) for p in joined.values()):
            raise InputError("joint_states carries a non-finite position")
        return joined
