"""The `executive` node in-process over DDS with a fake robot: fake `walk_to`, `pick` and `place` servers that move
parts between the table, the hand and the bins at once, fake perception (`perception/objects` at 20 Hz) and odometry
(`odom/decimated`, through the node's remap). A two-part job runs to success; a broken cell file is rejected with its
key; the cell's map is published. An in-process node test (seconds), not a whole-stack one: no `stack` marker."""

from __future__ import annotations

import copy
import math
import threading
import time
from pathlib import Path

import pytest
import rclpy
import yaml
from nav_msgs.msg import OccupancyGrid, Odometry
from rclpy.action import ActionClient, ActionServer, CancelResponse
from rclpy.executors import MultiThreadedExecutor, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy

from legion_common.transforms import quaternion_from_yaw
from legion_executive.executive_node import ExecutiveNode
from legion_interfaces.action import Pick, Place, RunJob, WalkTo
from legion_interfaces.msg import DetectedObject, DetectedObjectArray, ExecutiveStatus

TIMEOUT = 20.0  # [s] wall
SOURCE = Path(__file__).resolve().parents[3] / "config" / "cells" / "sorting_cell.yaml"
LATCHED = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)


class FakeRobot:
    """Walks, picks and places at once; perception sees the parts on the table and in the bins, and the bins."""

    def __init__(self) -> None:
        self.node = Node("executive_test_fake_robot")
        self.lock = threading.Lock()
        self.base = (0.0, 0.0, 0.0)
        self.parts = {"red_cube_1": ("red_cube", (0.50, 0.10, 0.78)), "blue_cylinder_1": ("blue_cylinder",
                                                                                          (0.60, -0.20, 0.78))}
        self.bins = {"red_bin_1": (0.35, 0.72, 0.3), "green_bin_1": (0.70, 0.72, 0.3),
                     "blue_bin_1": (0.35, -0.72, 0.3), "yellow_bin_1": (0.70, -0.72, 0.3)}
        self.held: dict[str, str] = {}
        self.calls: list[str] = []
        self.pub_objects = self.node.create_publisher(DetectedObjectArray, "perception/objects", 10)
        self.pub_odom = self.node.create_publisher(Odometry, "odom/decimated", 10)
        self.walk_time = 0.0  # [s] wall: how long a walk takes (a cancel ends it early)
        self.walks_cancelled = 0
        self.frame = "odom"
        """The frame of the odometry and objects published."""
        self.published = 0
        self.walk_frames: list[str] = []
        ActionServer(self.node, WalkTo, "walk_to", self.walk, cancel_callback=lambda _goal: CancelResponse.ACCEPT)
        ActionServer(self.node, Pick, "pick", self.pick)
        ActionServer(self.node, Place, "place", self.place)
        self.node.create_timer(0.05, self.publish)

    def publish(self) -> None:
        stamp = self.node.get_clock().now().to_msg()
        with self.lock:
            odom = Odometry()
            odom.header.stamp, odom.header.frame_id = stamp, self.frame
            odom.pose.pose.position.x, odom.pose.pose.position.y = self.base[0], self.base[1]
            q = quaternion_from_yaw(self.base[2])
            odom.pose.pose.orientation.z, odom.pose.pose.orientation.w = float(q[2]), float(q[3])
            objects = DetectedObjectArray()
            objects.header.stamp, objects.header.frame_id = stamp, self.frame
            for object_id, (label, position) in [*self.parts.items(),
                                                 *((i, (i.rsplit("_", 1)[0], p)) for i, p in self.bins.items())]:
                obj = DetectedObject(id=object_id, label=label, confidence=1.0)
                obj.pose.position.x, obj.pose.position.y, obj.pose.position.z = position
                obj.pose.orientation.w = 1.0
                objects.objects.append(obj)
        self.pub_odom.publish(odom)
        self.pub_objects.publish(objects)
        self.published += 1

    def walk(self, goal_handle):
        target = goal_handle.request.target.pose
        self.walk_frames.append(goal_handle.request.target.header.frame_id)
        end = time.monotonic() + self.walk_time
        while time.monotonic() < end:
            if goal_handle.is_cancel_requested:
                with self.lock:
                    self.walks_cancelled += 1
                goal_handle.canceled()
                return WalkTo.Result(success=False, message="cancelled")
            time.sleep(0.02)
        with self.lock:
            yaw = 2.0 * math.atan2(target.orientation.z, target.orientation.w)
            self.base = (target.position.x, target.position.y, yaw)
            self.calls.append("walk")
        goal_handle.succeed()
        return WalkTo.Result(success=True, message="arrived")

    def holds(self, result) -> None:
        inverse = {side: part for part, side in self.held.items()}
        result.left_holds, result.right_holds = inverse.get("left", ""), inverse.get("right", "")

    def pick(self, goal_handle):
        request = goal_handle.request
        result = Pick.Result(object_id=request.object_id, side=request.side or "right")
        with self.lock:
            self.calls.append(f"pick {request.object_id}")
            if request.object_id in self.parts:
                del self.parts[request.object_id]
                self.held[request.object_id] = result.side
                result.success, result.code, result.message = True, Pick.Result.SUCCEEDED, "picked"
            else:
                result.code, result.message = Pick.Result.NOT_FOUND, "no such part"
            self.holds(result)
        (goal_handle.succeed if result.success else goal_handle.abort)()
        return result

    def place(self, goal_handle):
        request = goal_handle.request
        result = Place.Result(side=request.side)
        with self.lock:
            self.calls.append(f"place {request.container}")
            part = next((p for p, side in self.held.items() if side == request.side), None)
            if part is not None and request.container in self.bins:
                del self.held[part]
                self.parts[part] = (part.rsplit("_", 1)[0], self.bins[request.container])
                result.success, result.code, result.verified, result.object_id = True, 0, True, part
            else:
                result.code, result.message = Place.Result.NOT_FOUND, "nothing to place or no such bin"
            self.holds(result)
        (goal_handle.succeed if result.success else goal_handle.abort)()
        return result


@pytest.fixture
def system(request):
    """The node (with the extra command-line arguments a test gives as the fixture's parameter, e.g. a frame prefix),
    the fake robot, a run_job client and what the client received."""
    if not rclpy.ok():
        rclpy.init()
    fake = FakeRobot()
    node = ExecutiveNode(cli_args=["--ros-args", "-r", "odom:=odom/decimated", "-p", "tick_rate:=20.0",
                                   *getattr(request, "param", ())])
    client_node = Node("executive_test_client")
    job = ActionClient(client_node, RunJob, "run_job")
    received: dict[str, list] = {"status": [], "map": []}
    client_node.create_subscription(ExecutiveStatus, "executive/status", received["status"].append, 10)
    client_node.create_subscription(OccupancyGrid, "map", received["map"].append, LATCHED)
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    others = MultiThreadedExecutor(num_threads=3)
    others.add_node(fake.node)
    others.add_node(client_node)
    stop = threading.Event()
    threads = [threading.Thread(target=lambda ex=ex: [ex.spin_once(timeout_sec=0.05) for _ in iter(stop.is_set,
                                                                                                  True)],
                                daemon=True) for ex in (executor, others)]
    for thread in threads:
        thread.start()
    try:
        assert job.wait_for_server(timeout_sec=TIMEOUT)
        yield node, fake, job, received
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=5.0)
        for ex, owned in ((executor, [node]), (others, [fake.node, client_node])):
            for each in owned:
                ex.remove_node(each)
                each.destroy_node()
            ex.shutdown()


def run_job(job: ActionClient, cell: str, max_parts: int = 0):
    sent = job.send_goal_async(RunJob.Goal(cell=cell, max_parts=max_parts))
    deadline = time.monotonic() + TIMEOUT
    while not sent.done():
        assert time.monotonic() < deadline, "run_job goal not answered"
        time.sleep(0.02)
    result = sent.result().get_result_async()
    while not result.done():
        assert time.monotonic() < deadline, "run_job did not end"
        time.sleep(0.05)
    return result.result().result


def cell_file(tmp_path: Path, edit=None) -> str:
    data = yaml.safe_load(SOURCE.read_text())
    data["policy"]["look_time"] = 0.2  # a fast test: the fake robot's head does not need to settle
    if edit is not None:
        edit(data)
    path = tmp_path / "test_cell.yaml"
    path.write_text(yaml.safe_dump(copy.deepcopy(data)))
    return str(path)


def test_a_two_part_job_runs_to_success_over_dds(system, tmp_path) -> None:
    _, fake, job, received = system
    result = run_job(job, cell_file(tmp_path))
    assert result.success and result.code == RunJob.Result.SUCCEEDED and result.outcome == "SUCCEEDED", result.message
    assert (result.seen, result.sorted, result.skipped, result.dropped, result.ignored, result.failed) == \
        (2, 2, 0, 0, 0, 0)
    assert {(p.id, p.bin, p.outcome, p.attempts) for p in result.parts} == {
        ("red_cube_1", "red_bin", "sorted", 1), ("blue_cylinder_1", "blue_bin", "sorted", 1)}
    with fake.lock:
        assert fake.parts["red_cube_1"][1] == fake.bins["red_bin_1"]
        assert fake.parts["blue_cylinder_1"][1] == fake.bins["blue_bin_1"]
        assert "place red_bin_1" in fake.calls and "place blue_bin_1" in fake.calls
    deadline = time.monotonic() + 5.0
    while not any(s.state == "SUCCEEDED" for s in received["status"]):
        assert time.monotonic() < deadline, "no SUCCEEDED status"
        time.sleep(0.05)
    status = next(s for s in received["status"] if s.state == "SUCCEEDED")
    assert status.sorted == 2 and "sorting shift" in status.tree and status.last_decision.startswith("shift done")
    grid = received["map"][-1]
    assert grid.header.frame_id == "odom" and abs(grid.info.resolution - 0.05) < 1e-9
    assert 100 in grid.data and 0 in grid.data


def test_a_broken_cell_file_is_rejected_with_the_key(system, tmp_path) -> None:
    _, fake, job, _ = system
    result = run_job(job, cell_file(tmp_path, lambda d: d["bins"][2].update(station="x")))
    assert not result.success and result.code == RunJob.Result.INVALID
    assert "test_cell.yaml: bins[2].station: unknown station 'x'" in result.message
    with fake.lock:
        assert fake.calls == []


def test_the_robot_state_comes_from_hardware_status_and_diagnostics(system) -> None:
    from geometry_msgs.msg import Pose, PoseArray

    from legion_common.diagnostics import diagnostics_msg

    node, _, _, _ = system
    robot = node.executive.clients.robot
    now = node.get_clock().now().nanoseconds * 1e-9
    node.on_hardware_status(diagnostics_msg(now, "sim_bridge: hardware", 2, "latched", {"emergency_stop": True}))
    assert robot.emergency_stop()
    node.on_hardware_status(diagnostics_msg(now, "sim_bridge: hardware", 0, "running", {"emergency_stop": False}))
    assert not robot.emergency_stop()
    node.on_diagnostics(diagnostics_msg(now, "whole_body_controller: balance", 2, "fell", {"state": "fallen"}))
    assert robot.fallen()
    node.on_diagnostics(diagnostics_msg(now, "whole_body_controller: balance", 0, "ok", {"state": "balancing"}))
    assert not robot.fallen()
    # What the hands hold: a Pick result, then only manipulation reports stamped after it.
    manipulation = node.executive.clients.manipulation
    node.manipulation_result(Pick.Result(success=True, code=0, side="left", left_holds="red_cube_1"))
    node.on_diagnostics(diagnostics_msg(now - 1.0, "manipulation", 0, "idle", {"left_holds": "", "right_holds": ""}))
    assert manipulation.holding() == {"left": "red_cube_1", "right": ""}
    node.on_diagnostics(diagnostics_msg(now + 60.0, "manipulation", 0, "idle", {"left_holds": "",
                                                                                 "right_holds": ""}))
    assert manipulation.holding() == {"left": "", "right": ""}
    # People are forgotten after people_timeout.
    person = Pose()
    person.position.x = 0.8
    node.on_people(PoseArray(poses=[person]))
    assert node.executive.clients.perception.people() == [(0.8, 0.0)]
    node.people = (now - 10.0, node.people[1])
    assert node.executive.clients.perception.people() == []
    # The safety node's state: no state yet is no stop; a protective stop is; a stale state is.
    from legion_interfaces.msg import SafetyState

    assert not robot.safety_stop()
    node.on_safety_state(SafetyState(zone=SafetyState.WARNING, speed_scale=0.5))
    assert not robot.safety_stop()
    node.on_safety_state(SafetyState(zone=SafetyState.PROTECTIVE_STOP))
    assert robot.safety_stop()
    node.on_safety_state(SafetyState(zone=SafetyState.CLEAR, speed_scale=1.0))
    assert not robot.safety_stop()
    node.safety = (now - 10.0, False)
    assert robot.safety_stop()


def test_cancelling_the_job_cancels_the_running_walk(system, tmp_path) -> None:
    _, fake, job, received = system
    fake.walk_time = 10.0
    sent = job.send_goal_async(RunJob.Goal(cell=cell_file(tmp_path)))
    deadline = time.monotonic() + TIMEOUT
    while not sent.done() or not any(s.phase.startswith("walking") for s in received["status"]):
        assert time.monotonic() < deadline, "the job did not start walking"
        time.sleep(0.05)
    handle = sent.result()
    handle.cancel_goal_async()
    result = handle.get_result_async()
    while not result.done():
        assert time.monotonic() < deadline, "the cancelled job did not end"
        time.sleep(0.05)
    assert result.result().result.code == RunJob.Result.CANCELLED and result.result().result.outcome == "CANCELLED"
    while fake.walks_cancelled == 0:
        assert time.monotonic() < deadline, "the walk was not cancelled"
        time.sleep(0.05)


@pytest.mark.parametrize("system", [("-p", "frame_prefix:=robot_2/")], indirect=True)
def test_with_a_frame_prefix_the_job_runs_in_the_robots_odom(system, tmp_path) -> None:
    """A robot of a multi-robot scene (`frame_prefix: robot_2/`): perception in the unprefixed `odom` is not taken;
    in `robot_2/odom` it is, and the walk goals and the cell's map are in `robot_2/odom`."""
    from geometry_msgs.msg import Pose, PoseArray

    node, fake, job, received = system
    deadline = time.monotonic() + TIMEOUT
    while fake.published < 10:
        assert time.monotonic() < deadline, "the fake robot does not publish"
        time.sleep(0.05)
    assert node.scene.stamp == -math.inf and node.scene.parts == ()  # objects in `odom`: another robot's frame
    person = Pose()
    person.position.x = 0.8
    people = PoseArray(poses=[person])
    people.header.frame_id = "odom"
    node.on_people(people)
    assert node.executive.clients.perception.people() == []
    people.header.frame_id = "robot_2/odom"
    node.on_people(people)
    assert node.executive.clients.perception.people() == [(0.8, 0.0)]
    with fake.lock:
        fake.frame = "robot_2/odom"
    result = run_job(job, cell_file(tmp_path), max_parts=1)
    assert result.success and result.sorted == 1, result.message
    assert fake.walk_frames and set(fake.walk_frames) == {"robot_2/odom"}
    assert received["map"][-1].header.frame_id == "robot_2/odom"


@pytest.mark.parametrize("system", [["-p", "fleet_coordinator:=/", "-p", "fleet_robot:=robot_1"]], indirect=True)
def test_in_a_shared_cell_each_bin_station_is_reserved_at_the_fleet_coordinator(system, tmp_path) -> None:
    """With `fleet_coordinator` set, the node reserves each bin's station through fleet/reserve before walking to it
    and releases it at the table (legion_fleet's node over DDS); the job succeeds and nothing stays held."""
    from diagnostic_msgs.msg import DiagnosticArray

    from legion_fleet.fleet_node import FleetCoordinator

    _, _, job, _ = system
    coordinator = FleetCoordinator(cli_args=["--ros-args", "-p", "publish_rate:=20.0"])
    seen: set[tuple[str, str]] = set()
    coordinator.create_subscription(
        DiagnosticArray, "fleet/reservations",
        lambda msg: seen.update((s.name, {kv.key: kv.value for kv in s.values}["holder"]) for s in msg.status), 10)
    executor = SingleThreadedExecutor()
    executor.add_node(coordinator)
    stop = threading.Event()
    thread = threading.Thread(target=lambda: [executor.spin_once(timeout_sec=0.05) for _ in iter(stop.is_set, True)],
                              daemon=True)
    thread.start()
    try:
        result = run_job(job, cell_file(tmp_path))
        assert result.success and result.sorted == 2, result.message
        assert {("station/red_drop", "robot_1"), ("station/blue_drop", "robot_1")} <= seen, seen
        assert coordinator.table.held_by("robot_1") == []
    finally:
        stop.set()
        thread.join(timeout=5.0)
        executor.remove_node(coordinator)
        coordinator.destroy_node()
        executor.shutdown()
