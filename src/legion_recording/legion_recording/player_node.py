"""The player node: publishes a bag's messages back (serialised CDR as recorded) at their recorded pace times a rate,
with `clock` driven from the recording's time line, so that nodes run with `use_sim_time` see the recorded time.

Node `player` (started by `legion play`):
- publishes each recorded topic (but `clock`) with its recorded type, reliable / transient-local as recorded;
- publishes `clock` (rosgraph_msgs/Clock) every `clock_period` of recorded time.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from rclpy.qos import QoSProfile, ReliabilityPolicy
from rosgraph_msgs.msg import Clock

from legion_common.node import LegionNode
from legion_recording.conversions import clock_msg, make_qos, message_class, subscription_policies
from legion_recording.errors import RecordingError
from legion_recording.playback import Event

PUBLISHER_DEPTH = 100


class PlayerNode(LegionNode):
    """Publishes a recording (see the module docstring)."""

    def __init__(self, topics: Mapping[str, str], offered_qos: Mapping[str, list[dict]]):
        super().__init__("player")
        self._topic_publishers = {}
        self.skipped: dict[str, str] = {}
        for topic, type_name in topics.items():
            if topic == "/clock":
                continue
            try:
                kind = message_class(type_name)
            except RecordingError as error:
                self.skipped[topic] = str(error)
                continue
            reliability, durability = subscription_policies(offered_qos.get(topic, []))
            self._topic_publishers[topic] = self.create_publisher(kind, topic,
                                                            make_qos(reliability, durability, PUBLISHER_DEPTH))
        self._clock = self.create_publisher(Clock, "/clock",
                                            QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE))
        self.published = 0

    def subscribers(self, topic: str) -> int:
        name = "/" + topic.lstrip("/")
        publisher = self._clock if name == "/clock" else self._topic_publishers.get(name)
        return 0 if publisher is None else publisher.get_subscription_count()

    def flush(self, timeout: float) -> bool:
        """Wait until every reliable subscriber has acknowledged what was published (at most `timeout` [s] in all), so
        that leaving right after the last message does not lose it in flight. True if all was acknowledged."""
        from rclpy.duration import Duration

        deadline = time.monotonic() + timeout
        done = True
        for publisher in (*self._topic_publishers.values(), self._clock):
            left = max(0.0, deadline - time.monotonic())
            done = publisher.wait_for_all_acked(Duration(nanoseconds=int(left * 1e9))) and done
        return done

    def play(self, event: Event) -> None:
        if event.message is None:
            self._clock.publish(clock_msg(event.time_ns))
            return
        publisher = self._topic_publishers.get(event.message.topic)
        if publisher is not None:
            publisher.publish(event.message.data)
            self.published += 1
