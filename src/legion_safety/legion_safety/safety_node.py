"""`safety`: the ROS 2 adapter of `legion_safety.zones` (speed and separation monitoring, the e-stop latch).

A thin node: callbacks convert and store; one timer (`rate`, node clock: simulated time in simulation) asks the
monitor for the zone and publishes it. Errors are caught at the callback boundary: the published state becomes a
protective stop with the error as its reason, never nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from diagnostic_msgs.msg import DiagnosticArray
from nav_msgs.msg import Odometry
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from std_msgs.msg import Bool, Float64
from std_srvs.srv import Trigger
from visualization_msgs.msg import MarkerArray

from legion_common.diagnostics import ERROR, OK, WARN, diagnostics_msg
from legion_common.frames import frame_error, frame_prefix_param
from legion_common.node import LegionNode
from legion_common.node_main import run_node
from legion_common.parameters import ParameterError, declare_parameters, param, require
from legion_common.stamps import to_stamp
from legion_description import load_robot_config
from legion_interfaces.msg import SafetyState, TrackedPersonArray
from legion_interfaces.srv import SafetyReset
from legion_safety import conversions as conv
from legion_safety.errors import SafetyError
from legion_safety.separation import RobotSafety, SeparationParameters
from legion_safety.zones import (
    Assessment,
    ControlledStop,
    ControlledStopParameters,
    EmergencyStopLatch,
    SeparationMonitor,
    TrackedPerson,
    Zone,
    ZoneParameters,
)

INPUT_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=10, reliability=ReliabilityPolicy.RELIABLE)
LATCHED_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1, reliability=ReliabilityPolicy.RELIABLE,
                         durability=DurabilityPolicy.TRANSIENT_LOCAL)
"""safety/state, safety/speed_scale, and the hardware's emergency_stop."""


@dataclass(frozen=True)
class SafetyParameters:
    """The node's parameters (`/**/safety` in config/stack.yaml)."""

    robot: str = param("centurion", "Robot name or robot file: its `safety:` block (stopping time and distance, "
                                    "body radius).")
    frame_prefix: str = frame_prefix_param()
    rate: float = param(20.0, "Zone evaluation and publication of safety/state and safety/speed_scale.", unit="Hz",
                        low=1.0, high=1000.0)
    diagnostics_rate: float = param(1.0, "diagnostics rate.", unit="Hz", low=0.1, high=10.0)
    other_robots: tuple[str, ...] = param(("",), "Odometry topics of the other robots of a shared cell (a multi-robot "
                                                 "launch sets them, e.g. /robot_2/odom/decimated): each robot is "
                                                 "monitored like a person; empty strings are ignored.")
    marker_rate: float = param(5.0, "Rate of `safety/markers` (distance rings, people, their velocity, the zone), "
                               "published only while subscribed; 0 disables them.", unit="Hz", low=0.0, high=50.0)
    separation: SeparationParameters = field(default_factory=SeparationParameters)
    zones: ZoneParameters = field(default_factory=ZoneParameters)
    controlled_stop: ControlledStopParameters = field(default_factory=ControlledStopParameters)

    def validated(self) -> SafetyParameters:
        require(bool(self.robot), "robot must not be empty")
        self.zones.validated()
        return self


class SafetyNode(LegionNode):
    """Speed and separation monitoring of the people perception tracks, and the emergency-stop latch.

    Subscribes:
        `perception/people/tracked` (legion_interfaces/TrackedPersonArray, frame odom, reliable depth 10); people in
            another frame are not taken (the input then goes stale: a protective stop after `zones.input_timeout`).
        `odom` (nav_msgs/Odometry; remapped to `odom/decimated` by the launch): base position and speed.
        each topic of `other_robots` (nav_msgs/Odometry): another robot of a shared cell, monitored like a person at
            the nearest point of its body (its base less this robot's `body_radius`).
        `emergency_stop` (std_msgs/Bool, reliable, transient-local): true from any source latches the stop.
        `hardware/status` (diagnostic_msgs/DiagnosticArray): the hardware's `emergency_stop` key turning true latches
            it too.
        `safety/emergency_stop` (std_msgs/Bool, reliable, transient-local): true latches a category-1 stop: speed
            scale 0 at once (a walking robot comes to double support and stands), then, once the base is still (or
            after `controlled_stop.timeout`), `emergency_stop` true to the hardware (its hold).
    Publishes (reliable, transient-local, depth 1, at `rate`):
        `safety/state` (legion_interfaces/SafetyState): zone, reason, nearest person, S_p, warning distance, scale.
        `safety/speed_scale` (std_msgs/Float64, 0..1): the factor on walking and arm speeds (0: stop).
        `diagnostics` (diagnostic_msgs/DiagnosticArray) at `diagnostics_rate`.
        `emergency_stop` (std_msgs/Bool, reliable, transient-local): true at the end of a category-1 stop; false
            when such a stop is reset.
        `safety/markers` (`~/markers`, visualization_msgs/MarkerArray, frame odom, transient-local): the protective
            and warning distances as rings around the base, the tracked people and their velocity, the zone (at
            `marker_rate`, only while subscribed).
    Service:
        `safety/reset` (legion_interfaces/SafetyReset): clears the latched e-stop, given `requested_by` and `reason`
            (both logged); refused while `emergency_stop` is still true. Then calls the hardware's
            `emergency_stop/reset` (std_srvs/Trigger).
    Every frame is this robot's: with `frame_prefix` (a multi-robot scene, e.g. `robot_1/`) `robot_1/odom`.
    Parameters:
        `robot`, `frame_prefix`, `rate` [Hz], `diagnostics_rate` [Hz], `marker_rate` [Hz], `other_robots`,
        `separation.*` (T_r, C, Z_d, Z_r), `zones.*` (warning and release margins, resume time, input timeout),
        `controlled_stop.*` (still speed and time, timeout); docs/safety.md.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__("safety", **kwargs)
        self.params = declare_parameters(self, SafetyParameters)
        config = load_robot_config(self.params.robot)
        self.robot_name = config.name
        self.odom_frame = self.params.frame_prefix + config.frames["odom"]
        self.robot_safety = RobotSafety.from_mapping(config.safety, f"robot '{config.name}' safety")
        self.monitor = SeparationMonitor(self.params.zones, self.params.separation, self.robot_safety)
        self.latch = EmergencyStopLatch()
        self.controlled = ControlledStop(self.params.controlled_stop)
        self._asserted_hardware = False
        """This node has published `emergency_stop` true (the end of a category-1 stop)."""
        self._hardware_latched = False
        """The hardware's e-stop as its newest hardware/status said."""
        self._people: tuple[float, list] = (-math.inf, [])
        self._odometry: tuple[float, object, float] | None = None
        self._errors: list[str] = []
        self._counts = {"protective_stops": 0, "warnings": 0, "emergency_stops": 0, "resets": 0,
                        "resets_refused": 0}
        self._zone = Zone.PROTECTIVE_STOP
        self._next_diagnostics = -math.inf
        self._next_markers = -math.inf
        self._last_now = -math.inf
        self.last: Assessment | None = None

        self.pub_state = self.create_publisher(SafetyState, "safety/state", LATCHED_QOS)
        self.pub_scale = self.create_publisher(Float64, "safety/speed_scale", LATCHED_QOS)
        self.pub_diagnostics = self.create_publisher(DiagnosticArray, "diagnostics", INPUT_QOS)
        self.create_subscription(TrackedPersonArray, "perception/people/tracked", self.on_people, INPUT_QOS)
        self.create_subscription(Odometry, "odom", self.on_odometry, INPUT_QOS)
        self._others: dict[str, TrackedPerson] = {}
        """Odometry topic -> the other robot as a person (its body's nearest point to this robot's base)."""
        for topic in (t for t in self.params.other_robots if t):
            self.create_subscription(Odometry, topic, lambda msg, t=topic: self.on_other_robot(t, msg), INPUT_QOS)
        self.create_subscription(Bool, "emergency_stop", self.on_emergency_stop, LATCHED_QOS)
        self.create_subscription(DiagnosticArray, "hardware/status", self.on_hardware_status, INPUT_QOS)
        self.create_subscription(Bool, "safety/emergency_stop", self.on_controlled_stop, LATCHED_QOS)
        self.pub_estop = self.create_publisher(Bool, "emergency_stop", LATCHED_QOS)
        self.pub_markers = self.create_publisher(MarkerArray, "~/markers", LATCHED_QOS)
        self.create_service(SafetyReset, "safety/reset", self.on_reset)
        self.hardware_reset = self.create_client(Trigger, "emergency_stop/reset")
        self.create_timer(1.0 / self.params.rate, self.on_timer)
        self.get_logger().info(
            f"safety for '{config.name}': T_r {self.params.separation.reaction_time:.2f} s, T_s "
            f"{self.robot_safety.stopping_time:.2f} s, body radius {self.robot_safety.body_radius:.2f} m")

    # ------------------------------------------------------------------------------------------------ inputs
    def _now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def on_people(self, msg: TrackedPersonArray) -> None:
        error = frame_error(msg.header.frame_id, self.odom_frame, "perception/people/tracked")
        if error is not None:  # people it cannot place: not taken, so the people input goes stale (a stop)
            self._errors.append(error)
            self.get_logger().warning(f"{error}: ignored", throttle_duration_sec=5.0)
            return
        self._people = conv.people_from_msg(msg)

    def on_odometry(self, msg: Odometry) -> None:
        self._odometry = conv.odometry_from_msg(msg)

    def on_other_robot(self, topic: str, msg: Odometry) -> None:
        """Another robot of the cell, from its odometry. Its `odom` is taken as this robot's: a multi-robot scene
        starts every state estimator at its robot's start pose in the scene's world frame, so their odom frames
        coincide (a shared localisation frame would be needed on real robots). Its body is taken as this robot's
        `body_radius` around its base; a non-finite pose is left out (the last good one is kept)."""
        robot = conv.other_robot_from_odometry(msg, f"robot {topic.strip('/').split('/')[0]}")
        if robot is not None:
            self._others[topic] = robot

    def on_emergency_stop(self, msg: Bool) -> None:
        self.latch.asserted = bool(msg.data)
        if msg.data:
            self._latch("emergency_stop topic")

    def on_controlled_stop(self, msg: Bool) -> None:
        if msg.data:
            self.controlled.start(self._now())
            self._latch("safety/emergency_stop (category 1: controlled stop, then hold)")

    def on_hardware_status(self, msg: DiagnosticArray) -> None:
        """The hardware latching its e-stop latches this node too: on the report's change to true, so that a status
        sent before a reset reached the hardware (still true) does not latch again what the reset just cleared."""
        latched = conv.hardware_emergency_stop(msg)
        if latched is None:
            return
        rising = latched and not self._hardware_latched
        self._hardware_latched = latched
        if rising:
            self._latch("hardware (hardware/status)")

    def _latch(self, source: str) -> None:
        if self.latch.trigger(self._now(), source):
            self._counts["emergency_stops"] += 1
            self.get_logger().error(self.latch.log[-1])
            self.on_timer()  # publish the stop now, not at the next tick

    def on_reset(self, request: SafetyReset.Request, response: SafetyReset.Response) -> SafetyReset.Response:
        if self._asserted_hardware:  # the assertion on emergency_stop is this node's own (a category-1 stop)
            self.latch.asserted = False
        success, message = self.latch.reset(self._now(), request.requested_by, request.reason)
        response.success, response.message = success, message
        if not success:
            self._counts["resets_refused"] += 1
            self.get_logger().warning(f"safety/reset from '{request.requested_by}': {message}")
            return response
        self._counts["resets"] += 1
        self.get_logger().warning(message)
        self.controlled.started = None
        if self._asserted_hardware:
            self.pub_estop.publish(Bool(data=False))  # late joiners must not latch on this node's old true
            self._asserted_hardware = False
        if self.hardware_reset.service_is_ready():
            self.hardware_reset.call_async(Trigger.Request()).add_done_callback(self._hardware_reset_done)
            response.message += "; hardware emergency_stop/reset requested"
        else:
            response.message += "; hardware emergency_stop/reset not available"
        return response

    def _hardware_reset_done(self, future) -> None:
        result = future.result()
        if result is None or not result.success:
            self.get_logger().error(f"hardware emergency_stop/reset failed: {getattr(result, 'message', 'no answer')}")
            self._latch("hardware (its emergency_stop/reset failed)")  # it still holds: so does this node
        else:
            self.get_logger().info(f"hardware emergency_stop/reset: {result.message}")

    # ------------------------------------------------------------------------------------------------ the cycle
    def on_timer(self) -> None:
        now = self._now()
        if now < self._last_now - 0.5:  # time jumped back (a simulation reset): start over, stopped
            self.get_logger().warning(f"time jumped back from {self._last_now:.2f} s to {now:.2f} s: inputs forgotten")
            self.monitor.stopped, self.monitor.clear_since = True, None
            self._people, self._odometry = (-math.inf, []), None
            self._next_diagnostics = self._next_markers = -math.inf
        self._last_now = now
        speed = self._odometry[2] if self._odometry is not None else math.nan
        due = self.controlled.update(now, speed)
        if due and self.latch.latched:
            self.pub_estop.publish(Bool(data=True))
            self._asserted_hardware = True
            self.get_logger().error(f"category-1 stop: base {due} after the controlled stop; emergency_stop asserted "
                                    "to the hardware (hold)")
        try:
            assessment = self._assess(now)
        except Exception as error:  # the callback boundary: a stop with the error as its reason
            self._errors.append(f"{type(error).__name__}: {error}")
            self.monitor.stopped, self.monitor.clear_since = True, None
            assessment = Assessment(Zone.PROTECTIVE_STOP, f"internal error: {error}", 0.0)
        if assessment.zone != self._zone:
            if assessment.zone == Zone.PROTECTIVE_STOP:
                self._counts["protective_stops"] += 1
            elif assessment.zone == Zone.WARNING:
                self._counts["warnings"] += 1
            line = f"zone {self._zone.name} -> {assessment.zone.name}: {assessment.reason}"
            if assessment.zone >= Zone.PROTECTIVE_STOP:
                self.get_logger().warning(line)
            else:
                self.get_logger().info(line)
            self._zone = assessment.zone
        self.last = assessment
        self.pub_state.publish(conv.state_msg(assessment, now, self.odom_frame, self.latch.latched))
        self.pub_scale.publish(Float64(data=float(assessment.speed_scale)))
        if now >= self._next_diagnostics:
            self._next_diagnostics = now + 1.0 / self.params.diagnostics_rate
            self._publish_diagnostics(now, assessment)
        if (self.params.marker_rate > 0.0 and now >= self._next_markers
                and self.pub_markers.get_subscription_count() > 0):
            self._next_markers = now + 1.0 / self.params.marker_rate
            base = self._odometry[1] if self._odometry is not None else None
            self.pub_markers.publish(conv.markers_msg(assessment, base, self._people[1], to_stamp(now),
                                                      self.odom_frame))

    def _assess(self, now: float) -> Assessment:
        if self._odometry is None:
            base, speed, odom_stamp = None, 0.0, -math.inf
        else:
            odom_stamp, base, speed = self._odometry
        people_stamp, people = self._people
        assessment = self.monitor.update(now, base, speed, people, people_stamp, odom_stamp,
                                         conv.nearest_points(list(self._others.values()), base,
                                                             self.robot_safety.body_radius))
        if self.latch.latched:
            return Assessment(Zone.EMERGENCY_STOP, f"emergency stop latched by {self.latch.source} at "
                              f"{self.latch.since:.3f} s; safety/reset to clear", 0.0, assessment.nearest_distance,
                              assessment.protective_distance, assessment.warning_distance, assessment.person_id)
        return assessment

    def _publish_diagnostics(self, now: float, assessment: Assessment) -> None:
        level = {Zone.CLEAR: OK, Zone.WARNING: OK, Zone.PROTECTIVE_STOP: WARN, Zone.EMERGENCY_STOP: ERROR}[
            assessment.zone]
        values = {"zone": assessment.zone.name, "speed_scale": assessment.speed_scale,
                  "nearest_person_distance": assessment.nearest_distance,
                  "protective_distance": assessment.protective_distance, "person": assessment.person_id,
                  "emergency_stop_latched": self.latch.latched, "emergency_stop_source": self.latch.source,
                  "last_error": self._errors[-1] if self._errors else "", **self._counts}
        self.pub_diagnostics.publish(diagnostics_msg(now, "safety", level, assessment.reason, values,
                                                     hardware_id=self.robot_name))
        self._errors.clear()


def main(args: list[str] | None = None) -> int:
    from legion_description import DescriptionError

    return run_node("safety", SafetyNode, args, fatal=(ParameterError, DescriptionError, SafetyError))


if __name__ == "__main__":
    raise SystemExit(main())
