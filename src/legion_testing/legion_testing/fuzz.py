"""Fuzz every topic and service the nodes of a running stack subscribe to, found from the live ROS graph.

The library is handed an rclpy node (spun elsewhere, e.g. by `legion_testing.probe.Probe`); it never creates one.

- `discover(node, node_names)` lists, for each named node, the topics it subscribes to and the services it offers
  (actions appear as their `_action/send_goal` and `_action/cancel_goal` services), from
  `get_subscriber_names_and_types_by_node` / `get_service_names_and_types_by_node`: a topic or service added to a
  node is covered without changing the fuzzer. ROS infrastructure is left out (`SKIPPED_TOPICS`,
  parameter and type-description services), and so are simulator tools that change the world by design
  (`WORLD_TOOLS`: a valid push is meant to push).
- `Fuzzer.fuzz_topic` publishes malformed messages (`fuzz_messages.MessageFuzzer`) at a flood rate;
  `Fuzzer.fuzz_service` calls a service with malformed requests and counts the answers. After an action's goals,
  every goal it accepted is cancelled (a cancel request with a zero goal id and stamp cancels all).
- `rejection_counts(statuses)` sums the counters of rejected input that nodes report on `diagnostics` and
  `hardware/status` (keys containing `rejected`, `dropped` or `invalid`).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy

from legion_testing.fuzz_messages import CASES, FuzzError, MessageFuzzer, message_class, request_class

SKIPPED_TOPICS = {"/parameter_events": "ROS parameter infrastructure", "/rosout": "ROS logging",
                  "/clock": "the simulator's time source (ROS time handling, not node code)"}
"""Topics not fuzzed, with why."""
SKIPPED_SERVICE_TYPES = ("rcl_interfaces/srv/", "type_description_interfaces/srv/")
"""Service types not fuzzed: parameter and type-description services of every node (ROS infrastructure)."""
WORLD_TOOLS = {"sim/reset": "resets the simulated world by design",
               "sim/apply_wrench": "pushes the robot by design (fuzzed with the cases that must be rejected only)"}
"""Simulator tools: `sim/reset` is not fuzzed; `sim/apply_wrench` only with REJECTED_CASES."""
REJECTED_CASES = ("nan", "inf", "empty", "unknown_names")
"""The cases a world tool must reject (every request names an unknown body or carries a non-finite value...)."""
DEFAULT_RATE = 20.0
"""[Hz] expected rate of a topic not in the rate table (commands, goals, perception output)."""
FLOOD_FACTOR = 10.0
"""Messages are sent at this multiple of the topic's expected rate."""
REJECTION_KEYS = ("rejected", "dropped", "invalid")


@dataclass
class Target:
    """One topic or service to fuzz."""

    name: str
    """Fully qualified topic or service name."""
    type_name: str
    """`pkg/msg/Name` or `pkg/srv/Name`."""
    kind: str
    """`topic` or `service`."""
    nodes: list[str] = field(default_factory=list)
    """The nodes that subscribe to the topic or offer the service."""
    cases: tuple[str, ...] = CASES


@dataclass
class Outcome:
    """What fuzzing one target did."""

    target: Target
    sent: int = 0
    answered: int = 0
    """Services: calls answered within the timeout."""
    errors: list[str] = field(default_factory=list)


def _relative(name: str, namespace: str) -> str:
    prefix = namespace.rstrip("/") + "/"
    return name[len(prefix):] if name.startswith(prefix) else name.lstrip("/")


def discover(node: Node, node_names: Iterable[str], namespace: str = "/") -> list[Target]:
    """The topics subscribed to and services offered by the nodes `node_names` (in `namespace`), in the live graph,
    each once, in a stable order (e-stop topics last: a latched stop masks what follows)."""
    targets: dict[tuple[str, str], Target] = {}
    for name in node_names:
        for topic, types in node.get_subscriber_names_and_types_by_node(name, namespace):
            if topic in SKIPPED_TOPICS or not types:
                continue
            target = targets.setdefault(("topic", topic), Target(topic, types[0], "topic"))
            target.nodes.append(name)
        for service, types in node.get_service_names_and_types_by_node(name, namespace):
            if not types or types[0].startswith(SKIPPED_SERVICE_TYPES):
                continue
            relative = _relative(service, namespace)
            if relative == "sim/reset":
                continue
            target = targets.setdefault(("service", service), Target(service, types[0], "service"))
            if relative in WORLD_TOOLS:
                target.cases = REJECTED_CASES
            target.nodes.append(name)
    return sorted(targets.values(), key=lambda t: ("emergency_stop" in t.name, t.kind, t.name))


def rejection_counts(statuses: Iterable, node_names: Sequence[str]) -> dict[str, int]:
    """Per `<status name>/<key>`, the newest value of every rejection counter in DiagnosticStatus messages from the
    named nodes (in the order received; counters are cumulative). Where a status reports `<key>_total`, its
    per-reason `<key>.<reason>` counts are left out (counted once)."""
    counts: dict[str, int] = {}
    for status in statuses:
        if not any(status.name.startswith(n) for n in node_names):
            continue
        totals = [kv.key[: -len("_total")] for kv in status.values if kv.key.endswith("_total")]
        for kv in status.values:
            if any(kv.key.startswith(f"{total}.") for total in totals):
                continue  # a per-reason count whose total is reported too
            if any(word in kv.key for word in REJECTION_KEYS):
                try:
                    counts[f"{status.name}/{kv.key}"] = int(float(kv.value))
                except ValueError:
                    continue
    return counts


def _qos_for(node: Node, topic: str) -> QoSProfile:
    """Reliable, and transient-local if a subscriber asks for it (a volatile publisher would not match it)."""
    latched = any(info.qos_profile.durability == DurabilityPolicy.TRANSIENT_LOCAL
                  for info in node.get_subscriptions_info_by_topic(topic))
    return QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE,
                      durability=DurabilityPolicy.TRANSIENT_LOCAL if latched else DurabilityPolicy.VOLATILE)


class Fuzzer:
    """Sends malformed messages and requests through a node spun on another thread.

    Args:
        node: the node to publish and call from.
        seed: seed of the message generator.
        names: known names mixed into strings (the robot's joints and frames).
        rates: expected rate [Hz] per relative topic name; others `DEFAULT_RATE`.
    """

    def __init__(self, node: Node, seed: int, names: Sequence[str] = (), rates: dict[str, float] | None = None
                 ) -> None:
        self.node = node
        self.generator = MessageFuzzer(seed, names)
        self.rates = dict(rates or {})

    def flood_rate(self, topic: str) -> float:
        """[Hz] the rate messages are sent at: FLOOD_FACTOR times the topic's expected rate."""
        return FLOOD_FACTOR * self.rates.get(topic.lstrip("/"), DEFAULT_RATE)

    def fuzz(self, target: Target, count: int, service_timeout: float = 2.0) -> Outcome:
        if target.kind == "topic":
            return self.fuzz_topic(target, count)
        return self.fuzz_service(target, count, service_timeout)

    def fuzz_topic(self, target: Target, count: int, wait_for_match: float = 10.0) -> Outcome:
        """Publish `count` malformed messages on the target topic at its flood rate."""
        outcome = Outcome(target)
        try:
            kind = message_class(target.type_name)
        except FuzzError as error:
            outcome.errors.append(str(error))
            return outcome
        publisher = self.node.create_publisher(kind, target.name, _qos_for(self.node, target.name))
        try:
            deadline = time.monotonic() + wait_for_match
            while publisher.get_subscription_count() == 0 and time.monotonic() < deadline:
                time.sleep(0.02)
            period = 1.0 / self.flood_rate(target.name)
            start = time.monotonic()
            for i in range(count):
                publisher.publish(self.generator.message(kind, self._case(target)))
                outcome.sent += 1
                delay = start + (i + 1) * period - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            if "emergency_stop" in target.name and hasattr(kind, "data"):
                publisher.publish(kind(data=False))  # the newest latched value: no stop requested
        finally:
            time.sleep(0.2)  # let the reliable queue drain before the publisher goes
            self.node.destroy_publisher(publisher)
        return outcome

    def fuzz_service(self, target: Target, count: int, timeout: float, batch: int = 10) -> Outcome:
        """Call the target service `count` times with malformed requests (`batch` calls in flight at once)."""
        outcome = Outcome(target)
        try:
            service_type = request_class(target.type_name)
            client_type = _service_class(target.type_name)
        except FuzzError as error:
            outcome.errors.append(str(error))
            return outcome
        client = self.node.create_client(client_type, target.name)
        try:
            if not client.wait_for_service(timeout_sec=10.0):
                outcome.errors.append(f"service {target.name} not available")
                return outcome
            while outcome.sent < count:
                futures = []
                for _ in range(min(batch, count - outcome.sent)):
                    futures.append(client.call_async(self.generator.message(service_type, self._case(target))))
                    outcome.sent += 1
                deadline = time.monotonic() + timeout
                while time.monotonic() < deadline and not all(f.done() for f in futures):
                    time.sleep(0.005)
                outcome.answered += sum(1 for f in futures if f.done() and f.exception() is None)
                for future in futures:
                    if not future.done():
                        client.remove_pending_request(future)
            if target.name.endswith("_action/send_goal"):
                self._cancel_all(target.name[: -len("send_goal")] + "cancel_goal", timeout)
        finally:
            self.node.destroy_client(client)
        return outcome

    def _cancel_all(self, cancel_service: str, timeout: float) -> None:
        from action_msgs.srv import CancelGoal

        client = self.node.create_client(CancelGoal, cancel_service)
        try:
            if client.wait_for_service(timeout_sec=timeout):
                future = client.call_async(CancelGoal.Request())  # zero goal id and stamp: cancel every goal
                deadline = time.monotonic() + timeout
                while time.monotonic() < deadline and not future.done():
                    time.sleep(0.01)
        finally:
            self.node.destroy_client(client)

    def _case(self, target: Target) -> str:
        return self.generator.random.choice(target.cases)


def _service_class(type_name: str) -> type:
    import importlib

    package, kind, name = type_name.split("/")
    module = importlib.import_module(f"{package}.{kind}")
    if hasattr(module, name):
        return getattr(module, name)
    # An action's internal services: `pkg/action/Name_SendGoal` is `Name.Impl.SendGoalService`.
    action, _, part = name.rpartition("_")
    impl = getattr(module, action).Impl
    return getattr(impl, {"SendGoal": "SendGoalService", "GetResult": "GetResultService"}.get(part, part))
