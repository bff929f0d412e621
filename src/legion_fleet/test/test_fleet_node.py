"""The `fleet_coordinator` node in-process over DDS: two robots' requests through fleet/reserve and fleet/release,
a malformed request answered INVALID, a lease that lapses when not renewed, and fleet/reservations. An in-process
node test (seconds, on the node's wall clock), not a whole-stack one."""

from __future__ import annotations

import math
import threading
import time

import pytest
import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.executors import MultiThreadedExecutor
from rclpy.node import Node

from legion_fleet.fleet_node import FleetCoordinator
from legion_interfaces.srv import Release, Reserve

TIMEOUT = 10.0  # [s] wall


@pytest.fixture
def fleet():
    if not rclpy.ok():
        rclpy.init()
    node = FleetCoordinator(cli_args=["--ros-args", "-p", "publish_rate:=20.0", "-p", "queue_timeout:=5.0"])
    client = Node("fleet_test_client")
    reserve = client.create_client(Reserve, "fleet/reserve")
    release = client.create_client(Release, "fleet/release")
    states: list[DiagnosticArray] = []
    client.create_subscription(DiagnosticArray, "fleet/reservations", states.append, 10)
    executor = MultiThreadedExecutor(num_threads=2)
    executor.add_node(node)
    executor.add_node(client)
    stop = threading.Event()
    thread = threading.Thread(target=lambda: [executor.spin_once(timeout_sec=0.05) for _ in iter(stop.is_set, True)],
                              daemon=True)
    thread.start()
    try:
        assert reserve.wait_for_service(timeout_sec=TIMEOUT) and release.wait_for_service(timeout_sec=TIMEOUT)

        def call(client_, request):
            future = client_.call_async(request)
            deadline = time.monotonic() + TIMEOUT
            while not future.done() and time.monotonic() < deadline:
                time.sleep(0.01)
            assert future.done(), "no answer from the coordinator"
            return future.result()

        def ask(robot, resources, lease=30.0):
            return call(reserve, Reserve.Request(robot=robot, resources=resources, lease=lease))

        def free(robot, resources=()):
            return call(release, Release.Request(robot=robot, resources=list(resources)))

        yield ask, free, states
    finally:
        stop.set()
        thread.join(timeout=2.0)
        executor.shutdown()
        client.destroy_node()
        node.destroy_node()


def test_two_robots_take_turns_at_a_shared_station(fleet):
    ask, free, states = fleet
    first = ask("robot_1", ["station/red_drop"])
    assert first.code == Reserve.Response.GRANTED and math.isfinite(first.expires)
    busy = ask("robot_2", ["station/red_drop", "bin/red_bin"])
    assert busy.code == Reserve.Response.BUSY and list(busy.holders) == ["robot_1", ""]
    assert math.isnan(busy.expires)
    released = free("robot_1")
    assert list(released.released) == ["station/red_drop"]
    assert ask("robot_2", ["station/red_drop", "bin/red_bin"]).code == Reserve.Response.GRANTED
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        holders = {s.name: {kv.key: kv.value for kv in s.values}.get("holder") for m in states[-1:] for s in m.status}
        if holders == {"station/red_drop": "robot_2", "bin/red_bin": "robot_2"}:
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"fleet/reservations never showed robot_2 holding both: {holders}")


def test_a_malformed_request_is_answered_invalid_and_changes_nothing(fleet):
    ask, free, _ = fleet
    assert ask("robot_1", ["station/red_drop"]).code == Reserve.Response.GRANTED
    for robot, resources, lease in (("", ["a"], 1.0), ("robot_2", [], 1.0), ("robot_2", ["a b"], 1.0),
                                    ("robot_2", ["a"], float("nan")), ("robot_2", ["a"], -1.0)):
        answer = ask(robot, resources, lease)
        assert answer.code == Reserve.Response.INVALID and answer.message, (robot, resources, lease)
    assert "robot name" in free("bad name!").message
    assert ask("robot_2", ["station/red_drop"]).code == Reserve.Response.BUSY


def test_a_lease_not_renewed_lapses_and_the_next_robot_gets_it(fleet):
    ask, _, _ = fleet
    assert ask("robot_1", ["station/red_drop"], lease=0.5).code == Reserve.Response.GRANTED
    assert ask("robot_2", ["station/red_drop"]).code == Reserve.Response.BUSY
    time.sleep(0.8)  # robot_1 never renews (dead)
    assert ask("robot_2", ["station/red_drop"]).code == Reserve.Response.GRANTED
