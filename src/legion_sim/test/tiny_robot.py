"""A small, fast humanoid (URDF text + robot configuration YAML) with the same configuration layout as Centurion.

Used by the core tests that need a robot but not Centurion's 70-odd joints: the servo law, command validation, the
watchdog, the e-stop. Primitives only, no meshes. About 24 kg, 0.9 m from sole to pelvis.
"""

from __future__ import annotations

from pathlib import Path

_SIDE_Y = {"l": 1.0, "r": -1.0}


def _inertial(mass: float, lx: float, ly: float, lz: float, xyz: str = "0 0 0") -> str:
    ixx = mass * (ly * ly + lz * lz) / 12.0
    iyy = mass * (lx * lx + lz * lz) / 12.0
    izz = mass * (lx * lx + ly * ly) / 12.0
    return (f'<inertial><origin xyz="{xyz}"/><mass value="{mass}"/>'
            f'<inertia ixx="{ixx:.6g}" iyy="{iyy:.6g}" izz="{izz:.6g}" ixy="0" ixz="0" iyz="0"/></inertial>')


def _box_link(name: str, mass: float, lx: float, ly: float, lz: float, xyz: str = "0 0 0",
              collide: bool = True) -> str:
    geometry = f'<geometry><box size="{lx} {ly} {lz}"/></geometry>'
    collision = f'<collision><origin xyz="{xyz}"/>{geometry}</collision>' if collide else ""
    return (f'<link name="{name}">{_inertial(mass, lx, ly, lz, xyz)}'
            f'<visual><origin xyz="{xyz}"/>{geometry}</visual>{collision}</link>')


def _frame_link(name: str) -> str:
    return f'<link name="{name}"/>'


def _joint(name: str, parent: str, child: str, xyz: str, axis: str, effort: float, lower: float = -2.5,
           upper: float = 2.5) -> str:
    return (f'<joint name="{name}" type="revolute"><parent link="{parent}"/><child link="{child}"/>'
            f'<origin xyz="{xyz}"/><axis xyz="{axis}"/>'
            f'<limit lower="{lower}" upper="{upper}" effort="{effort}" velocity="20"/></joint>')


def _fixed(name: str, parent: str, child: str, xyz: str, rpy: str = "0 0 0") -> str:
    return (f'<joint name="{name}" type="fixed"><parent link="{parent}"/><child link="{child}"/>'
            f'<origin xyz="{xyz}" rpy="{rpy}"/></joint>')


def tiny_urdf() -> str:
    """URDF text of the tiny humanoid."""
    parts = ['<?xml version="1.0"?>', '<robot name="tiny">',
             _box_link("base_link", 6.0, 0.16, 0.26, 0.12),
             _frame_link("imu_link"), _fixed("imu_joint", "base_link", "imu_link", "0 0 0.02")]
    for s, sign in _SIDE_Y.items():
        y = 0.09 * sign
        chain = [("hip_yaw", "0 0 1", f"0 {y} -0.06", 120.0), ("hip_roll", "1 0 0", "0 0 0", 120.0),
                 ("hip_pitch", "0 1 0", "0 0 0", 150.0), ("knee", "0 1 0", "0 0 -0.36", 150.0),
                 ("ankle_pitch", "0 1 0", "0 0 -0.36", 80.0), ("ankle_roll", "1 0 0", "0 0 0", 60.0)]
        parent = "base_link"
        for joint, axis, xyz, effort in chain:
            child = f"{s}_{joint}_link"
            if joint == "hip_pitch":
                parts.append(_box_link(child, 2.5, 0.07, 0.07, 0.36, "0 0 -0.18"))
            elif joint == "knee":
                parts.append(_box_link(child, 1.5, 0.06, 0.06, 0.36, "0 0 -0.18"))
            elif joint == "ankle_roll":
                parts.append(_box_link(child, 0.6, 0.22, 0.10, 0.04, "0.03 0 -0.04"))
            else:
                parts.append(_box_link(child, 0.3, 0.04, 0.04, 0.04, collide=False))
            parts.append(_joint(f"{s}_{joint}", parent, child, xyz, axis, effort))
            parent = child
        parts += [_frame_link(f"{s}_ankle"), _fixed(f"{s}_ankle_frame", parent, f"{s}_ankle", "0 0 0"),
                  _frame_link(f"{s}_sole"), _fixed(f"{s}_sole_frame", parent, f"{s}_sole", "0.03 0 -0.06")]
    parts += [_box_link("waist_link", 0.5, 0.05, 0.05, 0.05, collide=False),
              _joint("waist_yaw", "base_link", "waist_link", "0 0 0.08", "0 0 1", 100.0),
              _box_link("torso", 5.0, 0.16, 0.3, 0.35, "0 0 0.18"),
              _joint("waist_pitch", "waist_link", "torso", "0 0 0", "0 1 0", 100.0),
              _box_link("neck_link", 0.2, 0.04, 0.04, 0.04, collide=False),
              _joint("neck_yaw", "torso", "neck_link", "0 0 0.38", "0 0 1", 10.0),
              _box_link("head", 1.0, 0.14, 0.14, 0.14, "0 0 0.08"),
              _joint("neck_pitch", "neck_link", "head", "0 0 0", "0 1 0", 10.0),
              _frame_link("gaze"), _fixed("gaze_joint", "head", "gaze", "0.07 0 0.08"),
              _frame_link("head_camera_link"),
              _fixed("head_camera_joint", "head", "head_camera_link", "0.08 0 0.1", "0 0.6 0"),
              _frame_link("head_camera_color_optical_frame"),
              _fixed("head_camera_color_optical_joint", "head_camera_link", "head_camera_color_optical_frame",
                     "0 0 0", "-1.5707963 0 -1.5707963"),
              _frame_link("head_camera_depth_optical_frame"),
              _fixed("head_camera_depth_optical_joint", "head_camera_link", "head_camera_depth_optical_frame",
                     "0 0 0", "-1.5707963 0 -1.5707963")]
    for s, sign in _SIDE_Y.items():
        parts += [_box_link(f"{s}_upper_arm", 1.0, 0.06, 0.06, 0.28, "0 0 -0.14"),
                  _joint(f"{s}_shoulder_pitch", "torso", f"{s}_upper_arm", f"0 {0.2 * sign} 0.3", "0 1 0", 40.0),
                  _box_link(f"{s}_forearm", 0.8, 0.05, 0.05, 0.26, "0 0 -0.13"),
                  _joint(f"{s}_elbow", f"{s}_upper_arm", f"{s}_forearm", "0 0 -0.28", "0 1 0", 30.0),
                  _frame_link(f"{s}_wrist"), _fixed(f"{s}_wrist_frame", f"{s}_forearm", f"{s}_wrist", "0 0 -0.26"),
                  _frame_link(f"{s}_gripper"),
                  _fixed(f"{s}_gripper_frame", f"{s}_forearm", f"{s}_gripper", "0 0 -0.3", "0 1.5707963 0"),
                  _box_link(f"{s}_finger", 0.03, 0.015, 0.015, 0.05, "0 0 -0.025"),
                  _joint(f"{s}_finger", f"{s}_forearm", f"{s}_finger", "0.02 0 -0.27", "0 1 0", 2.0, -0.2, 1.5)]
    parts.append("</robot>")
    return "\n".join(parts)


def tiny_config_yaml() -> str:
    """Robot configuration YAML of the tiny humanoid (same layout as config/robots/centurion.yaml)."""
    return """\
name: tiny
urdf: urdf/tiny.urdf
frames: {odom: odom, base: base_link, torso: torso, head: head, gaze: gaze, imu: imu_link,
         camera: head_camera_link, camera_color_optical: head_camera_color_optical_frame,
         camera_depth_optical: head_camera_depth_optical_frame}
sides:
  left: {ankle: l_ankle, sole: l_sole, wrist: l_wrist, gripper: l_gripper}
  right: {ankle: r_ankle, sole: r_sole, wrist: r_wrist, gripper: r_gripper}
joint_groups:
  legs:
    left: [l_hip_yaw, l_hip_roll, l_hip_pitch, l_knee, l_ankle_pitch, l_ankle_roll]
    right: [r_hip_yaw, r_hip_roll, r_hip_pitch, r_knee, r_ankle_pitch, r_ankle_roll]
  waist: [waist_yaw, waist_pitch]
  arms: {left: [l_shoulder_pitch, l_elbow], right: [r_shoulder_pitch, r_elbow]}
  neck: [neck_yaw, neck_pitch]
hands:
  left:
    fingers: {finger: [l_finger]}
    synergies: {open: {finger: 0.0}, power: {finger: 1.0}}
  right:
    fingers: {finger: [r_finger]}
    mirror: {of: left, sign: 1}
sole: {length: 0.22, width: 0.10}
standing:
  joint_positions: {l_hip_pitch: -0.3, l_knee: 0.6, l_ankle_pitch: -0.3,
                    r_hip_pitch: -0.3, r_knee: 0.6, r_ankle_pitch: -0.3, l_elbow: 0.3, r_elbow: 0.3}
gains:
  legs: {stiffness: 300.0, damping: 6.0}
  waist: {stiffness: 200.0, damping: 4.0}
  arms: {stiffness: 50.0, damping: 1.0}
  neck: {stiffness: 10.0, damping: 0.3}
  hands: {stiffness: 1.0, damping: 0.02}
limits: {watchdog_timeout: 0.05, protective_stop_damping_scale: 1.0}
"""


def write_tiny_robot(folder: Path) -> tuple[Path, Path]:
    """Write `tiny.urdf` and `tiny.yaml` into `folder`; return their paths."""
    urdf = folder / "tiny.urdf"
    config = folder / "tiny.yaml"
    urdf.write_text(tiny_urdf())
    config.write_text(tiny_config_yaml())
    return urdf, config
