"""The judge's inputs to the shift record, from message objects (no rclpy.init), and the measured CoM and ZMP
against the simulator's own."""

import math

import numpy as np
import pytest
from geometry_msgs.msg import Pose, WrenchStamped
from nav_msgs.msg import OccupancyGrid, Odometry
from sensor_msgs.msg import JointState

from legion_bringup.shift_inputs import (
    MeasuredBalance,
    footsteps_from_plan,
    frame_state,
    grid_from_occupancy,
    pose2_from_pose,
    reference_at,
    wrench_from_msg,
)
from legion_bringup.shift_record import ReportError
from legion_interfaces.msg import DetectedObject, DetectedObjectArray, Footstep, FootstepPlan, GaitReference, GaitSample


def pose(x: float, y: float, yaw: float, z: float = 0.0) -> Pose:
    msg = Pose()
    msg.position.x, msg.position.y, msg.position.z = x, y, z
    msg.orientation.z, msg.orientation.w = math.sin(yaw / 2), math.cos(yaw / 2)
    return msg


def test_poses_footsteps_and_grid_from_messages():
    assert pose2_from_pose(pose(0.1, -0.2, 0.3)) == pytest.approx((0.1, -0.2, 0.3))
    plan = FootstepPlan(steps=[Footstep(side=Footstep.LEFT, pose=pose(0.1, 0.1, 0.0)),
                               Footstep(side=Footstep.RIGHT, pose=pose(0.3, -0.1, 0.2))])
    plan.steps[1].touch_down.sec, plan.steps[1].touch_down.nanosec = 3, 500_000_000
    steps = footsteps_from_plan(plan)
    assert [(s.side, s.planned) for s in steps] == [("left", True), ("right", True)]
    assert steps[1].t == pytest.approx(3.5) and steps[1].yaw == pytest.approx(0.2)
    assert not footsteps_from_plan(plan, planned=False)[0].planned
    plan.steps[0].side = 7
    with pytest.raises(ReportError, match="unknown side 7"):
        footsteps_from_plan(plan)

    grid = OccupancyGrid()
    grid.info.resolution, grid.info.width, grid.info.height = 0.05, 3, 2
    grid.info.origin = pose(-1.0, -2.0, 0.5)
    grid.data = [0, 100, -1, 0, 0, 50]
    snapshot = grid_from_occupancy(grid)
    assert snapshot.origin == pytest.approx((-1.0, -2.0, 0.5)) and snapshot.data == (0, 100, -1, 0, 0, 50)
    grid.info.width = 4
    with pytest.raises(ReportError, match="grid data has 6 cells"):
        grid_from_occupancy(grid)


def test_the_planned_com_and_zmp_are_read_at_the_nearest_sample():
    assert reference_at(GaitReference(), 1.0) == (None, None)
    reference = GaitReference()
    for k in range(5):
        sample = GaitSample()
        sample.stamp.sec, sample.stamp.nanosec = 1, k * 100_000_000  # 1.0 .. 1.4 s
        sample.com_position.x, sample.com_position.y, sample.com_position.z = 0.1 * k, 0.0, 0.88
        sample.com_acceleration.x, sample.com_acceleration.y = 0.981, -0.981 * k
        for sole in sample.soles:
            sole.in_contact, sole.pose.position.z = True, 0.08  # on a 8 cm platform: the pendulum is 0.80 m
        reference.samples.append(sample)
    com, zmp = reference_at(reference, 1.22)
    assert com == pytest.approx((0.2, 0.0))
    assert zmp == pytest.approx((0.2 - 0.08, 0.16))
    assert reference_at(reference, 9.0)[0] == pytest.approx((0.4, 0.0))  # after the end: the last sample


def test_frame_state_from_messages():
    truth = Odometry()
    truth.pose.pose = pose(0.2, 0.1, 0.4, z=0.93)
    joints = JointState(name=["a", "b"], position=[0.1, -0.2])
    objects = DetectedObjectArray(objects=[DetectedObject(id="red_cube_1", pose=pose(0.4, 0.15, 0.0, z=0.78))])
    state = frame_state(2.5, truth, joints, objects, "t 2.5 s")
    assert state.base_position == pytest.approx((0.2, 0.1, 0.93))
    assert state.base_orientation[2:] == pytest.approx((math.sin(0.2), math.cos(0.2)))
    assert state.joints == pytest.approx({"a": 0.1, "b": -0.2})
    assert state.parts["red_cube_1"][0] == pytest.approx((0.4, 0.15, 0.78))
    assert frame_state(2.5, truth, joints).parts == {}
    wrench = WrenchStamped()
    wrench.wrench.force.z, wrench.wrench.torque.y = 300.0, -6.0
    force, torque = wrench_from_msg(wrench)
    assert force[2] == 300.0 and torque[1] == -6.0


def test_measured_com_and_zmp_match_the_simulator():
    """The robot standing still in the simulator (exact sensors): the judge's CoM (Pinocchio at the true base pose
    and the joint positions) is MuJoCo's, and the ZMP from the ankle sensors lies under it."""
    from legion_sim.simulation import Simulation

    sim = Simulation.from_names("centurion", "sorting_cell", sensor_noise=False)
    try:
        sim.step(300)
        base, joints = sim.ground_truth_base(), sim.joint_state()
        wrenches = {side: (w.force, w.torque) for side, w in sim.foot_wrenches().items()}
        true_com = sim.data.subtree_com[sim.model.body(sim.config.frames["base"]).id].copy()
    finally:
        sim.close()
    balance = MeasuredBalance("centurion")
    com, zmp = balance.com_zmp(base.position, base.orientation, dict(zip(joints.names, joints.position, strict=True)),
                               wrenches)
    assert np.linalg.norm(np.subtract(com, true_com[:2])) < 0.0005
    assert zmp is not None and np.linalg.norm(np.subtract(zmp, com)) < 0.005  # static: the ZMP is under the CoM
    assert balance.com_zmp(base.position, base.orientation, {})[1] is None
    with pytest.raises(ReportError, match="measured balance"):
        balance.com_zmp(base.position, base.orientation, {"no_such_joint": 0.0})
