"""Message <-> core conversions of the gait planner's ROS interface (the only place that does them).

Every function works on message objects alone (no node, no `rclpy.init`), so tests build messages and call them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from builtin_interfaces.msg import Time
from geometry_msgs.msg import Point, Pose, Quaternion, Twist
from nav_msgs.msg import OccupancyGrid, Odometry
from sensor_msgs.msg import JointState
from std_msgs.msg import ColorRGBA
from visualization_msgs.msg import Marker, MarkerArray

from legion_common.frames import frame_error
from legion_common.messages import quaternion_msg, xyz, xyzw
from legion_common.stamps import header_seconds, to_duration, to_seconds, to_stamp
from legion_common.transforms import quaternion_from_yaw
from legion_description.robot_config import SIDES
from legion_gait.footsteps import Footstep, sole_corners
from legion_gait.plan import GaitSamples
from legion_interfaces.msg import Footstep as FootstepMsg
from legion_interfaces.msg import FootstepPlan, GaitReference, GaitSample, SafetyState, SoleReference

SIDE_INDEX = {side: i for i, side in enumerate(SIDES)}
"""Side name -> index in GaitSample.soles and value of Footstep.side (LEFT = 0, RIGHT = 1)."""
SIDE_COLOURS = {SIDES[0]: (0.2, 0.4, 1.0), SIDES[1]: (1.0, 0.3, 0.2)}
"""Footstep marker colours (r, g, b) per side."""
MARKER_LIFETIME = 1.0
"""[s] markers disappear unless renewed."""


def occupancy_grid_arrays(msg: OccupancyGrid, odom_frame: str) -> tuple[tuple[float, float], float, np.ndarray, float]:
    """nav_msgs/OccupancyGrid -> (odom (x, y) of cell (0, 0)'s outer corner [m], cell side [m], values (rows along y,
    columns along x) int8, stamp [s]).

    Raises:
        ValueError: another frame than `odom_frame`, a rotated or non-finite origin, a non-positive resolution, or a
            data length that is not width x height (the message says which).
    """
    error = frame_error(msg.header.frame_id, odom_frame, "grid")
    if error is not None:
        raise ValueError(error)
    info = msg.info
    position, orientation = xyz(info.origin.position), xyzw(info.origin.orientation)
    if not (np.all(np.isfinite(position)) and np.all(np.isfinite(orientation))):
        raise ValueError("grid origin is not finite")
    if abs(orientation[2]) > 1e-3 or abs(orientation[0]) > 1e-3 or abs(orientation[1]) > 1e-3:
        raise ValueError("grid origin is rotated: only grids aligned with odom are supported")
    if not (math.isfinite(info.resolution) and info.resolution > 0.0):
        raise ValueError(f"grid resolution {info.resolution} is not positive")
    data = np.asarray(msg.data, dtype=np.int8)
    if data.size != info.width * info.height:
        raise ValueError(f"grid data has {data.size} cells, expected {info.width} x {info.height}")
    return ((float(position[0]), float(position[1])), float(info.resolution), data.reshape(info.height, info.width),
            header_seconds(msg))


def twist_components(msg: Twist) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """geometry_msgs/Twist -> (linear xyz, angular xyz), not checked (the core checks)."""
    return ((msg.linear.x, msg.linear.y, msg.linear.z), (msg.angular.x, msg.angular.y, msg.angular.z))


def odometry_arrays(msg: Odometry) -> tuple[float, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """nav_msgs/Odometry (odom -> base_link, twist in base_link) -> (stamp [s], position (3,), orientation xyzw
    (4,), linear velocity (3,), angular velocity (3,))."""
    pose, twist = msg.pose.pose, msg.twist.twist
    return header_seconds(msg), xyz(pose.position), xyzw(pose.orientation), xyz(twist.linear), xyz(twist.angular)


def joint_maps(msg: JointState) -> tuple[dict[str, float], dict[str, float]]:
    """sensor_msgs/JointState -> (name -> position, name -> velocity); missing velocities are 0.

    Raises:
        ValueError: names and positions (or non-empty velocities) differ in length.
    """
    if len(msg.position) != len(msg.name) or (len(msg.velocity) not in (0, len(msg.name))):
        raise ValueError(f"joint_states has {len(msg.name)} names, {len(msg.position)} positions and "
                         f"{len(msg.velocity)} velocities")
    velocities = msg.velocity if len(msg.velocity) else [0.0] * len(msg.name)
    return (dict(zip(msg.name, (float(v) for v in msg.position), strict=True)),
            dict(zip(msg.name, (float(v) for v in velocities), strict=True)))


def yaw_quaternion_msg(yaw: float) -> Quaternion:
    """A level orientation turned by `yaw` [rad] about z."""
    return quaternion_msg(quaternion_from_yaw(float(yaw)))


def _fill_vector(vector, values: Sequence[float]) -> None:
    vector.x, vector.y, vector.z = float(values[0]), float(values[1]), float(values[2])


def gait_reference_msg(samples: GaitSamples, stamp: float, frame_id: str) -> GaitReference:
    """GaitSamples -> GaitReference (header stamped at planning time `stamp` [s], in `frame_id`)."""
    msg = GaitReference()
    msg.header.stamp = to_stamp(stamp)
    msg.header.frame_id = frame_id
    # Python floats once, up front: far cheaper than numpy scalars field by field.
    com, com_vel, com_acc = (samples.com_position.tolist(), samples.com_velocity.tolist(),
                             samples.com_acceleration.tolist())
    yaw, yaw_rate = samples.base_yaw.tolist(), samples.base_yaw_rate.tolist()
    soles = {side: (sole.in_contact.tolist(), sole.pose.tolist(), sole.height.tolist(), sole.velocity.tolist(),
                    sole.acceleration.tolist()) for side, sole in samples.soles.items()}
    out = []
    for i, time in enumerate(samples.time.tolist()):
        sample = GaitSample()
        sample.stamp = to_stamp(time)
        _fill_vector(sample.com_position, com[i])
        _fill_vector(sample.com_velocity, com_vel[i])
        _fill_vector(sample.com_acceleration, com_acc[i])
        sample.base_orientation = yaw_quaternion_msg(yaw[i])
        sample.base_angular_velocity.z = yaw_rate[i]
        references = [SoleReference(), SoleReference()]
        for side, (contact, pose, height, velocity, acceleration) in soles.items():
            sole = references[SIDE_INDEX[side]]
            sole.in_contact = contact[i]
            sole.pose.position.x, sole.pose.position.y, sole.pose.position.z = pose[i][0], pose[i][1], height[i]
            sole.pose.orientation = yaw_quaternion_msg(pose[i][2])
            _fill_vector(sole.velocity.linear, velocity[i][:3])
            _fill_vector(sole.velocity.angular, velocity[i][3:])
            _fill_vector(sole.acceleration.linear, acceleration[i][:3])
            _fill_vector(sole.acceleration.angular, acceleration[i][3:])
        sample.soles = references
        out.append(sample)
    msg.samples = out
    return msg


def footstep_plan_msg(footsteps: Sequence[Footstep], stamp: float, frame_id: str) -> FootstepPlan:
    """Footsteps -> FootstepPlan (in time order)."""
    msg = FootstepPlan()
    msg.header.stamp = to_stamp(stamp)
    msg.header.frame_id = frame_id
    for step in footsteps:
        item = FootstepMsg()
        item.side = SIDE_INDEX[step.side]
        item.pose = Pose()
        item.pose.position.x, item.pose.position.y, item.pose.position.z = (float(step.pose[0]),
                                                                            float(step.pose[1]), float(step.height))
        item.pose.orientation = yaw_quaternion_msg(step.pose[2])
        item.lift_off = to_stamp(step.lift_off)
        item.touch_down = to_stamp(step.touch_down)
        msg.steps.append(item)
    return msg


def footsteps_from_msg(msg: FootstepPlan) -> list[tuple[str, np.ndarray, float, float]]:
    """FootstepPlan -> [(side, (x, y, z), lift_off [s], touch_down [s])] (for tests and tools)."""
    sides = {index: side for side, index in SIDE_INDEX.items()}
    return [(sides[int(step.side)], xyz(step.pose.position),
             to_seconds(step.lift_off), to_seconds(step.touch_down)) for step in msg.steps]


def _marker(kind: int, namespace: str, ident: int, stamp: Time, frame_id: str, colour: Sequence[float],
            alpha: float = 0.8) -> Marker:
    marker = Marker(type=kind, ns=namespace, id=ident, action=Marker.ADD)
    marker.header.stamp = stamp
    marker.header.frame_id = frame_id
    marker.pose.orientation.w = 1.0
    marker.color = ColorRGBA(r=float(colour[0]), g=float(colour[1]), b=float(colour[2]), a=alpha)
    marker.lifetime = to_duration(MARKER_LIFETIME)
    return marker


def markers_msg(footsteps: Sequence[Footstep], soles: Mapping[str, np.ndarray], samples: GaitSamples | None,
                stamp: float, frame_id: str, sole_length: float, sole_width: float, floor: float,
                path: np.ndarray | None = None) -> MarkerArray:
    """Footsteps (outlines coloured by side, the current soles filled), the CoM path, the DCM and ZMP paths, and
    walk_to's `path` around obstacles (odom x, y [m], (n, 2); namespace `path`) when there is one."""
    header_stamp = to_stamp(stamp)
    array = MarkerArray()
    clear = Marker(action=Marker.DELETEALL)
    clear.header.frame_id = frame_id
    array.markers.append(clear)
    outlines = [(step.side, step.pose) for step in footsteps]
    for i, (side, pose) in enumerate(outlines):
        marker = _marker(Marker.LINE_STRIP, "footsteps", i, header_stamp, frame_id, SIDE_COLOURS[side])
        marker.scale.x = 0.01
        corners = sole_corners(pose, sole_length, sole_width)
        marker.points = [Point(x=float(x), y=float(y), z=floor + 0.002) for x, y in [*corners, corners[0]]]
        array.markers.append(marker)
    for i, (side, pose) in enumerate(soles.items()):
        marker = _marker(Marker.CUBE, "soles", i, header_stamp, frame_id, SIDE_COLOURS[side], 0.5)
        marker.pose.position.x, marker.pose.position.y, marker.pose.position.z = (float(pose[0]), float(pose[1]),
                                                                                  floor + 0.002)
        marker.pose.orientation = yaw_quaternion_msg(pose[2])
        marker.scale.x, marker.scale.y, marker.scale.z = sole_length, sole_width, 0.004
        array.markers.append(marker)
    if samples is not None and len(samples) > 1:
        for ident, (name, points, colour, height) in enumerate((
                ("com", samples.com_position, (0.1, 0.8, 0.1), None),
                ("dcm", samples.dcm, (0.9, 0.6, 0.0), floor + 0.004),
                ("zmp", samples.zmp, (0.6, 0.0, 0.8), floor + 0.006))):
            marker = _marker(Marker.LINE_STRIP, name, ident, header_stamp, frame_id, colour)
            marker.scale.x = 0.008
            marker.points = [Point(x=float(p[0]), y=float(p[1]), z=float(p[2] if height is None else height))
                             for p in points.tolist()]
            array.markers.append(marker)
    if path is not None and len(path) > 1:
        marker = _marker(Marker.LINE_STRIP, "path", 0, header_stamp, frame_id, (0.2, 0.6, 1.0))
        marker.scale.x = 0.015
        marker.points = [Point(x=float(x), y=float(y), z=floor + 0.008) for x, y in np.asarray(path)[:, :2].tolist()]
        array.markers.append(marker)
    return array


SAFETY_ZONES = ("CLEAR", "WARNING", "PROTECTIVE_STOP", "EMERGENCY_STOP")
"""legion_interfaces/SafetyState's zone constants by value."""


def safety_scale(msg: SafetyState) -> tuple[float, str]:
    """safety/state (SafetyState) -> (speed scale 0..1, zone name): a protective or emergency stop, an unknown zone
    or a non-finite scale is 0."""
    zone = int(msg.zone)
    name = SAFETY_ZONES[zone] if 0 <= zone < len(SAFETY_ZONES) else f"unknown ({zone})"
    scale = float(msg.speed_scale)
    if name not in ("CLEAR", "WARNING") or not math.isfinite(scale):
        return 0.0, name
    return min(max(scale, 0.0), 1.0), name
