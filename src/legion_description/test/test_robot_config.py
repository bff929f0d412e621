"""Robot configuration loader: Centurion's file reads, and broken files give errors that name file and key."""

from pathlib import Path

import pytest
import yaml

from legion_description import (
    DescriptionError,
    check_against_urdf,
    expand_urdf,
    load_robot,
    load_robot_config,
    robot_config_path,
    robot_files,
)

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
    (lambda d: d["joint_groups"].update(tail=["x"]), "unknown group"),
    (lambda d: d["hands"]["left"]["synergies"]["power"].update(thumb=[1.0, 0.5]),
     r"hands\.left\.synergies\.power\.thumb' has 2 values but the finger has 5 joints"),
    (lambda d: d["hands"]["left"]["synergies"]["power"].update(pinky=1.0), "unknown finger"),
    (lambda d: d["hands"]["left"]["synergies"].pop("open"), r"missing key 'hands\.left\.synergies\.open'"),
    (lambda d: d["hands"]["right"].update(mirror={"of": "right"}), r"hands\.right\.mirror\.of"),
    (lambda d: d["hands"]["right"].update(mirror={"of": "left", "sign": 2}), "must be 1 or -1"),
    (lambda d: d["hands"]["right"]["fingers"].pop("little"), "fingers and joint counts"),
    (lambda d: d["gains"].update(tail={"stiffness": 1.0, "damping": 1.0}), "does not have"),
    (lambda d: d["walking"].update(com_height=-0.9), r"walking\.com_height"),
    (lambda d: d["walking"].update(stride=0.3), "unknown key"),
    (lambda d: d["standing"]["joint_positions"].update(foo=1.0), "unknown joint 'foo'"),
    (lambda d: d["gains"]["legs"].update(stiffness=-1), "gains.legs.stiffness"),
    (lambda d: d["sole"].update(width=float("nan")), "sole.width"),
    (lambda d: d["postures"].update(bow={"no_joint": 0.1}), "posture 'bow' names unknown joint 'no_joint'"),
    (lambda d: d["sensors"]["imu"].update(attitude_time_constant=-1.0), "sensors.imu.attitude_time_constant"),
    (lambda d: d["sensors"]["encoders"].update(counts=4096), "sensors.encoders.counts"),
    (lambda d: d["sensors"]["depth_camera"].update(min_range=20.0), "sensors.depth_camera"),
    (lambda d: d["fall"]["joint_positions"].update(l_thumb_ip=0.5), r"'fall\.joint_positions' names 'l_thumb_ip', "
                                                                     "which is not a body joint"),
    (lambda d: d["fall"]["gains"].pop("neck"), r"'fall\.gains' must give stiffness and damping for each"),
    (lambda d: d["fall"]["gains"]["arms"].update(damping=0.0), r"fall\.gains\.arms\.damping"),
    (lambda d: d["fall"].update(time=-0.3), r"fall\.time"),
    (lambda d: d["fall"].pop("joint_positions"), r"missing key 'fall\.joint_positions'"),
    (lambda d: d["fall"].update(speed=1.0), r"'fall' has unknown key"),
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
    with pytest.raises(DescriptionError, match=r"no robot configuration for robot 'nobody'.*LEGION_ROBOT_PATH"):
        load_robot_config("nobody")
    with pytest.raises(DescriptionError, match="invalid robot name"):
        load_robot_config("no body")
    with pytest.raises(DescriptionError, match=r"robot file \.\./etc\.yaml does not exist"):
        load_robot_config("../etc.yaml")


def test_broken_xacro_is_named(tmp_path):
    path = tmp_path / "broken.urdf.xacro"
    path.write_text('<robot name="x" xmlns:xacro="http://www.ros.org/wiki/xacro"><xacro:nope/></robot>')
    with pytest.raises(DescriptionError, match=r"broken\.urdf\.xacro does not expand"):
        expand_urdf(path=path)


def test_optional_groups_may_be_left_out(tmp_path):
    def no_neck_waist_hands(data):
        for group in ("neck", "waist"):
            data["joint_groups"].pop(group)
            data["gains"].pop(group)
        data.pop("hands")
        data["gains"].pop("hands")
        data["postures"].pop("inspect_table")
        data["postures"].pop("inspect_bin")
        for name in ("neck_pitch", "waist_pitch"):
            data["fall"]["joint_positions"].pop(name)
        for group in ("neck", "waist"):
            data["fall"]["gains"].pop(group)
    config = load_robot_config(path=_write(tmp_path, no_neck_waist_hands))
    assert config.joints("neck") == config.joints("waist") == config.joints("hands", "left") == ()
    assert not config.has_group("neck") and config.has_group("legs")
    assert len(config.all_joints) == 26 and config.hands == {}
    assert set(config.fall_posture.joint_positions) == set(config.body_joints)


def test_the_fall_posture_is_optional_and_fills_in_the_standing_posture(tmp_path):
    config = load_robot_config("centurion")
    fall = config.fall_posture
    assert set(fall.joint_positions) == set(fall.gains) == set(config.body_joints)
    assert fall.joint_positions["l_knee"] > config.standing["l_knee"] + 0.5  # knees bent
    assert fall.joint_positions["l_hip_yaw"] == config.standing["l_hip_yaw"]  # not named: standing
    assert all(fall.gains[n].stiffness < config.gains[n].stiffness for n in config.body_joints)  # compliant
    assert load_robot_config(path=_write(tmp_path, lambda d: d.pop("fall"))).fall_posture is None


def test_synergies_mirror_with_a_sign_per_joint(tmp_path):
    def negate_thumb(data):
        data["hands"]["right"]["mirror"]["sign"] = {"thumb": [1, -1, 1, 1, 1], "index": -1}
        data["hands"]["left"]["synergies"]["tripod"] = {"thumb": 0.5}
    config = load_robot_config(path=_write(tmp_path, negate_thumb))
    left, right = config.hands["left"], config.hands["right"]

    def finger(hand, synergy, name):
        values = dict(zip(hand.joints, hand.synergies[synergy], strict=True))
        return tuple(values[joint] for joint in hand.fingers[name])
    assert finger(right, "power", "thumb") == (1.0, -0.6, 0.4, 0.6, 0.8)
    assert finger(right, "power", "index") == (-0.0, -1.3, -1.4, -1.0)
    assert finger(right, "power", "little") == finger(left, "power", "little")
    assert finger(left, "tripod", "thumb") == (0.5,) * 5
    assert finger(left, "tripod", "index") == finger(left, "open", "index")  # fingers it leaves out stay open
    assert config.hands["left"].synergies["pinch"] != config.hands["left"].synergies["power"]


def test_a_gripper_without_pinch_closes_with_power(tmp_path):
    def grippers(data):
        data["hands"] = {"left": {"fingers": {"jaw": ["l_index_mcp_flex"]},
                                  "synergies": {"open": {"jaw": 0.0}, "power": {"jaw": 1.2}}},
                         "right": {"fingers": {"jaw": ["r_index_mcp_flex"]}, "mirror": {"of": "left", "sign": 1}}}
    config = load_robot_config(path=_write(tmp_path, grippers))
    assert config.hands["right"].synergies == {"open": (0.0,), "power": (1.2,), "pinch": (1.2,)}
    assert config.joints("hands") == ("l_index_mcp_flex", "r_index_mcp_flex")


def test_robot_by_path_and_by_search_path(tmp_path, monkeypatch):
    data = yaml.safe_load(robot_config_path("centurion").read_text())
    data["name"] = "twin"
    data["urdf"] = str(robot_files("centurion").urdf_path)
    (tmp_path / "twin.yaml").write_text(yaml.safe_dump(data))
    assert robot_files(str(tmp_path / "twin.yaml")).name == "twin"
    monkeypatch.setenv("LEGION_ROBOT_PATH", str(tmp_path))
    files = robot_files("twin")
    assert files.config_path == tmp_path / "twin.yaml" and files.urdf_path.name == "centurion.urdf.xacro"
    config, urdf = load_robot("twin")
    assert config.name == "twin" and "l_thumb_ip" in urdf


def _checked(tmp_path: Path, mutate) -> None:
    config = load_robot_config(path=_write(tmp_path, mutate))
    check_against_urdf(config, expand_urdf("centurion"), urdf_name="centurion.urdf")


def test_centurion_fits_its_urdf():
    config, _ = load_robot("centurion")
    assert config.name == "centurion"


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda d: d["joint_groups"]["legs"]["left"].__setitem__(0, "l_hip_twist"),
     r"'joint_groups\.legs\.left' names joint 'l_hip_twist', which centurion\.urdf does not have"),
    (lambda d: d["sides"]["left"].update(sole="l_foot_sole"), r"'sides\.left\.sole' names frame 'l_foot_sole'"),
    (lambda d: d["frames"].update(imu="imu_frame"), r"'frames\.imu' names frame 'imu_frame'"),
    (lambda d: (d["joint_groups"]["legs"]["left"].__setitem__(5, "r_ankle_roll"),
                d["joint_groups"]["legs"]["right"].__setitem__(5, "l_ankle_roll")),
     r"'joint_groups\.legs\.(left|right)' must be the joints between the base"),
    (lambda d: d["joint_groups"]["arms"]["left"].pop(), r"'joint_groups\.arms\.left' must be the joints"),
    (lambda d: d["hands"]["left"]["fingers"].update(thumb=["r_thumb_cmc_rot", "r_thumb_cmc_abd", "r_thumb_cmc_flex",
                                                           "r_thumb_mcp", "r_thumb_ip"]),
     "more than one joint group"),
    (lambda d: d["standing"]["joint_positions"].update(l_knee=3.5), r"'standing\.joint_positions\.l_knee' puts"),
    (lambda d: d["hands"]["right"]["mirror"].update(sign=-1),
     r"'hands\.right synergy '(open|power|pinch)'' puts joint"),
    (lambda d: (d["joint_groups"].update(neck=["neck_yaw"]), d["gains"].update(neck={"stiffness": 1, "damping": 1}),
                d["postures"].update(inspect_table={"neck_yaw": 0.3}, inspect_bin={"neck_yaw": 0.3}),
                d["fall"]["joint_positions"].pop("neck_pitch")),
     r"'joint_groups\.neck' must be the joints"),
    (lambda d: d["fall"]["joint_positions"].update(l_knee=-0.5), r"'fall\.joint_positions\.l_knee' puts joint"),
])
def test_robot_file_that_does_not_fit_its_urdf_is_named(tmp_path, mutate, message):
    with pytest.raises(DescriptionError, match=message) as error:
        _checked(tmp_path, mutate)
    assert str(tmp_path / "robot.yaml") in str(error.value)
