"""Link transforms of a robot from its URDF and joint positions: what robot_state_publisher computes, for the
machines that do not have it (the pip path). Plain Python over Pinocchio, no ROS.

    links = LinkStates(urdf_xml)                      # DescriptionError if the URDF does not parse
    for edge in links.fixed_edges(): ...              # once: tf_static
    poses = links.moving_transforms({"l_knee": 0.4})  # each update: tf; parent link -> child link

Each URDF joint is an edge from its parent link to its child link; the transform of an edge is the pose of the child
link in the parent link (TF's convention: `header.frame_id` = parent, `child_frame_id` = child). Fixed joints give
constant transforms; revolute, continuous and prismatic joints depend on their position (a joint not given keeps the
last position given, 0 at the start); a mimic joint follows its master (`multiplier * q_master + offset`), as
robot_state_publisher does. Floating and planar joints are not supported (an error names them).
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pinocchio as pin

from legion_description.robot_files import DescriptionError

MOVING_TYPES = ("revolute", "continuous", "prismatic")


@dataclass(frozen=True)
class Edge:
    """One URDF joint as a TF edge."""

    joint: str
    """URDF joint name."""
    parent: str
    """Parent link (the transform's `frame_id`)."""
    child: str
    """Child link (the transform's `child_frame_id`)."""
    moving: bool
    """Revolute, continuous or prismatic; False: fixed."""


@dataclass(frozen=True)
class Mimic:
    """A joint that follows another: q = multiplier * q[master] + offset."""

    master: str
    multiplier: float
    offset: float


class LinkStates:
    """Kinematic tree of one URDF: link transforms from joint positions (see the module docstring).

    Attributes:
        root: the root link.
        edges: every joint as an Edge, in URDF order.
    """

    def __init__(self, urdf_xml: str) -> None:
        """Raises DescriptionError: the URDF does not parse, or has a joint type TF cannot be given for here."""
        try:
            robot = ET.fromstring(urdf_xml)
            self.model = pin.buildModelFromXML(urdf_xml)
        except (ET.ParseError, RuntimeError, ValueError) as error:
            raise DescriptionError(f"robot_description does not parse: {error}") from error
        edges, mimics = [], {}
        for joint in robot.iter("joint"):
            kind = joint.get("type", "")
            parent, child = joint.find("parent"), joint.find("child")
            if parent is None or child is None:
                raise DescriptionError(f"robot_description: joint '{joint.get('name')}' has no parent or child link")
            if kind not in (*MOVING_TYPES, "fixed"):
                raise DescriptionError(f"robot_description: joint '{joint.get('name')}' is {kind or 'untyped'}; "
                                       f"link transforms are given for fixed, {', '.join(MOVING_TYPES)} joints")
            edges.append(Edge(joint.get("name", ""), parent.get("link", ""), child.get("link", ""), kind != "fixed"))
            mimic = joint.find("mimic")
            if mimic is not None and kind != "fixed":
                mimics[joint.get("name", "")] = Mimic(mimic.get("joint", ""), float(mimic.get("multiplier", 1.0)),
                                                      float(mimic.get("offset", 0.0)))
        self.edges: tuple[Edge, ...] = tuple(edges)
        roots = sorted({edge.parent for edge in edges} - {edge.child for edge in edges})
        first_link = robot.find("link")
        self.root: str = roots[0] if roots else (first_link.get("name", "") if first_link is not None else "")
        self.mimics: Mapping[str, Mimic] = mimics
        self.data = self.model.createData()
        self._frame_ids = {}
        for edge in edges:
            for link in (edge.parent, edge.child):
                if link not in self._frame_ids:
                    if not self.model.existFrame(link, pin.BODY):
                        raise DescriptionError(f"robot_description: link '{link}' is not a body of the model")
                    self._frame_ids[link] = self.model.getFrameId(link, pin.BODY)
        # q index and size of each joint of the model (every moving URDF joint; Pinocchio's root is the universe). A
        # continuous joint has nq = 2 in Pinocchio: (cos, sin) of its angle.
        self._q_index = {name: self.model.joints[self.model.getJointId(name)].idx_q
                         for name in self.model.names[1:]}
        self._unbounded = {name for name in self.model.names[1:]
                           if self.model.joints[self.model.getJointId(name)].nq == 2}
        self.q = pin.neutral(self.model)
        self.moving_edges = tuple(edge for edge in edges if edge.moving)
        self.fixed_edges_ = tuple(edge for edge in edges if not edge.moving)

    @property
    def joint_names(self) -> tuple[str, ...]:
        """The moving joints whose positions set the transforms (mimic joints included: they are computed)."""
        return tuple(self._q_index)

    def set_positions(self, positions: Mapping[str, float]) -> int:
        """Take joint positions [rad or m] by name; unknown names are ignored, non-finite values are not taken.
        Returns how many positions were taken."""
        taken = 0
        for name, value in positions.items():
            index = self._q_index.get(name)
            if index is not None and name not in self.mimics and math.isfinite(value):
                self._set(name, float(value))
                taken += 1
        for name, mimic in self.mimics.items():
            if mimic.master in self._q_index and name in self._q_index:
                self._set(name, mimic.multiplier * self.position(mimic.master) + mimic.offset)
        return taken

    def position(self, joint: str) -> float:
        """The current position [rad or m] of a moving joint."""
        index = self._q_index[joint]
        if joint in self._unbounded:
            return math.atan2(self.q[index + 1], self.q[index])
        return float(self.q[index])

    def _set(self, joint: str, value: float) -> None:
        index = self._q_index[joint]
        if joint in self._unbounded:
            self.q[index], self.q[index + 1] = math.cos(value), math.sin(value)
        else:
            self.q[index] = value

    def _edge_transforms(self, edges: tuple[Edge, ...]) -> tuple[np.ndarray, np.ndarray]:
        """Positions (n, 3) [m] and quaternions (n, 4) (x, y, z, w) of each edge's child link in its parent link."""
        pin.framesForwardKinematics(self.model, self.data, self.q)
        placements = self.data.oMf
        needed = {self._frame_ids[link] for edge in edges for link in (edge.parent, edge.child)}
        world = {frame: placements[frame].homogeneous for frame in needed}  # (4, 4) each: link -> root
        parents = np.array([world[self._frame_ids[edge.parent]] for edge in edges]).reshape(-1, 4, 4)
        children = np.array([world[self._frame_ids[edge.child]] for edge in edges]).reshape(-1, 4, 4)
        parent_rotation_t = np.transpose(parents[:, :3, :3], (0, 2, 1))  # (n, 3, 3): root -> parent link
        rotations = parent_rotation_t @ children[:, :3, :3]  # (n, 3, 3): child link -> parent link
        positions = np.einsum("nij,nj->ni", parent_rotation_t, children[:, :3, 3] - parents[:, :3, 3])  # (n, 3)
        return positions, quaternions_from_matrices(rotations)

    def fixed_transforms(self) -> tuple[np.ndarray, np.ndarray]:
        """Position [m] (n, 3) and quaternion (x, y, z, w) (n, 4) of the child link in the parent link of each of
        `fixed_edges_`: constant."""
        return self._edge_transforms(self.fixed_edges_)

    def moving_transforms(self, positions: Mapping[str, float] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """As `fixed_transforms`, for each of `moving_edges` at the positions given now (and before)."""
        if positions:
            self.set_positions(positions)
        return self._edge_transforms(self.moving_edges)

    def link_pose(self, link: str) -> tuple[np.ndarray, np.ndarray]:
        """Pose of `link` in the root link at the current positions: position [m], quaternion (x, y, z, w)."""
        pin.framesForwardKinematics(self.model, self.data, self.q)
        placement = self.data.oMf[self._frame_ids[link]]
        return placement.translation.copy(), pin.Quaternion(placement.rotation).coeffs().copy()


def quaternions_from_matrices(rotations: np.ndarray) -> np.ndarray:
    """Rotation matrices (n, 3, 3) -> unit quaternions (n, 4) (x, y, z, w), w >= 0 (Shepperd's method: the largest
    of w, x, y, z is computed from the trace first, so no division by a small number)."""
    m = rotations
    trace = m[:, 0, 0] + m[:, 1, 1] + m[:, 2, 2]
    candidates = np.stack([trace, m[:, 0, 0], m[:, 1, 1], m[:, 2, 2]], axis=1)  # (n, 4): 4 w^2 - 1, ... up to scale
    choice = np.argmax(candidates, axis=1)
    q = np.empty((len(m), 4))
    for k in range(4):
        rows = choice == k
        if not rows.any():
            continue
        r = m[rows]
        if k == 0:
            s = 2.0 * np.sqrt(1.0 + trace[rows])
            q[rows] = np.stack([(r[:, 2, 1] - r[:, 1, 2]) / s, (r[:, 0, 2] - r[:, 2, 0]) / s,
                                (r[:, 1, 0] - r[:, 0, 1]) / s, 0.25 * s], axis=1)
        elif k == 1:
            s = 2.0 * np.sqrt(1.0 + r[:, 0, 0] - r[:, 1, 1] - r[:, 2, 2])
            q[rows] = np.stack([0.25 * s, (r[:, 0, 1] + r[:, 1, 0]) / s, (r[:, 0, 2] + r[:, 2, 0]) / s,
                                (r[:, 2, 1] - r[:, 1, 2]) / s], axis=1)
        elif k == 2:
            s = 2.0 * np.sqrt(1.0 + r[:, 1, 1] - r[:, 0, 0] - r[:, 2, 2])
            q[rows] = np.stack([(r[:, 0, 1] + r[:, 1, 0]) / s, 0.25 * s, (r[:, 1, 2] + r[:, 2, 1]) / s,
                                (r[:, 0, 2] - r[:, 2, 0]) / s], axis=1)
        else:
            s = 2.0 * np.sqrt(1.0 + r[:, 2, 2] - r[:, 0, 0] - r[:, 1, 1])
            q[rows] = np.stack([(r[:, 0, 2] + r[:, 2, 0]) / s, (r[:, 1, 2] + r[:, 2, 1]) / s, 0.25 * s,
                                (r[:, 1, 0] - r[:, 0, 1]) / s], axis=1)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    q[q[:, 3] < 0.0] *= -1.0
    return q
