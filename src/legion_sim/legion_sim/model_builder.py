"""Build the MuJoCo model of a robot in a scene with `mujoco.MjSpec`: expanded URDF + RobotConfig + Scene -> MjModel.

Several robots (a scene's `robots:` list, `build_world`) are each built as below and attached to one world spec with a
name prefix per robot (`robot_1/`), so one model and one physics step simulate them all.

What the builder adds to the URDF:
- a site at every URDF link frame, named after the link (fixed-joint links are fused into their moving parent body
  by MuJoCo; their sites survive the fusing, so `l_sole`, `l_ankle`, `imu_link`, `head_camera_link`, `l_gripper` ...
  are all sites on the body that carries them);
- a free joint on the root link (`frames.base`), implicitfast integration at `physics_rate`;
- per actuated joint (every joint of the RobotConfig): a `motor` actuator with ctrlrange = +-the URDF effort limit, a
  small passive damping and a rotor armature by joint group (armature keeps the explicit servo damping stable on
  light links such as fingers and feet);
- contacts: robot geoms collide with the world and with other robots' geoms, never with geoms of their own robot
  (contype/conaffinity bits, one robot bit per robot of the world); each foot's
  contact is a box of the sole size under the sole frame (the foot link's own collision geoms are turned off);
  palm and finger geoms get condim 4 and friction ~1 so they can hold a part;
- sensors: orientation, gyro and accelerometer at the IMU site, force/torque at the ankle sites;
- the head camera at the colour optical frame (`frames.camera_color_optical`), looking along its z axis with image
  rows along its y axis, so a point projects with the intrinsics in that frame as on a real camera; the depth image is
  rendered by the same camera (registered to colour);
- the scene: floor plane, tables, bins, obstacles (static) and parts (free bodies), lights.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field, fields

import mujoco
import numpy as np

from legion_common.transforms import quaternion_from_yaw
from legion_description.package_uris import resolve_uri
from legion_description.robot_config import SIDES, RobotConfig
from legion_description.robot_files import DescriptionError
from legion_sim.errors import SimError
from legion_sim.scene import Scene

WORLD_BIT = 1
"""contype/conaffinity bit of world geoms (floor, furniture, parts)."""
ROBOT_BIT = 2
"""contype bit of the geoms of the first robot of a world; robot k (from 0) has `robot_bit(k)` = ROBOT_BIT << k."""
MAX_ROBOTS = 30
"""Robots one world can hold: one contype bit each, after WORLD_BIT, in MuJoCo's 32-bit masks (sign bit unused)."""
ROBOT_MASK = ((1 << MAX_ROBOTS) - 1) << 1
"""Every robot bit: the conaffinity of world geoms, which every robot touches."""


def robot_bit(index: int) -> int:
    """contype of robot `index`'s geoms. Its conaffinity is WORLD_BIT and every other robot's bit, so a robot collides
    with the world and with other robots (contype_a & conaffinity_b) but not with itself: its own links overlap at
    the joints, and self-collision is not modelled."""
    if not 0 <= index < MAX_ROBOTS:
        raise SimError(f"a world holds at most {MAX_ROBOTS} robots (robot index {index})")
    return ROBOT_BIT << index
HIDDEN_GROUP = 3
"""Geom group of collision-only geoms (not rendered by the camera when the link has visual geoms)."""
SITE_GROUP = 5
"""Site group of the frame sites (never rendered)."""
CAMERA_NAME = "head_camera"
OPTICAL_TO_CAMERA_QUAT = (0.0, 1.0, 0.0, 0.0)
"""Orientation (w, x, y, z) of a MuJoCo camera (looks along its -z, image up = +y) in a REP-103 optical frame (z
forward, x right, y down): a half turn about x, so x_cam = x_optical, y_cam = -y_optical, z_cam = -z_optical."""
FREE_JOINT_NAME = "floating_base"
_GROUPS = ("legs", "waist", "arms", "neck", "hands")


@dataclass(frozen=True)
class SimOptions:
    """Tunables of the simulated hardware. Defaults suit an adult-size humanoid at 1 kHz."""

    physics_rate: float = 1000.0
    """Physics (and servo) rate [Hz]; the timestep is its inverse."""
    camera_width: int = 640
    """[px]"""
    camera_height: int = 480
    """[px]"""
    camera_fovy: float = 65.0
    """Vertical field of view of the head camera [deg]."""
    camera_near: float = 0.03
    """Near clipping distance [m]; nothing closer is seen."""
    camera_far: float = 10.0
    """Far clipping distance [m]; depth beyond it is NaN (no return)."""
    armature: dict[str, float] = field(default_factory=lambda: {
        "legs": 0.05, "waist": 0.05, "arms": 0.02, "neck": 0.005, "hands": 0.0005})
    """Rotor inertia reflected to the joint, by joint group [kg m^2]. The explicit servo damping d [N m s/rad] is
    stable while d * timestep < armature + link inertia, roughly."""
    joint_damping: dict[str, float] = field(default_factory=lambda: {
        "legs": 0.3, "waist": 0.3, "arms": 0.1, "neck": 0.02, "hands": 0.002})
    """Minimum passive joint damping by joint group [N m s/rad] (the URDF's damping is kept when larger)."""
    sole_thickness: float = 0.02
    """Thickness of the foot contact box above the sole plane [m]."""
    foot_friction: float = 1.0
    """Sliding friction of the soles (contacts with the floor use the scene's floor friction)."""
    hand_friction: float = 1.0
    """Sliding friction of palm and finger geoms."""
    hand_torsional_friction: float = 0.01
    """Torsional friction of palm and finger geoms [m] (condim 4)."""
    part_friction: float = 0.8
    """Sliding friction of the parts."""
    furniture_friction: float = 0.8
    """Sliding friction of tables, bins and obstacles."""
    table_top_thickness: float = 0.04
    """[m]"""
    table_leg_width: float = 0.05
    """[m]"""
    elliptic_cone: bool = True
    """Elliptic friction cones (better grasps) rather than pyramidal."""
    impratio: float = 5.0
    """Frictional-to-normal constraint impedance ratio; > 1 makes grasped objects slip less."""
    noslip_iterations: int = 10
    """Iterations of MuJoCo's noslip solver, run after the main solver to remove the slow creep of soft contacts
    along their friction directions (0: off). Without it a part squeezed in the hand creeps out within seconds."""

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, dict):
                missing = [g for g in _GROUPS if g not in value]
                if missing:
                    raise SimError(f"sim option '{item.name}' lacks joint group(s) {missing}")
                values = list(value.values())
            elif isinstance(value, bool):
                continue
            elif item.name == "noslip_iterations":
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise SimError(f"sim option 'noslip_iterations' must be an integer >= 0, got {value!r}")
                continue
            else:
                values = [value]
            for v in values:
                if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
                    raise SimError(f"sim option '{item.name}' must be positive and finite, got {value!r}")
        if self.camera_far <= self.camera_near:
            raise SimError(f"sim option camera_far ({self.camera_far}) must exceed camera_near ({self.camera_near})")
        if not 1.0 <= self.camera_fovy < 179.0:
            raise SimError(f"sim option camera_fovy must be in [1, 179) deg, got {self.camera_fovy}")

    @classmethod
    def from_mapping(cls, values: dict, source: str = "sim options") -> SimOptions:
        """Options from a mapping (a YAML section, node parameters); unknown keys raise SimError."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise SimError(f"{source}: unknown sim option(s) {unknown}; known: {sorted(known)}")
        try:
            return cls(**values)
        except TypeError as error:
            raise SimError(f"{source}: {error}") from error

    @property
    def timestep(self) -> float:
        """[s]"""
        return 1.0 / self.physics_rate


@dataclass(frozen=True)
class BuiltModel:
    """A compiled model plus the indices the simulation needs. Joint arrays are in actuator (= model tree) order."""

    model: mujoco.MjModel
    joint_names: tuple[str, ...]
    """Actuated joints in actuator order (the model's tree order), without prefix; actuator actuator_ids[i] drives
    joint_names[i]."""
    qpos_adr: np.ndarray
    """(n,) address of each actuated joint in qpos."""
    dof_adr: np.ndarray
    """(n,) address of each actuated joint in qvel."""
    effort_limit: np.ndarray
    """(n,) URDF effort limit per actuated joint [N m] (or [N] for prismatic joints)."""
    root_body: int
    """Body id of the floating base (`frames.base`)."""
    root_qpos_adr: int
    """qpos address of the base's free joint (x y z qw qx qy qz)."""
    root_dof_adr: int
    """qvel address of the base's free joint (v_world, omega_local)."""
    foot_bodies: dict[str, int]
    """Side -> id of the moving body that carries that side's sole (and the ankle F/T sensor)."""
    part_bodies: dict[str, int]
    """Part id -> body id."""
    part_qpos_adr: dict[str, int]
    """Part id -> qpos address of its free joint."""
    camera: str = CAMERA_NAME
    """Name of the robot's head camera in the model."""
    prefix: str = ""
    """Put before the robot's element names in the model (`robot_1/`; empty for a single robot)."""
    actuator_ids: np.ndarray | None = None
    """(n,) the model's actuator index of each of `joint_names` (None: actuators 0..n-1)."""

    def name(self, element: str) -> str:
        """The model's name of one of the robot's elements (a site, sensor, body or joint)."""
        return self.prefix + element


def _compiler_settings(urdf: str) -> str:
    """The URDF text with MuJoCo compiler settings (keep visual geoms, fuse fixed links: their sites remain) and its
    `package://` and `file://` mesh URIs resolved to absolute paths (`legion_description.package_uris`)."""
    try:
        root = ET.fromstring(urdf)
    except ET.ParseError as error:
        raise SimError(f"robot description is not well-formed XML: {error}") from error
    if root.tag != "robot":
        raise SimError(f"robot description has root element <{root.tag}>, expected <robot>")
    if root.find("link") is None:
        raise SimError("robot description has no <link>")
    for mesh in root.iter("mesh"):
        try:
            mesh.set("filename", resolve_uri(mesh.get("filename", "")))
        except DescriptionError as error:
            raise SimError(f"robot description: mesh {error}") from error
    mujoco_element = root.find("mujoco")
    if mujoco_element is None:
        mujoco_element = ET.SubElement(root, "mujoco")
    compiler = mujoco_element.find("compiler")
    if compiler is None:
        compiler = ET.SubElement(mujoco_element, "compiler")
    compiler.set("discardvisual", "false")
    compiler.set("fusestatic", "true")
    compiler.set("strippath", "false")
    return ET.tostring(root, encoding="unicode")


def _wxyz(quaternion_xyzw: np.ndarray) -> list[float]:
    """A quaternion (x, y, z, w) in MuJoCo's order (w, x, y, z)."""
    x, y, z, w = (float(v) for v in quaternion_xyzw)
    return [w, x, y, z]


def _subtree(body: mujoco.MjsBody) -> list[mujoco.MjsBody]:
    """A spec body and all its descendants."""
    return [body, *body.find_all(mujoco.mjtObj.mjOBJ_BODY)]


def _is_collision(geom: mujoco.MjsGeom) -> bool:
    return geom.contype != 0 or geom.conaffinity != 0


def _robot_checks(spec: mujoco.MjSpec, config: RobotConfig) -> tuple[mujoco.MjsBody, dict[str, mujoco.MjsJoint]]:
    """Check that the URDF has every joint and frame the configuration names; return the root body and joints."""
    bodies = {b.name for b in spec.bodies}
    joints = {j.name: j for j in spec.joints}
    missing_joints = [name for name in config.all_joints if name not in joints]
    if missing_joints:
        raise SimError(f"robot description lacks joint(s) named in {config.source}: {missing_joints}")
    frames = [name for role, name in config.frames.items() if role != "odom"]
    frames += [getattr(config.sides[side], key) for side in SIDES for key in ("ankle", "sole", "wrist", "gripper")]
    missing_frames = [name for name in frames if name not in bodies]
    if missing_frames:
        raise SimError(f"robot description lacks link(s) for frames named in {config.source}: {missing_frames}")
    for name in config.all_joints:
        joint = joints[name]
        if joint.type not in (mujoco.mjtJoint.mjJNT_HINGE, mujoco.mjtJoint.mjJNT_SLIDE):
            raise SimError(f"robot description: joint '{name}' is not revolute or prismatic")
        if joint.actfrclimited == mujoco.mjtLimited.mjLIMITED_FALSE or joint.actfrcrange[1] <= 0.0:
            raise SimError(f"robot description: joint '{name}' has no positive effort limit")
    root = spec.body(config.frames["base"])
    if root.parent.name != "world":
        raise SimError(f"robot description: base frame '{root.name}' is not the root link "
                       f"(its parent is '{root.parent.name}')")
    if root.joints:
        raise SimError(f"robot description: root link '{root.name}' already has a joint")
    return root, joints


def _moving_ancestor(body: mujoco.MjsBody) -> mujoco.MjsBody:
    """The nearest body at or above `body` that has a joint: the body it is fused into."""
    while not body.joints and body.parent is not None and body.parent.name != "world":
        body = body.parent
    return body


def ft_site_name(ankle_frame: str) -> str:
    """Name of the site that carries the force/torque sensor of an ankle frame (same pose as the frame)."""
    return f"{ankle_frame}_ft_sensor"


def _pose_in_ancestor(body: mujoco.MjsBody, ancestor: mujoco.MjsBody) -> tuple[np.ndarray, np.ndarray]:
    """Position and orientation (w, x, y, z) of `body`'s frame in `ancestor`'s frame, through the spec's chain."""
    pos, quat = np.zeros(3), np.array([1.0, 0.0, 0.0, 0.0])
    while body.name != ancestor.name:
        # frame in parent = (body.pos, body.quat) composed with frame in body
        rotated = np.zeros(3)
        mujoco.mju_rotVecQuat(rotated, pos, np.asarray(body.quat, dtype=float))
        pos = np.asarray(body.pos, dtype=float) + rotated
        composed = np.zeros(4)
        mujoco.mju_mulQuat(composed, np.asarray(body.quat, dtype=float), quat)
        quat = composed
        body = body.parent
    return pos, quat


def _add_robot(spec: mujoco.MjSpec, config: RobotConfig, options: SimOptions,
               index: int = 0) -> dict[str, mujoco.MjsBody]:
    """Everything the builder adds to the robot (robot `index` of its world); returns side -> foot (moving) body."""
    own = robot_bit(index)
    affinity = WORLD_BIT | (ROBOT_MASK & ~own)
    root, joints = _robot_checks(spec, config)
    robot_bodies = _subtree(root)
    for body in robot_bodies:
        body.add_site(name=body.name, group=SITE_GROUP, size=[0.005, 0.005, 0.005])
    root.add_freejoint(name=FREE_JOINT_NAME)

    for body in robot_bodies:
        has_visual = any(not _is_collision(g) for g in body.geoms)
        for geom in body.geoms:
            if _is_collision(geom):
                geom.contype, geom.conaffinity = own, affinity
                if has_visual:
                    geom.group = HIDDEN_GROUP

    for name in config.all_joints:
        group = config.group_of[name]
        joint = joints[name]
        joint.armature = max(joint.armature, options.armature[group])
        damping = np.array(joint.damping, dtype=float)  # polynomial coefficients; [0] is the linear damping
        damping[0] = max(damping[0], options.joint_damping[group])
        joint.damping = damping

    feet = {}
    for side in SIDES:
        sole = spec.body(config.sides[side].sole)
        foot = _moving_ancestor(sole)
        if foot.name == root.name:
            raise SimError(f"robot description: sole frame '{sole.name}' is not on a leg (it is fixed to the base)")
        for body in [foot, *foot.find_all(mujoco.mjtObj.mjOBJ_BODY)]:
            if body.name == foot.name or (not body.joints and _moving_ancestor(body).name == foot.name):
                for geom in body.geoms:
                    if _is_collision(geom):
                        geom.contype = geom.conaffinity = 0
        half = [config.sole_length / 2.0, config.sole_width / 2.0, options.sole_thickness / 2.0]
        sole.add_geom(name=f"{sole.name}_contact", type=mujoco.mjtGeom.mjGEOM_BOX, size=half,
                      pos=[0.0, 0.0, half[2]], contype=own, conaffinity=affinity, condim=3,
                      friction=[options.foot_friction, 0.005, 0.0001], group=HIDDEN_GROUP, density=0.0,
                      rgba=[0.2, 0.2, 0.2, 1.0])
        feet[side] = foot

        hand_joint_bodies = {joints[name].parent.name for name in config.joints("hands", side)}
        palms = {}
        for body_name in hand_joint_bodies:
            palm = spec.body(body_name)
            while palm.parent is not None and palm.parent.name in hand_joint_bodies:
                palm = palm.parent
            palm = palm.parent if palm.parent is not None and palm.parent.name != "world" else palm
            palms[palm.name] = palm
        for palm in palms.values():
            for body in _subtree(palm):
                for geom in body.geoms:
                    if _is_collision(geom):
                        geom.condim = 4
                        geom.friction = [options.hand_friction, options.hand_torsional_friction, 0.0001]

    # Sensors at the frame sites.
    imu = config.frames["imu"]
    for sensor_type, name in ((mujoco.mjtSensor.mjSENS_FRAMEQUAT, "imu_orientation"),
                              (mujoco.mjtSensor.mjSENS_GYRO, "imu_angular_velocity"),
                              (mujoco.mjtSensor.mjSENS_ACCELEROMETER, "imu_linear_acceleration")):
        spec.add_sensor(name=name, type=sensor_type, objtype=mujoco.mjtObj.mjOBJ_SITE, objname=imu)
    for side in SIDES:
        # A force/torque sensor measures the wrench between its site's body and that body's parent, so its site must
        # sit on the moving foot body itself, not on a fixed frame link (which would stay a separate, massless body).
        ankle = spec.body(config.sides[side].ankle)
        carrier = _moving_ancestor(ankle)
        pos, quat = _pose_in_ancestor(ankle, carrier)
        site = ft_site_name(config.sides[side].ankle)
        carrier.add_site(name=site, pos=pos, quat=quat, group=SITE_GROUP, size=[0.005, 0.005, 0.005])
        spec.add_sensor(name=f"{side}_ankle_force", type=mujoco.mjtSensor.mjSENS_FORCE,
                        objtype=mujoco.mjtObj.mjOBJ_SITE, objname=site)
        spec.add_sensor(name=f"{side}_ankle_torque", type=mujoco.mjtSensor.mjSENS_TORQUE,
                        objtype=mujoco.mjtObj.mjOBJ_SITE, objname=site)

    # The images are stamped with the colour optical frame (depth is registered to colour), so they render from it.
    spec.body(config.frames["camera_color_optical"]).add_camera(
        name=CAMERA_NAME, pos=[0.0, 0.0, 0.0], quat=list(OPTICAL_TO_CAMERA_QUAT), fovy=options.camera_fovy,
        resolution=[options.camera_width, options.camera_height])

    # One motor per actuated joint, in the model's tree order so that actuator i and joint i line up.
    actuated = set(config.all_joints)
    for joint in spec.joints:
        if joint.name in actuated:
            limit = float(joint.actfrcrange[1])
            actuator = spec.add_actuator(name=joint.name, target=joint.name, trntype=mujoco.mjtTrn.mjTRN_JOINT)
            actuator.set_to_motor()
            actuator.ctrllimited = mujoco.mjtLimited.mjLIMITED_TRUE
            actuator.ctrlrange = [-limit, limit]
    return feet


def _static_geom(body: mujoco.MjsBody, name: str, geom_type: mujoco.mjtGeom, size: list[float], pos: list[float],
                 rgba: tuple[float, ...], friction: float) -> None:
    body.add_geom(name=name, type=geom_type, size=size, pos=pos, rgba=list(rgba), contype=WORLD_BIT,
                  conaffinity=WORLD_BIT | ROBOT_MASK, condim=3, friction=[friction, 0.005, 0.0001])


def _add_scene(spec: mujoco.MjSpec, scene: Scene, options: SimOptions) -> None:
    world = spec.worldbody
    spec.add_texture(name="floor_checker", type=mujoco.mjtTexture.mjTEXTURE_2D,
                     builtin=mujoco.mjtBuiltin.mjBUILTIN_CHECKER, rgb1=[0.42, 0.44, 0.46], rgb2=[0.36, 0.38, 0.4],
                     width=256, height=256)
    floor_material = spec.add_material(name="floor", texrepeat=[20.0, 20.0], reflectance=0.0)
    floor_material.textures[mujoco.mjtTextureRole.mjTEXROLE_RGB] = "floor_checker"
    world.add_geom(name="floor", type=mujoco.mjtGeom.mjGEOM_PLANE, size=[20.0, 20.0, 0.05], material="floor",
                   contype=WORLD_BIT, conaffinity=WORLD_BIT | ROBOT_MASK, condim=3, priority=1,
                   friction=[scene.floor.friction, 0.005, 0.0001])
    world.add_light(name="sun", type=mujoco.mjtLightType.mjLIGHT_DIRECTIONAL, pos=[0.0, 0.0, 4.0],
                    dir=[0.3, 0.2, -1.0], diffuse=[0.6, 0.6, 0.6], specular=[0.1, 0.1, 0.1], castshadow=False)
    world.add_light(name="fill", type=mujoco.mjtLightType.mjLIGHT_DIRECTIONAL, pos=[0.0, 0.0, 4.0],
                    dir=[-0.4, -0.3, -1.0], diffuse=[0.3, 0.3, 0.3], specular=[0.0, 0.0, 0.0], castshadow=False)
    box, cylinder, sphere = mujoco.mjtGeom.mjGEOM_BOX, mujoco.mjtGeom.mjGEOM_CYLINDER, mujoco.mjtGeom.mjGEOM_SPHERE
    friction = options.furniture_friction

    for table in scene.tables:
        lx, ly, height = table.size
        top = min(options.table_top_thickness, height)
        body = world.add_body(name=table.name, pos=[*table.position, 0.0],
                              quat=_wxyz(quaternion_from_yaw(table.yaw)))
        _static_geom(body, f"{table.name}/top", box, [lx / 2, ly / 2, top / 2], [0.0, 0.0, height - top / 2],
                     table.colour, friction)
        leg = min(options.table_leg_width, lx / 2, ly / 2)
        leg_height = height - top
        if leg_height > 0.0:
            for i, (sx, sy) in enumerate(((1, 1), (1, -1), (-1, 1), (-1, -1))):
                _static_geom(body, f"{table.name}/leg{i}", box, [leg / 2, leg / 2, leg_height / 2],
                             [sx * (lx / 2 - leg / 2), sy * (ly / 2 - leg / 2), leg_height / 2], table.colour,
                             friction)

    for bin_ in scene.bins:
        lx, ly, height = bin_.size
        wall, base = bin_.wall_thickness, bin_.stand_height
        body = world.add_body(name=bin_.name, pos=[*bin_.position, 0.0],
                              quat=_wxyz(quaternion_from_yaw(bin_.yaw)))
        if base > 0.0:
            _static_geom(body, f"{bin_.name}/stand", box, [lx / 2, ly / 2, base / 2], [0.0, 0.0, base / 2],
                         (0.3, 0.3, 0.32, 1.0), friction)
        _static_geom(body, f"{bin_.name}/floor", box, [lx / 2, ly / 2, wall / 2], [0.0, 0.0, base + wall / 2],
                     bin_.colour, friction)
        z = base + height / 2
        for sign in (1, -1):
            _static_geom(body, f"{bin_.name}/wall_x{'+' if sign > 0 else '-'}", box, [wall / 2, ly / 2, height / 2],
                         [sign * (lx / 2 - wall / 2), 0.0, z], bin_.colour, friction)
            _static_geom(body, f"{bin_.name}/wall_y{'+' if sign > 0 else '-'}", box,
                         [lx / 2 - wall, wall / 2, height / 2], [0.0, sign * (ly / 2 - wall / 2), z], bin_.colour,
                         friction)

    for obstacle in scene.obstacles:
        body = world.add_body(name=obstacle.name, pos=[*obstacle.position, 0.0],
                              quat=_wxyz(quaternion_from_yaw(obstacle.yaw)))
        height = obstacle.height
        if obstacle.shape == "box":
            size = [obstacle.size[0] / 2, obstacle.size[1] / 2, height / 2]
            _static_geom(body, obstacle.name, box, size, [0.0, 0.0, height / 2], obstacle.colour, friction)
        else:
            _static_geom(body, obstacle.name, cylinder, [obstacle.size[0], height / 2], [0.0, 0.0, height / 2],
                         obstacle.colour, friction)

    for part in scene.parts:
        body = world.add_body(name=part.id, pos=list(part.position),
                              quat=_wxyz(quaternion_from_yaw(part.yaw)))
        body.add_freejoint(name=f"{part.id}/free")
        m = part.mass
        if part.shape == "box":
            lx, ly, lz = part.size
            size = [lx / 2, ly / 2, lz / 2]
            inertia = [m * (ly**2 + lz**2) / 12, m * (lx**2 + lz**2) / 12, m * (lx**2 + ly**2) / 12]
            geom_type, condim = box, 4
        elif part.shape == "cylinder":
            radius, height = part.size
            size = [radius, height / 2]
            inertia = [m * (3 * radius**2 + height**2) / 12] * 2 + [m * radius**2 / 2]
            geom_type, condim = cylinder, 4
        else:
            (radius,) = part.size
            size = [radius]
            inertia = [0.4 * m * radius**2] * 3
            geom_type, condim = sphere, 6  # rolling friction so a sphere does not roll off forever
        body.explicitinertial = True
        body.mass = m
        body.ipos = [0.0, 0.0, 0.0]  # centre of mass at the geometric centre (the spec's default is "unset")
        body.iquat = [1.0, 0.0, 0.0, 0.0]
        body.inertia = inertia
        body.add_geom(name=part.id, type=geom_type, size=size, rgba=list(part.colour), contype=WORLD_BIT,
                      conaffinity=WORLD_BIT | ROBOT_MASK, condim=condim,
                      friction=[options.part_friction, 0.005, 0.0005], density=0.0)


SKIN = (0.87, 0.69, 0.57, 1.0)
"""Skin tone of the people's figures (a low-saturation colour, as real skin is)."""
TROUSERS = (0.18, 0.2, 0.26, 1.0)
FACE_WIDTH = 0.22
"""Width of a person's head and face plate [m]; with FACE_HEIGHT, sized so that OpenCV's Haar frontal-face cascade
finds the face in the 640x480 head camera image from 0.8 m to about 3 m."""
FACE_HEIGHT = 0.27
"""[m]"""


def _ellipse(size: int, cx: float, cy: float, rx: float, ry: float) -> np.ndarray:
    """Mask of the pixels of a size x size image inside an axis-aligned ellipse (centre and radii in pixels)."""
    y, x = np.mgrid[0:size, 0:size].astype(float)
    return ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1.0


def face_texture(size: int = 128) -> np.ndarray:
    """A procedural, face-like RGB image (no one's face): skin-tone oval on hair, brows, eyes with irises, a shaded
    nose and a mouth, with the dark-eyes / light-cheeks contrast a face detector looks for.  # (size, size, 3) uint8"""
    n = float(size)
    image = np.empty((size, size, 3))
    image[:] = (70.0, 50.0, 35.0)  # hair
    x = np.arange(size, dtype=float)[None, :]
    shading = np.broadcast_to(1.0 - 0.25 * ((x - n * 0.5) / (n * 0.45)) ** 2, (size, size))  # a rounded face
    face = _ellipse(size, n * 0.5, n * 0.55, n * 0.40, n * 0.50)
    image[face] = np.array(SKIN[:3]) * 255.0 * shading[face][:, None]
    for side in (-1.0, 1.0):
        eye_x = n * 0.5 + side * n * 0.17
        image[_ellipse(size, eye_x, n * 0.36, n * 0.11, n * 0.025)] = (60.0, 40.0, 30.0)  # brow
        socket = _ellipse(size, eye_x, n * 0.45, n * 0.12, n * 0.07)
        image[socket] *= 0.75
        image[_ellipse(size, eye_x, n * 0.45, n * 0.085, n * 0.04)] = (235.0, 235.0, 235.0)  # white of the eye
        image[_ellipse(size, eye_x, n * 0.45, n * 0.04, n * 0.04)] = (60.0, 40.0, 25.0)  # iris
    image[_ellipse(size, n * 0.5, n * 0.60, n * 0.05, n * 0.10)] *= 0.88  # nose
    image[_ellipse(size, n * 0.5, n * 0.68, n * 0.07, n * 0.025)] *= 0.6  # nostrils
    image[_ellipse(size, n * 0.5, n * 0.79, n * 0.15, n * 0.035)] = (150.0, 60.0, 60.0)  # mouth
    return np.clip(image, 0.0, 255.0).astype(np.uint8)


def _add_people(spec: mujoco.MjSpec, scene: Scene, options: SimOptions) -> None:
    """Each person as one body: two legs, a torso in the shirt colour, two arms, a neck and a head whose front
    (+x of the person, the direction it faces) carries the face texture. Proportions scale with the height. A person
    with a path is a mocap body (the simulation moves it; `Simulation._move_people`), else a static one."""
    if not scene.people:
        return
    texture = face_texture()
    spec.add_texture(name="person_face", type=mujoco.mjtTexture.mjTEXTURE_2D, width=texture.shape[1],
                     height=texture.shape[0], nchannel=3).data = texture.tobytes()
    material = spec.add_material(name="person_face")
    material.textures[mujoco.mjtTextureRole.mjTEXROLE_RGB] = "person_face"
    box, cylinder = mujoco.mjtGeom.mjGEOM_BOX, mujoco.mjtGeom.mjGEOM_CYLINDER
    friction = options.furniture_friction
    for person in scene.people:
        height = person.height
        head_z = height - FACE_HEIGHT / 2.0
        shoulder = height - FACE_HEIGHT - 0.06
        hip = 0.53 * height
        arm = 0.42 * height
        body = spec.worldbody.add_body(name=person.id, pos=[*person.position, 0.0],
                              quat=_wxyz(quaternion_from_yaw(person.yaw)))
        body.mocap = bool(person.path)
        for side in (1.0, -1.0):
            tag = "left" if side > 0 else "right"
            _static_geom(body, f"{person.id}/{tag}_leg", box, [0.07, 0.07, hip / 2.0], [0.0, side * 0.1, hip / 2.0],
                         TROUSERS, friction)
            _static_geom(body, f"{person.id}/{tag}_arm", box, [0.045, 0.045, arm / 2.0],
                         [0.0, side * 0.25, shoulder - arm / 2.0], SKIN, friction)
        _static_geom(body, f"{person.id}/torso", box, [0.11, 0.2, (shoulder - hip) / 2.0],
                     [0.0, 0.0, (shoulder + hip) / 2.0], person.shirt_colour, friction)
        _static_geom(body, f"{person.id}/neck", cylinder, [0.055, 0.03], [0.0, 0.0, shoulder + 0.03], SKIN, friction)
        _static_geom(body, f"{person.id}/head", box, [0.1, FACE_WIDTH / 2.0, FACE_HEIGHT / 2.0], [0.0, 0.0, head_z],
                     SKIN, friction)
        body.add_geom(name=f"{person.id}/face", type=box, size=[0.003, FACE_WIDTH / 2.0, FACE_HEIGHT / 2.0],
                      pos=[0.103, 0.0, head_z], material="person_face", contype=0, conaffinity=0)


@dataclass(frozen=True)
class RobotInWorld:
    """One robot to build into a world: its description, configuration and the prefix of its element names."""

    urdf: str
    """Expanded URDF text."""
    config: RobotConfig
    prefix: str = ""
    """Put before every name of the robot's bodies, joints, actuators, sites, sensors and camera (`robot_1/`); empty
    for the one robot of a single-robot scene (names exactly as in the URDF)."""


@dataclass(frozen=True)
class BuiltWorld:
    """A compiled model of one or more robots in a scene; `robots[k]` has robot k's indices (each a BuiltModel)."""

    model: mujoco.MjModel
    robots: tuple[BuiltModel, ...]


def _robot_spec(robot: RobotInWorld, options: SimOptions,
                index: int = 0) -> tuple[mujoco.MjSpec, dict[str, mujoco.MjsBody]]:
    """The robot's URDF as an MjSpec with everything `_add_robot` adds (names not yet prefixed)."""
    try:
        spec = mujoco.MjSpec.from_string(_compiler_settings(robot.urdf))
    except ValueError as error:
        raise SimError(f"robot description of '{robot.config.name}' does not load into MuJoCo: {error}") from error
    return spec, _add_robot(spec, robot.config, options, index)


def build_world(robots: list[RobotInWorld] | tuple[RobotInWorld, ...], scene: Scene,
                options: SimOptions | None = None) -> BuiltWorld:
    """Compile `robots` (each with its own prefix) standing in `scene`, simulated together in one model.

    A single robot without a prefix is the robot's own URDF spec with the scene added to it (element names exactly
    as in the URDF). Several robots are each built as such a spec and attached to an empty world spec
    (`MjSpec.attach` with the robot's prefix), so robot k's joint `l_knee` is `robot_k/l_knee` in the model. Robot
    geoms collide with the world and with other robots' geoms, never with their own robot's (`robot_bit`).

    Raises:
        SimError: no robot, duplicate prefixes, a URDF that does not parse or load, lacks a joint or frame that its
            config names, has a joint without an effort limit, or a scene name clashes with a robot link.
    """
    options = options or SimOptions()
    if not robots:
        raise SimError("build_world needs at least one robot")
    if len(robots) > MAX_ROBOTS:
        raise SimError(f"a world holds at most {MAX_ROBOTS} robots, got {len(robots)}")
    prefixes = [robot.prefix for robot in robots]
    if len(set(prefixes)) != len(prefixes) or (len(robots) > 1 and "" in prefixes):
        raise SimError(f"robots in one world need distinct, non-empty name prefixes, got {prefixes}")
    scene_names = [t.name for t in scene.tables] + [b.name for b in scene.bins] + [o.name for o in scene.obstacles]
    scene_names += [p.id for p in scene.parts] + [p.id for p in scene.people]
    feet: list[dict[str, str]] = []
    """Per robot, side -> name (unprefixed) of the foot body."""
    if len(robots) == 1 and not robots[0].prefix:
        spec, robot_feet = _robot_spec(robots[0], options)
        feet.append({side: body.name for side, body in robot_feet.items()})
        robot_names = {b.name for b in spec.bodies}
        spec.modelname = f"{robots[0].config.name}_{scene.name}"
    else:
        spec = mujoco.MjSpec()
        spec.compiler.discardvisual = False
        spec.compiler.fusestatic = True
        spec.modelname = f"{len(robots)}_robots_{scene.name}"
        robot_names = set()
        for index, robot in enumerate(robots):
            child, robot_feet = _robot_spec(robot, options, index)
            feet.append({side: body.name for side, body in robot_feet.items()})  # attach renames the child's bodies
            robot_names |= {robot.prefix + b.name for b in child.bodies}
            spec.attach(child, prefix=robot.prefix, frame=spec.worldbody.add_frame())
    clashes = sorted(robot_names.intersection(scene_names))
    if clashes:
        raise SimError(f"scene {scene.source}: name(s) {clashes} clash with links of robot "
                       f"'{robots[0].config.name}'")
    spec.compiler.inertiafromgeom = mujoco.mjtInertiaFromGeom.mjINERTIAFROMGEOM_FALSE  # URDF inertials only
    spec.option.timestep = options.timestep
    spec.option.integrator = mujoco.mjtIntegrator.mjINT_IMPLICITFAST
    spec.option.cone = mujoco.mjtCone.mjCONE_ELLIPTIC if options.elliptic_cone else mujoco.mjtCone.mjCONE_PYRAMIDAL
    spec.option.impratio = options.impratio
    spec.option.noslip_iterations = options.noslip_iterations
    spec.visual.global_.offwidth = max(options.camera_width, 640)
    spec.visual.global_.offheight = max(options.camera_height, 480)
    spec.visual.headlight.ambient = [0.35, 0.35, 0.35]
    spec.visual.headlight.diffuse = [0.3, 0.3, 0.3]
    spec.visual.headlight.specular = [0.0, 0.0, 0.0]

    _add_scene(spec, scene, options)
    _add_people(spec, scene, options)
    names = " and ".join(sorted({f"'{robot.config.name}'" for robot in robots}))
    try:
        model = spec.compile()
    except ValueError as error:
        raise SimError(f"model of robot {names} in scene '{scene.name}' does not compile: {error}") from error

    extent = model.stat.extent
    model.vis.map.znear = options.camera_near / extent
    model.vis.map.zfar = options.camera_far / extent
    part_bodies = {p.id: model.body(p.id).id for p in scene.parts}
    part_qpos_adr = {p.id: int(model.jnt_qposadr[model.joint(f"{p.id}/free").id]) for p in scene.parts}
    return BuiltWorld(model=model, robots=tuple(
        _built_robot(model, robot, robot_feet, part_bodies, part_qpos_adr)
        for robot, robot_feet in zip(robots, feet, strict=True)))


def _built_robot(model: mujoco.MjModel, robot: RobotInWorld, feet: dict[str, str],
                 part_bodies: dict[str, int], part_qpos_adr: dict[str, int]) -> BuiltModel:
    """Robot `robot`'s indices in the compiled `model`."""
    prefix = robot.prefix
    actuators = [i for i in range(model.nu) if model.actuator(i).name.startswith(prefix)
                 and model.actuator(i).name[len(prefix):] in robot.config.group_of]
    joint_ids = np.array([model.actuator_trnid[i, 0] for i in actuators])
    free_joint = model.joint(prefix + FREE_JOINT_NAME).id
    return BuiltModel(
        model=model,
        joint_names=tuple(model.actuator(i).name[len(prefix):] for i in actuators),
        qpos_adr=model.jnt_qposadr[joint_ids].copy(),
        dof_adr=model.jnt_dofadr[joint_ids].copy(),
        effort_limit=model.actuator_ctrlrange[actuators, 1].copy(),
        root_body=model.body(prefix + robot.config.frames["base"]).id,
        root_qpos_adr=int(model.jnt_qposadr[free_joint]),
        root_dof_adr=int(model.jnt_dofadr[free_joint]),
        foot_bodies={side: model.body(prefix + feet[side]).id for side in SIDES},
        part_bodies=part_bodies,
        part_qpos_adr=part_qpos_adr,
        camera=prefix + CAMERA_NAME,
        prefix=prefix,
        actuator_ids=np.array(actuators, dtype=int),
    )


def build_model(urdf: str, config: RobotConfig, scene: Scene, options: SimOptions | None = None) -> BuiltModel:
    """Compile the robot (expanded URDF text, described by `config`) standing in `scene` (`build_world` with one
    robot and no name prefix).

    Raises:
        SimError: the URDF does not parse or load, lacks a joint or frame that `config` names, has a joint without
            an effort limit, or a scene name clashes with a robot link (the message says which).
    """
    return build_world([RobotInWorld(urdf, config)], scene, options).robots[0]
