"""Zones of speed and separation monitoring with hysteresis, and the emergency-stop latch. No ROS, no clock.

For each tracked person the margin is m = d - S_p, with d the horizontal distance from the robot's base to the
person less the robot's `body_radius` and S_p the protective separation distance (`separation`) for the robot's
measured speed and the person's speed towards it. The person with the smallest margin decides:

    m < 0                          PROTECTIVE_STOP  (stop category 2: a controlled stop, then a standing hold)
    0 <= m < warning_margin        WARNING          speed scale m / warning_margin (0 at S_p, 1 at the warning
                                                    distance S_p + warning_margin)
    m >= warning_margin            CLEAR            speed scale 1

Hysteresis: a protective stop is left only once every person has stayed farther than S_p + release_margin for
`resume_time` (then the zone follows the table again: motion resumes by itself). The stop is also entered when an
input is stale (people or odometry older than `input_timeout`, or none yet): without them the monitor cannot show the
area is clear (`people_required` false, for camera-less simulation only, takes missing people reports as nobody).
An emergency stop latched by `EmergencyStopLatch` overrides everything with EMERGENCY_STOP (scale 0)
until it is reset with a name and a reason.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field

import numpy as np

from legion_common.parameters import param, require
from legion_safety.separation import RobotSafety, SeparationParameters, protective_separation


class Zone(enum.IntEnum):
    """As legion_interfaces/msg/SafetyState's constants."""

    CLEAR = 0
    WARNING = 1
    PROTECTIVE_STOP = 2
    EMERGENCY_STOP = 3


@dataclass(frozen=True)
class ZoneParameters:
    """Zones and their hysteresis (block `zones` of the safety node in config/stack.yaml)."""

    warning_margin: float = param(1.0, "Slowing starts this far beyond S_p (the warning distance is S_p + this).",
                                  unit="m", low=0.05, high=20.0)
    release_margin: float = param(0.3, "A protective stop is left only with every person farther than S_p + this.",
                                  unit="m", low=0.0, high=5.0)
    resume_time: float = param(2.0, "Time the area must stay clear of S_p + release_margin before motion resumes.",
                               unit="s", low=0.0, high=600.0)
    input_timeout: float = param(1.0, "People or odometry older than this are stale: protective stop.", unit="s",
                                 low=0.05, high=60.0)
    people_required: bool = param(True, "Stale or missing people reports stop the robot. False only for simulation "
                                        "runs without a camera: nobody is then assumed present (not safe).")

    def validated(self) -> ZoneParameters:
        require(self.release_margin < self.warning_margin, "zones.release_margin must be below zones.warning_margin")
        return self


@dataclass(frozen=True)
class TrackedPerson:
    """A person as perception tracks them (horizontal plane of `odom`)."""

    id: str
    position: np.ndarray
    """(x, y) [m] in odom.  # (2,)"""
    velocity: np.ndarray
    """(vx, vy) [m/s] in odom.  # (2,)"""


@dataclass(frozen=True)
class Assessment:
    """The monitor's answer at one tick."""

    zone: Zone
    reason: str
    speed_scale: float
    """0..1, factor on walking and arm speeds."""
    nearest_distance: float = math.inf
    """[m] base to the nearest person, horizontally (inf: nobody)."""
    protective_distance: float = math.nan
    """[m] S_p + body_radius for the deciding person, as a distance from the base (nan: nobody)."""
    warning_distance: float = math.nan
    """[m] the protective distance + warning_margin (nan: nobody)."""
    person_id: str = ""
    """The deciding person ("" : none)."""


@dataclass
class SeparationMonitor:
    """Zone and speed scale from the tracked people and the robot's state (see the module docstring)."""

    zones: ZoneParameters
    separation: SeparationParameters
    robot: RobotSafety
    stopped: bool = True
    """In a protective stop (it starts there: nothing is known yet)."""
    clear_since: float | None = None
    """[s] since when the area has been clear of S_p + release_margin while stopped."""
    last: Assessment | None = field(default=None)

    def update(self, now: float, base_xy: np.ndarray | None, robot_speed: float, people: list[TrackedPerson],
               people_stamp: float, odom_stamp: float, others: list[TrackedPerson] | tuple = ()) -> Assessment:
        """The zone at `now` [s]: `base_xy` (x, y) [m] in odom and `robot_speed` [m/s] from odometry stamped
        `odom_stamp` [s]; `people` from the report stamped `people_stamp` [s]; `others`: the other robots of a shared
        cell, each monitored like a person wherever perception's people input stands (their position the nearest
        point of their body)."""
        z = self.zones
        stale = []
        if base_xy is None or not now - odom_stamp <= z.input_timeout or not np.all(np.isfinite(base_xy)):
            stale.append("odometry")
        if not now - people_stamp <= z.input_timeout:
            if z.people_required:
                stale.append("people")
            else:
                people = []
        if stale:
            self.stopped, self.clear_since = True, None
            self.last = Assessment(Zone.PROTECTIVE_STOP, f"{' and '.join(stale)} stale or missing", 0.0)
            return self.last
        if not math.isfinite(robot_speed):
            robot_speed = 0.0
        people = [*people, *others]
        worst: tuple[float, float, float, str] | None = None  # margin, distance, S_p from the base, id
        for person in people:
            offset = np.asarray(person.position, dtype=float)[:2] - base_xy[:2]
            centre_distance = float(np.hypot(*offset))
            if not math.isfinite(centre_distance):
                continue
            direction = offset / centre_distance if centre_distance > 1e-9 else np.zeros(2)
            velocity = np.asarray(person.velocity, dtype=float)[:2]
            approach = float(-direction @ velocity) if np.all(np.isfinite(velocity)) else 0.0
            terms = protective_separation(self.separation, self.robot, robot_speed, approach)
            s_p = terms.protective_distance + self.robot.body_radius
            margin = centre_distance - s_p
            if worst is None or margin < worst[0]:
                worst = (margin, centre_distance, s_p, person.id)
        if worst is None:
            margin, distance, s_p, who = math.inf, math.inf, math.nan, ""
        else:
            margin, distance, s_p, who = worst
        warning = s_p + z.warning_margin
        if margin < 0.0:
            self.stopped, self.clear_since = True, None
            reason = f"person {who} at {distance:.2f} m, inside S_p {s_p:.2f} m"
        elif self.stopped:
            if margin > z.release_margin:
                self.clear_since = now if self.clear_since is None else self.clear_since
                if now - self.clear_since >= z.resume_time:
                    self.stopped, self.clear_since = False, None
            else:
                self.clear_since = None
            reason = (f"resuming in {z.resume_time - (now - self.clear_since):.1f} s" if self.clear_since is not None
                      else f"person {who} at {distance:.2f} m, within S_p {s_p:.2f} m + release margin"
                      if who else "holding")
        if self.stopped:
            self.last = Assessment(Zone.PROTECTIVE_STOP, reason, 0.0, distance, s_p, warning, who)
        elif margin < z.warning_margin:
            scale = float(np.clip(margin / z.warning_margin, 0.0, 1.0))
            self.last = Assessment(Zone.WARNING, f"person {who} at {distance:.2f} m, S_p {s_p:.2f} m", scale,
                                   distance, s_p, warning, who)
        else:
            self.last = Assessment(Zone.CLEAR, "clear" if not who else f"nearest person {who} at {distance:.2f} m",
                                   1.0, distance, s_p, warning, who)
        return self.last


@dataclass(frozen=True)
class ControlledStopParameters:
    """Stop category 1 (block `controlled_stop` of the safety node): a controlled stop, then the hardware's hold."""

    still_speed: float = param(0.05, "The base counts as stopped below this speed.", unit="m/s", low=0.0, high=1.0)
    still_time: float = param(0.3, "... for this long; then the hardware e-stop is asserted.", unit="s", low=0.0,
                              high=10.0)
    timeout: float = param(3.0, "Longest wait for the controlled stop before the hardware e-stop is asserted "
                                "anyway.", unit="s", low=0.0, high=30.0)


@dataclass
class ControlledStop:
    """Stop category 1: when started, the speed scale is 0 (the gait planner brings a walking robot to double support
    and stands); once the base has been slower than `still_speed` for `still_time`, or after `timeout`, `update`
    says to assert the hardware's e-stop (the hold)."""

    params: ControlledStopParameters
    started: float | None = None
    """[s] when the stop began (None: none running)."""
    still_since: float | None = None

    def start(self, now: float) -> None:
        if self.started is None:
            self.started, self.still_since = now, None

    def update(self, now: float, robot_speed: float) -> str:
        """"" while nothing is due; else why the hold is due now ("stopped" or "timeout"); the stop then ends."""
        if self.started is None:
            return ""
        p = self.params
        if math.isfinite(robot_speed) and robot_speed < p.still_speed:
            self.still_since = now if self.still_since is None else self.still_since
        else:
            self.still_since = None
        why = ("stopped" if self.still_since is not None and now - self.still_since >= p.still_time
               else "timeout" if now - self.started >= p.timeout else "")
        if why:
            self.started = self.still_since = None
        return why


@dataclass
class EmergencyStopLatch:
    """Latches every emergency stop until a reset that names who asks and why.

    `trigger(source)` latches (any source: the `emergency_stop` topic, the hardware's status); `asserted` is whether
    the newest `emergency_stop` message still says true: a reset is refused while it does.
    """

    latched: bool = False
    source: str = ""
    """What latched the stop."""
    since: float = math.nan
    """[s] when it latched."""
    asserted: bool = False
    log: list[str] = field(default_factory=list)
    """Every latch and reset, newest last (each line says when, who and why)."""

    def trigger(self, now: float, source: str) -> bool:
        """Latch (if not latched yet); True when this call latched it."""
        if self.latched:
            return False
        self.latched, self.source, self.since = True, source, now
        self.log.append(f"{now:.3f} s: emergency stop latched by {source}")
        return True

    def reset(self, now: float, requested_by: str, reason: str) -> tuple[bool, str]:
        """Clear the latch; refused (False, why) without a name and a reason, or while the source asserts it."""
        requested_by, reason = requested_by.strip(), reason.strip()
        if not requested_by or not reason:
            return False, "refused: a reset needs requested_by and reason"
        if self.asserted:
            return False, "refused: emergency_stop is still asserted (true) by its source"
        if not self.latched:
            line = f"{now:.3f} s: reset by {requested_by} ({reason}): nothing was latched"
            self.log.append(line)
            return True, line
        line = (f"{now:.3f} s: emergency stop (latched by {self.source} at {self.since:.3f} s) reset by "
                f"{requested_by}: {reason}")
        self.latched, self.source, self.since = False, "", math.nan
        self.log.append(line)
        return True, line
