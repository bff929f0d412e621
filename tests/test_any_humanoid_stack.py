"""Any humanoid by configuration: the whole stack, unchanged, on two generated humanoids that differ from Centurion.

`legion_testing.humanoids` writes each robot's URDF and robot file into a temporary directory; the stack is launched
with `robot:=<that robot file>` (lockstep, empty scene, camera off), exactly as a user brings up a vendor humanoid.
On each robot the test waits for it to stand balanced, closes each hand with its `power` synergy, then walks 3 m with
`walk_to`, hands closed:

- SPRITE: 1.3 m, 33 kg, no neck, IMU in the torso behind the waist joints, 7-joint hands whose right joints close with
  the opposite sign (`mirror: sign: -1`), ideal sensors, every walking dimension derived from the model;
- GRIPPER: 1.6 m, 54 kg, vendor-style joint and link names, 3-joint waist, 6-joint arms, 1-DoF grippers, the sensor
  errors of Centurion's file, some walking dimensions set in its file.

Assertions use the simulator's ground truth (`ground_truth/odom`), which no node of the stack reads.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from diagnostic_msgs.msg import DiagnosticArray
from nav_msgs.msg import Odometry
from rclpy.action import ActionClient
from sensor_msgs.msg import JointState

from legion_bringup.launcher import LaunchedNodes
from legion_common.messages import xyzw
from legion_common.transforms import tilt_from_quaternion, yaw_from_quaternion
from legion_description import load_robot
from legion_interfaces.action import WalkTo
from legion_interfaces.msg import HandCommand
from legion_testing.humanoids import GRIPPER, SPRITE, HumanoidSpec, write_humanoid
from legion_testing.probe import Probe

pytestmark = pytest.mark.stack

STARTUP = 150.0
"""[s] wall: model builds, DDS discovery, first balanced cycles."""
WALL_PER_SIM_SECOND = 12.0
"""[s] wall allowed per second of simulated time (lockstep on a loaded 2-core machine)."""
HAND_TOLERANCE = 0.1
"""[rad] a closed hand's joints are this close to the power synergy (clamped into the joint limits)."""


def base(probe: Probe) -> tuple[np.ndarray, float, float]:
    """Ground-truth base (x, y), height [m] and tilt [rad]."""
    pose = probe.received("ground_truth/odom")[-1].pose.pose
    return (np.array([pose.position.x, pose.position.y]), pose.position.z,
            tilt_from_quaternion(xyzw(pose.orientation)))


def joint_limits(urdf: str) -> dict[str, tuple[float, float]]:
    """Joint name -> (lower, upper) [rad] of the URDF's limited joints."""
    limits = {}
    for joint in ET.fromstring(urdf).iter("joint"):
        limit = joint.find("limit")
        if limit is not None and joint.get("type") in ("revolute", "prismatic"):
            limits[joint.get("name")] = (float(limit.get("lower")), float(limit.get("upper")))
    return limits


def hand_positions(probe: Probe, names: tuple[str, ...]) -> np.ndarray:
    msg = probe.received("joint_states/decimated")[-1]
    index = {name: i for i, name in enumerate(msg.name)}
    return np.array([msg.position[index[name]] for name in names])


@pytest.mark.parametrize("spec", [SPRITE, GRIPPER], ids=lambda spec: spec.name)
def test_the_stack_stands_closes_each_hand_and_walks_3_m(spec: HumanoidSpec, tmp_path) -> None:
    robot_file = write_humanoid(spec, tmp_path)
    config, urdf = load_robot(str(robot_file))
    launched = LaunchedNodes("stack", {"robot": str(robot_file), "scene": "empty", "lockstep": "true"}, echo=False,
                             extra_parameters={"sim_bridge": {"camera_rate": 0.0},
                             # no camera, no people sensing: the safety node assumes nobody is near
                             "safety": {"zones.people_required": False}})
    probe = Probe(f"any_humanoid_{spec.name}_probe")
    try:
        probe.record("diagnostics", DiagnosticArray)
        probe.record("ground_truth/odom", Odometry)
        probe.record("joint_states/decimated", JointState)
        probe.wait_until(lambda: probe.diagnostic("whole_body_controller").get("state") == "balancing", STARTUP,
                         f"{spec.name}: the whole-body controller to balance")
        probe.wait_until(lambda: probe.diagnostic("gait_planner").get("phase") == "standing", STARTUP,
                         f"{spec.name}: the gait planner")
        probe.wait_sim_time(1.0, WALL_PER_SIM_SECOND * 2, topic="ground_truth/odom")
        start, standing_height, tilt = base(probe)
        assert tilt < 0.1, f"{spec.name} stands tilted {tilt:.2f} rad"

        def upright() -> bool:
            _, height, tilt = base(probe)
            return height > 0.8 * standing_height and tilt < 0.3

        # Each hand closes with its own power synergy (SPRITE's right hand with negated values).
        limits = joint_limits(urdf)
        for side, hand in config.hands.items():
            publisher = probe.publisher(HandCommand, f"{side}_hand/command")
            command = HandCommand()
            command.mode, command.closure = HandCommand.POWER, 1.0
            wanted = np.clip(hand.synergies["power"], [limits[n][0] for n in hand.joints],
                             [limits[n][1] for n in hand.joints])
            opened = np.array(hand.synergies["open"])

            def closed(publisher=publisher, command=command, hand=hand, wanted=wanted) -> bool:
                publisher.publish(command)
                return bool(np.all(np.abs(hand_positions(probe, hand.joints) - wanted) < HAND_TOLERANCE))

            probe.wait_until(closed, WALL_PER_SIM_SECOND * 3, f"{spec.name}: the {side} hand to close")
            moved = np.abs(hand_positions(probe, hand.joints) - opened)
            assert np.max(moved) > 0.5, f"{spec.name}: the {side} hand hardly moved ({np.max(moved):.2f} rad)"
            print(f"{spec.name} {side} hand closed: {np.round(hand_positions(probe, hand.joints), 2).tolist()}")
        assert upright()

        # walk_to 3 m straight ahead, hands closed
        client = ActionClient(probe.node, WalkTo, "walk_to")
        assert client.wait_for_server(timeout_sec=60.0)
        heading = yaw_from_quaternion(xyzw(probe.received("ground_truth/odom")[-1].pose.pose.orientation))
        goal_xy = start + 3.0 * np.array([math.cos(heading), math.sin(heading)])
        goal = WalkTo.Goal()
        goal.target.header.frame_id = config.frames["odom"]
        goal.target.pose.position.x, goal.target.pose.position.y = goal_xy
        goal.target.pose.orientation.z, goal.target.pose.orientation.w = math.sin(heading / 2), math.cos(heading / 2)
        sent = client.send_goal_async(goal)
        probe.wait_until(sent.done, 60.0, "the goal response")
        assert sent.result().accepted
        result = sent.result().get_result_async()
        probe.wait_until(lambda: result.done() or not upright(), WALL_PER_SIM_SECOND * 30,
                         f"{spec.name}: walk_to to finish")
        assert upright(), f"{spec.name} fell while walking"
        answer = result.result().result
        assert answer.success, answer.message
        final, _, _ = base(probe)
        walked = float(np.linalg.norm(final - start))
        error = float(np.linalg.norm(final - goal_xy))
        print(f"{spec.name}: walked {walked:.2f} m, {error * 100:.1f} cm from the goal")
        assert walked > 2.9 and error < 0.1
    finally:
        probe.close()
        launched.shutdown()
