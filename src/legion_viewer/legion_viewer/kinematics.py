"""The robot description as the viewer draws it: its link tree, each link's visual meshes, and the transform of each
link in its parent link's frame for given joint positions.

yourdfpy reads the URDF and builds the visual meshes (primitives and mesh files, whose `package://` / `file://` URIs
`legion_description.resolve_mesh_uris` has made absolute: nothing is downloaded). The joint transforms are computed
here, `parent_T_child = origin * motion(q)`, for the joints that move only: yourdfpy's own `update_cfg` rebuilds its
whole scene graph and took about 50 ms per call on a 74-joint humanoid, too slow for a 20 Hz view.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from legion_viewer.errors import ViewerError

MOVING_TYPES = ("revolute", "continuous", "prismatic")
"""Joint types with one position; fixed joints keep their origin, floating and planar ones are drawn at it."""


@dataclass(frozen=True)
class LinkVisual:
    """One visual mesh of a link, in the link's frame."""

    name: str
    vertices: np.ndarray
    """(n, 3) [m], in the link frame."""
    faces: np.ndarray
    """(m, 3) vertex indices."""
    mesh: object
    """The trimesh.Trimesh (with its colours), in the link frame."""


@dataclass(frozen=True)
class Joint:
    """A joint of the tree: `parent_T_child(q) = origin @ motion(q)`."""

    name: str
    kind: str
    parent: str
    child: str
    origin: np.ndarray
    """(4, 4) child frame at q = 0 in the parent link's frame."""
    axis: np.ndarray
    """(3,) unit axis in the joint frame."""
    mimic: tuple[str, float, float] | None = None
    """(master joint, multiplier, offset): q = multiplier * q_master + offset."""
    origin_position: tuple[float, float, float] = (0.0, 0.0, 0.0)
    """The origin's translation [m] (what `joint_pose` starts from)."""
    origin_wxyz: tuple[float, float, float, float] = (1.0, 0.0, 0.0, 0.0)
    """The origin's rotation as a quaternion (w, x, y, z)."""


def _rotation(axis: np.ndarray, angle: float) -> np.ndarray:
    """(3, 3) rotation by `angle` [rad] about the unit `axis` (Rodrigues)."""
    x, y, z = axis
    c, s = math.cos(angle), math.sin(angle)
    C = 1.0 - c
    return np.array([[c + x * x * C, x * y * C - z * s, x * z * C + y * s],
                     [y * x * C + z * s, c + y * y * C, y * z * C - x * s],
                     [z * x * C - y * s, z * y * C + x * s, c + z * z * C]])


def quaternion_multiply(a: tuple[float, ...], b: tuple[float, ...]) -> tuple[float, float, float, float]:
    """Hamilton product of two (w, x, y, z) quaternions."""
    aw, ax, ay, az = a
    bw, bx, by, bz = b
    return (aw * bw - ax * bx - ay * by - az * bz, aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx, aw * bz + ax * by - ay * bx + az * bw)


def joint_pose(joint: Joint, q: float) -> tuple[tuple[float, float, float], tuple[float, float, float, float]]:
    """The child link frame in the parent link's frame at joint position `q`, as (position [m], (w, x, y, z)),
    without matrices: a revolute joint turns the origin's orientation about its axis and keeps its position; a
    prismatic one moves the position along its axis (in the parent frame: the origin's rotation applied)."""
    position, wxyz = joint.origin_position, joint.origin_wxyz
    if joint.kind in ("revolute", "continuous"):
        s = math.sin(q / 2.0)
        return position, quaternion_multiply(wxyz, (math.cos(q / 2.0), *(float(a) * s for a in joint.axis)))
    if joint.kind == "prismatic":
        moved = joint.origin[:3, :3] @ (joint.axis * q)
        return (position[0] + moved[0], position[1] + moved[1], position[2] + moved[2]), wxyz
    return position, wxyz


def joint_transform(joint: Joint, q: float) -> np.ndarray:
    """(4, 4) child link frame in the parent link's frame at joint position `q` [rad or m]."""
    if joint.kind not in MOVING_TYPES:
        return joint.origin
    motion = np.eye(4)
    if joint.kind == "prismatic":
        motion[:3, 3] = joint.axis * q
    else:
        motion[:3, :3] = _rotation(joint.axis, q)
    return joint.origin @ motion


def rotation_to_wxyz(R: np.ndarray) -> np.ndarray:
    """(3, 3) rotation -> unit quaternion (w, x, y, z), w >= 0."""
    w = math.sqrt(max(0.0, 1.0 + R[0, 0] + R[1, 1] + R[2, 2])) / 2.0
    x = math.copysign(math.sqrt(max(0.0, 1.0 + R[0, 0] - R[1, 1] - R[2, 2])) / 2.0, R[2, 1] - R[1, 2])
    y = math.copysign(math.sqrt(max(0.0, 1.0 - R[0, 0] + R[1, 1] - R[2, 2])) / 2.0, R[0, 2] - R[2, 0])
    z = math.copysign(math.sqrt(max(0.0, 1.0 - R[0, 0] - R[1, 1] + R[2, 2])) / 2.0, R[1, 0] - R[0, 1])
    q = np.array([w, x, y, z])
    return q / np.linalg.norm(q)


class RobotKinematics:
    """A robot description's link tree and visuals.

    Args:
        urdf_xml: the expanded URDF text, mesh URIs already absolute (`resolve_mesh_uris`).

    Raises:
        ViewerError: the text is not a URDF yourdfpy can read, or a mesh file cannot be loaded.
    """

    def __init__(self, urdf_xml: str) -> None:
        try:
            import yourdfpy

            urdf = yourdfpy.URDF.load(io.StringIO(urdf_xml), build_scene_graph=True, load_meshes=True,
                                      build_collision_scene_graph=False, load_collision_meshes=False)
        except Exception as error:  # yourdfpy raises many types (XML, file, mesh errors): one report
            raise ViewerError(f"robot_description cannot be read as a URDF: {error}") from error
        self.root: str = urdf.base_link
        """The root link (the frame `odom` poses, e.g. base_link)."""
        self.joints: list[Joint] = []
        """Every joint, parents before children."""
        by_parent: dict[str, list] = {}
        for joint in urdf.joint_map.values():
            by_parent.setdefault(joint.parent, []).append(joint)
        order = [self.root]
        for link in order:  # breadth first: a parent's path exists before its children's
            for joint in by_parent.get(link, []):
                mimic = None
                if joint.mimic is not None:
                    mimic = (joint.mimic.joint, float(joint.mimic.multiplier if joint.mimic.multiplier is not None
                                                      else 1.0), float(joint.mimic.offset or 0.0))
                axis = np.asarray(joint.axis if joint.axis is not None else (1.0, 0.0, 0.0), dtype=float)
                norm = float(np.linalg.norm(axis))
                origin = np.asarray(joint.origin if joint.origin is not None else np.eye(4), float)
                origin_wxyz = tuple(float(v) for v in rotation_to_wxyz(origin[:3, :3]))
                self.joints.append(Joint(joint.name, joint.type, joint.parent, joint.child, origin,
                                         axis / norm if norm > 0 else np.array([1.0, 0.0, 0.0]), mimic,
                                         tuple(float(v) for v in origin[:3, 3]), origin_wxyz))
                order.append(joint.child)
        self.links: list[str] = order
        """Every link reachable from the root, parents before children."""
        self.parent_joint: dict[str, Joint] = {j.child: j for j in self.joints}
        self.visuals: dict[str, list[LinkVisual]] = {link: [] for link in self.links}
        """Link -> its visual meshes, in the link frame."""
        scene = urdf.scene
        if scene is not None:
            parents = scene.graph.transforms.parents
            for name, mesh in scene.geometry.items():
                link = parents.get(name)
                if link not in self.visuals:
                    continue
                link_T_mesh, _ = scene.graph.get(frame_to=name, frame_from=link)
                mesh = mesh.copy()
                mesh.apply_transform(link_T_mesh)
                self.visuals[link].append(LinkVisual(name, np.asarray(mesh.vertices), np.asarray(mesh.faces), mesh))
        self.moving: list[Joint] = [j for j in self.joints if j.kind in MOVING_TYPES]
        """The joints with a position (the ones a view updates)."""

    def positions(self, measured: Mapping[str, float]) -> dict[str, float]:
        """Position of every moving joint [rad or m]: measured where given, mimic joints from their master, 0
        otherwise."""
        q = {j.name: float(measured.get(j.name, 0.0)) for j in self.moving}
        for joint in self.moving:
            if joint.mimic is not None and joint.mimic[0] in q:
                master, multiplier, offset = joint.mimic
                q[joint.name] = multiplier * q[master] + offset
        return q

    def local_transforms(self, measured: Mapping[str, float]) -> dict[str, np.ndarray]:
        """Child link -> (4, 4) its frame in its parent link's frame, for every moving joint."""
        q = self.positions(measured)
        return {j.child: joint_transform(j, q[j.name]) for j in self.moving}

    def link_poses(self, measured: Mapping[str, float]) -> dict[str, np.ndarray]:
        """Link -> (4, 4) its frame in the root link's frame (forward kinematics over the whole tree)."""
        q = self.positions(measured)
        poses = {self.root: np.eye(4)}
        for joint in self.joints:
            poses[joint.child] = poses[joint.parent] @ joint_transform(joint, q.get(joint.name, 0.0))
        return poses

    def link_path(self, link: str, prefix: str) -> str:
        """The viser scene path of `link` under `prefix`: its chain of link names from the root."""
        chain = [link]
        while chain[-1] in self.parent_joint:
            chain.append(self.parent_joint[chain[-1]].parent)
        return prefix + "/" + "/".join(reversed(chain))
