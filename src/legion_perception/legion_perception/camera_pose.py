"""The head camera's pose in `odom` from the robot's state: `odom` -> base (odometry) composed with
base -> camera (forward kinematics of the joint positions over the robot model). Never from ground truth."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from legion_perception.errors import InputError


class CameraPoseSource:
    """Computes `camera_to_odom` with a `legion_model.RobotModel`.

    Args:
        model: the robot's model (`RobotModel.load(robot, lock_hands=True)` is enough: the hands do not move the head).
        camera_frame: the camera optical frame's name (the robot config's `frames.camera_color_optical`).
    """

    def __init__(self, model, camera_frame: str, hand_frames: tuple[str, ...] = (),
                 arm_chains: tuple[tuple[str, ...], ...] = ()):
        self.model = model
        self.camera_frame = camera_frame
        model.frame_id(camera_frame)  # raises ModelError if the model has no such frame
        for frame in (*hand_frames, *(f for chain in arm_chains for f in chain)):
            model.frame_id(frame)
        self.hand_frames = tuple(hand_frames)
        """The robot's gripper frames: `hands_in_odom` places them (the obstacle grid leaves out what is near
        them: the robot's own hands and what they hold)."""
        self.arm_chains = tuple(tuple(chain) for chain in arm_chains)
        """Per arm, its joints (the model names a frame after each joint) and its gripper frame, shoulder to
        gripper: `arms_in_odom` places them (the obstacle grid leaves out what is near the arm)."""
        self._reference = model.standing_configuration()
        self._hands = np.zeros((0, 3))
        self._arms: tuple[np.ndarray, ...] = ()

    def camera_to_odom(self, base_to_odom: np.ndarray, joint_positions: Mapping[str, float]) -> np.ndarray:
        """Pose of the camera optical frame in `odom`.  # (4, 4)

        Args:
            base_to_odom: pose of the base frame in `odom` (from the `odom` topic).  # (4, 4)
            joint_positions: joint name -> position [rad]; joints not named keep the standing posture, names the
                model does not know are ignored (a JointState may carry joints of other tools).

        Raises:
            InputError: a pose or position is not finite.
        """
        if base_to_odom.shape != (4, 4) or not np.isfinite(base_to_odom).all():
            raise InputError("base pose is not a finite 4x4 transform")
        known = {n: float(p) for n, p in joint_positions.items() if n in self.model.q_index}
        if not all(np.isfinite(list(known.values()))):
            raise InputError("joint_states carries a non-finite position")
        q = self.model.q_from_joint_positions(base_to_odom, known, reference=self._reference)
        self.model.update(q)
        self._hands = np.array([self.model.transform_frame_to_world_matrix(f)[:3, 3] for f in self.hand_frames]
                               ).reshape(-1, 3)
        self._arms = tuple(np.array([self.model.transform_frame_to_world_matrix(f)[:3, 3] for f in chain])
                           for chain in self.arm_chains)
        return np.array(self.model.transform_frame_to_world_matrix(self.camera_frame))

    def hands_in_odom(self) -> np.ndarray:
        """Positions of the gripper frames in `odom` at the state of the last `camera_to_odom` call [m].  # (k, 3)"""
        return self._hands.copy()

    def arms_in_odom(self) -> tuple[np.ndarray, ...]:
        """Per arm, the positions of its chain's frames in `odom` at the state of the last `camera_to_odom` call,
        shoulder to gripper [m].  # each (m, 3)"""
        return tuple(arm.copy() for arm in self._arms)
