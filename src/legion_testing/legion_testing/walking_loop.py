"""The gait planner core in closed loop with the whole-body controller core and the simulated robot, in-process and
without ROS: for development, tests and the walking benchmark.

Each control cycle runs `legion_testing.closed_loop.ClosedLoop` (simulation + controller in lockstep); at the
planner rate, the planner gets the measured state (from the simulator's ground-truth base at the odometry rate and
the joint states, through the model's kinematics, as the node gets it from `odom` and `joint_states`), replans, and
hands its reference window to the controller, as `gait/reference` does over DDS.

    loop = WalkingLoop()
    loop.command(0.5, 0.0, 0.0)          # cmd_vel, re-sent at every planner tick while it is set
    loop.run(10.0)
    loop.base_position()                 # ground truth

Needs legion_control and legion_sim (test dependencies of legion_gait).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from legion_common.parameters import flatten_yaml, from_flat, parameter_specs
from legion_common.transforms import quaternion_from_yaw, wrap_angle, yaw_from_quaternion
from legion_gait.parameters import GaitParameters
from legion_gait.plan import GaitSamples
from legion_gait.planner import GaitPlanner, PlannerOutput
from legion_gait.robot_geometry import RobotGeometry
from legion_gait.state import MeasuredState, measured_state
from legion_model import RobotModel


def stack_parameters(node: str) -> dict[str, object]:
    """A node's parameters in `config/stack.yaml`, nested groups flattened to dotted names (`com.stiffness`)."""
    import yaml

    from legion_bringup.launcher import bringup_share

    data = yaml.safe_load((bringup_share() / "config" / "stack.yaml").read_text())
    return flatten_yaml(data.get(f"/**/{node}", {}).get("ros__parameters", {}))


def gait_parameters_from_stack(**overrides: object) -> GaitParameters:
    """GaitParameters from the `gait_planner` block of config/stack.yaml (node-only keys dropped), with overrides;
    every value range- and cross-checked (`ParameterError`)."""
    names = {spec.name for spec in parameter_specs(GaitParameters)}
    values = {key: value for key, value in stack_parameters("gait_planner").items() if key in names}
    return from_flat(GaitParameters, values | overrides)


def controller_samples(samples: GaitSamples):
    """The planner's samples as `legion_control.references.GaitSample`s (what the controller's conversion of a
    `gait/reference` message gives)."""
    from legion_control.references import GaitSample, SoleReference

    out = []
    for i, time in enumerate(samples.time):
        soles = {}
        for side, sole in samples.soles.items():
            position = np.array([sole.pose[i, 0], sole.pose[i, 1], sole.height[i]])
            soles[side] = SoleReference(bool(sole.in_contact[i]), position, quaternion_from_yaw(sole.pose[i, 2]),
                                        sole.velocity[i].copy(), sole.acceleration[i].copy())
        out.append(GaitSample(float(time), samples.com_position[i].copy(), samples.com_velocity[i].copy(),
                              samples.com_acceleration[i].copy(), quaternion_from_yaw(samples.base_yaw[i]),
                              np.array([0.0, 0.0, samples.base_yaw_rate[i]]), soles))
    return out


@dataclass
class WalkRecord:
    """Samples of a run, one per planner tick."""

    time: list[float] = field(default_factory=list)
    base: list[np.ndarray] = field(default_factory=list)
    """Ground-truth base (x, y, yaw)."""
    base_velocity: list[np.ndarray] = field(default_factory=list)
    """Ground-truth base linear velocity in odom [m/s]."""
    phase: list[str] = field(default_factory=list)
    dcm_error: list[float] = field(default_factory=list)
    planner_time: list[float] = field(default_factory=list)
    """[s] wall time of each planner update."""
    controller_state: list[str] = field(default_factory=list)
    events: list[tuple[float, str]] = field(default_factory=list)
    warnings: list[tuple[float, str]] = field(default_factory=list)


class WalkingLoop:
    """Simulation + whole-body controller + gait planner, stepped together (see the module docstring).

    Args:
        params: gait parameters (None: those of config/stack.yaml).
        planner_rate: planner updates per second of simulated time [Hz] (the node's update_rate).
        odometry_rate: rate of base states given to controller and planner [Hz] (ground_truth/odom is 50 Hz).
        wbc_overrides: flat controller parameters applied over those of config/stack.yaml
            (`legion_common.parameters.from_flat(WbcParameters, ...)`).
        scene: scene name.
        odometry: `truth` (the simulator's ground-truth base at `odometry_rate` for controller and planner) or `leg`
            (legion_estimation's leg odometry over the robot's sensors with their errors, at the control rate and
            one cycle late as the stack's state estimator gives it; the planner samples it at `odometry_rate`).
    """

    def __init__(self, params: GaitParameters | None = None, planner_rate: float = 20.0,
                 odometry_rate: float = 50.0, wbc_overrides: dict[str, object] | None = None,
                 scene: str = "empty", robot: str = "centurion", odometry: str = "truth") -> None:
        import time as timing

        from legion_control.parameters import WbcParameters
        from legion_testing.closed_loop import ClosedLoop

        self._timing = timing
        known = {spec.name for spec in parameter_specs(WbcParameters)}
        wbc = {key: value for key, value in stack_parameters("whole_body_controller").items() if key in known}
        wbc_params = from_flat(WbcParameters, wbc | (wbc_overrides or {}))
        if odometry == "leg":  # as the stack runs it: the estimator at the control rate, one cycle late
            self.loop = ClosedLoop(wbc_params, scene=scene, robot=robot, odometry="leg", odometry_delay=1)
        else:
            self.loop = ClosedLoop(wbc_params, scene=scene, odometry_rate=odometry_rate, robot=robot)
        self.odometry_source = odometry
        self.model = RobotModel.load(robot, lock_hands=True)
        self.geometry = RobotGeometry.from_model(self.model)
        self.planner = GaitPlanner(params or gait_parameters_from_stack(), self.geometry)
        self.planner_period = 1.0 / planner_rate
        self.odometry_period = 1.0 / odometry_rate
        self._next_plan = 0.0
        self._next_odometry = 0.0
        self._odometry = None
        self.velocity: tuple[float, float, float] | None = None
        self.record = WalkRecord()
        self.last_output: PlannerOutput | None = None
        self.rejections = 0

    # ------------------------------------------------------------------------------------------------ inputs
    def command(self, forward: float, left: float, yaw_rate: float) -> None:
        """Set the cmd_vel re-sent at every planner tick [m/s, m/s, rad/s]."""
        self.velocity = (forward, left, yaw_rate)

    def stop_command(self) -> None:
        """Stop sending cmd_vel (it goes stale after `command_timeout`)."""
        self.velocity = None

    def push(self, force: tuple[float, float, float], duration: float, body: str | None = None) -> None:
        """Apply a force [N] in world axes at the base for `duration` [s] (impulse = force * duration)."""
        body = body or self.model.config.frames["base"]
        self.loop.sim.apply_wrench(body, force, (0.0, 0.0, 0.0), duration)

    # ------------------------------------------------------------------------------------------------ state
    @property
    def time(self) -> float:
        return self.loop.sim.time

    def base_pose(self) -> np.ndarray:
        """Ground-truth base (x, y, yaw) in odom."""
        base = self.loop.sim.ground_truth_base()
        return np.array([base.position[0], base.position[1], yaw_from_quaternion(base.orientation)])

    def base_height(self) -> float:
        return float(self.loop.sim.ground_truth_base().position[2])

    def fallen(self) -> bool:
        """The base is lower than 70 % of the walking CoM height, or the controller detected a fall."""
        report = self.loop.last_report
        detected = report is not None and report.state.value == "fallen"
        return detected or self.base_height() < 0.7 * self.planner.params.com_height

    def measured(self) -> MeasuredState:
        """The measured state as the node computes it: last odometry (at the odometry rate) + current joints."""
        sim = self.loop.sim
        if self._odometry is None or sim.time + 1e-9 >= self._next_odometry:
            if self.odometry_source == "leg" and self.loop.last_odometry is not None:
                estimate = self.loop.last_odometry
                self._odometry = (estimate.time, estimate)
            else:
                self._odometry = (sim.time, sim.ground_truth_base())
            self._next_odometry = sim.time + self.odometry_period
        stamp, base = self._odometry
        joints = sim.joint_state()
        return measured_state(self.model, stamp, base.position, base.orientation, base.linear_velocity,
                              base.angular_velocity, dict(zip(joints.names, joints.position, strict=True)),
                              dict(zip(joints.names, joints.velocity, strict=True)))

    # ------------------------------------------------------------------------------------------------ running
    def plan_tick(self) -> PlannerOutput | None:
        """One planner update: command, measured state, replan, reference to the controller."""
        from legion_control.errors import ControlError

        now = self.time
        if self.velocity is not None:
            self.planner.set_velocity_command(now, (self.velocity[0], self.velocity[1], 0.0),
                                              (0.0, 0.0, self.velocity[2]))
        measured = self.measured()
        start = self._timing.perf_counter()
        output = self.planner.update(now, measured)
        elapsed = self._timing.perf_counter() - start
        if output is None:
            return None
        if output.samples is not None:
            try:
                self.loop.controller.set_gait_reference(controller_samples(output.samples))
            except ControlError as error:
                self.rejections += 1
                output.warnings.append(f"controller rejected the reference: {error}")
        else:
            self.loop.controller.set_gait_reference([])
        record = self.record
        record.time.append(now)
        record.base.append(self.base_pose())
        record.base_velocity.append(self._base_velocity_world())
        record.phase.append(output.phase.value)
        record.dcm_error.append(output.dcm_error)
        record.planner_time.append(elapsed)
        report = self.loop.last_report
        record.controller_state.append(report.state.value if report is not None else "none")
        record.events.extend((now, event) for event in output.events)
        record.warnings.extend((now, warning) for warning in output.warnings)
        self.last_output = output
        return output

    def _base_velocity_world(self) -> np.ndarray:
        return self.loop.sim.ground_truth_base().linear_velocity_world.copy()

    def run(self, duration: float, on_tick: Callable[[WalkingLoop], None] | None = None,
            stop_on_fall: bool = True) -> bool:
        """Run `duration` [s] of simulated time; `on_tick(loop)` before each planner tick. Returns False if the
        robot fell (and the run stopped early with `stop_on_fall`)."""
        end = self.time + duration
        while self.time < end - 1e-9:
            if self.time + 1e-9 >= self._next_plan:
                self._next_plan = self.time + self.planner_period
                if on_tick is not None:
                    on_tick(self)
                self.plan_tick()
                if self.fallen() and stop_on_fall:
                    return False
            self.loop.cycle()
        return not self.fallen()

    def settle(self, timeout: float = 10.0) -> bool:
        """Run until the planner stands (or `timeout` [s]); returns whether it does."""
        end = self.time + timeout
        while self.time < end:
            if not self.run(self.planner_period):
                return False
            if self.last_output is not None and self.last_output.phase.value == "standing":
                return True
        return False


def heading_error(a: float, b: float) -> float:
    """|a - b| wrapped to [0, pi] [rad]."""
    return abs(wrap_angle(a - b))
