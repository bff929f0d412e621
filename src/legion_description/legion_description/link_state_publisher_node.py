"""`link_state_publisher`: the link transforms of the robot on `tf` and `tf_static`, from `robot_description` and
`joint_states`, for machines without robot_state_publisher (the pip path; the launch starts one or the other).

Subscribes: `robot_description` (std_msgs/String, reliable, transient-local: the expanded URDF; a new one replaces
the model), `joint_states` (sensor_msgs/JointState, reliable, depth 1; the launch remaps it to the estimator's
`joint_states/decimated`). Publishes: `tf_static` (tf2_msgs/TFMessage, reliable, transient-local: every fixed
joint, once per description), `tf` (tf2_msgs/TFMessage, reliable, depth 100: every revolute, continuous and prismatic
joint, parent link -> child link, stamped with the joint_states it was computed from, at most `publish_rate`, on a
grid of stamps). Frame names are the URDF's link names. Parameters: `publish_rate` [Hz], `frame_prefix`.

Driven by the joint states' stamps: it never reads a clock. A description that does not parse is reported (error
log) and the previous model kept; a joint_states whose names and positions do not pair up is dropped with a warning.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import JointState
from std_msgs.msg import String
from tf2_msgs.msg import TFMessage

from legion_common.decimation import Decimator
from legion_common.node import LegionNode
from legion_common.node_main import run_node
from legion_common.parameters import declare_parameters, param
from legion_common.stamps import header_seconds
from legion_description import conversions as conv
from legion_description.link_states import LinkStates
from legion_description.robot_files import DescriptionError

LATCHED_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1, reliability=ReliabilityPolicy.RELIABLE,
                         durability=DurabilityPolicy.TRANSIENT_LOCAL)
TF_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=100, reliability=ReliabilityPolicy.RELIABLE)
"""tf2's publisher QoS for `tf` (tf_static: LATCHED_QOS, as tf2's static broadcaster)."""
STATE_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1, reliability=ReliabilityPolicy.RELIABLE)


@dataclass(frozen=True)
class LinkStateParameters:
    """The node's parameters."""

    publish_rate: float = param(30.0, "Largest rate of `tf` (the moving joints); the joint_states it takes set the "
                                "stamps (with the 50 Hz decimated joint states, 30 Hz gives a transform every 20 or "
                                "40 ms).", unit="Hz", low=0.1, high=1000.0)
    frame_prefix: str = param("", "Put before every frame name (e.g. `robot_1/`), as robot_state_publisher's "
                              "`frame_prefix`.")


class LinkStatePublisher(LegionNode):
    """Link transforms from robot_description and joint_states (see the module docstring)."""

    def __init__(self, **node_options) -> None:
        super().__init__("link_state_publisher", **node_options)
        self.params: LinkStateParameters = declare_parameters(self, LinkStateParameters)
        self.links: LinkStates | None = None
        self.due = Decimator(self.params.publish_rate)
        self.pub_tf = self.create_publisher(TFMessage, "tf", TF_QOS)
        self.pub_tf_static = self.create_publisher(TFMessage, "tf_static", LATCHED_QOS)
        self.create_subscription(String, "robot_description", self.on_description, LATCHED_QOS)
        self.create_subscription(JointState, "joint_states", self.on_joint_states, STATE_QOS)
        self._static_stamp = None

    def on_description(self, msg: String) -> None:
        try:
            links = LinkStates(msg.data)
        except DescriptionError as error:
            self.get_logger().error(f"robot_description not used: {error}")
            return
        self.links = links
        self.moving_msg = conv.LinkTransformsMessage(links.moving_edges, self.params.frame_prefix)
        self.due = Decimator(self.params.publish_rate)
        self.get_logger().info(f"robot_description: root '{links.root}', {len(links.moving_edges)} moving and "
                               f"{len(links.fixed_edges_)} fixed joints")
        self._static_stamp = None  # tf_static goes out with the first joint_states' stamp (the robot's time)

    def on_joint_states(self, msg: JointState) -> None:
        links = self.links
        if links is None:
            return
        positions = conv.joint_positions(msg)
        if not positions and msg.name:
            self.get_logger().warning("joint_states with unequal name and position arrays dropped",
                                      throttle_duration_sec=5.0)
            return
        if self._static_stamp is None:
            self._static_stamp = msg.header.stamp
            self.pub_tf_static.publish(conv.link_transforms_msg(
                msg.header.stamp, links.fixed_edges_, *links.fixed_transforms(), self.params.frame_prefix))
        links.set_positions(positions)
        if self.due.due(header_seconds(msg)):
            self.pub_tf.publish(self.moving_msg.update(msg.header.stamp, *links.moving_transforms()))


def main(args: list[str] | None = None) -> int:
    return run_node("link_state_publisher", LinkStatePublisher, args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
