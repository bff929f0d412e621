"""`tf` and `tf_static` carry the standard tf2_msgs/msg/TFMessage: on the pip path the workspace builds an interface
package `tf2_msgs` (pip_path/tf2_msgs) with the definition of ros2/geometry2's. Its type hash must be Jazzy's, or a
ROS install's RViz, tf2 and rosbag2 would not match our `tf` (DDS endpoints of one topic must agree on the hash).
Fast: the generated type description, and the hash a publisher announces (rclpy, no other node)."""

from __future__ import annotations

import json
from pathlib import Path

import rclpy
from ament_index_python.packages import get_package_share_directory
from geometry_msgs.msg import TransformStamped
from tf2_msgs.msg import TFMessage

JAZZY_TF_MESSAGE_HASH = "RIHS01_e369d0f05a23ae52508854b66f6aa0437f3449d652e8cbf22d5abe85d020f087"
"""Jazzy's RIHS01 type hash of tf2_msgs/msg/TFMessage. Where it comes from: `ros2 topic info -v /tf` on a Jazzy
system shows it for robot_state_publisher's `tf` ("Topic type hash: RIHS01_e369d0f0..."), and rosbag2 Jazzy
recordings list it as the `type_description_hash` of `/tf` in their metadata.yaml (public sources found with a code
search); rosidl_generator_type_description 4.6.6 gives the same value for TFMessage.msg of ros2/geometry2's `jazzy`
branch (commit 646342c6)."""

TRANSFORM_STAMPED_JAZZY_HASH = "RIHS01_0a241f87d04668d94099cbb5ba11691d5ad32c2f29682e4eb5653424bd275206"
"""geometry_msgs/msg/TransformStamped in the ros-jazzy-geometry-msgs 5.3.6 wheel (its share/.../TransformStamped.json):
TFMessage's hash covers it, so a different geometry_msgs would change TFMessage's too."""


def _type_hashes(package: str, message: str) -> dict[str, str]:
    description = Path(get_package_share_directory(package)) / "msg" / f"{message}.json"
    entries = json.loads(description.read_text())["type_hashes"]
    return {entry["type_name"]: entry["hash_string"] for entry in entries}


def test_tf_message_has_the_standard_definition() -> None:
    message = TFMessage(transforms=[TransformStamped()])
    assert TFMessage.get_fields_and_field_types() == {"transforms": "sequence<geometry_msgs/TransformStamped>"}
    assert isinstance(message.transforms[0], TransformStamped)


def test_generated_type_description_has_jazzys_hash() -> None:
    hashes = _type_hashes("tf2_msgs", "TFMessage")
    assert hashes["tf2_msgs/msg/TFMessage"] == JAZZY_TF_MESSAGE_HASH
    assert hashes["geometry_msgs/msg/TransformStamped"] == TRANSFORM_STAMPED_JAZZY_HASH


def test_a_tf_publisher_announces_jazzys_hash() -> None:
    context = rclpy.Context()  # its own: another test of this worker may hold the default context
    rclpy.init(context=context)
    try:
        node = rclpy.create_node("tf2_msgs_hash_probe", context=context)
        node.create_publisher(TFMessage, "tf", 10)
        endpoints = node.get_publishers_info_by_topic("tf")
        assert [info.topic_type for info in endpoints] == ["tf2_msgs/msg/TFMessage"]
        assert str(endpoints[0].topic_type_hash) == JAZZY_TF_MESSAGE_HASH
        node.destroy_node()
    finally:
        rclpy.shutdown(context=context)
