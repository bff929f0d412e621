"""Grasp verification from the hand's joints: empty hand, a hold, a slip."""

import numpy as np
import pytest

from legion_manipulation.verify import GraspMonitor, HandState

OPEN = np.zeros(5)
CLOSED = np.array([1.0, 1.2, 1.2, 1.2, 0.05])  # the last joint hardly moves: not judged


def run(monitor, positions, seconds=0.5, start=0.0, velocity=0.0):
    state = None
    for t in np.arange(start, start + seconds, 0.01):
        state = monitor.update(t, positions, np.full(5, velocity))
    return state


def test_a_hand_that_reaches_its_posture_closed_on_nothing():
    monitor = GraspMonitor(OPEN, CLOSED)
    assert run(monitor, CLOSED * 0.5, velocity=1.0) == HandState.MOVING
    assert run(monitor, CLOSED * 0.97) == HandState.EMPTY


def test_fingers_blocked_by_a_part_hold_it_until_they_close_on():
    monitor = GraspMonitor(OPEN, CLOSED)
    held = np.array([0.6, 0.7, 0.75, 1.2, 0.05])  # three fingers stopped by the part
    assert run(monitor, held) == HandState.HOLDING
    assert run(monitor, held + 0.05, start=0.5) == HandState.HOLDING  # a little squeeze is no slip
    assert run(monitor, np.array([0.95, 1.15, 1.2, 1.2, 0.05]), start=1.0) == HandState.EMPTY


def test_a_gripper_jaw_blocked_by_the_part_holds():
    monitor = GraspMonitor(np.zeros(1), np.array([1.3]))
    state = None
    for t in np.arange(0.0, 0.5, 0.01):
        state = monitor.update(t, np.array([0.7]), np.zeros(1))
    assert state == HandState.HOLDING


def test_nothing_to_verify_is_refused():
    with pytest.raises(ValueError, match="moves no hand joint"):
        GraspMonitor(OPEN, OPEN + 0.01)
