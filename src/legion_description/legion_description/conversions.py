"""Messages of the link state publisher: link transforms (`legion_description.link_states`) as a tf2_msgs/TFMessage,
and joint_states as a name -> position map. Tested from message objects, without rclpy."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from tf2_msgs.msg import TFMessage

from legion_common.messages import transform_stamped_msg
from legion_description.link_states import Edge


def link_transforms_msg(stamp: Any, edges: Sequence[Edge], positions: np.ndarray, quaternions: np.ndarray,
                        frame_prefix: str = "") -> TFMessage:
    """One transform per edge (parent link -> child link), all stamped `stamp`: `positions` (n, 3) [m] and
    `quaternions` (n, 4) (x, y, z, w) of each child link in its parent link. `frame_prefix` is put before every
    frame name (robot_state_publisher's `frame_prefix`, e.g. `robot_1/`)."""
    return TFMessage(transforms=[
        transform_stamped_msg(stamp, frame_prefix + edge.parent, frame_prefix + edge.child, position, quaternion)
        for edge, position, quaternion in zip(edges, positions, quaternions, strict=True)])


def joint_positions(msg: Any) -> dict[str, float]:
    """sensor_msgs/JointState -> joint name -> position; an empty map when the names and positions do not pair up
    (such a message is not used)."""
    if len(msg.name) != len(msg.position):
        return {}
    return dict(zip(msg.name, msg.position, strict=True))
