"""legion_gait: gait planning of a Legion humanoid, without ROS.

Footsteps within the robot's kinematic limits from a velocity command or a goal pose (`footsteps`), the CoM
trajectory by DCM planning over a continuous ZMP (`dcm`), swing-foot trajectories (`swing`), and the planner that
ties them together with capture-point feedback (`planner.GaitPlanner`). The `gait_planner` node
(`gait_planner_node`) is a thin ROS 2 adapter over `GaitPlanner`.
"""

from legion_gait.commands import VelocityCommand, WalkGoal, check_goal, check_twist
from legion_gait.dcm import DcmTrajectory, dcm_weights
from legion_gait.errors import GaitError
from legion_gait.footsteps import Footstep, StepLimits
from legion_gait.parameters import GaitParameters
from legion_gait.plan import GaitPlan, GaitSamples, SoleSamples
from legion_gait.planner import GaitPhase, GaitPlanner, GoalProgress, GoalStatus, PlannerOutput
from legion_gait.robot_geometry import RobotGeometry
from legion_gait.state import MeasuredState, measured_state

__all__ = [
    "DcmTrajectory",
    "Footstep",
    "GaitError",
    "GaitParameters",
    "GaitPhase",
    "GaitPlan",
    "GaitPlanner",
    "GaitSamples",
    "GoalProgress",
    "GoalStatus",
    "MeasuredState",
    "PlannerOutput",
    "RobotGeometry",
    "SoleSamples",
    "StepLimits",
    "VelocityCommand",
    "WalkGoal",
    "check_goal",
    "check_twist",
    "dcm_weights",
    "measured_state",
]
