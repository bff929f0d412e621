"""Message <-> numpy conversions of the safety node (the only module that reads or builds its messages)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from legion_common.diagnostics import diagnostic_values
from legion_common.stamps import header_seconds, to_stamp
from legion_interfaces.msg import SafetyState
from legion_safety.zones import Assessment, TrackedPerson


def people_from_msg(msg: Any) -> tuple[float, list[TrackedPerson]]:
    """perception/people/tracked (TrackedPersonArray, frame odom) -> (stamp [s], people); people with a non-finite
    position are left out, a non-finite velocity is taken as zero."""
    people = []
    for person in msg.people:
        position = np.array([person.position.x, person.position.y], dtype=float)
        if not np.all(np.isfinite(position)):
            continue
        velocity = np.array([person.velocity.x, person.velocity.y], dtype=float)
        if not np.all(np.isfinite(velocity)):
            velocity = np.zeros(2)
        people.append(TrackedPerson(str(person.id), position, velocity))
    return header_seconds(msg), people


def odometry_from_msg(msg: Any) -> tuple[float, np.ndarray, float]:
    """nav_msgs/Odometry -> (stamp [s], base (x, y) [m] in odom, horizontal base speed [m/s]); a non-finite speed
    becomes nan (the monitor then takes the robot as still and the pose check decides)."""
    pose = msg.pose.pose.position
    twist = msg.twist.twist.linear
    speed = math.hypot(twist.x, twist.y)
    return header_seconds(msg), np.array([pose.x, pose.y], dtype=float), speed if math.isfinite(speed) else math.nan


def hardware_emergency_stop(msg: Any) -> bool | None:
    """hardware/status (DiagnosticArray) -> whether the hardware reports its e-stop latched (None: not reported)."""
    for status in msg.status:
        values = diagnostic_values_of(status)
        if "emergency_stop" in values:
            return values["emergency_stop"].strip().lower() == "true"
    return None


def diagnostic_values_of(status: Any) -> dict[str, str]:
    """One DiagnosticStatus's key -> value."""
    return {kv.key: kv.value for kv in status.values}


def state_msg(assessment: Assessment, now: float, frame_id: str, emergency_stop: bool) -> SafetyState:
    """The monitor's assessment (or the latched e-stop) -> legion_interfaces/SafetyState."""
    msg = SafetyState()
    msg.header.stamp = to_stamp(now)
    msg.header.frame_id = frame_id
    msg.zone = int(assessment.zone)
    msg.reason = assessment.reason
    msg.nearest_person_distance = float(assessment.nearest_distance)
    msg.protective_distance = float(assessment.protective_distance)
    msg.warning_distance = float(assessment.warning_distance)
    msg.speed_scale = float(assessment.speed_scale)
    msg.emergency_stop = bool(emergency_stop)
    return msg


__all__ = ["diagnostic_values", "hardware_emergency_stop", "odometry_from_msg", "people_from_msg", "state_msg"]
