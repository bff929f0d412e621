"""The node in-process over DDS, without a simulator: it answers each joint state with a command of the same stamp,
reports on diagnostics, refuses out-of-range parameters, and takes hand targets in its robot's frames only (a
multi-robot scene's `frame_prefix`)."""

from __future__ import annotations

import time

import numpy as np
import pytest

rclpy = pytest.importorskip("rclpy")

from diagnostic_msgs.msg import DiagnosticArray  # noqa: E402
from geometry_msgs.msg import PoseStamped  # noqa: E402
from nav_msgs.msg import Odometry  # noqa: E402
from rclpy.executors import SingleThreadedExecutor  # noqa: E402
from rclpy.parameter import Parameter  # noqa: E402
from sensor_msgs.msg import JointState  # noqa: E402

from legion_common.parameters import ParameterError  # noqa: E402
from legion_common.stamps import to_stamp  # noqa: E402
from legion_control.whole_body_controller_node import STATE_QOS, WholeBodyControllerNode  # noqa: E402
from legion_interfaces.msg import JointCommand  # noqa: E402


@pytest.fixture
def ros():
    # The workspace conftest.py puts the test session on a ROS domain of its own: other stacks do not reach the node.
    rclpy.init()
    try:
        yield
    finally:
        rclpy.try_shutdown()


def spin_until(executor, predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not predicate():
        executor.spin_once(timeout_sec=0.02)
    return predicate()


class Wired:
    """The node under test and a peer that publishes joint_states and odom and records joint_commands and
    diagnostics, on one executor."""

    def __init__(self, node: WholeBodyControllerNode) -> None:
        self.node = node
        self.peer = rclpy.create_node("wbc_node_test_peer")
        self.executor = SingleThreadedExecutor()
        self.executor.add_node(node)
        self.executor.add_node(self.peer)
        self.commands: list[JointCommand] = []
        self.diagnostics: list[DiagnosticArray] = []
        self.peer.create_subscription(JointCommand, "joint_commands", self.commands.append, STATE_QOS)
        self.peer.create_subscription(DiagnosticArray, "diagnostics", self.diagnostics.append, 10)
        self.states = self.peer.create_publisher(JointState, "joint_states", STATE_QOS)
        self.odom = self.peer.create_publisher(Odometry, "odom", 10)
        assert spin_until(self.executor, lambda: self.states.get_subscription_count() > 0
                          and self.odom.get_subscription_count() > 0)

    def send(self, stamp, q: np.ndarray, names: list[str], positions: list[float], lateral_speed: float = 0.0) -> None:
        """One odom (base pose `q[:7]`, sideways speed) and one joint state, both at `stamp`; waits for the command."""
        msg = Odometry()
        msg.header.stamp = stamp
        msg.pose.pose.position.x, msg.pose.pose.position.y, msg.pose.pose.position.z = q[:3]
        (msg.pose.pose.orientation.x, msg.pose.pose.orientation.y, msg.pose.pose.orientation.z,
         msg.pose.pose.orientation.w) = q[3:7]
        msg.twist.twist.linear.y = lateral_speed
        self.odom.publish(msg)
        state = JointState(name=names, position=positions, velocity=[0.0] * len(names), effort=[0.0] * len(names))
        state.header.stamp = stamp
        self.states.publish(state)
        before = len(self.commands)
        assert spin_until(self.executor, lambda: len(self.commands) > before)

    def close(self) -> None:
        self.executor.shutdown()
        self.peer.destroy_node()
        self.node.destroy_node()


@pytest.fixture
def wired(ros):
    made: list[Wired] = []
    yield lambda node: made.append(Wired(node)) or made[-1]
    for each in made:
        each.close()


def test_every_joint_state_gets_a_command_with_its_stamp(wired, robot):
    w = wired(WholeBodyControllerNode(parameter_overrides=[Parameter("diagnostics_rate", value=50.0)]))
    q = robot.standing_configuration()
    names = list(robot.config.all_joints)
    positions = [robot.config.standing.get(n, 0.0) for n in names]
    stamps = [to_stamp(0.002 * i) for i in range(20)]
    for stamp in stamps:
        w.send(stamp, q, names, positions)
    assert [c.header.stamp for c in w.commands] == stamps
    last = w.commands[-1]
    assert set(last.name) == set(names)
    assert np.all(np.isfinite(last.effort)) and max(abs(e) for e in last.effort) > 1.0
    assert spin_until(w.executor, lambda: any(s.name.startswith("whole_body_controller")
                                              for d in w.diagnostics for s in d.status))
    values = {kv.key: kv.value for d in w.diagnostics for s in d.status for kv in s.values}
    assert values["state"] == "balancing" and "qp_solve_time_median_ms" in values


def test_out_of_range_parameters_stop_the_node(ros):
    with pytest.raises(ParameterError, match=r"contact\.friction"):
        WholeBodyControllerNode(parameter_overrides=[Parameter("contact.friction", value=9.0)])


def test_an_unavoidable_fall_is_reported_with_its_reason_and_the_fall_posture(wired, robot):
    """The base, rolled 0.1 rad, moves sideways at 1.5 m/s over still joints: the capture point is beyond a step's
    reach and the base is tipping."""
    from diagnostic_msgs.msg import DiagnosticStatus

    w = wired(WholeBodyControllerNode(parameter_overrides=[Parameter("diagnostics_rate", value=50.0)]))
    q = robot.standing_configuration()
    names = list(robot.config.all_joints)
    positions = [robot.config.standing.get(n, 0.0) for n in names]
    q = q.copy()
    q[3:7] = (-np.sin(0.05), 0.0, 0.0, np.cos(0.05))  # x, y, z, w: tipping 0.1 rad towards +y (standing: identity)
    for i in range(60):  # 0.12 s: more than fall.capture_time
        w.send(to_stamp(0.002 * i), q, names, positions, lateral_speed=1.5)

    def fallen() -> list:
        return [s for d in w.diagnostics for s in d.status
                if s.name.startswith("whole_body_controller") and s.level == DiagnosticStatus.ERROR]

    assert spin_until(w.executor, lambda: bool(fallen()))
    status = fallen()[-1]
    values = {kv.key: kv.value for kv in status.values}
    assert values["state"] == "fallen"
    assert values["fall_reason"].startswith("capture point") and "reach" in values["fall_reason"]
    assert values["fall_response"] == "protective fall posture"
    assert status.message.startswith("fallen: capture point") and status.message.endswith("protective fall posture")
    # upright over the soles, but moving: not standing again (the capture point is not over the soles)
    command = dict(zip(w.commands[-1].name, w.commands[-1].stiffness, strict=True))
    posture = robot.config.fall_posture
    assert all(command[n] == posture.gains[n].stiffness for n in robot.config.body_joints)


def test_with_a_frame_prefix_hand_targets_are_taken_in_the_robots_frames_only(wired):
    """A robot of a multi-robot scene (`frame_prefix: robot_2/`): hand targets in `robot_2/odom` and
    `robot_2/base_footprint` reach the controller, those in the unprefixed frames are rejected."""
    node = WholeBodyControllerNode(parameter_overrides=[Parameter("frame_prefix", value="robot_2/")])
    w = wired(node)
    side = node.controller.sides[0]
    taken: list = []
    node.controller.set_hand_target = lambda s, target: taken.append((s, target))  # a spy: the reach is not tested
    publisher = w.peer.create_publisher(PoseStamped, f"{side}_hand/target", 10)
    assert spin_until(w.executor, lambda: publisher.get_subscription_count() > 0)
    for frame in ("robot_2/odom", "robot_2/base_footprint", "odom", "base_footprint", "robot_1/odom"):
        msg = PoseStamped()
        msg.header.stamp, msg.header.frame_id = to_stamp(0.0), frame
        msg.pose.position.x, msg.pose.orientation.w = 0.3, 1.0
        publisher.publish(msg)
    topic = f"{side}_hand/target"
    assert spin_until(w.executor, lambda: len(taken) + node._rejected[topic] == 5)
    assert [target.in_base_footprint for _, target in taken] == [False, True]
    assert node._rejected[topic] == 3 and "robot_2/odom" in node._errors[-1]


def test_the_composed_control_process_gives_the_frame_prefix_to_both_nodes():
    """`whole_body_control` (estimator and controller in one process): the launch's `-p frame_prefix:=robot_2/`
    reaches both nodes (command-line parameters apply to every node of a process)."""
    from legion_control.control_process import ControlProcess

    rclpy.init(args=["--ros-args", "-p", "frame_prefix:=robot_2/"])
    try:
        process = ControlProcess()
        estimator, controller = process.nodes
        assert estimator.params.frame_prefix == "robot_2/"
        assert (controller.odom_frame, controller.footprint_frame) == ("robot_2/odom", "robot_2/base_footprint")
        process.destroy_node()
    finally:
        rclpy.try_shutdown()
