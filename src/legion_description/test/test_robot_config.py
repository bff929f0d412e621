"""Robot configuration loader: Centurion's file reads, and broken files give errors that name file and key."""

from pathlib import Path

import pytest
import yaml

from legion_description import DescriptionError, expand_urdf, load_robot_config, robot_config_path

ROOT = Path(__file__).resolve().parents[3]


def test_centurion_config_groups_and_frames():
    config = load_robot_config("centurion")
    assert len(config.body_joints) == 30
    assert len(config.joints("legs", "left")) == 6
    assert len(config.joints("arms")) == 14
    assert len(config.joints("hands", "right")) == 22
    assert len(set(config.all_joints)) == 74
    assert config.sides["left"].sole == "l_sole"
    assert config.frames["camera_color_optical"] == "head_camera_color_optical_frame"
    assert set(config.standing) == set(config.all_joints)
    assert config.gains["l_knee"].stiffness > 0
    assert config.postures["inspect_table"]["neck_pitch"] > 0.5


def _write(tmp_path: Path, mutate) -> Path:
    data = yaml.safe_load(robot_config_path("centurion").read_text())
    mutate(data)
    path = tmp_path / "robot.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda d: d.pop("sole"), "missing key 'sole'"),
    (lambda d: d["sides"].pop("right"), "missing key 'sides.right'"),
    (lambda d: d["joint_groups"]["legs"].update(left=[]), "joint_groups.legs.left"),
    (lambda d: d["joint_groups"].update(neck=["l_knee"]), "more than one joint group"),
    (lambda d: d["standing"]["joint_positions"].update(foo=1.0), "unknown joint 'foo'"),
    (lambda d: d["gains"]["legs"].update(stiffness=-1), "gains.legs.stiffness"),
    (lambda d: d["sole"].update(width=float("nan")), "sole.width"),
    (lambda d: d["postures"].update(bow={"no_joint": 0.1}), "posture 'bow' names unknown joint 'no_joint'"),
    (lambda d: d["sensors"]["imu"].update(attitude_time_constant=-1.0), "sensors.imu.attitude_time_constant"),
    (lambda d: d["sensors"]["encoders"].update(counts=4096), "sensors.encoders.counts"),
    (lambda d: d["sensors"]["depth_camera"].update(min_range=20.0), "sensors.depth_camera"),
])
def test_broken_config_is_named(tmp_path, mutate, message):
    path = _write(tmp_path, mutate)
    with pytest.raises(DescriptionError, match=message) as error:
        load_robot_config(path=path)
    assert str(path) in str(error.value)


def test_not_yaml(tmp_path):
    path = tmp_path / "robot.yaml"
    path.write_text("name: [unclosed\n")
    with pytest.raises(DescriptionError, match="not valid YAML"):
        load_robot_config(path=path)


def test_unknown_robot_and_bad_name():
    with pytest.raises(DescriptionError, match=r"no robot configuration for robot 'nobody'"):
        load_robot_config("nobody")
    with pytest.raises(DescriptionError, match="invalid robot name"):
        load_robot_config("../etc")


def test_broken_xacro_is_named(tmp_path):
    path = tmp_path / "broken.urdf.xacro"
    path.write_text('<robot name="x" xmlns:xacro="http://www.ros.org/wiki/xacro"><xacro:nope/></robot>')
    with pytest.raises(DescriptionError, match=r"broken\.urdf\.xacro does not expand"):
        expand_urdf(path=path)
