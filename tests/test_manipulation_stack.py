"""Pick and place with the whole stack over DDS, in lockstep: the robot picks a cube that perception sees and puts it
into the bin perception reports, by contact and friction only.

Scene `bin_on_table`: a red cube on the work table and a red bin standing on the table within reach (no walking).
The robot looks down at the table (its `inspect_table` posture), then a client asks `pick` for the nearest
`red_cube` and `place` into the container `red_bin` (both as perception names them). Ground truth judges: the cube
ends at rest inside the bin, and the robot stands. Bad goals end with their result codes and the node running.
"""

from __future__ import annotations

import numpy as np
import pytest
from diagnostic_msgs.msg import DiagnosticArray
from nav_msgs.msg import Odometry
from rclpy.action import ActionClient
from sensor_msgs.msg import JointState

from legion_bringup.launcher import LaunchedNodes
from legion_description import load_robot_config
from legion_interfaces.action import Pick, Place
from legion_interfaces.msg import DetectedObjectArray
from legion_testing.probe import Probe

pytestmark = pytest.mark.stack

STARTUP = 150.0
"""[s] wall: model builds, DDS discovery, first balanced cycles."""
WALL_PER_SIM_SECOND = 12.0
BIN = {"position": (0.50, 0.34), "inner": 0.18, "floor": 0.76}
"""The scene's red bin (config/scenes/bin_on_table.yaml), for judging only: centre, inner side, floor height [m]."""


def run_goal(probe: Probe, client: ActionClient, goal, timeout: float):
    """Send a goal; (result, phases seen in feedback)."""
    phases: list[str] = []

    def feedback(message) -> None:
        if not phases or phases[-1] != message.feedback.phase:
            phases.append(message.feedback.phase)

    sent = client.send_goal_async(goal, feedback_callback=feedback)
    probe.wait_until(sent.done, 60.0, "the goal response")
    assert sent.result().accepted
    result = sent.result().get_result_async()
    probe.wait_until(result.done, timeout, "the result")
    return result.result().result, phases


def truth_of(probe: Probe, object_id: str) -> np.ndarray:
    for obj in probe.received("ground_truth/objects")[-1].objects:
        if obj.id == object_id:
            return np.array([obj.pose.position.x, obj.pose.position.y, obj.pose.position.z])
    raise AssertionError(f"no ground truth of {object_id}")


def test_picks_a_cube_and_places_it_in_its_bin() -> None:
    launched = LaunchedNodes("stack", {"scene": "bin_on_table", "lockstep": "true"}, echo=False)
    probe = Probe("manipulation_stack_probe")
    try:
        for topic, kind in (("diagnostics", DiagnosticArray), ("ground_truth/odom", Odometry),
                            ("ground_truth/objects", DetectedObjectArray), ("perception/objects", DetectedObjectArray)):
            probe.record(topic, kind)
        probe.wait_until(lambda: probe.diagnostic("whole_body_controller").get("state") == "balancing", STARTUP,
                         "the whole-body controller to balance")
        posture = load_robot_config("centurion").postures["inspect_table"]
        probe.publisher(JointState, "posture/reference").publish(
            JointState(name=list(posture), position=list(posture.values())))
        probe.wait_sim_time(3.0, WALL_PER_SIM_SECOND * 4, topic="ground_truth/odom")
        labels = {obj.label for obj in probe.received("perception/objects")[-1].objects}
        assert {"red_cube", "red_bin"} <= labels, labels
        pick, place = ActionClient(probe.node, Pick, "pick"), ActionClient(probe.node, Place, "place")
        assert pick.wait_for_server(timeout_sec=60.0) and place.wait_for_server(timeout_sec=60.0)

        # bad goals first: each ends with its code, nothing moves
        result, _ = run_goal(probe, pick, Pick.Goal(object_id="no_such_part"), 60.0)
        assert not result.success and result.code == Pick.Result.NOT_FOUND, result.message
        result, _ = run_goal(probe, pick, Pick.Goal(label="red_cube", side="middle"), 60.0)
        assert result.code == Pick.Result.INVALID, result.message
        result, _ = run_goal(probe, place, Place.Goal(container="red_bin"), 60.0)
        assert result.code == Place.Result.GRASP_MISSED and "holds no part" in result.message, result.message

        rest = truth_of(probe, "red_cube_1")
        result, phases = run_goal(probe, pick, Pick.Goal(label="red_cube"), WALL_PER_SIM_SECOND * 30)
        print(f"pick: {result.message}; phases {phases}")
        if result.code == Pick.Result.GRASP_MISSED:  # perception is not waited for in lockstep: on a loaded machine
            # its estimate may lag; the executive then looks again and retries, and so does this test, once
            probe.wait_sim_time(2.0, WALL_PER_SIM_SECOND * 3, topic="ground_truth/odom")
            result, phases = run_goal(probe, pick, Pick.Goal(label="red_cube"), WALL_PER_SIM_SECOND * 30)
            print(f"pick, second attempt: {result.message}; phases {phases}")
        assert result.success, result.message
        assert phases[:2] == ["approach", "pre-shape"] and "close" in phases and "lift" in phases
        held = result.side
        assert getattr(result, f"{held}_holds") == result.object_id
        probe.wait_sim_time(2.0, WALL_PER_SIM_SECOND * 3, topic="ground_truth/odom")
        assert truth_of(probe, "red_cube_1")[2] - rest[2] > 0.04  # held up, 2 s after the pick

        result, phases = run_goal(probe, place, Place.Goal(container="red_bin"), WALL_PER_SIM_SECOND * 30)
        print(f"place: {result.message}; phases {phases}")
        assert result.success, result.message
        assert phases == ["transport", "lower", "release", "retreat", "verify"]
        assert result.verified and result.left_holds == "" and result.right_holds == ""
        probe.wait_sim_time(1.0, WALL_PER_SIM_SECOND * 2, topic="ground_truth/odom")
        before = truth_of(probe, "red_cube_1")
        probe.wait_sim_time(1.0, WALL_PER_SIM_SECOND * 2, topic="ground_truth/odom")
        after = truth_of(probe, "red_cube_1")
        offset = after[:2] - np.array(BIN["position"])
        print(f"cube at rest {np.round(after, 3).tolist()}, {np.linalg.norm(offset) * 100:.1f} cm from the bin centre")
        assert np.all(np.abs(offset) < BIN["inner"] / 2) and after[2] < BIN["floor"] + 0.04  # inside, on the floor
        assert np.linalg.norm(after - before) < 0.003  # at rest (under 3 mm/s)
        base = probe.received("ground_truth/odom")[-1].pose.pose.position
        assert base.z > 0.85 and probe.diagnostic("manipulation").get("phase") == "idle"
    finally:
        probe.close()
        launched.shutdown()
