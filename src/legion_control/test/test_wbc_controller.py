"""The controller core without a simulator: states, references and their rejection, failure paths, fall detection.

Every command it returns must be finite and name every body and hand joint.
"""

from __future__ import annotations

import copy
import dataclasses
import math

import numpy as np
import pinocchio as pin
import pytest

from legion_control import (
    BalanceOffset,
    BaseState,
    ControlError,
    ControllerState,
    FallResponse,
    GaitSample,
    HandTarget,
    SoleReference,
    WbcParameters,
    WholeBodyController,
)
from legion_control.grasp import GraspMode, HandCommand
from legion_control.qp_solvers import QpResult

DT = 0.002


def run(controller, standing, cycles=1, start=0.0, base=None):
    base0, names, positions, velocities = standing
    command = report = None
    for i in range(cycles):
        t = start + i * DT
        controller.set_base_state(dataclasses.replace(base or base0, time=t))
        command, report = controller.update(t, names, positions, velocities)
        assert command.is_finite()
        assert set(command.names) == set(names)
    return command, report


def sole_reference(controller, side, in_contact=True, lift=0.0):
    pose = controller.data.oMf[controller._sole_ids[side]]
    position = pose.translation + np.array([0.0, 0.0, lift])
    return SoleReference(in_contact, position, pin.SE3ToXYZQUAT(pose)[3:], np.zeros(6), np.zeros(6))


def gait_sample(controller, t, com=None, swing=None):
    soles = {side: sole_reference(controller, side, side != swing, 0.03 if side == swing else 0.0)
             for side in controller.sides}
    com = controller.data.com[0].copy() if com is None else np.asarray(com)
    return GaitSample(t, com, np.zeros(3), np.zeros(3), None, np.zeros(3), soles)


def test_without_odom_it_holds_the_standing_posture(controller, standing):
    _, names, positions, velocities = standing
    command, report = controller.update(0.0, names, positions, velocities)
    assert report.state == ControllerState.WAITING
    assert command.is_finite()
    assert np.all(command.stiffness > 0.0)
    assert "waiting for odom" in " ".join(report.warnings)


def test_standing_it_carries_the_weight_on_both_soles(controller, standing, robot):
    command, report = run(controller, standing, cycles=5)
    assert report.state == ControllerState.BALANCING and report.qp_status == "optimal"
    total = sum(w[2] for w in report.contact_forces.values())
    assert total == pytest.approx(robot.mass * 9.81, rel=0.02)
    assert report.task_errors["com"] < 1e-3
    knee = list(command.names).index(robot.config.joints("legs", "left")[3])
    assert abs(command.effort[knee]) > 1.0  # feed-forward holds the bent knee
    assert 0.0 < command.stiffness[knee] < robot.config.gains[command.names[knee]].stiffness  # moderate gains


def test_a_non_finite_joint_state_repeats_the_last_command(controller, standing):
    _, names, positions, velocities = standing
    good, _ = run(controller, standing, cycles=2)
    bad = positions.copy()
    bad[3] = np.nan
    command, report = controller.update(2 * DT, names, bad, velocities)
    assert command.is_finite()
    assert np.array_equal(command.effort, good.effort)
    assert "not finite" in " ".join(report.warnings)


def test_a_joint_state_without_a_body_joint_is_an_error(controller, standing):
    _, names, positions, velocities = standing
    with pytest.raises(ControlError, match="lacks joints"):
        controller.update(0.0, names[1:], positions[1:], velocities[1:])


def test_bad_gait_references_are_rejected_and_the_last_good_one_kept(controller, standing):
    run(controller, standing, cycles=2)
    good = [gait_sample(controller, 0.0), gait_sample(controller, 1.0)]
    controller.set_gait_reference(good)
    kept = controller.references.gait
    nan = gait_sample(controller, 0.0, com=[np.nan, 0.0, 0.9])
    far = gait_sample(controller, 0.0, com=controller.data.com[0] + [0.8, 0.0, 0.0])
    low = gait_sample(controller, 0.0, com=controller.data.com[0] - [0.0, 0.0, 0.6])
    flight = dataclasses.replace(good[0], soles={s: dataclasses.replace(r, in_contact=False)
                                                 for s, r in good[0].soles.items()})
    for samples, message in (([nan], "finite"), ([far], "unreachable"), ([low], "height"),
                             ([flight], "no sole in contact"), ([good[1], good[0]], "increase")):
        with pytest.raises(ControlError, match=message):
            controller.set_gait_reference(samples)
        assert controller.references.gait is kept
    _, report = run(controller, standing, cycles=1, start=2 * DT)
    assert any("gait/reference rejected" in w for w in report.warnings)
    controller.set_gait_reference([])
    assert controller.references.gait is None


def test_a_swing_sole_leaves_the_stance_and_gets_a_task(controller, standing):
    run(controller, standing, cycles=2)
    left = controller.data.oMf[controller._sole_ids["left"]].translation
    com_over_left = np.array([left[0], left[1], controller.data.com[0][2]])
    controller.set_gait_reference([gait_sample(controller, 0.0, com=com_over_left, swing="right")])
    _, report = run(controller, standing, cycles=1, start=2 * DT)
    assert set(report.contact_forces) == {"left"}
    assert "right_sole" in report.task_errors


def test_hand_targets_bad_unreachable_released_and_stale(controller, standing):
    run(controller, standing, cycles=2)
    gripper = controller.data.oMf[controller._gripper_ids["right"]]
    quaternion = pin.SE3ToXYZQUAT(gripper)[3:]
    good = HandTarget(0.0, gripper.translation + np.array([0.2, 0.1, 0.0]), quaternion)
    controller.set_hand_target("right", good)
    track = controller.references.hand_tracks["right"]
    with pytest.raises(ControlError, match="beyond the reach"):
        controller.set_hand_target("right", HandTarget(0.0, gripper.translation + np.array([3.0, 0.0, 0.0]),
                                                       quaternion))
    assert controller.references.hand_tracks["right"] is track and track.target is not None
    assert track.target.position == pytest.approx(good.position)
    _, report = run(controller, standing, cycles=1, start=2 * DT)
    assert "right_hand" in report.task_errors
    with pytest.raises(ControlError, match="released"):
        controller.set_hand_target("right", HandTarget(0.0, np.array([np.nan, 0.0, 1.0]), quaternion))
    assert controller.references.hand_tracks["right"] is None
    controller.set_hand_target("right", good)
    controller.set_hand_target("right", None)
    assert controller.references.hand_tracks["right"] is None
    controller.set_hand_target("left", HandTarget(0.0, good.position * [1.0, -1.0, 1.0], quaternion))
    stale_after = controller.params.hand.target_timeout + 0.1
    _, report = run(controller, standing, cycles=1, start=stale_after)
    assert controller.references.hand_tracks["left"] is None
    assert any("stale" in w for w in report.warnings)


def test_balance_offset_and_posture_are_range_checked(controller, standing):
    run(controller, standing, cycles=1)
    with pytest.raises(ControlError, match="exceeds"):
        controller.set_balance_offset(BalanceOffset(0.0, np.array([0.5, 0.0, 0.0]), np.zeros(3), np.zeros(3)))
    with pytest.raises(ControlError, match="vertical"):
        controller.set_balance_offset(BalanceOffset(0.0, np.array([0.0, 0.0, -0.5]), np.zeros(3), np.zeros(3)))
    with pytest.raises(ControlError, match="finite"):
        controller.set_balance_offset(BalanceOffset(0.0, np.array([np.inf, 0.0, 0.0]), np.zeros(3), np.zeros(3)))
    assert controller.references.offset is None
    controller.set_balance_offset(BalanceOffset(0.0, np.array([0.0, 0.05, -0.05]), np.zeros(3), np.zeros(3)))
    assert controller.references.offset is not None
    with pytest.raises(ControlError, match="unknown joint"):
        controller.set_posture_reference({"tail": 0.3})
    with pytest.raises(ControlError, match="not finite"):
        controller.set_posture_reference({controller.body_joints[0]: float("nan")})


def test_hand_commands_drive_the_hand_joints(controller, standing, robot):
    controller.set_hand_command("left", HandCommand(GraspMode.POWER, 1.0))
    command = None
    for i in range(600):
        command, _ = run(controller, standing, cycles=1, start=i * DT)
    index = {n: i for i, n in enumerate(command.names)}
    left_hand = robot.config.joints("hands", "left")
    right_hand = robot.config.joints("hands", "right")
    left_closed = np.array([command.position[index[n]] for n in left_hand])
    right_open = np.array([command.position[index[n]] for n in right_hand])
    assert np.max(left_closed) > 1.0
    assert np.allclose(right_open, robot.config.hands["right"].synergies["open"])  # the open pre-shape


def test_an_infeasible_qp_falls_back_to_the_last_torques(controller, standing, monkeypatch):
    good, _ = run(controller, standing, cycles=2)
    monkeypatch.setattr(controller.qp.solver, "solve", lambda *args: QpResult(None, False, "infeasible"))
    command, report = run(controller, standing, cycles=1, start=2 * DT)
    assert command.is_finite()
    assert np.array_equal(command.effort, good.effort)
    assert any("QP failed" in w for w in report.warnings)


def test_a_non_finite_solution_never_reaches_the_command(controller, standing, monkeypatch):
    run(controller, standing, cycles=2)
    original = controller.qp.solve

    def poisoned(*args, **kwargs):
        solution = original(*args, **kwargs)
        solution.torque[:] = np.nan
        return solution

    monkeypatch.setattr(controller.qp, "solve", poisoned)
    command, report = run(controller, standing, cycles=1, start=2 * DT)
    assert command.is_finite()
    assert any("not finite" in w for w in report.warnings)


def test_a_tilted_base_is_a_fall_with_the_fall_posture_then_recovery(controller, standing):
    base, names, positions, _ = standing
    run(controller, standing, cycles=2)
    tilt = pin.Quaternion(pin.rpy.rpyToMatrix(0.9, 0.0, 0.0))
    fallen = dataclasses.replace(base, orientation=np.array([tilt.x, tilt.y, tilt.z, tilt.w]))
    command, report = run(controller, standing, cycles=1, start=2 * DT, base=fallen)
    assert report.state == ControllerState.FALLEN and "tilt" in report.fall_reason
    assert report.fall_response == FallResponse.POSTURE
    na = controller.na
    posture = controller.config.fall_posture
    measured = np.array([positions[names.index(n)] for n in controller.body_joints])
    target = np.array([posture.joint_positions[n] for n in controller.body_joints])
    # compliant: the fall posture's gains, below the balancing command's; no feed-forward; from where it stands
    stiffness = np.array([posture.gains[n].stiffness for n in controller.body_joints])
    assert np.array_equal(command.stiffness[:na], stiffness) and np.all(stiffness > 0.0)
    assert np.all(stiffness < controller._hold_stiffness)
    assert np.all(command.damping[:na] > 0.0) and np.all(command.effort[:na] == 0.0)
    assert np.allclose(command.position[:na], measured)
    # the targets reach the fall posture within its time (the tilted base keeps the robot fallen)
    steps = int(posture.time / DT) + 2
    command, report = run(controller, standing, cycles=steps, start=3 * DT, base=fallen)
    assert report.state == ControllerState.FALLEN
    assert np.allclose(command.position[:na], target) and np.all(command.velocity[:na] == 0.0)
    knees = [controller.body_joints.index(n) for n in controller.config.joints("legs")
             if posture.joint_positions[n] > controller.config.standing[n] + 0.5]
    assert knees, "the fall posture bends some leg joint by more than 0.5 rad"
    recovery = controller.params.fall.recovery_time
    _, report = run(controller, standing, cycles=int(recovery / DT) + 5, start=(3 + steps) * DT)
    assert report.state == ControllerState.BALANCING and report.fall_response is None


def test_a_robot_without_a_fall_posture_damps_its_joints_only(robot, standing):
    bare = copy.copy(robot)
    bare.config = dataclasses.replace(robot.config, fall_posture=None)
    controller = WholeBodyController(bare, WbcParameters())
    assert controller.fall_response == FallResponse.DAMPING
    base, *_ = standing
    run(controller, standing, cycles=2)
    tilt = pin.Quaternion(pin.rpy.rpyToMatrix(0.9, 0.0, 0.0))
    fallen = dataclasses.replace(base, orientation=np.array([tilt.x, tilt.y, tilt.z, tilt.w]))
    command, report = run(controller, standing, cycles=1, start=2 * DT, base=fallen)
    assert report.state == ControllerState.FALLEN and report.fall_response == FallResponse.DAMPING
    na = controller.na
    assert np.all(command.stiffness[:na] == 0.0) and np.all(command.effort[:na] == 0.0)
    assert np.all(command.damping[:na] > 0.0)


@pytest.mark.parametrize("speed, falls", [(0.3, False), (1.5, True)])
def test_a_base_moving_sideways_fast_is_an_unavoidable_fall(controller, standing, speed, falls):
    """Over both soles, just starting to tip (0.1 rad of roll, far below the tilt criterion): only the capture point
    tells a fall that cannot be stepped out of (Centurion: 0.25 m lateral reach beyond the soles' outer edge; 1.5 m/s
    puts the capture point about 0.4 m beyond it)."""
    base, *_ = standing
    run(controller, standing, cycles=2)
    assert np.allclose(base.orientation, (0.0, 0.0, 0.0, 1.0))
    moving = dataclasses.replace(base, linear_velocity=np.array([0.0, speed, 0.0]),
                                 orientation=np.array([-math.sin(0.05), 0.0, 0.0, math.cos(0.05)]))  # towards +y
    capture_time = controller.params.fall.capture_time
    _, report = run(controller, standing, cycles=int(capture_time / DT) - 2, start=2 * DT, base=moving)
    assert report.state == ControllerState.BALANCING  # not yet sustained (or not beyond)
    assert (report.capture_point_outside > report.capture_point_reach) == falls
    assert report.capture_point_reach == pytest.approx(controller.step_reach.lateral, rel=0.05)
    _, report = run(controller, standing, cycles=10, start=capture_time, base=moving)
    assert (report.state == ControllerState.FALLEN) == falls
    if falls:
        assert "capture point" in report.fall_reason and "reach" in report.fall_reason
        assert report.fall_response == FallResponse.POSTURE


def test_reset_forgets_references(controller, standing):
    run(controller, standing, cycles=1)
    controller.set_balance_offset(BalanceOffset(0.0, np.array([0.0, 0.05, 0.0]), np.zeros(3), np.zeros(3)))
    controller.reset()
    assert controller.references.offset is None and controller.state == ControllerState.WAITING


def test_non_finite_odometry_is_ignored(controller, standing):
    base, *_ = standing
    with pytest.raises(ControlError):
        controller.set_base_state(dataclasses.replace(base, position=np.array([np.nan, 0.0, 1.0])))
    assert not controller.estimator.has_odometry


def test_other_solvers_balance_too(robot, standing):
    controller = WholeBodyController(robot, WbcParameters(), solver="proxsuite")
    _, report = run(controller, standing, cycles=3)
    assert report.qp_status == "solved" or report.qp_status == "optimal" or "solved" in report.qp_status
    total = sum(w[2] for w in report.contact_forces.values())
    assert total == pytest.approx(robot.mass * 9.81, rel=0.02)


def test_base_state_type(standing):
    base, *_ = standing
    assert isinstance(base, BaseState)


def test_the_fall_check_counts_the_planned_landing_of_a_swing_sole(controller, standing):
    run(controller, standing, cycles=2)
    soles = {side: controller.data.oMf[controller._sole_ids[side]] for side in ("right",)}
    beyond_left = controller.data.oMf[controller._sole_ids["left"]].translation[:2] + np.array([0.0, 0.02])
    # Over the left sole, 0.2 m off the right one.
    landings = controller.references.landing_poses(("right",), controller._now)
    assert controller.fall_monitor.distance_outside(controller._now, beyond_left, soles, landings) > 0.15
    controller.set_gait_reference([gait_sample(controller, 0.0, swing="left"),
                                   gait_sample(controller, 1.0)])  # the left sole lands where it stands now
    landings = controller.references.landing_poses(("right",), controller._now)
    assert set(landings) == {"left"}
    assert controller.fall_monitor.distance_outside(controller._now, beyond_left, soles, landings) < 0.0


def test_a_payload_in_the_hand_is_carried_by_the_arm_and_the_soles(controller, standing):
    command, report = run(controller, standing, cycles=30)
    before = command.effort.copy()
    load_before = sum(float(w[2]) for w in report.contact_forces.values())
    controller.set_payload("right", 2.0)
    command, report = run(controller, standing, cycles=30, start=30 * DT)
    shoulder = list(command.names).index("r_shoulder_pitch")
    assert abs(command.effort[shoulder] - before[shoulder]) > 2.0  # ~2 kg x g x 0.5 m lever
    assert sum(float(w[2]) for w in report.contact_forces.values()) == pytest.approx(load_before + 2.0 * 9.81,
                                                                                      abs=3.0)
    with pytest.raises(ControlError, match="payload must be a mass"):
        controller.set_payload("right", float("nan"))
    with pytest.raises(ControlError, match="payload must be a mass"):
        controller.set_payload("left", 500.0)
    with pytest.raises(ControlError, match="no hand on side"):
        controller.set_payload("middle", 1.0)
    controller.set_payload("right", 0.0)
    command, _ = run(controller, standing, cycles=30, start=60 * DT)
    assert abs(command.effort[shoulder] - before[shoulder]) < 0.5


def test_a_hand_target_in_base_footprint_moves_with_the_base(controller, standing):
    base0 = standing[0]
    run(controller, standing, cycles=2)
    gripper = controller.data.oMf[controller._gripper_ids["right"]]
    footprint = controller._footprint()
    local = footprint.actInv(gripper)
    target = HandTarget(0.0, local.translation + np.array([0.05, 0.0, 0.0]), pin.SE3ToXYZQUAT(local)[3:],
                        in_base_footprint=True)
    controller.set_hand_target("right", target)
    run(controller, standing, cycles=200)
    track = controller.references.hand_tracks["right"]
    before = controller._footprint()
    assert track.position == pytest.approx(before.act(target.position), abs=1e-3)
    moved = dataclasses.replace(base0, position=base0.position + np.array([0.1, 0.0, 0.0]))
    controller.set_hand_target("right", dataclasses.replace(target, time=200 * DT))
    run(controller, standing, cycles=200, start=200 * DT, base=moved)
    after = controller._footprint()
    assert after.translation[0] - before.translation[0] > 0.05  # the base estimate followed the odometry
    assert track.position == pytest.approx(after.act(target.position), abs=1e-3)  # and the hand the base
