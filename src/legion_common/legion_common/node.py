"""`LegionNode`: rclpy's Node as every Legion node uses it, without rclpy's default QoS event handlers.

For every publisher and subscription rclpy adds two event handlers by default (incompatible QoS, incompatible type:
each logs a warning when a peer with an incompatible offer or type is discovered). Each handler is a waitable that
rclpy's executor adds to, and checks after, every wait in Python: a node with 13 publishers and subscriptions pays for
26 of them on every message it wakes for. The idle nodes of the stack spend most of their CPU in that wait-set
rebuild (cProfile with `LEGION_PROFILE`, docs/realtime.md); without the default handlers they took about 30 % less
(`python bench/bench_stack.py --mode lockstep --seconds 10`, docs/realtime.md, "Executor").

What is lost is the log line on this side of an incompatible pair; the peer that does not match (a tool, `ros2 topic
echo`, RViz) still logs it on its side, and `ros2 topic info --verbose` shows every endpoint's QoS. Set
`LEGION_QOS_EVENTS=1` in a node's environment to have rclpy's default handlers back (debugging a QoS mismatch).
Handlers a node asks for (`event_callbacks=`) are kept either way.
"""

from __future__ import annotations

import os
from typing import Any

from rclpy.event_handler import PublisherEventCallbacks, SubscriptionEventCallbacks
from rclpy.node import Node

QOS_EVENTS_ENVIRONMENT = "LEGION_QOS_EVENTS"
"""Set to 1 (true, yes, on) to keep rclpy's default QoS event handlers on every publisher and subscription."""


def default_qos_events() -> bool:
    """Whether rclpy's default QoS event handlers are wanted (`LEGION_QOS_EVENTS`)."""
    return os.environ.get(QOS_EVENTS_ENVIRONMENT, "").strip().lower() in ("1", "true", "yes", "on")


class LegionNode(Node):
    """rclpy's Node whose publishers and subscriptions get no default QoS event handler (see the module docstring)."""

    def create_publisher(self, msg_type: Any, topic: str, qos_profile: Any, *,
                         event_callbacks: PublisherEventCallbacks | None = None, **kwargs: Any) -> Any:
        if event_callbacks is None:
            event_callbacks = PublisherEventCallbacks(use_default_callbacks=default_qos_events())
        return super().create_publisher(msg_type, topic, qos_profile, event_callbacks=event_callbacks, **kwargs)

    def create_subscription(self, msg_type: Any, topic: str, callback: Any, qos_profile: Any, *,
                            event_callbacks: SubscriptionEventCallbacks | None = None, **kwargs: Any) -> Any:
        if event_callbacks is None:
            event_callbacks = SubscriptionEventCallbacks(use_default_callbacks=default_qos_events())
        return super().create_subscription(msg_type, topic, callback, qos_profile, event_callbacks=event_callbacks,
                                           **kwargs)
