"""Walking with the whole stack over real DDS, in lockstep simulation: sim_bridge, state_estimator,
whole_body_controller, gait_planner (and perception, camera off), as `legion launch stack` starts them.

One launch in a ROS domain of its own serves the tests of this module, in order: walk_to a pose 3 m away turned
90 degrees; walk forward at 0.5 m/s and stop on a stale cmd_vel; a 20 N s lateral push while walking; turning in
place a full turn; backwards, sideways and an arc. Assertions use the simulator's ground truth, which no controller
or planner reads. (The 20 m walk and the fastest speed are measured in-process, test_gait_walking.py and
bench/bench_gait.py: lockstep over DDS runs at 0.1-0.3x real time on this machine.)
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import Twist
from nav_msgs.msg import Odometry
from rclpy.action import ActionClient

from legion_bringup.launcher import LaunchedNodes
from legion_gait.geometry import yaw_from_quaternion
from legion_gait.testing import isolated_ros_domain
from legion_interfaces.action import WalkTo
from legion_interfaces.msg import FootstepPlan
from legion_interfaces.srv import ApplyWrench
from legion_testing.probe import LATCHED, Probe

STARTUP = 120.0
"""[s] wall: model builds, DDS discovery, first balanced cycles."""
WALL_PER_SIM_SECOND = 12.0
"""[s] wall allowed per second of simulated time (lockstep on a loaded 2-core machine)."""


def diagnostic(probe: Probe, name: str) -> dict[str, str]:
    """Key values (and `message`) of the newest diagnostics status named `name` ({} before the first)."""
    for msg in reversed(probe.received("diagnostics")):
        for status in msg.status:
            if status.name.startswith(name):
                return {kv.key: kv.value for kv in status.values} | {"message": status.message}
    return {}


def ground_truth(probe: Probe) -> tuple[np.ndarray, float, float]:
    """(base x, y, yaw; base height [m]; tilt [rad]) of the newest ground_truth/odom."""
    pose = probe.received("ground_truth/odom")[-1].pose.pose
    q = pose.orientation
    tilt = math.acos(max(-1.0, min(1.0, 1.0 - 2.0 * (q.x * q.x + q.y * q.y))))
    return (np.array([pose.position.x, pose.position.y, yaw_from_quaternion(q.x, q.y, q.z, q.w)]),
            pose.position.z, tilt)


def sim_time(probe: Probe) -> float:
    return probe.latest_time("ground_truth/odom")


def upright(probe: Probe) -> bool:
    _, height, tilt = ground_truth(probe)
    return height > 0.8 and tilt < 0.3


class Driver:
    """Sends cmd_vel at ~25 Hz of wall time (lockstep is slower than real time, so more often in simulated time)
    and records the ground-truth path."""

    def __init__(self, probe: Probe) -> None:
        self.probe = probe
        self.publisher = probe.publisher(Twist, "cmd_vel")

    def drive(self, duration: float, twist_at=None, forward: float = 0.0, left: float = 0.0,
              yaw_rate: float = 0.0, until=None) -> list[tuple[float, np.ndarray]]:
        """Command for `duration` [s] of simulated time (or until `until()` is true); `twist_at(t)` -> (forward,
        left, yaw rate) overrides the constants. Returns (sim time, base x y yaw) samples; fails at once if the robot
        falls."""
        start = sim_time(self.probe)
        deadline = time.monotonic() + WALL_PER_SIM_SECOND * duration + 30.0
        path = []
        while (now := sim_time(self.probe)) < start + duration and not (until is not None and until()):
            values = twist_at(now - start) if twist_at is not None else (forward, left, yaw_rate)
            twist = Twist()
            twist.linear.x, twist.linear.y, twist.angular.z = values
            self.publisher.publish(twist)
            path.append((now, ground_truth(self.probe)[0]))
            assert upright(self.probe), f"fell at t = {now:.2f} s"
            assert time.monotonic() < deadline, "lockstep too slow"
            time.sleep(0.04)
        return path

    def stand(self, timeout: float = 4.0) -> None:
        """Stop commanding and wait until the planner stands (the command goes stale first)."""
        self.probe.wait_sim_time(0.5, WALL_PER_SIM_SECOND * 2, topic="ground_truth/odom")
        start = sim_time(self.probe)
        deadline = time.monotonic() + WALL_PER_SIM_SECOND * timeout + 30.0
        while diagnostic(self.probe, "gait_planner").get("phase") != "standing":
            assert upright(self.probe), "fell while stopping"
            assert sim_time(self.probe) < start + timeout and time.monotonic() < deadline, "did not stand"
            time.sleep(0.05)


def speed(path: list[tuple[float, np.ndarray]], since: float) -> np.ndarray:
    """Mean velocity (x, y) [m/s] along a path after `since` [s] into it."""
    t = np.array([sample[0] for sample in path])
    xy = np.array([sample[1][:2] for sample in path])
    keep = t >= t[0] + since
    return np.array([np.polyfit(t[keep], xy[keep, axis], 1)[0] for axis in range(2)])


@pytest.fixture(scope="module")
def stack():
    with isolated_ros_domain():
        launched = LaunchedNodes("stack", {"scene": "empty", "lockstep": "true"}, echo=False, extra_parameters={
            "sim_bridge": {"camera_rate": 0.0}})
        probe = Probe("gait_stack_test_probe")
        probe.record("ground_truth/odom", Odometry)
        probe.record("diagnostics", DiagnosticArray)
        probe.record("gait/footsteps", FootstepPlan, LATCHED)
        try:
            probe.wait_until(lambda: diagnostic(probe, "whole_body_controller").get("state") == "balancing",
                             STARTUP, "the whole-body controller to balance")
            probe.wait_until(lambda: diagnostic(probe, "gait_planner").get("phase") == "standing", STARTUP,
                             "the gait planner")
            yield probe, launched, Driver(probe)
        finally:
            probe.close()
            launched.shutdown()


def test_walks_to_a_pose_3_m_away_turned_90_degrees(stack) -> None:
    probe, _, _ = stack
    start, _, _ = ground_truth(probe)
    goal_pose = np.array([start[0] + 3.0, start[1], start[2] + math.pi / 2])
    client = ActionClient(probe.node, WalkTo, "walk_to")
    assert client.wait_for_server(timeout_sec=60.0)
    goal = WalkTo.Goal()
    goal.target.header.frame_id = "odom"
    goal.target.pose.position.x, goal.target.pose.position.y = goal_pose[:2]
    goal.target.pose.orientation.z = math.sin(goal_pose[2] / 2)
    goal.target.pose.orientation.w = math.cos(goal_pose[2] / 2)
    feedback = []
    sent = client.send_goal_async(goal, feedback_callback=feedback.append)
    probe.wait_until(sent.done, 60.0, "the goal response")
    assert sent.result().accepted
    result = sent.result().get_result_async()
    probe.wait_until(lambda: result.done() or not upright(probe), WALL_PER_SIM_SECOND * 30, "walk_to to finish")
    assert upright(probe)
    answer = result.result().result
    assert answer.success, answer.message
    final, _, _ = ground_truth(probe)
    error = float(np.linalg.norm(final[:2] - goal_pose[:2]))
    turn = abs((final[2] - goal_pose[2] + math.pi) % (2 * math.pi) - math.pi)
    print(f"walk_to: {error * 100:.1f} cm, {math.degrees(turn):.1f} deg from the goal, "
          f"{feedback[-1].feedback.steps_taken} steps")
    assert error < 0.05, f"{error:.3f} m from the goal"
    assert math.degrees(turn) < 5.0
    distances = [f.feedback.distance_remaining for f in feedback]
    assert distances[0] > 2.5 and distances[-1] < 0.1  # feedback counts down
    assert feedback[-1].feedback.steps_taken >= 8


def test_walks_forward_at_half_a_metre_per_second_and_stands_on_a_stale_command(stack) -> None:
    probe, _, driver = stack
    path = driver.drive(7.0, forward=0.5)
    heading = path[0][1][2]
    velocity = speed(path, since=3.0)
    along = velocity @ np.array([math.cos(heading), math.sin(heading)])
    print(f"forward: {along:.3f} m/s for 0.5 m/s commanded ({abs(along - 0.5) / 0.5 * 100:.1f} % error)")
    assert abs(along - 0.5) / 0.5 < 0.10, f"{along:.3f} m/s"
    driver.stand()
    steps = probe.received("gait/footsteps")[-1]
    assert len(steps.steps) == 0  # nothing planned: standing
    assert diagnostic(probe, "whole_body_controller").get("state") == "balancing"


def test_survives_a_20_n_s_lateral_push_while_walking(stack) -> None:
    """200 N for 0.1 s at the pelvis, sideways towards the swing foot's side, early in a swing (from
    gait/footsteps): the plan re-anchors on the measured state, the footsteps follow the push (ZMP knots and, when
    they cannot absorb it, the landing points move) and the robot walks on."""
    probe, _, driver = stack
    driver.drive(3.0, forward=0.5)

    def early_in_a_swing() -> bool:
        steps = probe.received("gait/footsteps")[-1].steps
        now = sim_time(probe)
        return bool(steps) and stamp_seconds_of(steps[0].lift_off) + 0.02 <= now <= stamp_seconds_of(
            steps[0].lift_off) + 0.1

    driver.drive(2.0, forward=0.5, until=early_in_a_swing)
    assert early_in_a_swing(), "no swing found"
    side = probe.received("gait/footsteps")[-1].steps[0].side
    before = diagnostic(probe, "gait_planner")
    request = ApplyWrench.Request()
    request.body = "base_link"
    request.duration = 0.1
    start, _, _ = ground_truth(probe)
    sideways = (1.0 if side == 0 else -1.0) * np.array([-math.sin(start[2]), math.cos(start[2])])  # LEFT = 0: left
    request.wrench.force.x, request.wrench.force.y = (20.0 / request.duration * sideways).tolist()
    response = probe.call(ApplyWrench, "sim/apply_wrench", request, timeout=60.0)
    assert response.success, response.message
    path = driver.drive(4.0, forward=0.5)
    driver.stand()
    after = diagnostic(probe, "gait_planner")
    assert int(after["reanchors"]) > int(before["reanchors"])  # it saw the push and replanned from it
    walked = path[-1][1][:2] - start[:2]
    heading = np.array([math.cos(start[2]), math.sin(start[2])])
    assert walked @ heading > 1.2  # and walked on (0.5 m/s for 4 s, less the stop)
    assert abs(walked @ np.array([-heading[1], heading[0]])) > 0.03  # carried sideways, caught by the steps
    assert diagnostic(probe, "whole_body_controller").get("state") == "balancing"


def stamp_seconds_of(stamp) -> float:
    return stamp.sec + stamp.nanosec * 1e-9


def test_turns_in_place_a_full_turn(stack) -> None:
    probe, _, driver = stack
    start, _, _ = ground_truth(probe)
    path = driver.drive(12.5, yaw_rate=0.6)
    driver.stand()
    yaws = np.unwrap([sample[1][2] for sample in path])
    assert yaws[-1] - yaws[0] > 2 * math.pi - 0.1
    final, _, _ = ground_truth(probe)
    assert np.linalg.norm(final[:2] - start[:2]) < 0.2


def test_walks_backwards_sideways_and_on_an_arc(stack) -> None:
    probe, _, driver = stack
    heading = ground_truth(probe)[0][2]
    forward = np.array([math.cos(heading), math.sin(heading)])
    left = np.array([-math.sin(heading), math.cos(heading)])
    back = driver.drive(4.0, forward=-0.3)
    assert speed(back, since=2.0) @ forward == pytest.approx(-0.3, abs=0.05)
    side = driver.drive(4.0, left=0.15)
    assert speed(side, since=2.0) @ left == pytest.approx(0.15, abs=0.04)
    driver.stand()
    arc = driver.drive(7.0, twist_at=lambda t: (0.4, 0.0, 0.2 + 0.2 * math.sin(0.8 * t)))
    driver.stand()
    turned = np.unwrap([sample[1][2] for sample in arc])
    assert turned[-1] - turned[0] > 0.8
    assert np.linalg.norm(arc[-1][1][:2] - arc[0][1][:2]) > 1.5
