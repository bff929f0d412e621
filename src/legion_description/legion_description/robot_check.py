"""Check a robot file against its robot's description (URDF), before any node starts.

`check_against_urdf` finds what a robot file gets wrong about its URDF and says which file and key: a joint or
frame the URDF lacks, a group holding a fixed joint or another chain's joints (a left leg joint in the right leg, an
arm joint in a leg, a finger joint outside its hand), a standing posture, named posture or synergy outside the joint
limits (a right hand mirrored with the wrong sign cannot close). `load_robot` reads and checks both files.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

from legion_description.robot_config import SIDES, RobotConfig, load_robot_config
from legion_description.robot_files import DescriptionError, expand_urdf, robot_files

_MOVABLE = ("revolute", "continuous", "prismatic")
_LIMIT_SLACK = 1e-6
"""[rad] rounding allowed on a joint limit."""


@dataclass(frozen=True)
class _Joint:
    name: str
    kind: str
    parent: str
    child: str
    lower: float
    upper: float


def _parse(urdf_xml: str, where: str) -> tuple[set[str], dict[str, _Joint]]:
    try:
        root = ET.fromstring(urdf_xml)
    except ET.ParseError as error:
        raise DescriptionError(f"robot description {where} is not valid XML: {error}") from error
    links = {link.get("name", "") for link in root.findall("link")}
    joints = {}
    for joint in root.findall("joint"):
        parent, child, limit = joint.find("parent"), joint.find("child"), joint.find("limit")
        kind = joint.get("type", "")
        lower = float(limit.get("lower", "-inf")) if limit is not None and kind != "continuous" else float("-inf")
        upper = float(limit.get("upper", "inf")) if limit is not None and kind != "continuous" else float("inf")
        joints[joint.get("name", "")] = _Joint(joint.get("name", ""), kind,
                                               parent.get("link", "") if parent is not None else "",
                                               child.get("link", "") if child is not None else "", lower, upper)
    return links, joints


def _keys(config: RobotConfig) -> dict[str, str]:
    """Joint name -> the robot file key that lists it."""
    keys = {}
    for side in SIDES:
        for group in ("legs", "arms"):
            keys.update(dict.fromkeys(config.joints(group, side), f"joint_groups.{group}.{side}"))
        hand = config.hands.get(side)
        if hand is not None:
            for finger, names in hand.fingers.items():
                keys.update(dict.fromkeys(names, f"hands.{side}.fingers.{finger}"))
    for group in ("waist", "neck"):
        keys.update(dict.fromkeys(config.joints(group), f"joint_groups.{group}"))
    return keys


def check_against_urdf(config: RobotConfig, urdf_xml: str, *, urdf_name: str = "its URDF") -> None:
    """Raise DescriptionError, naming the robot file and key, where `config` does not fit the description.

    Args:
        config: the robot file, loaded.
        urdf_xml: the robot's expanded URDF.
        urdf_name: how the message names the description (its path).
    """
    source = config.source
    links, joints = _parse(urdf_xml, urdf_name)
    parent_joint = {joint.child: joint for joint in joints.values()}

    keys = _keys(config)
    for name, key in keys.items():
        if name not in joints:
            raise DescriptionError(f"{source}: '{key}' names joint '{name}', which {urdf_name} does not have")
        if joints[name].kind not in _MOVABLE:
            raise DescriptionError(f"{source}: '{key}' names joint '{name}', which is {joints[name].kind or 'untyped'} "
                                   f"in {urdf_name} (an actuated joint is revolute, continuous or prismatic)")
    frame_keys = {f"frames.{role}": frame for role, frame in config.frames.items() if role != "odom"}
    frame_keys.update({f"sides.{side}.{key}": getattr(config.sides[side], key)
                       for side in SIDES for key in ("ankle", "sole", "wrist", "gripper")})
    for key, frame in frame_keys.items():
        if frame not in links:
            raise DescriptionError(f"{source}: '{key}' names frame '{frame}', which is not a link of {urdf_name}")
    base = config.frames["base"]
    if base in parent_joint:
        raise DescriptionError(f"{source}: 'frames.base' ('{base}') must be the root link of {urdf_name}; it hangs "
                               f"from joint '{parent_joint[base].name}'")

    def chain(link: str) -> list[str]:
        """Movable joints from the base to `link`, base first."""
        names = []
        while link != base:
            joint = parent_joint.get(link)
            if joint is None:
                raise DescriptionError(f"{source}: link '{link}' is not below the base '{base}' in {urdf_name}")
            if joint.kind in _MOVABLE:
                names.append(joint.name)
            link = joint.parent
        return names[::-1]

    waist, neck = set(config.joints("waist")), set(config.joints("neck"))
    for side in SIDES:
        leg = chain(config.sides[side].sole)
        if set(leg) != set(config.joints("legs", side)):
            raise DescriptionError(
                f"{source}: 'joint_groups.legs.{side}' must be the joints between the base and sides.{side}.sole "
                f"('{config.sides[side].sole}'): {urdf_name} has {leg}, the file lists "
                f"{list(config.joints('legs', side))}")
        arm = chain(config.sides[side].wrist)
        listed = set(config.joints("arms", side))
        if not listed <= set(arm) or not set(arm) <= listed | waist:
            raise DescriptionError(
                f"{source}: 'joint_groups.arms.{side}' must be the joints between the waist and sides.{side}.wrist "
                f"('{config.sides[side].wrist}'): {urdf_name} has {arm} (waist: {sorted(waist)}), the file lists "
                f"{sorted(listed)}")
        hand = config.hands.get(side)
        if hand is not None:
            last_arm = [name for name in arm if name in listed][-1]
            for finger, names in hand.fingers.items():
                for name in names:
                    if last_arm not in chain(joints[name].child):
                        raise DescriptionError(f"{source}: 'hands.{side}.fingers.{finger}': joint '{name}' is not in "
                                               f"the {side} hand (not beyond arm joint '{last_arm}')")
    head = chain(config.frames["camera"])
    if neck and not (neck <= set(head) and set(head) <= neck | waist):
        raise DescriptionError(f"{source}: 'joint_groups.neck' must be the joints between the waist and "
                               f"frames.camera ('{config.frames['camera']}'): {urdf_name} has {head}, the file lists "
                               f"{sorted(neck)}")

    def within(name: str, value: float, key: str) -> None:
        joint = joints[name]
        if not joint.lower - _LIMIT_SLACK <= value <= joint.upper + _LIMIT_SLACK:
            raise DescriptionError(f"{source}: '{key}' puts joint '{name}' at {value:g}, outside its limits "
                                   f"[{joint.lower:g}, {joint.upper:g}] in {urdf_name}")

    for name, value in config.standing.items():
        within(name, value, f"standing.joint_positions.{name}")
    for posture, values in config.postures.items():
        for name, value in values.items():
            within(name, value, f"postures.{posture}.{name}")
    if config.fall_posture is not None:
        for name, value in config.fall_posture.joint_positions.items():
            within(name, value, f"fall.joint_positions.{name}")
    for side, hand in config.hands.items():
        for synergy, values in hand.synergies.items():
            for name, value in zip(hand.joints, values, strict=True):
                within(name, value, f"hands.{side} synergy '{synergy}'")


def load_robot(robot: str = "centurion", **xacro_args: str | bool) -> tuple[RobotConfig, str]:
    """Read a robot's file and description and check one against the other; (config, expanded URDF).

    Args:
        robot: a robot name or the path of a robot file.
        xacro_args: xacro arguments, e.g. `use_gazebo=True`.

    Raises:
        DescriptionError: a file is missing or invalid, or does not fit the other (the message names file and key).
    """
    files = robot_files(robot)
    config = load_robot_config(path=files.config_path)
    urdf_xml = expand_urdf(path=files.urdf_path, **xacro_args)
    check_against_urdf(config, urdf_xml, urdf_name=str(files.urdf_path))
    return config, urdf_xml
