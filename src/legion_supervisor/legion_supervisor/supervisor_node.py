"""`supervisor`: the ROS 2 adapter of `legion_supervisor.supervisor.Supervisor` (liveness of the launch's nodes).

A thin node. Subscribes: `diagnostics` and `hardware/status` (DiagnosticArray: each status's name says its node; its
arrival time on the node's clock, simulated in simulation, is the node's heartbeat; from `hardware/status` also the
hardware's `protective_stop` / `stop_reason`). A timer on the steady (wall) clock, at `check_rate`, reads the node
names in the graph and publishes:

- `supervisor/status` (diagnostic_msgs/DiagnosticArray): one status per watched node, named `supervisor: <node>`,
  level OK (alive), WARN (stale, or not yet seen), ERROR (dead); values `state`, `in_graph`, `deaths`, `restarts`,
  `detail`;
- `supervisor/pause` (std_msgs/Bool, reliable, transient-local): true while a node of `pause_on` is not alive (the
  gait planner then stands and manipulation holds), false otherwise; on every change and at `check_rate`;
- `diagnostics`: a summary status `supervisor` (ERROR while a node is dead) with the pause, the dead nodes and the
  hardware's stop state (a dead whole-body controller: the hardware's watchdog holds the joints).

Parameters: see `SupervisorParameters` (`watched`, `pause_on`, `diagnostics_timeout`, `graph_grace`, `check_rate`).
The timer runs on wall time so that a dead simulator (simulated time stopped) is still reported.
"""

from __future__ import annotations

import time

from diagnostic_msgs.msg import DiagnosticArray
from rclpy.clock import Clock, ClockType
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from std_msgs.msg import Bool

from legion_common.diagnostics import ERROR, OK, WARN, diagnostics_msg
from legion_common.node import LegionNode
from legion_common.node_main import run_node
from legion_common.parameters import ParameterError, declare_parameters
from legion_supervisor.supervisor import (
    ALIVE,
    DEAD,
    Supervisor,
    SupervisorError,
    SupervisorParameters,
    Verdict,
    summary,
)

INPUT_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=50, reliability=ReliabilityPolicy.RELIABLE)
PAUSE_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1, reliability=ReliabilityPolicy.RELIABLE,
                       durability=DurabilityPolicy.TRANSIENT_LOCAL)
"""supervisor/pause: a node that (re)joins late gets the current pause."""


class SupervisorNode(LegionNode):
    """Watches the nodes of the launch; publishes supervisor/status, supervisor/pause and diagnostics."""

    def __init__(self, **node_options) -> None:
        """`node_options` go to rclpy's Node (e.g. `parameter_overrides` in tests)."""
        super().__init__("supervisor", **node_options)
        self.params = declare_parameters(self, SupervisorParameters).validated()
        self.supervisor = Supervisor(self.params)
        self.pub_status = self.create_publisher(DiagnosticArray, "supervisor/status", INPUT_QOS)
        self.pub_pause = self.create_publisher(Bool, "supervisor/pause", PAUSE_QOS)
        self.pub_diagnostics = self.create_publisher(DiagnosticArray, "diagnostics", INPUT_QOS)
        self.create_subscription(DiagnosticArray, "diagnostics", self.on_diagnostics, INPUT_QOS)
        self.create_subscription(DiagnosticArray, "hardware/status", self.on_hardware_status, INPUT_QOS)
        self._hardware: dict[str, str] = {}
        self._pause: bool | None = None
        self.create_timer(1.0 / self.params.check_rate, self.on_timer, clock=Clock(clock_type=ClockType.STEADY_TIME))
        self.get_logger().info(f"watching {', '.join(self.supervisor.nodes)}; pause on "
                               f"{', '.join(self.supervisor.pause_on) or 'nothing'}")

    def _now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def on_diagnostics(self, msg: DiagnosticArray) -> None:
        now = self._now()
        for status in msg.status:
            if not status.name.startswith("supervisor"):
                self.supervisor.observe_diagnostics(status.name, now)

    def on_hardware_status(self, msg: DiagnosticArray) -> None:
        self.on_diagnostics(msg)
        for status in msg.status:
            self._hardware = {kv.key: kv.value for kv in status.values
                              if kv.key in ("protective_stop", "stop_reason", "emergency_stop", "watchdog_trips")}

    def on_timer(self) -> None:
        try:
            names = [name for name, _ in self.get_node_names_and_namespaces()]
            verdict = self.supervisor.check(names, self._now(), time.monotonic())
            self._publish(verdict)
        except Exception as error:  # the callback boundary: report it, keep watching
            self.get_logger().error(f"supervisor check failed: {type(error).__name__}: {error}",
                                    throttle_duration_sec=5.0)

    def _publish(self, verdict: Verdict) -> None:
        now = self._now()
        for change in verdict.changes:
            (self.get_logger().error if "-> dead" in change else self.get_logger().warning)(change)
        if verdict.pause != self._pause:
            self.get_logger().warning(verdict.pause_reason or "resumed: every node work depends on is alive")
        self._pause = verdict.pause
        self.pub_pause.publish(Bool(data=verdict.pause))
        status = DiagnosticArray()
        status.header.stamp = self.get_clock().now().to_msg()
        for health in verdict.nodes.values():
            level = OK if health.state == ALIVE else ERROR if health.state == DEAD else WARN
            status.status.extend(diagnostics_msg(now, f"supervisor: {health.name}", level, health.state, {
                "state": health.state, "in_graph": health.in_graph, "deaths": health.deaths,
                "restarts": health.restarts, "detail": health.detail}).status)
        self.pub_status.publish(status)
        dead = verdict.dead
        level = ERROR if dead else WARN if verdict.pause else OK
        message = summary(list(verdict.nodes.values())) if (dead or verdict.pause) else "every node alive"
        values = {"pause": verdict.pause, "pause_reason": verdict.pause_reason, "dead": " ".join(dead),
                  "deaths": sum(h.deaths for h in verdict.nodes.values()),
                  "restarts": sum(h.restarts for h in verdict.nodes.values())}
        values |= {f"hardware.{key}": value for key, value in self._hardware.items()}
        self.pub_diagnostics.publish(diagnostics_msg(now, "supervisor", level, message, values))


def main(args: list[str] | None = None) -> int:
    return run_node("supervisor", SupervisorNode, args, fatal=(ParameterError, SupervisorError))


if __name__ == "__main__":
    raise SystemExit(main())
