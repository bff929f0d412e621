"""Typed view of a robot file (`config/robots/<robot>.yaml`): joint groups, frames, hands and their synergies, sole
size, walking dimensions, standing posture and gains.

Required groups are `legs` and `arms` (one list per side); `waist` and `neck` are optional lists, and `hands` (the
`hands:` block, one entry per side) is optional: a robot without a neck, without a waist, with 1-DoF grippers or
without hands is described by leaving the group out. Code asks `joints(group, side)`, which is empty for a group the
robot lacks, and never assumes one. `check_against_urdf` checks the file against the robot's description.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from legion_description.robot_files import DescriptionError, robot_config_path
from legion_description.sensor_config import SensorConfig, sensor_config_from_yaml

SIDES = ("left", "right")
_SIDE_FRAME_KEYS = ("ankle", "sole", "wrist", "gripper")
_FRAME_KEYS = ("odom", "base", "imu", "camera", "camera_color_optical", "camera_depth_optical")
_OPTIONAL_FRAME_KEYS = ("torso", "head", "gaze")
_SIDED_GROUPS = ("legs", "arms", "hands")
_SINGLE_GROUPS = ("waist", "neck")
GROUPS = ("legs", "waist", "arms", "neck", "hands")
"""Every joint group a robot may have, in the order of `all_joints`."""
REQUIRED_SYNERGIES = ("open", "power")
"""Synergies every hand defines; `pinch` defaults to `power` (a gripper closes one way)."""
SYNERGIES = ("open", "power", "pinch")
"""The synergies of legion_interfaces/msg/HandCommand's modes (OPEN, POWER, PINCH)."""
WALKING_KEYS = ("com_height", "step_width", "min_step_width", "max_step_outward", "max_step_forward",
                "max_step_backward", "step_height", "min_foot_gap", "zmp_heel_to_toe")
"""Walking dimensions [m] a robot file may set in `walking:`; the gait planner derives any it leaves out."""
FOOTPRINT_KEYS = ("front", "back", "half_width")
"""`walking.footprint`: the robot's outline on the floor in its standing posture, a rectangle in base_footprint
(x forward, y left) from `back` behind to `front` ahead of the base and `half_width` to either side [m] (arms
included). The walk_to path keeps it clear of obstacles; without it the gait planner derives one from the model."""


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
class FallPosture:
    """The protective fall posture (`fall:` block): where the body joints go, how compliantly and how fast, once the
    whole-body controller has declared a fall."""

    joint_positions: dict[str, float]
    """Body joint -> target [rad]: the file's values, the standing posture's for the joints it does not name."""
    gains: dict[str, JointGains]
    """Body joint -> its group's compliant gains."""
    time: float
    """[s] the targets move from the posture at the fall to this one over this time."""


@dataclass(frozen=True)
class HandConfig:
    """One hand (or gripper): its fingers and its synergies."""

    side: str
    fingers: dict[str, tuple[str, ...]]
    """Finger -> its joints, in the file's order (a gripper: a finger per jaw joint)."""
    synergies: dict[str, tuple[float, ...]]
    """Synergy (`open`, `power`, `pinch`, and any other the file defines) -> one position per joint [rad], in the
    order of `joints`. Joints a synergy does not name stand as in `open`."""

    @property
    def joints(self) -> tuple[str, ...]:
        """The hand's joints: each finger's, in the file's finger order."""
        return tuple(name for names in self.fingers.values() for name in names)


@dataclass(frozen=True)
class RobotConfig:
    """Everything the software needs to know about one robot, read from its YAML file."""

    name: str
    source: Path
    """The YAML file this was read from."""
    urdf: str
    """Description file: relative to the robot file's directory, or to the description share directory."""
    frames: dict[str, str]
    """Role (`base`, `imu`, `camera`, ...; optionally `torso`, `head`, `gaze`) -> frame name."""
    sides: dict[str, SideFrames]
    """`left` / `right` -> that side's frames."""
    groups: dict[str, tuple[str, ...]]
    """Joint group -> joint names, for the groups the robot has. Sided groups are keyed `legs.left`, `legs.right`,
    ...; others by their name."""
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
    hands: dict[str, HandConfig] = field(default_factory=dict)
    """Side -> its hand, for the sides that have one."""
    walking: dict[str, float] = field(default_factory=dict)
    """Walking dimensions [m] the file sets (keys of `WALKING_KEYS`); the gait planner derives the others."""
    footprint: dict[str, float] = field(default_factory=dict)
    """`walking.footprint` [m] (keys of `FOOTPRINT_KEYS`, all or none); empty: the gait planner derives it."""
    group_gains: dict[str, JointGains] = field(default_factory=dict)
    """Position-hold gains per joint group the robot has."""
    grasping: dict[str, float] = field(default_factory=dict)
    """The grasp planner's hand geometry (`grasping:`; keys of `legion_manipulation.grasps.PlanningParameters`,
    checked there)."""
    safety: dict[str, float] = field(default_factory=dict)
    """The robot's stopping figures for speed and separation monitoring (`safety:`; keys of
    `legion_safety.separation.RobotSafety`, checked there)."""
    fall_posture: FallPosture | None = None
    """The protective fall posture (`fall:`); None: the file gives none (the controller damps the joints only)."""

    def has_group(self, group: str) -> bool:
        """Whether the robot has joints in `group` (on either side)."""
        return bool(self.joints(group))

    def joints(self, group: str, side: str | None = None) -> tuple[str, ...]:
        """Joints of a group (`legs`, `waist`, `arms`, `neck`, `hands`), of one side or of both (left first); empty
        for a group the robot lacks."""
        if group in _SINGLE_GROUPS:
            return self.groups.get(group, ())
        if group not in _SIDED_GROUPS:
            raise KeyError(f"unknown joint group '{group}': expected one of {GROUPS}")
        if side is not None:
            return self.groups.get(f"{group}.{side}", ())
        return self.groups.get(f"{group}.left", ()) + self.groups.get(f"{group}.right", ())

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


def _names(value: object, source: Path, where: str, *, allow_empty: bool = False) -> tuple[str, ...]:
    if value is None and allow_empty:
        return ()
    if (not isinstance(value, list) or (not value and not allow_empty)
            or not all(isinstance(v, str) and v for v in value)):
        raise DescriptionError(f"{source}: '{where}' must be a {'' if allow_empty else 'non-empty '}list of joint "
                               "names")
    return tuple(value)


def _positive(value: object, source: Path, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise DescriptionError(f"{source}: '{where}' must be a positive number, got {value!r}")
    return float(value)


def _finite(value: object, source: Path, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise DescriptionError(f"{source}: '{where}' must be a finite number, got {value!r}")
    return float(value)


def _finger_values(value: object, count: int, source: Path, where: str) -> tuple[float, ...]:
    """A finger's entry in a synergy: one number for all its joints, or a list of one number per joint."""
    if isinstance(value, list):
        if len(value) != count:
            raise DescriptionError(f"{source}: '{where}' has {len(value)} values but the finger has {count} "
                                   f"joint{'s' if count != 1 else ''}")
        return tuple(_finite(v, source, f"{where}[{i}]") for i, v in enumerate(value))
    return (_finite(value, source, where),) * count


def _synergies(block: object, fingers: dict[str, tuple[str, ...]], source: Path,
               where: str) -> dict[str, dict[str, tuple[float, ...]]]:
    """`synergies:` of one hand -> synergy -> finger -> values (every finger; `open` fills what others omit)."""
    if not isinstance(block, dict):
        raise DescriptionError(f"{source}: '{where}' must map synergy names to finger positions")
    for name in REQUIRED_SYNERGIES:
        _require(block, name, source, f"{where}.")
    result: dict[str, dict[str, tuple[float, ...]]] = {}
    for name in ["open", *(s for s in block if s != "open")]:
        entries = block[name]
        if not isinstance(entries, dict) or not entries:
            raise DescriptionError(f"{source}: '{where}.{name}' must map finger names to positions")
        unknown = [f for f in entries if f not in fingers]
        if unknown:
            raise DescriptionError(f"{source}: '{where}.{name}' names unknown finger(s) {unknown}; the hand's "
                                   f"fingers are {list(fingers)}")
        values = {}
        for finger, joints in fingers.items():
            if finger in entries:
                values[finger] = _finger_values(entries[finger], len(joints), source, f"{where}.{name}.{finger}")
            elif name == "open":
                values[finger] = (0.0,) * len(joints)
            else:
                values[finger] = result["open"][finger]
        result[str(name)] = values
    return result


def _mirrored(mirror: object, left: dict[str, dict[str, tuple[float, ...]]], fingers: dict[str, tuple[str, ...]],
              source: Path, where: str) -> dict[str, dict[str, tuple[float, ...]]]:
    """A hand's synergies from the other hand's, times `mirror.sign` (one number, or finger -> signs per joint)."""
    sign = mirror.get("sign", 1.0) if isinstance(mirror, dict) else None
    if sign is None:
        raise DescriptionError(f"{source}: '{where}' must be a mapping {{of: <side>, sign: ...}}")
    signs: dict[str, tuple[float, ...]] = {}
    for finger, joints in fingers.items():
        entry = sign.get(finger, 1.0) if isinstance(sign, dict) else sign
        signs[finger] = _finger_values(entry, len(joints), source, f"{where}.sign"
                                       + (f".{finger}" if isinstance(sign, dict) else ""))
    if isinstance(sign, dict):
        unknown = [f for f in sign if f not in fingers]
        if unknown:
            raise DescriptionError(f"{source}: '{where}.sign' names unknown finger(s) {unknown}")
    if not all(s in (-1.0, 1.0) for values in signs.values() for s in values):
        raise DescriptionError(f"{source}: '{where}.sign' values must be 1 or -1")
    return {name: {finger: tuple(s * v for s, v in zip(signs[finger], values[finger], strict=True))
                   for finger in fingers}
            for name, values in left.items()}


def _hands(block: object, source: Path) -> dict[str, HandConfig]:
    """The `hands:` block -> side -> HandConfig."""
    if block is None:
        return {}
    if not isinstance(block, dict) or not block:
        raise DescriptionError(f"{source}: 'hands' must map sides (left, right) to hands")
    unknown = [side for side in block if side not in SIDES]
    if unknown:
        raise DescriptionError(f"{source}: 'hands' names unknown side(s) {unknown}; expected {list(SIDES)}")
    fingers: dict[str, dict[str, tuple[str, ...]]] = {}
    for side, hand in block.items():
        finger_block = _require(hand, "fingers", source, f"hands.{side}.")
        if not isinstance(finger_block, dict) or not finger_block:
            raise DescriptionError(f"{source}: 'hands.{side}.fingers' must map finger names to lists of joints")
        fingers[side] = {str(finger): _names(names, source, f"hands.{side}.fingers.{finger}")
                         for finger, names in finger_block.items()}
    synergies: dict[str, dict[str, dict[str, tuple[float, ...]]]] = {}
    for side, hand in block.items():
        if "synergies" in hand:
            synergies[side] = _synergies(hand["synergies"], fingers[side], source, f"hands.{side}.synergies")
    for side, hand in block.items():
        if side in synergies:
            if "mirror" in hand:
                raise DescriptionError(f"{source}: 'hands.{side}' gives both 'synergies' and 'mirror'")
            continue
        mirror = _require(hand, "mirror", source, f"hands.{side}.")
        other = mirror.get("of") if isinstance(mirror, dict) else None
        if other not in synergies:
            raise DescriptionError(f"{source}: 'hands.{side}.mirror.of' must name a hand that has synergies, "
                                   f"got {other!r}")
        if list(fingers[other]) != list(fingers[side]) or any(
                len(fingers[other][f]) != len(fingers[side][f]) for f in fingers[side]):
            raise DescriptionError(f"{source}: 'hands.{side}.mirror': the {side} hand's fingers and joint counts "
                                   f"must be the {other} hand's to mirror it")
        synergies[side] = _mirrored(mirror, synergies[other], fingers[side], source, f"hands.{side}.mirror")
    hands = {}
    for side in SIDES:
        if side not in block:
            continue
        per_joint = {name: tuple(v for finger in fingers[side] for v in values[finger])
                     for name, values in synergies[side].items()}
        per_joint.setdefault("pinch", per_joint["power"])
        hands[side] = HandConfig(side=side, fingers=fingers[side], synergies=per_joint)
    return hands


def _footprint(block: object, source: Path) -> dict[str, float]:
    """`walking.footprint` (all of FOOTPRINT_KEYS, positive), or {} when the file gives none."""
    if block is None:
        return {}
    if not isinstance(block, dict) or sorted(block) != sorted(FOOTPRINT_KEYS):
        raise DescriptionError(f"{source}: 'walking.footprint' must give exactly {list(FOOTPRINT_KEYS)} [m], got "
                               f"{block!r}")
    return {key: _positive(block[key], source, f"walking.footprint.{key}") for key in FOOTPRINT_KEYS}


def _walking(block: object, source: Path) -> dict[str, float]:
    if block is None:
        return {}
    if not isinstance(block, dict):
        raise DescriptionError(f"{source}: 'walking' must map walking dimensions to values [m]")
    block = {key: value for key, value in block.items() if key != "footprint"}
    unknown = [key for key in block if key not in WALKING_KEYS]
    if unknown:
        raise DescriptionError(f"{source}: 'walking' has unknown key(s) {unknown}; expected some of "
                               f"{list(WALKING_KEYS)}")
    return {key: _positive(value, source, f"walking.{key}") for key, value in block.items()}


def _numbers(block: object, source: Path, where: str) -> dict[str, float]:
    """A mapping of names to finite numbers (empty if the block is absent)."""
    if block is None:
        return {}
    if not isinstance(block, dict):
        raise DescriptionError(f"{source}: '{where}' must map names to numbers")
    return {str(key): _finite(value, source, f"{where}.{key}") for key, value in block.items()}


def _fall_posture(block: object, source: Path, group_of: dict[str, str], standing: dict[str, float]
                  ) -> FallPosture | None:
    """The `fall:` block (`time`, `joint_positions` of body joints, `gains` for every body group the robot has),
    or None when the file gives none."""
    if block is None:
        return None
    if not isinstance(block, dict):
        raise DescriptionError(f"{source}: 'fall' must map 'time', 'joint_positions' and 'gains'")
    unknown = [key for key in block if key not in ("time", "joint_positions", "gains")]
    if unknown:
        raise DescriptionError(f"{source}: 'fall' has unknown key(s) {unknown}; expected time, joint_positions, gains")
    body = {name: group for name, group in group_of.items() if group != "hands"}
    positions_in = _require(block, "joint_positions", source, "fall.")
    if not isinstance(positions_in, dict) or not positions_in:
        raise DescriptionError(f"{source}: 'fall.joint_positions' must map body joints to positions [rad]")
    positions = {name: standing[name] for name in body}
    for name, value in positions_in.items():
        if name not in body:
            raise DescriptionError(f"{source}: 'fall.joint_positions' names '{name}', which is not a body joint of "
                                   "the robot (legs, waist, arms, neck)")
        positions[name] = _finite(value, source, f"fall.joint_positions.{name}")
    gains_in = _require(block, "gains", source, "fall.")
    groups = [group for group in GROUPS if group != "hands" and group in body.values()]
    if not isinstance(gains_in, dict) or sorted(gains_in) != sorted(groups):
        given = sorted(gains_in) if isinstance(gains_in, dict) else gains_in
        raise DescriptionError(f"{source}: 'fall.gains' must give stiffness and damping for each of the robot's "
                               f"body groups {groups}, got {given}")
    group_gains = {group: JointGains(**{key: _positive(_require(gains_in[group], key, source, f"fall.gains.{group}."),
                                                       source, f"fall.gains.{group}.{key}")
                                        for key in ("stiffness", "damping")})
                   for group in groups}
    return FallPosture(joint_positions=positions, gains={name: group_gains[group] for name, group in body.items()},
                       time=_positive(_require(block, "time", source, "fall."), source, "fall.time"))


def load_robot_config(robot: str = "centurion", *, path: Path | str | None = None) -> RobotConfig:
    """Read and validate a robot file (`robot`: a robot name or a robot file's path; `path`: a file).

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
    frames.update({key: str(frames_in[key]) for key in _OPTIONAL_FRAME_KEYS if frames_in.get(key)})
    unknown = [key for key in frames_in if key not in _FRAME_KEYS + _OPTIONAL_FRAME_KEYS]
    if unknown:
        raise DescriptionError(f"{source}: 'frames' has unknown role(s) {unknown}")
    sides_in = _require(data, "sides", source, "")
    sides = {
        side: SideFrames(**{k: str(_require(_require(sides_in, side, source, "sides."), k, source, f"sides.{side}."))
                            for k in _SIDE_FRAME_KEYS})
        for side in SIDES
    }

    groups_in = _require(data, "joint_groups", source, "")
    if not isinstance(groups_in, dict):
        raise DescriptionError(f"{source}: 'joint_groups' must map group names to joints")
    if "hands" in groups_in:
        raise DescriptionError(f"{source}: 'joint_groups.hands': hand joints are listed by finger in the 'hands' "
                               "block (hands.<side>.fingers)")
    unknown = [g for g in groups_in if g not in GROUPS]
    if unknown:
        raise DescriptionError(f"{source}: 'joint_groups' has unknown group(s) {unknown}; expected some of "
                               f"{[g for g in GROUPS if g != 'hands']}")
    hands = _hands(data.get("hands"), source)
    groups: dict[str, tuple[str, ...]] = {}
    for group in ("legs", "arms"):
        value = _require(groups_in, group, source, "joint_groups.")
        for side in SIDES:
            groups[f"{group}.{side}"] = _names(_require(value, side, source, f"joint_groups.{group}."), source,
                                               f"joint_groups.{group}.{side}")
    for group in _SINGLE_GROUPS:
        names = _names(groups_in.get(group), source, f"joint_groups.{group}", allow_empty=True)
        if names:
            groups[group] = names
    for side, hand in hands.items():
        groups[f"hands.{side}"] = hand.joints
    group_of: dict[str, str] = {}
    listed_in: dict[str, str] = {}
    for key in [f"legs.{s}" for s in SIDES] + ["waist"] + [f"arms.{s}" for s in SIDES] + ["neck"] + [
            f"hands.{s}" for s in SIDES]:
        where = f"{key}.fingers" if key.startswith("hands") else f"joint_groups.{key}"
        for name in groups.get(key, ()):
            if name in group_of:
                raise DescriptionError(f"{source}: joint '{name}' is in more than one joint group ('{listed_in[name]}' "
                                       f"and '{where}')")
            group_of[name] = key.split(".")[0]
            listed_in[name] = where

    sole = _require(data, "sole", source, "")
    standing_in = _require(_require(data, "standing", source, ""), "joint_positions", source, "standing.") or {}
    standing = dict.fromkeys(group_of, 0.0)
    for name, value in standing_in.items():
        if name not in group_of:
            raise DescriptionError(f"{source}: standing posture names unknown joint '{name}'")
        standing[name] = _finite(value, source, f"standing.joint_positions.{name}")

    postures: dict[str, dict[str, float]] = {}
    for posture, joints in (data.get("postures") or {}).items():
        if not isinstance(joints, dict) or not joints:
            raise DescriptionError(f"{source}: 'postures.{posture}' must map joint names to positions")
        for name, value in joints.items():
            if name not in group_of:
                raise DescriptionError(f"{source}: posture '{posture}' names unknown joint '{name}'")
            _finite(value, source, f"postures.{posture}.{name}")
        postures[str(posture)] = {name: float(value) for name, value in joints.items()}

    gains_in = _require(data, "gains", source, "")
    present = [group for group in GROUPS if any(g == group for g in group_of.values())]
    unknown = [group for group in (gains_in if isinstance(gains_in, dict) else {}) if group not in present]
    if unknown:
        raise DescriptionError(f"{source}: 'gains' names group(s) the robot does not have: {unknown}")
    group_gains = {}
    for group in present:
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
        hands=hands,
        walking=_walking(data.get("walking"), source),
        footprint=_footprint((data.get("walking") or {}).get("footprint")
                             if isinstance(data.get("walking"), dict) else None, source),
        group_gains=group_gains,
        grasping=_numbers(data.get("grasping"), source, "grasping"),
        safety=_numbers(data.get("safety"), source, "safety"),
        fall_posture=_fall_posture(data.get("fall"), source, group_of, standing),
    )
