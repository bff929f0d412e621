"""The `safety` node in-process over DDS (wall clock): zones from published odometry and tracked people, the e-stop
latch from `emergency_stop`, and `safety/reset` refusing a reset without a name and a reason. An in-process node test
(seconds), not a whole-stack one."""

from __future__ import annotations

import time

import pytest
import rclpy
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from nav_msgs.msg import Odometry
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from std_msgs.msg import Bool, Float64
from visualization_msgs.msg import Marker, MarkerArray

from legion_interfaces.msg import SafetyState, TrackedPerson, TrackedPersonArray
from legion_interfaces.srv import SafetyReset
from legion_safety.safety_node import SafetyNode
from legion_safety.separation import protective_separation
from legion_testing import probe

LATCHED = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)
TIMEOUT = 15.0  # [s] wall


class World:
    """Publishes odometry (robot still at the origin) and one tracked person at `distance` (None: nobody)."""

    def __init__(self) -> None:
        self.node = Node("safety_test_world")
        self.distance: float | None = None
        self.frame = "odom"
        """The frame of the odometry and people published."""
        self.states: list[SafetyState] = []
        self.scales: list[float] = []
        self.pub_odom = self.node.create_publisher(Odometry, "odom", 10)
        self.pub_people = self.node.create_publisher(TrackedPersonArray, "perception/people/tracked", 10)
        self.pub_estop = self.node.create_publisher(Bool, "emergency_stop", LATCHED)
        self.pub_controlled = self.node.create_publisher(Bool, "safety/emergency_stop", LATCHED)
        self.estops: list[bool] = []
        self.node.create_subscription(Bool, "emergency_stop", lambda m: self.estops.append(m.data), LATCHED)
        self.node.create_subscription(SafetyState, "safety/state", self.states.append, LATCHED)
        self.node.create_subscription(Float64, "safety/speed_scale", lambda m: self.scales.append(m.data), LATCHED)
        self.markers: list[MarkerArray] = []
        self.reset = self.node.create_client(SafetyReset, "safety/reset")
        self.node.create_timer(0.05, self.publish)

    def publish(self) -> None:
        stamp = self.node.get_clock().now().to_msg()
        odom = Odometry()
        odom.header.stamp, odom.header.frame_id = stamp, self.frame
        odom.pose.pose.orientation.w = 1.0
        people = TrackedPersonArray()
        people.header.stamp, people.header.frame_id = stamp, self.frame
        if self.distance is not None:
            person = TrackedPerson(id="person_1")
            person.position.x, person.position.z = self.distance, 1.6
            people.people = [person]
        self.pub_odom.publish(odom)
        self.pub_people.publish(people)


@pytest.fixture
def system(request):
    """The node (with the extra command-line arguments a test gives as the fixture's parameter, e.g. a frame prefix),
    the world and an executor."""
    if not rclpy.ok():
        rclpy.init()
    extra = getattr(request, "param", ())
    node = SafetyNode(cli_args=["--ros-args", "-p", "zones.resume_time:=0.5", *extra])
    world = World()
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    executor.add_node(world.node)
    try:
        yield node, world, executor
    finally:
        for each in (node, world.node):
            executor.remove_node(each)
            each.destroy_node()
        executor.shutdown()


def spin_until(executor, condition, timeout: float = TIMEOUT) -> None:
    probe.spin_until(executor, condition, timeout)


def newest_zone(world: World) -> int | None:
    return world.states[-1].zone if world.states else None


def test_zones_follow_the_person_and_the_estop_latches_until_a_reasoned_reset(system):
    node, world, executor = system
    s_p = protective_separation(node.params.separation, node.robot_safety, 0.0).protective_distance \
        + node.robot_safety.body_radius  # from the base, for the still robot
    spin_until(executor, lambda: newest_zone(world) == SafetyState.CLEAR)  # inputs fresh for resume_time
    assert world.states[-1].speed_scale == 1.0
    spin_until(executor, lambda: world.scales and world.scales[-1] == 1.0)  # safety/speed_scale says the same
    world.distance = s_p + 0.5 * node.params.zones.warning_margin  # half-way to the warning distance: half speed
    spin_until(executor, lambda: newest_zone(world) == SafetyState.WARNING)
    assert world.states[-1].speed_scale == pytest.approx(0.5, abs=0.01)
    assert world.states[-1].protective_distance == pytest.approx(s_p)
    world.distance = 0.3  # inside S_p
    spin_until(executor, lambda: newest_zone(world) == SafetyState.PROTECTIVE_STOP)
    state = world.states[-1]
    assert state.speed_scale == 0.0 and state.nearest_person_distance == pytest.approx(0.3, abs=1e-6)
    assert "person_1" in state.reason
    # safety/markers, once someone subscribes: the rings at the distances of safety/state, the person where it is
    world.node.create_subscription(MarkerArray, "safety/markers", world.markers.append, LATCHED)
    spin_until(executor, lambda: any(m.ns == "people" for a in world.markers for m in a.markers))
    shown = {(m.ns, m.id): m for m in world.markers[-1].markers if m.action == Marker.ADD}
    assert world.markers[-1].markers[0].action == Marker.DELETEALL
    assert shown[("people", 0)].pose.position.x == pytest.approx(0.3)
    ring = shown[("zones", 0)]
    assert ring.header.frame_id == "odom" and ring.type == Marker.LINE_STRIP
    assert max(p.x for p in ring.points) == pytest.approx(state.protective_distance, rel=1e-6)
    assert "PROTECTIVE_STOP" in shown[("labels", 0)].text
    world.distance = None
    spin_until(executor, lambda: newest_zone(world) == SafetyState.CLEAR)

    world.pub_estop.publish(Bool(data=True))
    spin_until(executor, lambda: newest_zone(world) == SafetyState.EMERGENCY_STOP)
    assert world.states[-1].emergency_stop and world.states[-1].speed_scale == 0.0
    spin_until(executor, lambda: world.scales[-1] == 0.0)
    world.pub_estop.publish(Bool(data=False))  # the source releases it: still latched
    spin_until(executor, lambda: not node.latch.asserted)
    assert newest_zone(world) == SafetyState.EMERGENCY_STOP
    assert world.reset.wait_for_service(timeout_sec=TIMEOUT)
    for who, why, accepted in (("", "checked", False), ("operator", "", False), ("operator", "area checked", True)):
        future = world.reset.call_async(SafetyReset.Request(requested_by=who, reason=why))
        spin_until(executor, future.done)
        assert future.result().success is accepted, future.result().message
    assert "operator" in future.result().message and "area checked" in future.result().message
    spin_until(executor, lambda: newest_zone(world) == SafetyState.CLEAR)


def test_a_category_1_stop_asserts_the_hardware_estop_once_still_and_a_reset_releases_it(system):
    _, world, executor = system
    spin_until(executor, lambda: newest_zone(world) == SafetyState.CLEAR)
    world.pub_controlled.publish(Bool(data=True))
    spin_until(executor, lambda: newest_zone(world) == SafetyState.EMERGENCY_STOP)
    assert world.states[-1].speed_scale == 0.0
    spin_until(executor, lambda: world.estops and world.estops[-1] is True)  # the odometry says still
    assert world.reset.wait_for_service(timeout_sec=TIMEOUT)
    future = world.reset.call_async(SafetyReset.Request(requested_by="operator", reason="checked"))
    spin_until(executor, future.done)
    assert future.result().success, future.result().message
    spin_until(executor, lambda: world.estops[-1] is False)
    world.pub_controlled.publish(Bool(data=False))
    spin_until(executor, lambda: newest_zone(world) == SafetyState.CLEAR)


def test_a_hardware_status_sent_before_the_reset_reached_the_hardware_does_not_latch_again(system):
    """The hardware's hold latches the node; after a reset the hardware's next report may still say latched (sent
    before the reset reached it): only a change to latched, not a stale report of it, latches again."""
    _, world, executor = system
    status = world.node.create_publisher(DiagnosticArray, "hardware/status", 10)

    def report(latched: bool) -> None:
        msg = DiagnosticArray()
        msg.header.stamp = world.node.get_clock().now().to_msg()
        msg.status = [DiagnosticStatus(name="sim_bridge: hardware", values=[
            KeyValue(key="emergency_stop", value=str(latched).lower())])]
        status.publish(msg)

    spin_until(executor, lambda: newest_zone(world) == SafetyState.CLEAR and status.get_subscription_count() > 0)
    report(True)
    spin_until(executor, lambda: newest_zone(world) == SafetyState.EMERGENCY_STOP)
    assert "hardware" in world.states[-1].reason
    assert world.reset.wait_for_service(timeout_sec=TIMEOUT)
    future = world.reset.call_async(SafetyReset.Request(requested_by="operator", reason="checked"))
    spin_until(executor, future.done)
    assert future.result().success, future.result().message
    report(True)  # stale: still latched, sent before the hardware's own reset
    spin_until(executor, lambda: newest_zone(world) == SafetyState.CLEAR)
    deadline = time.monotonic() + 0.5
    while time.monotonic() < deadline:
        executor.spin_once(timeout_sec=0.02)
    assert newest_zone(world) == SafetyState.CLEAR
    report(False)
    report(True)  # the hardware latched anew: so does the node
    spin_until(executor, lambda: newest_zone(world) == SafetyState.EMERGENCY_STOP)


@pytest.mark.parametrize("system", [("-p", "frame_prefix:=robot_2/")], indirect=True)
def test_with_a_frame_prefix_people_are_taken_in_the_robots_odom_only_and_outputs_carry_it(system):
    """A robot of a multi-robot scene: safety/state and safety/markers in `robot_2/odom`; people in the unprefixed
    `odom` cannot be placed, so they are not taken: the people input goes stale, a protective stop."""
    _, world, executor = system
    world.frame = "robot_2/odom"
    world.distance = 10.0  # beyond the warning distance
    spin_until(executor, lambda: newest_zone(world) == SafetyState.CLEAR)
    assert world.states[-1].header.frame_id == "robot_2/odom"
    world.node.create_subscription(MarkerArray, "safety/markers", world.markers.append, LATCHED)
    spin_until(executor, lambda: any(m.ns == "people" for a in world.markers for m in a.markers))
    assert {m.header.frame_id for m in world.markers[-1].markers} == {"robot_2/odom"}
    world.frame = "odom"
    spin_until(executor, lambda: newest_zone(world) == SafetyState.PROTECTIVE_STOP)
    assert world.states[-1].reason == "people stale or missing", world.states[-1].reason


@pytest.mark.parametrize("system", [["-p", "other_robots:=['/robot_2/odom/decimated', '']"]], indirect=True)
def test_another_robot_of_the_cell_is_monitored_like_a_person(system):
    """`other_robots`: robot_2's odometry (its odom coincides with this robot's in a multi-robot scene); nobody
    else around. Far, the zone is clear; inside S_p plus both bodies, a protective stop naming the robot; a NaN pose
    is left out (the last good one counts); gone far again, clear."""
    node, world, executor = system
    other = world.node.create_publisher(Odometry, "/robot_2/odom/decimated", 10)
    where = {"x": 6.0}

    def publish_other() -> None:
        odom = Odometry()
        odom.header.stamp, odom.header.frame_id = world.node.get_clock().now().to_msg(), "robot_2/odom"
        odom.pose.pose.position.x, odom.pose.pose.orientation.w = where["x"], 1.0
        other.publish(odom)

    world.node.create_timer(0.05, publish_other)
    radius = node.robot_safety.body_radius
    s_p = protective_separation(node.params.separation, node.robot_safety, 0.0).protective_distance + radius
    spin_until(executor, lambda: newest_zone(world) == SafetyState.CLEAR)
    where["x"] = s_p + radius - 0.2  # its body's nearest point 0.2 m inside S_p
    spin_until(executor, lambda: newest_zone(world) == SafetyState.PROTECTIVE_STOP)
    state = world.states[-1]
    assert "robot robot_2" in state.reason, state.reason
    assert state.nearest_person_distance == pytest.approx(s_p - 0.2, abs=1e-6)
    where["x"] = float("nan")
    until = time.monotonic() + 0.5
    spin_until(executor, lambda: time.monotonic() > until)
    assert world.states[-1].zone == SafetyState.PROTECTIVE_STOP
    assert world.states[-1].nearest_person_distance == pytest.approx(s_p - 0.2, abs=1e-6)
    where["x"] = 6.0
    spin_until(executor, lambda: newest_zone(world) == SafetyState.CLEAR)
