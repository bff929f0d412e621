"""The robots of a scene, resolved: each robot file loaded, its URDF expanded, the start poses checked for room.

A scene names its robots either implicitly (no `robots:` list: one robot, the launch's `robot`, unprefixed, at
`robot_start`) or in a `robots:` list (docs/scenes.md). `scene_robots` turns either into `ResolvedRobot`s for the
simulator and the launch, and raises `SimError` naming the scene file and the key for an unknown robot file or two
robots whose footprints overlap at their starts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from legion_description.robot_config import RobotConfig
from legion_description.robot_files import DescriptionError
from legion_sim.errors import SimError
from legion_sim.scene import RobotStart, Scene


@dataclass(frozen=True)
class ResolvedRobot:
    """One robot of a scene with its robot file loaded."""

    name: str
    """Its namespace (`robot_1`); empty for the one robot of a single-robot scene."""
    robot: str
    """The robot name or robot file path the nodes get as their `robot` parameter."""
    config: RobotConfig
    urdf: str
    """Expanded URDF text."""
    start: RobotStart


def footprint_radius(config: RobotConfig) -> float:
    """Radius [m] of a circle about the base that holds the standing robot: the robot file's `safety.body_radius`,
    else the corner of its `walking.footprint` rectangle.

    Raises:
        SimError: the robot file gives neither.
    """
    if "body_radius" in config.safety:
        return float(config.safety["body_radius"])
    if config.footprint:
        f = config.footprint
        return math.hypot(max(f["front"], f["back"]), f["half_width"])
    raise SimError(f"{config.source}: a robot in a multi-robot scene needs 'safety.body_radius' or "
                   "'walking.footprint' (its room on the floor)")


def scene_robots(scene: Scene, robot: str = "centurion", *, expand: bool = True) -> list[ResolvedRobot]:
    """The robots of `scene`, each entry's robot file defaulting to `robot` (the launch's).

    `expand=False` leaves `urdf` empty (the launch needs only the configs).

    Raises:
        SimError: an entry's robot file is unknown or broken, or two robots stand closer at their starts than the
            sum of their footprint radii (`footprint_radius`); the message names the scene file and the entries.
    """
    from legion_description.robot_config import load_robot_config
    from legion_description.robot_files import expand_urdf

    entries = scene.robots or ()
    configs: dict[str, tuple[RobotConfig, str]] = {}
    resolved = []
    for i, entry in enumerate(entries or [None]):
        name = entry.robot if entry is not None and entry.robot else robot
        if name not in configs:
            try:
                configs[name] = (load_robot_config(name), expand_urdf(name) if expand else "")
            except DescriptionError as error:
                where = f"'robots[{i}].robot'" if entry is not None and entry.robot else "the launch's robot"
                raise SimError(f"scene {scene.source}: {where} '{name}' is not a usable robot file: {error}"
                               ) from error
        config, urdf = configs[name]
        if entry is None:
            resolved.append(ResolvedRobot("", name, config, urdf, scene.robot_start))
        else:
            resolved.append(ResolvedRobot(entry.name, name, config, urdf, entry.start))
    for i, first in enumerate(resolved):
        for k in range(i + 1, len(resolved)):
            second = resolved[k]
            distance = math.hypot(first.start.x - second.start.x, first.start.y - second.start.y)
            room = footprint_radius(first.config) + footprint_radius(second.config)
            if distance < room:
                raise SimError(f"scene {scene.source}: 'robots[{k}].start' ({second.name}) is {distance:.2f} m from "
                               f"robots[{i}] ({first.name}); their footprints need {room:.2f} m between the bases")
    return resolved
