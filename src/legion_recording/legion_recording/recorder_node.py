"""The recorder node: discovers topics from the ROS graph and records the chosen ones, as serialised CDR (`raw=True`
subscriptions: no deserialising), into a bag through `legion_recording.recording.Recording`.

Node `recorder` (started by `legion record`):
- subscribes to every topic the recording chooses (selection.py), with the QoS its publishers offer (reliable only if
  all are, transient-local only if all are); topics appearing later are picked up by a discovery timer;
- messages are stamped with the node's clock: the simulator's `clock` with `use_sim_time` (messages before the first
  clock are counted as dropped), else the system time;
- `flush` timer (steady clock) writes the buffered messages from one thread.
"""

from __future__ import annotations

from functools import partial

from rclpy.clock import Clock, ClockType
from rclpy.parameter import Parameter

from legion_common.node import LegionNode
from legion_recording.conversions import graph_to_dict, make_qos, message_class, qos_to_dict, subscription_policies
from legion_recording.errors import RecordingError
from legion_recording.recording import Recording

SUBSCRIPTION_DEPTH = 1000
"""Messages a subscription queues before the oldest are dropped (the executor falls behind under load)."""


class RecorderNode(LegionNode):
    """Records topics into a bag (see the module docstring)."""

    def __init__(self, recording: Recording, use_sim_time: bool, discovery_period: float = 0.1,
                 flush_period: float = 0.2):
        """`discovery_period` [s, wall]: how often the graph is searched for new topics (rosbag2's default polling
        interval, 0.1 s: a topic whose publisher is discovered late loses at most that much)."""
        super().__init__("recorder", parameter_overrides=[Parameter("use_sim_time", value=use_sim_time)])
        if discovery_period <= 0 or flush_period <= 0:
            raise RecordingError("discovery and flush periods must be > 0 s")
        self.recording = recording
        self.dropped = 0
        self._recorded_subscriptions = []
        steady = Clock(clock_type=ClockType.STEADY_TIME)
        self.create_timer(discovery_period, self.discover, clock=steady)
        self.create_timer(flush_period, self.flush, clock=steady)
        self.discover()

    def discover(self) -> None:
        """Subscribe to the chosen topics that have publishers and are not recorded yet."""
        graph = graph_to_dict(self.get_topic_names_and_types())
        # Topics already decided (recorded, unavailable, or left out by the selection) are not looked at again.
        known = set(self.recording.topics) | set(self.recording.unavailable) | set(self.recording.skipped)
        offered: dict[str, list[dict]] = {}
        published: dict[str, list[str]] = {}
        for topic, types in graph.items():
            if topic in known:
                continue
            infos = self.get_publishers_info_by_topic(topic)
            if infos:
                offered[topic] = [qos_to_dict(info.qos_profile) for info in infos]
                published[topic] = types
        for topic, type_name in self.recording.update_graph(published, offered):
            try:
                kind = message_class(type_name)
            except RecordingError as error:
                self.get_logger().warning(f"{topic}: not recorded: {error}")
                continue
            reliability, durability = subscription_policies(offered[topic])
            self._recorded_subscriptions.append(self.create_subscription(
                kind, topic, partial(self._on_message, topic), make_qos(reliability, durability, SUBSCRIPTION_DEPTH),
                raw=True))
        for topic, why in self.recording.unavailable.items():
            if topic not in known:
                self.get_logger().warning(f"{topic}: not recorded: {why}")

    def _on_message(self, topic: str, data: bytes) -> None:
        now = self.get_clock().now().nanoseconds
        if now <= 0:  # sim time before the first clock message
            self.dropped += 1
            return
        self.recording.receive(topic, now, data)

    def flush(self) -> None:
        try:
            self.recording.flush()
        except RecordingError as error:  # never crash: report and keep the bag readable
            self.get_logger().error(f"recording: {error}")

    def now_ns(self) -> int:
        return self.get_clock().now().nanoseconds

    def scene_parameters(self, timeout: float) -> dict[str, str]:
        """`robot` and `scene` of the simulator (`sim_bridge`'s parameters in this node's namespace), {} if it does
        not answer within `timeout` [s] (a real robot has no simulator: give them on the command line)."""
        from rcl_interfaces.srv import GetParameters

        client = self.create_client(GetParameters, "sim_bridge/get_parameters")
        try:
            if not client.wait_for_service(timeout_sec=timeout):
                return {}
            future = client.call_async(GetParameters.Request(names=["robot", "scene"]))
            import rclpy

            rclpy.spin_until_future_complete(self, future, timeout_sec=timeout)
            if not future.done() or future.result() is None:
                return {}
            values = future.result().values
            return {name: value.string_value for name, value in zip(("robot", "scene"), values, strict=False)
                    if value.string_value}
        finally:
            self.destroy_client(client)
