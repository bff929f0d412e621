"""Can a hand reach a gripper pose, and from where would it? Inverse kinematics of one arm on the robot's model.

`ArmReach.solve` runs damped least squares on the Pinocchio model (hands locked) over the joints that move the
gripper: the waist's (if the robot has one) and the arm's, with the base and legs held where they are and every
joint kept inside its position limits. A pose is reachable when the solution's gripper is within `position_tolerance`
and `orientation_tolerance` of it. The whole-body controller then tracks the gripper in task space while it balances;
this check only decides which hand and which grasp candidates can work, and when the robot must step.

`ArmReach.standing_pose` proposes where the robot should stand (a base_footprint pose) for a hand to reach a pose:
facing it, in the middle of the range of distances the arm reaches it from.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pinocchio as pin

from legion_common.parameters import param
from legion_common.transforms import rotation_z, wrap_angle
from legion_model import RobotModel


@dataclass(frozen=True)
class ReachParameters:
    position_tolerance: float = param(
        0.01, "A pose is reachable when the solution's gripper is this close to it.", unit="m", low=0.0, high=1000.0
    )
    orientation_tolerance: float = param(0.15, "... and turned this little from it.", unit="rad", low=0.0, high=1000.0)
    orientation_weight: float = param(
        0.3,
        "How much an orientation error counts against a position error in the solve.",
        unit="m/rad",
        low=0.0,
        high=1000.0,
    )
    damping: float = param(0.05, "Damped least squares regularisation.", low=0.0, high=1000.0)
    iterations: int = param(60, "Damped least squares iterations.", low=1, high=1000)
    limit_margin: float = param(
        0.05, "Solutions keep this far inside the joint limits.", unit="rad", low=0.0, high=1000.0
    )


@dataclass(frozen=True)
class ReachResult:
    reachable: bool
    position_error: float
    """[m]"""
    orientation_error: float
    """[rad]"""
    q: np.ndarray
    """The solution's configuration (base and legs as given).  # (nq,)"""


class ArmReach:
    """Inverse kinematics of the robot's arms (see the module docstring).

    Args:
        robot: the robot's model with the hands locked (`RobotModel.load(robot, lock_hands=True)`).
    """

    def __init__(self, robot: RobotModel, params: ReachParameters = ReachParameters()) -> None:
        self.robot = robot
        self.params = params
        self.model = robot.model
        self.data = self.model.createData()
        config = robot.config
        self.sides = tuple(side for side in config.sides if config.joints("arms", side))
        self._gripper = {side: self.model.getFrameId(config.sides[side].gripper) for side in self.sides}
        self._chain = {side: config.joints("waist") + config.joints("arms", side) for side in self.sides}
        self._v = {side: robot.v_indices(chain) for side, chain in self._chain.items()}
        self._q = {side: robot.q_indices(chain) for side, chain in self._chain.items()}
        lower, upper = self.model.lowerPositionLimit, self.model.upperPositionLimit
        margin = params.limit_margin
        self._lower = {side: lower[q] + np.minimum(margin, 0.5 * (upper[q] - lower[q])) for side, q in self._q.items()}
        self._upper = {side: upper[q] - np.minimum(margin, 0.5 * (upper[q] - lower[q])) for side, q in self._q.items()}
        q0 = robot.standing_configuration()
        pin.framesForwardKinematics(self.model, self.data, q0)
        first_arm = {side: self.model.getJointId(config.joints("arms", side)[0]) for side in self.sides}
        self.shoulder_in_base = {side: self.data.oMi[first_arm[side]].translation - q0[:3] for side in self.sides}
        """Side -> the first arm joint's position in the base frame at the standing posture [m]."""
        pin.framesForwardKinematics(self.model, self.data, pin.neutral(self.model))
        self.arm_length = {
            side: float(
                np.linalg.norm(
                    self.data.oMf[self._gripper[side]].translation - self.data.oMi[first_arm[side]].translation
                )
            )
            for side in self.sides
        }
        """Side -> distance from the first arm joint to the gripper with the arm straight [m]."""

    def gripper_pose(self, side: str, q: np.ndarray) -> pin.SE3:
        pin.framesForwardKinematics(self.model, self.data, q)
        return self.data.oMf[self._gripper[side]].copy()

    def solve(self, side: str, q: np.ndarray, target: pin.SE3, position_only: bool = False) -> ReachResult:
        """Joint positions of the side's waist and arm that put its gripper at `target` (odom), from configuration
        `q` (the robot's current one: base pose and legs stay)."""
        p = self.params
        q = np.array(q, dtype=float)
        gripper, v_index, q_index = self._gripper[side], self._v[side], self._q[side]
        weights = np.array([1.0, 1.0, 1.0] + [0.0 if position_only else p.orientation_weight] * 3)
        error = np.zeros(6)
        for _ in range(p.iterations):
            pin.forwardKinematics(self.model, self.data, q)
            current = pin.updateFramePlacement(self.model, self.data, gripper)
            error = pin.log6(current.actInv(target)).vector  # in the gripper frame
            if np.linalg.norm(error[:3]) < 0.2 * p.position_tolerance and (
                position_only or np.linalg.norm(error[3:]) < 0.2 * p.orientation_tolerance
            ):
                break
            jacobian = pin.computeFrameJacobian(self.model, self.data, q, gripper, pin.LOCAL)[:, v_index]
            weighted = weights[:, None] * jacobian
            step = weighted.T @ np.linalg.solve(weighted @ weighted.T + p.damping**2 * np.eye(6), weights * error)
            q[q_index] = np.clip(q[q_index] + step, self._lower[side], self._upper[side])
        pin.forwardKinematics(self.model, self.data, q)
        final = pin.updateFramePlacement(self.model, self.data, gripper)
        error = pin.log6(final.actInv(target)).vector
        position_error = float(np.linalg.norm(final.translation - target.translation))
        orientation_error = float(np.linalg.norm(error[3:]))
        reachable = position_error <= p.position_tolerance and (
            position_only or orientation_error <= p.orientation_tolerance
        )
        return ReachResult(reachable, position_error, orientation_error, q)

    def standing_pose(
        self,
        side: str,
        target: pin.SE3 | Callable[[float], pin.SE3],
        q: np.ndarray,
        position_only: bool = False,
        is_free: Callable[[float, float], bool] | None = None,
    ) -> tuple[float, float, float] | None:
        """A base_footprint pose (x, y, yaw) from which the side's hand reaches `target` (odom), or None.

        The robot faces the target; the first choice approaches it from where the robot stands (configuration `q`),
        then from directions turned by 45, 90, 135 and 180 degrees either way. Along each direction, among the
        distances the arm reaches the target from and where `is_free(x, y)` (the robot's footprint clear of
        obstacles; None: everywhere), the middle one (the most margin either way).

        `target` may be a function of the standing yaw (a hand that keeps its orientation relative to the base).
        """
        target_at = target if callable(target) else (lambda _yaw: target)
        point = target_at(0.0).translation
        base_xy = np.asarray(q[:2], dtype=float)
        offset = point[:2] - base_xy
        facing = math.atan2(offset[1], offset[0]) if np.linalg.norm(offset) > 1e-6 else 0.0
        lateral = self.shoulder_in_base[side][1]
        candidate = np.array(q, dtype=float)
        for turn in (0.0, 0.25, -0.25, 0.5, -0.5, 0.75, -0.75, 1.0):
            yaw = facing + turn * math.pi
            goal = target_at(yaw)
            rotation = rotation_z(yaw)[:2, :2]
            candidate[3:7] = pin.Quaternion(rotation_z(yaw)).coeffs()
            reachable = []
            for ahead in np.linspace(0.1, 1.0, 19) * self.arm_length[side]:
                base = goal.translation[:2] - rotation @ np.array([ahead, lateral])
                if is_free is not None and not is_free(float(base[0]), float(base[1])):
                    continue
                candidate[:2] = base
                if self.solve(side, candidate, goal, position_only).reachable:
                    reachable.append(base)
            if reachable:
                middle = reachable[len(reachable) // 2]
                return float(middle[0]), float(middle[1]), wrap_angle(yaw)
        return None
