"""The kinematic core of base estimation: stance soles do not move, so the joints tell where the base is and how it
moves relative to them.

One implementation for every estimator of the floating base (the `state_estimator`'s leg odometry, anchored by
IMU and foot contacts, and the whole-body controller between two `odom` messages, anchored on each of them):

- a stance sole's pose in the base frame, `sole_to_base(q_joints)`, is forward kinematics with the base at the
  origin (`soles_in_base`);
- when a sole starts to stand it is anchored in odom: `sole_to_odom = base_to_odom * sole_to_base` (`anchor_soles`);
- while it stands, the base pose is `sole_to_odom * sole_to_base^-1`, averaged over the stance soles with weights
  (`base_pose`); an externally measured base rotation (the IMU's) may replace the soles' and then only the position
  is taken from them;
- the base twist (base frame) that keeps the stance soles still follows from their LOCAL Jacobians: a sole's LOCAL
  twist is `J_base v_base + J_joints qdot`, and the base columns of a LOCAL Jacobian are the adjoint of the base seen
  from the sole, so a still sole needs `v_base = -Ad(sole_to_base) J_joints qdot` (`base_twist`). With a measured
  angular velocity omega (the gyro's) the linear part becomes `-(v_sole + omega x p_sole)`, where `v_sole` is the
  sole origin's velocity relative to the base and `p_sole` its position, both in base axes.

No ROS, no clock: poses are `pinocchio.SE3`, arrays numpy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pinocchio as pin

BASE_NQ, BASE_NV = 7, 6
"""Configuration and velocity size of the floating base in a Pinocchio model with a free-flyer root."""
MIN_SOLE_WEIGHT = 0.05
"""Least weight of a stance sole in a load-weighted estimate."""


def load_weights(stance: Sequence[str], loads: Mapping[str, float]) -> dict[str, float]:
    """side -> weight of each stance sole from its normal force [N] (missing: 1 N): its share of the total, at least
    `MIN_SOLE_WEIGHT`; an even split when no sole carries load."""
    forces = {side: max(loads.get(side, 1.0), 0.0) for side in stance}
    total = sum(forces.values())
    if total <= 0.0:
        return {side: 1.0 / len(stance) for side in stance}
    return {side: max(force / total, MIN_SOLE_WEIGHT) for side, force in forces.items()}


def anchor_soles(base_to_odom: pin.SE3, soles: Mapping[str, pin.SE3]) -> dict[str, pin.SE3]:
    """side -> sole pose in odom (`sole_to_odom = base_to_odom * sole_to_base`) for each given sole."""
    return {side: base_to_odom * sole for side, sole in soles.items()}


def base_pose(anchors: Mapping[str, pin.SE3], soles: Mapping[str, pin.SE3], weights: Mapping[str, float],
              rotation: np.ndarray | None = None) -> pin.SE3:
    """Base pose in odom from the anchored soles (`sole_to_odom * sole_to_base^-1`), averaged over the sides of
    `anchors` with `weights` (rotations along the geodesic, positions linearly).

    Args:
        anchors: side -> sole pose in odom; only these sides count.
        soles: side -> sole pose in the base frame (`soles_in_base`).
        weights: side -> weight (need not sum to 1).
        rotation: the base rotation in odom, if measured (e.g. by an IMU): it is kept and only the position comes
            from the soles.  # (3, 3)
    """
    sides = list(anchors)
    if not sides:
        raise ValueError("base_pose needs at least one anchored sole")
    if rotation is not None:
        positions = [anchors[s].translation - rotation @ soles[s].translation for s in sides]
        total = sum(weights[s] for s in sides)
        return pin.SE3(np.asarray(rotation, dtype=float), sum(weights[s] * p for s, p in zip(sides, positions,
                                                                                             strict=True)) / total)
    poses = [anchors[s] * soles[s].inverse() for s in sides]
    mean = poses[0]
    accumulated = weights[sides[0]]
    for side, pose in zip(sides[1:], poses[1:], strict=True):
        accumulated += weights[side]
        share = weights[side] / accumulated
        rotation_mean = mean.rotation @ pin.exp3(share * pin.log3(mean.rotation.T @ pose.rotation))
        mean = pin.SE3(rotation_mean, mean.translation + share * (pose.translation - mean.translation))
    return mean


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a x b of two 3-vectors, with scalar arithmetic: the same operations (so the same result) as `np.cross`, at a
    tenth of its cost on 3-vectors.  # (3,)"""
    a0, a1, a2 = a.tolist()
    b0, b1, b2 = b.tolist()
    return np.array((a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0))


class StanceKinematics:
    """Forward kinematics and Jacobians of the soles with the base at the origin (see the module docstring).

    Args:
        model: the robot's Pinocchio model with a free-flyer root (shared; this object has its own data).
        sole_frames: side -> sole frame name.
    """

    def __init__(self, model: pin.Model, sole_frames: Mapping[str, str]) -> None:
        self.model = model
        self.data = model.createData()
        self.sole_ids = {side: model.getFrameId(frame) for side, frame in sole_frames.items()}
        self._q = pin.neutral(model)
        self._q[:BASE_NQ] = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0)  # the base at the origin (only q[7:] changes)
        self._jacobians_valid = False

    @property
    def sides(self) -> tuple[str, ...]:
        return tuple(self.sole_ids)

    def soles_in_base(self, joint_positions: np.ndarray, sides: Iterable[str], jacobians: bool = False
                      ) -> dict[str, pin.SE3]:
        """side -> that sole's pose in the base frame (`sole_to_base`) at the joint positions [rad] (the actuated
        joints in the model's order, (nq - 7,)); with `jacobians`, the Jacobians for `base_twist` are computed too."""
        q = self._q
        q[BASE_NQ:] = joint_positions
        if jacobians:
            pin.computeJointJacobians(self.model, self.data, q)
        else:
            pin.forwardKinematics(self.model, self.data, q)
        self._jacobians_valid = jacobians
        return {side: pin.updateFramePlacement(self.model, self.data, self.sole_ids[side]).copy() for side in sides}

    def frame_rotation(self, frame_id: int, joint_velocities: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """A frame's rotation in the base frame, and its angular velocity relative to the base in its own axes
        [rad/s] (`J_joints qdot`, angular rows of its LOCAL Jacobian), at the joint positions of the last
        `soles_in_base(..., jacobians=True)` and the given joint velocities (actuated joints in the model's order).
        Only the joints between the base and the frame contribute.  # (3, 3), (3,)"""
        if not self._jacobians_valid:
            raise RuntimeError("frame_rotation needs soles_in_base(..., jacobians=True) first")
        rotation = pin.updateFramePlacement(self.model, self.data, frame_id).rotation
        J = pin.getFrameJacobian(self.model, self.data, frame_id, pin.LOCAL)  # (6, nv)
        return rotation, J[3:, BASE_NV:] @ np.asarray(joint_velocities, dtype=float)

    def sole_twists(self, joint_velocities: np.ndarray, soles: Mapping[str, pin.SE3]) -> dict[str, np.ndarray]:
        """side -> twist of that sole relative to the base, seen at the base origin in base axes,
        `Ad(sole_to_base) J_joints qdot` (linear, angular) [m/s, rad/s], from the Jacobians of the last
        `soles_in_base(..., jacobians=True)`.  # (6,) each"""
        if not self._jacobians_valid:
            raise RuntimeError("sole_twists needs soles_in_base(..., jacobians=True) first")
        qdot = np.asarray(joint_velocities, dtype=float)
        twists = {}
        for side, sole in soles.items():
            J = pin.getFrameJacobian(self.model, self.data, self.sole_ids[side], pin.LOCAL)  # (6, nv)
            twists[side] = sole.action @ (J[:, BASE_NV:] @ qdot)
        return twists

    def base_twist(self, joint_velocities: np.ndarray, soles: Mapping[str, pin.SE3], weights: Mapping[str, float],
                   angular_velocity: np.ndarray | None = None) -> np.ndarray:
        """Base twist (linear, angular) in the base frame that keeps the given soles still, averaged with `weights`.

        Args:
            joint_velocities: actuated joints [rad/s] in the model's order.
            soles: side -> `sole_to_base` of the stance soles (from `soles_in_base(..., jacobians=True)`).
            weights: side -> weight (need not sum to 1).
            angular_velocity: the base's measured angular velocity in base axes [rad/s] (a gyro), or None to take it
                from the kinematics too.  # (3,)

        Returns:
            (6,) [m/s, rad/s]
        """
        twists = self.sole_twists(joint_velocities, soles)
        total = sum(weights[side] for side in soles)
        result = np.zeros(BASE_NV)
        for side, twist in twists.items():
            if angular_velocity is None:
                result -= weights[side] * twist
            else:
                # The sole origin's velocity relative to the base, v_sole = v_origin + w x p_sole; still sole:
                # v_base = -(v_sole + omega x p_sole).
                relative = twist[:3] + _cross(twist[3:] + angular_velocity, soles[side].translation)
                result[:3] -= weights[side] * relative
        if angular_velocity is not None:
            result[3:] = total * np.asarray(angular_velocity, dtype=float)
        return result / total
