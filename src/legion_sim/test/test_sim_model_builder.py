"""The MuJoCo model built from URDF + RobotConfig + Scene (on the tiny humanoid; Centurion in test_centurion.py)."""

from __future__ import annotations

import dataclasses
import re
import struct
from pathlib import Path

import mujoco
import numpy as np
import pytest

from legion_description.package_uris import PACKAGE_PATH_VARIABLE
from legion_description.robot_config import SIDES
from legion_model import ModelError, RobotModel
from legion_sim.errors import SimError
from legion_sim.model_builder import (
    CAMERA_NAME,
    HIDDEN_GROUP,
    ROBOT_BIT,
    WORLD_BIT,
    SimOptions,
    build_model,
    ft_site_name,
)
from legion_sim.scene import parse_scene


@pytest.fixture(scope="module")
def built(tiny_robot, table_scene):
    config, urdf = tiny_robot
    return build_model(urdf, config, table_scene)


def _frames(config) -> list[str]:
    names = [name for role, name in config.frames.items() if role != "odom"]
    return names + [getattr(config.sides[s], k) for s in SIDES for k in ("ankle", "sole", "wrist", "gripper")]


def test_every_frame_is_a_site_at_its_link(built, tiny_robot):
    config, _ = tiny_robot
    model = built.model
    data = mujoco.MjData(model)
    mujoco.mj_kinematics(model, data)
    for frame in _frames(config):
        site = model.site(frame)
        assert model.body_dofnum[site.bodyid[0]] > 0 or site.bodyid[0] == built.root_body, f"{frame} on a moving body"
    # the fixed sole frame is 0.06 below and 0.03 ahead of the ankle roll axis in the tiny URDF
    offset = data.site("l_sole").xpos - data.site("l_ankle").xpos
    np.testing.assert_allclose(offset, [0.03, 0.0, -0.06], atol=1e-12)
    # the F/T sensor site coincides with the ankle frame and sits on the foot body
    for side in SIDES:
        ankle = config.sides[side].ankle
        ft = data.site(ft_site_name(ankle))
        np.testing.assert_allclose(ft.xpos, data.site(ankle).xpos, atol=1e-12)
        np.testing.assert_allclose(ft.xmat, data.site(ankle).xmat, atol=1e-12)
        assert model.site(ft_site_name(ankle)).bodyid[0] == built.foot_bodies[side]


def test_floating_base_integrator_and_timestep(built):
    model = built.model
    assert model.jnt_type[model.body_jntadr[built.root_body]] == mujoco.mjtJoint.mjJNT_FREE
    assert model.opt.integrator == mujoco.mjtIntegrator.mjINT_IMPLICITFAST
    assert model.opt.timestep == pytest.approx(1e-3)


def test_one_motor_per_joint_with_effort_limit(built, tiny_robot):
    config, urdf = tiny_robot
    model = built.model
    assert sorted(built.joint_names) == sorted(config.all_joints)
    assert model.nu == len(config.all_joints)
    efforts = {m.group(1): float(m.group(2)) for m in re.finditer(
        r'<joint name="(\w+)" type="revolute">.*?effort="([\d.]+)"', urdf)}
    for i, name in enumerate(built.joint_names):
        assert model.actuator(i).name == name
        assert model.actuator_ctrllimited[i]
        np.testing.assert_allclose(model.actuator_ctrlrange[i], [-efforts[name], efforts[name]])
        assert model.actuator_gainprm[i, 0] == 1.0 and not model.actuator_biasprm[i].any()  # a motor
        assert model.dof_armature[built.dof_adr[i]] > 0.0 and model.dof_damping[built.dof_adr[i]] > 0.0
    hand = model.dof_armature[built.dof_adr[built.joint_names.index("l_finger")]]
    assert hand == pytest.approx(SimOptions().armature["hands"])


def test_collision_bits_robot_never_collides_with_itself(built):
    model = built.model
    robot = [g for g in range(model.ngeom) if model.body_rootid[model.geom_bodyid[g]] == built.root_body]
    world = [g for g in range(model.ngeom) if g not in robot]
    colliding_robot = [g for g in robot if model.geom_contype[g] or model.geom_conaffinity[g]]
    assert colliding_robot, "the robot has collision geoms"

    def collide(a: int, b: int) -> bool:
        contype, conaffinity = model.geom_contype, model.geom_conaffinity
        return bool(contype[a] & conaffinity[b] or contype[b] & conaffinity[a])

    assert not any(collide(a, b) for a in colliding_robot for b in colliding_robot)
    floor = model.geom("floor").id
    assert all(collide(g, floor) for g in colliding_robot)
    cube = model.geom("cube").id
    assert all(collide(g, cube) for g in colliding_robot)
    assert collide(cube, model.geom("table/top").id)
    assert all(model.geom_contype[g] == WORLD_BIT for g in world)
    assert all(model.geom_contype[g] in (0, ROBOT_BIT) for g in robot)


def test_sole_box_is_the_foot_contact(built, tiny_robot):
    config, _ = tiny_robot
    model = built.model
    data = mujoco.MjData(model)
    mujoco.mj_kinematics(model, data)
    for side in SIDES:
        foot_geoms = [g for g in range(model.ngeom) if model.geom_bodyid[g] == built.foot_bodies[side]
                      and model.geom_contype[g]]
        (sole_geom,) = foot_geoms
        np.testing.assert_allclose(model.geom_size[sole_geom][:2], [config.sole_length / 2, config.sole_width / 2])
        bottom = data.geom_xpos[sole_geom][2] - model.geom_size[sole_geom][2]
        assert bottom == pytest.approx(data.site(config.sides[side].sole).xpos[2], abs=1e-12)
        assert model.geom_group[sole_geom] == HIDDEN_GROUP


def test_hand_geoms_can_grip(built):
    model = built.model
    finger = model.body("l_finger").id
    (geom,) = [g for g in range(model.ngeom) if model.geom_bodyid[g] == finger and model.geom_contype[g]]
    assert model.geom_condim[geom] >= 4
    assert model.geom_friction[geom][0] >= 0.9


def test_sensors(built):
    model = built.model
    expected = {"imu_orientation": mujoco.mjtSensor.mjSENS_FRAMEQUAT,
                "imu_angular_velocity": mujoco.mjtSensor.mjSENS_GYRO,
                "imu_linear_acceleration": mujoco.mjtSensor.mjSENS_ACCELEROMETER,
                "left_ankle_force": mujoco.mjtSensor.mjSENS_FORCE, "right_ankle_torque": mujoco.mjtSensor.mjSENS_TORQUE}
    for name, sensor_type in expected.items():
        assert model.sensor(name).type[0] == sensor_type
    assert model.site(model.sensor("imu_orientation").objid[0]).name == "imu_link"


def test_camera_is_the_colour_optical_frame(built):
    model = built.model
    data = mujoco.MjData(model)
    data.qpos[built.qpos_adr[built.joint_names.index("neck_pitch")]] = 0.3
    mujoco.mj_forward(model, data)  # cameras are placed by mj_camlight, after the kinematics
    camera = model.camera(CAMERA_NAME).id
    camera_axes = data.cam_xmat[camera].reshape(3, 3)
    optical = data.site("head_camera_color_optical_frame")
    optical_axes = optical.xmat.reshape(3, 3)
    np.testing.assert_allclose(data.cam_xpos[camera], optical.xpos, atol=1e-12)
    np.testing.assert_allclose(-camera_axes[:, 2], optical_axes[:, 2], atol=1e-9)  # looks along optical z
    np.testing.assert_allclose(camera_axes[:, 0], optical_axes[:, 0], atol=1e-9)  # image right = optical x
    np.testing.assert_allclose(-camera_axes[:, 1], optical_axes[:, 1], atol=1e-9)  # image down = optical y
    assert 60.0 <= model.cam_fovy[camera] <= 70.0


def test_scene_bodies(built, table_scene):
    model = built.model
    cube = table_scene.part("cube")
    body = built.part_bodies["cube"]
    assert model.body_mass[body] == pytest.approx(cube.mass)
    np.testing.assert_allclose(model.body_ipos[body], 0.0)
    assert model.jnt_type[model.body_jntadr[body]] == mujoco.mjtJoint.mjJNT_FREE
    np.testing.assert_allclose(model.body_pos[body], cube.position)
    assert cube.position[2] == pytest.approx(0.7 + 0.025)
    data = mujoco.MjData(model)
    mujoco.mj_kinematics(model, data)
    top = model.geom("table/top").id
    assert data.geom_xpos[top][2] + model.geom_size[top][2] == pytest.approx(0.7)
    assert model.nlight >= 1


@pytest.mark.parametrize(("mutate", "fragment"), [
    (lambda urdf: urdf[:-20], "not well-formed XML"),
    (lambda urdf: urdf.replace("<robot", "<robo", 1).replace("</robot>", "</robo>"), "expected <robot>"),
    (lambda urdf: urdf.replace('name="l_knee"', 'name="l_knee2"'), "lacks joint(s)"),
    (lambda urdf: urdf.replace('<link name="l_sole"/>', '<link name="l_sole_x"/>').replace(
        'link="l_sole"', 'link="l_sole_x"'), "lacks link(s) for frames"),
    (lambda urdf: urdf.replace('effort="150.0"', 'effort="0"'), "has no positive effort limit"),
    (lambda urdf: urdf.replace('<box size="0.16 0.26 0.12"/>',
                               '<mesh filename="package://legion_no_such_pkg/pelvis.stl"/>'),
     "'package://legion_no_such_pkg/pelvis.stl': package 'legion_no_such_pkg' not found"),
    (lambda urdf: urdf.replace('<mass value="1.5"/>', '<mass value="0"/>').replace(
        'ixx="0.01665" iyy="0.01665" izz="0.0009"', 'ixx="0" iyy="0" izz="0"'), "does not compile"),
])
def test_broken_urdf_gives_clear_error(tiny_robot, empty_scene, mutate, fragment):
    config, urdf = tiny_robot
    broken = mutate(urdf)
    assert broken != urdf
    with pytest.raises(SimError, match=re.escape(fragment)):
        build_model(broken, config, empty_scene)


def test_scene_name_clashing_with_a_link(tiny_robot):
    config, urdf = tiny_robot
    scene = parse_scene({"name": "clash", "obstacles": [
        {"name": "torso", "shape": "box", "size": [1, 1, 1], "position": [3, 3]}]})
    with pytest.raises(SimError, match=r"\['torso'\] clash with links"):
        build_model(urdf, config, scene)


def test_options_are_validated():
    with pytest.raises(SimError, match="physics_rate"):
        SimOptions(physics_rate=-1.0)
    with pytest.raises(SimError, match="lacks joint group"):
        SimOptions(armature={"legs": 0.1})
    with pytest.raises(SimError, match="unknown sim option"):
        SimOptions.from_mapping({"physics_rat": 500.0})
    with pytest.raises(SimError, match="camera_far"):
        SimOptions(camera_near=2.0, camera_far=1.0)
    assert SimOptions.from_mapping({"physics_rate": 500.0}).timestep == pytest.approx(2e-3)
    assert dataclasses.replace(SimOptions(), camera_fovy=60.0).camera_fovy == 60.0


def write_box_stl(path: Path, size: tuple[float, float, float]) -> None:
    """A binary STL of an axis-aligned box centred on the origin (12 outward-facing triangles)."""
    half = np.array(size) / 2.0
    corners = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)]) * half
    triangles = [(0, 1, 3), (0, 3, 2), (4, 6, 7), (4, 7, 5), (0, 4, 5), (0, 5, 1),
                 (2, 3, 7), (2, 7, 6), (0, 2, 6), (0, 6, 4), (1, 5, 7), (1, 7, 3)]
    records = []
    for a, b, c in triangles:
        normal = np.cross(corners[b] - corners[a], corners[c] - corners[a])
        if np.dot(normal, corners[a] + corners[b] + corners[c]) < 0.0:
            b, c, normal = c, b, -normal
        normal = normal / np.linalg.norm(normal)
        records.append(struct.pack("<12fH", *normal, *corners[a], *corners[b], *corners[c], 0))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\0" * 80 + struct.pack("<I", len(records)) + b"".join(records))


def test_package_mesh_loads_into_mujoco_and_pinocchio(tiny_robot, empty_scene, tmp_path, monkeypatch):
    config, urdf = tiny_robot
    write_box_stl(tmp_path / "legion_fake_meshes" / "meshes" / "pelvis.stl", (0.16, 0.26, 0.12))
    monkeypatch.setenv(PACKAGE_PATH_VARIABLE, str(tmp_path))
    meshed = urdf.replace('<box size="0.16 0.26 0.12"/>',
                          '<mesh filename="package://legion_fake_meshes/meshes/pelvis.stl"/>')
    assert meshed.count("package://") == 2  # the pelvis' visual and collision geometry

    model = build_model(meshed, config, empty_scene).model
    pelvis = model.body(config.frames["base"]).id
    meshes = [g for g in range(model.ngeom)
              if model.geom_bodyid[g] == pelvis and model.geom_type[g] == mujoco.mjtGeom.mjGEOM_MESH]
    assert len(meshes) == 2
    for geom in meshes:
        mesh = model.geom_dataid[geom]
        vertices = model.mesh_vert[model.mesh_vertadr[mesh]:model.mesh_vertadr[mesh] + model.mesh_vertnum[mesh]]
        extent = np.sort(vertices.max(axis=0) - vertices.min(axis=0))  # MuJoCo puts a mesh in its inertia axes
        np.testing.assert_allclose(extent, [0.12, 0.16, 0.26], atol=1e-6)

    robot = RobotModel.from_config(config, meshed)
    for kind in ("collision", "visual"):
        geometry = robot.geometry_model(meshed, kind)
        (pelvis_geometry,) = [g for g in geometry.geometryObjects if g.meshPath.endswith("pelvis.stl")]
        assert Path(pelvis_geometry.meshPath).is_absolute()
        assert pelvis_geometry.parentJoint == robot.model.getJointId("root_joint")
    body = RobotModel.from_config(config, meshed, locked_joints=config.hand_joints)
    geometry = body.geometry_model(meshed)
    assert len(geometry.geometryObjects) == len(robot.geometry_model(meshed).geometryObjects)
    (finger,) = [g for g in geometry.geometryObjects if g.name.startswith("l_finger")]
    assert finger.parentJoint == body.model.getJointId("l_elbow"), "a locked finger moves with the forearm"

    monkeypatch.delenv(PACKAGE_PATH_VARIABLE)
    with pytest.raises(ModelError, match=r"'package://legion_fake_meshes/meshes/pelvis\.stl': package "
                                         r"'legion_fake_meshes' not found"):
        robot.geometry_model(meshed)
