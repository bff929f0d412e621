"""Protective separation distance of speed and separation monitoring (ISO/TS 15066, now in ISO 10218-2:2025).

    S_p = S_h + S_r + S_s + C + Z_d + Z_r

with
    S_h = v_h (T_r + T_s)    the distance the person covers while the robot reacts and stops,
    S_r = v_r T_r            the distance the robot covers before it reacts,
    S_s                      the robot's stopping distance from speed v_r,
    C                        the intrusion distance (how far a body part reaches ahead of where the person is sensed),
    Z_d, Z_r                 the person-position and robot-position uncertainties.

The person's speed v_h follows ISO 13855: 2.0 m/s for a separation distance up to 0.5 m, else 1.6 m/s (the distance
is first computed with 2.0 m/s; if that gives more than 0.5 m it is recomputed with 1.6 m/s and kept no smaller than
0.5 m). A tracked person who approaches faster than the standard's speed is taken at the speed measured.

The robot's speed v_r is its measured horizontal base speed; its stopping distance S_s is the one measured from
`reference_speed` (the robot file's `safety:` block, docs/safety.md), scaled linearly with v_r / reference_speed
(conservative below the reference: a constant-deceleration stop would scale with the square). Its stopping time T_s
is the measured one at every speed, standing included: a walking robot must finish its step and close its feet
whatever its speed, and a standing robot may start walking at any moment the zone allows (taking T_s as 0 for a
still robot lets it start, which raises S_p by v_h T_s at once and stops it again: a stop-and-go cycle).
Distances are horizontal [m] between the person's sensed position and the robot's base, less the robot's
`body_radius` (the distance from the base to the farthest point of its body and arms in a standing posture).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from legion_common.parameters import ParameterError, param, require
from legion_safety.errors import SafetyError

ISO13855_FAST_SPEED = 2.0
"""[m/s] ISO 13855 approach speed for separation distances up to ISO13855_SWITCH_DISTANCE."""
ISO13855_SLOW_SPEED = 1.6
"""[m/s] ISO 13855 approach speed for larger separation distances."""
ISO13855_SWITCH_DISTANCE = 0.5
"""[m] the distance at which ISO 13855 switches from 2.0 to 1.6 m/s."""


@dataclass(frozen=True)
class SeparationParameters:
    """The stack's terms of S_p (block `separation` of the safety node in config/stack.yaml)."""

    reaction_time: float = param(0.45, "T_r: from a person being where they are to the gait planner acting on it: "
                                       "camera frame, face detection, safety and gait ticks (docs/safety.md).",
                                 unit="s", low=0.0, high=10.0)
    intrusion_distance: float = param(0.5, "C: how far a person's hands reach ahead of the sensed face centre.",
                                      unit="m", low=0.0, high=5.0)
    person_uncertainty: float = param(0.2, "Z_d: error of the sensed person position (depth at range, face "
                                           "centre vs body).", unit="m", low=0.0, high=5.0)
    robot_uncertainty: float = param(0.05, "Z_r: error of the robot's own position relative to the camera's view "
                                           "(leg odometry drift between frames).", unit="m", low=0.0, high=5.0)
    use_standard_speed: bool = param(True, "Take the person at least at ISO 13855's approach speed (2.0 / 1.6 m/s), "
                                           "the rule where the approach speed is not monitored; false: the tracked "
                                           "approach speed (config/stack.yaml, docs/safety.md).")


@dataclass(frozen=True)
class RobotSafety:
    """The robot's own stopping figures (the robot file's `safety:` block)."""

    stopping_time: float
    """T_s [s]: from the stop decision at reference_speed to zero base speed."""
    stopping_distance: float
    """[m] base travel during that stop."""
    reference_speed: float
    """[m/s] walking speed at which the stop was measured."""
    body_radius: float
    """[m] from the base to the farthest point of the standing robot (arms included), horizontally."""

    @staticmethod
    def from_mapping(values: dict[str, float], source: str = "safety") -> RobotSafety:
        """From the robot file's `safety:` block; raises SafetyError naming a missing or out-of-range key."""
        keys = ("stopping_time", "stopping_distance", "reference_speed", "body_radius")
        missing = [k for k in keys if k not in values]
        if missing:
            raise SafetyError(f"{source}: missing {', '.join(missing)} (docs/safety.md)")
        unknown = sorted(set(values) - set(keys))
        if unknown:
            raise SafetyError(f"{source}: unknown key(s) {', '.join(unknown)}; expected {', '.join(keys)}")
        figures = {k: float(values[k]) for k in keys}
        for key, value in figures.items():
            if not math.isfinite(value) or value < 0.0:
                raise SafetyError(f"{source}.{key}: must be a finite number >= 0, got {value}")
        if figures["reference_speed"] <= 0.0:
            raise SafetyError(f"{source}.reference_speed: must be > 0")
        return RobotSafety(**figures)


@dataclass(frozen=True)
class SeparationTerms:
    """The terms of one S_p [m] (and the speeds used [m/s])."""

    person_speed: float
    robot_speed: float
    s_h: float
    s_r: float
    s_s: float
    c: float
    z_d: float
    z_r: float

    @property
    def protective_distance(self) -> float:
        """S_p [m]."""
        return self.s_h + self.s_r + self.s_s + self.c + self.z_d + self.z_r


def robot_stopping_distance(robot: RobotSafety, robot_speed: float) -> float:
    """S_s [m] from base speed `robot_speed` [m/s] (linear in the speed, see the module docstring)."""
    return robot.stopping_distance * abs(robot_speed) / robot.reference_speed


def protective_separation(params: SeparationParameters, robot: RobotSafety, robot_speed: float,
                          person_approach_speed: float = 0.0) -> SeparationTerms:
    """S_p and its terms for a robot at `robot_speed` [m/s] and a person approaching at `person_approach_speed`
    [m/s] (its measured speed towards the robot; negative: moving away).

    Raises:
        SafetyError: a non-finite speed.
    """
    if not (math.isfinite(robot_speed) and math.isfinite(person_approach_speed)):
        raise SafetyError(f"non-finite speed (robot {robot_speed}, person {person_approach_speed})")
    robot_speed = abs(robot_speed)
    t = params.reaction_time + robot.stopping_time
    s_r = robot_speed * params.reaction_time
    s_s = robot_stopping_distance(robot, robot_speed)
    rest = s_r + s_s + params.intrusion_distance + params.person_uncertainty + params.robot_uncertainty
    measured = max(person_approach_speed, 0.0)
    if params.use_standard_speed:
        speed = max(ISO13855_FAST_SPEED, measured)
        if speed * t + rest > ISO13855_SWITCH_DISTANCE:
            speed = max(ISO13855_SLOW_SPEED, measured)
            if speed * t + rest < ISO13855_SWITCH_DISTANCE:  # ISO 13855: no smaller than 0.5 m with 1.6 m/s
                speed = (ISO13855_SWITCH_DISTANCE - rest) / t if t > 0.0 else speed
    else:
        speed = measured
    return SeparationTerms(speed, robot_speed, speed * t, s_r, s_s, params.intrusion_distance,
                           params.person_uncertainty, params.robot_uncertainty)


__all__ = ["ParameterError", "RobotSafety", "SeparationParameters", "SeparationTerms", "protective_separation",
           "require", "robot_stopping_distance"]
