"""Generated humanoids unlike Centurion (plain URDF + Legion robot file), to prove the stack runs on any humanoid.

    from legion_testing.humanoids import GRIPPER, SPRITE, write_humanoid

    config_path = write_humanoid(SPRITE, tmp_path)     # writes sprite.urdf and sprite.yaml; returns the yaml path

A `HumanoidSpec` says how a robot differs from Centurion: its size (`scale`: lengths relative to Centurion's) and
mass (`mass_scale`: link masses relative to Centurion's), its waist, neck, arm and hand joints, where its IMU and
camera sit, and how its joints and links are named. Everything else follows Centurion's xacro (urdf/centurion/):
the same anatomy and joint axes (pitch +y, roll +x, yaw +z, elbow -y so that positive flexes), the same angular
limits, a standing posture that flexes hip, knee and ankle pitch so that the soles stay flat under the hips, link
bodies made of boxes, cylinders and spheres whose inertias follow from their masses and sizes (visual = collision),
and actuator classes whose efforts and dampings scale with mass x size (the gravity torque a joint holds).

Two ready robots:
- `SPRITE`: 1.3 m, about 32 kg; 6-joint legs, waist yaw + pitch, 7-joint arms, no neck (the camera is fixed on the
  head, tilted down), the IMU in the torso (behind the waist joints), 7-joint hands (thumb 2, index 2, middle 2, ring
  and little fingers as one coupled link) whose right hand has mirrored joint axes: the right fingers close with
  negative angles, so its synergies are the left hand's negated.
- `GRIPPER`: 1.6 m, about 54 kg; vendor-style names (`left_hip_pitch_joint`, links `pelvis`, `left_ankle_roll_link`,
  Legion frames such as `left_sole_link` added as fixed links), hip joints in pitch-roll-yaw order, a 3-joint waist
  (yaw, roll, pitch), a 2-joint neck, 6-joint arms and single-joint grippers (one swinging jaw against a fixed one).

Units: m, kg, rad, N m, s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

SIDES = {"left": 1.0, "right": -1.0}
"""Side -> reflect: a left-side point (x, y, z) mirrors to (x, reflect * y, z)."""

CENTURION_HEIGHT = 1.73
"""Standing height of Centurion, sole to the top of the head [m]; `scale` multiplies it."""
CENTURION_MASS = 65.0
"""[kg] approximately; `mass_scale` multiplies it."""

# Joint axes (left side) of Centurion's conventions.
_X, _Y, _Z, _NEG_Y = (1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0), (0.0, -1.0, 0.0)

# Hand joint axes, left-hand form (palm normal -y, fingers along -z, thumb side +x), as in centurion/hand.xacro.
_FLEX = (-1.0, 0.0, 0.0)
"""Curls a digit towards the palm."""
_ACROSS = (0.0, 1.0, 0.0)
"""Folds the thumb across the palm."""
_TWIST = (0.0, 0.0, 1.0)
"""Turns the thumb about its own axis (opposition)."""

_DIGIT_DENSITY = 1300.0
"""Mean density of a finger link [kg/m^3] (hollow shells with tendons and sensors)."""

# Centurion's actuator classes (urdf/centurion/actuators.xacro): effort [N m], velocity [rad/s], damping [N m s/rad].
_ACTUATORS = {
    "hip_yaw": (150.0, 12.0, 1.0),
    "hip_roll": (200.0, 10.0, 1.0),
    "hip_pitch": (250.0, 12.0, 1.0),
    "knee": (300.0, 10.0, 1.0),
    "ankle_pitch": (150.0, 12.0, 0.5),
    "ankle_roll": (100.0, 12.0, 0.5),
    "waist": (150.0, 8.0, 1.0),
    "shoulder": (100.0, 10.0, 0.5),
    "shoulder_yaw": (60.0, 12.0, 0.3),
    "elbow": (60.0, 12.0, 0.3),
    "wrist": (20.0, 12.0, 0.1),
    "wrist_small": (15.0, 12.0, 0.1),
    "neck": (15.0, 8.0, 0.1),
    "thumb_base": (3.0, 6.0, 0.01),
    "finger_flex": (2.0, 8.0, 0.01),
    "finger_mid": (1.5, 8.0, 0.01),
    "jaw": (8.0, 6.0, 0.02),
}

# Centurion's position-hold gains per joint group (config/robots/centurion.yaml): stiffness, damping.
_GAINS = {"legs": (800.0, 10.0), "waist": (400.0, 8.0), "arms": (100.0, 2.0), "neck": (20.0, 0.5), "hands": (2.0, 0.05)}
_GRIPPER_GAINS = (10.0, 0.15)
"""Position-hold gains of a gripper jaw at Centurion's size: ~3 N m (35 N at the jaw tip) for 0.3 rad of squeeze."""

# Limits [rad] as seen on the left side (Centurion's).
_LIMITS = {
    "hip_yaw": (-0.60, 0.80),
    "hip_roll": (-0.35, 0.80),
    "hip_pitch": (-2.20, 0.60),
    "knee": (0.0, 2.40),
    "ankle_pitch": (-0.80, 0.70),
    "ankle_roll": (-0.35, 0.35),
    "waist_yaw": (-1.00, 1.00),
    "waist_roll": (-0.40, 0.40),
    "waist_pitch": (-0.30, 1.00),
    "neck_yaw": (-1.30, 1.30),
    "neck_pitch": (-0.60, 0.90),
    "shoulder_pitch": (-3.00, 1.00),
    "shoulder_roll": (-0.30, 2.80),
    "shoulder_yaw": (-1.50, 1.50),
    "elbow": (0.0, 2.50),
    "wrist_yaw": (-1.50, 1.50),
    "wrist_pitch": (-0.35, 0.60),
    "wrist_roll": (-1.20, 1.00),
}


@dataclass(frozen=True)
class HumanoidSpec:
    """How a generated humanoid differs from Centurion."""

    name: str
    """Robot name (letters, digits, underscores); also the file names `<name>.urdf`, `<name>.yaml`."""
    scale: float = 1.0
    """Every length relative to Centurion's."""
    mass_scale: float = 1.0
    """Every link mass relative to Centurion's (finger links: digit density x volume instead)."""
    naming: str = "short"
    """`short`: Centurion-like names (`l_hip_pitch`, `l_thigh`, `l_sole`); `vendor`: `left_hip_pitch_joint`,
    links named after the joint that moves them (`left_ankle_roll_link`), frames `left_sole_link` ..."""
    hip_order: tuple[str, ...] = ("yaw", "roll", "pitch")
    """Order of the hip joints from the pelvis down; yaw first puts the yaw motor above the hip centre, otherwise all
    three axes meet at the hip centre."""
    waist: tuple[str, ...] = ("yaw", "pitch")
    """Waist joints from the pelvis up, a subsequence of (yaw, roll, pitch); () for none."""
    neck: bool = True
    """A neck (yaw, pitch); without one the head is fixed to the torso."""
    wrist: tuple[str, ...] = ("yaw", "pitch", "roll")
    """Wrist joints after the elbow (yaw: forearm rotation, pitch: in the palm plane, roll: across it); the arm has
    four more (shoulder pitch, roll, yaw, elbow)."""
    hand: str = "fingers"
    """`fingers`: a 7-joint hand (thumb 2, index 2, middle 2, ring + little 1); `gripper`: one jaw joint."""
    mirror_right_hand_signs: bool = False
    """Give the right hand the left hand's joint axes reflected as vectors, so that its joints close with negative
    angles (the right hand's synergies are the left's negated); otherwise its axes are mirrored so that a value means
    the same motion on both hands (Centurion's convention)."""
    imu_in_torso: bool = False
    """The IMU on the torso (behind the waist joints) rather than on the pelvis."""
    camera_pitch: float = 0.0
    """Downward tilt of the head camera on the head [rad]; a robot without a neck needs one to see a table."""
    inspect_table: dict[str, float] = field(default_factory=dict)
    """Posture that points the camera at a work table 0.35 m ahead: joint role (`waist_pitch`, `neck_pitch`) ->
    position [rad]."""
    sensors: bool = False
    """Copy Centurion's `sensors:` block (its sensors' error figures); otherwise the sensors are ideal."""
    walking: tuple[str, ...] = ()
    """Walking dimensions the robot file sets (Centurion's, scaled); the gait planner derives the others from the
    model."""

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise ValueError(f"robot name must be letters, digits and underscores, got {self.name!r}")
        if not (0.3 <= self.scale <= 2.0 and 0.05 <= self.mass_scale <= 5.0):
            raise ValueError(f"scale {self.scale} or mass_scale {self.mass_scale} out of range")
        if self.naming not in ("short", "vendor"):
            raise ValueError(f"naming must be 'short' or 'vendor', got {self.naming!r}")
        if sorted(self.hip_order) != ["pitch", "roll", "yaw"]:
            raise ValueError(f"hip_order must order yaw, roll and pitch, got {self.hip_order}")
        if list(self.waist) != [j for j in ("yaw", "roll", "pitch") if j in self.waist]:
            raise ValueError(f"waist must be a subsequence of (yaw, roll, pitch), got {self.waist}")
        if list(self.wrist) != [j for j in ("yaw", "pitch", "roll") if j in self.wrist]:
            raise ValueError(f"wrist must be a subsequence of (yaw, pitch, roll), got {self.wrist}")
        if self.hand not in ("fingers", "gripper"):
            raise ValueError(f"hand must be 'fingers' or 'gripper', got {self.hand!r}")

    @property
    def torque_scale(self) -> float:
        """Effort limits and joint stiffnesses relative to Centurion's: mass x length (the gravity torques)."""
        return self.mass_scale * self.scale

    @property
    def damping_scale(self) -> float:
        """Joint dampings relative to Centurion's: sqrt(stiffness x inertia) ~ mass x length^1.5."""
        return self.mass_scale * self.scale**1.5


SPRITE = HumanoidSpec(
    name="sprite",
    scale=0.75,
    mass_scale=0.5,
    naming="short",
    waist=("yaw", "pitch"),
    neck=False,
    wrist=("yaw", "pitch", "roll"),
    hand="fingers",
    mirror_right_hand_signs=True,
    imu_in_torso=True,
    camera_pitch=0.6,
    inspect_table={"waist_pitch": 0.3},
)
"""1.3 m, ~32 kg, no neck, IMU in the torso, 7-joint hands with sign-mirrored right-hand joints; every walking
dimension derived from the model."""

GRIPPER = HumanoidSpec(
    name="gripper",
    scale=0.925,
    mass_scale=0.8,
    naming="vendor",
    hip_order=("pitch", "roll", "yaw"),
    waist=("yaw", "roll", "pitch"),
    neck=True,
    wrist=("yaw", "pitch"),
    hand="gripper",
    camera_pitch=0.25,
    inspect_table={"neck_pitch": 0.6},
    sensors=True,
    walking=("com_height", "step_width", "step_height"),
)
"""1.6 m, ~54 kg, vendor-style names, 3-joint waist, 2-joint neck, 6-joint arms, 1-DoF grippers; some walking
dimensions in the robot file, the others derived."""


# ==================================================================================================== names


@dataclass(frozen=True)
class _Names:
    """Joint, link and frame names of one naming style."""

    vendor: bool

    def side(self, side: str) -> str:
        return side if self.vendor else side[0]

    def joint(self, role: str, side: str | None = None) -> str:
        base = role if side is None else f"{self.side(side)}_{role}"
        return f"{base}_joint" if self.vendor else base

    def link(self, role: str, side: str | None = None) -> str:
        """The link moved by joint `role`: `<role>_link` in either style."""
        base = role if side is None else f"{self.side(side)}_{role}"
        return f"{base}_link"

    def frame(self, role: str, side: str | None = None) -> str:
        """A named body or frame (`torso`, `l_thigh`, `l_sole`; vendor style `torso_link`, `left_sole_link`)."""
        base = role if side is None else f"{self.side(side)}_{role}"
        return f"{base}_link" if self.vendor else base


# ==================================================================================================== URDF bodies


@dataclass(frozen=True)
class _Shape:
    """A primitive solid: `box` (size = x, y, z), `cylinder` (radius, length along its z) or `sphere` (radius)."""

    kind: str
    size: tuple[float, ...]
    mass: float
    xyz: tuple[float, float, float] = (0.0, 0.0, 0.0)
    rpy: tuple[float, float, float] = (0.0, 0.0, 0.0)
    material: str = "dark_grey"

    def inertia(self) -> np.ndarray:
        """Inertia about the centre in the shape's axes [kg m^2].  # (3, 3)"""
        m = self.mass
        if self.kind == "box":
            x, y, z = self.size
            return np.diag([m * (y * y + z * z), m * (x * x + z * z), m * (x * x + y * y)]) / 12.0
        if self.kind == "cylinder":
            r, h = self.size
            side = m * (3.0 * r * r + h * h) / 12.0
            return np.diag([side, side, m * r * r / 2.0])
        (r,) = self.size
        return np.eye(3) * 0.4 * m * r * r

    def geometry(self) -> str:
        if self.kind == "box":
            return f'<box size="{_fmt(self.size)}"/>'
        if self.kind == "cylinder":
            return f'<cylinder radius="{self.size[0]:.6g}" length="{self.size[1]:.6g}"/>'
        return f'<sphere radius="{self.size[0]:.6g}"/>'


def _fmt(values: tuple[float, ...] | np.ndarray) -> str:
    return " ".join(f"{0.0 if abs(v) < 1e-12 else float(v):.9g}" for v in values)


def _rotation(rpy: tuple[float, float, float]) -> np.ndarray:
    """URDF fixed-axis roll-pitch-yaw: R = Rz(yaw) Ry(pitch) Rx(roll).  # (3, 3)"""
    r, p, y = rpy
    cr, sr, cp, sp, cy, sy = math.cos(r), math.sin(r), math.cos(p), math.sin(p), math.cos(y), math.sin(y)
    return np.array(
        [
            [cy * cp, cy * sp * sr - sy * cr, cy * sp * cr + sy * sr],
            [sy * cp, sy * sp * sr + cy * cr, sy * sp * cr - cy * sr],
            [-sp, cp * sr, cp * cr],
        ]
    )


def _inertial(shapes: list[_Shape]) -> str:
    """One URDF <inertial> for a rigid union of shapes: total mass, centre of mass, inertia about it (parallel axes)."""
    mass = sum(s.mass for s in shapes)
    com = sum(s.mass * np.array(s.xyz) for s in shapes) / mass
    inertia = np.zeros((3, 3))
    for s in shapes:
        rotation = _rotation(s.rpy)
        d = np.array(s.xyz) - com
        inertia += rotation @ s.inertia() @ rotation.T + s.mass * (d @ d * np.eye(3) - np.outer(d, d))
    return (
        f'<inertial><origin xyz="{_fmt(com)}" rpy="0 0 0"/><mass value="{mass:.6g}"/>'
        f'<inertia ixx="{inertia[0, 0]:.6g}" ixy="{inertia[0, 1]:.6g}" ixz="{inertia[0, 2]:.6g}" '
        f'iyy="{inertia[1, 1]:.6g}" iyz="{inertia[1, 2]:.6g}" izz="{inertia[2, 2]:.6g}"/></inertial>'
    )


class _Urdf:
    """Accumulates URDF links and joints."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.parts: list[str] = []
        self.actuated: list[str] = []

    def link(self, name: str, *shapes: _Shape) -> None:
        """A link made of `shapes` (visual = collision, inertia from the shapes); none: a massless frame."""
        if not shapes:
            self.parts.append(f'  <link name="{name}"/>')
            return
        body = [_inertial(list(shapes))]
        for s in shapes:
            origin = f'<origin xyz="{_fmt(s.xyz)}" rpy="{_fmt(s.rpy)}"/>'
            geometry = f"<geometry>{s.geometry()}</geometry>"
            body.append(f'<visual>{origin}{geometry}<material name="{s.material}"/></visual>')
            body.append(f"<collision>{origin}{geometry}</collision>")
        self.parts.append(f'  <link name="{name}">\n    ' + "\n    ".join(body) + "\n  </link>")

    def revolute(
        self,
        name: str,
        parent: str,
        child: str,
        axis: tuple[float, float, float],
        limits: tuple[float, float],
        actuator: tuple[float, float, float],
        xyz: tuple[float, float, float] = (0.0, 0.0, 0.0),
        rpy: tuple[float, float, float] = (0.0, 0.0, 0.0),
    ) -> None:
        effort, velocity, damping = actuator
        self.actuated.append(name)
        self.parts.append(
            f'  <joint name="{name}" type="revolute"><parent link="{parent}"/><child link="{child}"/>'
            f'<origin xyz="{_fmt(xyz)}" rpy="{_fmt(rpy)}"/><axis xyz="{_fmt(axis)}"/>'
            f'<limit lower="{limits[0]:.6g}" upper="{limits[1]:.6g}" effort="{effort:.6g}" '
            f'velocity="{velocity:.6g}"/><dynamics damping="{damping:.6g}" friction="0"/></joint>'
        )

    def fixed(
        self,
        name: str,
        parent: str,
        child: str,
        xyz: tuple[float, float, float] = (0.0, 0.0, 0.0),
        rpy: tuple[float, float, float] = (0.0, 0.0, 0.0),
    ) -> None:
        self.parts.append(
            f'  <joint name="{name}" type="fixed"><parent link="{parent}"/><child link="{child}"/>'
            f'<origin xyz="{_fmt(xyz)}" rpy="{_fmt(rpy)}"/></joint>'
        )

    def frame(
        self,
        name: str,
        parent: str,
        xyz: tuple[float, float, float] = (0.0, 0.0, 0.0),
        rpy: tuple[float, float, float] = (0.0, 0.0, 0.0),
    ) -> None:
        """Massless frame `name` fixed to `parent`."""
        self.link(name)
        self.fixed(f"{name}_fixed", parent, name, xyz, rpy)

    def xml(self, comment: str) -> str:
        materials = (
            '  <material name="dark_grey"><color rgba="0.22 0.23 0.25 1"/></material>\n'
            '  <material name="light"><color rgba="0.85 0.86 0.88 1"/></material>\n'
            '  <material name="black"><color rgba="0.06 0.06 0.07 1"/></material>\n'
            '  <material name="accent"><color rgba="0.95 0.55 0.10 1"/></material>'
        )
        return (
            f'<?xml version="1.0"?>\n<!--\n{comment}\n-->\n<robot name="{self.name}">\n{materials}\n'
            + "\n".join(self.parts)
            + "\n</robot>\n"
        )


# ==================================================================================================== the generator


class _Builder:
    """Writes one robot's URDF and collects what its robot file needs."""

    def __init__(self, spec: HumanoidSpec) -> None:
        self.spec = spec
        self.n = _Names(spec.naming == "vendor")
        self.urdf = _Urdf(spec.name)
        self.groups: dict[str, object] = {"legs": {}, "arms": {}}
        self.hands: dict[str, dict] = {}
        self.frames: dict[str, str] = {"odom": "odom"}
        self.sides: dict[str, dict[str, str]] = {side: {} for side in SIDES}
        self.roles: dict[str, str] = {}
        """Joint role (`waist_pitch`, `l_knee`, ...) -> joint name."""

    # ------------------------------------------------------------------------------------------------ helpers
    def L(self, value: float) -> float:  # noqa: N802 (a length, scaled)
        return value * self.spec.scale

    def P(self, x: float, y: float, z: float, reflect: float = 1.0) -> tuple[float, float, float]:  # noqa: N802
        """A Centurion-size left-side point, scaled and mirrored."""
        s = self.spec.scale
        return (x * s, reflect * y * s, z * s)

    def M(self, value: float) -> float:  # noqa: N802 (a mass, scaled)
        return value * self.spec.mass_scale

    def act(self, kind: str) -> tuple[float, float, float]:
        effort, velocity, damping = _ACTUATORS[kind]
        return effort * self.spec.torque_scale, velocity, damping * self.spec.damping_scale

    def joint(
        self,
        role: str,
        parent: str,
        child: str,
        axis: tuple[float, float, float],
        limits: str | tuple,
        actuator: str,
        xyz: tuple[float, float, float] = (0.0, 0.0, 0.0),
        side: str | None = None,
        mirror: bool = False,
    ) -> str:
        """An actuated joint; `mirror` negates the range on the right side (roll and yaw joints, whose axes are the
        same on both sides)."""
        lower, upper = _LIMITS[limits] if isinstance(limits, str) else limits
        if mirror and side == "right":
            lower, upper = -upper, -lower
        name = self.n.joint(role, side)
        self.urdf.revolute(name, parent, child, axis, (lower, upper), self.act(actuator), xyz)
        self.roles[role if side is None else f"{side[0]}_{role}"] = name
        return name

    # ------------------------------------------------------------------------------------------------ trunk
    def trunk(self) -> None:
        spec, n, u = self.spec, self.n, self.urdf
        base = "pelvis"
        u.link(base, _Shape("box", self.P(0.14, 0.26, 0.11), self.M(8.0), self.P(0, 0, 0.005)))
        self.frames["base"] = base
        parent, z = base, self.L(0.065)
        segments = {"yaw": (_Z, 2.0, 0.055), "roll": (_X, 1.0, 0.0), "pitch": (_Y, 0.0, 0.0)}
        waist_joints = []
        for i, role in enumerate(spec.waist):
            axis, mass, rise = segments[role]
            last = i == len(spec.waist) - 1
            child = n.frame("torso") if last else n.link(f"waist_{role}")
            waist_joints.append(
                self.joint(f"waist_{role}", parent, child, axis, f"waist_{role}", "waist", xyz=(0.0, 0.0, z))
            )
            if not last:
                u.link(
                    child,
                    _Shape(
                        "cylinder",
                        self.P(0.07, 0.045, 0)[:2],
                        self.M(max(mass, 0.5)),
                        self.P(0, 0, 0.0275),
                        material="black",
                    ),
                )
            parent, z = child, self.L(rise) if not last else 0.0
        torso = n.frame("torso")
        if not spec.waist:  # the torso fixed on the pelvis
            u.fixed(n.joint("torso_fixed"), base, torso, (0.0, 0.0, self.L(0.12)))
        self.groups["waist"] = waist_joints
        u.link(
            torso,
            _Shape("box", self.P(0.20, 0.28, 0.28), self.M(16.0), self.P(0, 0, 0.20), material="light"),
            _Shape("box", self.P(0.15, 0.20, 0.06), self.M(1.0), self.P(0, 0, 0.03)),
        )
        self.frames["torso"] = torso
        imu = "imu" if spec.naming == "short" else "imu_in_pelvis"
        if spec.imu_in_torso:
            imu = "imu" if spec.naming == "short" else "imu_in_torso"
            u.frame(imu, torso, self.P(-0.06, 0, 0.12))
        else:
            u.frame(imu, base, self.P(0, 0, 0.03))
        self.frames["imu"] = imu

        # neck and head
        head = n.frame("head")
        neck_top = self.P(0, 0, 0.35)
        if spec.neck:
            neck_link = n.link("neck_yaw")
            self.groups["neck"] = [
                self.joint("neck_yaw", torso, neck_link, _Z, "neck_yaw", "neck", xyz=neck_top),
                self.joint("neck_pitch", neck_link, head, _Y, "neck_pitch", "neck", xyz=self.P(0, 0, 0.05)),
            ]
            u.link(neck_link, _Shape("cylinder", self.P(0.035, 0.045, 0)[:2], self.M(0.3), self.P(0, 0, 0.0225)))
        else:
            u.fixed(n.joint("head_fixed"), torso, head, (neck_top[0], 0.0, neck_top[2] + self.L(0.05)))
        head_height = 0.245
        u.link(
            head,
            _Shape(
                "box",
                self.P(0.19, 0.16, head_height - 0.035),
                self.M(2.5),
                self.P(0.01, 0, (head_height + 0.035) / 2.0),
                material="light",
            ),
            _Shape("cylinder", self.P(0.03, 0.035, 0)[:2], self.M(0.2), self.P(0, 0, 0.0175)),
        )
        self.frames["head"] = head
        eye = self.P(0.10, 0, 0.15)
        camera = "head_camera" if spec.naming == "short" else "d435"
        camera_link = f"{camera}_link"
        u.frame(camera_link, head, eye, (0.0, spec.camera_pitch, 0.0))
        optical = (-math.pi / 2.0, 0.0, -math.pi / 2.0)
        u.frame(f"{camera}_color_optical_frame", camera_link, rpy=optical)
        u.frame(f"{camera}_depth_optical_frame", camera_link, rpy=optical)
        self.frames.update(
            camera=camera_link,
            camera_color_optical=f"{camera}_color_optical_frame",
            camera_depth_optical=f"{camera}_depth_optical_frame",
        )
        if spec.neck:  # the gaze frame aims the camera with the neck: it coincides with the camera link
            gaze = n.frame("gaze")
            u.frame(gaze, head, eye, (0.0, spec.camera_pitch, 0.0))
            self.frames["gaze"] = gaze

    # ------------------------------------------------------------------------------------------------ legs
    def leg(self, side: str, reflect: float) -> None:
        spec, n, u = self.spec, self.n, self.urdf
        names = []
        yaw_first = spec.hip_order[0] == "yaw"
        hip_centre = self.P(0, 0.10, -0.13, reflect)
        parent = "pelvis"
        hip_axes = {"yaw": _Z, "roll": _X, "pitch": _Y}
        for i, role in enumerate(spec.hip_order):
            child = (
                n.link(f"hip_{role}", side)
                if spec.naming == "vendor" or role != spec.hip_order[-1]
                else n.frame("thigh", side)
            )
            if yaw_first:
                xyz = self.P(0, 0.10, -0.055, reflect) if i == 0 else (self.P(0, 0, -0.075) if i == 1 else (0, 0, 0))
            else:
                xyz = hip_centre if i == 0 else (0.0, 0.0, 0.0)
            names.append(
                self.joint(
                    f"hip_{role}",
                    parent,
                    child,
                    hip_axes[role],
                    f"hip_{role}",
                    f"hip_{role}",
                    xyz=xyz,
                    side=side,
                    mirror=role != "pitch",
                )
            )
            if i == 2:
                u.link(
                    child,
                    _Shape("cylinder", self.P(0.055, 0.27, 0)[:2], self.M(5.0), self.P(0, 0, -0.205), material="light"),
                    _Shape("sphere", (self.L(0.05),), self.M(0.3), self.P(0, 0, -0.40)),
                )
            elif role == "yaw":
                u.link(
                    child,
                    _Shape(
                        "cylinder",
                        self.P(0.045, 0.045, 0)[:2],
                        self.M(1.2),
                        self.P(0, 0, -0.0275) if yaw_first else (0.0, 0.0, 0.0),
                    ),
                )
            else:
                u.link(child, _Shape("box", self.P(0.11, 0.08, 0.06), self.M(1.8 if role == "roll" else 1.2)))
            parent = child
        shank = n.link("knee", side) if spec.naming == "vendor" else n.frame("shank", side)
        names.append(self.joint("knee", parent, shank, _Y, "knee", "knee", xyz=self.P(0, 0, -0.40), side=side))
        u.link(
            shank, _Shape("cylinder", self.P(0.045, 0.29, 0)[:2], self.M(3.0), self.P(0, 0, -0.195), material="light")
        )
        ankle_link = n.link("ankle_pitch", side)
        names.append(
            self.joint(
                "ankle_pitch", shank, ankle_link, _Y, "ankle_pitch", "ankle_pitch", xyz=self.P(0, 0, -0.40), side=side
            )
        )
        u.link(ankle_link, _Shape("sphere", (self.L(0.03),), self.M(0.3)))
        foot = n.link("ankle_roll", side) if spec.naming == "vendor" else n.frame("foot", side)
        names.append(self.joint("ankle_roll", ankle_link, foot, _X, "ankle_roll", "ankle_roll", side=side, mirror=True))
        sole_length, sole_width, thickness, ankle_height, sole_x = (self.L(v) for v in (0.22, 0.10, 0.04, 0.07, 0.03))
        u.link(
            foot,
            _Shape(
                "box", (sole_length, sole_width, thickness), self.M(1.0), (sole_x, 0.0, thickness / 2.0 - ankle_height)
            ),
        )
        ankle = n.frame("ankle_ft", side) if spec.naming == "vendor" else n.frame("ankle", side)
        sole = n.frame("sole", side)
        u.frame(ankle, foot)
        u.frame(sole, foot, (sole_x, 0.0, -ankle_height))
        self.sides[side].update(ankle=ankle, sole=sole)
        self.groups["legs"][side] = names
        self.sole = (sole_length, sole_width)

    # ------------------------------------------------------------------------------------------------ arms
    def arm(self, side: str, reflect: float) -> None:
        spec, n, u = self.spec, self.n, self.urdf
        torso = n.frame("torso")
        names = []
        link = n.link("shoulder_pitch", side)
        names.append(
            self.joint(
                "shoulder_pitch",
                torso,
                link,
                _Y,
                "shoulder_pitch",
                "shoulder",
                xyz=self.P(0, 0.165, 0.30, reflect),
                side=side,
            )
        )
        u.link(
            link,
            _Shape(
                "cylinder",
                self.P(0.045, 0.04, 0)[:2],
                self.M(1.0),
                self.P(0, 0.02, 0, reflect),
                (math.pi / 2.0, 0.0, 0.0),
                material="black",
            ),
        )
        parent, link = link, n.link("shoulder_roll", side)
        names.append(
            self.joint(
                "shoulder_roll",
                parent,
                link,
                _X,
                "shoulder_roll",
                "shoulder",
                xyz=self.P(0, 0.045, 0, reflect),
                side=side,
                mirror=True,
            )
        )
        u.link(link, _Shape("cylinder", self.P(0.04, 0.08, 0)[:2], self.M(1.0), rpy=(0.0, math.pi / 2.0, 0.0)))
        parent, link = link, n.link("shoulder_yaw", side) if spec.naming == "vendor" else n.frame("upper_arm", side)
        names.append(
            self.joint(
                "shoulder_yaw",
                parent,
                link,
                _Z,
                "shoulder_yaw",
                "shoulder_yaw",
                xyz=self.P(0, 0, -0.08),
                side=side,
                mirror=True,
            )
        )
        u.link(link, _Shape("cylinder", self.P(0.045, 0.16, 0)[:2], self.M(1.6), self.P(0, 0, -0.09), material="light"))
        parent, link = link, n.link("elbow", side) if spec.naming == "vendor" else n.frame("forearm", side)
        names.append(self.joint("elbow", parent, link, _NEG_Y, "elbow", "elbow", xyz=self.P(0, 0, -0.20), side=side))
        u.link(link, _Shape("cylinder", self.P(0.04, 0.10, 0)[:2], self.M(1.0), self.P(0, 0, -0.08), material="light"))
        # wrist: yaw (forearm rotation) 0.13 below the elbow, pitch and roll at the wrist centre 0.25 below it
        wrist = {
            "yaw": (_Z, "wrist_yaw", "wrist", self.P(0, 0, -0.13)),
            "pitch": (_Y, "wrist_pitch", "wrist_small", self.P(0, 0, -0.12)),
            "roll": (_X, "wrist_roll", "wrist_small", (0.0, 0.0, 0.0)),
        }
        depth = 0.0
        for i, role in enumerate(spec.wrist):
            axis, limits, actuator, xyz = wrist[role]
            if role == "yaw":
                depth = 0.13
            elif i == 0 or depth < 0.25:
                xyz, depth = self.P(0, 0, -(0.25 - depth)), 0.25
            last = i == len(spec.wrist) - 1
            parent, link = link, n.frame("palm", side) if last else n.link(f"wrist_{role}", side)
            names.append(
                self.joint(
                    f"wrist_{role}", parent, link, axis, limits, actuator, xyz=xyz, side=side, mirror=role != "pitch"
                )
            )
            if not last:
                if role == "yaw":
                    u.link(link, _Shape("cylinder", self.P(0.033, 0.09, 0)[:2], self.M(0.5), self.P(0, 0, -0.045)))
                else:
                    u.link(
                        link,
                        _Shape(
                            "cylinder",
                            self.P(0.02, 0.05, 0)[:2],
                            self.M(0.15),
                            rpy=(math.pi / 2.0, 0.0, 0.0),
                            material="black",
                        ),
                    )
        if depth < 0.25:  # the palm at the wrist centre
            u.fixed(n.joint("palm_fixed", side), link, n.frame("palm", side), self.P(0, 0, -(0.25 - depth)))
        self.groups["arms"][side] = names
        if spec.hand == "fingers":
            self.finger_hand(side, reflect)
        else:
            self.gripper_hand(side, reflect)

    # ------------------------------------------------------------------------------------------------ hands
    def _hand_axis(self, axis: tuple[float, float, float], reflect: float) -> tuple[float, float, float]:
        """A left-hand joint axis on the given side: reflected as a vector when the right hand's signs are mirrored
        (its joints then move the opposite way for the same value), else as Centurion's hands (the same way)."""
        ax, ay, az = axis
        if reflect > 0:
            return axis
        if self.spec.mirror_right_hand_signs:
            return (ax, -ay, az)
        return (-ax, ay, -az)

    def _hand_limits(self, limits: tuple[float, float], reflect: float) -> tuple[float, float]:
        if reflect < 0 and self.spec.mirror_right_hand_signs:
            return (-limits[1], -limits[0])
        return limits

    def finger_hand(self, side: str, reflect: float) -> None:
        """Palm and four digits: thumb (rotation, flexion), index and middle (mcp, pip), ring + little (one link)."""
        n, u = self.n, self.urdf
        palm = n.frame("palm", side)
        u.link(palm, _Shape("box", self.P(0.058, 0.030, 0.085), self.M(0.35), self.P(0.010, 0, -0.0525, reflect)))
        self._hand_frames(side, reflect, palm, 0.08)

        def phalanx(radius: float, length: float, x: float = 0.0, material: str = "dark_grey") -> _Shape:
            r, h = self.L(radius), self.L(length)
            mass = _DIGIT_DENSITY * math.pi * r * r * h
            return _Shape("cylinder", (r, h - self.L(0.004)), mass, (self.L(x), 0.0, -h / 2.0), material=material)

        # digit -> (mount xyz, mount pitch, [(joint, axis, limits, actuator, shapes, length)])
        digits = {
            "thumb": (
                (0.052, -0.008, -0.020),
                -0.70,
                [
                    ("thumb_rot", _TWIST, (-0.20, 1.20), "thumb_base", [phalanx(0.0105, 0.045)], 0.045),
                    (
                        "thumb_flex",
                        _ACROSS,
                        (-0.10, 1.40),
                        "finger_flex",
                        [phalanx(0.010, 0.055, material="black")],
                        0.055,
                    ),
                ],
            ),
            "index": (
                (0.028, 0.0, -0.105),
                0.0,
                [
                    ("index_mcp", _FLEX, (-0.20, 1.57), "finger_flex", [phalanx(0.009, 0.045)], 0.045),
                    ("index_pip", _FLEX, (0.0, 1.75), "finger_mid", [phalanx(0.0085, 0.048, material="black")], 0.048),
                ],
            ),
            "middle": (
                (0.009, 0.0, -0.107),
                0.0,
                [
                    ("middle_mcp", _FLEX, (-0.20, 1.57), "finger_flex", [phalanx(0.009, 0.048)], 0.048),
                    ("middle_pip", _FLEX, (0.0, 1.75), "finger_mid", [phalanx(0.0085, 0.052, material="black")], 0.052),
                ],
            ),
            "ring_little": (
                (-0.019, 0.0, -0.104),
                0.0,
                [
                    (
                        "ring_little",
                        _FLEX,
                        (-0.10, 1.60),
                        "finger_flex",
                        [phalanx(0.0085, 0.070, x=0.009), phalanx(0.0075, 0.055, x=-0.010)],
                        0.070,
                    )
                ],
            ),
        }
        fingers = {}
        for digit, (mount, pitch, segments) in digits.items():
            parent, xyz, rpy = palm, self.P(*mount, reflect), (0.0, pitch, 0.0)
            joints = []
            for joint, axis, limits, actuator, shapes, length in segments:
                link = n.link(joint, side)
                name = n.joint(joint, side)
                self.urdf.revolute(
                    name,
                    parent,
                    link,
                    self._hand_axis(axis, reflect),
                    self._hand_limits(limits, reflect),
                    self.act(actuator),
                    xyz,
                    rpy,
                )
                u.link(link, *shapes)
                joints.append(name)
                parent, xyz, rpy = link, (0.0, 0.0, -self.L(length)), (0.0, 0.0, 0.0)
            fingers[digit] = joints
        self.hands[side] = {"fingers": fingers}

    def gripper_hand(self, side: str, reflect: float) -> None:
        """A fixed jaw on the back of the gripper and one swinging jaw in front of the palm (hinge axis +x on the
        left, positive closes)."""
        n, u = self.n, self.urdf
        palm = n.frame("palm", side)
        u.link(
            palm,
            _Shape("box", self.P(0.07, 0.11, 0.05), self.M(0.5), self.P(0, -0.008, -0.035, reflect)),
            _Shape(
                "box", self.P(0.05, 0.012, 0.09), self.M(0.12), self.P(0, 0.041, -0.105, reflect), material="accent"
            ),
        )
        jaw = n.link("gripper_jaw", side)
        name = n.joint("gripper_jaw", side)
        axis = self._hand_axis(_FLEX, reflect)
        axis = (-axis[0], -axis[1], -axis[2])  # +x on the left: positive swings the jaw tip towards the fixed jaw
        self.urdf.revolute(
            name,
            palm,
            jaw,
            axis,
            self._hand_limits((-0.20, 1.30), reflect),
            self.act("jaw"),
            self.P(0, -0.055, -0.06, reflect),
        )
        u.link(jaw, _Shape("box", self.P(0.05, 0.012, 0.09), self.M(0.12), self.P(0, 0, -0.045), material="accent"))
        self._hand_frames(side, reflect, palm, 0.11, palm_x=0.0, palm_front=-0.007)
        self.hands[side] = {"fingers": {"jaw": [name]}}

    def _hand_frames(
        self, side: str, reflect: float, palm: str, depth: float, palm_x: float = 0.010, palm_front: float | None = None
    ) -> None:
        """Wrist frame (wrist centre, forearm axes) and gripper frame (grasp point, x out of the palm, z along the
        fingers), as Centurion's hand."""
        n = self.n
        wrist = n.frame("wrist", side)
        gripper = n.frame("grasp" if n.vendor else "gripper", side)
        self.urdf.frame(wrist, palm)
        front = -(0.030 / 2.0 + 0.03) if palm_front is None else palm_front
        self.urdf.frame(
            gripper, palm, self.P(palm_x, front, -depth, reflect), (reflect * math.pi, 0.0, -reflect * math.pi / 2.0)
        )
        self.sides[side].update(wrist=wrist, gripper=gripper)

    # ------------------------------------------------------------------------------------------------ robot file
    def synergies(self) -> dict:
        """Left hand's open / power / pinch grasps [rad] per finger."""
        if self.spec.hand == "gripper":
            return {"open": {"jaw": 0.0}, "power": {"jaw": 1.3}, "pinch": {"jaw": 1.1}}
        return {
            "open": {"thumb": 0.0, "index": 0.0, "middle": 0.0, "ring_little": 0.0},
            "power": {"thumb": [1.0, 0.9], "index": [1.3, 1.4], "middle": [1.3, 1.4], "ring_little": 1.5},
            "pinch": {"thumb": [1.1, 0.6], "index": [0.8, 0.8], "middle": [0.3, 0.3], "ring_little": 0.3},
        }

    def config(self) -> dict:
        spec, r = self.spec, self.roles
        standing = {}
        for side, reflect in SIDES.items():
            s = side[0]
            standing.update(
                {
                    r[f"{s}_hip_pitch"]: -0.30,
                    r[f"{s}_knee"]: 0.60,
                    r[f"{s}_ankle_pitch"]: -0.30,
                    r[f"{s}_shoulder_roll"]: reflect * 0.15,
                    r[f"{s}_elbow"]: 0.40,
                }
            )
        postures = (
            {"inspect_table": {r[role]: value for role, value in spec.inspect_table.items()}}
            if spec.inspect_table
            else {}
        )
        ts, ds = spec.torque_scale, spec.damping_scale
        gains = {"legs": _GAINS["legs"], "arms": _GAINS["arms"]}
        if spec.waist:
            gains["waist"] = _GAINS["waist"]
        if spec.neck:
            gains["neck"] = _GAINS["neck"]
        gains = {g: {"stiffness": round(k * ts, 3), "damping": round(d * ds, 4)} for g, (k, d) in gains.items()}
        k, d = _GRIPPER_GAINS if spec.hand == "gripper" else _GAINS["hands"]
        gains["hands"] = {"stiffness": round(k * ts, 3), "damping": round(d * ds, 4)}

        groups = {"legs": self.groups["legs"], "arms": self.groups["arms"], "waist": self.groups["waist"]}
        if spec.neck:
            groups["neck"] = self.groups["neck"]
        if spec.mirror_right_hand_signs:
            right = {"fingers": self.hands["right"]["fingers"], "mirror": {"of": "left", "sign": -1}}
        else:
            right = {"fingers": self.hands["right"]["fingers"], "mirror": {"of": "left", "sign": 1}}
        data = {
            "name": spec.name,
            "urdf": f"{spec.name}.urdf",
            "frames": self.frames,
            "sides": self.sides,
            "joint_groups": groups,
            "hands": {
                "left": {"fingers": self.hands["left"]["fingers"], "synergies": self.synergies()},
                "right": right,
            },
            "sole": {"length": round(self.sole[0], 4), "width": round(self.sole[1], 4)},
            "standing": {"joint_positions": standing},
            "postures": postures,
            "gains": gains,
            "limits": {"watchdog_timeout": 0.05, "protective_stop_damping_scale": 1.0},
        }
        return data


def humanoid_files(spec: HumanoidSpec) -> tuple[str, dict]:
    """The robot's URDF text and its robot file's content (the mapping written as `<name>.yaml`)."""
    builder = _Builder(spec)
    builder.trunk()
    for side, reflect in SIDES.items():
        builder.leg(side, reflect)
        builder.arm(side, reflect)
    comment = (
        f"  {spec.name}: a humanoid generated by legion_testing.humanoids (scale {spec.scale} and mass scale "
        f"{spec.mass_scale} of Centurion).\n"
        f"  Actuated joints: {len(builder.urdf.actuated)}. At zero every joint is straight (legs vertical, arms "
        f"hanging, soles flat);\n  the standing posture of {spec.name}.yaml flexes hip, knee and ankle pitch so "
        "that the soles stay flat under the hips.\n  Geometry: boxes, cylinders and spheres; inertias from each "
        "primitive's mass and size. Units: m, kg, rad."
    )
    urdf = builder.urdf.xml(comment)
    config = builder.config()
    walking = _walking(spec, urdf, config)
    if spec.walking:
        config["walking"] = {key: walking[key] for key in spec.walking}
    if spec.sensors:
        config["sensors"] = _centurion_sensors()
    config["safety"] = _scaled_safety(spec.scale)
    return urdf, config


def _scaled_safety(scale: float) -> dict:
    """Centurion's `safety:` block (stopping figures for speed and separation monitoring) with its lengths scaled."""
    from legion_description.robot_files import robot_config_path

    safety = dict(yaml.safe_load(robot_config_path("centurion").read_text()).get("safety") or {})
    for key in ("stopping_distance", "body_radius"):
        if key in safety:
            safety[key] = round(float(safety[key]) * scale, 4)
    return safety


def _walking(spec: HumanoidSpec, urdf: str, config: dict) -> dict:
    """Walking dimensions: Centurion's scaled to the robot's size, with the LIPM height at 0.95 x the standing CoM
    height above the soles and the step width at the hips' distance."""
    import pinocchio as pin

    model = pin.buildModelFromXML(urdf, pin.JointModelFreeFlyer())
    data = model.createData()
    q = pin.neutral(model)
    for name, value in config["standing"]["joint_positions"].items():
        q[model.joints[model.getJointId(name)].idx_q] = value
    com = pin.centerOfMass(model, data, q)
    pin.framesForwardKinematics(model, data, q)
    soles = [data.oMf[model.getFrameId(frames["sole"])].translation for frames in config["sides"].values()]
    s = spec.scale
    return {
        "com_height": round(0.95 * float(com[2] - soles[0][2]), 3),
        "step_width": round(float(abs(soles[0][1] - soles[1][1])), 3),
        "max_step_forward": round(0.5 * s, 3),
        "max_step_backward": round(0.2 * s, 3),
        "max_step_outward": round(0.45 * s, 3),
        "min_step_width": round(0.14 * s, 3),
        "step_height": round(0.06 * s, 3),
        "min_foot_gap": round(0.03 * s, 3),
        "zmp_heel_to_toe": round(0.03 * s, 3),
    }


def _centurion_sensors() -> dict:
    """Centurion's `sensors:` block (the error figures of its sensors)."""
    from legion_description.robot_files import robot_config_path

    return yaml.safe_load(robot_config_path("centurion").read_text()).get("sensors") or {}


def write_humanoid(spec: HumanoidSpec, directory: Path | str) -> Path:
    """Write `<name>.urdf` and `<name>.yaml` (whose `urdf:` names the URDF beside it) into `directory`; return the
    yaml's path."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    urdf, config = humanoid_files(spec)
    (folder / f"{spec.name}.urdf").write_text(urdf)
    path = folder / f"{spec.name}.yaml"
    header = (
        f"# {spec.name}: a humanoid generated by legion_testing.humanoids (robot file schema of "
        "config/robots/centurion.yaml).\n"
    )
    path.write_text(header + yaml.safe_dump(config, sort_keys=False, default_flow_style=None, width=120))
    return path
