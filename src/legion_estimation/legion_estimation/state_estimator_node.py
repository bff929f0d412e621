"""`state_estimator`: the base pose and twist in `odom` from proprioception (legion_estimation.leg_odometry).

Subscribes: `joint_states` (sensor_msgs/JointState), `imu/data` (sensor_msgs/Imu), `l_foot/wrench` and
`r_foot/wrench` (geometry_msgs/WrenchStamped, in the sole frames). Publishes: `odom` (nav_msgs/Odometry,
`odom` -> `base_link`, twist in `base_link`), stamped like the joint_states it was computed from, once per set of
measurements (the control rate: for the whole-body controller); `odom/decimated` and `joint_states/decimated` (the
same messages at `decimated_rate`, 50 Hz, on a grid of stamps: the state for the gait planner and perception, which
work at 10-20 Hz and would otherwise take every control tick); `tf` (tf2_msgs/TFMessage: `odom` -> `base_link` and
`odom` -> `base_footprint`, REP-105/120, at `tf_rate`, 50 Hz, on a grid of stamps: for viewers and tools, not the
control path); `diagnostics` (every `diagnostics_period` of
measurement time, stamped with the measurements' stamp: contacts, rejected measurements). Parameters: `robot`, see
`EstimatorParameters`.

The node runs on the hardware's time: everything it does is driven and stamped by the measurements, so it never reads
a clock. In the composed control process (`legion_control.control_process`) it also hands each joint_states message
and each odom message to the whole-body controller in the same process by a direct call (`StateListener`), before
the estimate (joint_states) and right after publishing (odom): the controller's tick does not wait for a second trip
through the middleware.

The estimate is computed when the joint_states, IMU and both foot wrenches of one stamp have all arrived (the hardware
publishes them together), so it never mixes measurements more than `sync_tolerance` apart. A whole set stamped more
than 1 s before the last (sim/reset) starts the estimate again; a lone message stamped in the past does not. Bad
measurements (non-finite values, unknown joints) are dropped with a throttled warning; the last estimate stays.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import WrenchStamped
from nav_msgs.msg import Odometry
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Imu, JointState
from tf2_msgs.msg import TFMessage

from legion_common.decimation import Decimator
from legion_common.diagnostics import OK, WARN, diagnostics_msg
from legion_common.frames import frame_prefix_param
from legion_common.inbox import Inbox
from legion_common.messages import pose_msg, vector3_msg, xyz, xyzw
from legion_common.node import LegionNode
from legion_common.node_main import run_node
from legion_common.parameters import declare_parameters, param
from legion_common.serialized import SerializedReader, SerializedState, header_stamp, set_quaternion, set_vector
from legion_common.stamps import header_seconds
from legion_estimation.conversions import FOOTPRINT_FRAME, odom_transforms_msg
from legion_estimation.leg_odometry import BaseEstimate, EstimationError, LegOdometry, LegOdometryParameters

QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=10, reliability=ReliabilityPolicy.RELIABLE)
TICK_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1, reliability=ReliabilityPolicy.RELIABLE)
"""`joint_states`, the control tick: only the newest is kept. A node that falls behind (real time, a loaded machine)
works on the newest state instead of a queue of old ones; in lockstep only one state is ever pending."""
SENSOR_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=5, reliability=ReliabilityPolicy.RELIABLE)
"""The IMU and foot wrenches: a few kept, so that those of the newest joint_states are still there when it is taken."""
TF_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=100, reliability=ReliabilityPolicy.RELIABLE)
"""`tf`: tf2's own publisher QoS (reliable, volatile, depth 100)."""


@dataclass(frozen=True)
class EstimatorParameters(LegOdometryParameters):
    """The node's parameters: the leg odometry's (`LegOdometryParameters`) plus the robot and the synchronisation."""

    robot: str = param("centurion", "Robot name (config/robots/<robot>.yaml).")
    frame_prefix: str = frame_prefix_param()
    sync_tolerance: float = param(0.001, "Largest stamp difference between the measurements of one estimate.",
                                  unit="s", low=0.0, high=0.1)
    decimated_rate: float = param(50.0, "Rate of `odom/decimated` and `joint_states/decimated`, the state for the "
                                  "nodes that work at 10-20 Hz (gait planner, perception); 0: not published.",
                                  unit="Hz", low=0.0, high=1000.0)
    tf_rate: float = param(50.0, "Rate of `tf` (odom -> base_link, odom -> base_footprint) for viewers and tools; "
                           "0: not published. Kept low: the control path does not use it.", unit="Hz", low=0.0,
                           high=1000.0)
    diagnostics_period: float = param(1.0, "Period of `diagnostics`, in measurement time.", unit="s", low=0.01,
                                      high=60.0)


@dataclass(frozen=True)
class StateListener:
    """In-process consumers of the estimator's input and output (the composed control process): `joint_states` is
    called with every joint_states message as it arrives, `odom` with the stamp [s] and the estimate of every odom
    message as it is published (what the message carries: position, orientation, twist in base_link)."""

    joint_states: Callable[[JointState], None]
    odom: Callable[[float, BaseEstimate], None]


@dataclass(frozen=True, slots=True)
class Reading:
    """An IMU or foot-wrench measurement as the estimate uses it."""

    stamp: float
    """[s]"""
    values: tuple[np.ndarray, ...]
    """IMU: (orientation xyzw (4,), angular velocity (3,), ...); foot wrench: (force (3,), ...): the estimate uses
    the first two of the IMU and the force (read in place, the linear acceleration and the torque follow)."""


def imu_reading(msg: Imu) -> Reading:
    return Reading(header_seconds(msg), (xyzw(msg.orientation), xyz(msg.angular_velocity)))


def wrench_reading(msg: WrenchStamped) -> Reading:
    return Reading(header_seconds(msg), (xyz(msg.wrench.force),))


class StateEstimator(LegionNode):
    """Leg-odometry state estimator node (see the module docstring)."""

    def __init__(self, listener: StateListener | None = None, own_loop: bool = False, **node_options) -> None:
        """`listener`: the in-process consumer of joint_states and odom (composed process), if any. `own_loop`: the
        measurements are not delivered by an executor: the owner waits on `inbox` and calls `take_measurements`
        (composed process). `node_options` go to rclpy's Node."""
        super().__init__("state_estimator", **node_options)
        self.listener = listener
        from legion_model import RobotModel

        self.params: EstimatorParameters = declare_parameters(self, EstimatorParameters)
        model = RobotModel.load(self.params.robot, lock_hands=True)
        self.config = model.config
        self.estimator = LegOdometry(model, self.params)
        self.latest: dict[str, object] = {}
        self.last_stamp = -1.0
        self.rejected = 0
        self.contacts: tuple[str, ...] = ()
        self.pub_odom = self.create_publisher(Odometry, "odom", QOS)
        self._odom_bytes = self._serialized_odometry()
        """odom goes out pre-serialized (legion_common.serialized): the bytes of `_odometry_msg`'s message, cheaper."""
        # The state at a lower rate for the nodes that do not need every control tick: odom and the joint states it
        # was computed from, with the same stamps.
        self.decimator = Decimator(self.params.decimated_rate)
        self.pub_odom_decimated = self.create_publisher(Odometry, "odom/decimated", QOS)
        self.pub_joints_decimated = self.create_publisher(JointState, "joint_states/decimated", QOS)
        self.pub_diagnostics = self.create_publisher(DiagnosticArray, "diagnostics", QOS)
        self.tf_due = Decimator(self.params.tf_rate)
        self.pub_tf = self.create_publisher(TFMessage, "tf", TF_QOS)
        self._diagnostics_due = Decimator(1.0 / self.params.diagnostics_period)
        # The measurements, in the order the hardware publishes them. With `own_loop` the owner's loop takes them
        # (`take_measurements`) instead of an executor.
        inputs = [(JointState, "joint_states", self.on_joint_states, TICK_QOS),
                  (Imu, "imu/data", lambda m: self.on_measurement("imu", m), SENSOR_QOS)]
        inputs += [(WrenchStamped, f"{side[0]}_foot/wrench", lambda m, s=side: self.on_measurement(s, m), SENSOR_QOS)
                   for side in self.config.sides]
        self.inbox = Inbox(self) if own_loop else None
        self._inputs = []
        for kind, topic, callback, qos in inputs:
            if self.inbox is None:
                self.create_subscription(kind, topic, callback, qos)
            elif kind is JointState:
                self._inputs.append((self.inbox.subscribe(kind, topic, qos), callback, None))
            else:
                # The IMU and the wrenches are taken as CDR bytes and read in place (SerializedReader), about 40 us
                # less per message than building the Python message; one the reader cannot read is deserialized.
                subscription = self.inbox.subscribe(kind, topic, qos, raw=True)
                self._inputs.append((subscription, callback, self._raw_reader(kind)))

    def take_measurements(self) -> int:
        """`own_loop`: hand every measurement waiting in the inbox to its callback, in the order of their stamps
        (at one stamp: joint_states, IMU, wrenches, as the hardware publishes them); the number handed."""
        waiting = []
        for order, (subscription, callback, reader) in enumerate(self._inputs):
            while (taken := self.inbox.take(subscription)) is not None:
                item = taken[0] if reader is None else reader(taken[0])
                stamp = item.stamp if isinstance(item, Reading) else header_seconds(item)
                waiting.append((stamp, order, callback, item))
        if len(waiting) > 1:
            waiting.sort(key=lambda entry: entry[:2])
        for *_, callback, item in waiting:
            callback(item)
        return len(waiting)

    def _raw_reader(self, kind: type) -> Callable[[bytes], Reading | object]:
        """CDR bytes of an IMU or foot-wrench message -> its Reading (the message itself when the bytes cannot be read
        in place: it is then checked as any message is)."""
        from rclpy.serialization import deserialize_message

        if kind is Imu:
            # Every field that changes between messages is a run (the linear acceleration too, though unused).
            reader = SerializedReader(Imu, header_stamp, [(4, set_quaternion(lambda m: m.orientation)),
                                                          (3, set_vector(lambda m: m.angular_velocity)),
                                                          (3, set_vector(lambda m: m.linear_acceleration))])
        else:
            reader = SerializedReader(WrenchStamped, header_stamp, [(3, set_vector(lambda m: m.wrench.force)),
                                                                    (3, set_vector(lambda m: m.wrench.torque))])

        def read(data: bytes):
            values = reader.read(data)
            if values is None:
                return deserialize_message(data, kind)
            sec, nanosec, runs = values
            return Reading(sec + nanosec * 1e-9, tuple(runs))
        return read

    def on_joint_states(self, msg: JointState) -> None:
        if self.listener is not None:
            self.listener.joint_states(msg)  # the control tick first: the estimate waits for the IMU and wrenches
        self.on_measurement("joints", msg)

    def on_measurement(self, key: str, msg) -> None:
        """Keep the newest of each measurement (joint_states as the message; the IMU and the wrenches as their
        `Reading`, from a message or already read); estimate once a full set of one stamp is here."""
        if key == "joints" or isinstance(msg, Reading):
            self.latest[key] = msg
        else:
            self.latest[key] = imu_reading(msg) if key == "imu" else wrench_reading(msg)
        joints = self.latest.get("joints")
        if joints is None or len(self.latest) < 2 + len(self.config.sides):
            return
        stamp = header_seconds(joints)
        # One stamp for the whole set first: a lone message stamped elsewhere (a late one, a malformed or spoofed one)
        # waits for its peers and never resets the estimate by itself.
        if any(abs((m.stamp if isinstance(m, Reading) else header_seconds(m)) - stamp) > self.params.sync_tolerance
               for m in self.latest.values()):
            return
        if stamp <= self.last_stamp:
            if stamp < self.last_stamp - 1.0:  # every measurement went back in time (sim/reset): start again
                self.estimator.reset()
                self.last_stamp = -1.0
            return
        self.last_stamp = stamp
        self.estimate(joints)
        if self._diagnostics_due.due(stamp):
            self.publish_diagnostics(joints.header.stamp)

    def estimate(self, joints: JointState) -> None:
        imu = self.latest["imu"]
        try:
            if not (len(joints.name) == len(joints.position) == len(joints.velocity)):
                raise EstimationError("joint_states arrays of unequal length")
            estimate = self.estimator.update(
                dict(zip(joints.name, joints.position, strict=True)),
                dict(zip(joints.name, joints.velocity, strict=True)),
                imu.values[0], imu.values[1],
                {side: float(self.latest[side].values[0][2]) for side in self.config.sides},
                stamp=header_seconds(joints))
        except EstimationError as error:
            self.rejected += 1
            self.get_logger().warning(f"measurement dropped: {error}", throttle_duration_sec=2.0)
            return
        self.contacts = estimate.contacts
        header = joints.header.stamp
        data = self._odom_bytes.serialize(header.sec, header.nanosec, estimate.position, estimate.orientation,
                                          estimate.linear_velocity, estimate.angular_velocity)
        self.pub_odom.publish(data)
        stamp = header_seconds(joints)
        if self.listener is not None:
            self.listener.odom(stamp, estimate)
        if self.decimator.due(stamp):
            self.pub_odom_decimated.publish(data)
            self.pub_joints_decimated.publish(joints)
        if self.tf_due.due(stamp):
            self.pub_tf.publish(odom_transforms_msg(self._odometry_msg(header, estimate),
                                                    self.params.frame_prefix + FOOTPRINT_FRAME))

    def _odometry_msg(self, stamp, estimate: BaseEstimate) -> Odometry:
        """The odom message of an estimate: odom -> base_link, the twist in base_link, no covariance."""
        msg = Odometry()
        msg.header.stamp = stamp
        msg.header.frame_id = self.params.frame_prefix + self.config.frames["odom"]
        msg.child_frame_id = self.params.frame_prefix + self.config.frames["base"]
        msg.pose.pose = pose_msg(estimate.position, estimate.orientation)
        msg.twist.twist.linear = vector3_msg(estimate.linear_velocity)
        msg.twist.twist.angular = vector3_msg(estimate.angular_velocity)
        return msg

    def _serialized_odometry(self) -> SerializedState:
        """`_odometry_msg`'s message as CDR bytes: serialize(sec, nanosec, position, orientation xyzw, linear and
        angular velocity)."""
        template = self._odometry_msg(Time(), BaseEstimate(np.zeros(3), np.array([0.0, 0.0, 0.0, 1.0]), np.zeros(3),
                                                           np.zeros(3), ()))
        return SerializedState(template, header_stamp, [
            (3, set_vector(lambda m: m.pose.pose.position)), (4, set_quaternion(lambda m: m.pose.pose.orientation)),
            (3, set_vector(lambda m: m.twist.twist.linear)), (3, set_vector(lambda m: m.twist.twist.angular))])

    def publish_diagnostics(self, stamp) -> None:
        self.pub_diagnostics.publish(diagnostics_msg(
            stamp, "state_estimator: leg odometry", OK if self.contacts else WARN,
            "feet in contact: " + (", ".join(self.contacts) or "none"),
            {"measurements_dropped": self.rejected, "last_stamp": f"{self.last_stamp:.3f}"},
            hardware_id=self.params.robot))


def main(args: list[str] | None = None) -> int:
    return run_node("state_estimator", StateEstimator, args)  # a broken robot description: say why, exit 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
