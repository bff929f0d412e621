"""Message <-> numpy conversions of the perception node's own messages (the only module that builds them).

Stamps, images and poses are converted by `legion_common` (`stamps`, `messages`: `image_to_rgb`, `image_to_depth`,
`rgb_image_msg`, `depth_image_msg`, `pose_msg`); this module holds what is perception's: camera info, the camera
pose inputs (odometry, joint states) and the outputs (objects, obstacle grid, people).
"""

from __future__ import annotations

import array
from collections.abc import Iterable
from typing import Any

import numpy as np
from geometry_msgs.msg import PoseArray
from nav_msgs.msg import OccupancyGrid as OccupancyGridMsg
from nav_msgs.msg import Odometry
from sensor_msgs.msg import CameraInfo, JointState
from visualization_msgs.msg import MarkerArray

from legion_common.markers import hue_colour, marker, marker_array, text_marker
from legion_common.messages import point_msg, pose_arrays, pose_msg, vector3_msg, xyz
from legion_common.transforms import TransformError, pose_to_matrix, quaternion_from_yaw, yaw_from_quaternion
from legion_interfaces.msg import DetectedObject, DetectedObjectArray, TrackedPerson, TrackedPersonArray
from legion_perception.errors import InputError
from legion_perception.geometry import CameraIntrinsics
from legion_perception.obstacles import OccupancyGrid
from legion_perception.people import Person
from legion_perception.tracking import PartTrack

IDENTITY_XYZW = (0.0, 0.0, 0.0, 1.0)


def camera_info_to_intrinsics(msg: CameraInfo) -> CameraIntrinsics:
    """CameraInfo -> pinhole intrinsics from K (distortion is ignored: the head camera is rectified).

    Raises:
        InputError: K is not calibrated (zeros) or not finite, or the size is empty.
    """
    k = list(msg.k)
    if len(k) != 9:
        raise InputError(f"camera_info K has {len(k)} values, expected 9")
    return CameraIntrinsics(fx=float(k[0]), fy=float(k[4]), cx=float(k[2]), cy=float(k[5]), width=int(msg.width),
                            height=int(msg.height)).checked()


def intrinsics_to_camera_info(camera: CameraIntrinsics, stamp: Any, frame_id: str) -> CameraInfo:
    """Pinhole intrinsics -> CameraInfo (plumb_bob, no distortion)."""
    msg = CameraInfo(width=camera.width, height=camera.height, distortion_model="plumb_bob")
    msg.header.stamp = stamp
    msg.header.frame_id = frame_id
    msg.d = [0.0] * 5
    msg.k = [camera.fx, 0.0, camera.cx, 0.0, camera.fy, camera.cy, 0.0, 0.0, 1.0]
    msg.r = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    msg.p = [camera.fx, 0.0, camera.cx, 0.0, 0.0, camera.fy, camera.cy, 0.0, 0.0, 0.0, 1.0, 0.0]
    return msg


def odometry_to_matrix(msg: Odometry) -> np.ndarray:
    """Odometry pose (child frame in the header frame) -> homogeneous transform.  # (4, 4)

    Raises:
        InputError: a non-finite position or an invalid quaternion.
    """
    try:
        return pose_to_matrix(*pose_arrays(msg.pose.pose))
    except TransformError as error:
        raise InputError(f"odometry pose: {error}") from error


def joint_positions(msg: JointState) -> dict[str, float]:
    """JointState -> joint name -> position [rad].

    Raises:
        InputError: names and positions differ in length.
    """
    if len(msg.name) != len(msg.position):
        raise InputError(f"joint_states has {len(msg.name)} names but {len(msg.position)} positions")
    return dict(zip(msg.name, (float(p) for p in msg.position), strict=True))


def objects_msg(tracks: Iterable[PartTrack], stamp: Any, frame_id: str) -> DetectedObjectArray:
    """Confirmed part tracks -> DetectedObjectArray (pose = centre and yaw in `frame_id`, size [m])."""
    msg = DetectedObjectArray()
    msg.header.stamp = stamp
    msg.header.frame_id = frame_id
    for track in tracks:
        msg.objects.append(DetectedObject(id=track.id, label=track.label,
                                          pose=pose_msg(track.position, quaternion_from_yaw(track.yaw)),
                                          size=vector3_msg(track.size), confidence=float(track.confidence)))
    return msg


def objects_from_msg(msg: DetectedObjectArray) -> list[tuple[str, str, np.ndarray, float, np.ndarray]]:
    """DetectedObjectArray -> [(id, label, position (3,), yaw [rad], size (3,))] (for tests, tools, the bench)."""
    out = []
    for item in msg.objects:
        position, quaternion = pose_arrays(item.pose)
        out.append((item.id, item.label, position, yaw_from_quaternion(quaternion), xyz(item.size)))
    return out


def occupancy_grid_msg(grid: OccupancyGrid, stamp: Any, frame_id: str) -> OccupancyGridMsg:
    """Core grid -> nav_msgs/OccupancyGrid (row-major from the origin corner, rows along y)."""
    msg = OccupancyGridMsg()
    msg.header.stamp = stamp
    msg.header.frame_id = frame_id
    msg.info.map_load_time = stamp
    msg.info.resolution = float(grid.resolution)
    msg.info.height, msg.info.width = (int(n) for n in grid.data.shape)
    msg.info.origin = pose_msg((grid.origin[0], grid.origin[1], 0.0), IDENTITY_XYZW)
    msg.data = array.array("b", np.ascontiguousarray(grid.data, dtype=np.int8).tobytes())
    return msg


def occupancy_grid_from_msg(msg: OccupancyGridMsg) -> OccupancyGrid:
    """nav_msgs/OccupancyGrid (axis-aligned origin) -> core grid."""
    data = np.asarray(msg.data, dtype=np.int8).reshape(msg.info.height, msg.info.width)
    return OccupancyGrid(origin=(msg.info.origin.position.x, msg.info.origin.position.y),
                         resolution=msg.info.resolution, data=data)


def people_msg(people: Iterable[Person], stamp: Any, frame_id: str) -> PoseArray:
    """People -> PoseArray: one pose per person at the face centre in `frame_id`, identity orientation."""
    msg = PoseArray()
    msg.header.stamp = stamp
    msg.header.frame_id = frame_id
    msg.poses = [pose_msg(person.position, IDENTITY_XYZW) for person in people]
    return msg


MARKER_SHAPES = {"cube": "CUBE", "box": "CUBE", "cylinder": "CYLINDER", "sphere": "SPHERE"}
"""Part shape -> visualization_msgs/Marker type name."""
UNKNOWN_COLOUR = (0.6, 0.6, 0.6)
"""A track whose colour has no hue in `colour_hues` (grey)."""


def object_markers_msg(tracks: Iterable[PartTrack], stamp: Any, frame_id: str,
                       colour_hues: dict[str, float]) -> MarkerArray:
    """The confirmed tracks as markers in `frame_id` (`perception/markers`): namespace `parts` (a cube, cylinder or
    sphere of the part's size at its pose, in its colour), `containers` (a bin: a translucent box from its inner
    floor up to its rim, whose centre is the track's position), `labels` (the track's id above it). `colour_hues`:
    colour name -> hue [deg], as perception names colours (detection.colour_names / colour_hues)."""
    from visualization_msgs.msg import Marker

    array = marker_array(frame_id)
    for index, track in enumerate(tracks):
        hue = colour_hues.get(track.colour)
        colour = UNKNOWN_COLOUR if hue is None else hue_colour(hue)[:3]
        orientation = quaternion_from_yaw(track.yaw)
        size = np.maximum(np.asarray(track.size, dtype=float), 1e-3)
        if track.is_container:
            centre = np.asarray(track.position, dtype=float) - [0.0, 0.0, 0.5 * size[2]]
            array.markers.append(marker(Marker.CUBE, "containers", index, stamp, frame_id, (*colour, 0.35),
                                        centre, orientation, size))
            top = float(track.position[2])
        else:
            kind = getattr(Marker, MARKER_SHAPES.get(track.shape, "CUBE"))
            array.markers.append(marker(kind, "parts", index, stamp, frame_id, (*colour, 0.9), track.position,
                                        orientation, size))
            top = float(track.position[2] + 0.5 * size[2])
        label_position = (float(track.position[0]), float(track.position[1]), top + 0.04)
        array.markers.append(text_marker("labels", index, stamp, frame_id, track.id or track.label, label_position))
    return array


def tracked_people_msg(people: Iterable[Person], stamp: Any, frame_id: str, now: float) -> TrackedPersonArray:
    """People -> TrackedPersonArray (perception/people/tracked): id `person_<n>`, face centre, filtered horizontal
    velocity in `frame_id`, and how long ago [s] each was last seen, at `now` [s]."""
    msg = TrackedPersonArray()
    msg.header.stamp = stamp
    msg.header.frame_id = frame_id
    msg.people = [TrackedPerson(id=f"person_{person.number}", position=point_msg(person.position),
                                velocity=vector3_msg(person.velocity),
                                last_seen=float(max(now - person.last_seen, 0.0))) for person in people]
    return msg
