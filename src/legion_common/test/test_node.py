"""LegionNode: its publishers and subscriptions get no default QoS event handler (the executor's wait set stays
small), messages flow as from any node, `LEGION_QOS_EVENTS=1` brings rclpy's defaults back, and handlers a node asks
for are kept."""

import time

import pytest

rclpy = pytest.importorskip("rclpy")

from rclpy.event_handler import EventHandler, QoSSubscriptionEventType, SubscriptionEventCallbacks  # noqa: E402
from rclpy.executors import SingleThreadedExecutor  # noqa: E402
from rclpy.qos import QoSProfile, ReliabilityPolicy  # noqa: E402
from std_msgs.msg import Int32  # noqa: E402

from legion_common.node import QOS_EVENTS_ENVIRONMENT, LegionNode  # noqa: E402

QOS = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)


@pytest.fixture
def context():
    context = rclpy.Context()
    rclpy.init(context=context)
    try:
        yield context
    finally:
        rclpy.shutdown(context=context)


def _event_handlers(node) -> list:
    return [waitable for waitable in node.waitables if isinstance(waitable, EventHandler)]


def test_no_default_event_handlers_and_messages_still_flow(context, monkeypatch):
    monkeypatch.delenv(QOS_EVENTS_ENVIRONMENT, raising=False)
    node = LegionNode("legion_node_test", context=context)
    received = []
    publisher = node.create_publisher(Int32, "legion_node_test/numbers", QOS)
    node.create_subscription(Int32, "legion_node_test/numbers", lambda msg: received.append(msg.data), QOS)
    assert _event_handlers(node) == []
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    deadline = time.monotonic() + 10.0
    while len(received) < 3 and time.monotonic() < deadline:
        publisher.publish(Int32(data=len(received)))
        executor.spin_once(timeout_sec=0.05)
    assert received[:3] == [0, 1, 2]
    node.destroy_node()


def test_the_environment_brings_the_defaults_back_and_asked_handlers_are_kept(context, monkeypatch):
    monkeypatch.setenv(QOS_EVENTS_ENVIRONMENT, "1")
    node = LegionNode("legion_node_defaults", context=context)
    before = len(_event_handlers(node))  # the node's own publishers (parameter events) have theirs too now
    node.create_publisher(Int32, "legion_node_test/a", QOS)
    node.create_subscription(Int32, "legion_node_test/a", lambda msg: None, QOS)
    assert len(_event_handlers(node)) - before >= 2  # at least the incompatible-QoS handler of each
    node.destroy_node()

    monkeypatch.delenv(QOS_EVENTS_ENVIRONMENT)
    node = LegionNode("legion_node_asked", context=context)
    events = []
    node.create_subscription(Int32, "legion_node_test/b", lambda msg: None, QOS,
                             event_callbacks=SubscriptionEventCallbacks(incompatible_qos=events.append))
    handlers = _event_handlers(node)
    incompatible = QoSSubscriptionEventType.RCL_SUBSCRIPTION_REQUESTED_INCOMPATIBLE_QOS
    assert incompatible in [handler.event_type for handler in handlers]  # the node's own event_callbacks, as given
    node.destroy_node()
