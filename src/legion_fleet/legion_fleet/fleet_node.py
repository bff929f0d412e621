"""`fleet_coordinator`: the ROS 2 adapter of `legion_fleet.reservations.ReservationTable`, one per cell.

A thin node in the cell's namespace (the root namespace of a multi-robot launch, beside the simulator), shared by
every robot's executive:

- service `fleet/reserve` (legion_interfaces/srv/Reserve): all of the named resources for `lease` seconds, or none
  (BUSY: queued, ask again; WOULD_DEADLOCK: release first; INVALID: a malformed request, nothing changed);
- service `fleet/release` (legion_interfaces/srv/Release): what the robot holds of them (empty: all), and its queues;
- `fleet/reservations` (diagnostic_msgs/DiagnosticArray) at `publish_rate` and on every change: one status per
  resource held or waited for, values `holder`, `expires` and `queue` (robots in order);
- `diagnostics`: a summary `fleet_coordinator` (how many resources held, robots queued, leases lapsed so far).

Times are the node's clock (simulated time with `use_sim_time`, as the executives that ask). A lease that lapses is
logged as a warning: its robot stopped renewing (dead, hung or cut off).
"""

from __future__ import annotations

from dataclasses import dataclass

from diagnostic_msgs.msg import DiagnosticArray
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy

from legion_common.diagnostics import OK, WARN, diagnostics_msg
from legion_common.node import LegionNode
from legion_common.node_main import run_node
from legion_common.parameters import ParameterError, declare_parameters, param
from legion_fleet.reservations import Code, ReservationError, ReservationTable
from legion_interfaces.srv import Release, Reserve

STATUS_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=10, reliability=ReliabilityPolicy.RELIABLE)


@dataclass(frozen=True)
class FleetParameters:
    """The coordinator's parameters (also the node's, under the same names)."""

    max_lease: float = param(600.0, "The longest lease granted at once.", unit="s", low=1.0, high=86400.0)
    queue_timeout: float = param(10.0, "A queued robot that has not asked again for this long leaves the queue.",
                                 unit="s", low=0.5, high=600.0)
    publish_rate: float = param(2.0, "Rate of fleet/reservations and diagnostics (and the expiry check).",
                                unit="Hz", low=0.1, high=50.0)


class FleetCoordinator(LegionNode):
    """Serves fleet/reserve and fleet/release; publishes fleet/reservations and diagnostics."""

    def __init__(self, **node_options) -> None:
        """`node_options` go to rclpy's Node (e.g. `parameter_overrides` in tests)."""
        super().__init__("fleet_coordinator", **node_options)
        self.params = declare_parameters(self, FleetParameters)
        self.table = ReservationTable(max_lease=self.params.max_lease, queue_timeout=self.params.queue_timeout)
        self.lapsed = 0
        self.pub_state = self.create_publisher(DiagnosticArray, "fleet/reservations", STATUS_QOS)
        self.pub_diagnostics = self.create_publisher(DiagnosticArray, "diagnostics", STATUS_QOS)
        self.create_service(Reserve, "fleet/reserve", self.on_reserve)
        self.create_service(Release, "fleet/release", self.on_release)
        self.create_timer(1.0 / self.params.publish_rate, self.publish)
        self.get_logger().info(f"reservations: leases up to {self.params.max_lease:g} s, queue timeout "
                               f"{self.params.queue_timeout:g} s")

    def _now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def _expire(self, now: float) -> None:
        for resource, robot in self.table.expire(now):
            self.lapsed += 1
            self.get_logger().warning(f"{robot}'s lease of {resource} lapsed (not renewed): {resource} is free")

    def on_reserve(self, request: Reserve.Request, response: Reserve.Response) -> Reserve.Response:
        now = self._now()
        self._expire(now)
        try:
            answer = self.table.reserve(request.robot, list(request.resources), float(request.lease), now)
        except ReservationError as error:
            response.code, response.expires, response.message = int(Code.INVALID), float("nan"), str(error)
            response.holders = ["" for _ in request.resources]
            self.get_logger().warning(f"reserve refused: {error}", throttle_duration_sec=5.0)
            return response
        response.code, response.holders = int(answer.code), list(answer.holders)
        response.expires, response.message = answer.expires, answer.message
        if answer.code != Code.BUSY:  # a BUSY robot asks again every second or so: no log line each time
            self.get_logger().info(f"reserve {request.robot} {list(request.resources)}: {answer.code.name}: "
                                   f"{answer.message}")
            self.publish()
        return response

    def on_release(self, request: Release.Request, response: Release.Response) -> Release.Response:
        now = self._now()
        self._expire(now)
        try:
            released = self.table.release(request.robot, list(request.resources), now)
        except ReservationError as error:
            response.released, response.message = [], str(error)
            return response
        response.released = released
        response.message = (f"{request.robot} released {', '.join(released)}" if released
                            else f"{request.robot} held none of them")
        if released:
            self.get_logger().info(response.message)
            self.publish()
        return response

    def publish(self) -> None:
        now = self._now()
        self._expire(now)
        stamp = self.get_clock().now().to_msg()
        state = DiagnosticArray()
        state.header.stamp = stamp
        for resource in sorted(set(self.table.leases) | set(self.table.queues)):
            lease = self.table.leases.get(resource)
            queue = [w.robot for w in self.table.queues.get(resource, ())]
            holder = lease.robot if lease else ""
            state.status.extend(diagnostics_msg(stamp, resource, OK if not queue else WARN,
                                                f"held by {holder}" if holder else "free, robots queued", {
                                                    "holder": holder,
                                                    "expires": round(lease.expires, 3) if lease else "",
                                                    "queue": " ".join(queue)}).status)
        self.pub_state.publish(state)
        queued = len({w.robot for queue in self.table.queues.values() for w in queue})
        self.pub_diagnostics.publish(diagnostics_msg(
            stamp, "fleet_coordinator", OK, f"{len(self.table.leases)} resource(s) held, {queued} robot(s) queued",
            {"held": len(self.table.leases), "queued": queued, "leases_lapsed": self.lapsed}))


def main(args: list[str] | None = None) -> int:
    return run_node("fleet_coordinator", FleetCoordinator, args, fatal=(ParameterError,))


if __name__ == "__main__":
    raise SystemExit(main())
