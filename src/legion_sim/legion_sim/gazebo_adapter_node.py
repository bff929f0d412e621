"""`gazebo_joint_command_adapter`: Legion's hardware interface on Gazebo Harmonic (docs/interfaces.md, "Gazebo").

gz_ros2_control drives every joint with an effort (`effort_controllers/JointGroupEffortController`), and
ros_gz_bridge brings the clock, IMU, camera and ankle force/torque sensors over from Gazebo. This node adds the rest of
the hardware interface, with the rules of `legion_sim.hardware_rules` (the same code as the MuJoCo simulator):

Publishes:
    `effort_controller/commands` (std_msgs/Float64MultiArray): one effort [N m] per joint, in the robot config's
        `all_joints` order (= the effort controller's joints, `legion_sim.gazebo_controllers`), at `servo_rate` on
        simulated time;
    `l_foot/wrench`, `r_foot/wrench` (geometry_msgs/WrenchStamped): the ground's wrench on each foot in its sole frame,
        converted from each bridged ankle sensor reading (same stamp);
    `hardware/status` (diagnostic_msgs/DiagnosticArray): e-stop, protective stop, watchdog trips, rejected commands
        by reason; at `status_rate` and on every change.
Subscribes:
    `joint_commands` (legion_interfaces/JointCommand), `emergency_stop` (std_msgs/Bool, transient-local);
    `joint_states` (from joint_state_broadcaster), `imu/data` (the IMU's orientation, for the feet's weight);
    `gz/l_foot/wrench`, `gz/r_foot/wrench` (the ankle sensors as Gazebo reports them: foot on leg, ankle frame).
Services: `emergency_stop/reset` (std_srvs/Trigger).
Parameters: see `AdapterParameters`.

Callbacks store what they receive (and convert the foot wrenches on the fly); the servo law runs in one timer.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from geometry_msgs.msg import WrenchStamped
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Imu, JointState
from std_msgs.msg import Bool, Float64MultiArray
from std_srvs.srv import Trigger

from legion_common.diagnostics import diagnostics_msg
from legion_common.messages import xyz, xyzw
from legion_common.node import LegionNode
from legion_common.node_main import run_node
from legion_common.parameters import declare_parameters, param, require
from legion_interfaces.msg import JointCommand
from legion_sim import conversions as conv

STATE_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=10, reliability=ReliabilityPolicy.RELIABLE)
SENSOR_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=2, reliability=ReliabilityPolicy.RELIABLE)
COMMAND_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1, reliability=ReliabilityPolicy.RELIABLE)
LATCHED_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1, reliability=ReliabilityPolicy.RELIABLE,
                         durability=DurabilityPolicy.TRANSIENT_LOCAL)

NODE_NAME = "gazebo_joint_command_adapter"


@dataclass(frozen=True)
class AdapterParameters:
    """The node's parameters, read once and range-checked."""

    robot: str = param("centurion", "Robot name (urdf/<robot>.urdf.xacro, config/robots/<robot>.yaml).")
    servo_rate: float = param(1000.0, "Rate of the servo law on simulated time; at most gz_ros2_control's "
                              "update_rate to be useful.", unit="Hz", low=10.0, high=10000.0)
    status_rate: float = param(2.0, "Rate of hardware/status.", unit="Hz", low=0.0, high=100.0)
    effort_controller: str = param("effort_controller", "Name of the effort_controllers/JointGroupEffortController "
                                   "that takes the efforts (on <effort_controller>/commands).")
    compensate_foot_weight: bool = param(True, "Subtract the foot's own weight from the ankle force/torque readings "
                                         "(as the MuJoCo simulator and a real driver do).")

    def validated(self) -> AdapterParameters:
        require(self.status_rate > 0.0, "status_rate must be in (0, 100]")
        require(bool(self.effort_controller.strip("/")), "effort_controller must name a controller")
        return self


def build_adapter(params: AdapterParameters):
    """The adapter core for the node's parameters (robot config and model from the robot's files)."""
    from legion_description.robot_config import load_robot_config
    from legion_description.robot_files import DescriptionError
    from legion_model import ModelError, RobotModel
    from legion_sim.errors import SimError
    from legion_sim.gazebo_adapter import JointCommandAdapter

    try:
        config = load_robot_config(params.robot)
        robot = RobotModel.load(params.robot)
    except (DescriptionError, ModelError) as error:
        raise SimError(str(error)) from error
    return JointCommandAdapter(config, robot)


class GazeboJointCommandAdapter(LegionNode):
    """The Gazebo hardware adapter node (see the module docstring)."""

    def __init__(self, adapter_factory=None, **node_options) -> None:
        """`adapter_factory(params)` builds the core (tests pass one); `node_options` go to rclpy's Node (e.g.
        `namespace`, `context`, `parameter_overrides`)."""
        super().__init__(NODE_NAME, **node_options)
        self.params: AdapterParameters = declare_parameters(self, AdapterParameters)
        self.adapter = (adapter_factory or build_adapter)(self.params)
        config = self.adapter.config
        self.sole_frames = {side: frames.sole for side, frames in config.sides.items()}

        self.pub_effort = self.create_publisher(Float64MultiArray, f"{self.params.effort_controller}/commands",
                                                COMMAND_QOS)
        self.pub_wrench = {side: self.create_publisher(WrenchStamped, f"{side[0]}_foot/wrench", SENSOR_QOS)
                           for side in self.sole_frames}
        self.pub_status = self.create_publisher(DiagnosticArray, "hardware/status", STATE_QOS)

        self.create_subscription(JointCommand, "joint_commands", self.on_joint_command, STATE_QOS)
        self.create_subscription(Bool, "emergency_stop", self.on_emergency_stop, LATCHED_QOS)
        self.create_subscription(JointState, "joint_states", self.on_joint_state, STATE_QOS)
        self.create_subscription(Imu, "imu/data", self.on_imu, SENSOR_QOS)
        for side in self.sole_frames:
            self.create_subscription(WrenchStamped, f"gz/{side[0]}_foot/wrench",
                                     lambda msg, side=side: self.on_ankle_wrench(side, msg), SENSOR_QOS)
        self.create_service(Trigger, "emergency_stop/reset", self.on_emergency_stop_reset)

        self.effort_msg = Float64MultiArray()
        self._next_status = 0.0
        self.create_timer(1.0 / self.params.servo_rate, self.on_servo_timer)
        self.get_logger().info(
            f"robot '{self.params.robot}': {len(self.adapter.joint_names)} joints to "
            f"{self.params.effort_controller}/commands at {self.params.servo_rate:.0f} Hz; holding the standing "
            "posture until the first joint command")

    def now_seconds(self) -> float:
        """The node's time [s] (simulated time with use_sim_time)."""
        return self.get_clock().now().nanoseconds * 1e-9

    # --- callbacks: convert and store -------------------------------------------------------------------------
    def on_joint_state(self, msg: JointState) -> None:
        self.adapter.set_joint_state(msg.name, msg.position, msg.velocity)

    def on_imu(self, msg: Imu) -> None:
        self.adapter.set_imu_orientation(xyzw(msg.orientation))

    def on_ankle_wrench(self, side: str, msg: WrenchStamped) -> None:
        force, torque = self.adapter.foot_wrench(side, xyz(msg.wrench.force), xyz(msg.wrench.torque),
                                                 compensate_weight=self.params.compensate_foot_weight)
        self.pub_wrench[side].publish(conv.wrench_msg(msg.header.stamp, self.sole_frames[side], force, torque))

    def on_joint_command(self, msg: JointCommand) -> None:
        stopped_before = self.adapter.rules.stopped
        accepted, reason = self.adapter.set_command(*conv.joint_command_arrays(msg), time=self.now_seconds())
        if not accepted:
            self.get_logger().warning(f"joint command rejected: {reason}", throttle_duration_sec=1.0)
            self.publish_status(force=True)
        elif stopped_before:
            self.get_logger().info("fresh valid command: protective stop cleared")
            self.publish_status(force=True)

    def on_emergency_stop(self, msg: Bool) -> None:
        if msg.data:
            self.adapter.set_emergency_stop(True)
            self.get_logger().warning("emergency stop latched: holding joints until emergency_stop/reset")
            self.publish_status(force=True)

    def on_emergency_stop_reset(self, _request, response):
        was_latched = self.adapter.reset_emergency_stop()
        response.success = True
        response.message = "emergency stop cleared" if was_latched else "no emergency stop was latched"
        self.get_logger().info(response.message)
        self.publish_status(force=True)
        return response

    # --- the servo period ---------------------------------------------------------------------------------------
    def on_servo_timer(self) -> None:
        if self.adapter.has_state:
            effort, tripped = self.adapter.servo(self.now_seconds())
            self.effort_msg.data = effort.tolist()
            self.pub_effort.publish(self.effort_msg)
            if tripped:
                self.get_logger().warning("no valid joint command within the watchdog timeout: protective stop")
                self.publish_status(force=True)
        self.publish_status()

    def publish_status(self, force: bool = False) -> None:
        now, period = self.now_seconds(), 1.0 / self.params.status_rate
        if not force and self._next_status - period <= now < self._next_status - 1e-9:
            return  # not yet due (a clock that jumped back, as on a Gazebo reset, makes it due at once)
        self._next_status = now + period
        status = dict(self.adapter.status(now))
        rejected = status.pop("commands_rejected", {})
        status.update({f"commands_rejected.{reason}": count for reason, count in rejected.items()})
        if status["emergency_stop"]:
            level, message = DiagnosticStatus.ERROR, "emergency stop latched"
        elif status["protective_stop"]:
            level, message = DiagnosticStatus.WARN, "protective stop: command watchdog tripped"
        elif not status["joint_state_received"]:
            level, message = DiagnosticStatus.WARN, "waiting for joint_states from joint_state_broadcaster"
        else:
            level, message = DiagnosticStatus.OK, "running"
        self.pub_status.publish(diagnostics_msg(self.get_clock().now().to_msg(), f"{NODE_NAME}: hardware", level,
                                                message, status, hardware_id=self.params.robot))


def main(args: list[str] | None = None) -> int:
    # A broken robot description or configuration: say which file and why, exit 1.
    return run_node(NODE_NAME, GazeboJointCommandAdapter, args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
