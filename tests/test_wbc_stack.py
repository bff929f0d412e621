"""The whole-body controller in the whole stack over real DDS, in lockstep simulation.

One `stack` launch (simulated robot in the empty scene, state estimator, whole-body controller, gait planner,
perception with the camera off) serves the tests of this module: the robot stands, squats through
`balance/offset`, reaches with its right hand through `right_hand/target`, and takes a push through
`sim/apply_wrench`. Before each test the `settled` fixture withdraws the balance offset and the hand target and lets
the robot settle, so that the tests do not depend on their order. Assertions use the simulator's ground truth, which
no controller reads.
"""

from __future__ import annotations

import numpy as np
import pinocchio as pin
import pytest
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import PoseStamped
from nav_msgs.msg import Odometry
from sensor_msgs.msg import JointState

from legion_bringup.launcher import LaunchedNodes
from legion_common.diagnostics import diagnostic_values
from legion_common.messages import xyzw
from legion_common.stamps import header_seconds, to_stamp
from legion_common.transforms import tilt_from_quaternion
from legion_control.conversions import balance_offset_msg
from legion_interfaces.msg import BalanceOffset, JointCommand
from legion_interfaces.srv import ApplyWrench
from legion_model import RobotModel
from legion_testing.probe import Probe

STARTUP = 120.0
"""[s] wall: model builds, DDS discovery, first balanced cycles."""
SIM_TIMEOUT = 180.0
"""[s] wall allowed per wait for simulated time (lockstep runs slower than real time on 2 cores)."""
SETTLE_TIME = 1.5
"""[s] simulated time the robot settles for before each test."""

pytestmark = pytest.mark.stack


def controller_status(probe: Probe) -> dict[str, str]:
    """Key values of the newest `diagnostics` status of the whole-body controller ({} before the first)."""
    for msg in reversed(probe.received("diagnostics")):
        for status in msg.status:
            if status.name.startswith("whole_body_controller"):
                values = {kv.key: kv.value for kv in status.values}
                values["level"] = str(status.level[0] if isinstance(status.level, bytes) else status.level)
                return values
    return {}


def lockstep_timeouts(probe: Probe) -> int:
    """The simulator's count of states it stopped waiting for (no answer within lockstep_timeout), newest status."""
    for msg in reversed(probe.received("hardware/status")):
        values = diagnostic_values(msg)
        if "lockstep_timeouts" in values:
            return int(values["lockstep_timeouts"])
    raise AssertionError("no hardware/status with lockstep_timeouts yet")


def base(probe: Probe) -> tuple[np.ndarray, float]:
    """(ground-truth base position [m], tilt from upright [rad]) of the newest ground_truth/odom."""
    pose = probe.received("ground_truth/odom")[-1].pose.pose
    tilt = tilt_from_quaternion(xyzw(pose.orientation))
    return np.array([pose.position.x, pose.position.y, pose.position.z]), tilt


@pytest.fixture(scope="module")
def stack():
    # The workspace conftest.py puts the test session (this probe and the launched nodes) on a ROS domain of its own.
    launched = LaunchedNodes("stack", {"scene": "empty", "lockstep": "true"}, echo=False,
                             extra_parameters={"sim_bridge": {"camera_rate": 0.0},
                             # no camera, no people sensing: the safety node assumes nobody is near
                             "safety": {"zones.people_required": False}})
    probe = Probe("wbc_stack_test_probe")
    for topic, kind in (("ground_truth/odom", Odometry), ("diagnostics", DiagnosticArray),
                        ("joint_states", JointState), ("joint_commands", JointCommand),
                        ("hardware/status", DiagnosticArray), ("odom", Odometry), ("odom/decimated", Odometry),
                        ("joint_states/decimated", JointState)):
        probe.record(topic, kind)
    try:
        probe.wait_until(lambda: controller_status(probe).get("state") == "balancing", STARTUP,
                         "the whole-body controller to balance")
        probe.wait_sim_time(2.0, SIM_TIMEOUT)  # past the gait planner's standing height transition
        yield probe, launched
    finally:
        probe.close()
        launched.shutdown()


@pytest.fixture(autouse=True)
def settled(stack):
    """Every test starts balancing in place: no balance offset, no hand target, the robot upright and settled."""
    probe, _ = stack
    offset = probe.publisher(BalanceOffset, "balance/offset")
    hand = probe.publisher(PoseStamped, "right_hand/target")
    probe.wait_until(lambda: offset.get_subscription_count() > 0 and hand.get_subscription_count() > 0, 30.0,
                     "the controller on balance/offset and right_hand/target")
    offset.publish(balance_offset_msg(probe.latest_time(), (0.0, 0.0, 0.0)))
    hand.publish(PoseStamped())  # empty frame: release
    probe.wait_sim_time(SETTLE_TIME, SIM_TIMEOUT)
    assert controller_status(probe).get("state") == "balancing", "the robot is not balancing before the test"
    assert base(probe)[1] < 0.05, "the robot is not upright before the test"
    return stack


def test_stands_still_in_lockstep_answering_every_joint_state(stack):
    probe, launched = stack
    start, _ = base(probe)
    probe.wait_until(lambda: probe.received("hardware/status"), 30.0, "hardware/status")
    timeouts = lockstep_timeouts(probe)
    probe.clear("joint_states")
    probe.clear("joint_commands")
    end_time = probe.wait_sim_time(3.0, SIM_TIMEOUT)
    position, tilt = base(probe)
    drift = float(np.linalg.norm(position[:2] - start[:2]))
    assert drift < 0.005, f"base drifted {drift * 1000:.1f} mm in 3 s"
    # The height is the gait planner's to choose (its standing reference settles the CoM at its walking height).
    assert abs(position[2] - start[2]) < 0.03 and tilt < 0.02
    # Every joint state answered: the simulator, which waits for each answer, never stopped waiting (its own
    # count); and the probe, whose 500 Hz subscriptions may drop a few messages on a busy machine, saw nearly all.
    probe.wait_sim_time(1.0, SIM_TIMEOUT)  # a status published after the interval
    assert lockstep_timeouts(probe) == timeouts, "the simulator stopped waiting for an answer"
    states = {round(header_seconds(m), 6) for m in probe.received("joint_states")
              if header_seconds(m) < end_time - 0.02}
    answered = {round(header_seconds(m), 6) for m in probe.received("joint_commands")}
    missing = sorted(states - answered)
    assert states and len(missing) <= 0.01 * len(states), f"{len(missing)} of {len(states)} not seen: {missing[:5]}"
    status = controller_status(probe)
    assert status["state"] == "balancing" and status["qp_failures"] == "0", status
    assert all(process.poll() is None for process in launched.processes.values())


def test_squats_8_cm_through_balance_offset(stack):
    probe, _ = stack
    publisher = probe.publisher(BalanceOffset, "balance/offset")
    probe.wait_until(lambda: publisher.get_subscription_count() > 0, 30.0, "the controller on balance/offset")
    start, _ = base(probe)
    depth = 0.08
    for step in range(1, 11):  # 8 cm down in 10 steps, 0.05 s of simulated time apart
        publisher.publish(balance_offset_msg(probe.latest_time(), (0.0, 0.0, -depth * step / 10)))
        probe.wait_sim_time(0.05, SIM_TIMEOUT)
    probe.wait_sim_time(1.0, SIM_TIMEOUT)
    low, tilt = base(probe)
    assert start[2] - low[2] == pytest.approx(depth, abs=0.015)
    assert float(np.linalg.norm(low[:2] - start[:2])) < 0.02 and tilt < 0.05
    for step in range(9, -1, -1):
        publisher.publish(balance_offset_msg(probe.latest_time(), (0.0, 0.0, -depth * step / 10)))
        probe.wait_sim_time(0.05, SIM_TIMEOUT)
    probe.wait_sim_time(0.7, SIM_TIMEOUT)
    assert abs(base(probe)[0][2] - start[2]) < 0.01
    assert controller_status(probe)["state"] == "balancing"


def gripper_position(probe: Probe, model: RobotModel, frame: str) -> np.ndarray:
    """Where the gripper frame truly is: ground-truth base and measured joints through the model [m]."""
    odom = probe.received("ground_truth/odom")[-1].pose.pose
    joints = probe.received("joint_states")[-1]
    base_pose = np.array([odom.position.x, odom.position.y, odom.position.z, odom.orientation.x,
                          odom.orientation.y, odom.orientation.z, odom.orientation.w])
    model.update(model.q_from_joint_positions(base_pose, dict(zip(joints.name, joints.position, strict=True))))
    return model.frame_position(frame)


def test_reaches_40_cm_in_front_of_the_chest_at_table_height_through_the_hand_target(stack):
    probe, _ = stack
    model = RobotModel.load("centurion", lock_hands=True)
    frame = model.config.sides["right"].gripper
    publisher = probe.publisher(PoseStamped, "right_hand/target")
    probe.wait_until(lambda: publisher.get_subscription_count() > 0, 30.0, "the controller on right_hand/target")
    start = gripper_position(probe, model, frame)
    chest, _ = base(probe)  # the torso frame is above the pelvis origin
    target = np.array([chest[0] + 0.40, chest[1] - 0.10, 0.78])  # table top 0.75 m
    orientation = pin.SE3ToXYZQUAT(model.transform_frame_to_world(frame))[3:]
    for _ in range(20):  # 2 s of simulated time, the target re-sent every 0.1 s (it goes stale after 1 s)
        msg = PoseStamped()
        msg.header.stamp = to_stamp(probe.latest_time())
        msg.header.frame_id = "odom"
        msg.pose.position.x, msg.pose.position.y, msg.pose.position.z = (float(v) for v in target)
        (msg.pose.orientation.x, msg.pose.orientation.y, msg.pose.orientation.z,
         msg.pose.orientation.w) = (float(v) for v in orientation)
        publisher.publish(msg)
        probe.wait_sim_time(0.1, SIM_TIMEOUT)
    reached = gripper_position(probe, model, frame)
    assert np.linalg.norm(reached - target) < 0.03, f"gripper at {reached}, target {target}"
    publisher.publish(PoseStamped())  # empty frame: release, the arm goes back to its posture
    probe.wait_sim_time(1.5, SIM_TIMEOUT)
    back = gripper_position(probe, model, frame)
    assert np.linalg.norm(back - start) < 0.05
    status = controller_status(probe)
    assert status["state"] == "balancing" and "task_error.right_hand" not in status


def test_rejects_a_25_newton_second_side_push_at_the_pelvis(stack):
    probe, _ = stack
    request = ApplyWrench.Request()
    request.body = "base_link"
    request.duration = 0.2
    request.wrench.force.y = 25.0 / request.duration
    response = probe.call(ApplyWrench, "sim/apply_wrench", request)
    assert response.success, response.message
    probe.wait_sim_time(2.5, SIM_TIMEOUT)
    position, tilt = base(probe)
    assert position[2] > 0.85 and tilt < 0.1
    assert controller_status(probe)["state"] == "balancing"


def test_the_composed_control_path_takes_the_state_in_process_and_no_clock(stack):
    """The default launch composes the estimator and the controller in one process: only the estimator takes
    joint_states from the middleware, neither node takes `clock`, odom goes out every tick and the decimated state at
    50 Hz on a stamp grid, in step with each other."""
    probe, launched = stack
    assert "whole_body_control" in launched.processes

    def subscribers(topic: str) -> set[str]:
        return {info.node_name for info in probe.node.get_subscriptions_info_by_topic(topic)}

    assert "state_estimator" in subscribers("/joint_states")
    assert "whole_body_controller" not in subscribers("/joint_states") | subscribers("/odom")
    assert not {"state_estimator", "whole_body_controller"} & subscribers("/clock")
    assert {"gait_planner", "perception"} <= subscribers("/odom/decimated") & subscribers("/joint_states/decimated")
    for topic in ("odom", "odom/decimated", "joint_states/decimated"):
        probe.clear(topic)
    end = probe.wait_sim_time(1.0, SIM_TIMEOUT)
    odom = [header_seconds(m) for m in probe.received("odom") if header_seconds(m) < end - 0.05]
    decimated = [header_seconds(m) for m in probe.received("odom/decimated") if header_seconds(m) < end - 0.05]
    joints = {round(header_seconds(m), 6) for m in probe.received("joint_states/decimated")}
    span = odom[-1] - odom[0]
    # odom goes out at every 2 ms tick, stamped on the tick grid. The probe is a Python subscriber sharing the two
    # cores with the whole stack: odom's reliable keep-last-10 history drops what it has not taken after 20 ms, so
    # under load it receives most ticks, not all (95-100 % on a quiet machine, 85 % once in CI).
    steps = np.diff(odom) / 0.002
    assert np.allclose(steps, np.round(steps), atol=0.05) and np.all(steps >= 0.95), steps
    assert span > 0.8 and len(odom) >= 0.8 * (span * 500 + 1), f"{len(odom)} odom messages in {span:.3f} s"
    assert len(decimated) >= 40 and np.allclose(np.diff(decimated), 0.02, atol=0.0021), np.diff(decimated)
    # the two decimated topics come in step (the same stamps); the probe's clear() may fall between a pair's messages
    assert {round(s, 6) for s in decimated if min(joints) <= s <= max(joints)} <= joints
