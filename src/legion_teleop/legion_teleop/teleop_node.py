"""`teleop`: the ROS 2 adapter of `legion_teleop.teleop.Teleop` (drive the robot by hand).

A thin node: Joy messages and key presses (from the terminal front end, `legion teleop`) go to the core, which runs at
once on each input (the command is on the wire within a millisecond or so of the input) and on a timer at
`timing.rate` of the teleop file; the node publishes what the core returns. Times are the host's monotonic clock:
teleop serves a person, also while the simulation runs in lockstep.

Subscribes: `joy` (sensor_msgs/Joy, best effort: matches reliable and best-effort gamepad drivers), `hardware/status`
(DiagnosticArray: key `emergency_stop`), `emergency_stop` (std_msgs/Bool, reliable, transient-local: a `false` after
a reset clears teleop's own latch), and for the arm jog `joint_states` and `odom` (the terminal front end remaps
them to the estimator's `joint_states/decimated` and `odom/decimated`).
Publishes: `cmd_vel` (Twist, reliable, depth 10: while the dead-man is held at `timing.rate`; one zero Twist when
motion stops; nothing otherwise), `posture/reference` (JointState: the neck's pan and tilt joints),
`<side>_hand/command` (HandCommand: OPEN, or POWER closure 1),
`<side>_hand/target` (PoseStamped in base_footprint at `timing.rate` while
an arm jog is held; empty frame_id releases it), the e-stop: `safety/emergency_stop` (Bool true, reliable,
transient-local: the safety node's category-1 stop, where the safety node subscribes) or else `emergency_stop` (the
hardware's immediate hold), false after a confirmed reset; `diagnostics` (1 Hz: `teleop` with state, reason, command,
side).
Clients: `safety/reset` (legion_interfaces/SafetyReset, with who and why) where the safety node runs, else
`emergency_stop/reset` (std_srvs/Trigger); called by `request_reset()` (the terminal asks to confirm first).
Parameters: `robot` (neck joints, hands, kinematics of the arm jog), `config` (the teleop file: name in config/ or a
path), `arm_jog` (bool: load the robot's kinematics for the arm jog).
"""

from __future__ import annotations

import getpass
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import PoseStamped, Twist
from nav_msgs.msg import Odometry
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import JointState, Joy
from std_msgs.msg import Bool
from std_srvs.srv import Trigger

from legion_common.diagnostics import ERROR, OK, WARN, diagnostics_msg
from legion_common.node import LegionNode
from legion_common.node_main import run_node
from legion_common.parameters import ParameterError, declare_parameters, param, require
from legion_description import DescriptionError
from legion_interfaces.msg import HandCommand
from legion_interfaces.srv import SafetyReset
from legion_model import ModelError
from legion_teleop import conversions as conv
from legion_teleop.config import load_config
from legion_teleop.errors import TeleopError
from legion_teleop.teleop import Command, HeadJoints, Teleop

COMMAND_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=10, reliability=ReliabilityPolicy.RELIABLE)
JOY_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=10, reliability=ReliabilityPolicy.BEST_EFFORT)
LATCHED_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1, reliability=ReliabilityPolicy.RELIABLE,
                         durability=DurabilityPolicy.TRANSIENT_LOCAL)


@dataclass(frozen=True)
class TeleopNodeParameters:
    """The node's parameters; the tunables are in the teleop file (`config`)."""

    robot: str = param("centurion", "Robot name or robot file: neck joints, hands and the arm jog's kinematics.")
    config: str = param("teleop", "Teleop file: a name in config/ (teleop -> config/teleop.yaml) or a path.")
    arm_jog: bool = param(True, "Load the robot's kinematics and serve the arm jog (gripper-frame targets).")

    def validated(self) -> TeleopNodeParameters:
        require(bool(self.robot), "robot must not be empty")
        require(bool(self.config), "config must not be empty")
        return self


class TeleopNode(LegionNode):
    def __init__(self, clock: Callable[[], float] = time.monotonic, **kwargs) -> None:
        super().__init__("teleop", **kwargs)
        self.params = declare_parameters(self, TeleopNodeParameters)
        self.config = load_config(self.params.config)
        self._now = clock
        self._lock = threading.RLock()
        self.model = None
        head = HeadJoints()
        from legion_description import load_robot_config

        robot = load_robot_config(self.params.robot)
        sides = tuple(side for side in ("left", "right") if side in robot.sides)
        hands = tuple(side for side in sides if side in robot.hands)
        if self.params.arm_jog or robot.has_group("neck"):
            from legion_model import RobotModel
            from legion_teleop.robot import head_joints

            self.model = RobotModel.load(self.params.robot)
            head = head_joints(self.model)
        self.core = Teleop(self.config, sides, head)
        self.hands = hands
        self._odom = None
        self._joints: dict[str, float] = {}
        self._arm_origin: dict[str, object] = {}
        self._warning = ""

        self.pub_cmd_vel = self.create_publisher(Twist, "cmd_vel", COMMAND_QOS)
        self.pub_posture = self.create_publisher(JointState, "posture/reference", COMMAND_QOS)
        self.pub_hand = {s: self.create_publisher(HandCommand, f"{s}_hand/command", COMMAND_QOS) for s in hands}
        self.pub_target = {s: self.create_publisher(PoseStamped, f"{s}_hand/target", COMMAND_QOS) for s in sides}
        self.pub_estop = self.create_publisher(Bool, "emergency_stop", LATCHED_QOS)
        self.pub_controlled_stop = self.create_publisher(Bool, "safety/emergency_stop", LATCHED_QOS)
        self.pub_diagnostics = self.create_publisher(DiagnosticArray, "diagnostics", COMMAND_QOS)
        self.reset_client = self.create_client(Trigger, "emergency_stop/reset")
        self.safety_reset_client = self.create_client(SafetyReset, "safety/reset")
        self._asserted: str = ""
        """The topic on which this node's e-stop is asserted ("" : none)."""
        self.create_subscription(Joy, "joy", self.on_joy, JOY_QOS)
        self.create_subscription(DiagnosticArray, "hardware/status", self.on_hardware_status, COMMAND_QOS)
        self.create_subscription(Bool, "emergency_stop", self.on_emergency_stop, LATCHED_QOS)
        if self.params.arm_jog:
            self.create_subscription(JointState, "joint_states", self.on_joint_states, COMMAND_QOS)
            self.create_subscription(Odometry, "odom", self.on_odom, COMMAND_QOS)
        self.create_timer(1.0 / self.config.timing.rate, self.tick)
        self.create_timer(1.0, self.publish_diagnostics)
        self.get_logger().info(f"teleop ready ({self.config.source}); head: pan {head.pan or '-'}, tilt "
                               f"{head.tilt or '-'}; hands: {', '.join(hands) or '-'}")

    # Inputs (callbacks convert and hand over; the core's step is cheap and never blocks)
    def on_joy(self, msg: Joy) -> None:
        axes, buttons = conv.joy_inputs(msg)
        with self._lock:
            self.core.joy(self._now(), axes, buttons)
        self.tick()

    def on_key(self, name: str) -> str:
        """A key from the terminal front end; returns its front-end action (`reset`, `help`, `quit`) or ""."""
        with self._lock:
            action = self.core.key(self._now(), name)
        self.tick()
        return action

    def on_hardware_status(self, msg: DiagnosticArray) -> None:
        latched = conv.hardware_estop(msg)
        if latched is not None:
            with self._lock:
                self.core.hardware_estop(latched)

    def on_emergency_stop(self, msg: Bool) -> None:
        if not msg.data:
            with self._lock:
                self.core.estop_reset()

    def on_joint_states(self, msg: JointState) -> None:
        self._joints = conv.joint_positions(msg)

    def on_odom(self, msg: Odometry) -> None:
        pose = conv.odom_pose(msg)
        if pose is not None:
            self._odom = pose

    # Output
    def tick(self) -> None:
        with self._lock:  # one step and its messages at a time: the front end's thread calls this too
            command = self.core.step(self._now())
            try:
                self.send(command)
            except (TeleopError, DescriptionError, ValueError) as error:  # never crash on a bad state: report it
                self._warning = str(error)
                self.get_logger().warning(f"teleop: {error}", throttle_duration_sec=2.0)

    def send(self, command: Command) -> None:
        stamp = self.get_clock().now().to_msg()
        if command.emergency_stop:
            # With the safety node running, a category-1 stop (a walking robot comes to double support, then the
            # hardware holds); without it, the hardware's immediate hold (docs/safety.md, stop categories).
            if self.pub_controlled_stop.get_subscription_count() > 0:
                self.pub_controlled_stop.publish(Bool(data=True))
                self._asserted = "safety/emergency_stop"
            else:
                self.pub_estop.publish(Bool(data=True))
                self._asserted = "emergency_stop"
            self.get_logger().warning(f"EMERGENCY STOP sent on {self._asserted}")
        if command.twist is not None:
            self.pub_cmd_vel.publish(conv.twist_msg(command.twist))
        if command.head:
            self.pub_posture.publish(conv.posture_msg(command.head, stamp))
        if command.hand is not None and command.hand[0] in self.pub_hand:
            self.pub_hand[command.hand[0]].publish(conv.hand_msg(command.hand[1], stamp))
        if command.arm_release:
            self._arm_origin.pop(command.arm_release, None)
            self.pub_target[command.arm_release].publish(conv.target_msg(None, stamp))
        if command.arm is not None and self.model is not None:
            side = command.arm.side
            if command.arm.started or side not in self._arm_origin:
                if self._odom is None or not self._joints:
                    raise TeleopError("arm jog: no odom or joint_states yet")
                from legion_teleop.robot import gripper_in_footprint

                self._arm_origin[side] = gripper_in_footprint(self.model, side, self._odom, self._joints)
            from legion_teleop.robot import jogged

            self.pub_target[side].publish(conv.target_msg(jogged(self._arm_origin[side], command.arm.offset), stamp))

    def request_reset(self, done: Callable[[bool, str], None]) -> None:
        """Reset the e-stop: through the safety node's `safety/reset` (with who and why, which it logs; it then resets
        the hardware) where it runs, else the hardware's `emergency_stop/reset`. On success clear the latch and
        withdraw this node's own assertion (`false`, so that a late joiner does not read the old true);
        `done(success, message)` either way."""
        if self._asserted == "emergency_stop":
            self.pub_estop.publish(Bool(data=False))  # the safety node refuses a reset while a source asserts it

        def finished(future) -> None:
            response = future.result()
            if response is not None and response.success:
                with self._lock:
                    self.core.estop_reset()
                publisher = self.pub_controlled_stop if self._asserted == "safety/emergency_stop" else self.pub_estop
                publisher.publish(Bool(data=False))
                self._asserted = ""
            done(bool(response and response.success), response.message if response else "no response")

        if self.safety_reset_client.service_is_ready():
            request = SafetyReset.Request(requested_by=f"legion teleop ({getpass.getuser()}@{socket.gethostname()})",
                                          reason="reset confirmed by the operator at the teleop terminal")
            self.safety_reset_client.call_async(request).add_done_callback(finished)
        elif self.reset_client.service_is_ready():
            self.reset_client.call_async(Trigger.Request()).add_done_callback(finished)
        else:
            done(False, "neither safety/reset nor emergency_stop/reset is available")

    def emergency_stop(self) -> None:
        with self._lock:
            self.core.emergency_stop()
        self.tick()

    def stop(self) -> None:
        """On exit: a zero cmd_vel if driving, and release the arm jogs."""
        with self._lock:
            twist = self.core.stop()
        if twist is not None:
            self.pub_cmd_vel.publish(conv.twist_msg(twist))
        stamp = self.get_clock().now().to_msg()
        for side in list(self._arm_origin):
            self.pub_target[side].publish(conv.target_msg(None, stamp))

    def publish_diagnostics(self) -> None:
        with self._lock:
            status = self.core.status()
        level = ERROR if status.state == "estop" else WARN if self._warning else OK
        values = {"state": status.state, "reason": status.reason, "forward": status.twist[0],
                  "left": status.twist[1], "yaw_rate": status.twist[2], "side": status.side,
                  "keyboard_speed": status.speed}
        self.pub_diagnostics.publish(diagnostics_msg(self.get_clock().now().to_msg(), "teleop", level,
                                                     self._warning or status.reason, values))
        self._warning = ""


def main(args: list[str] | None = None) -> int:
    return run_node("teleop", TeleopNode, args, fatal=(ParameterError, TeleopError, DescriptionError, ModelError))


if __name__ == "__main__":  # pragma: no cover
    import sys

    sys.exit(main())
