"""Tests of the Centurion robot description (urdf/centurion.urdf.xacro) against config/robots/centurion.yaml.

No ROS needed: the xacro is expanded with the `xacro` Python module, kinematics and dynamics come from Pinocchio
directly, and MuJoCo checks that the URDF compiles and has no self-collision in the reference postures.
World frame in these tests: base_link at the identity (x forward, y left, z up).
"""

import math
import xml.etree.ElementTree as ET
from pathlib import Path

import mujoco
import numpy as np
import pinocchio as pin
import pytest
import xacro
import yaml
from scipy.spatial import ConvexHull

REPO_ROOT = Path(__file__).resolve().parents[3]
XACRO_PATH = REPO_ROOT / "urdf" / "centurion.urdf.xacro"
CONFIG_PATH = REPO_ROOT / "config" / "robots" / "centurion.yaml"
CONTROLLERS_FILE = "/opt/legion/gazebo_controllers.yaml"  # only copied into the URDF, never read

MIRROR_Y = np.diag([1.0, -1.0, 1.0])

# Peak torque [N m] allowed for each actuator class, keyed by the joint name without its side prefix.
EFFORT_CLASSES = {
    ("hip_yaw", "hip_roll", "hip_pitch", "knee"): (150.0, 300.0),
    ("ankle_pitch", "ankle_roll"): (100.0, 150.0),
    ("waist_yaw", "waist_pitch"): (100.0, 200.0),
    ("shoulder_pitch", "shoulder_roll", "shoulder_yaw"): (60.0, 100.0),
    ("elbow",): (50.0, 60.0),
    ("wrist_yaw", "wrist_pitch", "wrist_roll"): (10.0, 20.0),
    ("neck_yaw", "neck_pitch"): (10.0, 20.0),
}
FINGER_EFFORT = (0.5, 3.0)  # [N m]


# ------------------------------------------------------------------------------------------------ helpers


def expand(**mappings: str) -> str:
    """Expanded URDF text of the Centurion xacro with the given xacro arguments."""
    return xacro.process_file(str(XACRO_PATH), mappings=mappings).toxml()


def unsided(joint_name: str) -> str:
    """Joint name without its `l_`/`r_` side prefix."""
    return joint_name[2:] if joint_name[:2] in ("l_", "r_") else joint_name


def flatten(group) -> list[str]:
    """All joint names of a (possibly nested) joint group of the robot config."""
    if isinstance(group, dict):
        return [name for sub in group.values() for name in flatten(sub)]
    return list(group)


def mirror_sign(joint_name: str) -> float:
    """Value of the right joint that mirrors a left joint value of +1.

    Legs and arms use the same axes on both sides (pitch +y, roll +x, yaw +z), so mirrored roll and yaw angles
    change sign; the hands are mirror images with mirrored axes, so their joint values are equal.
    """
    name = unsided(joint_name)
    is_body = any(name in names for names in EFFORT_CLASSES)
    return -1.0 if is_body and ("roll" in name or "yaw" in name) else 1.0


def configuration(model: pin.Model, joint_positions: dict[str, float]) -> np.ndarray:
    """Configuration with base_link at the identity and the named joints [rad] set, all others at zero."""
    q = pin.neutral(model)
    for name, value in joint_positions.items():
        q[model.joints[model.getJointId(name)].idx_q] = value
    return q


def frame_placements(model: pin.Model, q: np.ndarray) -> pin.Data:
    data = model.createData()
    pin.forwardKinematics(model, data, q)
    pin.updateFramePlacements(model, data)
    return data


def frame_to_world(model: pin.Model, data: pin.Data, name: str) -> pin.SE3:
    assert model.existFrame(name), name
    return data.oMf[model.getFrameId(name)]


def origin_to_se3(origin: ET.Element | None) -> pin.SE3:
    """Placement given by a URDF <origin> element (identity if absent)."""
    if origin is None:
        return pin.SE3.Identity()
    xyz = np.array([float(v) for v in origin.get("xyz", "0 0 0").split()])
    rpy = np.array([float(v) for v in origin.get("rpy", "0 0 0").split()])
    return pin.SE3(pin.rpy.rpyToMatrix(rpy), xyz)


def geometry_z_extent(geometry: ET.Element, placement: pin.SE3) -> tuple[float, float]:
    """Lowest and highest world z [m] of a URDF box, cylinder or sphere placed at `placement`."""
    shape = geometry[0]
    rot, centre_z = placement.rotation, placement.translation[2]
    if shape.tag == "box":
        half = np.array([float(v) for v in shape.get("size").split()]) / 2.0
        reach = float(np.abs(rot[2, :]) @ half)
    elif shape.tag == "cylinder":
        cos_axis = abs(rot[2, 2])
        reach = float(shape.get("length")) / 2.0 * cos_axis + float(shape.get("radius")) * math.sqrt(
            max(0.0, 1.0 - cos_axis**2)
        )
    elif shape.tag == "sphere":
        reach = float(shape.get("radius"))
    else:
        raise AssertionError(f"unexpected geometry {shape.tag}")
    return centre_z - reach, centre_z + reach


def inertia_matrix(inertia: ET.Element) -> np.ndarray:
    i = {k: float(inertia.get(k)) for k in ("ixx", "ixy", "ixz", "iyy", "iyz", "izz")}
    return np.array([[i["ixx"], i["ixy"], i["ixz"]], [i["ixy"], i["iyy"], i["iyz"]], [i["ixz"], i["iyz"], i["izz"]]])


def assert_physical_inertia(matrix: np.ndarray, what: str) -> None:
    """Positive definite and principal moments satisfying the triangle inequality."""
    assert np.allclose(matrix, matrix.T), what
    moments = np.sort(np.linalg.eigvalsh(matrix))
    assert moments[0] > 0.0, f"{what}: not positive definite {moments}"
    assert moments[0] + moments[1] >= moments[2] * (1.0 - 1e-9), f"{what}: triangle inequality {moments}"


# ------------------------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def config() -> dict:
    return yaml.safe_load(CONFIG_PATH.read_text())


@pytest.fixture(scope="module")
def urdf() -> str:
    return expand()


@pytest.fixture(scope="module")
def gazebo_urdf() -> str:
    return expand(use_gazebo="true", controllers_file=CONTROLLERS_FILE)


@pytest.fixture(scope="module")
def root(urdf) -> ET.Element:
    return ET.fromstring(urdf)


@pytest.fixture(scope="module")
def model(urdf) -> pin.Model:
    return pin.buildModelFromXML(urdf, pin.JointModelFreeFlyer())


@pytest.fixture(scope="module")
def standing_q(model, config) -> np.ndarray:
    return configuration(model, config["standing"]["joint_positions"])


@pytest.fixture(scope="module")
def standing(model, standing_q) -> pin.Data:
    return frame_placements(model, standing_q)


@pytest.fixture(scope="module")
def actuated_joints(root) -> dict[str, ET.Element]:
    return {j.get("name"): j for j in root.iter("joint") if j.get("type") != "fixed"}


# ------------------------------------------------------------------------------------------------ expansion


def test_plain_expansion_needs_no_ros(monkeypatch):
    monkeypatch.delenv("AMENT_PREFIX_PATH", raising=False)
    root = ET.fromstring(expand())
    assert root.tag == "robot" and root.get("name") == "centurion"
    assert root.find("ros2_control") is None
    assert root.find("gazebo") is None


def test_no_meshes_and_only_primitive_geometry(urdf, root):
    assert "package://" not in urdf
    assert root.find(".//mesh") is None
    shapes = {geometry[0].tag for geometry in root.iter("geometry")}
    assert shapes <= {"box", "cylinder", "sphere"}


def test_gazebo_ros2_control_lists_every_actuated_joint(gazebo_urdf, actuated_joints):
    root = ET.fromstring(gazebo_urdf)
    (system,) = root.findall("ros2_control")
    assert system.get("name") == "GazeboSimSystem" and system.get("type") == "system"
    assert system.findtext("hardware/plugin") == "gz_ros2_control/GazeboSimSystem"
    listed = [joint.get("name") for joint in system.findall("joint")]
    assert len(listed) == len(set(listed))
    assert set(listed) == set(actuated_joints)
    for joint in system.findall("joint"):
        assert [c.get("name") for c in joint.findall("command_interface")] == ["effort"]
        assert sorted(s.get("name") for s in joint.findall("state_interface")) == ["effort", "position", "velocity"]

    plugins = [p for p in root.findall("gazebo/plugin") if p.get("filename") == "gz_ros2_control-system"]
    assert len(plugins) == 1
    assert plugins[0].get("name") == "gz_ros2_control::GazeboSimROS2ControlPlugin"
    assert plugins[0].findtext("parameters") == CONTROLLERS_FILE


def test_gazebo_sensors(gazebo_urdf, actuated_joints):
    root = ET.fromstring(gazebo_urdf)
    sensors = {}
    for gazebo in root.findall("gazebo"):
        for sensor in gazebo.findall("sensor"):
            sensors[sensor.findtext("topic")] = (gazebo.get("reference"), sensor)

    reference, imu = sensors["imu/data"]
    assert reference == "imu_link" and imu.get("type") == "imu"

    for side in ("l", "r"):
        reference, force_torque = sensors[f"{side}_foot/wrench"]
        assert force_torque.get("type") == "force_torque"
        assert reference in actuated_joints and reference.startswith(f"{side}_ankle")

    reference, camera = sensors["head_camera"]
    assert reference == "head_camera_color_optical_frame" and camera.get("type") == "rgbd_camera"
    # a Gazebo camera looks along its +x with +z up: in the optical frame, +x is optical z and +z is optical -y
    roll, pitch, yaw = (float(v) for v in camera.findtext("pose").split()[3:])
    rotation = pin.rpy.rpyToMatrix(roll, pitch, yaw)  # columns: the sensor's axes in the optical frame
    np.testing.assert_allclose(rotation[:, 0], [0, 0, 1], atol=1e-9)
    np.testing.assert_allclose(rotation[:, 2], [0, -1, 0], atol=1e-9)
    assert camera.findtext("camera/optical_frame_id") == reference
    assert float(camera.findtext("update_rate")) == 10.0
    assert camera.findtext("camera/image/width") == "640" and camera.findtext("camera/image/height") == "480"


# ------------------------------------------------------------------------------------------------ joints and frames


def test_model_parses_with_a_floating_base(model, actuated_joints):
    assert model.names[1] == "root_joint"
    assert model.nq == 7 + len(actuated_joints)
    assert model.nv == 6 + len(actuated_joints)


def test_actuated_joints_are_exactly_the_config_joint_groups(config, actuated_joints):
    groups = config["joint_groups"]
    body = flatten(groups)
    per_side = {side: flatten(hand["fingers"]) for side, hand in config["hands"].items()}
    hands = per_side["left"] + per_side["right"]
    assert len(body) == len(set(body)) == 30
    assert len(per_side["left"]) == len(per_side["right"]) == 22
    assert len(hands) == len(set(hands)) == 44
    assert set(actuated_joints) == set(body) | set(hands)
    assert all(joint.get("type") == "revolute" for joint in actuated_joints.values())
    assert all(joint.find("mimic") is None for joint in actuated_joints.values())


def test_every_config_frame_exists(config, root):
    links = {link.get("name") for link in root.iter("link")}
    names = [name for key, name in config["frames"].items() if key != "odom"]
    names += [name for side in config["sides"].values() for name in side.values()]
    missing = [name for name in names if name not in links]
    assert not missing

    children = {joint.find("child").get("link") for joint in root.iter("joint")}
    roots = links - children
    assert roots == {config["frames"]["base"]}


def test_total_mass(model):
    assert 57.0 <= pin.computeTotalMass(model) <= 73.0


def test_inertias_are_physical(root, model):
    moving_links = {j.find("child").get("link") for j in root.iter("joint") if j.get("type") != "fixed"}
    with_inertia = set()
    for link in root.iter("link"):
        inertial = link.find("inertial")
        if inertial is None:
            continue
        name = link.get("name")
        with_inertia.add(name)
        assert float(inertial.find("mass").get("value")) > 0.0, name
        assert_physical_inertia(inertia_matrix(inertial.find("inertia")), name)
    assert moving_links | {"base_link"} <= with_inertia

    for joint_id in range(1, model.njoints):
        inertia = model.inertias[joint_id]
        assert inertia.mass > 0.0
        assert_physical_inertia(inertia.inertia, model.names[joint_id])


def test_joint_limits_and_actuator_classes(actuated_joints, config):
    hands = {name for hand in config["hands"].values() for name in flatten(hand["fingers"])}
    standing = config["standing"]["joint_positions"]
    for name, joint in actuated_joints.items():
        limit = joint.find("limit")
        lower, upper = float(limit.get("lower")), float(limit.get("upper"))
        effort, velocity = float(limit.get("effort")), float(limit.get("velocity"))
        assert all(math.isfinite(v) for v in (lower, upper, effort, velocity)), name
        assert lower <= 0.0 <= upper and lower < upper, name
        assert lower <= standing.get(name, 0.0) <= upper, name
        assert 0.0 < velocity <= 20.0, name
        if name in hands:
            effort_range = FINGER_EFFORT
        else:
            (effort_range,) = [r for names, r in EFFORT_CLASSES.items() if unsided(name) in names]
        assert effort_range[0] <= effort <= effort_range[1], f"{name}: {effort} N m"

    for side in ("l", "r"):
        for name in (f"{side}_hip_pitch", f"{side}_knee"):
            assert 10.0 <= float(actuated_joints[name].find("limit").get("velocity")) <= 12.0
        knee = actuated_joints[f"{side}_knee"].find("limit")
        assert float(knee.get("lower")) == 0.0 and 2.2 <= float(knee.get("upper")) <= 2.6
        assert float(actuated_joints[f"{side}_elbow"].find("limit").get("lower")) == 0.0


def test_right_side_limits_mirror_the_left(actuated_joints):
    for name, joint in actuated_joints.items():
        if not name.startswith("l_"):
            continue
        left, right = joint.find("limit"), actuated_joints["r_" + name[2:]].find("limit")
        sign = mirror_sign(name)
        expected = sorted([sign * float(left.get("lower")), sign * float(left.get("upper"))])
        assert [float(right.get("lower")), float(right.get("upper"))] == pytest.approx(expected), name
        assert float(right.get("effort")) == float(left.get("effort")), name


# ------------------------------------------------------------------------------------------------ kinematics


def test_left_and_right_are_mirror_images(model, actuated_joints):
    """A mirrored random posture puts every right link at the mirror image of its left counterpart."""
    rng = np.random.default_rng(42)
    left_q = {}
    for name, joint in actuated_joints.items():
        if name.startswith("l_"):
            limit = joint.find("limit")
            left_q[name] = rng.uniform(float(limit.get("lower")), float(limit.get("upper")))
    joint_positions = dict(left_q)
    joint_positions.update({"r_" + name[2:]: mirror_sign(name) * value for name, value in left_q.items()})
    joint_positions.update(waist_pitch=0.4, neck_pitch=-0.3)
    data = frame_placements(model, configuration(model, joint_positions))
    for frame in model.frames:
        if not frame.name.startswith("l_"):
            continue
        left = data.oMf[model.getFrameId(frame.name)]
        right = frame_to_world(model, data, "r_" + frame.name[2:])
        np.testing.assert_allclose(right.translation, MIRROR_Y @ left.translation, atol=1e-9, err_msg=frame.name)
        np.testing.assert_allclose(right.rotation, MIRROR_Y @ left.rotation @ MIRROR_Y, atol=1e-9)


def test_sign_conventions(model):
    """Axis signs promised by the robot config: each named joint moves the named point the stated way."""

    def position(frame: str, **joint_positions: float) -> np.ndarray:
        data = frame_placements(model, configuration(model, joint_positions))
        return frame_to_world(model, data, frame).translation

    for side in ("l", "r"):
        assert position(f"{side}_ankle", **{f"{side}_hip_pitch": -0.3})[0] > 0.05  # hip flexion: leg forward
        assert position(f"{side}_ankle", **{f"{side}_knee": 0.3})[0] < -0.05  # knee flexion: shank back
        toe_up = frame_placements(model, configuration(model, {f"{side}_ankle_pitch": -0.3}))
        assert frame_to_world(model, toe_up, f"{side}_sole").rotation[2, 0] > 0.2  # sole x tilts up
        assert position(f"{side}_wrist", **{f"{side}_elbow": 0.5})[0] > 0.05  # elbow flexion: forearm forward
        assert position(f"{side}_wrist", **{f"{side}_shoulder_pitch": -0.5})[0] > 0.1  # arm raised forward
    assert position("l_wrist", l_shoulder_roll=0.5)[1] > position("l_wrist")[1] + 0.1  # left arm lifts outward
    assert position("r_wrist", r_shoulder_roll=-0.5)[1] < position("r_wrist")[1] - 0.1  # right arm lifts outward
    assert position("gaze", waist_pitch=0.3)[0] > 0.1  # positive waist pitch leans forward
    assert position("gaze", neck_pitch=0.3)[2] < position("gaze")[2]  # positive neck pitch looks down


def test_head_and_hand_frames(model):
    data = frame_placements(model, pin.neutral(model))
    for name in ("gaze", "head_camera_link"):
        np.testing.assert_allclose(frame_to_world(model, data, name).rotation, np.eye(3), atol=1e-12)
    camera = frame_to_world(model, data, "head_camera_link").rotation
    for optical in ("head_camera_color_optical_frame", "head_camera_depth_optical_frame"):
        axes = camera.T @ frame_to_world(model, data, optical).rotation  # optical axes in the camera link
        np.testing.assert_allclose(axes[:, 2], [1, 0, 0], atol=1e-12)  # z forward
        np.testing.assert_allclose(axes[:, 0], [0, -1, 0], atol=1e-12)  # x right
        np.testing.assert_allclose(axes[:, 1], [0, 0, -1], atol=1e-12)  # y down

    for side, inward in (("l", -1.0), ("r", 1.0)):
        wrist = frame_to_world(model, data, f"{side}_wrist")
        gripper = frame_to_world(model, data, f"{side}_gripper")
        np.testing.assert_allclose(wrist.rotation, np.eye(3), atol=1e-12)
        np.testing.assert_allclose(gripper.rotation[:, 0], [0, inward, 0], atol=1e-12)  # palm faces the body
        # flexing every finger joint curls the fingertips towards the grasp side (+x of the gripper frame)
        flexed = {f"{side}_{f}_{j}": 1.0 for f in ("index", "middle", "ring", "little") for j in ("mcp_flex", "pip")}
        curled = frame_placements(model, configuration(model, flexed))
        for finger in ("index", "middle", "ring", "little"):
            tip = model.getFrameId(f"{side}_{finger}_distal")
            straight_x = gripper.actInv(data.oMf[tip]).translation[0]
            curled_x = gripper.actInv(curled.oMf[tip]).translation[0]
            assert curled_x > straight_x + 0.02, finger


def test_soles_match_the_config_and_sit_on_the_foot_bottom(model, root, config):
    """Each sole frame is the bottom-face centre of exactly one collision box of its foot, of the config's size."""
    data = frame_placements(model, pin.neutral(model))
    links = {link.get("name"): link for link in root.iter("link")}
    parent_of = {joint.find("child").get("link"): joint.find("parent").get("link") for joint in root.iter("joint")}
    for side in config["sides"].values():
        sole_to_world = frame_to_world(model, data, side["sole"])
        foot_name = parent_of[side["sole"]]
        foot_to_world = frame_to_world(model, data, foot_name)
        bottom_boxes = []
        for collision in links[foot_name].findall("collision"):
            box = collision.find("geometry/box")
            if box is None:
                continue
            size = np.array([float(v) for v in box.get("size").split()])
            box_in_sole = sole_to_world.actInv(foot_to_world * origin_to_se3(collision.find("origin")))
            if np.allclose(box_in_sole.rotation, np.eye(3)) and box_in_sole.translation[2] == pytest.approx(
                size[2] / 2
            ):
                bottom_boxes.append((size, box_in_sole.translation))
        assert len(bottom_boxes) == 1, side["sole"]
        size, centre = bottom_boxes[0]
        assert size[:2] == pytest.approx([config["sole"]["length"], config["sole"]["width"]])
        assert centre[:2] == pytest.approx([0.0, 0.0], abs=1e-9)


def test_standing_posture(model, root, config, standing_q, standing):
    """Soles flat and level with ankles under the hips, 1.65-1.80 m tall, CoM over the support polygon."""
    sole_names = [side["sole"] for side in config["sides"].values()]
    soles = [frame_to_world(model, standing, name) for name in sole_names]
    for sole in soles:
        np.testing.assert_allclose(sole.rotation[:, 2], [0.0, 0.0, 1.0], atol=1e-6)
        np.testing.assert_allclose(sole.rotation, soles[0].rotation, atol=1e-6)
    assert soles[0].translation[2] == pytest.approx(soles[1].translation[2], abs=1e-9)
    ground_z = soles[0].translation[2]

    for side in ("l", "r"):
        ankle = frame_to_world(model, standing, f"{side}_ankle").translation
        hip = standing.oMi[model.getJointId(f"{side}_hip_pitch")].translation
        assert ankle[:2] == pytest.approx(hip[:2], abs=1e-9)

    lowest, highest = math.inf, -math.inf
    for link in root.iter("link"):
        link_to_world = frame_to_world(model, standing, link.get("name"))
        for collision in link.findall("collision"):
            low, high = geometry_z_extent(
                collision.find("geometry"), link_to_world * origin_to_se3(collision.find("origin"))
            )
            lowest, highest = min(lowest, low), max(highest, high)
    assert lowest == pytest.approx(ground_z, abs=1e-9)  # nothing below the soles
    assert 1.65 <= highest - ground_z <= 1.80

    com = pin.centerOfMass(model, model.createData(), standing_q)
    base_z = frame_to_world(model, standing, config["frames"]["base"]).translation[2]
    assert abs(com[2] - base_z) < 0.15  # near the pelvis
    half_length, half_width = config["sole"]["length"] / 2.0, config["sole"]["width"] / 2.0
    corners = [
        sole.act(np.array([sx * half_length, sy * half_width, 0.0]))[:2]
        for sole in soles
        for sx in (-1.0, 1.0)
        for sy in (-1.0, 1.0)
    ]
    hull = ConvexHull(np.array(corners))
    margin = 0.03  # [m] CoM at least this far inside every edge of the support polygon
    assert np.all(hull.equations[:, :2] @ com[:2] + hull.equations[:, 2] <= -margin)


@pytest.mark.parametrize("posture", ["zero", "standing"])
def test_mujoco_compiles_without_self_collision(urdf, config, actuated_joints, posture):
    mj_model = mujoco.MjModel.from_xml_string(urdf)
    assert mj_model.njnt == len(actuated_joints)
    mj_data = mujoco.MjData(mj_model)
    if posture == "standing":
        for name, value in config["standing"]["joint_positions"].items():
            joint_id = mujoco.mj_name2id(mj_model, mujoco.mjtObj.mjOBJ_JOINT, name)
            mj_data.qpos[mj_model.jnt_qposadr[joint_id]] = value
    mujoco.mj_forward(mj_model, mj_data)
    touching = [
        (mj_model.body(mj_model.geom_bodyid[c.geom1]).name, mj_model.body(mj_model.geom_bodyid[c.geom2]).name)
        for c in mj_data.contact[: mj_data.ncon]
    ]
    assert not touching
