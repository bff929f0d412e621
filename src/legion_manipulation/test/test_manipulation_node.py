"""The `manipulation` node in-process over DDS, as one robot of a multi-robot scene (`frame_prefix: robot_2/`): it
takes perception and place targets in `robot_2/odom` only, and its hand targets and `walk_to` goals carry its
robot's frames. An in-process node test (seconds), not a whole-stack one."""

from __future__ import annotations

from types import SimpleNamespace

import pinocchio as pin
import pytest
import rclpy
from geometry_msgs.msg import PoseStamped
from nav_msgs.msg import Odometry
from rclpy.action import ActionClient, ActionServer
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter
from sensor_msgs.msg import JointState

from legion_interfaces.action import Place, WalkTo
from legion_interfaces.msg import DetectedObject, DetectedObjectArray
from legion_manipulation.manipulation_node import ManipulationNode
from legion_manipulation.tasks import Outputs
from legion_testing import probe

TIMEOUT = 15.0  # [s] wall
PREFIX = "robot_2/"


@pytest.fixture
def system():
    if not rclpy.ok():
        rclpy.init()
    node = ManipulationNode(parameter_overrides=[Parameter("frame_prefix", value=PREFIX)])
    peer = rclpy.create_node("manipulation_test_peer")
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    executor.add_node(peer)
    try:
        yield node, peer, executor
    finally:
        for each in (node, peer):
            executor.remove_node(each)
            each.destroy_node()
        executor.shutdown()


def spin_until(executor, condition, timeout: float = TIMEOUT) -> None:
    probe.spin_until(executor, condition, timeout)


def objects_in(frame: str) -> DetectedObjectArray:
    msg = DetectedObjectArray()
    msg.header.frame_id = frame
    part = DetectedObject(id="red_cube_1", label="red_cube", confidence=1.0)
    part.pose.position.x, part.pose.orientation.w = 0.5, 1.0
    part.size.x = part.size.y = part.size.z = 0.05
    msg.objects = [part]
    return msg


def test_perception_in_the_robots_odom_only(system):
    node, peer, executor = system
    publisher = peer.create_publisher(DetectedObjectArray, "perception/objects", 10)
    spin_until(executor, lambda: publisher.get_subscription_count() > 0)
    publisher.publish(objects_in("odom"))  # another robot's (or an unprefixed) frame: left out
    spin_until(executor, lambda: "odom" in node._last_message)
    assert node._objects == {} and "expected 'robot_2/odom'" in node._last_message
    publisher.publish(objects_in(f"{PREFIX}odom"))
    spin_until(executor, lambda: "red_cube_1" in node._objects)


def test_hand_targets_and_walk_goals_carry_the_robots_frames(system):
    node, peer, executor = system
    left, right = node.sides
    frames: dict[str, str] = {}
    for side in (left, right):
        peer.create_subscription(PoseStamped, f"{side}_hand/target",
                                 lambda msg, side=side: frames.__setitem__(side, msg.header.frame_id), 10)
    walk_frames: list[str] = []

    def walk(goal_handle):
        walk_frames.append(goal_handle.request.target.header.frame_id)
        goal_handle.succeed()
        return WalkTo.Result(success=True, message="arrived")

    ActionServer(peer, WalkTo, "walk_to", walk)
    spin_until(executor, lambda: all(p.get_subscription_count() > 0 for p in node.pub_target.values())
               and node.walk_client.server_is_ready())
    node._send(SimpleNamespace(time=1.0), Outputs(targets={left: pin.SE3.Identity()},
                                                  carried={right: pin.SE3.Identity()}))
    node._walk((1.0, 0.5, 0.0))
    spin_until(executor, lambda: len(frames) == 2 and walk_frames)
    assert frames == {left: f"{PREFIX}odom", right: f"{PREFIX}base_footprint"}
    assert walk_frames == [f"{PREFIX}odom"]


def test_place_targets_in_the_robots_odom_only(system):
    node, peer, executor = system
    robot = node.robot
    names = list(robot.config.all_joints)
    states = peer.create_publisher(JointState, "joint_states", 10)
    odom = peer.create_publisher(Odometry, "odom", 10)
    place = ActionClient(peer, Place, "place")
    spin_until(executor, lambda: states.get_subscription_count() > 0 and place.server_is_ready())
    q = robot.standing_configuration()
    stamp = rclpy.time.Time(seconds=1).to_msg()
    state = JointState(name=names, position=[robot.config.standing.get(n, 0.0) for n in names])
    state.header.stamp = stamp
    base = Odometry()
    base.header.stamp, base.header.frame_id = stamp, f"{PREFIX}odom"
    base.pose.pose.position.x, base.pose.pose.position.y, base.pose.pose.position.z = (float(v) for v in q[:3])
    base.pose.pose.orientation.w = 1.0
    odom.publish(base)
    spin_until(executor, lambda: node._odometry is not None)
    states.publish(state)
    spin_until(executor, lambda: node._latest_joints is not None)

    def result_for(frame: str) -> Place.Result:
        goal = Place.Goal(side=node.sides[0])
        goal.target.header.frame_id = frame
        goal.target.pose.position.x, goal.target.pose.position.z, goal.target.pose.orientation.w = 0.5, 0.8, 1.0
        sent = place.send_goal_async(goal)
        spin_until(executor, sent.done)
        answer = sent.result().get_result_async()
        spin_until(executor, answer.done)
        return answer.result().result

    rejected = result_for("odom")
    assert rejected.code == Place.Result.INVALID and "robot_2/odom" in rejected.message
    taken = result_for(f"{PREFIX}odom")  # the frame is right: it fails only because the hand holds nothing
    assert taken.code == Place.Result.GRASP_MISSED, taken.message
