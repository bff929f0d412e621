"""The controller core in closed loop with the simulated robot, in-process and without ROS: for tests and benchmarks.

Each cycle does what the lockstep stack does over DDS: read the joint state stamped t (and, at the odometry rate,
the base state: `odometry="leg"` runs legion_estimation's leg odometry as the stack's `state_estimator` does,
`odometry="truth"` takes the simulator's ground truth instead), run the controller, apply its command, step the
physics one control period. Results therefore do not depend on machine load.

    loop = ClosedLoop()                 # Centurion in the empty scene, params.control_rate, ground truth every cycle
    loop.run(5.0)                       # 5 s of simulated time
    loop.base_position()                # ground truth, for assertions
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from legion_control.parameters import WbcParameters
from legion_control.references import BaseState
from legion_control.whole_body_controller import CycleReport, WholeBodyController
from legion_model import RobotModel

if TYPE_CHECKING:
    from legion_sim.model_builder import SimOptions


@dataclass
class LoopRecord:
    """Per-cycle samples of a run (ground truth from the simulator, reports from the controller)."""

    time: list[float] = field(default_factory=list)
    base_position: list[np.ndarray] = field(default_factory=list)
    com: list[np.ndarray] = field(default_factory=list)
    """The controller model's CoM at the true state [m]."""
    soles: list[dict[str, np.ndarray]] = field(default_factory=list)
    reports: list[CycleReport] = field(default_factory=list)


class ClosedLoop:
    """Simulation + controller stepped together (see the module docstring).

    Args:
        params: controller parameters (defaults if None).
        scene: scene name or path of a scene file.
        odometry_rate: rate of base states given to the controller [Hz]; None = every cycle.
        odometry: `truth` (the simulator's ground truth, as `ground_truth/odom`) or `leg` (legion_estimation's leg
            odometry from the simulated IMU, joints and foot force sensors, as the stack's state estimator).
        odometry_delay: cycles by which odometry reaches the controller after the joint state of the same stamp
            (1 is what a separate estimator node gives in lockstep: its odom arrives after the joint state).
        solver: QP solver name.
        keep_reports: keep every cycle's report in `record` (memory grows with the run).
        sim_options: simulator tunables (contact parameters, physics rate ...); the defaults if None.
    """

    def __init__(self, params: WbcParameters | None = None, scene: str = "empty", odometry_rate: float | None = None,
                 solver: str = "daqp", robot: str = "centurion", keep_reports: bool = False,
                 odometry: str = "truth", odometry_delay: int = 0, sim_options: SimOptions | None = None) -> None:
        from legion_sim.simulation import Simulation

        self.sim = Simulation.from_names(robot, scene, sim_options)
        self.robot = RobotModel.load(robot, lock_hands=True)
        params = params or WbcParameters()
        self.controller = WholeBodyController(self.robot, params, solver)
        self.steps_per_cycle = max(round(1.0 / (params.control_rate * self.sim.timestep)), 1)
        self.period = self.steps_per_cycle * self.sim.timestep
        """Control period [s]."""
        self.odometry_period = None if odometry_rate is None else 1.0 / odometry_rate
        self._next_odometry = 0.0
        if odometry not in ("truth", "leg"):
            raise ValueError(f"odometry must be 'truth' or 'leg', got {odometry!r}")
        self._leg_odometry = None
        if odometry == "leg":
            from legion_estimation.leg_odometry import LegOdometry

            self._leg_odometry = LegOdometry(RobotModel.load(robot, lock_hands=True))
        self._odometry_queue: list[BaseState] = []
        self.odometry_delay = odometry_delay
        self.keep_reports = keep_reports
        self.record = LoopRecord()
        self.last_report: CycleReport | None = None
        self.sole_sites = {side: frames.sole for side, frames in self.robot.config.sides.items()}
        self._truth_model = RobotModel.load(robot, lock_hands=True)
        self.last_odometry: BaseState | None = None
        """The latest base state `odometry()` gave (what the stack's `odom` would carry)."""

    def base_state(self) -> BaseState:
        """The simulator's true base state, as `ground_truth/odom` carries it."""
        base = self.sim.ground_truth_base()
        return BaseState(self.sim.time, base.position, base.orientation, base.linear_velocity, base.angular_velocity)

    def odometry(self) -> BaseState:
        """What the controller's `odom` carries at this instant (ground truth or leg odometry); also kept as
        `last_odometry`."""
        self.last_odometry = self._odometry()
        return self.last_odometry

    def _odometry(self) -> BaseState:
        if self._leg_odometry is None:
            return self.base_state()
        sim = self.sim
        joints = sim.joint_state()
        imu = sim.imu()
        forces = {side: float(wrench.force[2]) for side, wrench in sim.foot_wrenches().items()}
        estimate = self._leg_odometry.update(dict(zip(joints.names, joints.position, strict=True)),
                                             dict(zip(joints.names, joints.velocity, strict=True)),
                                             imu.orientation, imu.angular_velocity, forces, stamp=sim.time)
        return BaseState(sim.time, estimate.position, estimate.orientation, estimate.linear_velocity,
                         estimate.angular_velocity)

    def base_position(self) -> np.ndarray:
        return self.sim.ground_truth_base().position.copy()

    def sole_positions(self) -> dict[str, np.ndarray]:
        """True sole origins in the world [m]."""
        return {side: self.sim.data.site(site).xpos.copy() for side, site in self.sole_sites.items()}

    def true_com(self) -> np.ndarray:
        """The model's CoM at the simulator's true state [m]."""
        base = self.sim.ground_truth_base()
        joints = self.sim.joint_state()
        positions = dict(zip(joints.names, joints.position, strict=True))
        q = self._truth_model.q_from_joint_positions(np.concatenate((base.position, base.orientation)), positions)
        self._truth_model.update(q)
        return self._truth_model.com_position()

    def cycle(self) -> CycleReport:
        """One control period: state -> controller -> command -> physics."""
        sim = self.sim
        now = sim.time
        if self.odometry_period is None or now + 1e-9 >= self._next_odometry:
            if self.odometry_period is not None:
                self._next_odometry = now + self.odometry_period
            self._odometry_queue.append(self.odometry())
        while self._odometry_queue and self._odometry_queue[0].time <= now - self.odometry_delay * self.period + 1e-9:
            self.controller.set_base_state(self._odometry_queue.pop(0))
        joints = sim.joint_state()
        command, report = self.controller.update(now, joints.names, joints.position, joints.velocity)
        accepted, reason = sim.set_command(command.names, command.position, command.velocity, command.effort,
                                           command.stiffness, command.damping)
        if not accepted:
            raise RuntimeError(f"simulator rejected the controller's command: {reason}")
        sim.step(self.steps_per_cycle)
        self.last_report = report
        return report

    def run(self, duration: float, on_cycle: Callable[[ClosedLoop], None] | None = None,
            record_every: int = 10) -> LoopRecord:
        """Run `duration` [s] of simulated time; `on_cycle(loop)` is called before each cycle (to set references).

        Every `record_every` cycles the ground truth is appended to `record`.
        """
        cycles = round(duration / (self.steps_per_cycle * self.sim.timestep))
        for i in range(cycles):
            if on_cycle is not None:
                on_cycle(self)
            report = self.cycle()
            if i % record_every == 0:
                self.record.time.append(self.sim.time)
                self.record.base_position.append(self.base_position())
                self.record.soles.append(self.sole_positions())
                if self.keep_reports:
                    self.record.reports.append(report)
        return self.record
