"""The fuzzing harness: the message generator and graph discovery (fast), and the campaign against the whole stack
over DDS in lockstep (markers `stack` and `slow`: `./test.sh --slow`): 500 malformed messages or calls on every
topic and service of every node, with the robot standing; afterwards every node is alive (process list and graph),
the robot is up (ground truth, judge only) and the nodes have reported rejections on `diagnostics` /
`hardware/status`."""

from __future__ import annotations

import math
import time

import pytest
import rclpy
from diagnostic_msgs.msg import DiagnosticStatus, KeyValue
from geometry_msgs.msg import Twist
from nav_msgs.msg import OccupancyGrid, Odometry
from sensor_msgs.msg import CameraInfo, Image, JointState
from std_srvs.srv import Trigger

import legion_interfaces.msg as legion_msgs
from legion_interfaces.msg import JointCommand
from legion_testing.fuzz import discover, rejection_counts
from legion_testing.fuzz_messages import CASES, FuzzError, MessageFuzzer, message_class, request_class

TYPES = [Image, CameraInfo, JointState, Odometry, OccupancyGrid, Twist, JointCommand,
         *(getattr(legion_msgs, n) for n in dir(legion_msgs) if n[0].isupper() and hasattr(getattr(legion_msgs, n),
                                                                                              "SLOT_TYPES"))]


@pytest.mark.parametrize("kind", TYPES, ids=lambda k: k.__name__)
def test_every_case_of_every_type_is_a_message_of_that_type(kind) -> None:
    fuzzer = MessageFuzzer(3, ["hip", "knee"])
    for case in CASES:
        msg = fuzzer.message(kind, case)
        assert isinstance(msg, kind) and fuzzer.case == case


def test_the_same_seed_gives_the_same_messages() -> None:
    first = [MessageFuzzer(7, ["a"]).message(JointCommand) for _ in range(1)]
    assert first == [MessageFuzzer(7, ["a"]).message(JointCommand)]
    assert MessageFuzzer(7).message(JointCommand) != MessageFuzzer(8).message(JointCommand)


def test_cases_break_what_they_say() -> None:
    fuzzer = MessageFuzzer(0, ["hip", "knee"])
    nan = [fuzzer.message(JointCommand, "nan") for _ in range(20)]
    assert all(any(math.isnan(v) for v in m.position) or any(math.isnan(v) for v in m.effort) for m in nan
               if len(m.name) > 3)
    assert all(set(m.name) <= {"hip", "knee"} for m in nan)
    empty = fuzzer.message(JointCommand, "empty")
    assert len(empty.name) == len(empty.position) == 0 and empty.header.frame_id == ""
    lengths = [{len(m.name), len(m.position), len(m.velocity)} for m in
               (fuzzer.message(JointCommand, "mismatched") for _ in range(20))]
    assert any(len(s) > 1 for s in lengths)
    unknown = fuzzer.message(JointCommand, "unknown_names")
    assert not set(unknown.name) & {"hip", "knee"}
    assert fuzzer.message(JointCommand, "stamp_future").header.stamp.sec > 900_000_000
    assert fuzzer.message(JointCommand, "stamp_past").header.stamp.sec == 0
    huge = fuzzer.message(Image, "huge")
    assert huge.width in (0, 2 ** 32 - 1) and huge.height in (0, 2 ** 32 - 1)
    with pytest.raises(FuzzError):
        fuzzer.message(JointCommand, "no_such_case")


def test_type_names_resolve_to_classes_or_a_fuzz_error() -> None:
    assert message_class("sensor_msgs/msg/Image") is Image
    assert request_class("std_srvs/srv/Trigger") is Trigger.Request
    assert request_class("legion_interfaces/action/WalkTo_SendGoal").__name__ == "WalkTo_SendGoal_Request"
    assert message_class("legion_interfaces/action/WalkTo_Goal").__name__ == "WalkTo_Goal"
    for bad in ("nope/msg/X", "sensor_msgs/msg/Nope", "garbage"):
        with pytest.raises(FuzzError):
            message_class(bad)


def test_rejection_counts_take_the_newest_value_of_each_counter_once() -> None:
    def status(name, **values):
        return DiagnosticStatus(name=name, values=[KeyValue(key=k, value=str(v)) for k, v in values.items()])

    statuses = [status("sim_bridge: hardware", commands_rejected_total=2, **{"commands_rejected.empty": 2}),
                status("gait_planner", commands_rejected=1, goals_rejected=0, phase="standing"),
                status("sim_bridge: hardware", commands_rejected_total=5, **{"commands_rejected.empty": 5}),
                status("ghost", commands_rejected=99)]
    counts = rejection_counts(statuses, ["sim_bridge", "gait_planner"])
    assert counts == {"sim_bridge: hardware/commands_rejected_total": 5, "gait_planner/commands_rejected": 1,
                      "gait_planner/goals_rejected": 0}


def test_discover_finds_a_nodes_subscriptions_and_services_from_the_graph() -> None:
    if not rclpy.ok():
        rclpy.init()
    target = rclpy.create_node("fuzz_discovery_target")
    observer = rclpy.create_node("fuzz_discovery_observer")
    try:
        target.create_subscription(JointCommand, "discovered/commands", lambda _: None, 10)
        target.create_subscription(Twist, "discovered/cmd_vel", lambda _: None, 10)
        target.create_service(Trigger, "discovered/reset", lambda _r, response: response)
        deadline = time.monotonic() + 10.0
        found = []
        while time.monotonic() < deadline:
            found = discover(observer, ["fuzz_discovery_target"])
            if len(found) >= 3:
                break
            time.sleep(0.1)
        by_name = {t.name: t for t in found}
        assert by_name["/discovered/commands"].type_name == "legion_interfaces/msg/JointCommand"
        assert by_name["/discovered/cmd_vel"].kind == "topic"
        assert by_name["/discovered/reset"].kind == "service"
        assert not any("parameter" in name for name in by_name), "ROS infrastructure is not fuzzed"
    finally:
        target.destroy_node()
        observer.destroy_node()


@pytest.mark.stack
@pytest.mark.slow  # 8 minutes of wall time: with the acceptance runs (./test.sh --slow), not in every CI run
@pytest.mark.timeout(2400)
def test_the_stack_survives_500_malformed_messages_on_every_topic_and_service() -> None:
    from legion_testing.fuzz_stack import StackUnderTest, run_campaign

    stack = StackUnderTest()
    try:
        report = run_campaign(stack, 500, seed=1)
    finally:
        stack.close()
    print(f"\nfuzzed {len(report.targets)} targets, {sum(t.outcome.sent for t in report.targets)} messages and calls; "
          f"rejections reported {report.rejections} {report.counters}; crashes {report.crashes}; falls {report.falls}")
    fuzzed = {t.outcome.target.name for t in report.targets}
    for expected in ("/joint_commands", "/emergency_stop", "/cmd_vel", "/walk_to/_action/send_goal",
                     "/pick/_action/send_goal", "/run_job/_action/send_goal", "/gait/reference",
                     "/head_camera/depth/image_raw"):
        assert expected in fuzzed
    assert all(t.outcome.sent == 500 for t in report.targets), [t.outcome.errors for t in report.targets]
    assert report.crashes == [] and report.missing_from_graph == []
    assert report.falls == 0 and report.upright_at_end
    hardware = sum(v for k, v in report.counters.items() if k.startswith("sim_bridge"))
    gait = sum(v for k, v in report.counters.items() if k.startswith("gait_planner"))
    assert hardware > 0 and gait > 0 and report.rejections >= hardware + gait
