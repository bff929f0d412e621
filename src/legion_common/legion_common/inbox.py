"""Subscriptions whose messages their owner takes itself, on its own thread, instead of an executor's callbacks.

A 500 Hz loop (the simulator's step loop, the control process's tick) pays, for every message an rclpy executor
delivers, a rebuild of the executor's wait set over every entity of its nodes in Python and a callback dispatch:
about 0.2-0.3 ms of CPU per message on this project's 2-core machine, more than the message is worth. An `Inbox`
waits on a wait set of only its own subscriptions (and a guard condition that other threads trigger with `wake()`)
and takes their messages directly: what rclpy's `wait_for_message` does, kept for the node's life. The node's other
entities (services, parameters, low-rate topics) stay on an executor, usually on another thread.

    inbox = Inbox(node)
    joints = inbox.subscribe(JointState, "joint_states", qos)
    while rclpy.ok():
        inbox.wait(0.05)
        while (taken := inbox.take(joints)) is not None:
            msg, received = taken

The wait set and `take_message` are rclpy's own bindings (`rclpy.impl.implementation_singleton`), the ones its
executors and `wait_for_message` use; they are not public API, so an rclpy upgrade may need this module adjusted
(rclpy is pinned in requirements.txt).
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from typing import Any

from rclpy.callback_groups import CallbackGroup
from rclpy.guard_condition import GuardCondition
from rclpy.impl.implementation_singleton import rclpy_implementation as _rclpy


class TakenByTheOwner(CallbackGroup):
    """The callback group of a subscription whose messages its owner takes itself (`Inbox`): no executor waits on it
    or runs its callback."""

    def can_execute(self, entity) -> bool:
        return False

    def beginning_execution(self, entity) -> bool:
        return False

    def ending_execution(self, entity) -> None:
        pass


def _never_called(_msg) -> None:
    raise RuntimeError("an Inbox subscription's callback ran: its messages are taken by Inbox.take")


class Inbox:
    """Subscriptions of one node taken on the caller's thread (see the module docstring)."""

    def __init__(self, node: Any) -> None:
        self.node = node
        self.subscriptions: list[Any] = []
        self.guard = GuardCondition(None, None, context=node.context)
        self._wait_set = None
        self._group = TakenByTheOwner()

    def subscribe(self, msg_type: type, topic: str, qos: Any, raw: bool = False) -> Any:
        """A subscription of the node whose messages `take` returns (its callback never runs); `raw`: as CDR bytes."""
        subscription = self.node.create_subscription(msg_type, topic, _never_called, qos, callback_group=self._group,
                                                     raw=raw)
        self.subscriptions.append(subscription)
        self._wait_set = _rclpy.WaitSet(len(self.subscriptions), 1, 0, 0, 0, 0, self.node.context.handle)
        return subscription

    def take(self, subscription: Any) -> tuple[Any, float] | None:
        """(message, wall time of its reception on the time.monotonic() scale) of the oldest message waiting on
        `subscription`, or None."""
        with subscription.handle:
            taken = subscription.handle.take_message(subscription.msg_type, subscription.raw)
        if taken is None:
            return None
        now = time.monotonic()
        received_ns = taken[1].get("received_timestamp", 0) if isinstance(taken[1], dict) else 0
        # The middleware stamps the reception on the system clock: moved to the monotonic scale (never after now).
        received = now - max(0, time.time_ns() - received_ns) * 1e-9 if received_ns > 0 else now
        return taken[0], received

    def wait(self, timeout: float) -> None:
        """Until a message waits on one of the subscriptions, `wake()` is called, or `timeout` [s] passes."""
        wait_set = self._wait_set
        if wait_set is None:
            time.sleep(max(0.0, timeout))
            return
        with ExitStack() as handles:
            for subscription in self.subscriptions:
                handles.enter_context(subscription.handle)
            handles.enter_context(self.guard.handle)
            wait_set.clear_entities()
            for subscription in self.subscriptions:
                wait_set.add_subscription(subscription.handle)
            wait_set.add_guard_condition(self.guard.handle)
            wait_set.wait(max(0, int(timeout * 1e9)))

    def wake(self) -> None:
        """Ends a `wait` on another thread now."""
        self.guard.trigger()

    def destroy(self) -> None:
        self.guard.destroy()
