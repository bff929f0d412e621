"""The `gait_planner` node in-process over DDS, fed a synthetic standing robot (odom and joint_states at 50 Hz):
its topics, parameters, the walk_to action (reject, feedback, cancel) and diagnostics. The robot does not move, so
this tests the ROS interface, not walking (test_gait_walking.py and test_gait_stack.py do). Each test has a node and
a fake robot of its own. An in-process node test (seconds), not a whole-stack one: no `stack` marker."""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import Twist
from nav_msgs.msg import Odometry
from rclpy.action import ActionClient
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter
from sensor_msgs.msg import JointState
from visualization_msgs.msg import MarkerArray

from legion_common.stamps import to_seconds
from legion_gait import conversions as conv
from legion_gait.gait_planner_node import GaitPlannerNode
from legion_interfaces.action import WalkTo
from legion_interfaces.msg import FootstepPlan, GaitReference
from legion_model import RobotModel
from legion_testing.probe import LATCHED, Probe

TIMEOUT = 30.0  # [s] wall


class FakeRobot:
    """Publishes a standing Centurion's odom and joint_states, stamped with the node clock, from a 50 Hz timer; with
    `command(...)`, also a cmd_vel on each of its next ticks (so commands are paced by the robot's clock)."""

    def __init__(self, probe: Probe) -> None:
        model = RobotModel.load("centurion", lock_hands=True)
        q = model.standing_configuration()
        self.base = q[:7]
        self.names = list(model.joint_names)
        self.positions = q[7:].tolist()
        self.node = probe.node
        self.pub_odom = probe.publisher(Odometry, "odom")
        self.pub_joints = probe.publisher(JointState, "joint_states")
        self.pub_cmd_vel = probe.publisher(Twist, "cmd_vel")
        self._lock = threading.Lock()
        self._twist: Twist | None = None
        self._ticks_left = 0
        self.timer = self.node.create_timer(0.02, self.publish)

    def command(self, forward: float, ticks: int = 10) -> None:
        """Send cmd_vel `forward` [m/s] on the next `ticks` ticks."""
        twist = Twist()
        twist.linear.x = forward
        with self._lock:
            self._twist, self._ticks_left = twist, ticks

    def publish(self) -> None:
        stamp = self.node.get_clock().now().to_msg()
        odometry = Odometry()
        odometry.header.stamp = stamp
        odometry.header.frame_id = "odom"
        pose = odometry.pose.pose
        pose.position.x, pose.position.y, pose.position.z = self.base[:3].tolist()
        pose.orientation.x, pose.orientation.y, pose.orientation.z, pose.orientation.w = self.base[3:].tolist()
        self.pub_odom.publish(odometry)
        joints = JointState(name=self.names, position=self.positions, velocity=[0.0] * len(self.names))
        joints.header.stamp = stamp
        self.pub_joints.publish(joints)
        with self._lock:
            if self._ticks_left > 0 and self._twist is not None:
                self._ticks_left -= 1
                self.pub_cmd_vel.publish(self._twist)


@pytest.fixture
def system():
    """A fresh planner node (spun on a thread), a probe recording its outputs and a fake robot, for one test."""
    probe = Probe("gait_node_test_probe")
    for topic, kind in (("gait/reference", GaitReference), ("diagnostics", DiagnosticArray)):
        probe.record(topic, kind)
    probe.record("gait/footsteps", FootstepPlan, LATCHED)
    probe.record("gait_planner/markers", MarkerArray, LATCHED)
    robot = FakeRobot(probe)
    node = GaitPlannerNode(parameter_overrides=[Parameter("update_rate", value=20.0),
                                                Parameter("diagnostics_rate", value=5.0)])
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    stop = threading.Event()
    thread = threading.Thread(target=lambda: [executor.spin_once(timeout_sec=0.05) for _ in iter(stop.is_set, True)],
                              daemon=True)
    thread.start()
    try:
        probe.wait_until(lambda: probe.received("diagnostics"), TIMEOUT, "the planner's first diagnostics")
        yield probe, node, robot
    finally:
        stop.set()
        thread.join(timeout=5.0)
        executor.shutdown()
        node.destroy_node()
        probe.close()


def newest(probe: Probe, topic: str):
    return probe.received(topic)[-1]


def test_idle_until_commanded_then_a_reference_that_ends_standing_and_footsteps(system) -> None:
    probe, node, robot = system
    assert not probe.received("gait/reference")  # idle: the controller balances on its own
    assert node.planner.phase.value == "standing"
    robot.command(0.4)
    probe.wait_until(lambda: any(len(m.steps) >= 3 for m in probe.received("gait/footsteps")), TIMEOUT,
                     "footsteps for cmd_vel")
    msg = newest(probe, "gait/reference")
    assert msg.header.frame_id == "odom"
    times = [to_seconds(sample.stamp) for sample in msg.samples]
    assert len(times) >= 10 and np.all(np.diff(times) > 0)
    # The reference starts at the state it was planned from; this test's fake robot stamps its state with the wall
    # clock, which on a busy machine may run a few ms ahead of the planner's tick.
    assert times[0] <= to_seconds(msg.header.stamp) + 0.05
    last = msg.samples[-1]
    assert all(sole.in_contact for sole in last.soles)  # every plan ends standing ...
    assert math.hypot(last.com_velocity.x, last.com_velocity.y) < 0.01  # ... at rest
    assert abs(last.com_position.z - 0.90) < 0.01  # com_height above the floor
    plan = [m for m in probe.received("gait/footsteps") if len(m.steps) >= 3][-1]
    steps = conv.footsteps_from_msg(plan)
    assert [side for side, *_ in steps][:2] in (["left", "right"], ["right", "left"])
    assert all(lift < land for _, _, lift, land in steps)
    probe.wait_until(lambda: probe.received("gait_planner/markers"), TIMEOUT, "the footstep markers")
    # The command goes stale: the step in flight and a closing step, then nothing more is planned. (The fake robot
    # does not walk, so its CoM stays away from the reference and the planner keeps re-anchoring on it: going idle
    # after standing is tested on the core, test_gait_planner.py.)
    probe.wait_until(lambda: not newest(probe, "gait/footsteps").steps, TIMEOUT, "no more footsteps")


    def warned_stale() -> bool:  # diagnostics come at 1 Hz: the warning may follow the last footsteps
        warnings = [kv.value for m in probe.received("diagnostics") for status in m.status
                    if status.name == "gait_planner" for kv in status.values if kv.key == "last_warning"]
        return any("stale" in warning for warning in warnings)
    probe.wait_until(warned_stale, TIMEOUT, "a stale-command warning on diagnostics")


def test_absurd_cmd_vel_is_rejected_and_reported(system) -> None:
    probe, node, robot = system
    robot.command(50.0, ticks=1)
    probe.wait_until(lambda: any(
        kv.key == "commands_rejected" and int(kv.value) >= 1 for m in probe.received("diagnostics")
        for kv in m.status[0].values), TIMEOUT, "the rejection in diagnostics")
    assert node.planner.command is None or node.planner.command.velocity[0] <= 1.0


def walk_to_goal(x: float, y: float, yaw: float, frame: str = "odom") -> WalkTo.Goal:
    goal = WalkTo.Goal()
    goal.target.header.frame_id = frame
    goal.target.pose.position.x, goal.target.pose.position.y = x, y
    goal.target.pose.orientation.z, goal.target.pose.orientation.w = math.sin(yaw / 2), math.cos(yaw / 2)
    return goal


def test_walk_to_rejects_unreachable_goals_and_cancels_safely(system) -> None:
    probe, node, _ = system
    client = ActionClient(probe.node, WalkTo, "walk_to")
    assert client.wait_for_server(timeout_sec=TIMEOUT)
    for goal in (walk_to_goal(1.0, 0.0, 0.0, frame="map"), walk_to_goal(500.0, 0.0, 0.0)):
        future = client.send_goal_async(goal)
        probe.wait_until(future.done, TIMEOUT, "the goal response")
        assert not future.result().accepted
    feedback = []
    future = client.send_goal_async(walk_to_goal(2.0, 0.0, 0.0), feedback_callback=feedback.append)
    probe.wait_until(future.done, TIMEOUT, "the goal response")
    handle = future.result()
    assert handle.accepted
    probe.wait_until(lambda: len(feedback) >= 3, TIMEOUT, "walk_to feedback")
    assert feedback[-1].feedback.distance_remaining == pytest.approx(2.0, abs=0.1)
    cancel = handle.cancel_goal_async()
    probe.wait_until(cancel.done, TIMEOUT, "the cancel response")
    result = handle.get_result_async()
    probe.wait_until(result.done, TIMEOUT, "the canceled result")
    assert result.result().status == 5  # GoalStatus.STATUS_CANCELED
    assert not result.result().result.success and "cancel" in result.result().result.message
    assert node.planner.phase.value == "standing"


def test_diagnostics_report_the_planner(system) -> None:
    probe, _, _ = system
    probe.wait_until(lambda: probe.received("diagnostics"), TIMEOUT, "diagnostics")
    values = {kv.key: kv.value for kv in newest(probe, "diagnostics").status[0].values}
    for key in ("phase", "dcm_error", "update_time_median", "footsteps_planned", "goal", "commands_rejected"):
        assert key in values
    assert math.isfinite(float(values["update_time_median"]))  # how fast: bench/bench_gait.py
