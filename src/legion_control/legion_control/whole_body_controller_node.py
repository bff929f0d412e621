"""`whole_body_controller`: the ROS adapter of `WholeBodyController` (balance, CoM, feet, hands, posture, grasps).

Subscribes:
    `joint_states` (sensor_msgs/JointState): the control tick. Every message is answered by exactly one
        `joint_commands` message stamped with its stamp (lockstep simulation needs that).
    `odom` (nav_msgs/Odometry): base pose and twist; may be slower than `joint_states` (the controller propagates the
        base with leg kinematics in between). In the stack it comes from `state_estimator`; the node reads only
        `odom`, never ground truth.
    `gait/reference` (legion_interfaces/GaitReference): CoM, base orientation, contacts and swing soles; empty
        means balance in place.
    `balance/offset` (legion_interfaces/BalanceOffset): CoM offset for leaning, swaying, squatting.
    `<side>_hand/target` (geometry_msgs/PoseStamped, e.g. `left_hand/target`): gripper frame pose in `odom` or
        `base_footprint` (both with the `frame_prefix`, e.g. `robot_1/odom`, in a multi-robot scene); an empty
        frame_id, a non-finite pose or a target older than `hand.target_timeout` releases the hand task.
    `<side>_hand/command` (legion_interfaces/HandCommand): OPEN / POWER / PINCH with a closure level.
    `<side>_hand/payload` (std_msgs/Float64): the mass [kg] the hand holds (0: none); balance and arm torques carry
        its weight at the gripper frame.
    `posture/reference` (sensor_msgs/JointState): joint positions replacing the standing posture's for the named
        joints; no names = back to the standing posture.
Publishes:
    `joint_commands` (legion_interfaces/JointCommand): feed-forward torque plus integrated position and velocity
        targets with moderate gains (hands: grasp targets with the robot's hand gains).
    `diagnostics` (diagnostic_msgs/DiagnosticArray): state, timing (median, p99, max of the cycle, model update, QP
        build, QP solve), task errors, planned contact forces and centres of pressure, the capture point's distance
        outside the support polygon and a step's reach there, rejected references (and `inputs_rejected_total`,
        `inputs_rejected.<topic>`: messages rejected since the start); once fallen (ERROR, state `fallen`): the
        reason and the response (`fall_response`: the protective fall posture, or damping only).
Services:
    `~/reset` (std_srvs/Trigger): forget references and the fall state; balance in place again.
Parameters:
    `legion_control.parameters.WbcNodeParameters` (`robot`, `frame_prefix`, `solver`, `diagnostics_rate`) and every
    tunable of `legion_control.parameters.WbcParameters` under its dotted name (`com.stiffness`, ...), each with its
    unit and range.

The joint_states callback runs the control cycle (the hardware's state message is the control tick); the other
callbacks convert, check and store. Errors are caught at the callback boundary and reported on `diagnostics`.
"""

from __future__ import annotations

import gc
import sys
import threading
from collections import Counter, deque

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from geometry_msgs.msg import PoseStamped
from nav_msgs.msg import Odometry
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import JointState
from std_msgs.msg import Float64
from std_srvs.srv import Trigger

from legion_common.diagnostics import diagnostics_msg
from legion_common.node import LegionNode
from legion_common.node_main import run_node, spin
from legion_common.parameters import ParameterError, declare_parameters
from legion_common.realtime import configure_realtime_from
from legion_common.stamps import to_seconds
from legion_control import conversions as conv
from legion_control.errors import ControlError
from legion_control.parameters import WbcNodeParameters, WbcParameters
from legion_control.references import BaseState
from legion_control.whole_body_controller import ControllerState, CycleReport, FallResponse, WholeBodyController
from legion_interfaces.msg import BalanceOffset, GaitReference, HandCommand, JointCommand

STATE_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1, reliability=ReliabilityPolicy.RELIABLE)
"""joint_states and joint_commands: only the newest is kept. A controller that falls behind (real time, a loaded
machine) answers the newest state, never a queue of old ones; in lockstep only one state is ever pending."""
INPUT_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=10, reliability=ReliabilityPolicy.RELIABLE)
"""References and odometry."""


class WholeBodyControllerNode(LegionNode):
    """The whole-body controller node (see the module docstring for topics, services and parameters)."""

    def __init__(self, subscribe_state: bool = True, **node_options) -> None:
        """`subscribe_state`: take `joint_states` and `odom` from the middleware; False in the composed control
        process, where the state estimator in the same process calls `on_joint_states` and `on_odometry` directly.
        `node_options` go to rclpy's Node (e.g. `parameter_overrides` in tests).

        Raises:
            ParameterError: a parameter of the wrong type or out of its range.
            ControlError: a robot the controller cannot be built for.
        """
        super().__init__("whole_body_controller", **node_options)
        node_params = declare_parameters(self, WbcNodeParameters)
        params = declare_parameters(self, WbcParameters)

        from legion_model import RobotModel

        self.robot_name = node_params.robot
        robot = RobotModel.load(self.robot_name, lock_hands=True)
        self.controller = WholeBodyController(robot, params, node_params.solver)
        self.odom_frame = node_params.frame_prefix + robot.config.frames["odom"]
        self.footprint_frame = node_params.frame_prefix + conv.BASE_FOOTPRINT
        self.lock = threading.Lock()
        """Guards the controller: in the composed process the tick runs on the process's own loop, the references
        arrive on the executor's thread."""

        # Subscriptions before the command publisher: a lockstep simulator waits for answers as soon as it sees a
        # joint_commands publisher, so joint_states should already be flowing to this node by then.
        if subscribe_state:
            self.create_subscription(JointState, "joint_states", self.on_joint_states, STATE_QOS)
            self.create_subscription(Odometry, "odom", self.on_odometry, INPUT_QOS)
        self.create_subscription(GaitReference, "gait/reference", self.on_gait_reference, INPUT_QOS)
        self.create_subscription(BalanceOffset, "balance/offset", self.on_balance_offset, INPUT_QOS)
        self.create_subscription(JointState, "posture/reference", self.on_posture, INPUT_QOS)
        for side in self.controller.sides:
            self.create_subscription(PoseStamped, f"{side}_hand/target",
                                     lambda msg, side=side: self.on_hand_target(side, msg), INPUT_QOS)
            self.create_subscription(HandCommand, f"{side}_hand/command",
                                     lambda msg, side=side: self.on_hand_command(side, msg), INPUT_QOS)
            self.create_subscription(Float64, f"{side}_hand/payload",
                                     lambda msg, side=side: self.on_payload(side, msg), INPUT_QOS)
        self.create_service(Trigger, "~/reset", self.on_reset)
        self.pub_diagnostics = self.create_publisher(DiagnosticArray, "diagnostics", INPUT_QOS)
        self.pub_command = self.create_publisher(JointCommand, "joint_commands", STATE_QOS)
        self._command_bytes = conv.JointCommandBytes()
        """The command goes out pre-serialized: the same bytes as `conv.joint_command_msg`'s message, built cheaper."""

        self.diagnostics_period = 1.0 / node_params.diagnostics_rate
        self._next_diagnostics = 0.0
        self._window: deque[CycleReport] = deque(maxlen=5000)
        self._cycles = 0
        self._qp_failures = 0
        self._qp_relaxed = 0
        self._errors: deque[str] = deque(maxlen=5)
        self._rejected: Counter[str] = Counter()
        """Input (topic) -> messages rejected since the start (diagnostics `inputs_rejected.<topic>`)."""
        self._last_report: CycleReport | None = None
        self.get_logger().info(configure_realtime_from(node_params.realtime).summary())
        self.get_logger().info(f"whole-body control of '{self.robot_name}' with solver {node_params.solver}, "
                               f"{params.control_rate:.0f} Hz nominal, answering every joint_states message")
        if self.controller.fall_response == FallResponse.DAMPING:
            self.get_logger().warning(f"the robot file of '{self.robot_name}' gives no protective fall posture "
                                      "('fall:' block): after a fall the joints are damped only")

    # --- references: convert, check, store --------------------------------------------------------------------
    def _store(self, what: str, action) -> None:
        try:
            with self.lock:
                action()
        except (ControlError, ValueError, IndexError) as error:
            self._rejected[what] += 1
            self._errors.append(f"{what}: {error}")
            self.get_logger().warning(f"{what} rejected: {error}", throttle_duration_sec=1.0)

    def on_odometry(self, msg: Odometry) -> None:
        self._store("odom", lambda: self.controller.set_base_state(conv.base_state_from_odometry(msg)))

    def on_base_estimate(self, stamp: float, estimate) -> None:
        """The composed process's odom, handed over in-process by the state estimator (its `StateListener`): the
        stamp [s] and the estimate the odom message carries (position, orientation xyzw, twist in base_link)."""
        self._store("odom", lambda: self.controller.set_base_state(BaseState(
            stamp, estimate.position, estimate.orientation, estimate.linear_velocity, estimate.angular_velocity)))

    def on_gait_reference(self, msg: GaitReference) -> None:
        self._store("gait/reference", lambda: self.controller.set_gait_reference(conv.gait_samples_from_msg(msg)))

    def on_balance_offset(self, msg: BalanceOffset) -> None:
        self._store("balance/offset", lambda: self.controller.set_balance_offset(conv.balance_offset_from_msg(msg)))

    def on_posture(self, msg: JointState) -> None:
        self._store("posture/reference", lambda: self.controller.set_posture_reference(conv.posture_from_msg(msg)))

    def on_hand_target(self, side: str, msg: PoseStamped) -> None:
        self._store(f"{side}_hand/target", lambda: self.controller.set_hand_target(
            side, conv.hand_target_from_msg(msg, self.odom_frame, self.footprint_frame)))

    def on_hand_command(self, side: str, msg: HandCommand) -> None:
        self._store(f"{side}_hand/command", lambda: self.controller.set_hand_command(
            side, conv.hand_command_from_msg(msg)))

    def on_payload(self, side: str, msg: Float64) -> None:
        self._store(f"{side}_hand/payload", lambda: self.controller.set_payload(side, float(msg.data)))

    def on_reset(self, _request, response):
        with self.lock:
            self.controller.reset()
        response.success, response.message = True, "whole-body controller reset: balancing in place"
        return response

    # --- the control tick -------------------------------------------------------------------------------------
    def on_joint_states(self, msg: JointState) -> None:
        now = to_seconds(msg.header.stamp)
        try:
            with self.lock:
                command, report = self.controller.update(now, msg.name, msg.position, msg.velocity)
        except ControlError as error:
            # No command can be computed from this state: the hardware keeps the last valid one. Say so.
            self._rejected["joint_states"] += 1
            self._errors.append(f"joint_states: {error}")
            self.get_logger().error(f"cannot control from this joint state: {error}", throttle_duration_sec=1.0)
            return
        self.pub_command.publish(self._command_bytes(msg.header.stamp, command))
        self._cycles += 1
        self._qp_failures += int(report.qp_status not in ("", "optimal", "soft_optimal") and not report.qp_relaxed)
        self._qp_relaxed += int(report.qp_relaxed)
        self._window.append(report)
        if report.state == ControllerState.FALLEN and (self._last_report is None
                                                        or self._last_report.state != ControllerState.FALLEN):
            self.get_logger().error(f"fall detected ({report.fall_reason}): {report.fall_response.value}")
        self._last_report = report
        if now + 1e-9 >= self._next_diagnostics or now < self._next_diagnostics - 2 * self.diagnostics_period:
            self._next_diagnostics = now + self.diagnostics_period
            self.publish_diagnostics(msg.header.stamp)

    def publish_diagnostics(self, stamp) -> None:
        report = self._last_report
        if report is None:
            return
        values: dict[str, object] = {"state": report.state.value, "base_source": report.base_source,
                                     "cycles": self._cycles, "qp_status": report.qp_status,
                                     "qp_failures": self._qp_failures, "qp_relaxed": self._qp_relaxed,
                                     "inputs_rejected_total": sum(self._rejected.values())}
        values |= {f"inputs_rejected.{what}": count for what, count in sorted(self._rejected.items())}
        if self._window:
            for key, attribute in (("cycle", "total_time"), ("cycle_cpu", "cpu_time"),
                                   ("model_update", "model_update_time"), ("qp_build", "qp_build_time"),
                                   ("qp_solve", "qp_solve_time")):
                times = np.array([getattr(r, attribute) for r in self._window]) * 1e3
                values[f"{key}_time_median_ms"] = float(np.median(times))
                values[f"{key}_time_p99_ms"] = float(np.percentile(times, 99))
                values[f"{key}_time_max_ms"] = float(np.max(times))
        for task, error in report.task_errors.items():
            values[f"task_error.{task}"] = float(error)
        for side, wrench in report.contact_forces.items():
            values[f"contact.{side}.force_z"] = float(wrench[2])
            cop = report.centres_of_pressure.get(side)
            if cop is not None:
                values[f"contact.{side}.cop_x"] = float(cop[0])
                values[f"contact.{side}.cop_y"] = float(cop[1])
        if report.capture_point_reach > 0.0:
            values["capture_point_outside"] = float(report.capture_point_outside)
            values["capture_point_reach"] = float(report.capture_point_reach)
        if report.fall_reason:
            values["fall_reason"] = report.fall_reason
        if report.fall_response is not None:
            values["fall_response"] = report.fall_response.value
        warnings = list(report.warnings) + list(self._errors)
        if warnings:
            values["warnings"] = " | ".join(warnings)
        if report.state == ControllerState.FALLEN:
            level, message = DiagnosticStatus.ERROR, f"fallen: {report.fall_reason}; {report.fall_response.value}"
        elif report.state == ControllerState.WAITING:
            level, message = DiagnosticStatus.WARN, "waiting for odom"
        elif warnings:
            level, message = DiagnosticStatus.WARN, warnings[0]
        else:
            level, message = DiagnosticStatus.OK, "balancing"
        self.pub_diagnostics.publish(diagnostics_msg(stamp, "whole_body_controller: balance", level, message, values,
                                                     hardware_id=self.robot_name))
        self._window.clear()
        self._errors.clear()


def _spin_without_collector_pauses(node: WholeBodyControllerNode) -> None:
    gc.collect()
    gc.freeze()  # the model, the solver and rclpy's objects never need collecting: shorter collector pauses
    spin(node)


def main(args: list[str] | None = None) -> int:
    return run_node("whole_body_controller", WholeBodyControllerNode, args, fatal=(ControlError, ParameterError),
                    run=_spin_without_collector_pauses)


if __name__ == "__main__":
    sys.exit(main())
