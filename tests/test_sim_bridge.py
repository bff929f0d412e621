"""The MuJoCo bridge over real DDS: the hardware interface of docs/interfaces.md, in lockstep simulation.

One `legion launch sim` process serves the tests of this module; the test process is the lockstep controller
(it answers each joint_states with a standing-posture hold, as the issue's acceptance asks) and the observer.
"""

from __future__ import annotations

import math
import subprocess

import numpy as np
import pytest
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import WrenchStamped
from nav_msgs.msg import Odometry
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import CameraInfo, Image, Imu
from std_msgs.msg import Bool, String
from std_srvs.srv import Trigger

from legion_bringup.launcher import LaunchedNodes, find_executable
from legion_bringup.nodes import NodeSpec
from legion_common.diagnostics import diagnostic_values
from legion_common.messages import xyzw
from legion_common.stamps import header_seconds, to_seconds
from legion_common.transforms import tilt_from_quaternion
from legion_description import load_robot_config
from legion_interfaces.msg import DetectedObjectArray, JointCommand
from legion_interfaces.srv import ApplyWrench
from legion_model import RobotModel
from legion_testing.probe import LATCHED, Probe

pytestmark = pytest.mark.stack  # launches sim_bridge over DDS

CONFIG = load_robot_config("centurion")
STARTUP = 90.0  # [s] wall: model build, DDS discovery (seconds), first messages


def latest_status(probe: Probe) -> dict[str, str]:
    messages = probe.received("hardware/status")
    return diagnostic_values(messages[-1]) if messages else {}


def base_pose(probe: Probe) -> tuple[np.ndarray, float]:
    """(position, tilt [deg]) of the newest ground-truth odometry."""
    pose = probe.received("ground_truth/odom")[-1].pose.pose
    tilt = math.degrees(tilt_from_quaternion(xyzw(pose.orientation)))
    return np.array([pose.position.x, pose.position.y, pose.position.z]), tilt


def standing_feed_forward(names: list[str]) -> list[float]:
    """Joint torques that carry the robot's weight in the standing posture (a position hold's feed-forward)."""
    model = RobotModel.load("centurion")
    model.update(model.standing_configuration())
    torques = model.joint_dict(model.static_contact_torques()[0])
    return [torques.get(name, 0.0) for name in names]


@pytest.fixture(scope="module")
def sim_module():
    """The simulated robot in the sorting cell, lockstep, answered by the probe with a standing hold (sensors with
    their errors, as in the stack)."""
    launched = LaunchedNodes("sim", {"scene": "sorting_cell", "lockstep": "true"}, echo=False,
                             extra_parameters={"sim_bridge": {"lockstep_timeout": 0.2, "clock_rate": 200.0}})
    probe = Probe()
    for topic, kind in (("imu/data", Imu), ("l_foot/wrench", WrenchStamped), ("r_foot/wrench", WrenchStamped),
                        ("ground_truth/odom", Odometry), ("ground_truth/objects", DetectedObjectArray),
                        ("hardware/status", DiagnosticArray), ("head_camera/color/image_raw", Image),
                        ("head_camera/depth/image_raw", Image), ("head_camera/color/camera_info", CameraInfo),
                        ("head_camera/depth/camera_info", CameraInfo), ("/clock", Clock)):
        probe.record(topic, kind)
    probe.record("robot_description", String, LATCHED)
    names = list(CONFIG.all_joints)
    probe.answer_lockstep(names, [CONFIG.standing[n] for n in names], [CONFIG.gains[n].stiffness for n in names],
                          [CONFIG.gains[n].damping for n in names], standing_feed_forward(names))
    try:
        probe.wait_sim_time(0.2, STARTUP)
        yield probe, launched
    finally:
        probe.close()
        launched.shutdown()
        print("\n".join(launched.output[-30:]))


@pytest.fixture
def sim(sim_module):
    """The module's simulation, brought back to its start for each test: no e-stop, the probe answering, the robot
    standing at the scene's start (so no test depends on what another did)."""
    probe, _ = sim_module
    probe.answering = True
    probe.publisher(Bool, "emergency_stop", LATCHED).publish(Bool(data=False))
    assert probe.call(Trigger, "emergency_stop/reset", Trigger.Request()).success
    assert probe.call(Trigger, "sim/reset", Trigger.Request()).success
    probe.clear("joint_states")  # simulated time restarted at 0
    probe.wait_sim_time(0.3, 60.0)
    return sim_module


def test_topics_types_and_rates(sim):
    probe, _ = sim
    rated = (("imu/data", 500.0), ("l_foot/wrench", 500.0), ("r_foot/wrench", 500.0),
             ("ground_truth/odom", 50.0), ("ground_truth/objects", 50.0),
             ("head_camera/color/image_raw", 10.0), ("head_camera/depth/image_raw", 10.0))
    for topic, _ in (("joint_states", 500.0), *rated):
        probe.clear(topic)
    probe.wait_sim_time(2.0, 120.0)
    joint_states = probe.received("joint_states")
    duration = header_seconds(joint_states[-1]) - header_seconds(joint_states[0])
    # Lockstep: the probe answered every state, so none were skipped: 500 Hz exactly.
    assert len(joint_states) / duration == pytest.approx(500.0, rel=0.02)
    assert list(joint_states[-1].name) == list(CONFIG.all_joints)
    assert len(joint_states[-1].position) == len(joint_states[-1].velocity) == len(joint_states[-1].effort) == 74
    for topic, rate in rated:
        assert len(probe.received(topic)) / duration == pytest.approx(rate, rel=0.15), topic
    assert probe.received("imu/data")[-1].header.frame_id == CONFIG.frames["imu"]
    assert probe.received("l_foot/wrench")[-1].header.frame_id == CONFIG.sides["left"].sole
    assert len(probe.received("/clock")) > 0
    assert "<robot" in probe.received("robot_description")[-1].data
    # Standing: the ground carries the robot's weight through the soles.
    total_fz = sum(probe.received(f"{s}_foot/wrench")[-1].wrench.force.z for s in ("l", "r"))
    assert total_fz == pytest.approx(65.0 * 9.81, rel=0.1)
    imu = probe.received("imu/data")[-1]
    assert imu.linear_acceleration.z == pytest.approx(9.81, abs=0.5)
    assert len(probe.received("ground_truth/objects")[-1].objects) >= 4


def test_clock_rate_monotonic_and_restarted_by_reset(sim):
    """`clock` at clock_rate (200 Hz), strictly increasing; sim/reset sends it back to 0 once, and it advances again.
    (The largest gap, one clock period plus one control period, is checked in test_tick_latency.py.)"""
    probe, _ = sim
    probe.clear("/clock")
    probe.clear("joint_states")
    probe.wait_sim_time(2.0, 120.0)
    clocks = np.array([to_seconds(m.clock) for m in probe.received("/clock")])
    assert np.all(np.diff(clocks) > 0), "clock went backwards without a reset"
    assert np.diff(clocks).min() >= 2 / 500.0 - 1e-6  # decimated: every 2nd or 3rd tick
    assert (len(clocks) - 1) / (clocks[-1] - clocks[0]) == pytest.approx(200.0, rel=0.05)
    before = clocks[-1]
    assert probe.call(Trigger, "sim/reset", Trigger.Request()).success
    probe.clear("/clock")
    probe.clear("joint_states")
    probe.wait_sim_time(0.5, 60.0)
    after = np.array([to_seconds(m.clock) for m in probe.received("/clock")])
    restart = int(np.argmin(after))
    assert after[restart] < 0.1 < before  # restarted at the scene's start
    assert np.all(np.diff(after[restart:]) > 0) and after[-1] >= 0.4


def test_tick_latency_on_hardware_status(sim):
    """Every tick the probe answers is counted, on time or late, none missed; the latency figures are there."""
    probe, _ = sim
    probe.wait_sim_time(1.0, 120.0)
    status = latest_status(probe)
    figures = {k: v for k, v in status.items() if k.startswith("tick_latency")}
    for scope in ("total", "window"):
        ticks = int(status[f"tick_latency.{scope}.ticks"])
        counted = sum(int(status[f"tick_latency.{scope}.{k}"]) for k in ("on_time", "late", "missed"))
        assert ticks == counted and ticks >= 400, figures  # >= 0.8 s of 500 Hz ticks since the reset
        assert int(status[f"tick_latency.{scope}.missed"]) == 0, figures  # lockstep: the probe answered every tick
        median, p99, largest = (float(status[f"tick_latency.{scope}.{k}_ms"]) for k in ("median", "p99", "max"))
        assert 0.0 < median <= p99 * 1.02 and p99 <= largest * 1.02, figures  # no timing bound: bench/ measures


def test_camera_images(sim):
    probe, _ = sim
    probe.wait_until(lambda: len(probe.received("head_camera/depth/image_raw")) > 0, 60.0, "a depth image")
    color = probe.received("head_camera/color/image_raw")[-1]
    depth = probe.received("head_camera/depth/image_raw")[-1]
    info = probe.received("head_camera/color/camera_info")[-1]
    assert (color.encoding, color.width, color.height) == ("rgb8", 640, 480)
    assert (depth.encoding, depth.width, depth.height) == ("32FC1", 640, 480)
    assert color.header.frame_id == depth.header.frame_id == CONFIG.frames["camera_color_optical"]  # registered
    rgb = np.frombuffer(bytes(color.data), dtype=np.uint8).reshape(480, 640, 3)
    assert rgb.std() > 10.0  # a scene, not a blank frame
    z = np.frombuffer(bytes(depth.data), dtype="<f4").reshape(480, 640)
    finite = z[np.isfinite(z)]
    assert finite.size > 0.25 * z.size and 0.2 < np.median(finite) < 10.0  # floor, table, walls; NaN beyond far
    assert info.k[0] > 0 and info.k[2] == pytest.approx(319.5, abs=1.0)


def test_stands_still_under_a_position_hold(sim):
    probe, _ = sim
    start, _ = base_pose(probe)
    probe.wait_sim_time(5.0, 300.0)
    end, tilt = base_pose(probe)
    assert abs(end[2] - start[2]) < 0.01, f"base height changed by {end[2] - start[2]:.3f} m"
    assert np.linalg.norm(end[:2] - start[:2]) < 0.01
    assert tilt < 2.0
    assert latest_status(probe).get("protective_stop") == "False"


def test_malformed_commands_are_rejected_and_counted(sim):
    probe, _ = sim
    publisher = probe.publisher(JointCommand, "joint_commands")
    knee = CONFIG.joints("legs", "left")[3]
    bad = [
        JointCommand(name=[knee], position=[0.6, 0.1], velocity=[0.0], effort=[0.0], stiffness=[1.0], damping=[1.0]),
        JointCommand(name=["no_such_joint"], position=[0.0], velocity=[0.0], effort=[0.0], stiffness=[1.0],
                     damping=[1.0]),
        JointCommand(name=[knee], position=[float("nan")], velocity=[0.0], effort=[0.0], stiffness=[1.0],
                     damping=[1.0]),
    ]
    for command in bad:
        command.header.stamp = probe.received("joint_states")[-1].header.stamp
        publisher.publish(command)
    probe.wait_until(lambda: int(latest_status(probe).get("commands_rejected_total", 0)) >= 3, 60.0,
                     "three rejections on hardware/status")
    status = latest_status(probe)
    for reason in ("length_mismatch", "unknown_joint", "non_finite"):
        assert int(status[f"commands_rejected.{reason}"]) >= 1, reason
    _, tilt = base_pose(probe)
    assert tilt < 2.0  # the last valid command stayed in force


def test_apply_wrench_moves_the_robot(sim):
    probe, _ = sim
    start, _ = base_pose(probe)
    request = ApplyWrench.Request(body=CONFIG.frames["base"], duration=0.2)
    request.wrench.force.y = 300.0
    assert probe.call(ApplyWrench, "sim/apply_wrench", request).success
    probe.wait_sim_time(0.3, 60.0)
    moved, _ = base_pose(probe)
    assert moved[1] - start[1] > 0.005
    bad = ApplyWrench.Request(body="no_such_link", duration=0.2)
    response = probe.call(ApplyWrench, "sim/apply_wrench", bad)
    assert not response.success and "no_such_link" in response.message
    assert probe.call(Trigger, "sim/reset", Trigger.Request()).success
    probe.wait_sim_time(0.5, 60.0)


def test_emergency_stop_latches_holds_and_resets(sim):
    probe, _ = sim
    height_before = base_pose(probe)[0][2]
    estop = probe.publisher(Bool, "emergency_stop", LATCHED)
    estop.publish(Bool(data=True))
    probe.wait_until(lambda: latest_status(probe).get("emergency_stop") == "True", 60.0, "e-stop on hardware/status")
    assert probe.received("hardware/status")[-1].status[0].level == b"\x02"
    probe.wait_sim_time(2.0, 120.0)
    height, tilt = base_pose(probe)[0][2], base_pose(probe)[1]
    assert height > height_before - 0.05 and tilt < 10.0, "the robot must not go limp in a protective stop"
    assert int(latest_status(probe)["commands_ignored"]) > 0  # the probe's commands were ignored
    estop.publish(Bool(data=False))
    assert probe.call(Trigger, "emergency_stop/reset", Trigger.Request()).success
    probe.wait_until(lambda: latest_status(probe).get("emergency_stop") == "False", 60.0, "e-stop cleared")


def test_watchdog_trips_and_recovers(sim):
    probe, _ = sim
    trips = int(latest_status(probe).get("watchdog_trips", 0))
    missed = int(latest_status(probe).get("tick_latency.total.missed", 0))
    probe.answering = False  # the controller goes silent: lockstep times out, the watchdog must trip
    probe.wait_until(lambda: int(latest_status(probe).get("watchdog_trips", 0)) > trips, 120.0, "a watchdog trip")
    assert latest_status(probe)["stop_reason"] == "watchdog"
    probe.wait_until(lambda: int(latest_status(probe)["tick_latency.total.missed"]) > missed, 60.0,
                     "unanswered ticks counted as missed")
    probe.answering = True
    probe.wait_until(lambda: latest_status(probe).get("protective_stop") == "False", 60.0, "recovery")
    probe.wait_sim_time(1.0, 60.0)
    assert base_pose(probe)[1] < 5.0


def test_broken_scene_file_gives_a_clear_error(tmp_path):
    scene = tmp_path / "broken_scene.yaml"
    scene.write_text("name: broken\nparts:\n  - id: p1\n    label: red_cube\n    shape: pyramid\n")
    executable = find_executable(NodeSpec("legion_sim", "sim_bridge", "sim_bridge"))
    result = subprocess.run([str(executable), "--ros-args", "-p", f"scene:={scene}"], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "broken_scene.yaml" in output and "pyramid" in output
