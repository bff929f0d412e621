"""Shared fixtures of the whole-body controller tests: the robot model is loaded once a session."""

from __future__ import annotations

import numpy as np
import pytest

from legion_control import BaseState, WbcParameters, WholeBodyController
from legion_model import RobotModel


@pytest.fixture(scope="session")
def robot() -> RobotModel:
    """Centurion with the hands locked (the controller's model)."""
    return RobotModel.load("centurion", lock_hands=True)


@pytest.fixture
def controller(robot: RobotModel) -> WholeBodyController:
    return WholeBodyController(robot, WbcParameters())


def standing_state(robot: RobotModel) -> tuple[BaseState, tuple[str, ...], np.ndarray, np.ndarray]:
    """(base state at t=0, joint names, positions, velocities) of the standing posture, body and hands."""
    q = robot.standing_configuration()
    config = robot.config
    names = tuple(config.all_joints)
    positions = np.array([config.standing.get(n, 0.0) for n in names])
    base = BaseState(0.0, q[:3].copy(), q[3:7].copy(), np.zeros(3), np.zeros(3))
    return base, names, positions, np.zeros(len(names))


@pytest.fixture
def standing(robot: RobotModel):
    return standing_state(robot)
