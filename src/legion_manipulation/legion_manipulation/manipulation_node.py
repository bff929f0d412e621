"""`manipulation`: the ROS 2 adapter of `legion_manipulation.tasks.Manipulator` (pick and place).

A thin node, driven by its data: each `joint_states` message (the estimator's decimated one, 50 Hz, remapped by the
launch) with the newest `odom` and `perception/objects` makes one tick of the manipulator, whose gripper targets,
hand commands and payloads go to the whole-body controller. No clock, no timer: in lockstep or real time the tick
follows the robot's state.

Action servers (one goal at a time; a second is rejected with BUSY in its result):
    `pick` (legion_interfaces/Pick): a part of `perception/objects` by id or label, optionally a hand.
    `place` (legion_interfaces/Place): a part-centre pose in odom, or a container perception reports.
Every frame is this robot's: with `frame_prefix` (a multi-robot scene, e.g. `robot_1/`) `robot_1/odom` and
`robot_1/base_footprint`; `perception/objects` and `perception/obstacles` in another frame are ignored.
Action client: `walk_to` (legion_interfaces/WalkTo) when a part or a target is out of reach.

Subscribes: `joint_states`, `odom` (remapped to the decimated streams), `perception/objects`, `perception/obstacles`
(standing poses keep clear of its occupied cells), `supervisor/pause` (Bool, transient-local: while true a running
task is held where it is and resumes from there), `emergency_stop`
(std_msgs/Bool, latched), `diagnostics` (the whole-body controller's `fallen` state stops a task), `safety/state`
(legion_interfaces/SafetyState, transient-local: gripper paths run at its `speed_scale`; a protective or emergency
stop, or a state older than `safety_timeout` by the joint states' stamps, holds them where they are, the hands keep
what they hold).
Publishes: `<side>_hand/target` (geometry_msgs/PoseStamped in odom, or in base_footprint while a part is carried;
an empty frame_id releases the hand task),
`<side>_hand/command` (legion_interfaces/HandCommand), `<side>_hand/payload` (std_msgs/Float64, kg), `diagnostics`,
`manipulation/markers` (`~/markers`, visualization_msgs/MarkerArray, transient-local: the hand targets, namespaces
`hand_targets` and `labels`, at `marker_rate` of state stamps, only while subscribed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pinocchio as pin
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from geometry_msgs.msg import PoseStamped
from nav_msgs.msg import OccupancyGrid, Odometry
from rclpy.action import ActionClient, ActionServer, CancelResponse, GoalResponse
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from rclpy.task import Future
from sensor_msgs.msg import JointState
from std_msgs.msg import Bool, Float64
from visualization_msgs.msg import MarkerArray

from legion_common.decimation import Decimator
from legion_common.diagnostics import diagnostics_msg
from legion_common.frames import frame_error, frame_prefix_param
from legion_common.messages import pose_arrays, xyzw
from legion_common.node import LegionNode
from legion_common.node_main import run_node
from legion_common.parameters import declare_parameters, param, require
from legion_common.stamps import header_seconds, to_stamp
from legion_common.transforms import (
    matrix_to_quaternion,
    quaternion_from_yaw,
    quaternion_to_matrix,
    yaw_from_quaternion,
)
from legion_control.conversions import BASE_FOOTPRINT
from legion_interfaces.action import Pick, Place, WalkTo
from legion_interfaces.msg import DetectedObjectArray, HandCommand, SafetyState
from legion_manipulation import conversions as conv
from legion_manipulation.tasks import (
    Code,
    Inputs,
    ManipulationParameters,
    Manipulator,
    Outputs,
    PerceivedObject,
    TaskError,
    TaskResult,
    planning_parameters,
)
from legion_model import RobotModel

INPUT_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=10, reliability=ReliabilityPolicy.RELIABLE)
OCCUPIED = 50
"""Occupancy (0..100) from which a cell of `perception/obstacles` is an obstacle."""
LATCHED_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1, reliability=ReliabilityPolicy.RELIABLE,
                         durability=DurabilityPolicy.TRANSIENT_LOCAL)


@dataclass(frozen=True)
class NodeParameters:
    """The node's own parameters (the manipulator's are those of `ManipulationParameters`, same names)."""

    robot: str = param("centurion", "Robot name or robot file: hands, synergies, kinematics.")
    frame_prefix: str = frame_prefix_param()
    diagnostics_period: float = param(1.0, "Time between diagnostics, of state stamps.", unit="s", low=0.1,
                                      high=60.0)
    state_timeout: float = param(0.5, "odom older than the joint state by more than this is not used.", unit="s",
                                 low=0.01, high=10.0)
    marker_rate: float = param(5.0, "Rate of `manipulation/markers` (hand targets), of state stamps, published only "
                               "while subscribed; 0 disables them.", unit="Hz", low=0.0, high=50.0)
    safety_required: bool = param(False, "Move the arms only while safety/state is fresh: before the first one, "
                                         "and when it is older than safety_timeout, hold. False: without any "
                                         "safety/state the arms move at full speed (a stale one still holds them).")
    safety_timeout: float = param(0.5, "A safety/state older than this (by the joint states' stamps) holds the arms.",
                                  unit="s", low=0.05, high=10.0)

    def validated(self) -> NodeParameters:
        require(bool(self.robot), "robot must not be empty")
        return self


class ManipulationNode(LegionNode):
    def __init__(self, **kwargs) -> None:
        super().__init__("manipulation", **kwargs)
        self.node_params = declare_parameters(self, NodeParameters)
        params = declare_parameters(self, ManipulationParameters)
        self.robot = RobotModel.load(self.node_params.robot, lock_hands=True)
        config = self.robot.config
        self.config = config
        full = self.robot.full_model
        limits = {}
        for side, hand in config.hands.items():
            index = [full.joints[full.getJointId(name)].idx_q for name in hand.joints]
            limits[side] = (full.lowerPositionLimit[index].copy(), full.upperPositionLimit[index].copy())
        self.manipulator = Manipulator(self.robot, {side: hand.synergies for side, hand in config.hands.items()},
                                       limits, params, planning_parameters(config))
        self.sides = self.manipulator.sides
        self.odom_frame = self.node_params.frame_prefix + config.frames["odom"]
        self.footprint_frame = self.node_params.frame_prefix + BASE_FOOTPRINT

        self.pub_target = {s: self.create_publisher(PoseStamped, f"{s}_hand/target", INPUT_QOS) for s in self.sides}
        self.pub_command = {s: self.create_publisher(HandCommand, f"{s}_hand/command", INPUT_QOS) for s in self.sides}
        self.pub_payload = {s: self.create_publisher(Float64, f"{s}_hand/payload", INPUT_QOS) for s in self.sides}
        self.pub_diagnostics = self.create_publisher(DiagnosticArray, "diagnostics", INPUT_QOS)
        self.pub_markers = self.create_publisher(MarkerArray, "~/markers", LATCHED_QOS)
        self.hand_targets: dict[str, tuple[pin.SE3, str]] = {}
        """Side -> the gripper target streamed last and its frame (for the markers); released sides left out."""
        self._markers_due = Decimator(self.node_params.marker_rate)
        self.create_subscription(JointState, "joint_states", self.on_joint_states, INPUT_QOS)
        self.create_subscription(Odometry, "odom", self.on_odometry, INPUT_QOS)
        self.create_subscription(DetectedObjectArray, "perception/objects", self.on_objects, INPUT_QOS)
        self.create_subscription(OccupancyGrid, "perception/obstacles", self.on_obstacles, INPUT_QOS)
        self.create_subscription(Bool, "emergency_stop", self.on_emergency_stop, LATCHED_QOS)
        self.create_subscription(Bool, "supervisor/pause", self.on_pause, LATCHED_QOS)
        self.create_subscription(DiagnosticArray, "diagnostics", self.on_diagnostics, INPUT_QOS)
        self.create_subscription(SafetyState, "safety/state", self.on_safety_state, LATCHED_QOS)
        self._safety: tuple[float, float] | None = None
        """(stamp [s], speed scale) of the newest safety/state."""
        group = ReentrantCallbackGroup()
        self.pick_server = ActionServer(self, Pick, "pick", execute_callback=self.execute_pick,
                                        goal_callback=lambda _goal: GoalResponse.ACCEPT,
                                        cancel_callback=lambda _goal: CancelResponse.ACCEPT, callback_group=group)
        self.place_server = ActionServer(self, Place, "place", execute_callback=self.execute_place,
                                         goal_callback=lambda _goal: GoalResponse.ACCEPT,
                                         cancel_callback=lambda _goal: CancelResponse.ACCEPT, callback_group=group)
        self.walk_client = ActionClient(self, WalkTo, "walk_to", callback_group=group)

        self._odometry: tuple[float, np.ndarray] | None = None
        self._objects: dict[str, PerceivedObject] = {}
        self._objects_time = -math.inf
        self._estop = False
        self._fallen = False
        self._paused = False
        self._pause_start: float | None = None
        """[s] state stamp at which the running task was held (supervisor/pause), None while not held."""
        self._time_offset = 0.0
        """[s] total time the tasks were held: subtracted from the state's stamp, so a held task resumes where it
        stopped instead of jumping along its path."""
        self._hand_index: dict[str, np.ndarray] | None = None
        self._goal = None
        self._goal_kind = ""
        self._future: Future | None = None
        self._walk_goal = None
        self._latest_joints: JointState | None = None
        self._next_diagnostics = -math.inf
        self._counts = {"picks": 0, "places": 0, "succeeded": 0, "failed": 0, "rejected": 0}
        self._last_message = ""
        self.get_logger().info(f"manipulation for '{config.name}': hands {list(self.sides)}")

    # ------------------------------------------------------------------------------------------------ inputs
    def on_odometry(self, msg: Odometry) -> None:
        pose = msg.pose.pose
        vector = np.array([pose.position.x, pose.position.y, pose.position.z, *xyzw(pose.orientation)])
        if np.isfinite(vector).all():
            self._odometry = (header_seconds(msg), vector)

    def _in_odom(self, msg, what: str) -> bool:
        """Whether `msg` is in this robot's odom (or says no frame); otherwise it is logged and left out."""
        error = frame_error(msg.header.frame_id, self.odom_frame, what)
        if error is not None:
            self._last_message = f"{error}: ignored"
            self.get_logger().warning(self._last_message, throttle_duration_sec=5.0)
        return error is None

    def on_objects(self, msg: DetectedObjectArray) -> None:
        if not self._in_odom(msg, "perception/objects"):
            return
        objects = {}
        for obj in msg.objects:
            position, orientation = pose_arrays(obj.pose)
            yaw = yaw_from_quaternion(orientation)
            objects[obj.id] = PerceivedObject(obj.id, obj.label, position, yaw,
                                              np.array([obj.size.x, obj.size.y, obj.size.z]))
        self._objects = objects
        self._objects_time = header_seconds(msg)

    def on_obstacles(self, msg: OccupancyGrid) -> None:
        info = msg.info
        if not self._in_odom(msg, "perception/obstacles"):
            return
        if info.width == 0 or info.height == 0 or len(msg.data) != info.width * info.height:
            return
        origin = info.origin.position
        if abs(info.origin.orientation.z) > 1e-6 or not math.isfinite(info.resolution) or info.resolution <= 0.0:
            return  # a rotated or malformed grid: standing poses keep being chosen without it
        occupied = np.asarray(msg.data, dtype=np.int16).reshape(info.height, info.width) >= OCCUPIED
        self.manipulator.obstacles = (occupied, np.array([origin.x, origin.y]), float(info.resolution))

    def on_safety_state(self, msg: SafetyState) -> None:
        self._safety = (header_seconds(msg), safety_scale(msg))

    def _safety_scale(self, time: float) -> float:
        """The arm speed scale at joint-state `time` [s] (see `safety/state` in the module docstring)."""
        if self._safety is None:
            return 0.0 if self.node_params.safety_required else 1.0
        stamp, scale = self._safety
        return scale if time - stamp <= self.node_params.safety_timeout else 0.0

    def on_emergency_stop(self, msg: Bool) -> None:
        self._estop = bool(msg.data)

    def on_pause(self, msg: Bool) -> None:
        """supervisor/pause: true holds the running task (no new hand targets: the controller holds the last)."""
        self._paused = bool(msg.data)

    def on_diagnostics(self, msg: DiagnosticArray) -> None:
        for status in msg.status:
            if status.name.startswith("whole_body_controller"):
                values = {kv.key: kv.value for kv in status.values}
                self._fallen = values.get("state") == "fallen"

    def on_joint_states(self, msg: JointState) -> None:
        try:
            self._tick(msg)
        except Exception as error:  # the callback boundary: report it and end the running goal
            self._last_message = f"{type(error).__name__}: {error}"
            self.get_logger().error(f"manipulation tick failed: {self._last_message}")
            if self._future is not None and not self._future.done():
                self._future.set_result(TaskResult(Code.STOPPED, f"internal error: {error}"))
                self.manipulator._task = None

    def _inputs(self, msg: JointState) -> Inputs | None:
        if self._odometry is None:
            return None
        time = header_seconds(msg)
        odom_time, base = self._odometry
        if abs(time - odom_time) > self.node_params.state_timeout:
            return None
        time -= self._time_offset
        positions = dict(zip(msg.name, msg.position, strict=False))
        velocities = dict(zip(msg.name, msg.velocity, strict=False)) if len(msg.velocity) == len(msg.name) else {}
        q = self.robot.q_from_joint_positions(base, {n: v for n, v in positions.items() if n in self.robot.q_index},
                                              reference=self.robot.standing_configuration())
        hand_positions = {side: np.array([positions.get(n, 0.0) for n in self.config.hands[side].joints])
                          for side in self.sides}
        hand_velocities = {side: np.array([velocities.get(n, 0.0) for n in self.config.hands[side].joints])
                           for side in self.sides}
        efforts = dict(zip(msg.name, msg.effort, strict=False)) if len(msg.effort) == len(msg.name) else {}
        hand_efforts = {side: np.array([efforts.get(n, 0.0) for n in self.config.hands[side].joints])
                        for side in self.sides}
        return Inputs(time, q, hand_positions, hand_velocities, hand_efforts, self._objects, self._objects_time,
                      self._estop or self._fallen, self._safety_scale(time))

    @property
    def _active(self) -> bool:
        """Something to do at every tick: a task, a hand that holds a part, carries or retreats."""
        m = self.manipulator
        return m.busy or bool(m.held) or bool(m.carry) or bool(m.retreats)

    def _tick(self, msg: JointState) -> None:
        self._latest_joints = msg
        time = header_seconds(msg)
        if time < self._next_diagnostics - 2 * self.node_params.diagnostics_period:  # time went back (a restart)
            self._next_diagnostics = -math.inf
        if not self._active:  # idle: the state is converted when a goal comes (`_current_inputs`)
            self.manipulator.path_clock.advance(time, self._safety_scale(time))  # no backlog for the next task
            if time >= self._next_diagnostics:
                inputs = self._inputs(msg)
                if inputs is not None:
                    self._next_diagnostics = time + self.node_params.diagnostics_period
                    self._diagnostics(inputs, Outputs())
            return
        if self._paused:  # held: the task resumes from here when the pause ends
            if self._pause_start is None:
                self._pause_start = time
                self.get_logger().warning("manipulation paused by the supervisor")
            if time >= self._next_diagnostics and (inputs := self._inputs(msg)) is not None:
                self._next_diagnostics = time + self.node_params.diagnostics_period
                self._diagnostics(inputs, Outputs(phase="paused"))
            return
        if self._pause_start is not None:
            self._time_offset += max(time - self._pause_start, 0.0)
            self._pause_start = None
            self.get_logger().info("manipulation resumed")
        inputs = self._inputs(msg)
        if inputs is None:
            return
        if self._goal is not None and self._goal.is_cancel_requested and self._future and not self._future.done():
            result = self.manipulator.cancel(inputs)
            self._stop_walking()
            self._future.set_result(result or TaskResult(Code.CANCELLED, "cancelled"))
        dropped = len(self.manipulator.dropped)
        out = self.manipulator.step(inputs)
        for _, side, object_id in self.manipulator.dropped[dropped:]:
            self._last_message = f"'{object_id}' left the {side} hand while it was carried"
            self.get_logger().warning(self._last_message)
        self._send(inputs, out)
        if out.walk_to is not None:
            self._walk(out.walk_to)
        if self._goal is not None and out.phase:
            self._feedback(out)
        if out.result is not None:
            self._stop_walking()
            if self._future is not None and not self._future.done():
                self._future.set_result(out.result)
        if time >= self._next_diagnostics:
            self._next_diagnostics = time + self.node_params.diagnostics_period
            self._diagnostics(inputs, out)

    def _send(self, inputs: Inputs, out: Outputs) -> None:
        stamp = to_stamp(inputs.time)
        targets = [(side, pose, self.odom_frame) for side, pose in out.targets.items()]
        targets += [(side, pose, self.footprint_frame) for side, pose in out.carried.items()]
        for side, pose, frame in targets:
            if pose is None:
                self.hand_targets.pop(side, None)
            else:
                self.hand_targets[side] = (pose, frame)
            msg = PoseStamped()
            msg.header.stamp = stamp
            if pose is not None:
                msg.header.frame_id = frame
                p, q = pose.translation, matrix_to_quaternion(pose.rotation)
                msg.pose.position.x, msg.pose.position.y, msg.pose.position.z = (float(v) for v in p)
                (msg.pose.orientation.x, msg.pose.orientation.y, msg.pose.orientation.z,
                 msg.pose.orientation.w) = (float(v) for v in q)
            self.pub_target[side].publish(msg)
        for side, (mode, closure) in out.commands.items():
            command = HandCommand()
            command.header.stamp = stamp
            command.mode, command.closure = int(mode), float(closure)
            self.pub_command[side].publish(command)
        for side, mass in out.payloads.items():
            self.pub_payload[side].publish(Float64(data=float(mass)))
        if self._markers_due.due(inputs.time) and self.pub_markers.get_subscription_count() > 0:
            self.pub_markers.publish(conv.hand_target_markers_msg(self.hand_targets, stamp, self.odom_frame))

    def _feedback(self, out: Outputs) -> None:
        feedback = (Pick if self._goal_kind == "pick" else Place).Feedback()
        feedback.phase, feedback.side = out.phase, out.side
        feedback.distance_remaining = float(out.distance_remaining)
        self._goal.publish_feedback(feedback)

    # ------------------------------------------------------------------------------------------------ walking
    def _walk(self, pose: tuple[float, float, float]) -> None:
        self.get_logger().info(f"walking to ({pose[0]:.2f}, {pose[1]:.2f}, {math.degrees(pose[2]):.0f} deg) to reach")
        if not self.walk_client.server_is_ready():
            self.manipulator.walk_finished(False, "walk_to is not available")
            return
        goal = WalkTo.Goal()
        goal.target.header.frame_id = self.odom_frame
        goal.target.pose.position.x, goal.target.pose.position.y = float(pose[0]), float(pose[1])
        q = quaternion_from_yaw(pose[2])
        (goal.target.pose.orientation.x, goal.target.pose.orientation.y, goal.target.pose.orientation.z,
         goal.target.pose.orientation.w) = (float(v) for v in q)
        sent = self.walk_client.send_goal_async(goal)

        def accepted(future: Future) -> None:
            handle = future.result()
            if handle is None or not handle.accepted:
                self.manipulator.walk_finished(False, "walk_to rejected the goal")
                return
            self._walk_goal = handle

            def finished(done: Future) -> None:
                self._walk_goal = None
                self.manipulator.walk_finished(bool(done.result().result.success), done.result().result.message)

            handle.get_result_async().add_done_callback(finished)

        sent.add_done_callback(accepted)

    def _stop_walking(self) -> None:
        """Cancel the walk a task asked for, if it is still going (the task ended: cancelled, stopped, failed)."""
        handle, self._walk_goal = self._walk_goal, None
        if handle is not None:
            handle.cancel_goal_async()

    # ------------------------------------------------------------------------------------------------ actions
    async def execute_pick(self, goal_handle) -> Pick.Result:
        request = goal_handle.request
        self._counts["picks"] += 1
        result = await self._run(goal_handle, "pick", lambda inputs: self.manipulator.start_pick(
            inputs, request.object_id, request.label, request.side))
        return self._finish(goal_handle, Pick.Result(), result)

    async def execute_place(self, goal_handle) -> Place.Result:
        request = goal_handle.request
        self._counts["places"] += 1

        def start(inputs: Inputs) -> None:
            target = None
            if request.target.header.frame_id:
                error = frame_error(request.target.header.frame_id, self.odom_frame, "place target")
                if error is not None:
                    raise TaskError(Code.INVALID, error)
                position, orientation = pose_arrays(request.target.pose)
                if not (np.isfinite(position).all() and np.isfinite(orientation).all()):
                    raise TaskError(Code.INVALID, "the target pose is not finite")
                norm = float(np.linalg.norm(orientation))
                rotation = quaternion_to_matrix(orientation / norm) if norm > 1e-6 else np.eye(3)
                target = pin.SE3(rotation, position)
            self.manipulator.start_place(inputs, target, request.container, request.side)

        result = await self._run(goal_handle, "place", start)
        message = self._finish(goal_handle, Place.Result(), result)
        message.verified = bool(result.verified)
        return message

    async def _run(self, goal_handle, kind: str, start) -> TaskResult:
        try:
            inputs = self._inputs(self._latest_joints) if self._latest_joints is not None else None
        except Exception as error:  # a joint state the model cannot take: reported, the node goes on
            return TaskResult(Code.STOPPED, f"the robot state cannot be used: {error}")
        if inputs is None:
            return TaskResult(Code.NOT_FOUND, "no robot state yet (odom and joint_states)")
        if self._future is not None and not self._future.done():
            self._counts["rejected"] += 1
            return TaskResult(Code.BUSY, "another manipulation goal is running")
        try:
            start(inputs)
        except TaskError as error:
            self._counts["rejected"] += 1
            return TaskResult(error.code, str(error), standing_pose=error.standing_pose)
        except Exception as error:  # a fault in planning (a broken model, a solver): the goal ends, the node goes on
            self._counts["rejected"] += 1
            self.get_logger().error(f"{kind} could not start: {type(error).__name__}: {error}")
            return TaskResult(Code.STOPPED, f"internal error while planning: {error}")
        self._goal, self._goal_kind = goal_handle, kind
        self._future = Future()
        try:
            return await self._future
        finally:
            self._goal, self._goal_kind = None, ""

    def _finish(self, goal_handle, message, result: TaskResult):
        message.success, message.code, message.message = result.success, int(result.code), result.message
        message.side, message.object_id = result.side, result.object_id
        message.left_holds, message.right_holds = self.manipulator.holds("left"), self.manipulator.holds("right")
        if result.standing_pose is not None:
            x, y, yaw = result.standing_pose
            standing = message.standing_pose
            standing.header.frame_id = self.odom_frame
            standing.pose.position.x, standing.pose.position.y = float(x), float(y)
            q = quaternion_from_yaw(yaw)
            standing.pose.orientation.z, standing.pose.orientation.w = float(q[2]), float(q[3])
        self._counts["succeeded" if result.success else "failed"] += 1
        self._last_message = result.message
        line = f"{self._goal_kind or 'goal'}: {result.code.name}: {result.message}"
        if result.success:
            self.get_logger().info(line)
        else:
            self.get_logger().warning(line)
        if result.success:
            goal_handle.succeed()
        elif result.code == Code.CANCELLED and goal_handle.is_cancel_requested:
            goal_handle.canceled()
        else:
            goal_handle.abort()
        return message

    # ------------------------------------------------------------------------------------------------ diagnostics
    def _diagnostics(self, inputs: Inputs, out: Outputs) -> None:
        level = DiagnosticStatus.OK
        message = "idle" if not self.manipulator.busy else f"{self._goal_kind}: {out.phase}"
        if inputs.stopped:
            level, message = DiagnosticStatus.WARN, "stopped (e-stop or fall)"
        values = {"phase": out.phase or "idle", "left_holds": self.manipulator.holds("left"),
                  "right_holds": self.manipulator.holds("right"),
                  "perception_age": f"{inputs.time - inputs.objects_time:.2f}", "last_result": self._last_message}
        values.update({key: str(value) for key, value in self._counts.items()})
        self.pub_diagnostics.publish(diagnostics_msg(to_stamp(inputs.time), "manipulation", level, message, values,
                                                     hardware_id=self.config.name))


def safety_scale(msg: SafetyState) -> float:
    """safety/state -> arm speed scale 0..1: 0 in a protective or emergency stop, an unknown zone, a non-finite
    scale."""
    scale = float(msg.speed_scale)
    if msg.zone not in (SafetyState.CLEAR, SafetyState.WARNING) or not math.isfinite(scale):
        return 0.0
    return min(max(scale, 0.0), 1.0)


def main(args: list[str] | None = None) -> int:
    return run_node("manipulation", ManipulationNode, args)


if __name__ == "__main__":
    raise SystemExit(main())
