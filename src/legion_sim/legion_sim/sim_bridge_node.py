"""`sim_bridge`: the simulated Centurion in MuJoCo behind the robot's hardware interface (docs/interfaces.md).

One node simulates every robot of the scene. A single-robot scene's topics and frames are as below; in a scene with a
`robots:` list (docs/scenes.md) each robot's hardware topics are under its name (`robot_1/joint_states`,
`robot_1/joint_commands`, `robot_1/ground_truth/odom`, `robot_1/emergency_stop/reset`, ...) and its frame ids carry
the prefix `robot_1/` (`robot_1/imu_link`, `robot_1/odom`), as robot_state_publisher's `frame_prefix` does; `clock`,
`sim/reset` and `sim/apply_wrench` (bodies named `robot_1/torso`) are shared. Lockstep waits for the controllers of
every robot that has one.

Publishes: `joint_states`, `imu/data`, `l_foot/wrench` and `r_foot/wrench` (per side of the robot config) at the
control rate; `head_camera/color/image_raw`, `head_camera/color/camera_info`, `head_camera/depth/image_raw`,
`head_camera/depth/camera_info` at the camera rate; `clock` at `clock_rate` (docs/realtime.md); `ground_truth/odom`,
`ground_truth/objects`, `ground_truth/people` (PoseArray of the scene's people, in scene order; tests and benchmarks
only); `robot_description` (transient-local); `hardware/status`
(DiagnosticArray).
Subscribes: `joint_commands` (legion_interfaces/JointCommand), `emergency_stop` (std_msgs/Bool, transient-local).
Services: `emergency_stop/reset`, `sim/reset` (std_srvs/Trigger), `sim/apply_wrench` (legion_interfaces/ApplyWrench).

Parameters: see `SimBridgeParameters`. The sensors carry the errors of real ones (`sensor_noise`, `seed`;
docs/sensors.md); camera images are published the camera's latency after the instant they show, stamped with it.

The node is the clock: it steps the physics and publishes `clock` itself. In lockstep mode, after publishing the state
stamped t it waits (at most `lockstep_timeout` of wall time) for a JointCommand stamped t from every controller that
publishes `joint_commands`, so simulated time advances only when the controller has answered; with no command
publisher it runs free. In real-time mode it paces the steps to the wall clock times `real_time_factor`.
For every control tick it measures the wall time from publishing the state stamped t to receiving the JointCommand
stamped t, and counts ticks answered on time, late or missed (`legion_sim.tick_latency`, keys `tick_latency.*` on
`hardware/status`). `realtime.*` parameters give the process SCHED_FIFO priority, CPUs and locked memory where the
system permits (`legion_common.realtime`; default off).
The executor spins on its own thread for services and `emergency_stop`; its callbacks only queue what they receive,
and the step loop (main thread) alone touches the simulation, between two steps. `joint_commands` (500 per simulated
second) bypasses the executor: the step loop takes them itself, waiting on a wait set of that subscription alone in
lockstep (`legion_common.inbox.Inbox`), which spares a thread switch and a rebuild of the executor's wait set per
command.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field

import rclpy
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from geometry_msgs.msg import PoseArray, WrenchStamped
from nav_msgs.msg import Odometry
from rclpy.event_handler import PublisherEventCallbacks
from rclpy.parameter import Parameter
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import CameraInfo, Image, Imu, JointState
from std_msgs.msg import Bool, String
from std_srvs.srv import Trigger

from legion_common.diagnostics import diagnostics_msg
from legion_common.inbox import Inbox
from legion_common.messages import depth_image_msg, rgb_image_msg
from legion_common.node import LegionNode
from legion_common.node_main import run_node, spin_in_background
from legion_common.parameters import declare_parameters, param, require
from legion_common.realtime import RealtimeParameters, configure_realtime_from
from legion_common.stamps import to_nanoseconds, to_stamp
from legion_interfaces.msg import DetectedObjectArray, JointCommand
from legion_interfaces.srv import ApplyWrench
from legion_sim import conversions as conv
from legion_sim.scene import scene_path
from legion_sim.sensor_models import DelayLine
from legion_sim.tick_latency import RateGate, TickLatency
from legion_sim.viewer import open_viewer

STATE_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=10, reliability=ReliabilityPolicy.RELIABLE)
SENSOR_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=2, reliability=ReliabilityPolicy.RELIABLE)
LATCHED_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1, reliability=ReliabilityPolicy.RELIABLE,
                         durability=DurabilityPolicy.TRANSIENT_LOCAL)


@dataclass(frozen=True)
class SimBridgeParameters:
    """The node's parameters, read once and range-checked."""

    robot: str = param("centurion", "Robot name (urdf/<robot>.urdf.xacro, config/robots/<robot>.yaml).")
    scene: str = param("sorting_cell", "Scene name in config/scenes or a path to a scene YAML file.")
    physics_rate: float = param(1000.0, "Physics rate; the servo law runs at every physics step.", unit="Hz",
                                low=100.0, high=10000.0)
    control_rate: float = param(500.0, "Rate of joint_states, imu and foot wrenches; must divide physics_rate.",
                                unit="Hz", low=0.0, high=10000.0)
    clock_rate: float = param(500.0, "Rate of `clock` (at most control_rate): the first control tick at or after each "
                              "multiple of its period; other nodes' timers fire at most one clock period plus one "
                              "control period late in simulated time.", unit="Hz", low=0.0, high=10000.0)
    camera_rate: float = param(10.0, "Head camera rate, 0 disables rendering.", unit="Hz", low=0.0, high=10000.0)
    camera_width: int = param(640, "Camera image width.", unit="px", low=16, high=4096)
    camera_height: int = param(480, "Camera image height.", unit="px", low=16, high=4096)
    ground_truth_rate: float = param(50.0, "Rate of ground_truth/odom and ground_truth/objects.", unit="Hz",
                                     low=0.0, high=10000.0)
    status_rate: float = param(2.0, "Rate of hardware/status.", unit="Hz", low=0.0, high=100.0)
    lockstep: bool = param(False, "Advance simulated time only when the controller has answered the latest state.")
    lockstep_timeout: float = param(0.5, "Longest wall-time wait for the controller's answer in lockstep mode.",
                                    unit="s", low=0.0, high=60.0)
    real_time_factor: float = param(1.0, "Simulated seconds per wall second in real-time mode; 0 runs as fast as "
                                    "possible.", low=0.0, high=100.0)
    catch_up: float = param(0.01, "Real-time mode: the largest lag behind the wall clock the simulation makes up by "
                            "stepping faster than real time; a longer pause (a camera render) is dropped instead, so "
                            "the controller never gets states faster than real time (docs/realtime.md).", unit="s",
                            low=0.0, high=10.0)
    sensor_noise: bool = param(True, "Give the sensors the errors of real ones (the robot file's `sensors:` "
                               "figures, overridden by the scene's; docs/sensors.md); false: ideal sensors.")
    viewer: bool = param(False, "Open MuJoCo's interactive viewer on the simulation (launch argument "
                         "`headless:=false`); needs a display, else the node says so and runs headless.")
    seed: int = param(0, "Seed of the sensor errors' random generator (runs are repeatable).", low=0, high=2**31 - 1)
    latency_window: float = param(2.0, "Simulated time of the newest control ticks that the `tick_latency.window.*` "
                                  "figures of hardware/status cover.", unit="s", low=0.0, high=3600.0)
    realtime: RealtimeParameters = field(default_factory=RealtimeParameters)

    def validated(self) -> SimBridgeParameters:
        require(0.0 < self.control_rate <= self.physics_rate, "control_rate must be in (0, physics_rate]")
        ratio = self.physics_rate / self.control_rate
        require(abs(ratio - round(ratio)) < 1e-9, "control_rate must divide physics_rate")
        require(0.0 <= self.camera_rate <= self.control_rate, "camera_rate must be in [0, control_rate]")
        require(0.0 < self.clock_rate <= self.control_rate, "clock_rate must be in (0, control_rate]")
        require(self.latency_window * self.control_rate >= 1.0, "latency_window must cover at least one control tick")
        require(0.0 < self.ground_truth_rate <= self.control_rate, "ground_truth_rate must be in (0, control_rate]")
        require(0.0 < self.status_rate <= 100.0, "status_rate must be in (0, 100]")
        require(self.lockstep_timeout > 0.0, "lockstep_timeout must be in (0, 60] s")
        return self


def build_simulation(params: SimBridgeParameters):
    """(Simulation, {robot name: expanded URDF}) for the node's parameters: the scene's robots (its `robots:` list,
    robot files defaulting to `robot`), or `robot` alone. Raises SimError naming the broken file."""
    from legion_sim.model_builder import SimOptions
    from legion_sim.scene import load_scene
    from legion_sim.scene_robots import scene_robots
    from legion_sim.simulation import RobotSetup, Simulation

    scene = load_scene(scene_path(params.scene))
    robots = scene_robots(scene, params.robot)
    options = SimOptions(physics_rate=params.physics_rate, camera_width=params.camera_width,
                         camera_height=params.camera_height)
    simulation = Simulation.of_robots([RobotSetup(r.name, r.config, r.urdf, r.start) for r in robots], scene, options,
                                      sensor_noise=params.sensor_noise, seed=params.seed)
    return simulation, {r.name: r.urdf for r in robots}


class RobotPorts:
    """The ROS side of one simulated robot: its hardware topics under its namespace (`robot_1/joint_states`; none for
    a single robot), frame ids with its prefix (`robot_1/base_link`), its command subscription and lockstep state."""

    def __init__(self, node: SimBridge, robot, urdf: str) -> None:
        self.robot = robot
        self.name: str = robot.name
        ns = f"{robot.name}/" if robot.name else ""
        self.frame_prefix = ns
        """Put before every frame id (robot_state_publisher's `frame_prefix`); empty for a single robot."""
        config = robot.config
        self.frames = {role: ns + frame for role, frame in config.frames.items()}
        self.sole_frames = {side: ns + frames.sole for side, frames in config.sides.items()}
        self.pub_joint_states = node._publisher(JointState, ns + "joint_states", STATE_QOS)
        self.pub_imu = node._publisher(Imu, ns + "imu/data", SENSOR_QOS)
        self.pub_wrench = {side: node._publisher(WrenchStamped, ns + f"{side[0]}_foot/wrench", SENSOR_QOS)
                           for side in self.sole_frames}
        self.pub_color = node._publisher(Image, ns + "head_camera/color/image_raw", SENSOR_QOS)
        self.pub_color_info = node._publisher(CameraInfo, ns + "head_camera/color/camera_info", SENSOR_QOS)
        self.pub_depth = node._publisher(Image, ns + "head_camera/depth/image_raw", SENSOR_QOS)
        self.pub_depth_info = node._publisher(CameraInfo, ns + "head_camera/depth/camera_info", SENSOR_QOS)
        self.pub_odom = node._publisher(Odometry, ns + "ground_truth/odom", SENSOR_QOS)
        self.pub_objects = node._publisher(DetectedObjectArray, ns + "ground_truth/objects", SENSOR_QOS)
        self.pub_people = node._publisher(PoseArray, ns + "ground_truth/people", SENSOR_QOS)
        self.pub_status = node._publisher(DiagnosticArray, ns + "hardware/status", STATE_QOS)
        self.pub_description = node._publisher(String, ns + "robot_description", LATCHED_QOS)
        self.pub_description.publish(String(data=urdf))
        # The control-rate messages go out pre-serialized (conversions.SerializedState: the same bytes, built cheaper).
        self.joint_state_bytes = conv.serialized_joint_state(robot.joint_names)
        self.imu_bytes = conv.serialized_imu(self.frames["imu"])
        self.wrench_bytes = {side: conv.serialized_wrench(frame) for side, frame in self.sole_frames.items()}
        self.commands = node.inbox.subscribe(JointCommand, ns + "joint_commands", STATE_QOS)
        node.create_subscription(Bool, ns + "emergency_stop", lambda msg: node.on_emergency_stop(self, msg),
                                 LATCHED_QOS)
        node.create_service(Trigger, ns + "emergency_stop/reset",
                            lambda request, response: node.on_emergency_stop_reset(self, request, response))
        self.command_publishers = 0
        """`joint_commands` publishers when last counted (lockstep)."""
        self.answered_stamp_ns = -1
        self.camera_frames = DelayLine(robot.camera_latency)
        """Rendered frames waiting out the camera's latency."""
        params = node.params
        # A tick unanswered for longer than the watchdog timeout is missed: by then the hardware has stopped.
        self.latency = TickLatency(on_time_limit=node.control_period,
                                   miss_after_ticks=max(1, round(config.watchdog_timeout * params.control_rate)),
                                   window_ticks=max(1, round(params.latency_window * params.control_rate)))

    def reset(self) -> None:
        self.camera_frames.clear()
        self.answered_stamp_ns = -1  # lockstep waits for answers to the new stamps
        self.latency.reset()


class SimBridge(LegionNode):
    """The simulated robot hardware node (see module docstring)."""

    def __init__(self, simulation_factory=None) -> None:
        super().__init__("sim_bridge")
        self.params: SimBridgeParameters = declare_parameters(self, SimBridgeParameters)
        self.realtime_report = configure_realtime_from(self.params.realtime)
        self.get_logger().info(self.realtime_report.summary())
        if self.has_parameter("use_sim_time") and self.get_parameter("use_sim_time").value:
            # This node is the clock source; its own clock stays on wall time.
            self.set_parameters([Parameter("use_sim_time", Parameter.Type.BOOL, False)])
        self.sim, urdfs = (simulation_factory or build_simulation)(self.params)
        if isinstance(urdfs, str):  # a factory of one robot gives its URDF text
            urdfs = {self.sim.robots[0].name: urdfs}
        self.steps_per_control = round(self.params.physics_rate / self.params.control_rate)
        self.control_period = 1.0 / self.params.control_rate
        self.pub_clock = self._publisher(Clock, "/clock", QoSProfile(depth=1))
        self._clock_bytes = conv.serialized_clock()

        self.inbox = Inbox(self)
        self.ports = [RobotPorts(self, robot, urdfs[robot.name]) for robot in self.sim.robots]
        """One per simulated robot, in the scene's order."""
        self.create_service(Trigger, "sim/reset", self.on_sim_reset)
        self.create_service(ApplyWrench, "sim/apply_wrench", self.on_apply_wrench)

        self._inbox: list = []
        """Actions queued by the callbacks (executor thread) for the step loop."""
        self._wake = threading.Lock()
        self._publishers_counted = -1.0
        """Wall time the `joint_commands` publishers were last counted (lockstep)."""
        self.last_state_stamp_ns = -1
        self.lockstep_timeouts = 0
        self.control_steps = 0
        self._next_camera = 0.0
        self._next_ground_truth = 0.0
        self._next_status = 0.0
        self._clock_gate = RateGate(self.params.clock_rate)
        self.viewer = (open_viewer(self.sim.model, self.sim.data, self.get_logger().warning)
                       if self.params.viewer else None)
        robots = ", ".join(f"'{p.name}' ({p.robot.config.name})" for p in self.ports if p.name)
        self.get_logger().info(
            f"simulating {f'robots {robots}' if robots else f'robot {self.params.robot!r}'} in scene "
            f"{scene_path(self.params.scene)} at {self.params.physics_rate:.0f} Hz physics, "
            f"{self.params.control_rate:.0f} Hz control, {self.params.clock_rate:.0f} Hz clock, "
            f"{'lockstep' if self.params.lockstep else 'real-time'} mode")

    @property
    def answered_stamp_ns(self) -> int:
        """The newest state stamp every robot has answered (the oldest of the robots' answers)."""
        return min(port.answered_stamp_ns for port in self.ports)

    def _publisher(self, kind: type, topic: str, qos: QoSProfile):
        """A publisher without QoS event handlers: each one is a waitable the executor polls at every spin, and this
        node spins 500 times per simulated second."""
        return self.create_publisher(kind, topic, qos,
                                     event_callbacks=PublisherEventCallbacks(use_default_callbacks=False))

    # --- callbacks (executor thread): queue for the step loop, which alone touches the simulation ---------------
    def _queue(self, item) -> None:
        with self._wake:
            self._inbox.append(item)
        self.inbox.wake()

    def _run_in_loop(self, action):
        """Run `action()` on the step loop between two steps and return its result (for services)."""
        done = threading.Event()
        box: list = []

        def task() -> None:
            try:
                box.append(action())
            finally:
                done.set()
        self._queue(task)
        while not done.wait(0.1):
            if not rclpy.ok():
                raise RuntimeError("shutting down")
        return box[0]

    def on_emergency_stop(self, port: RobotPorts, msg: Bool) -> None:
        if msg.data:
            self._queue(lambda: self._latch_emergency_stop(port))

    def on_emergency_stop_reset(self, port: RobotPorts, _request, response):
        response.success = self._run_in_loop(port.robot.reset_emergency_stop) or True
        response.message = "emergency stop cleared"
        self.get_logger().info(f"robot '{port.name}': {response.message}" if port.name else response.message)
        return response

    def on_sim_reset(self, _request, response):
        self._run_in_loop(self._reset)
        response.success, response.message = True, "simulation reset to the scene's start"
        return response

    def on_apply_wrench(self, request, response):
        force = [request.wrench.force.x, request.wrench.force.y, request.wrench.force.z]
        torque = [request.wrench.torque.x, request.wrench.torque.y, request.wrench.torque.z]

        def apply() -> str:
            try:
                self.sim.apply_wrench(request.body, force, torque, request.duration)
                return ""
            except Exception as error:  # unknown body, non-finite values: report, keep running
                return str(error)
        error = self._run_in_loop(apply)
        response.success = not error
        response.message = error or f"applying wrench to '{request.body}' for {request.duration} s"
        if error:
            self.get_logger().warning(f"sim/apply_wrench rejected: {error}")
        return response

    # --- the step loop (main thread) ----------------------------------------------------------------------------
    def _latch_emergency_stop(self, port: RobotPorts) -> None:
        port.robot.set_emergency_stop(True)
        who = f"robot '{port.name}': " if port.name else ""
        self.get_logger().warning(f"{who}emergency stop latched: holding joints until emergency_stop/reset")

    def _reset(self) -> None:
        self.sim.reset()
        for port in self.ports:
            port.reset()
        self._next_camera = self._next_ground_truth = self._next_status = 0.0
        self.last_state_stamp_ns = -1
        self._clock_gate.reset()  # simulated time restarts at 0: `clock` jumps back once, then advances again

    def process_inbox(self) -> None:
        """Apply the waiting commands (in arrival order per robot), then what the callbacks queued (e-stops and
        service requests, in arrival order)."""
        status_changed = False
        for port in self.ports:
            while (taken := self.inbox.take(port.commands)) is not None:
                item, received = taken
                # Any command answers the state it is stamped with, even one the hardware rejects or ignores.
                stamp_ns = item.header.stamp.sec * 1_000_000_000 + item.header.stamp.nanosec
                if stamp_ns <= self.last_state_stamp_ns:  # a stamp from the future (or before sim/reset): no answer
                    port.answered_stamp_ns = max(port.answered_stamp_ns, stamp_ns)
                port.latency.command_received(stamp_ns, received)
                accepted, reason = port.robot.set_command(*conv.joint_command_arrays(item))
                if not accepted:
                    who = f"robot '{port.name}': " if port.name else ""
                    self.get_logger().warning(f"{who}joint command rejected: {reason}", throttle_duration_sec=1.0)
                    status_changed = True
        with self._wake:
            items, self._inbox = self._inbox, []
        for item in items:
            item()
            status_changed = True
        if status_changed:
            self.publish_status(force=True)

    def publish_state(self) -> None:
        now = self.sim.time
        stamp_ns = to_nanoseconds(now)
        sec, nanosec = divmod(stamp_ns, 1_000_000_000)
        self.last_state_stamp_ns = stamp_ns
        if self._clock_gate.due(now):
            self.pub_clock.publish(self._clock_bytes.serialize(sec, nanosec))
        for port in self.ports:
            robot = port.robot
            joints = robot.joint_state()
            state = port.joint_state_bytes.serialize(sec, nanosec, joints.position, joints.velocity, joints.effort)
            port.latency.state_published(stamp_ns, time.monotonic())
            port.pub_joint_states.publish(state)
            imu = robot.imu()
            port.pub_imu.publish(port.imu_bytes.serialize(sec, nanosec, imu.orientation, imu.angular_velocity,
                                                          imu.linear_acceleration))
            for side, wrench in robot.foot_wrenches().items():
                port.pub_wrench[side].publish(port.wrench_bytes[side].serialize(sec, nanosec, wrench.force,
                                                                                wrench.torque))
        if now + 1e-9 >= self._next_ground_truth:
            self._next_ground_truth = now + 1.0 / self.params.ground_truth_rate
            self.publish_ground_truth(now)
        if self.params.camera_rate > 0 and now + 1e-9 >= self._next_camera:
            self._next_camera = now + 1.0 / self.params.camera_rate
            for port in self.ports:
                port.camera_frames.push(now, port.robot.render_camera())
        for port in self.ports:
            for _, frame in port.camera_frames.pop_due(now):
                self.publish_camera(port, frame)
        self.publish_status()

    def publish_ground_truth(self, now: float) -> None:
        """Per robot: its base in its `odom` (the world frame, as its state estimator starts at its scene start), and
        the scene's parts and people in the same frame. Each only while something subscribes to it (tests,
        benchmarks, the job's report judge by it; nothing of the stack does): building the messages in Python took 12 %
        of the bridge's CPU time in a cProfile of it (`LEGION_PROFILE`, lockstep, camera off)."""
        stamp = to_stamp(now)
        objects = people = None
        for port in self.ports:
            odom = port.frames["odom"]
            if port.pub_odom.get_subscription_count() > 0:
                base = port.robot.ground_truth_base()
                port.pub_odom.publish(conv.odometry_msg(stamp, odom, port.frames["base"], base.position,
                                                        base.orientation, base.linear_velocity,
                                                        base.angular_velocity))
            if port.pub_objects.get_subscription_count() > 0:
                if objects is None:
                    objects = [(o.id, o.label, o.position, o.orientation, o.size)
                               for o in self.sim.ground_truth_objects()]
                port.pub_objects.publish(conv.objects_msg(stamp, odom, objects))
            if self.sim.scene.people and port.pub_people.get_subscription_count() > 0:
                if people is None:
                    people = self.sim.ground_truth_people()
                port.pub_people.publish(conv.people_msg(stamp, odom, people))

    def publish_camera(self, port: RobotPorts, frame) -> None:
        """Publish a camera frame stamped with the instant it shows (its capture time), whenever it is delivered.

        Both images are rendered from the colour optical frame and the depth is registered to colour (same pixels,
        same intrinsics), so both carry that frame, as the registered depth of an RGB-D camera does (and Gazebo's)."""
        stamp = to_stamp(frame.time)
        rgb, depth, k = frame.rgb, frame.depth, frame.intrinsics
        height, width = depth.shape
        fx, fy, cx, cy = k.fx, k.fy, k.cx, k.cy
        optical_frame = port.frames["camera_color_optical"]
        port.pub_color.publish(rgb_image_msg(rgb, stamp, optical_frame))
        port.pub_color_info.publish(conv.camera_info_msg(stamp, optical_frame, width, height, fx, fy, cx, cy))
        port.pub_depth.publish(depth_image_msg(depth, stamp, optical_frame))
        port.pub_depth_info.publish(conv.camera_info_msg(stamp, optical_frame, width, height, fx, fy, cx, cy))

    def publish_status(self, force: bool = False) -> None:
        now = self.sim.time
        if not force and now + 1e-9 < self._next_status:
            return
        self._next_status = now + 1.0 / self.params.status_rate
        for port in self.ports:
            status = dict(port.robot.status())
            rejected = status.pop("commands_rejected", {})
            status.update({f"commands_rejected.{reason}": count for reason, count in rejected.items()})
            status["lockstep_timeouts"] = self.lockstep_timeouts
            status.update(port.latency.status())
            if status.get("emergency_stop"):
                level, message = DiagnosticStatus.ERROR, "emergency stop latched"
            elif status.get("protective_stop"):
                level, message = DiagnosticStatus.WARN, "protective stop: command watchdog tripped"
            else:
                level, message = DiagnosticStatus.OK, "running"
            port.pub_status.publish(diagnostics_msg(now, "sim_bridge: hardware", level, message, status,
                                                    hardware_id=port.name or self.params.robot))

    WAIT_SLICE = 0.05
    """[s] wall: lockstep waits in slices this long, and counts the command publishers again after each (a controller
    that went away is noticed within one slice; a robot with none runs free)."""

    def wait_for_answer(self) -> None:
        """Lockstep: wait until every command publisher of every robot has answered the latest state, or the timeout
        passes. A robot without a command publisher is not waited for."""
        start = time.monotonic()
        deadline = start + self.params.lockstep_timeout
        while rclpy.ok():
            self.process_inbox()
            waiting = [p for p in self.ports if p.answered_stamp_ns < self.last_state_stamp_ns]
            if not waiting:
                return
            now = time.monotonic()
            if any(p.command_publishers == 0 for p in self.ports) or now - self._publishers_counted >= self.WAIT_SLICE:
                for port in self.ports:
                    port.command_publishers = self.count_publishers(port.commands.topic_name)
                self._publishers_counted = now
            if all(p.command_publishers == 0 for p in waiting):
                return
            remaining = deadline - now
            if remaining <= 0:
                self.lockstep_timeouts += 1
                return
            self.inbox.wait(min(remaining, self.WAIT_SLICE))

    def close(self) -> None:
        """Close the viewer window, if one is open (called by `run_node` before the node is destroyed)."""
        if self.viewer is not None:
            self.viewer.close()
            self.viewer = None
        self.inbox.destroy()

    def run(self) -> None:
        """Step the simulation until shutdown; the executor spins on another thread."""
        rate = self.params.real_time_factor
        wall_start, sim_start = time.monotonic(), self.sim.time
        while rclpy.ok():
            self.publish_state()
            if self.params.lockstep:
                self.wait_for_answer()
            elif rate > 0:
                lag = time.monotonic() - (wall_start + (self.sim.time - sim_start) / rate)
                if lag < 0:
                    time.sleep(-lag)
                elif lag > self.params.catch_up:
                    wall_start, sim_start = time.monotonic(), self.sim.time  # fell behind: do not race to catch up
            self.process_inbox()
            self.sim.step(self.steps_per_control)
            self.control_steps += 1
            if self.viewer is not None:
                self.viewer.sync()


def _run(node: SimBridge) -> None:
    """The executor spins on its own thread; the step loop runs here."""
    spin_in_background(node)
    node.run()


def main(args: list[str] | None = None) -> int:
    # A broken scene or URDF: say which file and why, exit 1.
    return run_node("sim_bridge", SimBridge, args, run=_run)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
