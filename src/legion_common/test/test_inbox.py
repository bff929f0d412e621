"""Inbox: messages of its subscriptions are taken on the owner's thread, in order, never by an executor."""

import threading
import time

import pytest

rclpy = pytest.importorskip("rclpy")

from rclpy.executors import SingleThreadedExecutor  # noqa: E402
from rclpy.qos import QoSProfile, ReliabilityPolicy  # noqa: E402
from std_msgs.msg import Int32, String  # noqa: E402

from legion_common.inbox import Inbox  # noqa: E402

QOS = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)


@pytest.fixture
def nodes():
    context = rclpy.Context()
    rclpy.init(context=context)
    owner = rclpy.create_node("inbox_owner", context=context)
    sender = rclpy.create_node("inbox_sender", context=context)
    try:
        yield owner, sender
    finally:
        owner.destroy_node()
        sender.destroy_node()
        rclpy.shutdown(context=context)


def wait_matched(publisher, timeout=10.0):
    deadline = time.monotonic() + timeout
    while publisher.get_subscription_count() == 0:
        assert time.monotonic() < deadline, "no subscriber matched"
        time.sleep(0.01)


def test_takes_messages_in_order_on_the_owners_thread_and_an_executor_never_runs_them(nodes):
    owner, sender = nodes
    inbox = Inbox(owner)
    numbers = inbox.subscribe(Int32, "numbers", QOS)
    words = inbox.subscribe(String, "words", QOS)
    executor = SingleThreadedExecutor(context=owner.context)
    executor.add_node(owner)  # spun below: it must not take (or run a callback for) the inbox's messages
    publish_numbers = sender.create_publisher(Int32, "numbers", QOS)
    publish_words = sender.create_publisher(String, "words", QOS)
    wait_matched(publish_numbers)
    wait_matched(publish_words)
    for k in range(5):
        publish_numbers.publish(Int32(data=k))
    publish_words.publish(String(data="hello"))
    executor.spin_once(timeout_sec=0.2)
    received, deadline = [], time.monotonic() + 10.0
    while len(received) < 5 and time.monotonic() < deadline:
        inbox.wait(0.5)
        while (taken := inbox.take(numbers)) is not None:
            msg, when = taken
            assert when <= time.monotonic()
            received.append(msg.data)
    assert received == [0, 1, 2, 3, 4]
    word = inbox.take(words)
    assert word is not None and word[0].data == "hello"
    assert inbox.take(words) is None
    executor.remove_node(owner)
    inbox.destroy()


def test_wake_ends_a_wait_from_another_thread(nodes):
    owner, _ = nodes
    inbox = Inbox(owner)
    inbox.subscribe(Int32, "nothing_here", QOS)
    threading.Timer(0.1, inbox.wake).start()
    started = time.monotonic()
    inbox.wait(10.0)
    assert time.monotonic() - started < 5.0
    inbox.destroy()
