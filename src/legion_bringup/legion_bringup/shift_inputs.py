"""From what the judge receives over DDS to what `ShiftRecord` and `CellCamera` take: plain functions over message
objects (no `rclpy.init`, no node), and the judge's kinematics for the measured CoM and ZMP.

What the job receives, the call, and what it feeds:

- `ground_truth/odom`, `odom/decimated` (nav_msgs/Odometry): `pose2_from_pose(msg.pose.pose)` ->
  `ShiftRecord.add_sample(true_base=..., estimated_base=...)`;
- `gait/reference` (GaitReference): `reference_at(msg, t)` -> `add_sample(com_reference=..., zmp_reference=...)`;
- `ground_truth/odom` + `joint_states/decimated` + `l_foot/wrench`, `r_foot/wrench`: `MeasuredBalance.com_zmp`
  -> `add_sample(com=..., zmp=...)`;
- `gait/footsteps` (FootstepPlan): `footsteps_from_plan(msg)` -> `ShiftRecord.footsteps` (planned; as landings,
  `planned=False`, once their `touch_down` has passed);
- `perception/obstacles` (nav_msgs/OccupancyGrid): `grid_from_occupancy(msg)` -> `ShiftRecord.grid`;
- `ground_truth/odom` + `joint_states` + `ground_truth/objects`: `frame_state(...)` -> `FrameLog.add` or
  `CellCamera.render`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from legion_bringup.shift_media import FrameState
from legion_bringup.shift_record import (
    SIDES,
    XY,
    Footstep,
    ObstacleGrid,
    Pose2,
    ReportError,
    zmp_from_lipm,
    zmp_from_sole_wrenches,
)
from legion_common.messages import xyz, xyzw
from legion_common.stamps import to_seconds
from legion_common.transforms import yaw_from_quaternion


def pose2_from_pose(pose) -> Pose2:
    """(x, y, yaw) of a geometry_msgs/Pose [m, rad]."""
    return (float(pose.position.x), float(pose.position.y), float(yaw_from_quaternion(xyzw(pose.orientation))))


def footsteps_from_plan(plan, planned: bool = True) -> list[Footstep]:
    """The steps of a legion_interfaces/FootstepPlan (sole poses in `odom`), stamped with their touch-down times.
    `planned=False` marks them as landings (the job passes the steps whose `touch_down` has passed)."""
    steps = []
    for step in plan.steps:
        if step.side not in (step.LEFT, step.RIGHT):
            raise ReportError(f"footstep plan: unknown side {step.side}")
        x, y, yaw = pose2_from_pose(step.pose)
        steps.append(Footstep(t=to_seconds(step.touch_down), x=x, y=y, yaw=yaw,
                              side=SIDES[0] if step.side == step.LEFT else SIDES[1], planned=planned))
    return steps


def grid_from_occupancy(msg) -> ObstacleGrid:
    """A nav_msgs/OccupancyGrid (perception's obstacle grid, in `odom`) as a record snapshot."""
    info = msg.info
    return ObstacleGrid.from_occupancy(info.origin.position.x, info.origin.position.y,
                                       yaw_from_quaternion(xyzw(info.origin.orientation)), info.resolution,
                                       info.width, info.height, msg.data)


def reference_at(reference, t: float) -> tuple[XY | None, XY | None]:
    """The gait planner's CoM and ZMP (x, y) [m] in `odom` at simulated time t [s], from a GaitReference: the
    sample nearest t (the controller holds the last one after its stamp). The ZMP is the linear inverted pendulum's,
    `zmp_from_lipm`, with the CoM's height above the mean height of the soles in contact. (None, None) for a
    reference without samples (balance in place)."""
    samples = reference.samples
    if not samples:
        return None, None
    stamps = np.array([to_seconds(s.stamp) for s in samples])
    sample = samples[int(np.argmin(np.abs(stamps - t)))]
    com, acceleration = xyz(sample.com_position), xyz(sample.com_acceleration)
    contact = [sole.pose.position.z for sole in sample.soles if sole.in_contact] or [0.0]
    height = float(com[2] - np.mean(contact))
    zmp = zmp_from_lipm(com, acceleration, height) if height > 0.0 else None
    return (float(com[0]), float(com[1])), zmp


def frame_state(t: float, truth_odom, joint_states, objects=None, overlay: str = "") -> FrameState:
    """A video frame's state from the newest `ground_truth/odom` (nav_msgs/Odometry), `joint_states`
    (sensor_msgs/JointState) and `ground_truth/objects` (DetectedObjectArray; None: parts where the scene put
    them)."""
    pose = truth_odom.pose.pose
    joints = dict(zip(joint_states.name, (float(q) for q in joint_states.position), strict=True))
    parts = {o.id: (tuple(xyz(o.pose.position)), tuple(xyzw(o.pose.orientation)))
             for o in (objects.objects if objects is not None else [])}
    return FrameState(t, tuple(xyz(pose.position)), tuple(xyzw(pose.orientation)), joints, parts, overlay)


def wrench_from_msg(msg) -> tuple[np.ndarray, np.ndarray]:
    """(force [N], torque [N m]) of a geometry_msgs/WrenchStamped (`<side>_foot/wrench`, in the sole frame)."""
    return xyz(msg.wrench.force), xyz(msg.wrench.torque)


class MeasuredBalance:
    """The judge's measured CoM and ZMP: the robot's kinematics (`legion_model`, Pinocchio) at the true base pose
    and the joint positions give the CoM and the sole poses in `odom`; the ankle force/torque sensors' wrenches
    (sole frames) at those soles give the ZMP (`zmp_from_sole_wrenches`).

    Args:
        robot: robot name or file (the model is built once; about a second).
    """

    def __init__(self, robot: str = "centurion"):
        from legion_model import RobotModel

        self.model = RobotModel.load(robot)
        self._reference = self.model.standing_configuration()

    def com_zmp(self, base_position: Sequence[float], base_orientation: Sequence[float],
                joints: Mapping[str, float],
                wrenches: Mapping[str, tuple[Sequence[float], Sequence[float]]] | None = None
                ) -> tuple[XY, XY | None]:
        """CoM (x, y) [m] and ZMP (x, y) [m] (None without wrenches or with the feet unloaded) in `odom`.

        Args:
            base_position: base_link origin in `odom` [m] (ground truth).
            base_orientation: base_link quaternion (x, y, z, w).
            joints: joint name -> position [rad]; joints not named keep the standing posture.
            wrenches: side -> (force, torque) in the sole frame about its origin [N, N m].
        """
        from legion_model import ModelError

        base = np.concatenate([np.asarray(base_position, float), np.asarray(base_orientation, float)])
        try:
            q = self.model.q_from_joint_positions(base, joints, reference=self._reference)
        except ModelError as error:
            raise ReportError(f"measured balance: {error}") from error
        self.model.update(q)
        com = self.model.com_position()
        if not wrenches:
            return (float(com[0]), float(com[1])), None
        soles = {}
        for side in wrenches:
            sole = self.model.transform_sole_to_world(side)
            rotation = sole.rotation
            soles[side] = (float(sole.translation[0]), float(sole.translation[1]),
                           math.atan2(rotation[1, 0], rotation[0, 0]))
        return (float(com[0]), float(com[1])), zmp_from_sole_wrenches(soles, dict(wrenches))
