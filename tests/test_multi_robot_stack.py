"""Two robots in one simulated cell (issue 16), over real DDS: `legion launch stack scene:=two_robot_cell robots:=2`
in lockstep starts one sim_bridge for both robots and one whole stack per robot under its namespace. Both balance;
robot_2 alone walks 0.3 m forward on `robot_2/cmd_vel` while robot_1 stands still (ground truth judges); no robot's
node is wired to the other robot's topics; robot_2's `walk_to` takes a goal in `robot_2/odom` (frame prefix) and
walks, and refuses one in the unprefixed `odom`; each safety node monitors the other robot; the fleet coordinator
gives a shared station to one robot at a time. Prints the CPU cost and the real-time factor of the two stacks."""

from __future__ import annotations

import os
import threading
import time

import numpy as np
import pytest
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import Twist
from nav_msgs.msg import Odometry

from legion_bringup.launcher import LaunchedNodes
from legion_common.messages import xyzw
from legion_common.stamps import header_seconds
from legion_common.transforms import tilt_from_quaternion
from legion_testing.probe import Probe

pytestmark = pytest.mark.stack

ROBOTS = ("robot_1", "robot_2")
STARTUP = 240.0
"""[s] wall: two model builds per node kind, DDS discovery of ~20 processes, first balanced cycles."""
WALL_PER_SIM_SECOND = 40.0
"""[s] wall allowed per simulated second (two stacks in lockstep on a loaded 2-core machine)."""


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time [s] of a process and its threads (from /proc)."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Cell:
    """Records each robot's ground truth and diagnostics; drives a robot's cmd_vel at 50 Hz of simulated time."""

    def __init__(self, probe: Probe) -> None:
        self.probe = probe
        self._lock = threading.Lock()
        self._driving: dict[str, float] = {}
        self.cmd_vel = {robot: probe.publisher(Twist, f"{robot}/cmd_vel") for robot in ROBOTS}
        for robot in ROBOTS:
            probe.record(f"{robot}/ground_truth/odom", Odometry, callback=lambda msg, r=robot: self._answer(r, msg))
            probe.record(f"{robot}/diagnostics", DiagnosticArray)

    def _answer(self, robot: str, _msg: Odometry) -> None:
        with self._lock:
            forward = self._driving.get(robot)
        if forward is not None:
            twist = Twist()
            twist.linear.x = forward
            self.cmd_vel[robot].publish(twist)

    def drive(self, robot: str, forward: float | None) -> None:
        with self._lock:
            if forward is None:
                self._driving.pop(robot, None)
            else:
                self._driving[robot] = forward

    def base(self, robot: str) -> tuple[np.ndarray, float, float]:
        """(x, y, z) [m], tilt [rad] and sim time [s] of the robot's newest ground truth."""
        msg = self.probe.received(f"{robot}/ground_truth/odom")[-1]
        p = msg.pose.pose.position
        return np.array([p.x, p.y, p.z]), tilt_from_quaternion(xyzw(msg.pose.pose.orientation)), header_seconds(msg)

    def diagnostic(self, robot: str, name: str) -> dict[str, str]:
        for msg in reversed(self.probe.received(f"{robot}/diagnostics")):
            for status in msg.status:
                if status.name.startswith(name):
                    return {kv.key: kv.value for kv in status.values} | {"message": status.message}
        return {}

    def upright(self, robot: str) -> bool:
        position, tilt, _ = self.base(robot)
        return position[2] > 0.8 and tilt < 0.3

    def sim_time(self) -> float:
        return min(self.base(robot)[2] for robot in ROBOTS)


@pytest.fixture(scope="module")
def cell():
    launched = LaunchedNodes("stack", {"scene": "two_robot_cell", "robots": "2", "lockstep": "true",
                                       "sensor_noise": "false"}, echo=False,
                             extra_parameters={"sim_bridge": {"camera_rate": 0.0},
                                               # no camera, no people sensing: the safety node assumes nobody near
                                               "safety": {"zones.people_required": False}})
    probe = Probe("multi_robot_stack_probe")
    watcher = Cell(probe)
    try:
        for robot in ROBOTS:
            probe.wait_until(lambda r=robot: probe.received(f"{r}/ground_truth/odom")
                             and watcher.diagnostic(r, "whole_body_controller").get("state") == "balancing"
                             and watcher.diagnostic(r, "gait_planner").get("phase") == "standing",
                             STARTUP, f"{robot}'s controller balancing and its planner standing")
        yield probe, launched, watcher
    finally:
        probe.close()
        launched.shutdown()


def test_no_node_of_one_robot_takes_the_other_robots_topics(cell):
    probe, launched, _ = cell
    node = probe.node
    for robot in ROBOTS:
        other = ROBOTS[1 - ROBOTS.index(robot)]
        for topic in ("joint_states", "joint_commands", "odom", "cmd_vel", "imu/data"):
            for info in (*node.get_subscriptions_info_by_topic(f"/{robot}/{topic}"),
                         *node.get_publishers_info_by_topic(f"/{robot}/{topic}")):
                assert info.node_namespace.strip("/") != other, (
                    f"{other}'s node {info.node_name} is wired to /{robot}/{topic}")
        # each robot's controller takes its own robot's joint states from the one simulator
        subscribers = {i.node_name for i in node.get_subscriptions_info_by_topic(f"/{robot}/joint_states")}
        assert "state_estimator" in subscribers, subscribers
        assert [i.node_name for i in node.get_publishers_info_by_topic(f"/{robot}/joint_states")] == ["sim_bridge"]
        assert node.count_publishers(f"/{robot}/joint_commands") == 1
    assert node.count_publishers("/joint_states") == 0 and node.count_subscribers("/joint_commands") == 0
    assert node.count_publishers("/clock") == 1  # the one shared clock
    assert all(process.poll() is None for process in launched.processes.values())


def test_both_balance_and_robot_2_alone_walks_0_3_m(cell):
    probe, launched, watcher = cell
    # Both stand for 1 s of simulated time; measure the cost meanwhile.
    pids = {key: process.pid for key, process in launched.processes.items()}
    cpu_before = {key: _cpu_seconds(pid) for key, pid in pids.items()}
    wall_before, sim_before = time.monotonic(), watcher.sim_time()
    probe.wait_until(lambda: watcher.sim_time() >= sim_before + 1.0, WALL_PER_SIM_SECOND + 30.0,
                     "1 s of standing")
    wall, simulated = time.monotonic() - wall_before, watcher.sim_time() - sim_before
    cpu = {key: _cpu_seconds(pid) - cpu_before[key] for key, pid in pids.items()}
    by_kind: dict[str, float] = {}
    for key, seconds in cpu.items():
        by_kind[key.split("/")[-1]] = by_kind.get(key.split("/")[-1], 0.0) + seconds
    print(f"\ntwo stacks in lockstep, standing: {simulated:.2f} s simulated in {wall:.1f} s wall, real-time factor "
          f"{simulated / wall:.3f}; CPU {sum(cpu.values()) / simulated:.1f} s per simulated s ("
          + ", ".join(f"{k} {v / simulated:.1f}" for k, v in sorted(by_kind.items(), key=lambda kv: -kv[1])) + ")")
    for robot in ROBOTS:
        assert watcher.upright(robot), f"{robot} fell while standing"
        assert watcher.diagnostic(robot, "whole_body_controller").get("state") == "balancing"

    start_1, _, _ = watcher.base("robot_1")
    start_2, _, t0 = watcher.base("robot_2")
    watcher.drive("robot_2", 0.2)
    try:
        probe.wait_until(lambda: (not watcher.upright("robot_2") or not watcher.upright("robot_1")
                                  or watcher.base("robot_2")[0][0] - start_2[0] >= 0.3
                                  or watcher.base("robot_2")[2] > t0 + 8.0),
                         WALL_PER_SIM_SECOND * 8.0 + 60.0, "robot_2 to walk 0.3 m")
    finally:
        watcher.drive("robot_2", None)
    end_1, _, _ = watcher.base("robot_1")
    end_2, _, t1 = watcher.base("robot_2")
    assert watcher.upright("robot_2") and watcher.upright("robot_1")
    assert end_2[0] - start_2[0] >= 0.3, f"robot_2 walked only {end_2[0] - start_2[0]:.2f} m in {t1 - t0:.1f} s"
    assert abs(end_2[1] - start_2[1]) < 0.15
    assert np.linalg.norm(end_1[:2] - start_1[:2]) < 0.03, f"robot_1 moved {end_1 - start_1} while robot_2 walked"
    assert watcher.diagnostic("robot_1", "gait_planner").get("phase") == "standing"
    print(f"robot_2 walked {end_2[0] - start_2[0]:.2f} m in {t1 - t0:.1f} s simulated; robot_1 moved "
          f"{np.linalg.norm(end_1[:2] - start_1[:2]) * 1000:.1f} mm")


def test_robot_2_walks_to_a_goal_in_its_own_odom_and_refuses_one_in_plain_odom(cell):
    """Frames are prefixed (`robot_2/odom`): robot_2's `walk_to` takes a goal 0.25 m ahead in `robot_2/odom` and walks
    towards it (ground truth judges; each robot's odom is the scene's world frame); the same goal in the unprefixed
    `odom` is refused."""
    from rclpy.action import ActionClient

    from legion_common.transforms import quaternion_from_yaw, yaw_from_quaternion
    from legion_interfaces.action import WalkTo

    probe, _, watcher = cell
    client = ActionClient(probe.node, WalkTo, "robot_2/walk_to")
    assert client.wait_for_server(timeout_sec=30.0), "robot_2/walk_to is not offered"
    # standing still first: no step left of an earlier walk counts as progress towards the goal
    probe.wait_until(lambda: watcher.diagnostic("robot_2", "gait_planner").get("phase") == "standing",
                     WALL_PER_SIM_SECOND * 3.0, "robot_2 standing before its walk_to")
    start, _, t0 = watcher.base("robot_2")
    yaw = yaw_from_quaternion(xyzw(probe.received("robot_2/ground_truth/odom")[-1].pose.pose.orientation))
    heading = np.array([np.cos(yaw), np.sin(yaw)])
    target = start[:2] + 0.25 * heading

    def send(frame: str):
        goal = WalkTo.Goal()
        goal.target.header.frame_id = frame
        goal.target.pose.position.x, goal.target.pose.position.y = (float(v) for v in target)
        q = quaternion_from_yaw(yaw)
        goal.target.pose.orientation.z, goal.target.pose.orientation.w = float(q[2]), float(q[3])
        sent = client.send_goal_async(goal)
        probe.wait_until(sent.done, 30.0, f"robot_2/walk_to to answer a goal in '{frame}'")
        return sent.result()

    assert not send("odom").accepted, "robot_2 took a goal in the unprefixed odom"
    handle = send("robot_2/odom")
    assert handle.accepted, "robot_2 refused a goal in robot_2/odom"

    def progress() -> float:
        return float((watcher.base("robot_2")[0][:2] - start[:2]) @ heading)

    try:
        probe.wait_until(lambda: (not watcher.upright("robot_2") or progress() >= 0.15
                                  or watcher.base("robot_2")[2] > t0 + 6.0),
                         WALL_PER_SIM_SECOND * 6.0 + 30.0, "robot_2 to walk towards its walk_to goal")
    finally:
        handle.cancel_goal_async()
    t1 = watcher.base("robot_2")[2]
    assert watcher.upright("robot_2")
    assert progress() >= 0.15, f"robot_2 walked only {progress():.2f} m towards the goal in {t1 - t0:.1f} s"
    print(f"robot_2 walked {progress():.2f} m towards its walk_to goal in robot_2/odom in {t1 - t0:.1f} s simulated")


def test_the_cells_fleet_coordinator_gives_a_station_to_one_robot_at_a_time(cell):
    """Each robot's safety node sees the other robot; the launch's one fleet coordinator (root namespace) answers
    both robots: robot_1 is granted a station, robot_2 is told it is busy (held by robot_1) until robot_1 releases
    it."""
    from legion_interfaces.srv import Release, Reserve

    probe, launched, watcher = cell
    assert "fleet_coordinator" in launched.processes
    # Each robot's safety node monitors the other robot like a person (2 m apart: it is the nearest one).
    for robot, other in (ROBOTS, ROBOTS[::-1]):
        probe.wait_until(lambda r=robot: watcher.diagnostic(r, "safety").get("person"), 30.0, f"{robot}'s safety")
        assert watcher.diagnostic(robot, "safety")["person"] == f"robot {other}", watcher.diagnostic(robot, "safety")

    def reserve(robot: str):
        return probe.call(Reserve, "/fleet/reserve", Reserve.Request(robot=robot, resources=["station/shared"],
                                                                     lease=30.0))

    assert reserve("robot_1").code == Reserve.Response.GRANTED
    busy = reserve("robot_2")
    assert busy.code == Reserve.Response.BUSY and list(busy.holders) == ["robot_1"]
    released = probe.call(Release, "/fleet/release", Release.Request(robot="robot_1", resources=[]))
    assert list(released.released) == ["station/shared"]
    assert reserve("robot_2").code == Reserve.Response.GRANTED
    probe.call(Release, "/fleet/release", Release.Request(robot="robot_2", resources=[]))
