"""Gazebo Harmonic world from a Legion scene file: `config/scenes/<scene>.yaml` -> an SDF 1.9 world.

The same scene files feed the MuJoCo model builder (`legion_sim.model_builder`); this module builds the same cell for
Gazebo (gz-sim 8) with the same dimensions, so the two simulators show the robot the same objects at the same poses:

- physics at `physics_rate` (1 kHz); the gz-sim systems the robot needs: Physics, UserCommands (spawning),
  SceneBroadcaster (GUI), Sensors (ogre2 rendering for the RGB-D camera), Imu, ForceTorque, Contact;
- a sun light, and a ground plane whose friction is the scene's floor friction;
- tables (a top slab on four legs), bins (floor slab, four walls, optional stand), obstacles and people as static
  models; parts as dynamic models with their mass, the inertia of a uniform solid of their shape, and their colour.

Model names are the scene's names and ids, so Gazebo's entity names match ground truth and perception ids. Plain
Python (xml.etree), no ROS and no MuJoCo, so it runs anywhere and is tested without Gazebo:

    gazebo_world --scene sorting_cell --output /tmp/sorting_cell.sdf
    gz sim -r /tmp/sorting_cell.sdf

Also here, for `launch/gazebo.launch.py`: where to spawn the robot (`spawn_pose`) and how to put its gz_ros2_control
controller manager into a ROS namespace (`with_controller_namespace`).
"""

from __future__ import annotations

import argparse
import math
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from legion_sim.errors import SimError
from legion_sim.scene import Bin, Obstacle, Part, Person, Scene, Table, load_scene

SDF_VERSION = "1.9"

GZ_SYSTEMS: tuple[tuple[str, str], ...] = (
    ("gz-sim-physics-system", "gz::sim::systems::Physics"),
    ("gz-sim-user-commands-system", "gz::sim::systems::UserCommands"),
    ("gz-sim-scene-broadcaster-system", "gz::sim::systems::SceneBroadcaster"),
    ("gz-sim-sensors-system", "gz::sim::systems::Sensors"),
    ("gz-sim-imu-system", "gz::sim::systems::Imu"),
    ("gz-sim-forcetorque-system", "gz::sim::systems::ForceTorque"),
    ("gz-sim-contact-system", "gz::sim::systems::Contact"),
)
"""(plugin library, system class) of every world system: the robot's IMU, F/T sensors and RGB-D camera need Imu,
ForceTorque and Sensors in the world, the `ros_gz_sim create` spawner needs UserCommands."""

STAND_COLOUR = (0.3, 0.3, 0.32, 1.0)
"""Colour of the blocks bins stand on (as the MuJoCo builder)."""
SKIN = (0.87, 0.69, 0.57, 1.0)
TROUSERS = (0.18, 0.2, 0.26, 1.0)
FACE_WIDTH = 0.22
"""Width of a person's head [m] (as the MuJoCo builder)."""
FACE_HEIGHT = 0.27
"""Height of a person's head [m]."""


@dataclass(frozen=True)
class WorldOptions:
    """Tunables of the generated world; the furniture sizes and frictions default to the MuJoCo builder's
    (`legion_sim.model_builder.SimOptions`), so both simulators build the same cell."""

    physics_rate: float = 1000.0
    """[Hz] physics rate; the step is its inverse."""
    real_time_factor: float = 1.0
    """Target simulated seconds per wall second."""
    render_engine: str = "ogre2"
    """Rendering engine of the Sensors system (the head camera)."""
    floor_size: float = 40.0
    """[m] side of the visible ground plane (its collision is infinite)."""
    table_top_thickness: float = 0.04
    """[m]"""
    table_leg_width: float = 0.05
    """[m]"""
    furniture_friction: float = 0.8
    """Sliding friction of tables, bins, obstacles and people."""
    part_friction: float = 0.8
    """Sliding friction of the parts."""

    def __post_init__(self) -> None:
        for name in ("physics_rate", "real_time_factor", "floor_size", "table_top_thickness", "table_leg_width",
                     "furniture_friction", "part_friction"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                    or value <= 0:
                raise SimError(f"world option '{name}' must be positive and finite, got {value!r}")
        if not 100.0 <= self.physics_rate <= 10000.0:
            raise SimError(f"world option 'physics_rate' must be in 100..10000 Hz, got {self.physics_rate}")


# ---------------------------------------------------------------------------------------------------- SDF helpers
def _numbers(values: Iterable[float]) -> str:
    return " ".join(format(float(v), ".9g") for v in values)


def _pose(x: float = 0.0, y: float = 0.0, z: float = 0.0, yaw: float = 0.0) -> str:
    """SDF pose text `x y z roll pitch yaw` [m, rad] with roll = pitch = 0."""
    return _numbers((x, y, z, 0.0, 0.0, yaw))


def _text(parent: ET.Element, tag: str, text: str | float, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attributes)
    element.text = text if isinstance(text, str) else format(float(text), ".9g")
    return element


def _geometry(parent: ET.Element, shape: str, size: Sequence[float]) -> None:
    """`<geometry>` of a box (lx, ly, lz), cylinder (radius, length along z) or sphere (radius,) [m]."""
    geometry = ET.SubElement(parent, "geometry")
    if shape == "box":
        _text(ET.SubElement(geometry, "box"), "size", _numbers(size))
    elif shape == "cylinder":
        cylinder = ET.SubElement(geometry, "cylinder")
        _text(cylinder, "radius", size[0])
        _text(cylinder, "length", size[1])
    elif shape == "sphere":
        _text(ET.SubElement(geometry, "sphere"), "radius", size[0])
    else:
        raise SimError(f"unknown shape {shape!r}")


def _material(parent: ET.Element, rgba: Sequence[float]) -> None:
    material = ET.SubElement(parent, "material")
    _text(material, "ambient", _numbers(rgba))
    _text(material, "diffuse", _numbers(rgba))
    _text(material, "specular", "0.1 0.1 0.1 1")


def _friction(parent: ET.Element, mu: float) -> None:
    """`<surface>` with isotropic sliding friction mu (gz-physics reads the `ode` block for every engine)."""
    ode = ET.SubElement(ET.SubElement(ET.SubElement(parent, "surface"), "friction"), "ode")
    _text(ode, "mu", mu)
    _text(ode, "mu2", mu)


def _shape(link: ET.Element, name: str, shape: str, size: Sequence[float], pose: str, rgba: Sequence[float],
           friction: float) -> None:
    """A collision and a visual of the same shape, at `pose` in the link."""
    collision = ET.SubElement(link, "collision", name=f"{name}_collision")
    _text(collision, "pose", pose)
    _geometry(collision, shape, size)
    _friction(collision, friction)
    visual = ET.SubElement(link, "visual", name=f"{name}_visual")
    _text(visual, "pose", pose)
    _geometry(visual, shape, size)
    _material(visual, rgba)
    if rgba[3] < 1.0:
        _text(visual, "transparency", 1.0 - rgba[3])


def _model(world: ET.Element, name: str, pose: str, static: bool) -> ET.Element:
    """A model with one link named `link`; returns the link."""
    model = ET.SubElement(world, "model", name=name)
    _text(model, "static", "true" if static else "false")
    _text(model, "pose", pose)
    return ET.SubElement(model, "link", name="link")


# ---------------------------------------------------------------------------------------------------- scene objects
def _add_table(world: ET.Element, table: Table, options: WorldOptions) -> None:
    """A top slab on four legs at the corners; the model frame is on the floor under the table's centre."""
    lx, ly, height = table.size
    link = _model(world, table.name, _pose(*table.position, 0.0, table.yaw), static=True)
    top = min(options.table_top_thickness, height)
    friction = options.furniture_friction
    _shape(link, "top", "box", (lx, ly, top), _pose(0.0, 0.0, height - top / 2.0), table.colour, friction)
    leg = min(options.table_leg_width, lx / 2.0, ly / 2.0)
    leg_height = height - top
    if leg_height > 0.0:
        for i, (sx, sy) in enumerate(((1, 1), (1, -1), (-1, 1), (-1, -1))):
            _shape(link, f"leg{i}", "box", (leg, leg, leg_height),
                   _pose(sx * (lx / 2.0 - leg / 2.0), sy * (ly / 2.0 - leg / 2.0), leg_height / 2.0),
                   table.colour, friction)


def _add_bin(world: ET.Element, bin_: Bin, options: WorldOptions) -> None:
    """An open box (floor slab and four walls), on a solid stand when `stand_height` > 0."""
    lx, ly, height = bin_.size
    wall, base = bin_.wall_thickness, bin_.stand_height
    link = _model(world, bin_.name, _pose(*bin_.position, 0.0, bin_.yaw), static=True)
    friction = options.furniture_friction
    if base > 0.0:
        _shape(link, "stand", "box", (lx, ly, base), _pose(0.0, 0.0, base / 2.0), STAND_COLOUR, friction)
    _shape(link, "floor", "box", (lx, ly, wall), _pose(0.0, 0.0, base + wall / 2.0), bin_.colour, friction)
    z = base + height / 2.0
    for sign, tag in ((1, "plus"), (-1, "minus")):
        _shape(link, f"wall_x_{tag}", "box", (wall, ly, height), _pose(sign * (lx / 2.0 - wall / 2.0), 0.0, z),
               bin_.colour, friction)
        _shape(link, f"wall_y_{tag}", "box", (lx - 2.0 * wall, wall, height),
               _pose(0.0, sign * (ly / 2.0 - wall / 2.0), z), bin_.colour, friction)


def _add_obstacle(world: ET.Element, obstacle: Obstacle, options: WorldOptions) -> None:
    link = _model(world, obstacle.name, _pose(*obstacle.position, 0.0, obstacle.yaw), static=True)
    height = obstacle.height
    size = (obstacle.size[0], obstacle.size[1], height) if obstacle.shape == "box" else (obstacle.size[0], height)
    _shape(link, "body", obstacle.shape, size, _pose(0.0, 0.0, height / 2.0), obstacle.colour,
           options.furniture_friction)


def _add_person(world: ET.Element, person: Person, options: WorldOptions) -> None:
    """A static figure with the MuJoCo builder's proportions (legs, torso, arms, neck, head), facing +x of its frame.
    The procedural face texture of the MuJoCo scene is not reproduced: the head is plain skin colour."""
    height = person.height
    head_z = height - FACE_HEIGHT / 2.0
    shoulder = height - FACE_HEIGHT - 0.06
    hip = 0.53 * height
    arm = 0.42 * height
    link = _model(world, person.id, _pose(*person.position, 0.0, person.yaw), static=True)
    friction = options.furniture_friction
    for side, tag in ((1.0, "left"), (-1.0, "right")):
        _shape(link, f"{tag}_leg", "box", (0.14, 0.14, hip), _pose(0.0, side * 0.1, hip / 2.0), TROUSERS, friction)
        _shape(link, f"{tag}_arm", "box", (0.09, 0.09, arm), _pose(0.0, side * 0.25, shoulder - arm / 2.0), SKIN,
               friction)
    _shape(link, "torso", "box", (0.22, 0.4, shoulder - hip), _pose(0.0, 0.0, (shoulder + hip) / 2.0),
           person.shirt_colour, friction)
    _shape(link, "neck", "cylinder", (0.055, 0.06), _pose(0.0, 0.0, shoulder + 0.03), SKIN, friction)
    _shape(link, "head", "box", (0.2, FACE_WIDTH, FACE_HEIGHT), _pose(0.0, 0.0, head_z), SKIN, friction)


def part_inertia(part: Part) -> tuple[float, float, float]:
    """Principal moments of inertia (ixx, iyy, izz) [kg m^2] of a uniform solid part about its centre, in its axes
    (cylinder axis along z)."""
    m = part.mass
    if part.shape == "box":
        lx, ly, lz = part.size
        return (m * (ly**2 + lz**2) / 12.0, m * (lx**2 + lz**2) / 12.0, m * (lx**2 + ly**2) / 12.0)
    if part.shape == "cylinder":
        radius, length = part.size
        side = m * (3.0 * radius**2 + length**2) / 12.0
        return (side, side, m * radius**2 / 2.0)
    (radius,) = part.size
    return (0.4 * m * radius**2,) * 3


def _add_part(world: ET.Element, part: Part, options: WorldOptions) -> None:
    """A free rigid body: model frame at the part's centre, with its mass and inertia."""
    link = _model(world, part.id, _pose(*part.position, part.yaw), static=False)
    inertial = ET.SubElement(link, "inertial")
    _text(inertial, "mass", part.mass)
    inertia = ET.SubElement(inertial, "inertia")
    for key, value in zip(("ixx", "iyy", "izz"), part_inertia(part), strict=True):
        _text(inertia, key, value)
    for key in ("ixy", "ixz", "iyz"):
        _text(inertia, key, 0.0)
    _shape(link, "body", part.shape, part.size, _pose(), part.colour, options.part_friction)


def _add_environment(world: ET.Element, scene: Scene, options: WorldOptions) -> None:
    physics = ET.SubElement(world, "physics", name=f"{1000.0 / options.physics_rate:g}ms", type="dart")
    _text(physics, "max_step_size", 1.0 / options.physics_rate)
    _text(physics, "real_time_factor", options.real_time_factor)
    for filename, name in GZ_SYSTEMS:
        plugin = ET.SubElement(world, "plugin", filename=filename, name=name)
        if name.endswith("::Sensors"):
            _text(plugin, "render_engine", options.render_engine)
    _text(world, "gravity", "0 0 -9.81")
    scene_element = ET.SubElement(world, "scene")
    _text(scene_element, "ambient", "0.4 0.4 0.4 1")
    _text(scene_element, "background", "0.7 0.75 0.8 1")
    _text(scene_element, "shadows", "false")

    sun = ET.SubElement(world, "light", type="directional", name="sun")
    _text(sun, "cast_shadows", "false")
    _text(sun, "pose", "0 0 10 0 0 0")
    _text(sun, "diffuse", "0.8 0.8 0.8 1")
    _text(sun, "specular", "0.2 0.2 0.2 1")
    _text(sun, "direction", "0.3 0.2 -1")

    link = _model(world, "ground_plane", _pose(), static=True)
    collision = ET.SubElement(link, "collision", name="collision")
    plane = ET.SubElement(ET.SubElement(collision, "geometry"), "plane")
    _text(plane, "normal", "0 0 1")
    _text(plane, "size", _numbers((options.floor_size, options.floor_size)))
    _friction(collision, scene.floor.friction)
    visual = ET.SubElement(link, "visual", name="visual")
    plane = ET.SubElement(ET.SubElement(visual, "geometry"), "plane")
    _text(plane, "normal", "0 0 1")
    _text(plane, "size", _numbers((options.floor_size, options.floor_size)))
    _material(visual, (0.4, 0.42, 0.44, 1.0))


def world_element(scene: Scene, options: WorldOptions | None = None) -> ET.Element:
    """The `<sdf>` element of the world for `scene`."""
    options = options or WorldOptions()
    sdf = ET.Element("sdf", version=SDF_VERSION)
    world = ET.SubElement(sdf, "world", name=scene.name)
    _add_environment(world, scene, options)
    for table in scene.tables:
        _add_table(world, table, options)
    for bin_ in scene.bins:
        _add_bin(world, bin_, options)
    for obstacle in scene.obstacles:
        _add_obstacle(world, obstacle, options)
    for person in scene.people:
        _add_person(world, person, options)
    for part in scene.parts:
        _add_part(world, part, options)
    return sdf


def world_sdf(scene: Scene, options: WorldOptions | None = None) -> str:
    """The SDF 1.9 world text for `scene` (see the module docstring)."""
    sdf = world_element(scene, options)
    ET.indent(sdf, space="  ")
    header = (f'<?xml version="1.0"?>\n<!-- Gazebo world generated by legion_sim.gazebo_world from the Legion scene '
              f'{scene.source}; do not edit, edit the scene file. -->\n')
    return header + ET.tostring(sdf, encoding="unicode") + "\n"


# ---------------------------------------------------------------------------------------------------- the robot
@dataclass(frozen=True)
class SpawnPose:
    """Where `ros_gz_sim create` puts the robot's root link, in the world (= `odom`) frame."""

    x: float
    """[m]"""
    y: float
    """[m]"""
    z: float
    """[m] height of the root link, with the lowest sole `clearance` above the floor at the zero posture."""
    yaw: float
    """[rad]"""

    def create_arguments(self) -> list[str]:
        """The pose as `ros_gz_sim create` arguments."""
        return ["-x", f"{self.x:.6f}", "-y", f"{self.y:.6f}", "-z", f"{self.z:.6f}", "-Y", f"{self.yaw:.6f}"]


def _rpy_matrix(roll: float, pitch: float, yaw: float) -> np.ndarray:
    """URDF rpy (fixed-axis x, then y, then z) -> rotation matrix.  # (3, 3)"""
    cr, sr, cp, sp, cy, sy = (math.cos(roll), math.sin(roll), math.cos(pitch), math.sin(pitch), math.cos(yaw),
                              math.sin(yaw))
    return np.array([[cy * cp, cy * sp * sr - sy * cr, cy * sp * cr + sy * sr],
                     [sy * cp, sy * sp * sr + cy * cr, sy * sp * cr - cy * sr],
                     [-sp, cp * sr, cp * cr]])


def frame_positions_at_zero(urdf_xml: str, frames: Iterable[str]) -> dict[str, np.ndarray]:
    """Position [m] of each named URDF link in the root link's frame, with every joint at 0.

    Raises:
        SimError: the URDF does not parse or has no link of that name.
    """
    try:
        robot = ET.fromstring(urdf_xml)
    except ET.ParseError as error:
        raise SimError(f"the robot description does not parse: {error}") from error
    parent_of: dict[str, tuple[str, np.ndarray, np.ndarray]] = {}
    for joint in robot.iter("joint"):
        parent, child = joint.find("parent"), joint.find("child")
        if parent is None or child is None:
            continue
        origin = joint.find("origin")
        xyz = [float(v) for v in (origin.get("xyz", "0 0 0") if origin is not None else "0 0 0").split()]
        rpy = [float(v) for v in (origin.get("rpy", "0 0 0") if origin is not None else "0 0 0").split()]
        parent_of[child.get("link")] = (parent.get("link"), np.array(xyz), _rpy_matrix(*rpy))
    links = {link.get("name") for link in robot.iter("link")}
    positions = {}
    for frame in frames:
        if frame not in links:
            raise SimError(f"the robot description has no link '{frame}'")
        position, link = np.zeros(3), frame
        while link in parent_of:  # at zero joint positions a child frame is its joint's origin in the parent
            link, translation, rotation = parent_of[link]
            position = rotation @ position + translation
        positions[frame] = position
    return positions


def spawn_pose(urdf_xml: str, sole_frames: Iterable[str], scene: Scene, clearance: float = 0.01) -> SpawnPose:
    """Spawn pose of the robot at the scene's `robot_start`: level, facing `yaw`, with every joint at 0 (Gazebo
    starts a model at its zero posture) and the lowest sole `clearance` [m] above the floor."""
    heights = [position[2] for position in frame_positions_at_zero(urdf_xml, sole_frames).values()]
    start = scene.robot_start
    return SpawnPose(x=start.x, y=start.y, z=float(-min(heights) + clearance), yaw=start.yaw)


CONTROL_PLUGIN = "gz_ros2_control::GazeboSimROS2ControlPlugin"


def with_controller_namespace(urdf_xml: str, namespace: str) -> str:
    """The robot description with its gz_ros2_control plugin in ROS namespace `namespace` (`<ros><namespace>`), so
    that the controller manager, its controllers, `joint_states` and `effort_controller/commands` live under it like
    every other node of a namespaced launch. An empty namespace returns the description unchanged.

    Raises:
        SimError: the description does not parse or has no gz_ros2_control plugin.
    """
    namespace = namespace.strip("/")
    if not namespace:
        return urdf_xml
    try:
        robot = ET.fromstring(urdf_xml)
    except ET.ParseError as error:
        raise SimError(f"the robot description does not parse: {error}") from error
    plugins = [p for p in robot.iter("plugin") if p.get("name") == CONTROL_PLUGIN]
    if not plugins:
        raise SimError(f"the robot description has no {CONTROL_PLUGIN} plugin (expand it with use_gazebo:=true)")
    for plugin in plugins:
        for old in plugin.findall("ros"):
            plugin.remove(old)
        _text(ET.SubElement(plugin, "ros"), "namespace", f"/{namespace}")
    return '<?xml version="1.0"?>\n' + ET.tostring(robot, encoding="unicode")


# ---------------------------------------------------------------------------------------------------- command line
def main(argv: list[str] | None = None) -> int:
    """`gazebo_world --scene <name or path> [--output FILE] [--physics-rate HZ]`: write the world (stdout if no
    output file). Exit status 1 with the scene file and key in the message when the scene is invalid."""
    parser = argparse.ArgumentParser(prog="gazebo_world", description="Write the Gazebo (SDF 1.9) world of a Legion "
                                     "scene file (config/scenes/<scene>.yaml).")
    parser.add_argument("--scene", default="sorting_cell", help="scene name in config/scenes, or a path to a scene "
                        "YAML file (default: %(default)s)")
    parser.add_argument("--output", "-o", default="-", help="world file to write; '-' for stdout (default)")
    parser.add_argument("--physics-rate", type=float, default=WorldOptions.physics_rate,
                        help="physics rate [Hz] (default: %(default)s)")
    args = parser.parse_args(argv)
    try:
        text = world_sdf(load_scene(args.scene), WorldOptions(physics_rate=args.physics_rate))
    except SimError as error:
        print(f"gazebo_world: {error}", file=sys.stderr)
        return 1
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text)
        print(f"gazebo_world: wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
