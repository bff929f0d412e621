"""`state_estimator`: the base pose and twist in `odom` from proprioception (legion_estimation.leg_odometry).

Subscribes: `joint_states` (sensor_msgs/JointState), `imu/data` (sensor_msgs/Imu), `l_foot/wrench` and
`r_foot/wrench` (geometry_msgs/WrenchStamped, in the sole frames). Publishes: `odom` (nav_msgs/Odometry,
`odom` -> `base_link`, twist in `base_link`), stamped like the joint_states it was computed from, once per set of
measurements; `diagnostics` (1 Hz: contacts, rejected measurements). Parameters: `robot`, see `EstimatorParameters`.

The estimate is computed when the joint_states, IMU and both foot wrenches of one stamp have all arrived (the hardware
publishes them together), so it never mixes measurements more than `sync_tolerance` apart. Bad measurements
(non-finite values, unknown joints) are dropped with a throttled warning; the last estimate stays in force.
"""

from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import rclpy
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from geometry_msgs.msg import WrenchStamped
from nav_msgs.msg import Odometry
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Imu, JointState

from legion_common.parameters import declare_parameters, require
from legion_estimation.leg_odometry import EstimationError, LegOdometry, LegOdometryParameters

QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=10, reliability=ReliabilityPolicy.RELIABLE)


@dataclass(frozen=True)
class EstimatorParameters:
    robot: str = "centurion"
    contact_on: float = 120.0
    contact_off: float = 60.0
    initial_x: float = 0.0
    initial_y: float = 0.0
    initial_yaw: float = 0.0
    sync_tolerance: float = 0.001

    DESCRIPTIONS: ClassVar[dict[str, str]] = {
        "robot": "Robot name (config/robots/<robot>.yaml).",
        "contact_on": "Sole force along z above which a foot is in contact [N], > contact_off.",
        "contact_off": "Sole force below which a foot in contact leaves it [N], >= 0.",
        "initial_x": "Base x in odom at start [m].",
        "initial_y": "Base y in odom at start [m].",
        "initial_yaw": "Base heading in odom at start [rad].",
        "sync_tolerance": "Largest stamp difference between the measurements of one estimate [s], 0..0.1.",
    }

    def validated(self) -> EstimatorParameters:
        require(0.0 <= self.contact_off < self.contact_on, "need 0 <= contact_off < contact_on")
        require(0.0 <= self.sync_tolerance <= 0.1, "sync_tolerance must be in [0, 0.1] s")
        require(all(np.isfinite([self.initial_x, self.initial_y, self.initial_yaw])), "initial pose must be finite")
        return self


def _stamp(msg) -> float:
    return msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9


class StateEstimator(Node):
    """Leg-odometry state estimator node (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__("state_estimator")
        from legion_model import RobotModel

        self.params: EstimatorParameters = declare_parameters(self, EstimatorParameters)
        model = RobotModel.load(self.params.robot, lock_hands=True)
        self.config = model.config
        self.estimator = LegOdometry(model, LegOdometryParameters(
            contact_on=self.params.contact_on, contact_off=self.params.contact_off, initial_x=self.params.initial_x,
            initial_y=self.params.initial_y, initial_yaw=self.params.initial_yaw))
        self.latest: dict[str, object] = {}
        self.last_stamp = -1.0
        self.rejected = 0
        self.contacts: tuple[str, ...] = ()
        self.pub_odom = self.create_publisher(Odometry, "odom", QOS)
        self.pub_diagnostics = self.create_publisher(DiagnosticArray, "diagnostics", QOS)
        self.create_subscription(JointState, "joint_states", lambda m: self.on_measurement("joints", m), QOS)
        self.create_subscription(Imu, "imu/data", lambda m: self.on_measurement("imu", m), QOS)
        for side in self.config.sides:
            self.create_subscription(WrenchStamped, f"{side[0]}_foot/wrench",
                                     lambda m, s=side: self.on_measurement(s, m), QOS)
        self.create_timer(1.0, self.publish_diagnostics)

    def on_measurement(self, key: str, msg) -> None:
        """Keep the newest of each measurement; estimate once a full set of one stamp is here."""
        self.latest[key] = msg
        joints = self.latest.get("joints")
        if joints is None or len(self.latest) < 2 + len(self.config.sides):
            return
        stamp = _stamp(joints)
        if stamp <= self.last_stamp:
            if stamp < self.last_stamp - 1.0:  # simulated time went back (sim/reset): start again
                self.estimator.reset()
                self.last_stamp = -1.0
            return
        if any(abs(_stamp(m) - stamp) > self.params.sync_tolerance for m in self.latest.values()):
            return
        self.last_stamp = stamp
        self.estimate(joints)

    def estimate(self, joints: JointState) -> None:
        imu = self.latest["imu"]
        try:
            if not (len(joints.name) == len(joints.position) == len(joints.velocity)):
                raise EstimationError("joint_states arrays of unequal length")
            q = imu.orientation
            estimate = self.estimator.update(
                dict(zip(joints.name, joints.position, strict=True)),
                dict(zip(joints.name, joints.velocity, strict=True)),
                np.array([q.x, q.y, q.z, q.w]),
                np.array([imu.angular_velocity.x, imu.angular_velocity.y, imu.angular_velocity.z]),
                {side: self.latest[side].wrench.force.z for side in self.config.sides})
        except EstimationError as error:
            self.rejected += 1
            self.get_logger().warning(f"measurement dropped: {error}", throttle_duration_sec=2.0)
            return
        self.contacts = estimate.contacts
        msg = Odometry()
        msg.header.stamp = joints.header.stamp
        msg.header.frame_id = self.config.frames["odom"]
        msg.child_frame_id = self.config.frames["base"]
        pose, twist = msg.pose.pose, msg.twist.twist
        pose.position.x, pose.position.y, pose.position.z = (float(v) for v in estimate.position)
        (pose.orientation.x, pose.orientation.y, pose.orientation.z, pose.orientation.w) = (
            float(v) for v in estimate.orientation)
        twist.linear.x, twist.linear.y, twist.linear.z = (float(v) for v in estimate.linear_velocity)
        twist.angular.x, twist.angular.y, twist.angular.z = (float(v) for v in estimate.angular_velocity)
        self.pub_odom.publish(msg)

    def publish_diagnostics(self) -> None:
        level = DiagnosticStatus.OK if self.contacts else DiagnosticStatus.WARN
        status = DiagnosticStatus(level=level, name="state_estimator: leg odometry", hardware_id=self.params.robot,
                                  message="feet in contact: " + (", ".join(self.contacts) or "none"),
                                  values=[KeyValue(key="measurements_dropped", value=str(self.rejected)),
                                          KeyValue(key="last_stamp", value=f"{self.last_stamp:.3f}")])
        msg = DiagnosticArray(status=[status])
        msg.header.stamp = self.get_clock().now().to_msg()
        self.pub_diagnostics.publish(msg)


def main(args: list[str] | None = None) -> int:
    rclpy.init(args=args)
    node = None
    try:
        node = StateEstimator()
        with contextlib.suppress(KeyboardInterrupt, ExternalShutdownException):
            rclpy.spin(node)
    except Exception as error:  # a broken robot description: say why, exit non-zero
        print(f"state_estimator: {error}", file=sys.stderr, flush=True)
        return 1
    finally:
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
