"""The `teleop` node in-process over DDS: Joy in -> cmd_vel out, dead-man release -> one zero Twist at once and then
silence; the e-stop button -> `emergency_stop` true (transient-local), nothing but stop while latched, the reset
service clears it; keys -> head posture, hand command and an arm jog target in base_footprint. An in-process node
test (seconds), not a whole-stack one: no `stack` marker."""

from __future__ import annotations

import threading
import time

import numpy as np
import pinocchio as pin
import pytest
import rclpy
from geometry_msgs.msg import PoseStamped, Twist
from nav_msgs.msg import Odometry
from rclpy.executors import SingleThreadedExecutor
from sensor_msgs.msg import JointState, Joy
from std_msgs.msg import Bool
from std_srvs.srv import Trigger

from legion_interfaces.msg import HandCommand
from legion_model import RobotModel
from legion_teleop.config import load_config
from legion_teleop.robot import gripper_in_footprint
from legion_teleop.teleop_node import TeleopNode
from legion_testing.probe import LATCHED, Probe

TIMEOUT = 15.0  # [s] wall
CONFIG = load_config("teleop")
N_AXES, N_BUTTONS = 8, 11


def joy_msg(forward: float = 0.0, deadman: bool = True, pressed: tuple[int, ...] = ()) -> Joy:
    axes = [0.0] * N_AXES
    axes[CONFIG.joy.axes["forward"].axis] = forward
    buttons = [0] * N_BUTTONS
    buttons[CONFIG.joy.deadman_buttons[0]] = int(deadman)
    for b in pressed:
        buttons[b] = 1
    return Joy(axes=axes, buttons=buttons)


@pytest.fixture(scope="module")
def system():
    if not rclpy.ok():
        rclpy.init()
    probe = Probe("teleop_test_probe")
    for topic, kind, qos in (("cmd_vel", Twist, None), ("emergency_stop", Bool, LATCHED),
                             ("posture/reference", JointState, None), ("right_hand/command", HandCommand, None),
                             ("right_hand/target", PoseStamped, None)):
        probe.record(topic, kind, *(qos,) if qos else ())
    resets = []

    def reset(_request, response):
        resets.append(time.monotonic())
        response.success, response.message = True, "cleared"
        return response

    probe.node.create_service(Trigger, "emergency_stop/reset", reset)
    node = TeleopNode(cli_args=["--ros-args", "-p", "robot:=centurion"])
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    stop = threading.Event()
    thread = threading.Thread(target=lambda: [executor.spin_once(timeout_sec=0.05) for _ in iter(stop.is_set, True)],
                              daemon=True)
    thread.start()
    joy = probe.publisher(Joy, "joy")
    try:
        probe.wait_until(lambda: joy.get_subscription_count() > 0
                         and node.pub_cmd_vel.get_subscription_count() > 0, TIMEOUT, "discovery")
        yield node, probe, joy, resets
    finally:
        stop.set()
        thread.join(timeout=5.0)
        executor.remove_node(node)
        node.destroy_node()
        executor.shutdown()
        probe.close()


def send_for(joy, msg_of, duration: float, period: float = 0.02) -> None:
    end = time.monotonic() + duration
    while time.monotonic() < end:
        joy.publish(msg_of())
        time.sleep(period)


def test_joy_drives_and_the_deadman_release_stops_at_once(system) -> None:
    _node, probe, joy, _ = system
    probe.clear()
    send_for(joy, lambda: joy_msg(forward=1.0), 1.0)
    moving = [m.linear.x for m in probe.received("cmd_vel")]
    assert len(moving) >= 8 and moving[-1] > 0.1  # ramps at 0.5 m/s^2 towards 0.3 m/s
    # At most the acceleration limit over the longest step the core takes (2 periods: a late timer)
    assert max(np.diff(moving)) <= CONFIG.limits.linear_acceleration * 2.0 / CONFIG.timing.rate + 1e-6
    released = time.monotonic()
    joy.publish(joy_msg(forward=1.0, deadman=False))
    probe.wait_until(lambda: probe.received("cmd_vel")[-1].linear.x == 0.0, 2.0, "the zero twist")
    assert time.monotonic() - released < 0.5  # well under the timeouts (under load: 2 cores shared)
    count = len(probe.received("cmd_vel"))
    send_for(joy, lambda: joy_msg(forward=1.0, deadman=False), 1.0)  # stick still pushed: nothing moves
    assert len(probe.received("cmd_vel")) == count


def test_stale_joy_stops_the_robot(system) -> None:
    _node, probe, joy, _ = system
    probe.clear()
    send_for(joy, lambda: joy_msg(forward=1.0), 0.5)
    last = time.monotonic()
    probe.wait_until(lambda: probe.received("cmd_vel")[-1].linear.x == 0.0, 3.0, "the stop on stale joy")
    assert time.monotonic() - last < CONFIG.timing.joy_timeout + 1.5


def test_the_estop_button_latches_and_the_reset_clears_it(system) -> None:
    node, probe, joy, resets = system
    probe.clear()
    button = CONFIG.joy.buttons["emergency_stop"]
    joy.publish(joy_msg(deadman=False))
    time.sleep(0.05)
    joy.publish(joy_msg(deadman=False, pressed=(button,)))
    probe.wait_until(lambda: any(m.data for m in probe.received("emergency_stop")), 2.0, "emergency_stop true")
    probe.clear("cmd_vel")
    send_for(joy, lambda: joy_msg(forward=1.0), 0.5)
    assert all(m.linear.x == 0.0 for m in probe.received("cmd_vel"))
    assert node.core.status().state == "estop"
    outcome = []
    node.request_reset(lambda success, message: outcome.append((success, message)))
    probe.wait_until(lambda: bool(outcome), 5.0, "the reset")
    assert outcome == [(True, "cleared")] and len(resets) == 1
    probe.wait_until(lambda: not probe.received("emergency_stop")[-1].data, 2.0, "emergency_stop false")
    send_for(joy, lambda: joy_msg(forward=1.0), 0.5)
    assert probe.received("cmd_vel")[-1].linear.x > 0.0
    joy.publish(joy_msg(deadman=False))


def test_keys_move_the_head_and_the_hand(system) -> None:
    node, probe, _, _ = system
    probe.clear()
    end = time.monotonic() + 0.5
    while time.monotonic() < end:
        node.on_key("j")
        time.sleep(0.03)
    probe.wait_until(lambda: bool(probe.received("posture/reference")), 2.0, "posture/reference")
    posture = probe.received("posture/reference")[-1]
    pan = dict(zip(posture.name, posture.position, strict=True))["neck_yaw"]
    assert 0.05 < pan < 0.25  # 0.5 s at half of 0.6 rad/s
    node.on_key("c")
    probe.wait_until(lambda: bool(probe.received("right_hand/command")), 2.0, "the hand command")
    assert probe.received("right_hand/command")[-1].mode == HandCommand.POWER


def test_an_arm_jog_moves_the_gripper_target_along_its_own_x(system) -> None:
    node, probe, _, _ = system
    model = RobotModel.load("centurion")
    odom_pub = probe.node.create_publisher(Odometry, "odom", 10)
    joints_pub = probe.node.create_publisher(JointState, "joint_states", 10)
    odom = Odometry()
    odom.pose.pose.position.x, odom.pose.pose.position.z, odom.pose.pose.orientation.w = 2.0, 0.9, 1.0
    joints = JointState(name=list(model.config.standing), position=list(model.config.standing.values()))
    probe.wait_until(lambda: odom_pub.get_subscription_count() > 0 and joints_pub.get_subscription_count() > 0,
                     TIMEOUT, "odom and joint_states discovery")
    while node._odom is None or not node._joints:
        odom_pub.publish(odom)
        joints_pub.publish(joints)
        time.sleep(0.05)
    probe.clear()
    end = time.monotonic() + 1.0
    while time.monotonic() < end:
        node.on_key("8")
        time.sleep(0.03)
    targets = probe.received("right_hand/target")
    assert targets and all(t.header.frame_id == "base_footprint" for t in targets)
    first, last = targets[0].pose.position, targets[-1].pose.position
    moved = np.array([last.x - first.x, last.y - first.y, last.z - first.z])
    origin = gripper_in_footprint(model, "right", pin.SE3(np.eye(3), np.array([2.0, 0.0, 0.9])),
                                  model.config.standing)
    direction = origin.rotation[:, 0]
    assert np.linalg.norm(moved) > 0.01
    assert np.dot(moved / np.linalg.norm(moved), direction) > 0.99
    node.on_key("0")
    probe.wait_until(lambda: probe.received("right_hand/target")[-1].header.frame_id == "", 5.0, "the release")


def test_with_the_safety_node_the_estop_is_a_category_1_stop_and_the_reset_goes_through_safety_reset(system) -> None:
    """Where the safety node runs (here a stand-in: a `safety/emergency_stop` subscriber and the `safety/reset`
    service), the e-stop goes to it (a walking robot comes to double support before the hardware holds), not to the
    hardware's immediate hold, and the reset asks it, saying who and why."""
    node, probe, joy, resets = system
    from legion_interfaces.srv import SafetyReset

    controlled: list[bool] = []
    asked: list[tuple[str, str]] = []
    probe.node.create_subscription(Bool, "safety/emergency_stop", lambda m: controlled.append(m.data), LATCHED)

    def safety_reset(request, response):
        asked.append((request.requested_by, request.reason))
        response.success, response.message = True, "latch cleared"
        return response

    service = probe.node.create_service(SafetyReset, "safety/reset", safety_reset)
    try:
        probe.wait_until(lambda: node.pub_controlled_stop.get_subscription_count() > 0
                         and node.safety_reset_client.service_is_ready(), TIMEOUT, "the stand-in safety node")
        probe.clear()
        hardware_before = len(probe.received("emergency_stop"))
        button = CONFIG.joy.buttons["emergency_stop"]
        joy.publish(joy_msg(deadman=False))
        time.sleep(0.05)
        joy.publish(joy_msg(deadman=False, pressed=(button,)))
        probe.wait_until(lambda: controlled == [True], 2.0, "safety/emergency_stop true")
        assert node.core.status().state == "estop"
        assert not any(m.data for m in probe.received("emergency_stop")[hardware_before:])  # no immediate hold
        outcome = []
        count = len(resets)
        node.request_reset(lambda success, message: outcome.append((success, message)))
        probe.wait_until(lambda: bool(outcome), 5.0, "the reset")
        assert outcome == [(True, "latch cleared")] and len(resets) == count  # not the hardware's own reset
        (who, why), = asked
        assert who.startswith("legion teleop") and why
        probe.wait_until(lambda: controlled[-1] is False, 2.0, "safety/emergency_stop withdrawn")
        assert node.core.status().state != "estop"
        joy.publish(joy_msg(deadman=False))
    finally:
        probe.node.destroy_service(service)
