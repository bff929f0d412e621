"""Message <-> numpy conversions of the safety node (the only module that reads or builds its messages)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from geometry_msgs.msg import Point
from visualization_msgs.msg import Marker, MarkerArray

from legion_common.diagnostics import diagnostic_values
from legion_common.markers import line_strip, marker, marker_array, text_marker
from legion_common.messages import xyzw
from legion_common.stamps import header_seconds, to_stamp
from legion_common.transforms import yaw_from_quaternion
from legion_interfaces.msg import SafetyState
from legion_safety.zones import Assessment, TrackedPerson, Zone


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


def other_robot_from_odometry(msg: Any, name: str) -> TrackedPerson | None:
    """Another robot's nav_msgs/Odometry -> it as a tracked person at its base, with its horizontal velocity turned
    from its base frame into odom; None for a non-finite pose (a non-finite velocity is taken as zero)."""
    pose = msg.pose.pose
    position = np.array([pose.position.x, pose.position.y], dtype=float)
    yaw = yaw_from_quaternion(xyzw(pose.orientation))
    if not (np.all(np.isfinite(position)) and math.isfinite(yaw)):
        return None
    twist = msg.twist.twist.linear
    local = np.array([twist.x, twist.y], dtype=float)
    c, s = math.cos(yaw), math.sin(yaw)
    velocity = np.array([c * local[0] - s * local[1], s * local[0] + c * local[1]])
    if not np.all(np.isfinite(velocity)):
        velocity = np.zeros(2)
    return TrackedPerson(name, position, velocity)


def nearest_points(robots: list[TrackedPerson], base_xy: Any, radius: float) -> list[TrackedPerson]:
    """Each robot moved from its base towards `base_xy` (this robot's base) by `radius`, the nearest point of its
    body (never past the base); unchanged without a base."""
    if base_xy is None or not np.all(np.isfinite(base_xy)):
        return list(robots)
    out = []
    for robot in robots:
        offset = np.asarray(base_xy, dtype=float)[:2] - robot.position
        distance = float(np.hypot(*offset))
        step = min(radius, distance)
        point = robot.position + (offset / distance * step if distance > 1e-9 else np.zeros(2))
        out.append(TrackedPerson(robot.id, point, robot.velocity))
    return out


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


ZONE_COLOURS = {Zone.CLEAR: (0.2, 0.8, 0.2), Zone.WARNING: (1.0, 0.65, 0.0), Zone.PROTECTIVE_STOP: (0.9, 0.1, 0.1),
                Zone.EMERGENCY_STOP: (0.6, 0.0, 0.6)}
"""Colour of each zone in the markers (r, g, b)."""
PERSON_DRAWN_HEIGHT = 1.7
"""[m] height of the cylinder drawn for a person (drawing only: the tracks have no height)."""
PERSON_DRAWN_DIAMETER = 0.5
"""[m] its diameter."""
RING_SEGMENTS = 64
"""Segments of a distance ring."""


def _ring(namespace: str, ident: int, stamp: Any, frame_id: str, colour: tuple[float, ...], centre: np.ndarray,
          radius: float) -> Marker:
    angles = np.linspace(0.0, 2.0 * math.pi, RING_SEGMENTS + 1)
    points = np.column_stack([centre[0] + radius * np.cos(angles), centre[1] + radius * np.sin(angles),
                              np.full(angles.shape, 0.02)])
    return line_strip(namespace, ident, stamp, frame_id, colour, points, 0.03)


def markers_msg(assessment: Assessment | None, base_xy: np.ndarray | None, people: list[TrackedPerson], stamp: Any,
                frame_id: str) -> MarkerArray:
    """What the safety node decides on, as markers in `frame_id` (`safety/markers`, docs/interfaces.md): namespace
    `zones` (around the base, the protective distance S_p + body radius of the deciding person as a ring in the
    protective-stop colour, the warning distance in the warning colour; none while nobody is near), `people` (a
    cylinder per tracked person, in the colour of the zone it causes when it is the deciding person, else the clear
    colour), `velocity` (an arrow per moving person: where it will be in 1 s), `labels` (the zone and the nearest
    distance above the base)."""
    array = marker_array(frame_id)
    zone = assessment.zone if assessment is not None else Zone.PROTECTIVE_STOP
    if base_xy is not None and np.all(np.isfinite(base_xy)) and assessment is not None:
        for ident, (distance, kind) in enumerate(((assessment.protective_distance, Zone.PROTECTIVE_STOP),
                                                  (assessment.warning_distance, Zone.WARNING))):
            if math.isfinite(distance) and distance > 0.0:
                array.markers.append(_ring("zones", ident, stamp, frame_id, ZONE_COLOURS[kind], base_xy, distance))
        nearest = ("nobody near" if not math.isfinite(assessment.nearest_distance)
                   else f"nearest person {assessment.nearest_distance:.2f} m")
        array.markers.append(text_marker("labels", 0, stamp, frame_id, f"{zone.name} ({nearest})",
                                         (float(base_xy[0]), float(base_xy[1]), 2.0), ZONE_COLOURS[zone]))
    deciding = assessment.person_id if assessment is not None else ""
    for index, person in enumerate(people):
        colour = ZONE_COLOURS[zone] if person.id == deciding and zone != Zone.CLEAR else ZONE_COLOURS[Zone.CLEAR]
        x, y = (float(v) for v in person.position[:2])
        array.markers.append(marker(Marker.CYLINDER, "people", index, stamp, frame_id, (*colour, 0.6),
                                    (x, y, 0.5 * PERSON_DRAWN_HEIGHT), scale=(PERSON_DRAWN_DIAMETER,
                                    PERSON_DRAWN_DIAMETER, PERSON_DRAWN_HEIGHT)))
        velocity = np.asarray(person.velocity, dtype=float)[:2]
        if np.all(np.isfinite(velocity)) and float(np.hypot(*velocity)) > 0.05:
            arrow = marker(Marker.ARROW, "velocity", index, stamp, frame_id, (*colour, 1.0), scale=(0.04, 0.08, 0.1))
            arrow.points = [Point(x=x, y=y, z=1.0), Point(x=x + float(velocity[0]), y=y + float(velocity[1]), z=1.0)]
            array.markers.append(arrow)
    return array


__all__ = ["diagnostic_values", "hardware_emergency_stop", "markers_msg", "odometry_from_msg", "people_from_msg",
           "state_msg"]
