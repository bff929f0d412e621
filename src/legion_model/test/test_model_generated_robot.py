"""The generated humanoid really is another robot: every other test runs on it through the same code as Centurion."""

from __future__ import annotations

from legion_description import load_robot_config
from legion_model import RobotModel
from legion_model.testing import GeneratedRobot


def test_generated_robot_shares_no_names_or_shape_with_centurion(generated_robot: GeneratedRobot) -> None:
    pico = load_robot_config(path=generated_robot.config_path)
    centurion = load_robot_config("centurion")
    assert not set(pico.all_joints) & set(centurion.all_joints)
    pico_frames = set(pico.frames.values()) - {"odom"} | {getattr(s, r) for s in pico.sides.values()
                                                            for r in ("ankle", "sole", "wrist", "gripper")}
    centurion_frames = set(centurion.frames.values()) | {getattr(s, r) for s in centurion.sides.values()
                                                         for r in ("ankle", "sole", "wrist", "gripper")}
    assert not pico_frames & centurion_frames
    assert len(pico.joints("hands", "left")) == 2 != len(centurion.joints("hands", "left"))
    assert len(pico.body_joints) != len(centurion.body_joints)
    assert pico.sole_length != centurion.sole_length


def test_generated_robot_loads_by_configuration_path(generated_robot: GeneratedRobot) -> None:
    robot = RobotModel.load(generated_robot.name, config_path=generated_robot.config_path, lock_hands=True)
    assert robot.config.name == "pico"
    assert dict(robot.locked_joints) == {"left_thumb_joint": 0.0, "left_fingers_joint": 0.3,
                                         "right_thumb_joint": 0.0, "right_fingers_joint": 0.3}
    assert robot.na == 20
