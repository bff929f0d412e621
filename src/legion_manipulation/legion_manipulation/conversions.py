"""Messages of the manipulation node that are built from core data: the hand targets as markers
(`manipulation/markers`). Tested from message objects, without rclpy."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pinocchio as pin
from visualization_msgs.msg import Marker, MarkerArray

from legion_common.markers import marker, marker_array, text_marker
from legion_common.transforms import matrix_to_quaternion

SIDE_COLOURS = {"left": (0.2, 0.4, 1.0), "right": (1.0, 0.3, 0.2)}
"""Hand target colour per side (blue left, red right, as the gait planner's footsteps); other sides grey."""
ARROW_LENGTH = 0.10
"""[m] the arrow along the gripper frame's x axis (towards the object)."""


def hand_target_markers_msg(targets: Mapping[str, tuple[pin.SE3, str]], stamp: Any, frame_id: str) -> MarkerArray:
    """The gripper targets the node streams, side -> (gripper pose, the frame it is in: `odom`, or `base_footprint`
    for a carried part), as markers: namespace `hand_targets` (an arrow along the gripper's x axis, towards the
    object) and `labels` ("<side> hand"). `frame_id` is the frame of the array's DELETEALL (odom). A side whose task is
    released is left out."""
    array = marker_array(frame_id)
    for index, (side, (pose, frame)) in enumerate(sorted(targets.items())):
        colour = SIDE_COLOURS.get(side, (0.7, 0.7, 0.7))
        position = np.asarray(pose.translation, dtype=float)
        array.markers.append(marker(Marker.ARROW, "hand_targets", index, stamp, frame, (*colour, 0.9), position,
                                    matrix_to_quaternion(pose.rotation), (ARROW_LENGTH, 0.012, 0.012)))
        label_position = position + np.array([0.0, 0.0, 0.06])
        array.markers.append(text_marker("labels", index, stamp, frame, f"{side} hand", label_position, colour))
    return array
