"""Teleoperation of the whole stack over DDS, in lockstep simulation: the `teleop` node, driven by a gamepad's Joy
messages (dead-man held, stick forward), walks the robot forward about 0.5 m; releasing the dead-man sends one zero
cmd_vel at once and nothing after, and the robot stops and stands. Ground truth (ground_truth/odom, which no node of
the stack reads) judges: it walked forward, stayed upright, and stopped within a short distance of the release.

Teleop runs on wall time (it serves a person) while the stack runs in lockstep on simulated time (0.1-0.3x real time
here), so its 20 Hz of cmd_vel are denser in simulated time; the gait planner's own limits and timeouts act in
simulated time. The launch keeps DDS discovery on this machine (ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST); this test
process uses the default range, which discovers localhost-only participants on the same machine."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import Twist
from nav_msgs.msg import Odometry
from rclpy.executors import SingleThreadedExecutor
from sensor_msgs.msg import Joy

from legion_bringup.launcher import LaunchedNodes
from legion_common.messages import xyzw
from legion_common.transforms import tilt_from_quaternion, yaw_from_quaternion
from legion_interfaces.msg import SafetyState
from legion_teleop.config import load_config
from legion_teleop.teleop_node import TeleopNode
from legion_testing.probe import LATCHED, Probe

pytestmark = pytest.mark.stack

STARTUP = 120.0  # [s] wall: model builds, DDS discovery, first balanced cycles
WALK = 0.5  # [m] how far to drive before releasing the dead-man
CONFIG = load_config("teleop")


def ground_truth(probe: Probe) -> tuple[np.ndarray, float, float]:
    """(x, y, yaw; height [m]; tilt [rad]) of the newest ground_truth/odom."""
    pose = probe.received("ground_truth/odom")[-1].pose.pose
    q = xyzw(pose.orientation)
    return (np.array([pose.position.x, pose.position.y, yaw_from_quaternion(q)]), pose.position.z,
            tilt_from_quaternion(q))


def upright(probe: Probe) -> bool:
    _, height, tilt = ground_truth(probe)
    return height > 0.8 and tilt < 0.3


class Gamepad:
    """Publishes Joy at 20 Hz of wall time from a thread: the dead-man held or not, the left stick forward."""

    def __init__(self, probe: Probe) -> None:
        self.publisher = probe.publisher(Joy, "joy")
        self.deadman = False
        self.forward = 0.0
        self.pressed: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            axes = [0.0] * 8
            axes[CONFIG.joy.axes["forward"].axis] = self.forward
            buttons = [0] * 11
            buttons[CONFIG.joy.deadman_buttons[0]] = int(self.deadman)
            for button in self.pressed:
                buttons[button] = 1
            self.publisher.publish(Joy(axes=axes, buttons=buttons))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2.0)


@pytest.fixture(scope="module")
def teleop_stack():
    launched = LaunchedNodes("stack", {"scene": "empty", "lockstep": "true", "sensor_noise": "false"}, echo=False,
                             extra_parameters={"sim_bridge": {"camera_rate": 0.0},
                                               "safety": {"zones.people_required": False}})  # no camera: no people
    probe = Probe("teleop_stack_test_probe")
    probe.record("ground_truth/odom", Odometry)
    probe.record("diagnostics", DiagnosticArray)
    probe.record("cmd_vel", Twist)
    probe.record("hardware/status", DiagnosticArray)
    probe.record("safety/state", SafetyState, LATCHED)
    teleop = TeleopNode(cli_args=["--ros-args", "-p", "arm_jog:=false"])
    executor = SingleThreadedExecutor()
    executor.add_node(teleop)
    stop = threading.Event()
    thread = threading.Thread(target=lambda: [executor.spin_once(timeout_sec=0.05) for _ in iter(stop.is_set, True)],
                              daemon=True)
    thread.start()
    pad = Gamepad(probe)
    try:
        probe.wait_until(lambda: probe.diagnostic("whole_body_controller").get("state") == "balancing", STARTUP,
                         "the whole-body controller to balance")
        probe.wait_until(lambda: probe.diagnostic("gait_planner").get("phase") == "standing", STARTUP,
                         "the gait planner")
        probe.wait_until(lambda: teleop.pub_cmd_vel.get_subscription_count() >= 2 and
                         pad.publisher.get_subscription_count() >= 1, STARTUP, "teleop's topics to match")
        yield probe, pad, teleop
    finally:
        pad.close()
        stop.set()
        thread.join(timeout=5.0)
        executor.remove_node(teleop)
        teleop.destroy_node()
        executor.shutdown()
        probe.close()
        launched.shutdown()


def test_a_gamepad_walks_the_robot_and_the_deadman_release_stops_it(teleop_stack) -> None:
    probe, pad, _ = teleop_stack
    start, _, _ = ground_truth(probe)
    heading = np.array([np.cos(start[2]), np.sin(start[2])])

    def travelled() -> float:
        return float(np.dot(ground_truth(probe)[0][:2] - start[:2], heading))

    # The stick alone (no dead-man) moves nothing.
    probe.clear("cmd_vel")
    pad.forward = 1.0
    sim_start = probe.latest_time("ground_truth/odom")
    probe.wait_sim_time(1.0, 60.0, topic="ground_truth/odom")
    assert probe.received("cmd_vel") == []
    assert abs(travelled()) < 0.02
    # Dead-man held: walks.
    pad.deadman = True
    probe.wait_until(lambda: not upright(probe) or travelled() >= WALK, 600.0, f"{WALK} m of walking")
    assert upright(probe), "fell while walking"
    walk_time = probe.latest_time("ground_truth/odom") - sim_start - 1.0
    assert max(m.linear.x for m in probe.received("cmd_vel")) == pytest.approx(CONFIG.limits.max_forward_speed)
    # Released (the stick still forward): one zero cmd_vel at once, then none.
    pad.deadman = False
    released_at, released_wall = travelled(), time.monotonic()
    probe.wait_until(lambda: probe.received("cmd_vel")[-1].linear.x == 0.0, 5.0, "the zero cmd_vel")
    assert time.monotonic() - released_wall < 1.0
    count = len(probe.received("cmd_vel"))

    def standing() -> bool:
        assert upright(probe), "fell while stopping"
        return probe.diagnostic("gait_planner").get("phase") == "standing"

    release_sim = probe.latest_time("ground_truth/odom")
    probe.wait_until(standing, 600.0, "the robot to stand after the release")
    stop_time = probe.latest_time("ground_truth/odom") - release_sim
    assert len(probe.received("cmd_vel")) == count, "teleop sent cmd_vel after the dead-man release"
    probe.wait_sim_time(1.0, 120.0, topic="ground_truth/odom")
    final, _, _ = ground_truth(probe)
    overshoot = travelled() - released_at
    offset = final[:2] - start[:2]
    lateral = abs(float(heading[0] * offset[1] - heading[1] * offset[0]))
    print(f"teleop stack: walked {released_at:.3f} m in {walk_time:.2f} s of simulated time, then "
          f"{overshoot:.3f} m after the release; standing {stop_time:.2f} s after it; lateral {lateral:.3f} m")
    # Measured 0.22 m (the step in flight and the closing step at 0.3 m/s) and 2.7 s to stand.
    assert overshoot < 0.35, f"kept going {overshoot:.2f} m after the dead-man release"
    assert lateral < 0.1
    assert stop_time < 4.0


def hardware_estop(probe: Probe) -> bool | None:
    """The hardware's latch as its newest hardware/status says (None: not said yet)."""
    for msg in reversed(probe.received("hardware/status")):
        for status in msg.status:
            values = {kv.key: kv.value for kv in status.values}
            if "emergency_stop" in values:
                return values["emergency_stop"].strip().lower() == "true"
    return None


def test_the_teleop_estop_on_a_walking_robot_is_a_controlled_stop_through_the_safety_node(teleop_stack) -> None:
    """The gamepad's e-stop while the robot walks: teleop asserts `safety/emergency_stop`, the real safety node
    latches an emergency stop, the robot comes to a stand and the hardware then holds it (category 1; upright all the
    way); the dead-man moves nothing while latched; teleop's reset goes through `safety/reset`, the hardware lets go
    and the robot walks again."""
    probe, pad, teleop = teleop_stack
    start, _, _ = ground_truth(probe)
    heading = np.array([np.cos(start[2]), np.sin(start[2])])

    def travelled() -> float:
        assert upright(probe), "fell"
        return float(np.dot(ground_truth(probe)[0][:2] - start[:2], heading))

    pad.forward, pad.deadman = 1.0, True
    probe.wait_until(lambda: travelled() >= 0.15, 600.0, "walking")
    pad.pressed = {CONFIG.joy.buttons["emergency_stop"]}
    pressed_at = travelled()
    probe.wait_until(lambda: probe.received("safety/state")
                     and probe.received("safety/state")[-1].zone == SafetyState.EMERGENCY_STOP, 30.0,
                     "the safety node's emergency stop")
    pad.pressed = set()
    probe.wait_until(lambda: hardware_estop(probe) is True and travelled() is not None, 600.0,
                     "the hardware's hold after the controlled stop")
    phase = probe.diagnostic("gait_planner").get("phase")  # standing, or the CoM still settling over both feet
    held_at = travelled()
    probe.wait_sim_time(1.0, 120.0, topic="ground_truth/odom")  # the dead-man still held: nothing moves
    assert abs(travelled() - held_at) < 0.02
    print(f"teleop e-stop: pressed after {pressed_at:.3f} m, held {held_at - pressed_at:.3f} m further (gait "
          f"planner {phase}), still 1 s later")
    assert held_at - pressed_at < 0.5
    pad.deadman = False
    outcome: list[tuple[bool, str]] = []
    teleop.request_reset(lambda success, message: outcome.append((success, message)))
    probe.wait_until(lambda: bool(outcome), 30.0, "the reset's answer")
    assert outcome[0][0], outcome
    def cleared() -> bool:
        return hardware_estop(probe) is False and probe.received("safety/state")[-1].zone != SafetyState.EMERGENCY_STOP

    try:
        probe.wait_until(cleared, 60.0, "the latches cleared")
    except AssertionError as error:
        state = probe.received("safety/state")[-1]
        raise AssertionError(f"{error} (reset: {outcome[0][1]}; hardware latched {hardware_estop(probe)}; safety "
                             f"zone {state.zone}: {state.reason})") from error
    resumed_from = travelled()
    pad.deadman = True
    probe.wait_until(lambda: travelled() >= resumed_from + 0.1, 600.0, "walking again after the reset")
    pad.deadman = False
    probe.wait_until(lambda: probe.diagnostic("gait_planner").get("phase") == "standing" and upright(probe), 600.0,
                     "standing at the end")
