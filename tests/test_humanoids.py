"""The generated humanoids of legion_testing.humanoids: valid URDFs with realistic masses and sizes, every joint and
frame their robot files name, flat soles under the hips when standing, and (SPRITE) a right hand whose joints are the
left hand's mirrored in sign."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pinocchio as pin
import pytest
import yaml

from legion_testing.humanoids import GRIPPER, SPRITE, HumanoidSpec, humanoid_files, write_humanoid

ROBOTS = {
    # spec, standing height [m], total mass [kg]
    "sprite": (SPRITE, (1.25, 1.35), (30.0, 35.0)),
    "gripper": (GRIPPER, (1.55, 1.65), (45.0, 60.0)),
}


@pytest.fixture(scope="module", params=sorted(ROBOTS))
def robot(request, tmp_path_factory):
    """(spec, robot file mapping, URDF text, Pinocchio model) of one generated robot, written to a temporary folder."""
    spec = ROBOTS[request.param][0]
    path = write_humanoid(spec, tmp_path_factory.mktemp(spec.name))
    config = yaml.safe_load(path.read_text())
    urdf = (path.parent / config["urdf"]).read_text()
    return spec, config, urdf, pin.buildModelFromXML(urdf, pin.JointModelFreeFlyer())


def _all_joints(config: dict) -> list[str]:
    groups = config["joint_groups"]
    names = [name for group in ("legs", "arms") for side in ("left", "right") for name in groups[group][side]]
    names += list(groups.get("waist") or []) + list(groups.get("neck") or [])
    for hand in (config.get("hands") or {}).values():
        names += [name for joints in hand["fingers"].values() for name in joints]
    return names


def _standing_q(model: pin.Model, config: dict) -> np.ndarray:
    q = pin.neutral(model)
    for name, value in config["standing"]["joint_positions"].items():
        q[model.joints[model.getJointId(name)].idx_q] = value
    return q


def _placements(model: pin.Model, q: np.ndarray) -> pin.Data:
    data = model.createData()
    pin.framesForwardKinematics(model, data, q)
    return data


def test_files_are_written_beside_each_other(tmp_path):
    path = write_humanoid(SPRITE, tmp_path / "robots")
    assert path == tmp_path / "robots" / "sprite.yaml"
    config = yaml.safe_load(path.read_text())
    assert config["name"] == "sprite"
    assert (path.parent / config["urdf"]).is_file()
    assert config["urdf"] == "sprite.urdf"


def test_every_joint_and_frame_of_the_robot_file_is_in_the_urdf(robot):
    _, config, _, model = robot
    joints = _all_joints(config)
    assert len(joints) == len(set(joints)), "a joint is named twice"
    actuated = {model.names[i] for i in range(2, model.njoints)}
    assert set(joints) == actuated, "the robot file's joints are not exactly the URDF's movable joints"
    frames = [name for role, name in config["frames"].items() if role != "odom"]
    frames += [name for side in config["sides"].values() for name in side.values()]
    missing = [name for name in frames if not model.existFrame(name)]
    assert not missing
    assert model.frames[model.getFrameId(config["frames"]["base"])].parentJoint == 1  # the root link
    for key in ("stiffness", "damping"):
        assert all(gains[key] > 0 for gains in config["gains"].values())
    assert set(config["gains"]) == {"legs", "arms", "hands"} | {
        group for group in ("waist", "neck") if config["joint_groups"].get(group)
    }


def test_joint_limits_are_realistic(robot):
    spec, _, _, model = robot
    assert np.all(model.lowerPositionLimit[7:] < model.upperPositionLimit[7:])
    assert np.all(model.effortLimit[6:] > 0) and np.all(model.velocityLimit[6:] > 0)
    knee = model.getJointId(robot[1]["joint_groups"]["legs"]["left"][3])
    # Centurion's knee holds 300 N m at 65 kg and 1.73 m; the effort scales with mass x size.
    assert model.effortLimit[model.joints[knee].idx_v] == pytest.approx(300.0 * spec.mass_scale * spec.scale)


def test_masses_inertias_and_height(robot):
    spec, config, urdf, model = robot
    _, height_range, mass_range = ROBOTS[spec.name]
    total = sum(inertia.mass for inertia in model.inertias)
    assert mass_range[0] <= total <= mass_range[1]
    for inertia in model.inertias[1:]:
        if inertia.mass == 0.0:
            continue
        principal = np.linalg.eigvalsh(inertia.inertia)
        assert principal.min() > 0.0
        assert principal.sum() - 2.0 * principal.max() >= -1e-12  # triangle inequality
        assert inertia.mass > 1e-3

    q = _standing_q(model, config)
    data = _placements(model, q)
    ground = data.oMf[model.getFrameId(config["sides"]["left"]["sole"])].translation[2]
    geometry = pin.buildGeomFromUrdfString(model, urdf, pin.GeometryType.VISUAL)
    geometry_data = geometry.createData()
    pin.updateGeometryPlacements(model, data, geometry, geometry_data, q)
    top = -math.inf
    for item, placement in zip(geometry.geometryObjects, geometry_data.oMg, strict=True):
        if hasattr(item.geometry, "halfSide"):
            half = item.geometry.halfSide
            corners = np.array(
                [[sx * half[0], sy * half[1], sz * half[2]] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)]
            )
            top = max(top, float((corners @ placement.rotation.T)[:, 2].max() + placement.translation[2]))
    assert height_range[0] <= top - ground <= height_range[1]


def test_standing_soles_are_flat_level_and_under_the_hips(robot):
    _, config, _, model = robot
    data = _placements(model, _standing_q(model, config))
    base = data.oMf[model.getFrameId(config["frames"]["base"])]
    soles = {side: base.actInv(data.oMf[model.getFrameId(frames["sole"])]) for side, frames in config["sides"].items()}
    for side, sole in soles.items():
        np.testing.assert_allclose(sole.rotation, np.eye(3), atol=1e-9)
        hip = base.actInv(data.oMi[model.getJointId(config["joint_groups"]["legs"][side][0])]).translation
        ankle = base.actInv(data.oMf[model.getFrameId(config["sides"][side]["ankle"])]).translation
        assert ankle[:2] == pytest.approx(hip[:2], abs=1e-9)
    assert soles["left"].translation[2] == pytest.approx(soles["right"].translation[2], abs=1e-12)
    assert soles["left"].translation[1] == pytest.approx(-soles["right"].translation[1], abs=1e-12)
    # The CoM is over the support polygon (between the soles, within the sole length).
    com = base.actInv(pin.centerOfMass(model, data, _standing_q(model, config)))
    half_length = config["sole"]["length"] / 2.0
    assert abs(com[0] - soles["left"].translation[0]) < half_length
    assert abs(com[1]) < 1e-9


def test_camera_optical_frames_follow_rep_103(robot):
    _, config, _, model = robot
    data = _placements(model, _standing_q(model, config))
    camera = data.oMf[model.getFrameId(config["frames"]["camera"])].rotation
    for key in ("camera_color_optical", "camera_depth_optical"):
        optical = data.oMf[model.getFrameId(config["frames"][key])].rotation
        np.testing.assert_allclose(optical[:, 2], camera[:, 0], atol=1e-7)  # z forward
        np.testing.assert_allclose(optical[:, 0], -camera[:, 1], atol=1e-7)  # x right
        np.testing.assert_allclose(optical[:, 1], -camera[:, 2], atol=1e-7)  # y down


def test_sprite_has_no_neck_a_tilted_camera_and_its_imu_in_the_torso():
    urdf, config = humanoid_files(SPRITE)
    model = pin.buildModelFromXML(urdf, pin.JointModelFreeFlyer())
    assert "neck" not in config["joint_groups"] and "gaze" not in config["frames"]
    assert len(config["joint_groups"]["arms"]["left"]) == 7
    assert config["joint_groups"]["waist"] == ["waist_yaw", "waist_pitch"]
    imu = model.frames[model.getFrameId(config["frames"]["imu"])]
    assert model.names[imu.parentJoint] == "waist_pitch"  # moves with the torso, behind the waist joints
    data = _placements(model, _standing_q(model, config))
    forward = data.oMf[model.getFrameId(config["frames"]["camera"])].rotation[:, 0]
    assert 0.5 <= -math.asin(forward[2]) <= 0.7  # looks down 0.5-0.7 rad when standing


def test_sprite_right_hand_closes_with_negated_left_angles():
    urdf, config = humanoid_files(SPRITE)
    model = pin.buildModelFromXML(urdf, pin.JointModelFreeFlyer())
    hands = config["hands"]
    assert hands["right"]["mirror"] == {"of": "left", "sign": -1}
    left, right = hands["left"]["fingers"], hands["right"]["fingers"]
    assert {finger: len(joints) for finger, joints in left.items()} == {
        "thumb": 2,
        "index": 2,
        "middle": 2,
        "ring_little": 1,
    }
    assert {finger: len(joints) for finger, joints in right.items()} == {
        finger: len(joints) for finger, joints in left.items()
    }
    power = hands["left"]["synergies"]["power"]
    q = pin.neutral(model)
    for finger, joints in left.items():
        values = power[finger] if isinstance(power[finger], list) else [power[finger]] * len(joints)
        for left_joint, right_joint, value in zip(joints, right[finger], values, strict=True):
            i = model.joints[model.getJointId(left_joint)].idx_q
            j = model.joints[model.getJointId(right_joint)].idx_q
            assert model.lowerPositionLimit[j] == pytest.approx(-model.upperPositionLimit[i])
            q[i], q[j] = value, -value
    closed, opened = _placements(model, q), _placements(model, pin.neutral(model))
    # Negated angles give the mirror image (y -> -y about the pelvis' xz plane) of every finger joint position ...
    mirror = np.diag([1.0, -1.0, 1.0])
    for finger, joints in left.items():
        for left_joint, right_joint in zip(joints, right[finger], strict=True):
            np.testing.assert_allclose(
                closed.oMi[model.getJointId(right_joint)].translation,
                mirror @ closed.oMi[model.getJointId(left_joint)].translation,
                atol=1e-9,
            )
    # ... and each finger's last joint moves towards the grasped object (+x of the gripper frame) on both hands.
    for side, fingers in (("left", left), ("right", right)):
        frame = model.getFrameId(config["sides"][side]["gripper"])
        for joints in fingers.values():
            tip = model.getJointId(joints[-1])
            point = np.array([0.0, 0.0, -0.03])  # on the last link, 3 cm from its joint
            shut = closed.oMf[frame].actInv(closed.oMi[tip].act(point))
            apart = opened.oMf[frame].actInv(opened.oMi[tip].act(point))
            assert shut[0] > apart[0] + 0.005


def test_gripper_robot_has_vendor_names_waist_neck_and_one_jaw_per_hand():
    urdf, config = humanoid_files(GRIPPER)
    model = pin.buildModelFromXML(urdf, pin.JointModelFreeFlyer())
    groups = config["joint_groups"]
    assert groups["legs"]["left"][:3] == ["left_hip_pitch_joint", "left_hip_roll_joint", "left_hip_yaw_joint"]
    assert groups["waist"] == ["waist_yaw_joint", "waist_roll_joint", "waist_pitch_joint"]
    assert len(groups["neck"]) == 2 and len(groups["arms"]["right"]) == 6
    assert config["frames"]["base"] == "pelvis" and model.existFrame("left_ankle_roll_link")
    assert not any(name.startswith(("l_", "r_")) for name in _all_joints(config))
    assert "sensors" in config and "imu" in config["sensors"]
    synergies = config["hands"]["left"]["synergies"]
    for side in ("left", "right"):
        (jaw,) = config["hands"][side]["fingers"]["jaw"]
        jid = model.getJointId(jaw)
        q = pin.neutral(model)
        gripper_frame = model.getFrameId(config["sides"][side]["gripper"])
        gaps = []
        for value in (synergies["open"]["jaw"], synergies["power"]["jaw"]):
            q[model.joints[jid].idx_q] = value
            data = _placements(model, q)
            tip = data.oMi[jid].act(np.array([0.0, 0.0, -0.09 * GRIPPER.scale]))
            gaps.append(abs(data.oMf[gripper_frame].actInv(tip)[0]))
        assert gaps[1] < gaps[0]  # the jaw tip closes on the grasp point


def test_spec_rejects_bad_structure():
    with pytest.raises(ValueError, match="waist"):
        HumanoidSpec(name="bad", waist=("pitch", "yaw"))
    with pytest.raises(ValueError, match="hand"):
        HumanoidSpec(name="bad", hand="claw")
    with pytest.raises(ValueError, match="name"):
        HumanoidSpec(name="bad name")


def test_write_humanoid_takes_a_string_folder(tmp_path):
    assert write_humanoid(GRIPPER, str(tmp_path)) == Path(tmp_path) / "gripper.yaml"


def test_urdf_compiles_in_mujoco_with_the_same_mass(robot):
    import mujoco

    _, config, urdf, model = robot
    spec = mujoco.MjSpec.from_string(urdf)
    spec.body(config["frames"]["base"]).add_freejoint()
    compiled = spec.compile()
    assert compiled.njnt == model.njoints - 1  # the free joint and every revolute joint
    assert float(compiled.body_mass.sum()) == pytest.approx(sum(inertia.mass for inertia in model.inertias))
