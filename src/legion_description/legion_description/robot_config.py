"""Typed view of `config/robots/<robot>.yaml`: joint groups, frames, sole size, standing posture and gains."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from legion_description.robot_files import DescriptionError, robot_config_path
from legion_description.sensor_config import SensorConfig, sensor_config_from_yaml

SIDES = ("left", "right")
_SIDE_FRAME_KEYS = ("ankle", "sole", "wrist", "gripper")
_FRAME_KEYS = ("odom", "base", "torso", "head", "gaze", "imu", "camera", "camera_color_optical", "camera_depth_optical")
_SIDED_GROUPS = ("legs", "arms", "hands")
_SINGLE_GROUPS = ("waist", "neck")


@dataclass(frozen=True)
class SideFrames:
    """Frames of one side of the robot."""

    ankle: str
    """Ankle force/torque sensor frame."""
    sole: str
    """Sole frame: xy on the contact surface, z up at ground level."""
    wrist: str
    """Wrist frame."""
    gripper: str
    """Palm grasp frame, x towards the grasped object."""


@dataclass(frozen=True)
class JointGains:
    """Joint impedance gains."""

    stiffness: float
    """[N m/rad]"""
    damping: float
    """[N m s/rad]"""


@dataclass(frozen=True)
class RobotConfig:
    """Everything the software needs to know about one robot, read from its YAML file."""

    name: str
    source: Path
    """The YAML file this was read from."""
    urdf: str
    """Description file, relative to the description share directory."""
    frames: dict[str, str]
    """Role (`base`, `torso`, `imu`, `camera`, ...) -> frame name."""
    sides: dict[str, SideFrames]
    """`left` / `right` -> that side's frames."""
    groups: dict[str, tuple[str, ...]]
    """Joint group -> joint names. Sided groups are keyed `legs.left`, `legs.right`, ...; others by their name."""
    sole_length: float
    """Sole contact rectangle length along the sole x axis [m]."""
    sole_width: float
    """Sole contact rectangle width along the sole y axis [m]."""
    standing: dict[str, float]
    """Standing posture [rad]; every joint of the robot, 0 where the file names none."""
    gains: dict[str, JointGains]
    """Position-hold gains per joint name."""
    postures: dict[str, dict[str, float]] = field(default_factory=dict)
    """Named postures [rad] for tasks (e.g. `inspect_table`): joint -> position, for the joints each one changes."""
    watchdog_timeout: float = 0.05
    """[s] no valid command for this long makes the hardware take a protective stop."""
    protective_stop_damping_scale: float = 1.0
    group_of: dict[str, str] = field(default_factory=dict)
    """Joint name -> its group (`legs`, `waist`, `arms`, `neck`, `hands`)."""
    sensors: SensorConfig = field(default_factory=SensorConfig)
    """Error figures of the robot's sensors (the `sensors:` block; ideal where the file gives none). The simulator
    applies them; docs/sensors.md."""

    def joints(self, group: str, side: str | None = None) -> tuple[str, ...]:
        """Joints of a group (`legs`, `waist`, `arms`, `neck`, `hands`), of one side or of both (left first)."""
        if group in _SINGLE_GROUPS:
            return self.groups[group]
        if side is not None:
            return self.groups[f"{group}.{side}"]
        return self.groups[f"{group}.left"] + self.groups[f"{group}.right"]

    @property
    def body_joints(self) -> tuple[str, ...]:
        """All joints but the hands': legs, waist, arms, neck."""
        return self.joints("legs") + self.joints("waist") + self.joints("arms") + self.joints("neck")

    @property
    def hand_joints(self) -> tuple[str, ...]:
        return self.joints("hands")

    @property
    def all_joints(self) -> tuple[str, ...]:
        """Every actuated joint, body then hands."""
        return self.body_joints + self.hand_joints


def _require(mapping: object, key: str, source: Path, where: str) -> object:
    if not isinstance(mapping, dict) or key not in mapping:
        raise DescriptionError(f"{source}: missing key '{where}{key}'")
    return mapping[key]


def _names(value: object, source: Path, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise DescriptionError(f"{source}: '{where}' must be a non-empty list of joint names")
    return tuple(value)


def _positive(value: object, source: Path, where: str) -> float:
    if not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise DescriptionError(f"{source}: '{where}' must be a positive number, got {value!r}")
    return float(value)


def load_robot_config(robot: str = "centurion", *, path: Path | str | None = None) -> RobotConfig:
    """Read and validate a robot configuration file.

    Raises:
        DescriptionError: the file is missing, is not YAML, or lacks or misstates a key (the message says which).
    """
    source = Path(path) if path is not None else robot_config_path(robot)
    try:
        data = yaml.safe_load(source.read_text())
    except OSError as error:
        raise DescriptionError(f"cannot read robot configuration {source}: {error}") from error
    except yaml.YAMLError as error:
        raise DescriptionError(f"robot configuration {source} is not valid YAML: {error}") from error
    if not isinstance(data, dict):
        raise DescriptionError(f"robot configuration {source} must be a mapping")

    frames_in = _require(data, "frames", source, "")
    frames = {key: str(_require(frames_in, key, source, "frames.")) for key in _FRAME_KEYS}
    sides_in = _require(data, "sides", source, "")
    sides = {
        side: SideFrames(**{k: str(_require(_require(sides_in, side, source, "sides."), k, source, f"sides.{side}."))
                            for k in _SIDE_FRAME_KEYS})
        for side in SIDES
    }

    groups_in = _require(data, "joint_groups", source, "")
    groups: dict[str, tuple[str, ...]] = {}
    group_of: dict[str, str] = {}
    for group in _SINGLE_GROUPS + _SIDED_GROUPS:
        value = _require(groups_in, group, source, "joint_groups.")
        keyed = {group: value} if group in _SINGLE_GROUPS else {
            f"{group}.{side}": _require(value, side, source, f"joint_groups.{group}.") for side in SIDES}
        for key, names in keyed.items():
            groups[key] = _names(names, source, f"joint_groups.{key}")
            for name in groups[key]:
                if name in group_of:
                    raise DescriptionError(f"{source}: joint '{name}' is in more than one joint group")
                group_of[name] = group

    sole = _require(data, "sole", source, "")
    standing_in = _require(_require(data, "standing", source, ""), "joint_positions", source, "standing.") or {}
    standing = dict.fromkeys(group_of, 0.0)
    for name, value in standing_in.items():
        if name not in group_of:
            raise DescriptionError(f"{source}: standing posture names unknown joint '{name}'")
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            raise DescriptionError(f"{source}: standing position of '{name}' must be a finite number")
        standing[name] = float(value)

    postures: dict[str, dict[str, float]] = {}
    for posture, joints in (data.get("postures") or {}).items():
        if not isinstance(joints, dict) or not joints:
            raise DescriptionError(f"{source}: 'postures.{posture}' must map joint names to positions")
        for name, value in joints.items():
            if name not in group_of:
                raise DescriptionError(f"{source}: posture '{posture}' names unknown joint '{name}'")
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                raise DescriptionError(f"{source}: position of '{name}' in posture '{posture}' must be finite")
        postures[str(posture)] = {name: float(value) for name, value in joints.items()}

    gains_in = _require(data, "gains", source, "")
    group_gains = {}
    for group in _SINGLE_GROUPS + _SIDED_GROUPS:
        entry = _require(gains_in, group, source, "gains.")
        group_gains[group] = JointGains(
            **{key: _positive(_require(entry, key, source, f"gains.{group}."), source, f"gains.{group}.{key}")
               for key in ("stiffness", "damping")},
        )
    limits = data.get("limits") or {}
    return RobotConfig(
        name=str(data.get("name", robot)),
        source=source,
        urdf=str(_require(data, "urdf", source, "")),
        frames=frames,
        sides=sides,
        groups=groups,
        sole_length=_positive(_require(sole, "length", source, "sole."), source, "sole.length"),
        sole_width=_positive(_require(sole, "width", source, "sole."), source, "sole.width"),
        standing=standing,
        gains={name: group_gains[group] for name, group in group_of.items()},
        postures=postures,
        watchdog_timeout=_positive(limits.get("watchdog_timeout", 0.05), source, "limits.watchdog_timeout"),
        protective_stop_damping_scale=_positive(limits.get("protective_stop_damping_scale", 1.0), source,
                                                "limits.protective_stop_damping_scale"),
        group_of=group_of,
        sensors=sensor_config_from_yaml(data.get("sensors"), source),
    )
