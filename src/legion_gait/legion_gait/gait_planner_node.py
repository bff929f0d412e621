"""`gait_planner`: the ROS 2 adapter of `legion_gait.planner.GaitPlanner` (footsteps, CoM and swing-foot reference).

A thin node: callbacks convert and store, one timer replans and publishes; errors are caught at the callback boundary
and reported on `diagnostics` (the last published reference, which always ends standing, then stays in force).
"""

from __future__ import annotations

import math
import sys
import time as timing
from collections import deque
from dataclasses import dataclass

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from geometry_msgs.msg import Twist
from nav_msgs.msg import OccupancyGrid, Odometry
from rclpy.action import ActionServer, CancelResponse, GoalResponse
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from rclpy.task import Future
from sensor_msgs.msg import JointState
from std_msgs.msg import Bool
from visualization_msgs.msg import MarkerArray

from legion_common.diagnostics import diagnostics_msg
from legion_common.frames import frame_prefix_param
from legion_common.messages import pose_arrays, pose_msg
from legion_common.node import LegionNode
from legion_common.node_main import run_node
from legion_common.parameters import ParameterError, declare_parameters, param, require
from legion_common.stamps import header_seconds, to_stamp
from legion_common.transforms import quaternion_from_yaw
from legion_gait import conversions as conv
from legion_gait.errors import GaitError
from legion_gait.navigation import NavigationError
from legion_gait.parameters import GaitParameters
from legion_gait.planner import GaitPhase, GaitPlanner, GoalStatus, PlannerOutput
from legion_gait.robot_geometry import RobotGeometry
from legion_gait.state import MeasuredState, measured_state
from legion_interfaces.action import WalkTo
from legion_interfaces.msg import FootstepPlan, GaitReference, SafetyState

INPUT_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=10, reliability=ReliabilityPolicy.RELIABLE)
"""cmd_vel, odom, joint_states."""
REFERENCE_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=2, reliability=ReliabilityPolicy.RELIABLE)
"""gait/reference: only the newest window matters."""
LATCHED_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1, reliability=ReliabilityPolicy.RELIABLE,
                         durability=DurabilityPolicy.TRANSIENT_LOCAL)
"""gait/footsteps and gait_planner/markers: a viewer that joins late gets the current plan."""
MAP_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1, reliability=ReliabilityPolicy.RELIABLE,
                     durability=DurabilityPolicy.TRANSIENT_LOCAL)
"""`map`: the cell's static map, latched by the executive."""
GRID_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=2, reliability=ReliabilityPolicy.RELIABLE)
"""`perception/obstacles`: as perception publishes it."""
GRID_TOPICS = ("map", "perception/obstacles")
"""The occupancy grids walk_to plans around (the planner's grid names)."""
WARN_PERIOD = 2.0
"""[s] between two log lines of the same kind."""


@dataclass(frozen=True)
class NodeParameters:
    """The node's own parameters (the planner's are those of `GaitParameters`, under the same names)."""

    robot: str = param("centurion", "Robot name (config/robots/<robot>.yaml, urdf/<robot>.urdf.xacro): sole size, "
                                    "sides, kinematics.")
    frame_prefix: str = frame_prefix_param()
    update_rate: float = param(20.0, "Replanning and publication of gait/reference and gait/footsteps.", unit="Hz",
                               low=1.0, high=200.0)
    marker_rate: float = param(5.0, "gait_planner/markers (~/markers) rate, only while subscribed; 0 disables them.",
                               unit="Hz", low=0.0, high=50.0)
    diagnostics_rate: float = param(1.0, "diagnostics rate.", unit="Hz", low=0.1, high=10.0)
    state_timeout: float = param(0.25, "odom or joint_states older than this are not used for feedback (the plan "
                                       "runs open loop meanwhile).", unit="s", low=0.01, high=5.0)
    safety_required: bool = param(False, "Walk only while the safety node's safety/state is fresh: before the first "
                                         "one, and when it is older than safety_timeout, stop and stand. False: "
                                         "without any safety/state the robot walks at full speed (a stale one "
                                         "still stops it).")
    safety_timeout: float = param(0.5, "A safety/state older than this is stale: stop and stand.", unit="s",
                                  low=0.05, high=10.0)

    def validated(self) -> NodeParameters:
        require(bool(self.robot), "robot must not be empty")
        return self


class GaitPlannerNode(LegionNode):
    """Footsteps and the CoM / swing-foot reference that make the robot walk on command.

    Subscribes (reliable, depth 10):
        `cmd_vel` (geometry_msgs/Twist, base_link axes): forward, sideways, yaw rate. Older than `command_timeout`
            means stale: the robot finishes its step and stands with the feet together. Non-finite or absurd values
            are rejected, values beyond the limits clamped, both with a warning.
        `odom` (nav_msgs/Odometry, odom -> base_link): base pose and twist, from the state estimator
            (`state_estimator`) in the stack.
        `joint_states` (sensor_msgs/JointState): with odom, through the robot's kinematics, the measured soles, CoM
            and DCM (capture-point feedback, landings).
        `supervisor/pause` (std_msgs/Bool, reliable, transient-local): while true the robot finishes its step and
            stands; cmd_vel and a walk_to goal wait (the goal's time limit is extended by the pause).
        `map` (nav_msgs/OccupancyGrid, frame odom, reliable, transient-local): the cell's static map (tables, bins,
            keep-out areas; 100 occupied, 0 free, -1 unknown), from the executive.
        `safety/state` (legion_interfaces/SafetyState, reliable, transient-local): the step velocity is scaled by
            its `speed_scale`; a protective or emergency stop (or a state older than `safety_timeout`, or none yet
            with `safety_required`) stops the robot: it finishes its step and stands; a walk_to goal resumes when
            it clears.
        `perception/obstacles` (nav_msgs/OccupancyGrid, frame odom, reliable, depth 2): what the head camera sees;
            dropped when older than `navigation.grid_timeout`. With either grid, walk_to plans a path around what
            they hold (`legion_gait.navigation`); the path is checked when a grid's contents change, not every tick.
    Publishes:
        `gait/reference` (legion_interfaces/GaitReference, reliable, depth 2): at `update_rate` while the planner
            drives the robot (from the first cmd_vel or walk_to goal until `idle_time` after it stands again), a
            window of samples from now to the plan's end, which is always standing on both feet. Idle, nothing: the
            controller balances on its own.
        `gait/footsteps` (legion_interfaces/FootstepPlan, reliable, transient-local): the footstep in flight and the
            planned ones, at `update_rate`.
        `gait_planner/markers` (`~/markers`, visualization_msgs/MarkerArray, transient-local, only while subscribed):
            footsteps, soles, CoM, DCM and ZMP paths, walk_to's path.
        `diagnostics` (diagnostic_msgs/DiagnosticArray): phase, command, DCM error, feedback, timing, goal, warnings.
    Action server:
        `walk_to` (legion_interfaces/action/WalkTo): target base_footprint pose in odom. Rejected with a reason
            (in the log and diagnostics) when it cannot be reached; with grids, a goal inside an obstacle or with no
            path is accepted and aborted at once with the reason in `message`; aborted with the reason in `message`
            on a fall, a timeout, a preemption, a path blocked for good or a failure to settle within tolerance;
            canceling stops safely (finish the step, feet together) before the goal is reported canceled.
            Feedback: distance and angle left, steps taken.
    Parameters:
        `robot`, `update_rate` [Hz], `marker_rate` [Hz], `diagnostics_rate` [Hz], `state_timeout` [s],
        `safety_required`, `safety_timeout` [s], and every
        field of `legion_gait.parameters.GaitParameters` (step timing, CoM height, step height, limits, ...),
        each with its description and range (`config/stack.yaml`, block `gait_planner`).
    """

    def __init__(self, **kwargs) -> None:
        super().__init__("gait_planner", **kwargs)
        self.node_params = declare_parameters(self, NodeParameters)
        self.gait_params = declare_parameters(self, GaitParameters)
        from legion_model import RobotModel

        self.model = RobotModel.load(self.node_params.robot, lock_hands=True)
        self.geometry = RobotGeometry.from_model(self.model)
        self.odom_frame = self.node_params.frame_prefix + self.model.config.frames["odom"]
        self.planner = GaitPlanner(self.gait_params, self.geometry, self.odom_frame)

        self.pub_reference = self.create_publisher(GaitReference, "gait/reference", REFERENCE_QOS)
        self.pub_footsteps = self.create_publisher(FootstepPlan, "gait/footsteps", LATCHED_QOS)
        self.pub_markers = self.create_publisher(MarkerArray, "~/markers", LATCHED_QOS)
        self.pub_diagnostics = self.create_publisher(DiagnosticArray, "diagnostics", INPUT_QOS)
        self.create_subscription(Twist, "cmd_vel", self.on_cmd_vel, INPUT_QOS)
        self.create_subscription(Bool, "supervisor/pause", self.on_pause, MAP_QOS)
        self.create_subscription(Odometry, "odom", self.on_odometry, INPUT_QOS)
        self.create_subscription(JointState, "joint_states", self.on_joint_states, INPUT_QOS)
        self.create_subscription(SafetyState, "safety/state", self.on_safety_state, LATCHED_QOS)
        self._safety: tuple[float, float, str] | None = None
        """(received [s, node clock], speed scale, zone name) of the newest safety/state."""
        self._grids: dict[str, tuple[tuple[float, float], float, np.ndarray, float]] = {}
        """Grids received and converted, not yet handed to the planner."""
        for topic in GRID_TOPICS:
            self.create_subscription(OccupancyGrid, topic, lambda msg, name=topic: self.on_grid(name, msg),
                                     MAP_QOS if topic == "map" else GRID_QOS)
        self._action_group = ReentrantCallbackGroup()
        self.walk_to = ActionServer(self, WalkTo, "walk_to", execute_callback=self.execute_walk_to,
                                    goal_callback=self.on_goal_request, cancel_callback=self.on_cancel_request,
                                    callback_group=self._action_group)
        self.create_timer(1.0 / self.node_params.update_rate, self.on_timer)

        self._odometry: tuple[float, np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
        self._joints: tuple[float, dict[str, float], dict[str, float]] | None = None
        self._odometry_msg: Odometry | None = None
        self._joints_msg: JointState | None = None
        """The newest messages not yet converted (converted at the planner's tick)."""
        self._last_now = -math.inf
        self._next_markers = -math.inf
        self._next_diagnostics = -math.inf
        self._last_output: PlannerOutput | None = None
        self._published_empty = False
        self._warnings: deque[str] = deque(maxlen=5)
        self._errors: deque[str] = deque(maxlen=5)
        self._update_times: deque[float] = deque(maxlen=500)
        self._counts = {"updates": 0, "feedback_adjustments": 0, "early_steps": 0, "reanchors": 0,
                        "commands_rejected": 0, "goals_rejected": 0, "grids_received": 0, "grid_changes": 0,
                        "replans": 0}
        self._grid_times: deque[float] = deque(maxlen=100)
        """[s] wall time of handing a changed grid to the planner."""
        self._goal_handle = None
        self._goal_future: Future | None = None
        self._last_log: dict[str, float] = {}
        self.get_logger().info(
            f"gait planning for '{self.node_params.robot}': {self.gait_params.step_duration:.2f} s steps, CoM at "
            f"{self.planner.params.com_height:.2f} m, up to {self.planner.params.max_forward_speed:.2f} m/s, "
            f"replanning at {self.node_params.update_rate:.0f} Hz")

    # ------------------------------------------------------------------------------------------------ inputs
    def _now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def _warn(self, kind: str, message: str) -> None:
        """Log a warning at most every WARN_PERIOD per kind (wall time), and keep it for diagnostics."""
        self._warnings.append(message)
        wall = timing.monotonic()
        if wall - self._last_log.get(kind, -math.inf) >= WARN_PERIOD:
            self._last_log[kind] = wall
            self.get_logger().warning(message)

    def on_cmd_vel(self, msg: Twist) -> None:
        linear, angular = conv.twist_components(msg)
        warnings = self.planner.set_velocity_command(self._now(), linear, angular)
        for warning in warnings:
            if "rejected" in warning:
                self._counts["commands_rejected"] += 1
            self._warn("cmd_vel", warning)

    def on_safety_state(self, msg: SafetyState) -> None:
        scale, zone = conv.safety_scale(msg)
        self._safety = (self._now(), scale, zone)

    def _safety_scale(self, now: float) -> float:
        """The speed scale to walk at now (see `safety/state` in the class docstring)."""
        if self._safety is None:
            if self.node_params.safety_required:
                self._warn("safety", "no safety/state yet: standing")
                return 0.0
            return 1.0
        received, scale, _ = self._safety
        if now - received > self.node_params.safety_timeout:
            self._warn("safety", f"safety/state is stale ({now - received:.2f} s old): stopping")
            return 0.0
        return scale

    def on_pause(self, msg: Bool) -> None:
        """supervisor/pause: true stands the robot (cmd_vel and walk_to wait), false resumes."""
        if bool(msg.data) != self.planner.paused:
            self._warn("pause", "walking paused by the supervisor" if msg.data else "walking resumed")
        self.planner.set_paused(bool(msg.data), self._now())

    def on_odometry(self, msg: Odometry) -> None:
        self._odometry_msg = msg  # converted when the planner ticks: state may come far faster than it plans

    def on_joint_states(self, msg: JointState) -> None:
        self._joints_msg = msg

    def on_grid(self, name: str, msg: OccupancyGrid) -> None:
        """Convert and keep an occupancy grid (handed to the planner at the next tick)."""
        try:
            self._grids[name] = conv.occupancy_grid_arrays(msg, self.odom_frame)
            self._counts["grids_received"] += 1
        except ValueError as error:
            self._errors.append(f"{name}: {error}")
            self._warn(name, f"{name} ignored: {error}")

    def _feed_grids(self, now: float) -> None:
        """Hand the grids received since the last tick to the planner; drop a stale perception grid."""
        grids, self._grids = self._grids, {}
        for name, (origin, resolution, data, stamp) in grids.items():
            start = timing.perf_counter()
            try:
                if self.planner.set_grid(name, origin, resolution, data, stamp):
                    self._counts["grid_changes"] += 1
            except GaitError as error:
                self._errors.append(f"{name}: {error}")
                self._warn(name, f"{name} ignored: {error}")
            self._grid_times.append(timing.perf_counter() - start)
        if self.planner.drop_stale_grid("perception/obstacles", now):
            self._warn("perception/obstacles", "perception/obstacles is stale: walk_to plans on the map alone")

    def _convert_state(self) -> None:
        """The newest odom and joint_states messages into arrays (once each)."""
        if self._odometry_msg is not None:
            self._odometry, self._odometry_msg = conv.odometry_arrays(self._odometry_msg), None
        if self._joints_msg is not None:
            msg, self._joints_msg = self._joints_msg, None
            try:
                positions, velocities = conv.joint_maps(msg)
            except ValueError as error:
                self._errors.append(f"joint_states: {error}")
                self._warn("joint_states", f"joint_states ignored: {error}")
                return
            self._joints = (header_seconds(msg), positions, velocities)

    def _measured(self, now: float) -> MeasuredState | None:
        """The measured state from the newest odom and joint_states, if both are fresh and finite."""
        self._convert_state()
        if self._odometry is None or self._joints is None:
            return None
        stamp, position, orientation, linear, angular = self._odometry
        if now - stamp > self.node_params.state_timeout or now - self._joints[0] > self.node_params.state_timeout:
            self._warn("state", f"odom or joint_states older than {self.node_params.state_timeout} s: planning "
                                "without feedback")
            return None
        values = np.concatenate([position, orientation, linear, angular])
        if not np.all(np.isfinite(values)) or abs(float(np.linalg.norm(orientation)) - 1.0) > 1e-3:
            self._warn("odom", "odom with non-finite values or a non-unit quaternion ignored")
            return None
        _, positions, velocities = self._joints
        state = measured_state(self.model, stamp, position, orientation, linear, angular, positions, velocities)
        if not (np.all(np.isfinite(state.com_position)) and np.all(np.isfinite(state.com_velocity))):
            self._warn("joint_states", "joint_states with non-finite values ignored")
            return None
        return state

    # ------------------------------------------------------------------------------------------------ walk_to
    def on_goal_request(self, goal: WalkTo.Goal) -> GoalResponse:
        """Accept a goal only if it can be reached (the reason of a rejection goes to the log and diagnostics)."""
        target = goal.target
        position, orientation = pose_arrays(target.pose)
        try:
            self.planner.check_goal(self._now(), target.header.frame_id, position, orientation)
        except NavigationError as error:
            # Accepted, to abort at once with the reason in the result's message (a rejection carries none).
            self._counts["goals_rejected"] += 1
            self._errors.append(f"walk_to aborted: {error}")
            self.get_logger().warning(f"walk_to goal cannot be reached: {error}")
            return GoalResponse.ACCEPT
        except GaitError as error:
            self._counts["goals_rejected"] += 1
            self._errors.append(f"walk_to rejected: {error}")
            self.get_logger().warning(f"walk_to goal rejected: {error}")
            return GoalResponse.REJECT
        return GoalResponse.ACCEPT

    def on_cancel_request(self, goal_handle) -> CancelResponse:
        return CancelResponse.ACCEPT

    async def execute_walk_to(self, goal_handle) -> WalkTo.Result:
        """Hand the goal to the planner; the timer reports feedback and completes the returned future."""
        target = goal_handle.request.target
        result = WalkTo.Result()
        try:
            self.planner.set_goal(self._now(), target.header.frame_id, *pose_arrays(target.pose))
        except GaitError as error:
            goal_handle.abort()
            result.success, result.message = False, str(error)
            return result
        if self._goal_handle is not None and self._goal_future is not None and not self._goal_future.done():
            self._goal_future.set_result(("aborted", "preempted by a new goal"))
        self._goal_handle = goal_handle
        future = Future()
        self._goal_future = future
        outcome, message = await future
        progress = self.planner.progress
        result.message = message
        result.success = outcome == "succeeded"
        if progress is not None and progress.final_pose is not None:
            x, y, yaw = progress.final_pose
            result.final_pose = pose_msg((x, y, self.planner.floor_height), quaternion_from_yaw(yaw))
        if outcome == "succeeded":
            goal_handle.succeed()
        elif outcome == "canceled":
            goal_handle.canceled()
        else:
            goal_handle.abort()
        return result

    def _goal_tick(self) -> None:
        """Feedback of the active goal; complete it when the planner is done with it."""
        handle, future = self._goal_handle, self._goal_future
        if handle is None or future is None or future.done():
            return
        progress = self.planner.progress
        if handle.is_cancel_requested and progress is not None and progress.status == GoalStatus.ACTIVE:
            self.planner.cancel_goal()
        if progress is None:
            return
        feedback = WalkTo.Feedback()
        feedback.distance_remaining = float(progress.distance_remaining) if math.isfinite(
            progress.distance_remaining) else -1.0
        feedback.angle_remaining = float(progress.angle_remaining)
        feedback.steps_taken = int(progress.steps_taken)
        handle.publish_feedback(feedback)
        if progress.done:
            future.set_result((progress.status.value, progress.message))

    # ------------------------------------------------------------------------------------------------ the cycle
    def on_timer(self) -> None:
        try:
            self._tick()
        except Exception as error:  # the callback boundary: report it; the last reference (ending standing) stays
            self._errors.append(f"{type(error).__name__}: {error}")
            self._warn("update", f"planning failed, the last reference stays: {type(error).__name__}: {error}")

    def _tick(self) -> None:
        self._convert_state()
        # The clock (200 Hz in simulation) may lag the newest state's stamp by a few milliseconds: the plan starts no
        # earlier than the state it starts from.
        now = self._now()
        stamps = [s[0] for s in (self._odometry, self._joints) if s is not None]
        if now > 0.0 and stamps and 0.0 < max(stamps) - now < 0.05:
            now = max(stamps)
        if now <= 0.0:
            return  # no clock yet (simulated time starts with the first /clock message)
        if now < self._last_now - 0.1:  # (a clock a few ms behind the state is not a jump)
            self.get_logger().warning(f"time jumped back from {self._last_now:.3f} s to {now:.3f} s: planner reset")
            self.planner.reset()
            self._last_output = None
            self._next_diagnostics = self._next_markers = -math.inf  # due again now, not when time catches up
        else:
            now = max(now, self._last_now)  # never plan backwards by the few ms the clock may lag the state
        self._last_now = now
        self._feed_grids(now)
        start = timing.perf_counter()
        self.planner.set_speed_scale(self._safety_scale(now))
        output = self.planner.update(now, self._measured(now))
        if output is None:
            self._warn("waiting", "waiting for odom and joint_states")
            return
        self._update_times.append(timing.perf_counter() - start)
        self._counts["updates"] += 1
        self._last_output = output
        for warning in output.warnings:
            self._warn("planner", warning)
        for event in output.events:
            if event.startswith("capture-point"):
                self._counts["feedback_adjustments"] += 1
            elif event.startswith("stepping sooner"):
                self._counts["early_steps"] += 1
            elif event.startswith("re-anchored"):
                self._counts["reanchors"] += 1
            else:
                if event.startswith("walk_to replanned"):
                    self._counts["replans"] += 1
                self.get_logger().info(event)
        self._publish(now, output)
        self._goal_tick()
        if now >= self._next_diagnostics:
            self._next_diagnostics = now + 1.0 / self.node_params.diagnostics_rate
            self._publish_diagnostics(now, output)

    def _publish(self, now: float, output: PlannerOutput) -> None:
        if output.samples is None:
            if not self._published_empty:  # fallen: no reference, the controller balances or damps on its own
                empty = GaitReference()
                empty.header.stamp = to_stamp(now)
                empty.header.frame_id = self.odom_frame
                self.pub_reference.publish(empty)
                self._published_empty = True
            return
        self._published_empty = False
        if not output.active:
            return  # idle: the controller balances on its own (it holds the last, standing, reference)
        self.pub_reference.publish(conv.gait_reference_msg(output.samples, now, self.odom_frame))
        self.pub_footsteps.publish(conv.footstep_plan_msg(output.footsteps, now, self.odom_frame))
        if self.node_params.marker_rate > 0.0 and now >= self._next_markers \
                and self.pub_markers.get_subscription_count() > 0:  # nobody looking: no cost
            self._next_markers = now + 1.0 / self.node_params.marker_rate
            route = self.planner.route
            self.pub_markers.publish(conv.markers_msg(
                output.footsteps, output.soles, output.samples, now, self.odom_frame, self.geometry.sole_length,
                self.geometry.sole_width, float(output.plan.floor_height) if output.plan is not None else 0.0,
                path=route.points if route is not None else None))

    def _publish_diagnostics(self, now: float, output: PlannerOutput) -> None:
        times = np.array(self._update_times) if self._update_times else np.zeros(1)
        command = self.planner.command
        progress = self.planner.progress
        level = DiagnosticStatus.OK
        message = output.phase.value
        if output.phase == GaitPhase.FALLEN:
            level, message = DiagnosticStatus.ERROR, "fallen: no plan until the robot stands again"
        elif self._errors or self._warnings:
            level = DiagnosticStatus.WARN
            message = (self._errors or self._warnings)[-1]
        values = {
            "phase": output.phase.value,
            "paused": self.planner.paused,
            "command_age": float(now - command.time) if command is not None else -1.0,
            "command": " ".join(f"{v:.3f}" for v in command.velocity) if command is not None else "none",
            "dcm_error": float(output.dcm_error),
            "speed_scale": float(self.planner.speed_scale),
            "safety_zone": self._safety[2] if self._safety is not None else "none",
            "footsteps_planned": len(output.footsteps),
            "reference_samples": len(output.samples) if output.samples is not None else 0,
            "update_time_median": float(np.median(times)),
            "update_time_max": float(np.max(times)),
            **self._counts,
            "goal": progress.status.value if progress is not None else "none",
            "goal_distance_remaining": float(progress.distance_remaining) if progress is not None else -1.0,
            "grids": " ".join(sorted(self.planner.navigator.layers)) or "none",
            "grid_update_time_max": float(max(self._grid_times, default=0.0)),
            "path_length": float(self.planner.route.length) if self.planner.route is not None else -1.0,
            "last_warning": self._warnings[-1] if self._warnings else "",
            "last_error": self._errors[-1] if self._errors else "",
        }
        self.pub_diagnostics.publish(diagnostics_msg(now, "gait_planner", level, message, values,
                                                     hardware_id=self.node_params.robot))
        self._warnings.clear()
        self._errors.clear()


def main(args: list[str] | None = None) -> int:
    return run_node("gait_planner", GaitPlannerNode, args, fatal=(ParameterError, GaitError))


if __name__ == "__main__":
    sys.exit(main())
