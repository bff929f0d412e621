"""The view: `SceneState`, the newest of everything shown (filled from messages, no ROS needed), and `ViserScene`,
which draws a SceneState with viser and sends a browser only what changed since the last draw.

World frame: the odometry's frame (`odom`); the robot's root link sits at the odometry pose, its other links follow
from the joint positions (`kinematics`). Anything else is drawn in its message's frame if that is the world frame,
the odometry's child frame or one of the robot's links (a `robot_1/` namespace prefix is ignored); a message in any
other frame is not drawn and is named in the view's problems.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from legion_viewer import conversions as conv
from legion_viewer.errors import ViewerError
from legion_viewer.kinematics import RobotKinematics, joint_pose


@dataclass(frozen=True)
class ViewSettings:
    """How the view looks (the node's parameters; docs/viewer.md)."""

    occupied_threshold: int = 50
    """Occupancy (0..100) from which a map cell is drawn as occupied."""
    sole_length: float = 0.22
    """Footstep rectangle length [m] (the robot file's sole)."""
    sole_width: float = 0.12
    """Footstep rectangle width [m]."""
    person_radius: float = 0.25
    """Radius of the cylinder drawn for a person [m]."""
    camera_offset: tuple[float, float, float] = (2.5, -3.0, 2.0)
    """Browser camera's start position relative to the robot's first odometry pose, in the world frame [m]."""
    camera_target_height: float = 0.8
    """Height above the robot's first position that the browser camera looks at [m]."""
    environment_map: str = ""
    """viser's environment map preset ("" for none: browsers without a GPU render it at well under 1 frame/s)."""
    joint_tolerance: float = 0.002
    """A link is re-sent when its joint has moved more than this since it was last sent [rad or m]."""


@dataclass
class SceneState:
    """The newest of each input, each with a version that counts its changes (what `ViserScene` redraws)."""

    description: str = ""
    joints: dict[str, float] = field(default_factory=dict)
    base: conv.Pose | None = None
    world_frame: str = "odom"
    base_frame: str = "base_link"
    grid: conv.GridCells | None = None
    objects: tuple[str, list[conv.ObjectBox]] = ("", [])
    steps: tuple[str, list[conv.Step]] = ("", [])
    people: tuple[str, np.ndarray] = field(default_factory=lambda: ("", np.zeros((0, 3))))
    image: np.ndarray | None = None
    executive: str = "(no executive/status yet)"
    safety: str = "(no safety/state yet)"
    markers: dict[str, dict[tuple[str, int], conv.MarkerShape]] = field(default_factory=dict)
    """Topic -> (ns, id) -> marker."""
    versions: dict[str, int] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)
    """Input -> its newest problem (a message that could not be shown, and why)."""
    occupied_threshold: int = 50

    def version(self, what: str) -> int:
        return self.versions.get(what, 0)

    def _changed(self, what: str) -> None:
        self.versions[what] = self.version(what) + 1
        self.problems.pop(what, None)

    def _guarded(self, what: str, update: Callable[[], None]) -> bool:
        """Run `update`; a ViewerError becomes the input's problem (the view keeps the last good data)."""
        try:
            update()
        except ViewerError as error:
            self.problems[what] = str(error)
            return False
        self._changed(what)
        return True

    # Each of these takes one message of its topic.
    def on_description(self, msg: Any) -> bool:
        def update() -> None:
            if not msg.data.strip():
                raise ViewerError("robot_description is empty")
            self.description = msg.data
        return self._guarded("description", update)

    def on_joint_states(self, msg: Any) -> bool:
        def update() -> None:
            self.joints = self.joints | conv.joint_positions(msg)
        return self._guarded("joints", update)

    def on_odometry(self, msg: Any) -> bool:
        def update() -> None:
            self.base = conv.base_pose(msg)
            self.world_frame = msg.header.frame_id or self.world_frame
            self.base_frame = msg.child_frame_id or self.base_frame
        return self._guarded("base", update)

    def on_map(self, msg: Any) -> bool:
        def update() -> None:
            self.grid = conv.occupied_cells(msg, self.occupied_threshold)
        return self._guarded("map", update)

    def on_objects(self, msg: Any) -> bool:
        def update() -> None:
            self.objects = conv.detected_objects(msg)
        return self._guarded("objects", update)

    def on_footsteps(self, msg: Any) -> bool:
        def update() -> None:
            self.steps = conv.footsteps(msg)
        return self._guarded("steps", update)

    def on_people(self, msg: Any) -> bool:
        def update() -> None:
            self.people = conv.people(msg)
        return self._guarded("people", update)

    def on_image(self, msg: Any) -> bool:
        def update() -> None:
            self.image = conv.camera_image(msg)
        return self._guarded("image", update)

    def on_executive_status(self, msg: Any) -> bool:
        def update() -> None:
            self.executive = conv.executive_text(msg)
        return self._guarded("executive", update)

    def on_safety_state(self, msg: Any) -> bool:
        def update() -> None:
            self.safety = conv.fields_text(msg)
        return self._guarded("safety", update)

    def on_markers(self, topic: str, msg: Any) -> bool:
        shapes, problems = conv.markers(msg)
        current = self.markers.setdefault(topic, {})
        for shape in shapes:
            if shape.action == "deleteall":
                current.clear()
            elif shape.action == "delete":
                current.pop(shape.key, None)
            else:
                current[shape.key] = shape
        self._changed(f"markers:{topic}")
        if problems:
            self.problems[f"markers:{topic}"] = "; ".join(problems[:3])
        return not problems


def _safe(name: str) -> str:
    """A scene-tree path component: letters, digits, `_`, `-` and `.` kept, the rest `_`."""
    return re.sub(r"[^A-Za-z0-9_.\-]", "_", name) or "_"


_SIDE_COLOURS = {"left": (60, 120, 230), "right": (230, 90, 60)}
_MAP_COLOUR = (90, 90, 100)
_PERSON_COLOUR = (250, 160, 20)
_PATH_COLOUR = (40, 160, 90)


class ViserScene:
    """Draws SceneStates with a viser server: the robot (meshes under `/robot`), the map, objects, footsteps and
    their path, people, markers (`/markers/<topic>/<ns>/<id>`), and a side panel with the camera image, executive
    and safety status, and the view's problems. Checkboxes hide or show each layer.

    Args:
        server: a `viser.ViserServer`.
        settings: how the view looks.
    """

    LAYERS = ("robot", "map", "objects", "footsteps", "people", "markers")

    def __init__(self, server: Any, settings: ViewSettings) -> None:
        self.server = server
        self.settings = settings
        self.drawn: dict[str, int] = {}
        """Input -> the version last drawn."""
        self.kinematics: RobotKinematics | None = None
        self._robot_root: Any = None
        self._link_frames: dict[str, Any] = {}
        self._link_sent: dict[str, float] = {}
        """Link -> the position of its parent joint when its pose was last sent [rad or m]."""
        self._handles: dict[str, dict[str, Any]] = {layer: {} for layer in self.LAYERS}
        self._camera_set = False
        scene = server.scene
        scene.configure_environment_map(settings.environment_map or None)
        scene.configure_default_lights(True, cast_shadow=False)
        scene.add_grid("/floor", width=20.0, height=20.0, cell_size=1.0, plane="xy")
        self._layer_roots = {layer: scene.add_frame(f"/{layer}", show_axes=False) for layer in self.LAYERS}
        gui = server.gui
        with gui.add_folder("Status"):
            self.executive_text = gui.add_markdown("(no executive/status yet)")
            self.safety_text = gui.add_markdown("(no safety/state yet)")
        with gui.add_folder("Camera (perception/debug_image)"):
            self.image = gui.add_image(np.zeros((24, 32, 3), np.uint8), label="debug image", format="jpeg")
        with gui.add_folder("Layers"):
            self.toggles = {layer: gui.add_checkbox(layer, True) for layer in self.LAYERS}
        for layer, toggle in self.toggles.items():
            toggle.on_update(self._visibility_setter(layer))
        self.problems_text = gui.add_markdown("")

    def _visibility_setter(self, layer: str) -> Callable[[Any], None]:
        def set_visible(_event: Any) -> None:
            self._layer_roots[layer].visible = bool(self.toggles[layer].value)
        return set_visible

    # ------------------------------------------------------------------------------------------------ drawing
    def draw(self, state: SceneState) -> None:
        """Send the browser what changed in `state` since the last draw."""
        with self.server.atomic():
            if self._due(state, "description"):
                self._load_robot(state)
            if self.kinematics is not None and (self._due(state, "joints") | self._due(state, "base")):
                self._pose_robot(state)
            frames = _FrameResolver(state, self.kinematics)
            if self._due(state, "map"):
                self._draw_map(state, frames)
            if self._due(state, "objects"):
                self._draw_objects(state, frames)
            if self._due(state, "steps"):
                self._draw_steps(state, frames)
            if self._due(state, "people"):
                self._draw_people(state, frames)
            for topic in list(state.markers):
                if self._due(state, f"markers:{topic}"):
                    self._draw_markers(topic, state.markers[topic], frames)
            if self._due(state, "image") and state.image is not None:
                self.image.image = state.image
            if self._due(state, "executive"):
                self.executive_text.content = state.executive
            if self._due(state, "safety"):
                self.safety_text.content = state.safety
            problems = "  \n".join(f"{what}: {text}" for what, text in sorted(state.problems.items()))
            if problems != self.problems_text.content:
                self.problems_text.content = problems

    def _due(self, state: SceneState, what: str) -> bool:
        version = state.version(what)
        if version == self.drawn.get(what, 0):
            return False
        self.drawn[what] = version
        return True

    def _load_robot(self, state: SceneState) -> None:
        from legion_description import DescriptionError
        from legion_description.package_uris import resolve_mesh_uris

        try:
            kinematics = RobotKinematics(resolve_mesh_uris(state.description))
        except (DescriptionError, ViewerError) as error:
            state.problems["description"] = str(error)
            return
        if self._robot_root is not None:
            self._robot_root.remove()
        self.kinematics = kinematics
        scene = self.server.scene
        self._robot_root = scene.add_frame("/robot/base", show_axes=False)
        self._link_frames, self._link_sent = {}, {}
        for link in kinematics.links:
            path = kinematics.link_path(link, "/robot/base")
            if link != kinematics.root:
                self._link_frames[link] = scene.add_frame(path, show_axes=False)
            for visual in kinematics.visuals[link]:
                scene.add_mesh_trimesh(f"{path}/{_safe(visual.name)}", visual.mesh)
        self.drawn["joints"] = -1  # pose the new model at once
        self._pose_robot(state)

    def _pose_robot(self, state: SceneState) -> None:
        """The root at the odometry pose; each moving joint's child link re-sent only when the joint has moved more
        than `joint_tolerance` since it was last sent (a revolute joint changes its link's orientation only: one
        message). Every link is sent in full when the model is new."""
        assert self.kinematics is not None
        if state.base is not None:
            self._robot_root.position = state.base.position
            self._robot_root.wxyz = state.base.wxyz
            if not self._camera_set:
                self._set_camera(state.base.position)
        q = self.kinematics.positions(state.joints)
        full = not self._link_sent
        for joint in self.kinematics.joints if full else self.kinematics.moving:
            value = q.get(joint.name, 0.0)
            sent = self._link_sent.get(joint.child)
            if sent is not None and abs(value - sent) <= self.settings.joint_tolerance:
                continue
            self._link_sent[joint.child] = value
            position, wxyz = joint_pose(joint, value)
            frame = self._link_frames[joint.child]
            if full or joint.kind == "prismatic":
                frame.position = position
            frame.wxyz = wxyz

    def _set_camera(self, robot_position: np.ndarray) -> None:
        target = robot_position + np.array([0.0, 0.0, self.settings.camera_target_height])
        position = robot_position + np.asarray(self.settings.camera_offset, float)
        camera = self.server.initial_camera
        camera.position = tuple(float(v) for v in position)
        camera.look_at = tuple(float(v) for v in target)
        for client in self.server.get_clients().values():
            client.camera.position = camera.position
            client.camera.look_at = camera.look_at
        self._camera_set = True

    def _replace(self, layer: str, name: str, make: Callable[[str], Any]) -> None:
        path = f"/{layer}/{name}"
        self._handles[layer][path] = make(path)

    def _remove_stale(self, layer: str, keep: set[str], prefix: str = "") -> None:
        for path in [p for p in self._handles[layer] if p.startswith(prefix) and p not in keep]:
            self._handles[layer].pop(path).remove()

    def _draw_map(self, state: SceneState, frames: _FrameResolver) -> None:
        grid = state.grid
        T = frames.world_pose(grid.frame, "map") if grid is not None else None
        if grid is None or T is None:
            return
        centres = (T[:3, :3] @ grid.centres.T).T + T[:3, 3]
        colours = np.tile(np.array(_MAP_COLOUR, np.uint8), (len(centres), 1))
        self._replace("map", "occupied", lambda path: self.server.scene.add_point_cloud(
            path, points=centres.astype(np.float32), colors=colours, point_size=grid.resolution,
            point_shape="square"))

    def _draw_objects(self, state: SceneState, frames: _FrameResolver) -> None:
        frame, objects = state.objects
        T = frames.world_pose(frame, "objects")
        keep = set()
        scene = self.server.scene
        for obj in objects if T is not None else []:
            pose = conv.matrix_to_pose(T @ obj.pose.matrix())
            name = _safe(obj.id)
            keep.add(f"/objects/{name}")
            kw = {"position": pose.position, "wxyz": pose.wxyz, "color": obj.colour}
            if obj.shape == "sphere":
                self._replace("objects", name, lambda p, o=obj, k=kw: scene.add_icosphere(
                    p, radius=float(max(o.size) / 2), **k))
            elif obj.shape == "cylinder":
                self._replace("objects", name, lambda p, o=obj, k=kw: scene.add_cylinder(
                    p, radius=float(max(o.size[:2]) / 2), height=float(o.size[2]), **k))
            else:
                opacity = 0.45 if obj.shape == "container" else 1.0
                self._replace("objects", name, lambda p, o=obj, k=kw, a=opacity: scene.add_box(
                    p, dimensions=tuple(float(v) for v in o.size), opacity=a, **k))
        self._remove_stale("objects", keep)

    def _draw_steps(self, state: SceneState, frames: _FrameResolver) -> None:
        frame, steps = state.steps
        T = frames.world_pose(frame, "footsteps")
        keep = set()
        scene = self.server.scene
        dims = (self.settings.sole_length, self.settings.sole_width, 0.005)
        positions = []
        for index, step in enumerate(steps if T is not None else []):
            pose = conv.matrix_to_pose(T @ step.pose.matrix())
            positions.append(pose.position)
            keep.add(f"/footsteps/step_{index}")
            self._replace("footsteps", f"step_{index}", lambda p, s=step, q=pose: scene.add_box(
                p, dimensions=dims, color=_SIDE_COLOURS[s.side], opacity=0.7, position=q.position, wxyz=q.wxyz))
        if len(positions) >= 2:
            points = np.asarray(positions, np.float32)
            segments = np.stack([points[:-1], points[1:]], axis=1)  # (n-1, 2, 3)
            keep.add("/footsteps/path")
            self._replace("footsteps", "path", lambda p: scene.add_line_segments(
                p, points=segments, colors=_PATH_COLOUR, line_width=3.0))
        self._remove_stale("footsteps", keep)

    def _draw_people(self, state: SceneState, frames: _FrameResolver) -> None:
        frame, points = state.people
        T = frames.world_pose(frame, "people")
        keep = set()
        scene = self.server.scene
        for index, point in enumerate(points if T is not None else []):
            world = T[:3, :3] @ point + T[:3, 3]
            height = float(max(world[2], 0.3))
            keep.add(f"/people/person_{index}")
            self._replace("people", f"person_{index}", lambda p, w=world, h=height: scene.add_cylinder(
                p, radius=self.settings.person_radius, height=h, color=_PERSON_COLOUR, opacity=0.6,
                position=(float(w[0]), float(w[1]), h / 2)))
        self._remove_stale("people", keep)

    def _draw_markers(self, topic: str, shapes: dict[tuple[str, int], conv.MarkerShape],
                      frames: _FrameResolver) -> None:
        prefix = f"/markers/{_safe(topic.strip('/'))}"
        keep = set()
        for (ns, ident), shape in shapes.items():
            T = frames.world_pose(shape.frame, f"markers:{topic}")
            if T is None:
                continue
            name = f"{_safe(topic.strip('/'))}/{_safe(ns)}/{ident}"
            keep.add(f"/markers/{name}")
            self._replace("markers", name, lambda p, s=shape, t=T: _draw_marker(self.server.scene, p, s, t))
        self._remove_stale("markers", keep, prefix + "/")


def _draw_marker(scene: Any, path: str, shape: conv.MarkerShape, world_T_frame: np.ndarray) -> Any:
    """One marker in the world frame; its points (line and list types) are in the marker's pose frame."""
    world_T_marker = world_T_frame @ shape.pose.matrix()
    pose = conv.matrix_to_pose(world_T_marker)
    points = (world_T_marker[:3, :3] @ shape.points.T).T + world_T_marker[:3, 3] if len(shape.points) else \
        np.zeros((0, 3))
    scale = np.abs(shape.scale)
    kw = {"color": shape.colour, "opacity": shape.opacity}
    if shape.kind == "cube":
        return scene.add_box(path, dimensions=tuple(float(v) for v in scale), position=pose.position,
                             wxyz=pose.wxyz, **kw)
    if shape.kind == "sphere":
        return scene.add_icosphere(path, radius=float(max(scale) / 2), position=pose.position, wxyz=pose.wxyz, **kw)
    if shape.kind == "cylinder":
        return scene.add_cylinder(path, radius=float(max(scale[:2]) / 2), height=float(scale[2]),
                                  position=pose.position, wxyz=pose.wxyz, **kw)
    if shape.kind in ("line_strip", "line_list", "arrow"):
        if shape.kind == "arrow" and len(points) < 2:
            points = np.array([pose.position, world_T_marker[:3, :3] @ [scale[0], 0.0, 0.0] + pose.position])
        if shape.kind == "line_list":
            points = points[: len(points) // 2 * 2]
            segments = points.reshape(-1, 2, 3)
        else:
            segments = np.stack([points[:-1], points[1:]], axis=1)
        width = max(1.0, float(scale[0]) * 200.0)  # [px] about a line of scale.x metres seen from a few metres
        return scene.add_line_segments(path, points=segments.astype(np.float32), colors=shape.colour,
                                       line_width=width)
    if shape.kind in ("points", "cube_list", "sphere_list"):
        return scene.add_point_cloud(path, points=points.astype(np.float32),
                                     colors=np.tile(np.array(shape.colour, np.uint8), (len(points), 1)),
                                     point_size=float(max(scale[0], 1e-3)),
                                     point_shape="square" if shape.kind == "cube_list" else "circle")
    return scene.add_label(path, shape.text or "", position=pose.position)


class _FrameResolver:
    """Frame -> (4, 4) its pose in the world frame, for the world frame, the odometry's child frame and the robot's
    links; None for any other (and the drawing's input gets a problem)."""

    def __init__(self, state: SceneState, kinematics: RobotKinematics | None) -> None:
        self.state, self.kinematics = state, kinematics
        self._links: dict[str, np.ndarray] | None = None

    def world_pose(self, frame: str, what: str) -> np.ndarray | None:
        state = self.state
        for name in dict.fromkeys((frame, frame.rsplit("/", 1)[-1])):
            if name in ("", state.world_frame, state.world_frame.rsplit("/", 1)[-1]):
                return np.eye(4)
            if state.base is None:
                continue
            if name in (state.base_frame, state.base_frame.rsplit("/", 1)[-1]):
                return state.base.matrix()
            if self.kinematics is not None:
                if self._links is None:
                    self._links = self.kinematics.link_poses(state.joints)
                if name in self._links:
                    return state.base.matrix() @ self._links[name]
        self.state.problems[what] = f"frame '{frame}' unknown (not the world frame, the base or a robot link)"
        return None
