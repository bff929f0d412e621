"""The supervisor: in process (a watched node appears, dies and comes back: supervisor/status and supervisor/pause
follow), and over the whole stack in lockstep (marker `stack`): perception killed (SIGKILL) while the robot walks:
the supervisor reports it dead and pauses, the robot stands and stays up (ground truth, judge only); perception
started again: taken back, the pause ends and the robot walks again."""

from __future__ import annotations

import threading
import time

import pytest
import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter
from std_msgs.msg import Bool

from legion_testing.probe import LATCHED


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_supervisor_node_reports_a_node_that_dies_pauses_and_takes_it_back() -> None:
    from legion_supervisor.supervisor_node import SupervisorNode

    if not rclpy.ok():
        rclpy.init()
    executor = SingleThreadedExecutor()
    watched = rclpy.create_node("kill_test_perception")
    observer = rclpy.create_node("kill_test_observer")
    supervisor = None
    stop = threading.Event()
    try:
        statuses: list = []
        pauses: list = []
        observer.create_subscription(DiagnosticArray, "supervisor/status", statuses.append, 50)
        observer.create_subscription(Bool, "supervisor/pause", lambda m: pauses.append(m.data), LATCHED)
        supervisor = SupervisorNode(parameter_overrides=[
            Parameter("watched", value=["kill_test_perception", "kill_test_observer"]),
            Parameter("pause_on", value=["kill_test_perception"]),
            Parameter("graph_grace", value=0.5), Parameter("check_rate", value=10.0)])
        for node in (watched, observer, supervisor):
            executor.add_node(node)
        thread = threading.Thread(target=lambda: [executor.spin_once(0.05) for _ in iter(stop.is_set, True)],
                                  daemon=True)
        thread.start()

        def state(name: str) -> str:
            for msg in reversed(statuses):
                for status in msg.status:
                    if status.name == f"supervisor: {name}":
                        return {kv.key: kv.value for kv in status.values}["state"]
            return ""

        _wait(lambda: state("kill_test_perception") == "alive" and pauses and not pauses[-1], 15.0, "alive")
        executor.remove_node(watched)
        watched.destroy_node()
        _wait(lambda: state("kill_test_perception") == "dead", 15.0, "reported dead")
        _wait(lambda: pauses and pauses[-1], 5.0, "the pause")
        watched = rclpy.create_node("kill_test_perception")
        executor.add_node(watched)
        _wait(lambda: state("kill_test_perception") == "alive", 15.0, "taken back")
        _wait(lambda: not pauses[-1], 5.0, "the pause to end")
        restarts = [kv.value for kv in statuses[-1].status[0].values if kv.key == "restarts"]
        assert restarts == ["1"]
    finally:
        stop.set()
        time.sleep(0.2)
        for node in (watched, observer, supervisor):
            if node is not None:
                node.destroy_node()


@pytest.mark.stack
@pytest.mark.timeout(1500)
def test_perception_killed_while_walking_pauses_the_robot_standing_and_work_resumes_after_restart() -> None:
    from legion_testing.fuzz_stack import StackUnderTest
    from legion_testing.node_kill import KillBench, format_matrix

    stack = StackUnderTest(extra_parameters={"sim_bridge": {"camera_rate": 0.0, "lockstep_timeout": 0.1}})
    try:
        bench = KillBench(stack)
        stack.wait_standing()
        row = bench.kill("perception", walking=True)
    finally:
        stack.close()
    print("\n" + format_matrix([row]))
    assert row.reported_dead and row.paused, row
    assert row.stayed_up, row
    assert row.restarted and row.resumed, row
