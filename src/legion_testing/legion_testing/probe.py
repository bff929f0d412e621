"""Helpers for tests that run Legion nodes over real DDS: a probe node that records topics and can answer the
simulator in lockstep. Used by the whole-stack tests; it never reads a fixed sleep as "ready"."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy

from legion_common.stamps import header_seconds

RELIABLE = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)
LATCHED = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)


def spin_until(executor, condition: Callable[[], bool], timeout: float = 15.0) -> None:
    """Spin `executor` (an in-process node test's, on this thread) until `condition()`; AssertionError after
    `timeout` seconds of wall time."""
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "condition not met in time"
        executor.spin_once(timeout_sec=0.02)


class Probe:
    """A node spun on a background thread that keeps the messages of the topics it is asked to record.

    With `hold_command` set, it is a lockstep controller: it answers every `joint_states` message with a
    JointCommand stamped like it (position hold of `hold_command = (names, positions, stiffness, damping)`), as long
    as `answering` is true.
    """

    def __init__(self, name: str = "legion_test_probe") -> None:
        if not rclpy.ok():
            rclpy.init()
        self.node: Node = rclpy.create_node(name)
        self.messages: dict[str, list] = {}
        self._lock = threading.Lock()
        self.answering = False
        self.hold_command: tuple[list[str], list[float], list[float], list[float], list[float]] | None = None
        self._command_pub = None
        self._executor = SingleThreadedExecutor()
        self._executor.add_node(self.node)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._spin, daemon=True)
        self._thread.start()

    def _spin(self) -> None:
        while not self._stop.is_set() and rclpy.ok():
            self._executor.spin_once(timeout_sec=0.05)

    def record(self, topic: str, kind: type, qos: QoSProfile = RELIABLE,
               callback: Callable[[object], None] | None = None) -> None:
        """Keep every message of `topic`."""
        with self._lock:
            self.messages.setdefault(topic, [])

        def store(msg) -> None:
            with self._lock:
                self.messages[topic].append(msg)
            if callback is not None:
                callback(msg)
        self.node.create_subscription(kind, topic, store, qos)

    def received(self, topic: str) -> list:
        with self._lock:
            return list(self.messages.get(topic, []))

    def diagnostic(self, name: str) -> dict[str, str]:
        """Key values (and `message`) of the newest recorded `diagnostics` status whose name starts with `name` ({}
        before the first; record `diagnostics` first)."""
        for msg in reversed(self.received("diagnostics")):
            for status in msg.status:
                if status.name.startswith(name):
                    return {kv.key: kv.value for kv in status.values} | {"message": status.message}
        return {}

    def clear(self, topic: str | None = None) -> None:
        with self._lock:
            for key in [topic] if topic else list(self.messages):
                self.messages[key] = []

    def wait_until(self, predicate: Callable[[], bool], timeout: float, what: str) -> None:
        """Poll `predicate` until true; AssertionError naming `what` after `timeout` seconds of wall time."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.02)
        raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")

    def latest_time(self, topic: str = "joint_states") -> float:
        """Stamp [s] of the newest message of `topic` (recorded), or -1."""
        with self._lock:
            messages = self.messages.get(topic) or []
            return header_seconds(messages[-1]) if messages else -1.0

    def wait_sim_time(self, seconds: float, timeout: float, topic: str = "joint_states") -> float:
        """Wait until `seconds` of simulated time have passed on `topic`; returns the final stamp."""
        self.wait_until(lambda: self.latest_time(topic) >= 0, timeout, f"first message on {topic}")
        start = self.latest_time(topic)
        self.wait_until(lambda: self.latest_time(topic) - start >= seconds, timeout,
                        f"{seconds} s of simulated time on {topic}")
        return self.latest_time(topic)

    def answer_lockstep(self, names: Sequence[str], positions: Sequence[float], stiffness: Sequence[float],
                        damping: Sequence[float], effort: Sequence[float] | None = None) -> None:
        """Become the lockstep controller: answer every joint_states with this position hold (with feed-forward
        `effort` [N m], zero if None)."""
        from sensor_msgs.msg import JointState

        from legion_interfaces.msg import JointCommand

        self.hold_command = (list(names), [float(v) for v in positions], [float(v) for v in stiffness],
                             [float(v) for v in damping],
                             [float(v) for v in effort] if effort is not None else [0.0] * len(names))
        if self._command_pub is None:
            self._command_pub = self.node.create_publisher(JointCommand, "joint_commands", RELIABLE)

            def answer(msg: JointState) -> None:
                if not self.answering or self.hold_command is None:
                    return
                names_, positions_, kp, kd, ff = self.hold_command
                command = JointCommand(name=names_, position=positions_, velocity=[0.0] * len(names_),
                                       effort=ff, stiffness=kp, damping=kd)
                command.header.stamp = msg.header.stamp
                self._command_pub.publish(command)
            self.record("joint_states", JointState, callback=answer)
        self.answering = True

    def publisher(self, kind: type, topic: str, qos: QoSProfile = RELIABLE):
        return self.node.create_publisher(kind, topic, qos)

    def call(self, kind: type, name: str, request, timeout: float = 20.0):
        """Call a service and wait for its answer (the background thread spins the node)."""
        client = self.node.create_client(kind, name)
        if not client.wait_for_service(timeout_sec=timeout):
            raise AssertionError(f"service {name} not available after {timeout} s")
        future = client.call_async(request)
        self.wait_until(future.done, timeout, f"answer of {name}")
        return future.result()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2.0)
        self._executor.shutdown()
        self.node.destroy_node()
        rclpy.try_shutdown()
