"""Standing configuration: both soles flat on the ground at z = 0, centred on the origin, CoM over the support."""

from __future__ import annotations

import dataclasses

import numpy as np
import pinocchio as pin
import pytest

from legion_model import ModelError, RobotModel

SIDES = ("left", "right")


def test_standing_configuration_puts_both_soles_flat_on_the_ground(robot: RobotModel) -> None:
    q = robot.standing_configuration()
    assert robot.joint_positions_from_q(q) == {name: robot.config.standing[name] for name in robot.joint_names}
    np.testing.assert_allclose(np.linalg.norm(q[3:7]), 1.0, atol=1e-12)
    robot.update(q)
    soles = [robot.transform_sole_to_world(side) for side in SIDES]
    for sole in soles:
        np.testing.assert_allclose(sole.rotation[:, 2], [0.0, 0.0, 1.0], atol=1e-9)  # flat
        assert abs(sole.translation[2]) < 1e-9  # on the ground
    np.testing.assert_allclose(0.5 * (soles[0].translation + soles[1].translation), 0.0, atol=1e-9)
    # The left sole is on the left of the base heading.
    base = robot.transform_base_to_world()
    assert base.actInv(soles[0].translation)[1] > base.actInv(soles[1].translation)[1]
    # The base is above the soles and its heading is kept (no yaw).
    assert base.translation[2] > 0.2
    assert abs(base.rotation[1, 0]) < 1e-9


def test_standing_com_is_over_the_support_polygon(robot: RobotModel) -> None:
    robot.update(robot.standing_configuration())
    polygon = robot.support_polygon()
    com = robot.com_position()
    assert polygon.contains(com, margin=0.01), f"CoM {com[:2]} not 1 cm inside {polygon.vertices}"
    assert not polygon.contains(com + np.array([robot.config.sole_length, 0.0, 0.0]))
    single_support = robot.support_polygon(["left"])
    np.testing.assert_allclose(single_support.area, robot.config.sole_length * robot.config.sole_width, rtol=1e-9)
    assert single_support.contains(robot.transform_sole_to_world("left").translation, margin=0.03)


def test_standing_configuration_is_level_whatever_the_pelvis_pitch(whole_robot: RobotModel) -> None:
    """A posture whose leg pitches do not add up to zero (hips flexed more) leans the pelvis, not the soles.

    Hip yaw and roll are zeroed: with the feet turned out, a lean would tilt the soles apart and could not stand.
    """
    config = whole_robot.config
    standing = dict(config.standing)
    for side in SIDES:
        pitch = _pitch_joints(whole_robot, side)
        standing |= {name: 0.0 for name in config.joints("legs", side) if name not in pitch}
        standing[pitch[0]] -= 0.2
    leaning = RobotModel(dataclasses.replace(config, standing=standing), whole_robot.full_model)
    leaning.update(leaning.standing_configuration())
    for side in SIDES:
        sole = leaning.transform_sole_to_world(side)
        np.testing.assert_allclose(sole.rotation[:, 2], [0.0, 0.0, 1.0], atol=1e-9)
        assert abs(sole.translation[2]) < 1e-9
    pelvis_tilt = pin.log3(leaning.transform_base_to_world().rotation)
    assert abs(pelvis_tilt[1]) > 0.15  # the pelvis leans, the feet do not


def test_standing_posture_that_cannot_stand_raises_model_error(whole_robot: RobotModel) -> None:
    config = whole_robot.config
    _, knee, _ = _pitch_joints(whole_robot, "left")
    bent = dict(config.standing) | {knee: config.standing[knee] + 0.3}
    with pytest.raises(ModelError, match="standing posture"):
        RobotModel(dataclasses.replace(config, standing=bent), whole_robot.full_model).standing_configuration()


def _pitch_joints(robot: RobotModel, side: str) -> tuple[str, str, str]:
    """Hip pitch, knee and ankle pitch of a leg: its joints turning about the world y axis at the neutral posture."""
    data = robot.model.createData()
    pin.computeJointJacobians(robot.model, data, robot.neutral_configuration())
    legs = robot.config.joints("legs", side)
    pitch = [name for name in legs if abs(data.J[4, robot.v_index[name]]) > 0.9]  # WORLD: rows 3:6 are the axis
    assert len(pitch) == 3, f"expected hip pitch, knee and ankle pitch about y among {legs}, found {pitch}"
    return pitch[0], pitch[1], pitch[2]
