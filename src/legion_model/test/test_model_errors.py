"""A URDF that does not match the robot configuration, or a bad request, fails early with a ModelError that says
which joint, frame or file is at fault."""

from __future__ import annotations

import dataclasses

import pytest

from legion_description import load_robot_config
from legion_model import ModelError, RobotModel
from legion_model.testing import GeneratedRobot, generated_humanoid_urdf


@pytest.fixture
def parts(generated_robot: GeneratedRobot):
    return load_robot_config(path=generated_robot.config_path), generated_humanoid_urdf(generated_robot.name)


def test_generated_files_build(parts) -> None:
    config, urdf = parts
    assert RobotModel.from_config(config, urdf).na == len(config.all_joints)


def test_urdf_missing_a_configured_joint(parts) -> None:
    config, urdf = parts
    renamed = urdf.replace('name="left_knee_joint"', 'name="left_knee"')
    with pytest.raises(ModelError, match=r"no joints \['left_knee_joint'\]"):
        RobotModel.from_config(config, renamed)


def test_urdf_missing_a_configured_frame(parts) -> None:
    config, urdf = parts
    renamed = urdf.replace('"right_foot_sole"', '"right_sole_plate"')
    with pytest.raises(ModelError, match=r"sides.right.sole: 'right_foot_sole'"):
        RobotModel.from_config(config, renamed)
    with pytest.raises(ModelError, match=r"frames.torso: 'torso'"):
        RobotModel.from_config(dataclasses.replace(config, frames=config.frames | {"torso": "torso"}), urdf)


def test_base_frame_must_be_the_root_link(parts) -> None:
    config, urdf = parts
    with pytest.raises(ModelError, match="root link"):
        RobotModel.from_config(dataclasses.replace(config, frames=config.frames | {"base": "chest"}), urdf)


def test_unsupported_joint_type(parts) -> None:
    config, urdf = parts
    continuous = urdf.replace('<joint name="torso_twist_joint" type="revolute">',
                              '<joint name="torso_twist_joint" type="continuous">')
    assert continuous != urdf
    with pytest.raises(ModelError, match="torso_twist_joint"):
        RobotModel.from_config(config, continuous)


def test_urdf_that_does_not_parse(parts) -> None:
    config, urdf = parts
    with pytest.raises(ModelError, match="does not parse"):
        RobotModel.from_config(config, urdf[: len(urdf) // 2])


def test_bad_locks(parts) -> None:
    config, urdf = parts
    with pytest.raises(ModelError, match="cannot lock unknown joints"):
        RobotModel.from_config(config, urdf, locked_joints=["left_tail_joint"])
    with pytest.raises(ModelError, match="finite"):
        RobotModel.from_config(config, urdf, locked_joints={"left_thumb_joint": float("nan")})


def test_missing_files(generated_robot: GeneratedRobot, tmp_path) -> None:
    with pytest.raises(ModelError, match=r"does not exist|cannot read"):
        RobotModel.load("pico", config_path=tmp_path / "nowhere.yaml")
    with pytest.raises(ModelError, match="does not exist"):
        RobotModel.load("pico", config_path=generated_robot.config_path, urdf_path=tmp_path / "nowhere.urdf")
    with pytest.raises(ModelError, match="no robot configuration"):
        RobotModel.load("no_such_robot")
