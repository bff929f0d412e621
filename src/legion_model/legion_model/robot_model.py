"""Rigid-body model of a humanoid with a free-flyer base, over Pinocchio.

Conventions (the same as Pinocchio's):

- The world frame is inertial, z up, with the ground at z = 0 (the state estimator's `odom`).
- Configuration `q` (nq,) = [base position in world [m] (3), base orientation quaternion x, y, z, w (4),
  joint positions [rad or m] (na)]; the base is the configuration's `base` frame, the URDF root link (pelvis).
- Velocity `v` (nv,) = [base linear velocity [m/s] (3), base angular velocity [rad/s] (3), joint velocities (na)]; the
  base twist is expressed in the base frame (the twist of a REP-105 `odom` -> `base_link` Odometry message).
- Joints appear in `q[7:]` and `v[6:]` in the order of `RobotModel.joint_names`, with `nq = na + 7`, `nv = na + 6`.
- Spatial vectors (twists, accelerations, momenta) are stacked linear part first, then angular part.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pinocchio as pin

from legion_description import DescriptionError, RobotConfig, expand_urdf, load_robot_config
from legion_description.package_uris import resolve_mesh_uris
from legion_description.robot_config import SIDES
from legion_description.robot_files import resolve_urdf
from legion_model.exceptions import ModelError
from legion_model.support_polygon import SupportPolygon

BASE_NQ = 7
"""Free-flyer configuration size: position (3) and unit quaternion x, y, z, w (4)."""
BASE_NV = 6
"""Free-flyer velocity size: linear (3) and angular (3) velocity of the base, in the base frame."""

QUATERNION_NORM_TOLERANCE = 1e-6
"""Largest accepted deviation of a base quaternion's norm from 1."""
STANDING_SOLE_TILT_TOLERANCE = 1e-3
"""[rad] largest angle between the two sole normals for which a standing posture can put both soles flat."""
STANDING_SOLE_HEIGHT_TOLERANCE = 1e-3
"""[m] largest height difference between the two soles, once flat, for which both touch the ground."""

_WORLD_Z = np.array([0.0, 0.0, 1.0])


@dataclass(frozen=True)
class JointLimits:
    """Limits of the actuated joints, in the order of `RobotModel.joint_names` (that is, of `v[6:]` and `q[7:]`)."""

    lower: np.ndarray
    """Lower position limit [rad or m].  # (na,)"""
    upper: np.ndarray
    """Upper position limit [rad or m].  # (na,)"""
    velocity: np.ndarray
    """Velocity limit, symmetric [rad/s or m/s].  # (na,)"""
    effort: np.ndarray
    """Effort limit, symmetric [N m or N].  # (na,)"""


def _read_only(array: np.ndarray) -> np.ndarray:
    array = np.array(array, dtype=float)
    array.setflags(write=False)
    return array


def _frame_index(model: pin.Model) -> dict[str, int]:
    """Frame name -> frame id. Where a link and a joint share a name, the link (BODY frame) wins."""
    ids: dict[str, int] = {}
    for frame_id, frame in enumerate(model.frames):
        if frame.name not in ids or frame.type == pin.FrameType.BODY:
            ids[frame.name] = frame_id
    return ids


def _mass_matrix_is_filled_whole(model: pin.Model) -> bool:
    """Whether this Pinocchio's computeAllTerms writes both triangles of M (newer releases) or the upper one only."""
    data = model.createData()
    data.M[:, :] = np.nan
    pin.computeAllTerms(model, data, pin.neutral(model), np.zeros(model.nv))
    return bool(np.isfinite(data.M).all())


class RobotModel:
    """Kinematics and dynamics of one humanoid, with a per-cycle `update(q, v)` and cheap getters after it.

    Build it with `RobotModel.load(robot)` or `RobotModel.from_config(config, urdf_xml)`. Joints may be locked (the
    hands, for a whole-body controller of the body): the model is then Pinocchio's reduced model, whose `q`, `v` and
    name maps cover the remaining joints only, and whose locked links move rigidly with their parents.

    Call `update(q, v)` once per control cycle: it runs one pass of Pinocchio's `computeAllTerms` (forward kinematics
    with v and zero joint acceleration, joint Jacobians and their time variation, CRBA, nonlinear effects, gravity,
    CoM, CoM Jacobian, centroidal momentum matrix and its time variation) and `updateFramePlacements`. Every getter
    then reads or lightly combines these results, and returns a fresh array that the caller may keep or modify.

    Attributes:
        config: the robot configuration the model was built from.
        model: the Pinocchio model (reduced if joints are locked).
        data: the Pinocchio data holding the results of the last `update`.
        full_model: the Pinocchio model with every URDF joint.
        locked_joints: locked joint name -> the position [rad or m] it is locked at.
        joint_names: actuated (unlocked) joints in `q[7:]` / `v[6:]` order.
        q_index: joint name -> its index in `q`.
        v_index: joint name -> its index in `v`.
        nq, nv, na: configuration, velocity and actuated-joint dimensions.
        mass: total mass [kg].
    """

    def __init__(self, config: RobotConfig, full_model: pin.Model, locked_joints: Mapping[str, float] | None = None):
        """Wrap a Pinocchio free-flyer model built from the robot's URDF; prefer `from_config` or `load`.

        Raises:
            ModelError: the model lacks a joint or frame named in the configuration, has a joint other than revolute
                or prismatic, or a locked joint is unknown or has a non-finite position.
        """
        self.config = config
        self.full_model = full_model
        _check_model_against_config(config, full_model)
        self.locked_joints: Mapping[str, float] = MappingProxyType(_checked_locks(config, full_model, locked_joints))
        self.model = _reduced_model(full_model, self.locked_joints)
        self.data = self.model.createData()
        self._scratch_data = self.model.createData()  # for computations that must not disturb the cycle's results

        self.nq: int = self.model.nq
        self.nv: int = self.model.nv
        self.na: int = self.nv - BASE_NV
        self.joint_names: tuple[str, ...] = tuple(self.model.names[2:])
        self.q_index: Mapping[str, int] = MappingProxyType(
            {name: self.model.joints[self.model.getJointId(name)].idx_q for name in self.joint_names})
        self.v_index: Mapping[str, int] = MappingProxyType(
            {name: self.model.joints[self.model.getJointId(name)].idx_v for name in self.joint_names})
        # Every joint but the root has nq = nv = 1, so Pinocchio's joint order is the q[7:] and v[6:] order.
        assert all(self.q_index[n] == BASE_NQ + i and self.v_index[n] == BASE_NV + i
                   for i, n in enumerate(self.joint_names))
        self._index_in_joint_names: dict[str, int] = {name: i for i, name in enumerate(self.joint_names)}
        self._last_joint_array_map: tuple[tuple[str, ...], tuple[np.ndarray | None, np.ndarray, bool]] | None = None

        self._frame_ids = _frame_index(self.model)
        self._sole_frame_ids = {side: self._frame_ids[config.sides[side].sole] for side in SIDES}
        self._base_frame_id = self._frame_ids[config.frames["base"]]
        self.mass: float = float(sum(inertia.mass for inertia in self.model.inertias))

        self.actuated_slice = slice(BASE_NV, self.nv)
        """Actuated joints' entries in `v` (and in generalized forces)."""
        self.selection_matrix = _read_only(np.hstack([np.zeros((self.na, BASE_NV)), np.eye(self.na)]))
        """Actuated selection S, with `v[6:] = S v` and generalized forces `S.T tau`.  # (na, nv)"""
        self.joint_limits = JointLimits(
            lower=_read_only(self.model.lowerPositionLimit[BASE_NQ:]),
            upper=_read_only(self.model.upperPositionLimit[BASE_NQ:]),
            velocity=_read_only(self.model.velocityLimit[BASE_NV:]),
            effort=_read_only(self.model.effortLimit[BASE_NV:]),
        )

        self._mass_matrix_filled_whole = _mass_matrix_is_filled_whole(self.model)
        self._lower_triangle = np.tril_indices(self.nv, -1)
        self._zero_v = np.zeros(self.nv)
        self._q = pin.neutral(self.model)
        self._v = np.zeros(self.nv)
        self.update(self._q, self._v)

    # ---------------------------------------------------------------------------------------------------- building

    @classmethod
    def from_config(
        cls,
        config: RobotConfig,
        urdf_xml: str,
        *,
        locked_joints: Mapping[str, float] | Iterable[str] | None = None,
    ) -> RobotModel:
        """Build the free-flyer model of a robot from its URDF text and configuration.

        Every revolute or prismatic URDF joint is modelled, including any the configuration does not name (those
        stand at 0); every joint and frame the configuration names must be in the URDF, and its `base` frame must be
        the URDF root link.

        Args:
            config: the robot configuration (joint groups, frames, standing posture).
            urdf_xml: the expanded URDF.
            locked_joints: joints to lock, as name -> position [rad or m], or as names locked at their standing
                position (e.g. `config.hand_joints`). Hardware joint states may still name them: conversions skip them.

        Raises:
            ModelError: the URDF does not parse or does not match the configuration (the message says how).
        """
        try:
            full_model = pin.buildModelFromXML(urdf_xml, pin.JointModelFreeFlyer())
        except (RuntimeError, ValueError) as error:
            raise ModelError(f"robot '{config.name}': the URDF does not parse: {error}") from error
        if locked_joints is not None and not isinstance(locked_joints, Mapping):
            locked_joints = {name: config.standing.get(name, 0.0) for name in locked_joints}
        return cls(config, full_model, locked_joints)

    @classmethod
    def load(
        cls,
        robot: str = "centurion",
        *,
        lock_hands: bool = False,
        locked_joints: Mapping[str, float] | Iterable[str] | None = None,
        config_path: Path | str | None = None,
        urdf_path: Path | str | None = None,
        **xacro_args: str | bool,
    ) -> RobotModel:
        """Load a robot's configuration and description (expanding its xacro) and build its model.

        Args:
            robot: robot name (its robot file is found as `legion_description.robot_files` says) or the path of a
                robot file.
            lock_hands: lock the hand joints at their standing positions (a body-only model).
            locked_joints: further joints to lock, as for `from_config`.
            config_path: an explicit robot configuration file instead of the robot's.
            urdf_path: an explicit `.urdf.xacro` or `.urdf` file. By default, the configuration's `urdf` entry
                (relative to the robot file's directory, else to the description share).
            xacro_args: xacro arguments, e.g. `use_gazebo=True`.

        Raises:
            ModelError: a file is missing, does not expand or does not match the configuration.
        """
        try:
            config = load_robot_config(robot, path=config_path)
            if urdf_path is None:
                urdf_path = resolve_urdf(Path(config.source), config.urdf)
            urdf_xml = expand_urdf(robot, path=urdf_path, **xacro_args)
        except DescriptionError as error:
            raise ModelError(str(error)) from error
        locks = {name: config.standing.get(name, 0.0) for name in config.hand_joints} if lock_hands else {}
        if locked_joints is not None:
            locks.update(locked_joints if isinstance(locked_joints, Mapping)
                         else {name: config.standing.get(name, 0.0) for name in locked_joints})
        return cls.from_config(config, urdf_xml, locked_joints=locks or None)

    def geometry_model(self, urdf_xml: str, kind: str = "collision") -> pin.GeometryModel:
        """The robot's collision or visual geometry (`kind`) from its URDF text, attached to the joints of `model`.

        Mesh URIs (`package://`, `file://`) are resolved first (`legion_description.package_uris`), so meshes load
        without a ROS installation. The geometry is placed on `model`'s frames, so with locked joints a locked link's
        geometry moves with its parent, as the link does.

        Raises:
            ModelError: `kind` is not "collision" or "visual", a mesh URI does not resolve (the message names the URI
                and the package), or the geometry does not load.
        """
        kinds = {"collision": pin.GeometryType.COLLISION, "visual": pin.GeometryType.VISUAL}
        if kind not in kinds:
            raise ModelError(f"geometry kind must be one of {sorted(kinds)}, got {kind!r}")
        try:
            resolved = resolve_mesh_uris(urdf_xml)
        except DescriptionError as error:
            raise ModelError(f"robot '{self.config.name}': {error}") from error
        try:
            return pin.buildGeomFromUrdfString(self.model, resolved, kinds[kind])
        except (RuntimeError, ValueError) as error:
            raise ModelError(f"robot '{self.config.name}': its {kind} geometry does not load: {error}") from error

    # ---------------------------------------------------------------------------------------- names and vectors

    def q_indices(self, names: Sequence[str]) -> np.ndarray:
        """Indices in `q` of the named joints, for `q[indices] = positions`.  # (len(names),)

        Raises:
            ModelError: a name is not an unlocked joint of the model.
        """
        return np.array([self._checked_joint(name) + BASE_NQ for name in names], dtype=int)

    def v_indices(self, names: Sequence[str]) -> np.ndarray:
        """Indices in `v` of the named joints, for `v[indices] = velocities`.  # (len(names),)

        Raises:
            ModelError: a name is not an unlocked joint of the model.
        """
        return np.array([self._checked_joint(name) + BASE_NV for name in names], dtype=int)

    def joint_array(self, values: Mapping[str, float], *, default: np.ndarray | float | None = None) -> np.ndarray:
        """Per-joint values (positions, velocities, torques, ...) as a vector in `joint_names` order.

        Args:
            values: joint name -> value. Names of locked joints are accepted and ignored.
            default: values of the joints not named, as a scalar or a (na,) vector; None requires every joint.

        Returns:
            The values in `joint_names` order.  # (na,)

        Raises:
            ModelError: a name is unknown, or (without default) a joint of the model is not named.
        """
        return self.joint_array_of(tuple(values), np.fromiter(values.values(), dtype=float, count=len(values)),
                                   default=default)

    def joint_array_of(self, names: Sequence[str], values: np.ndarray, *,
                       default: np.ndarray | float | None = None) -> np.ndarray:
        """`joint_array` for names and values given as two sequences of the same length (a joint state's arrays),
        without building a dict.

        Args:
            names: joint names (any order; names of locked joints are accepted and ignored).
            values: the value of each name.  # (len(names),)
            default: values of the joints not named, as a scalar or a (na,) vector; None requires every joint.

        Returns:
            The values in `joint_names` order.  # (na,)

        Raises:
            ModelError: a name is unknown, names and values differ in length, or (without default) a joint of the
                model is not named.
        """
        names = tuple(names)
        given = np.asarray(values, dtype=float)
        if given.shape != (len(names),):
            raise ModelError(f"robot '{self.config.name}': {len(names)} joint names but values of shape {given.shape}")
        source, target, complete = self._joint_array_map(names)
        if default is None:
            if not complete:
                named = np.zeros(self.na, dtype=bool)
                named[target] = True
                missing = [name for name, given in zip(self.joint_names, named, strict=True) if not given]
                raise ModelError(f"robot '{self.config.name}': no value for joints {missing}")
            array = np.zeros(self.na)
        elif isinstance(default, float | int):
            array = np.full(self.na, float(default))
        else:
            default = np.asarray(default, dtype=float)
            array = default.copy() if default.shape == (self.na,) else np.array(np.broadcast_to(default, (self.na,)))
        array[target] = given if source is None else given[source]
        return array

    def _joint_array_map(self, names: tuple[str, ...]) -> tuple[np.ndarray | None, np.ndarray, bool]:
        """For `joint_array`: (indices into `names` of the model's joints, or None for all of them; their indices in
        `joint_names`; whether every joint is named). The last set of names is cached: a joint state names the same
        joints in the same order every cycle.

        Raises:
            ModelError: a name is neither a joint of the model nor a locked joint.
        """
        cached = self._last_joint_array_map
        if cached is not None and cached[0] == names:
            return cached[1]
        source, target = [], []
        for i, name in enumerate(names):
            index = self._index_in_joint_names.get(name)
            if index is None:
                if name in self.locked_joints:
                    continue
                raise ModelError(self._unknown_joint_message(name))
            source.append(i)
            target.append(index)
        mapping = (None if len(source) == len(names) else np.array(source, dtype=int), np.array(target, dtype=int),
                   len(set(target)) == self.na)
        self._last_joint_array_map = (names, mapping)
        return mapping

    def joint_dict(self, array: np.ndarray) -> dict[str, float]:
        """A vector in `joint_names` order as joint name -> value (the inverse of `joint_array`)."""
        array = np.asarray(array, dtype=float)
        if array.shape != (self.na,):
            raise ModelError(f"robot '{self.config.name}': expected {self.na} joint values, got shape {array.shape}")
        return dict(zip(self.joint_names, array.tolist(), strict=True))

    def q_from_joint_positions(
        self,
        base_pose: pin.SE3 | np.ndarray,
        positions: Mapping[str, float],
        *,
        reference: np.ndarray | None = None,
    ) -> np.ndarray:
        """Configuration vector from a base pose and joint positions.

        Args:
            base_pose: pose of the base frame in the world, as an SE3, a (4, 4) homogeneous matrix, or a (7,)
                [x, y, z, qx, qy, qz, qw] vector [m].
            positions: joint name -> position [rad or m]. Locked joints' names are accepted and ignored.
            reference: configuration whose joint positions the joints not named keep; None requires every joint.

        Returns:
            The configuration q.  # (nq,)

        Raises:
            ModelError: unknown joint, missing joint (without reference), or a malformed base pose.
        """
        default = None if reference is None else self._checked_q(reference)[BASE_NQ:]
        return np.concatenate([self._base_xyzquat(base_pose), self.joint_array(positions, default=default)])

    def base_pose_from_q(self, q: np.ndarray) -> pin.SE3:
        """Pose of the base frame in the world from a configuration vector."""
        return pin.XYZQUATToSE3(self._checked_q(q)[:BASE_NQ])

    def joint_positions_from_q(self, q: np.ndarray) -> dict[str, float]:
        """Joint name -> position [rad or m] from a configuration vector (exact inverse of `q_from_joint_positions`)."""
        return dict(zip(self.joint_names, self._checked_q(q)[BASE_NQ:].tolist(), strict=True))

    def v_from_joint_velocities(
        self,
        base_velocity: np.ndarray,
        velocities: Mapping[str, float],
        *,
        reference: np.ndarray | None = None,
    ) -> np.ndarray:
        """Velocity vector from the base twist and joint velocities.

        Args:
            base_velocity: base twist in the base frame: linear [m/s] then angular [rad/s].  # (6,)
            velocities: joint name -> velocity [rad/s or m/s]. Locked joints' names are accepted and ignored.
            reference: velocity vector whose joint velocities the joints not named keep; None requires every joint.

        Returns:
            The velocity v.  # (nv,)
        """
        base_velocity = np.asarray(base_velocity, dtype=float)
        if base_velocity.shape != (BASE_NV,):
            raise ModelError(f"base velocity must have shape (6,), got {base_velocity.shape}")
        default = None if reference is None else self._checked_v(reference)[BASE_NV:]
        return np.concatenate([base_velocity, self.joint_array(velocities, default=default)])

    def base_velocity_from_v(self, v: np.ndarray) -> np.ndarray:
        """Base twist in the base frame, linear [m/s] then angular [rad/s], from a velocity vector.  # (6,)"""
        return self._checked_v(v)[:BASE_NV].copy()

    def joint_velocities_from_v(self, v: np.ndarray) -> dict[str, float]:
        """Joint name -> velocity [rad/s or m/s] from a velocity vector."""
        return dict(zip(self.joint_names, self._checked_v(v)[BASE_NV:].tolist(), strict=True))

    def frame_id(self, frame: str) -> int:
        """Pinocchio frame id of a frame (link or joint) name.

        Raises:
            ModelError: the model has no such frame.
        """
        try:
            return self._frame_ids[frame]
        except KeyError:
            raise ModelError(f"robot '{self.config.name}' has no frame '{frame}'") from None

    def has_frame(self, frame: str) -> bool:
        return frame in self._frame_ids

    # ---------------------------------------------------------------------------------------- configurations

    def neutral_configuration(self) -> np.ndarray:
        """Base at the world origin, level, and every joint at 0 [rad or m].  # (nq,)"""
        return pin.neutral(self.model)

    def standing_configuration(self) -> np.ndarray:
        """The configuration's standing posture, with the base placed so that both soles are flat on the ground.

        The base is tilted by the smallest rotation that makes the soles' z axes vertical (keeping its heading),
        raised so that the soles are at z = 0, and moved in x, y so that the midpoint of the sole origins is at the
        world origin.

        Returns:
            The standing configuration q.  # (nq,)

        Raises:
            ModelError: the posture leaves the soles non-parallel or at different heights, so both cannot be flat
                on the ground (tolerances `STANDING_SOLE_TILT_TOLERANCE`, `STANDING_SOLE_HEIGHT_TOLERANCE`).
        """
        positions = {name: self.config.standing.get(name, 0.0) for name in self.joint_names}
        q = self.q_from_joint_positions(pin.SE3.Identity(), positions)
        data = self._scratch_data
        pin.framesForwardKinematics(self.model, data, q)
        soles_in_base = [data.oMf[self._sole_frame_ids[side]].copy() for side in SIDES]
        normals = [sole.rotation[:, 2] for sole in soles_in_base]
        tilt = math.acos(float(np.clip(normals[0] @ normals[1], -1.0, 1.0)))
        if tilt > STANDING_SOLE_TILT_TOLERANCE:
            raise ModelError(
                f"robot '{self.config.name}': the standing posture tilts the soles {tilt:.4f} rad from each other, "
                "so both cannot be flat on the ground")
        mean_normal = normals[0] + normals[1]
        rotation_base_to_world = pin.Quaternion.FromTwoVectors(mean_normal / np.linalg.norm(mean_normal),
                                                                _WORLD_Z).matrix()
        sole_positions = np.array([rotation_base_to_world @ sole.translation for sole in soles_in_base])  # (2, 3)
        height_gap = abs(sole_positions[0, 2] - sole_positions[1, 2])
        if height_gap > STANDING_SOLE_HEIGHT_TOLERANCE:
            raise ModelError(
                f"robot '{self.config.name}': the standing posture puts the soles {height_gap:.4f} m apart in height, "
                "so both cannot touch the ground")
        base_pose = pin.SE3(rotation_base_to_world, -sole_positions.mean(axis=0))
        q[:BASE_NQ] = pin.SE3ToXYZQUAT(base_pose)
        return q

    # ------------------------------------------------------------------------------------------ per-cycle update

    def update(self, q: np.ndarray, v: np.ndarray | None = None) -> None:
        """Compute, once, everything the getters read, for configuration q and velocity v.

        Args:
            q: configuration (see the module docstring for its layout).  # (nq,)
            v: velocity; zero if None.  # (nv,)

        Raises:
            ModelError: q or v has the wrong size.
        """
        q = np.asarray(q, dtype=float)
        v = self._zero_v if v is None else np.asarray(v, dtype=float)
        if q.shape != (self.nq,) or v.shape != (self.nv,):
            raise ModelError(f"robot '{self.config.name}': update expects q ({self.nq},) and v ({self.nv},), "
                             f"got {q.shape} and {v.shape}")
        model, data = self.model, self.data
        pin.computeAllTerms(model, data, q, v)
        pin.updateFramePlacements(model, data)
        if not self._mass_matrix_filled_whole:
            data.M[self._lower_triangle] = data.M.T[self._lower_triangle]
        self._q = q.copy()
        self._v = v.copy()

    @property
    def q(self) -> np.ndarray:
        """Configuration of the last `update`.  # (nq,)"""
        return self._q.copy()

    @property
    def v(self) -> np.ndarray:
        """Velocity of the last `update`.  # (nv,)"""
        return self._v.copy()

    # ------------------------------------------------------------------------------------------------ frames

    def transform_frame_to_world(self, frame: str) -> pin.SE3:
        """Pose of a frame in the world (maps frame coordinates to world coordinates)."""
        return self.data.oMf[self.frame_id(frame)].copy()

    def transform_frame_to_world_matrix(self, frame: str) -> np.ndarray:
        """Pose of a frame in the world as a homogeneous matrix [m].  # (4, 4)"""
        return self.data.oMf[self.frame_id(frame)].homogeneous

    def transform_frame_to_frame(self, source: str, target: str) -> pin.SE3:
        """Pose of frame `source` in frame `target` (maps source coordinates to target coordinates)."""
        oMf = self.data.oMf
        return oMf[self.frame_id(target)].actInv(oMf[self.frame_id(source)])

    def frame_position(self, frame: str) -> np.ndarray:
        """Position of a frame's origin in the world [m].  # (3,)"""
        return self.data.oMf[self.frame_id(frame)].translation.copy()

    def transform_base_to_world(self) -> pin.SE3:
        """Pose of the base (pelvis) in the world."""
        return self.data.oMf[self._base_frame_id].copy()

    def transform_sole_to_world(self, side: str) -> pin.SE3:
        """Pose of the `left` or `right` sole frame in the world (z up, at ground level when standing)."""
        try:
            return self.data.oMf[self._sole_frame_ids[side]].copy()
        except KeyError:
            raise ModelError(f"unknown side '{side}': expected one of {SIDES}") from None

    def frame_jacobian(self, frame: str, reference: pin.ReferenceFrame = pin.LOCAL_WORLD_ALIGNED) -> np.ndarray:
        """Frame Jacobian J, with frame twist = J v.

        With `LOCAL_WORLD_ALIGNED` (default) the twist is [velocity of the frame origin, angular velocity], both
        in world axes [m/s, rad/s]; with `LOCAL`, both in the frame's axes; with `WORLD`, the spatial twist at the
        world origin.

        Returns:
            J.  # (6, nv)
        """
        return pin.getFrameJacobian(self.model, self.data, self.frame_id(frame), reference)

    def frame_jacobian_time_variation(
        self, frame: str, reference: pin.ReferenceFrame = pin.LOCAL_WORLD_ALIGNED
    ) -> np.ndarray:
        """Time derivative dJ/dt of `frame_jacobian(frame, reference)` along the current velocity.

        Returns:
            dJ/dt, with `frame_drift(frame, reference) = dJ/dt v`.  # (6, nv)
        """
        return pin.getFrameJacobianTimeVariation(self.model, self.data, self.frame_id(frame), reference)

    def frame_velocity(self, frame: str, reference: pin.ReferenceFrame = pin.LOCAL_WORLD_ALIGNED) -> np.ndarray:
        """Frame twist J v, linear [m/s] then angular [rad/s], in the axes `reference` selects.  # (6,)"""
        velocity = pin.getFrameVelocity(self.model, self.data, self.frame_id(frame), reference)
        return velocity.vector.copy()

    def frame_drift(self, frame: str, reference: pin.ReferenceFrame = pin.LOCAL_WORLD_ALIGNED) -> np.ndarray:
        """Drift dJ/dt v of the frame twist: its time derivative when the joint acceleration is zero.

        The frame's acceleration is then `frame_jacobian(frame, reference) vdot + frame_drift(frame, reference)`,
        as task-space inverse dynamics needs. With `LOCAL_WORLD_ALIGNED` this is the classical acceleration
        [m/s^2, rad/s^2] of the frame origin in world axes; with `LOCAL` or `WORLD`, the spatial acceleration.

        Returns:
            dJ/dt v.  # (6,)
        """
        frame_id = self.frame_id(frame)
        if reference == pin.LOCAL_WORLD_ALIGNED:
            drift = pin.getFrameClassicalAcceleration(self.model, self.data, frame_id, reference)
        else:
            drift = pin.getFrameAcceleration(self.model, self.data, frame_id, reference)
        return drift.vector.copy()

    # ----------------------------------------------------------------------------------------- centre of mass

    def com_position(self) -> np.ndarray:
        """Centre of mass in the world [m].  # (3,)"""
        return self.data.com[0].copy()

    def com_velocity(self) -> np.ndarray:
        """Centre-of-mass velocity in the world [m/s].  # (3,)"""
        return self.data.vcom[0].copy()

    def com_jacobian(self) -> np.ndarray:
        """CoM Jacobian, with CoM velocity (world) = J_com v.  # (3, nv)"""
        return self.data.Jcom.copy(order="K")

    def com_drift(self) -> np.ndarray:
        """CoM acceleration [m/s^2] at zero joint acceleration: dJ_com/dt v (CoM acc. = J_com vdot + this).  # (3,)"""
        return self.data.dAg[:3] @ self._v / self.mass

    def centroidal_momentum(self) -> np.ndarray:
        """Centroidal momentum h_G: linear [kg m/s], then angular about the CoM [kg m^2/s], world axes.  # (6,)"""
        return self.data.hg.vector.copy()

    def centroidal_momentum_matrix(self) -> np.ndarray:
        """Centroidal momentum matrix A_G (CMM), with h_G = A_G v.  # (6, nv)"""
        return self.data.Ag.copy(order="K")

    def centroidal_momentum_drift(self) -> np.ndarray:
        """dA_G/dt v: rate of change of h_G at zero joint acceleration (dh_G/dt = A_G vdot + this).  # (6,)"""
        return self.data.dAg @ self._v

    # ----------------------------------------------------------------------------------------------- dynamics

    def mass_matrix(self) -> np.ndarray:
        """Joint-space inertia matrix M(q), symmetric positive definite [kg, kg m, kg m^2].  # (nv, nv)"""
        return self.data.M.copy(order="K")

    def nonlinear_effects(self) -> np.ndarray:
        """Coriolis, centrifugal and gravity terms h(q, v), with M vdot + h = S.T tau + J_c.T f.  # (nv,)"""
        return self.data.nle.copy()

    def generalized_gravity(self) -> np.ndarray:
        """Gravity terms g(q) [N, N m]: the generalized forces that hold the robot still against gravity.  # (nv,)"""
        return self.data.g.copy()

    def inverse_dynamics(self, q: np.ndarray, v: np.ndarray, a: np.ndarray) -> np.ndarray:
        """Generalized forces M(q) a + h(q, v) (RNEA, no contact forces); leaves the cycle's results untouched.

        Returns:
            Generalized forces [N, N m], base wrench first.  # (nv,)
        """
        return pin.rnea(self.model, self._scratch_data, self._checked_q(q), self._checked_v(v), self._checked_v(a))

    def static_contact_torques(self, sides: Iterable[str] = SIDES) -> tuple[np.ndarray, np.ndarray]:
        """Joint torques that hold the robot still at the last `update` with the soles of `sides` on the ground.

        The contact wrenches f (6 per sole, LOCAL_WORLD_ALIGNED at the sole frame) are the least-norm ones that carry
        the floating base: g_base = J_base.T f; the joint torques are then tau = g_joints - J_joints.T f. Torques for
        a position-hold command's feed-forward (the hardware does not sag under the robot's weight).

        Returns:
            (tau (na,) [N m] in `joint_names` order, f (6 * len(sides),) [N, N m] stacked per side).
        """
        jacobians = np.vstack([self.frame_jacobian(self.config.sides[side].sole) for side in sides])  # (6k, nv)
        gravity = self.data.g
        wrenches = np.linalg.lstsq(jacobians[:, :6].T, gravity[:6], rcond=None)[0]
        return gravity[6:] - jacobians[:, 6:].T @ wrenches, wrenches

    # ------------------------------------------------------------------------------------------------ support

    def support_polygon(self, sides: Iterable[str] = SIDES) -> SupportPolygon:
        """Support polygon (world xy) of the soles of `sides` in contact, at the last `update`."""
        return SupportPolygon.from_soles(
            [self.transform_sole_to_world(side) for side in sides], self.config.sole_length, self.config.sole_width)

    # ------------------------------------------------------------------------------------------------ helpers

    def _checked_joint(self, name: str) -> int:
        index = self._index_in_joint_names.get(name)
        if index is None:
            raise ModelError(self._unknown_joint_message(name))
        return index

    def _unknown_joint_message(self, name: str) -> str:
        if name in self.locked_joints:
            return f"robot '{self.config.name}': joint '{name}' is locked in this model"
        return f"robot '{self.config.name}' has no joint '{name}'"

    def _checked_q(self, q: np.ndarray) -> np.ndarray:
        q = np.asarray(q, dtype=float)
        if q.shape != (self.nq,):
            raise ModelError(f"robot '{self.config.name}': q must have shape ({self.nq},), got {q.shape}")
        return q

    def _checked_v(self, v: np.ndarray) -> np.ndarray:
        v = np.asarray(v, dtype=float)
        if v.shape != (self.nv,):
            raise ModelError(f"robot '{self.config.name}': v must have shape ({self.nv},), got {v.shape}")
        return v

    def _base_xyzquat(self, base_pose: pin.SE3 | np.ndarray) -> np.ndarray:
        if isinstance(base_pose, pin.SE3):
            return pin.SE3ToXYZQUAT(base_pose)
        pose = np.asarray(base_pose, dtype=float)
        if pose.shape == (4, 4):
            return pin.SE3ToXYZQUAT(pin.SE3(pose))
        if pose.shape == (BASE_NQ,):
            if abs(np.linalg.norm(pose[3:]) - 1.0) > QUATERNION_NORM_TOLERANCE:
                raise ModelError(f"base pose quaternion {pose[3:].tolist()} is not a unit quaternion")
            return pose.copy()
        raise ModelError(f"base pose must be an SE3, a (4, 4) matrix or an (x, y, z, qx, qy, qz, qw) vector, "
                         f"got shape {pose.shape}")


def _required_frames(config: RobotConfig) -> dict[str, str]:
    """Configuration role -> frame name, for every frame the URDF must have (all but the world-fixed `odom`)."""
    frames = {f"frames.{role}": name for role, name in config.frames.items() if role != "odom"}
    for side, side_frames in config.sides.items():
        for role in ("ankle", "sole", "wrist", "gripper"):
            frames[f"sides.{side}.{role}"] = getattr(side_frames, role)
    return frames


def _check_model_against_config(config: RobotConfig, model: pin.Model) -> None:
    name = config.name
    for joint_id in range(2, model.njoints):
        joint = model.joints[joint_id]
        if joint.nq != 1 or joint.nv != 1:
            raise ModelError(f"robot '{name}': joint '{model.names[joint_id]}' is a {joint.shortname()}; only "
                             "revolute and prismatic joints are supported")
    missing_joints = [joint for joint in config.all_joints if not model.existJointName(joint)]
    if missing_joints:
        raise ModelError(f"robot '{name}': the URDF has no joints {missing_joints} named in {config.source}")
    frame_ids = _frame_index(model)
    required = _required_frames(config)
    missing_frames = [f"{role}: '{frame}'" for role, frame in required.items() if frame not in frame_ids]
    if missing_frames:
        raise ModelError(f"robot '{name}': the URDF has no frames for {missing_frames} named in {config.source}")
    base = model.frames[frame_ids[config.frames["base"]]]
    if base.parentJoint != 1 or not base.placement.isIdentity():
        raise ModelError(f"robot '{name}': the base frame '{config.frames['base']}' must be the URDF root link")


def _checked_locks(config: RobotConfig, model: pin.Model, locked: Mapping[str, float] | None) -> dict[str, float]:
    locks = dict(locked or {})
    actuated = set(model.names[2:])
    unknown = [joint for joint in locks if joint not in actuated]
    if unknown:
        raise ModelError(f"robot '{config.name}': cannot lock unknown joints {unknown}")
    bad = [joint for joint, position in locks.items() if not math.isfinite(position)]
    if bad:
        raise ModelError(f"robot '{config.name}': locked joints {bad} need finite positions")
    return {joint: float(position) for joint, position in locks.items()}


def _reduced_model(model: pin.Model, locked: Mapping[str, float]) -> pin.Model:
    if not locked:
        return model
    reference = pin.neutral(model)
    joint_ids = []
    for joint, position in locked.items():
        joint_id = model.getJointId(joint)
        reference[model.joints[joint_id].idx_q] = position
        joint_ids.append(joint_id)
    return pin.buildReducedModel(model, sorted(joint_ids), reference)
