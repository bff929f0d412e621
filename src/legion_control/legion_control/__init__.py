"""Legion whole-body control: balance and task tracking of a humanoid by task-space inverse dynamics over Pinocchio.

    from legion_control import WholeBodyController, WbcParameters
    from legion_model import RobotModel

    controller = WholeBodyController(RobotModel.load("centurion", lock_hands=True), WbcParameters())
    controller.set_base_state(base)                                   # from odom
    command, report = controller.update(t, names, positions, velocities)   # once per joint state

The core (this package minus `whole_body_controller_node` and `conversions`) never imports rclpy.
"""

from legion_control.errors import ControlError
from legion_control.grasp import GraspController, GraspMode, HandCommand
from legion_control.inverse_dynamics import AccelerationTask, Contact, DynamicsTerms, InverseDynamicsQP, Solution
from legion_control.parameters import WbcParameters
from legion_control.references import BalanceOffset, BaseState, GaitSample, HandTarget, SoleReference
from legion_control.whole_body_controller import (
    ControllerState,
    CycleReport,
    FallResponse,
    JointCommandArrays,
    WholeBodyController,
)

__all__ = [
    "AccelerationTask",
    "BalanceOffset",
    "BaseState",
    "Contact",
    "ControlError",
    "ControllerState",
    "CycleReport",
    "DynamicsTerms",
    "FallResponse",
    "GaitSample",
    "GraspController",
    "GraspMode",
    "HandCommand",
    "HandTarget",
    "InverseDynamicsQP",
    "JointCommandArrays",
    "SoleReference",
    "Solution",
    "WbcParameters",
    "WholeBodyController",
]
