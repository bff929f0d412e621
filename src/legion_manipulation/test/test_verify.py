"""Grasp verification from the hand's joints: empty hand, a hold, a slip."""

import numpy as np

from legion_manipulation.verify import GraspMonitor, HandState

CLOSED = np.array([1.0, 1.2, 1.2, 1.2, 0.3])
STIFFNESS = 4.0


def run(monitor, positions, seconds=0.5, start=0.0, velocity=0.0):
    state = None
    efforts = STIFFNESS * (CLOSED[: len(positions)] - positions)
    for t in np.arange(start, start + seconds, 0.01):
        state = monitor.update(t, positions, np.full(len(positions), velocity), efforts)
    return state


def test_a_hand_that_reaches_its_posture_closed_on_nothing():
    monitor = GraspMonitor(CLOSED)
    assert run(monitor, CLOSED * 0.5, velocity=1.0) == HandState.MOVING
    assert run(monitor, CLOSED - 0.005) == HandState.EMPTY


def test_fingers_held_off_by_a_part_hold_it_until_they_close_on():
    monitor = GraspMonitor(CLOSED)
    held = CLOSED - np.array([0.2, 0.1, 0.05, 0.0, 0.0])  # thumb pushed back, index held off (measured: 0.14-0.27)
    assert run(monitor, held) == HandState.HOLDING
    assert monitor.grip > 0.8 and monitor.deflection > 0.2
    assert run(monitor, CLOSED - 0.01, seconds=0.1, start=0.5) == HandState.HOLDING  # a blip is no slip
    assert run(monitor, CLOSED - 0.01, seconds=0.5, start=0.6) == HandState.EMPTY


def test_a_gripper_jaw_blocked_by_the_part_holds():
    monitor = GraspMonitor(np.array([1.3]))
    state = None
    for t in np.arange(0.0, 0.5, 0.01):
        state = monitor.update(t, np.array([0.7]), np.zeros(1), np.array([2.4]))
    assert state == HandState.HOLDING
