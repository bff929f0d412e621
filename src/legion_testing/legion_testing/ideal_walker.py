"""The gait planner core driven by an ideal robot that follows its reference exactly (no simulator).

    walker = IdealWalker()                       # Centurion's geometry, default parameters
    walker.planner.set_velocity_command(...)     # or walker.run(3.0, command=(0.5, 0.0, 0.0))
    outputs = walker.run(5.0)                    # one PlannerOutput per update

`disturb(dcm_offset)` adds a DCM error to the next measurements (a push), so capture-point feedback can be tested.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from legion_gait.geometry import pose2, rotation2
from legion_gait.parameters import GaitParameters
from legion_gait.planner import GaitPlanner, PlannerOutput
from legion_gait.robot_geometry import RobotGeometry
from legion_gait.state import MeasuredState

STANDING_COM = np.array([-0.009, 0.0, 0.949])
"""Centurion's CoM standing with the soles' midpoint at the origin [m]."""


def standing_state(time: float = 0.0, geometry: RobotGeometry | None = None, width: float = 0.2) -> MeasuredState:
    """The robot standing still with its soles' midpoint at the odom origin, facing x."""
    geometry = geometry or RobotGeometry()
    soles = {side: pose2(0.0, 0.5 * sign * width, 0.0) for side, sign in geometry.side_sign.items()}
    base = pose2(*geometry.base_in_feet_frame)
    return MeasuredState(time, STANDING_COM.copy(), np.zeros(3), soles, dict.fromkeys(soles, 0.0), base)


@dataclass
class IdealWalker:
    """A planner whose robot tracks the reference perfectly, updated every `period` seconds."""

    params: GaitParameters = field(default_factory=GaitParameters)
    geometry: RobotGeometry = field(default_factory=RobotGeometry)
    period: float = 0.05
    """[s] between updates (the node's 1 / update_rate)."""
    time: float = 0.0

    def __post_init__(self) -> None:
        self.planner = GaitPlanner(self.params, self.geometry)
        self._velocity_offset = np.zeros(3)

    def measured(self) -> MeasuredState:
        """The reference of the current plan at the current time, as if measured (plus any disturbance)."""
        plan = self.planner.plan
        if plan is None:
            return standing_state(self.time, self.geometry, self.planner.params.step_width)
        sample = plan.sample(np.array([self.time]))
        soles = {side: sole.pose[0].copy() for side, sole in sample.soles.items()}
        heights = {side: float(sole.height[0]) for side, sole in sample.soles.items()}
        base_offset = self.geometry.base_in_feet_frame
        yaw = float(sample.base_yaw[0])
        base_xy = sample.com_position[0, :2] + rotation2(yaw) @ base_offset[:2]
        velocity = sample.com_velocity[0] + self._velocity_offset
        self._velocity_offset = np.zeros(3)
        return MeasuredState(self.time, sample.com_position[0].copy(), velocity, soles, heights,
                             pose2(base_xy[0], base_xy[1], yaw))

    def disturb(self, com_velocity: np.ndarray) -> None:
        """The next measurement's CoM velocity is off by `com_velocity` [m/s] (a push of mass * velocity)."""
        self._velocity_offset = np.asarray(com_velocity, dtype=float)

    def step(self, command: tuple[float, float, float] | None = None) -> PlannerOutput | None:
        """One update at the current time, then time advances by `period`."""
        if command is not None:
            self.planner.set_velocity_command(self.time, (command[0], command[1], 0.0), (0.0, 0.0, command[2]))
        output = self.planner.update(self.time, self.measured())
        self.time = round(self.time + self.period, 9)
        return output

    def run(self, duration: float, command: tuple[float, float, float] | None = None) -> list[PlannerOutput]:
        """Updates for `duration` [s], re-sending `command` at each (None: no command is sent)."""
        outputs = []
        for _ in range(round(duration / self.period)):
            output = self.step(command)
            if output is not None:
                outputs.append(output)
        return outputs
