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
    frame name (robot_state_publisher's `frame_prefix`, e.g. `robot_1/`). `stamp` None: zero."""
    from builtin_interfaces.msg import Time

    stamp = Time() if stamp is None else stamp
    return TFMessage(transforms=[
        transform_stamped_msg(stamp, frame_prefix + edge.parent, frame_prefix + edge.child, position, quaternion)
        for edge, position, quaternion in zip(edges, positions, quaternions, strict=True)])


def joint_positions(msg: Any) -> dict[str, float]:
    """sensor_msgs/JointState -> joint name -> position; an empty map when the names and positions do not pair up
    (such a message is not used)."""
    if len(msg.name) != len(msg.position):
        return {}
    return dict(zip(msg.name, msg.position, strict=True))


class LinkTransformsMessage:
    """A `tf` message for a fixed list of edges, built once and updated in place (`update`): filling its numbers
    costs about a tenth of building 70-odd TransformStamped anew (bench/bench_tf.py)."""

    def __init__(self, edges: Sequence[Edge], frame_prefix: str = "") -> None:
        count = len(edges)
        self.msg = link_transforms_msg(None, edges, np.zeros((count, 3)), np.tile([0.0, 0.0, 0.0, 1.0], (count, 1)),
                                       frame_prefix)

    def update(self, stamp: Any, positions: np.ndarray, quaternions: np.ndarray) -> TFMessage:
        """The message with every transform stamped `stamp` and set to `positions` (n, 3) [m] and `quaternions`
        (n, 4) (x, y, z, w), in the order of the edges given at construction."""
        for transform, (x, y, z), (qx, qy, qz, qw) in zip(self.msg.transforms, positions.tolist(),
                                                          quaternions.tolist(), strict=True):
            transform.header.stamp = stamp
            translation, rotation = transform.transform.translation, transform.transform.rotation
            translation.x, translation.y, translation.z = x, y, z
            rotation.x, rotation.y, rotation.z, rotation.w = qx, qy, qz, qw
        return self.msg
