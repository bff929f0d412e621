"""`executive`: the ROS 2 adapter of `legion_executive.tree.SortingExecutive` (the sorting shift).

A thin node: it turns topics and actions into the client interfaces of `legion_executive.clients` and ticks the
behaviour tree on a timer (`tick_rate`, on the node's clock: simulated time in simulation). All the deciding is in
the tree; this module only converts and forwards.

Action server: `run_job` (legion_interfaces/RunJob): a shift in a cell (name or path), optionally at most
`max_parts`; one job at a time (another ends BUSY); cancellable; feedback: the status at `status_rate`. A cell file
that is missing or invalid, or whose look postures the robot file lacks, ends INVALID with the file and key.
Action clients: `walk_to` (WalkTo), `pick` (Pick), `place` (Place). Service client: `perception/clear_obstacles`
(std_srvs/Trigger; before a failed walk is retried). In a cell shared with other robots (`fleet_coordinator` set):
`<fleet_coordinator>/fleet/reserve` and `/fleet/release` (legion_fleet: a bin's station is reserved before the walk
to it, renewed while held, released back at the table and when the shift ends).

Subscribes: `perception/objects` (DetectedObjectArray: parts and `<colour>_bin` containers in odom),
`perception/people` (PoseArray in odom; forgotten after `people_timeout`), `safety/state` (SafetyState,
transient-local: a protective or emergency stop pauses the shift like a person in the zone; a state older than
`safety_timeout`, once one has come, counts as a stop), `odom` (nav_msgs/Odometry; remapped to
`odom/decimated` by the launch), `hardware/status` (DiagnosticArray: key `emergency_stop`), `diagnostics` (the
whole-body controller's `state` = `fallen`; manipulation's `left_holds` / `right_holds`).
Publishes: `executive/status` (ExecutiveStatus, `status_rate`), `posture/reference` (JointState: the robot file's
named posture of a station's `look`; no names: back to standing), `map` (OccupancyGrid of the cell's tables, bins and
keep-out areas, frame odom, reliable, transient-local; at the start of each job), `diagnostics`.
Every frame is this robot's: with `frame_prefix` (a multi-robot scene, e.g. `robot_1/`) the goals it sends, the map
and the perception it takes are in `robot_1/odom` (`perception/objects` and `perception/people` in another frame are
ignored).
Parameters: `robot`, `frame_prefix`, `tick_rate`, `status_rate`, `people_timeout`, `safety_timeout`,
`map_resolution`, `map_margin`, `fleet_coordinator`, `fleet_robot`, `fleet_lease`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import PoseArray
from nav_msgs.msg import OccupancyGrid, Odometry
from rclpy.action import ActionClient, ActionServer, CancelResponse, GoalResponse
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from rclpy.task import Future
from sensor_msgs.msg import JointState
from std_srvs.srv import Trigger

from legion_common.diagnostics import ERROR, OK, WARN, diagnostics_msg
from legion_common.frames import frame_error, frame_prefix_param
from legion_common.messages import xyzw
from legion_common.node import LegionNode
from legion_common.node_main import run_node
from legion_common.parameters import ParameterError, declare_parameters, param, require
from legion_common.stamps import header_seconds, to_stamp
from legion_common.transforms import yaw_from_quaternion
from legion_description import load_robot_config
from legion_executive import conversions as conv
from legion_executive.cell import CellConfig, CellError, load_cell
from legion_executive.cell_map import cell_map
from legion_executive.clients import Clients, Outcome, Progress, Scene
from legion_executive.fleet import FleetReservations
from legion_executive.shift import State
from legion_executive.tree import SortingExecutive
from legion_interfaces.action import Pick, Place, RunJob, WalkTo
from legion_interfaces.msg import DetectedObjectArray, ExecutiveStatus, SafetyState
from legion_interfaces.srv import Release, Reserve

INPUT_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=10, reliability=ReliabilityPolicy.RELIABLE)
LATCHED_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1, reliability=ReliabilityPolicy.RELIABLE,
                         durability=DurabilityPolicy.TRANSIENT_LOCAL)
FINAL = (State.SUCCEEDED, State.FAILED, State.CANCELLED)
RESULT_CODES = {State.SUCCEEDED: RunJob.Result.SUCCEEDED, State.FAILED: RunJob.Result.FAILED,
                State.CANCELLED: RunJob.Result.CANCELLED}


@dataclass(frozen=True)
class ExecutiveParameters:
    """The node's parameters (`/**/executive` in config/stack.yaml)."""

    robot: str = param("centurion", "Robot name or robot file: its named postures (a station's `look`).")
    frame_prefix: str = frame_prefix_param()
    tick_rate: float = param(10.0, "Behaviour tree ticks per second (node clock).", unit="Hz", low=1.0, high=100.0)
    status_rate: float = param(2.0, "executive/status, run_job feedback and diagnostics rate.", unit="Hz", low=0.1,
                               high=10.0)
    people_timeout: float = param(1.0, "A perception/people report older than this is forgotten.", unit="s",
                                  low=0.05, high=60.0)
    safety_timeout: float = param(1.0, "A safety/state older than this (once one has come) counts as a stop.",
                                  unit="s", low=0.05, high=60.0)
    map_resolution: float = param(0.05, "Cell size of the cell's map (topic map).", unit="m", low=0.01, high=1.0)
    map_margin: float = param(1.0, "Free border of the map around the cell's areas and stations.", unit="m",
                              low=0.0, high=20.0)
    fleet_coordinator: str = param("", "Namespace of the fleet coordinator's services (`/` for the root: "
                                       "/fleet/reserve, /fleet/release) in a cell shared with other robots; empty: "
                                       "the robot works alone, nothing is reserved.")
    fleet_robot: str = param("", "This robot's name at the fleet coordinator; empty: the node's namespace "
                                 "(robot_1).")
    fleet_lease: float = param(30.0, "Lease of a reservation; renewed while held, so a robot that stops ticking "
                                     "loses its reservations after it.", unit="s", low=1.0, high=600.0)

    def validated(self) -> ExecutiveParameters:
        require(bool(self.robot), "robot must not be empty")
        return self


class ActionHandle:
    """A goal of an rclpy action client as a `clients.Handle`: RUNNING until its result, FAILED on rejection, a
    server that is not there, or cancel (which also cancels the goal on the server)."""

    def __init__(self, client: ActionClient, goal, name: str, to_outcome) -> None:
        self.name = name
        self.to_outcome = to_outcome
        self._progress = Progress.RUNNING
        self._outcome = Outcome()
        self._goal_handle = None
        if not client.server_is_ready():
            self._finish(False, Outcome(code="NOT_AVAILABLE", message=f"{name} is not available"))
            return
        client.send_goal_async(goal).add_done_callback(self._accepted)

    @property
    def progress(self) -> Progress:
        return self._progress

    @property
    def outcome(self) -> Outcome:
        return self._outcome

    def _finish(self, success: bool, outcome: Outcome) -> None:
        if self._progress == Progress.RUNNING:
            self._progress = Progress.SUCCEEDED if success else Progress.FAILED
            self._outcome = outcome

    def _accepted(self, future: Future) -> None:
        handle = future.result()
        if handle is None or not handle.accepted:
            self._finish(False, Outcome(code="REJECTED", message=f"{self.name} rejected the goal"))
            return
        self._goal_handle = handle
        if self._progress != Progress.RUNNING:  # cancelled before the server accepted it
            handle.cancel_goal_async()
            return
        handle.get_result_async().add_done_callback(self._done)

    def _done(self, future: Future) -> None:
        response = future.result()
        if response is None:
            self._finish(False, Outcome(code="LOST", message=f"{self.name}: no result"))
            return
        success, outcome = self.to_outcome(response.result)
        self._finish(success, outcome)

    def cancel(self) -> None:
        if self._progress == Progress.RUNNING:
            self._finish(False, Outcome(code="CANCELLED", message="cancelled by the executive"))
            if self._goal_handle is not None:
                self._goal_handle.cancel_goal_async()


class _Adapter:
    """The node's inputs and outputs as the client interfaces (one object for all of them)."""

    def __init__(self, node: ExecutiveNode) -> None:
        self.node = node

    # Clock
    def now(self) -> float:
        return self.node.get_clock().now().nanoseconds * 1e-9

    # Perception
    def scene(self) -> Scene:
        return self.node.scene

    def people(self) -> list[tuple[float, float]]:
        stamp, people = self.node.people
        return people if self.now() - stamp <= self.node.params.people_timeout else []

    def clear_obstacles(self) -> None:
        if not self.node.clear_obstacles_client.service_is_ready():
            self.node.get_logger().warning("perception/clear_obstacles is not offered: the obstacle grid stays")
            return
        self.node.clear_obstacles_client.call_async(Trigger.Request())

    # Motion
    def walk_to(self, x: float, y: float, yaw: float) -> ActionHandle:
        return ActionHandle(self.node.walk_client, conv.walk_goal(WalkTo.Goal, x, y, yaw, self.node.odom_frame),
                            "walk_to", lambda r: (bool(r.success), Outcome(message=r.message)))

    # Manipulation
    def pick(self, object_id: str, side: str) -> ActionHandle:
        return ActionHandle(self.node.pick_client, Pick.Goal(object_id=object_id, side=side), "pick",
                            self.node.manipulation_result)

    def place(self, container: str, side: str) -> ActionHandle:
        return ActionHandle(self.node.place_client, Place.Goal(container=container, side=side), "place",
                            self.node.manipulation_result)

    def put_down(self, position: tuple[float, float, float], side: str) -> ActionHandle:
        return ActionHandle(self.node.place_client,
                            conv.put_down_goal(Place.Goal, position, side, self.node.odom_frame), "place",
                            self.node.manipulation_result)

    def holding(self) -> dict[str, str]:
        return dict(self.node.holds)

    # Posture
    def look(self, posture: str) -> None:
        self.node.publish_posture(posture)

    def neutral(self) -> None:
        self.node.publish_posture("")

    # Robot
    def base_pose(self):
        return self.node.base

    def emergency_stop(self) -> bool:
        return self.node.estop

    def safety_stop(self) -> bool:
        received, stop = self.node.safety
        return stop or self.now() - received > self.node.params.safety_timeout

    def fallen(self) -> bool:
        return self.node.fallen


class ExecutiveNode(LegionNode):
    def __init__(self, **kwargs) -> None:
        super().__init__("executive", **kwargs)
        self.params = declare_parameters(self, ExecutiveParameters)
        self.robot_config = load_robot_config(self.params.robot)
        self.odom_frame = self.params.frame_prefix + self.robot_config.frames["odom"]
        """The frame of the cell (its stations, the map), of the goals sent and of the perception taken."""
        self.scene = Scene(-math.inf)
        self.people: tuple[float, list[tuple[float, float]]] = (-math.inf, [])
        self.base: tuple[float, float, float] | None = None
        self.estop = False
        self.safety: tuple[float, bool] = (math.inf, False)
        """(received [s, node clock], a stop) of the newest safety/state (inf: none yet, never stale)."""
        self.fallen = False
        self.holds = {"left": "", "right": ""}
        self._holds_time = -math.inf
        """When the newest Pick / Place result said what the hands hold [s, node clock]."""
        self.pick_codes, self.place_codes = conv.code_names(Pick.Result), conv.code_names(Place.Result)

        group = ReentrantCallbackGroup()
        self.walk_client = ActionClient(self, WalkTo, "walk_to", callback_group=group)
        self.pick_client = ActionClient(self, Pick, "pick", callback_group=group)
        self.place_client = ActionClient(self, Place, "place", callback_group=group)
        self.clear_obstacles_client = self.create_client(Trigger, "perception/clear_obstacles", callback_group=group)
        self.pub_status = self.create_publisher(ExecutiveStatus, "executive/status", INPUT_QOS)
        self.pub_posture = self.create_publisher(JointState, "posture/reference", INPUT_QOS)
        self.pub_map = self.create_publisher(OccupancyGrid, "map", LATCHED_QOS)
        self.pub_diagnostics = self.create_publisher(DiagnosticArray, "diagnostics", INPUT_QOS)
        self.create_subscription(DetectedObjectArray, "perception/objects", self.on_objects, INPUT_QOS)
        self.create_subscription(PoseArray, "perception/people", self.on_people, INPUT_QOS)
        self.create_subscription(SafetyState, "safety/state", self.on_safety_state, LATCHED_QOS)
        self.create_subscription(Odometry, "odom", self.on_odometry, INPUT_QOS)
        self.create_subscription(DiagnosticArray, "hardware/status", self.on_hardware_status, INPUT_QOS)
        self.create_subscription(DiagnosticArray, "diagnostics", self.on_diagnostics, INPUT_QOS)
        self.job_server = ActionServer(self, RunJob, "run_job", execute_callback=self.execute_job,
                                       goal_callback=lambda _goal: GoalResponse.ACCEPT,
                                       cancel_callback=lambda _goal: CancelResponse.ACCEPT, callback_group=group)

        adapter = _Adapter(self)
        self.executive = SortingExecutive(Clients(adapter, adapter, adapter, adapter, adapter, adapter,
                                                  reservations=self._fleet(adapter, group)), self.on_decision)
        self.cell: CellConfig | None = None
        self._goal = None
        self._future: Future | None = None
        self.create_timer(1.0 / self.params.tick_rate, self.on_tick)
        self.create_timer(1.0 / self.params.status_rate, self.on_status_timer)
        self.get_logger().info(f"executive for '{self.robot_config.name}': run_job ready")

    def _fleet(self, adapter: _Adapter, group) -> FleetReservations | None:
        """The fleet coordinator's services as `FleetReservations`, or None for a robot alone."""
        coordinator = self.params.fleet_coordinator.strip()
        if not coordinator:
            return None
        robot = self.params.fleet_robot or self.get_namespace().strip("/")
        if not robot:
            raise ParameterError("fleet_robot: a robot in a shared cell needs a name (fleet_robot, or a namespace)")
        base = "/" + coordinator.strip("/") if coordinator.strip("/") else ""
        reserve = self.create_client(Reserve, f"{base}/fleet/reserve", callback_group=group)
        release = self.create_client(Release, f"{base}/fleet/release", callback_group=group)

        def send_reserve(resources, lease, answer) -> bool:
            if not reserve.service_is_ready():
                self.get_logger().warning(f"fleet coordinator {base}/fleet/reserve not available",
                                          throttle_duration_sec=5.0)
                return False  # asked again after the retry; the behaviour's reservation_timeout bounds the wait
            future = reserve.call_async(Reserve.Request(robot=robot, resources=list(resources), lease=lease))

            def done(f: Future) -> None:
                result = f.result()
                if result is not None:
                    answer(int(result.code), tuple(result.holders), result.message)

            future.add_done_callback(done)
            return True

        def send_release(resources, answered) -> bool:
            if not release.service_is_ready():
                return False
            future = release.call_async(Release.Request(robot=robot, resources=list(resources)))
            future.add_done_callback(lambda _f: answered())
            return True

        self.get_logger().info(f"shared cell: reservations at {base}/fleet/reserve as '{robot}'")
        return FleetReservations(send_reserve, send_release, adapter.now, lease=self.params.fleet_lease,
                                 log=lambda line: self.get_logger().info(f"fleet: {line}"))

    # ------------------------------------------------------------------------------------------------ inputs
    def _in_odom(self, msg, what: str) -> bool:
        """Whether `msg` is in this robot's odom (or says no frame); otherwise it is logged and left out."""
        error = frame_error(msg.header.frame_id, self.odom_frame, what)
        if error is not None:
            self.get_logger().warning(f"{error}: ignored", throttle_duration_sec=5.0)
        return error is None

    def on_objects(self, msg: DetectedObjectArray) -> None:
        if self._in_odom(msg, "perception/objects"):
            self.scene = conv.scene_from_objects(msg)

    def on_people(self, msg: PoseArray) -> None:
        if self._in_odom(msg, "perception/people"):
            self.people = (self._now(), conv.people_from_poses(msg))

    def on_safety_state(self, msg: SafetyState) -> None:
        self.safety = (self._now(), conv.safety_stop(msg))

    def on_odometry(self, msg: Odometry) -> None:
        pose = msg.pose.pose
        x, y = pose.position.x, pose.position.y
        yaw = yaw_from_quaternion(xyzw(pose.orientation))
        if math.isfinite(x) and math.isfinite(y) and math.isfinite(yaw):
            self.base = (x, y, yaw)

    def on_hardware_status(self, msg: DiagnosticArray) -> None:
        for status in msg.status:
            values = {kv.key: kv.value for kv in status.values}
            if "emergency_stop" in values:
                self.estop = values["emergency_stop"].strip().lower() == "true"

    def on_diagnostics(self, msg: DiagnosticArray) -> None:
        for status in msg.status:
            values = {kv.key: kv.value for kv in status.values}
            if status.name.startswith("whole_body_controller") and "state" in values:
                self.fallen = values["state"] == "fallen"
            elif status.name == "manipulation" and "left_holds" in values and header_seconds(msg) > self._holds_time:
                # (a report older than the newest Pick / Place result would undo what that result said)
                self.holds = {"left": values.get("left_holds", ""), "right": values.get("right_holds", "")}

    def manipulation_result(self, result) -> tuple[bool, Outcome]:
        names = self.place_codes if hasattr(result, "verified") else self.pick_codes
        outcome = conv.manipulation_outcome(result, names)
        self.holds, self._holds_time = dict(outcome.holds), self._now()
        return bool(result.success), outcome

    def _now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def on_decision(self, line: str) -> None:
        self.get_logger().info(line)

    def publish_posture(self, posture: str) -> None:
        joints = self.robot_config.postures.get(posture, {}) if posture else {}
        msg = JointState(name=list(joints), position=[float(v) for v in joints.values()])
        msg.header.stamp = to_stamp(self._now())
        self.pub_posture.publish(msg)

    # ------------------------------------------------------------------------------------------------ job
    def _check_cell(self, cell_name: str) -> CellConfig:
        cell = load_cell(cell_name)
        for i, station in enumerate(cell.stations):
            if station.look and station.look not in self.robot_config.postures:
                raise CellError(f"{cell.path.name}: stations[{i}].look: robot '{self.robot_config.name}' has no "
                                f"posture '{station.look}' (it has: {', '.join(self.robot_config.postures)})")
        return cell

    async def execute_job(self, goal_handle) -> RunJob.Result:
        request = goal_handle.request
        result = RunJob.Result()
        if self.executive.active:
            goal_handle.abort()
            return self._result(result, RunJob.Result.BUSY, "BUSY", "another job is running")
        try:
            cell = self._check_cell(request.cell)
            self.executive.start(cell, int(request.max_parts))
        except CellError as error:
            self.get_logger().error(f"run_job rejected: {error}")
            goal_handle.abort()
            return self._result(result, RunJob.Result.INVALID, "INVALID", str(error))
        except Exception as error:  # a fault in starting: the goal ends, the node goes on
            self.get_logger().error(f"run_job could not start: {type(error).__name__}: {error}")
            goal_handle.abort()
            return self._result(result, RunJob.Result.FAILED, "FAILED", f"internal error: {error}")
        self.cell = cell
        self.publish_map(cell)
        self._goal, self._future = goal_handle, Future()
        try:
            state = await self._future
        finally:
            self._goal = None
        status = self.executive.status()
        self._result(result, RESULT_CODES[state], state.value, status.message)
        conv.fill_counts(result, status.counts)
        result.parts = [conv.part_outcome_msg(r) for r in status.parts]
        if state == State.SUCCEEDED:
            goal_handle.succeed()
        elif state == State.CANCELLED and goal_handle.is_cancel_requested:
            goal_handle.canceled()
        else:
            goal_handle.abort()
        self.get_logger().info(f"run_job: {state.value}: {status.message}")
        self.publish_status()
        return result

    @staticmethod
    def _result(result: RunJob.Result, code: int, outcome: str, message: str) -> RunJob.Result:
        result.success = code == RunJob.Result.SUCCEEDED
        result.code, result.outcome, result.message = int(code), outcome, message
        return result

    def publish_map(self, cell: CellConfig) -> None:
        grid = cell_map(cell, self.params.map_resolution, self.params.map_margin)
        self.pub_map.publish(conv.grid_msg(grid, self._now(), self.odom_frame))

    def on_tick(self) -> None:
        try:
            if self._goal is not None and self._goal.is_cancel_requested and self.executive.active:
                self.executive.cancel("run_job cancelled")
            state = self.executive.tick()
        except Exception as error:  # the callback boundary: the job fails, the node keeps running
            self.get_logger().error(f"executive tick failed: {type(error).__name__}: {error}")
            self.executive.cancel(f"internal error: {error}")
            self.executive.state = State.FAILED
            state = State.FAILED
        if self._future is not None and not self._future.done() and state in FINAL:
            self._future.set_result(state)

    def on_status_timer(self) -> None:
        try:
            self.publish_status()
        except Exception as error:  # never let a status take the node down
            self.get_logger().error(f"status failed: {type(error).__name__}: {error}")

    def publish_status(self) -> None:
        status = self.executive.status()
        now = self._now()
        msg = conv.status_msg(status, now, self.cell.name if self.cell else "")
        self.pub_status.publish(msg)
        if self._goal is not None:
            self._goal.publish_feedback(RunJob.Feedback(status=msg))
        level = {State.FAILED: ERROR, State.STOPPED: WARN, State.PAUSED: WARN}.get(status.state, OK)
        values = {"state": status.state.value, "phase": status.phase, "part": status.part_id,
                  "last_decision": status.last_decision} | {f"count.{k}": v for k, v in status.counts.items()}
        self.pub_diagnostics.publish(diagnostics_msg(now, "executive", level, status.message or status.state.value,
                                                     values, hardware_id=self.robot_config.name))


def main(args: list[str] | None = None) -> int:
    from legion_description import DescriptionError

    return run_node("executive", ExecutiveNode, args, fatal=(ParameterError, DescriptionError))


if __name__ == "__main__":
    raise SystemExit(main())
