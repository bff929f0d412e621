"""`perception`: the head RGB-D camera turned into parts, bins, obstacles and people, with faces anonymised.

A thin ROS 2 adapter over `legion_perception.pipeline.PerceptionCore` (see that module and docs/privacy.md).
"""

from __future__ import annotations

import math
import statistics
import sys
import time
from collections import Counter, deque
from dataclasses import dataclass

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import PoseArray
from nav_msgs.msg import OccupancyGrid, Odometry
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, Image, JointState
from std_srvs.srv import Trigger
from visualization_msgs.msg import MarkerArray

from legion_common.diagnostics import ERROR, OK, WARN, diagnostics_msg
from legion_common.messages import EncodingError, image_to_depth, image_to_rgb, rgb_image_msg
from legion_common.node import LegionNode
from legion_common.node_main import run_node
from legion_common.parameters import ParameterError, declare_parameters
from legion_common.stamps import header_seconds, to_stamp
from legion_description import DescriptionError, load_robot_config
from legion_interfaces.msg import DetectedObjectArray, TrackedPersonArray
from legion_model import ModelError, RobotModel
from legion_perception import conversions as conv
from legion_perception.camera_pose import CameraPoseSource
from legion_perception.config import NodeParameters, PerceptionConfig
from legion_perception.errors import ConfigError, InputError, PerceptionError
from legion_perception.obstacles import OCCUPIED
from legion_perception.pipeline import Frame, PerceptionCore
from legion_perception.state_buffer import Miss, StateBuffer

INPUT_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=2, reliability=ReliabilityPolicy.RELIABLE)
"""Images and camera infos, as the hardware publishes them (docs/interfaces.md): reliable, so that a 1 MB image is
not lost to one dropped fragment, and only the newest two kept."""
STATE_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=100, reliability=ReliabilityPolicy.RELIABLE)
"""`odom` and `joint_states`: reliable and 100 deep (2 s at 50 Hz, 0.2 s at 500 Hz), so that none is lost while a
frame is processed; their callbacks only append to the state buffer."""
OUTPUT_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=2, reliability=ReliabilityPolicy.RELIABLE)
MARKER_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1, reliability=ReliabilityPolicy.RELIABLE,
                        durability=DurabilityPolicy.TRANSIENT_LOCAL)
"""`~/markers`: a viewer that joins gets the newest array at once (docs/interfaces.md, "Visualisation")."""
PAIR_BUFFER = 5
"""Colour and depth images kept per topic to pair them by stamp and to let frames wait for their state."""
WARN_PERIOD = 2.0
"""[s] between two warnings of the same kind."""
TIME_JUMP = 1.0
"""[s] a frame (or state sample) stamped this much before the last one means time went back (a simulation reset)."""
STAT_WINDOW = 100
"""Frames over which the diagnostics' medians and extremes are taken."""


class Drop:
    """Reasons a frame is dropped unprocessed (diagnostics `dropped.<reason>`)."""

    NO_CAMERA_INFO = "no_camera_info"
    NO_STATE = "no_state"
    """No odom / joint_states at all within `state_wait` of the frame's arrival."""
    STATE_LATE = "state_late"
    """The state at the frame's stamp did not arrive within `state_wait`."""
    STATE_TOO_OLD = "state_too_old"
    """The frame is older than the state buffer (`state_buffer_length`)."""
    STATE_GAP = "state_gap"
    """The state stream has a gap longer than `state_max_gap` around the frame's stamp."""
    BAD_STATE = "bad_state"
    """The state at the frame's stamp is not usable (a non-finite joint position)."""
    SUPERSEDED = "superseded"
    """A newer frame was processed first (processing slower than the camera, or this frame waited)."""
    QUEUE_FULL = "queue_full"
    """Pushed out of the image queue unprocessed (waiting too long, or never paired with a depth image)."""


@dataclass
class _Stamped:
    stamp: float
    value: object
    received: float = 0.0
    """[s] wall time (monotonic) of arrival."""
    done: bool = False
    """Processed or dropped (colour images)."""


class _Schedule:
    """Due every 1/rate seconds of message time (rate 0: never)."""

    def __init__(self, rate: float):
        self.period = 1.0 / rate if rate > 0 else math.inf
        self.last = -math.inf

    def due(self, now: float) -> bool:
        if now < self.last:  # time jumped back (simulation reset)
            self.last = -math.inf
        return now - self.last >= self.period * 0.999

    def done(self, now: float) -> None:
        self.last = now


class Perception(LegionNode):
    """Parts, obstacles and people from the head RGB-D camera, in `odom`, with faces anonymised in every image out.

    Subscribes (reliable; images and infos depth 2, states depth 100):
        `head_camera/color/image_raw` (sensor_msgs/Image rgb8, bgr8, rgba8 or bgra8),
        `head_camera/color/camera_info` (sensor_msgs/CameraInfo; the depth image is registered to it),
        `head_camera/depth/image_raw` (sensor_msgs/Image 32FC1 [m] or 16UC1 [mm]),
        `joint_states` (sensor_msgs/JointState), `odom` (nav_msgs/Odometry, `odom` -> base); in the stack these are
        remapped to the estimator's decimated copies (~50 Hz).
    Publishes (reliable, depth 2):
        `perception/objects` (legion_interfaces/DetectedObjectArray, frame `odom`): confirmed tracks, every
            processed frame, of parts (`<colour>_<shape>`, pose = centre) and of containers (`<colour>_bin`, pose =
            centre of the opening at rim height, yaw of the outline; size = outer x, y and rim above the inner floor;
            docs/interfaces.md, Perception);
        `perception/obstacles` (nav_msgs/OccupancyGrid, frame `odom`, floor removed) at `obstacles_rate`;
        `perception/people` (geometry_msgs/PoseArray, frame `odom`): face centres of the people held, at
            `people_rate`;
        `perception/people/tracked` (legion_interfaces/TrackedPersonArray, frame `odom`): the same people with id,
            filtered horizontal velocity and time since last seen, at `people_rate` (for the safety node);
        `perception/debug_image` (sensor_msgs/Image rgb8, camera frame): faces anonymised, detections drawn, at
            `debug_image_rate`;
        `perception/markers` (`~/markers`, visualization_msgs/MarkerArray, frame `odom`, transient-local): the
            confirmed tracks (namespaces `parts`, `containers`, `labels`) at `marker_rate`, only while subscribed;
        `diagnostics` (diagnostic_msgs/DiagnosticArray) at `diagnostics_rate`: frames processed and dropped per
            reason (`Drop`), the newest state's lead over a processed frame's stamp, a frame's wait for its state,
            processing time per frame, the state buffer's counts, the problems since the last message.
    Parameters (`config/stack.yaml`, block `perception`; each with its description, unit and range):
        `legion_perception.config.NodeParameters` (robot, process_rate, sync_tolerance, state_buffer_length,
        state_tolerance, state_max_gap, state_wait, people_rate, obstacles_rate, debug_image_rate,
        debug_image_scale, diagnostics_rate) and the groups of
        `legion_perception.config.PerceptionConfig` (detection.*, tracking.*, obstacles.*, people.*, privacy.*).

    The camera pose of a frame is the robot's at the frame's stamp (its capture time; the frame arrives later):
    `odom` -> base interpolated between the two `odom` samples around the stamp (position linear, orientation slerp)
    composed with base -> camera from forward kinematics of the `joint_states` interpolated likewise
    (`legion_perception.state_buffer`, legion_model). A frame whose state has not arrived yet (images can overtake
    the state) waits in a short queue, newest placeable frame first, and is dropped with a counted reason after
    `state_wait` or if its stamp is outside the buffer. State callbacks only append to the buffer; image callbacks
    convert and store; one timer does the processing. Malformed or missing input (no camera_info yet, wrong
    encoding, sizes that disagree, depth full of NaN, no odometry) is reported as a throttled warning and on
    `diagnostics`, and the frame is skipped; the node never stops. Raw camera frames are never written anywhere
    (docs/privacy.md).
    """

    def __init__(self, *, model=None) -> None:
        super().__init__("perception")
        self.params: NodeParameters = declare_parameters(self, NodeParameters)
        self.config: PerceptionConfig = declare_parameters(self, PerceptionConfig)
        try:
            robot_config = load_robot_config(self.params.robot)
            self.odom_frame = self.params.frame_prefix + robot_config.frames["odom"]
            self.camera_frame = robot_config.frames["camera_color_optical"]
            if model is None:
                model = RobotModel.load(self.params.robot, lock_hands=True)
            self.camera_pose = CameraPoseSource(
                model, self.camera_frame, tuple(side.gripper for side in robot_config.sides.values()),
                tuple((*robot_config.joints("arms", name), side.gripper) for name, side in robot_config.sides.items()))
        except (DescriptionError, ModelError) as error:
            raise ConfigError(f"robot '{self.params.robot}': {error}") from error
        self.core = PerceptionCore(self.config)

        self.colours: deque[_Stamped] = deque(maxlen=PAIR_BUFFER)
        self.depths: deque[_Stamped] = deque(maxlen=PAIR_BUFFER)
        self.camera = None
        self.state = StateBuffer(length=self.params.state_buffer_length, tolerance=self.params.state_tolerance,
                                 max_gap=self.params.state_max_gap, reset_jump=TIME_JUMP)
        self.last_processed = -math.inf
        self.times_ms: deque[float] = deque(maxlen=STAT_WINDOW)
        """Processing time per frame [ms]: placing it in time, camera pose, core, publishing."""
        self.state_lead_ms: deque[float] = deque(maxlen=STAT_WINDOW)
        """Newest state's stamp minus the processed frame's stamp [ms] (negative: the newest state was held)."""
        self.wait_ms: deque[float] = deque(maxlen=STAT_WINDOW)
        """Wall time from a frame's arrival to its processing [ms]."""
        self.counts = {"frames": 0, "skipped": 0, "input_errors": 0, "internal_errors": 0}
        """`skipped`: frames not processed for any reason (dropped ones included)."""
        self.dropped: Counter[str] = Counter()
        """Frames dropped unprocessed, per `Drop` reason."""
        self.last_problem = ""
        self.problems: dict[str, str] = {}
        """Problem kind -> latest message since the last diagnostics."""
        self._warned: dict[str, float] = {}
        self._people = _Schedule(self.params.people_rate)
        self._obstacles = _Schedule(self.params.obstacles_rate)
        self._debug = _Schedule(self.params.debug_image_rate)
        self._markers = _Schedule(self.params.marker_rate)
        self.colour_hues = dict(zip(self.config.detection.colour_names, self.config.detection.colour_hues,
                                    strict=True))
        self.last_result = None

        self.pub_objects = self.create_publisher(DetectedObjectArray, "perception/objects", OUTPUT_QOS)
        self.pub_obstacles = self.create_publisher(OccupancyGrid, "perception/obstacles", OUTPUT_QOS)
        self.pub_people = self.create_publisher(PoseArray, "perception/people", OUTPUT_QOS)
        self.pub_tracked_people = self.create_publisher(TrackedPersonArray, "perception/people/tracked", OUTPUT_QOS)
        self.pub_debug = self.create_publisher(Image, "perception/debug_image", OUTPUT_QOS)
        self.pub_diagnostics = self.create_publisher(DiagnosticArray, "diagnostics", OUTPUT_QOS)
        self.pub_markers = self.create_publisher(MarkerArray, "~/markers", MARKER_QOS)
        self.create_subscription(Image, "head_camera/color/image_raw", self.on_colour, INPUT_QOS)
        self.create_subscription(Image, "head_camera/depth/image_raw", self.on_depth, INPUT_QOS)
        self.create_subscription(CameraInfo, "head_camera/color/camera_info", self.on_camera_info, INPUT_QOS)
        self.create_subscription(JointState, "joint_states", self.on_joint_states, STATE_QOS)
        self.create_subscription(Odometry, "odom", self.on_odom, STATE_QOS)
        self.create_service(Trigger, "perception/clear_obstacles", self.on_clear_obstacles)
        self.create_timer(1.0 / self.params.process_rate, self.on_timer)
        self.create_timer(1.0 / self.params.diagnostics_rate, self.publish_diagnostics)
        self.get_logger().info(f"perception for robot '{self.params.robot}': camera frame '{self.camera_frame}', "
                               f"output frame '{self.odom_frame}'")

    # ------------------------------------------------------------------------------------------------ callbacks

    def on_clear_obstacles(self, _request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        """Forget the obstacle grid (a recovery, as Nav2's costmap clearing): the next depth frames build it again
        from what the camera sees then. Parts and people are kept."""
        grid = self.core.mapper.grid()
        occupied = int(np.count_nonzero(grid.data == OCCUPIED))
        self.core.mapper.reset()
        response.success = True
        response.message = f"obstacle grid cleared ({occupied} occupied cells forgotten)"
        self.get_logger().info(response.message)
        return response

    def on_colour(self, msg: Image) -> None:
        try:
            colour = _Stamped(header_seconds(msg), image_to_rgb(msg), time.monotonic())
        except EncodingError as error:
            self.problem("colour", f"colour image dropped: {error}")
            return
        if len(self.colours) == self.colours.maxlen and not self.colours[0].done:
            self.drop(Drop.QUEUE_FULL, f"frame at {self.colours[0].stamp:.3f} s pushed out of the queue unprocessed")
        self.colours.append(colour)

    def on_depth(self, msg: Image) -> None:
        try:
            self.depths.append(_Stamped(header_seconds(msg), image_to_depth(msg), time.monotonic()))
        except EncodingError as error:
            self.problem("depth", f"depth image dropped: {error}")

    def on_camera_info(self, msg: CameraInfo) -> None:
        try:
            self.camera = conv.camera_info_to_intrinsics(msg)
        except InputError as error:
            self.problem("camera_info", f"camera_info ignored: {error}")
            return
        if msg.header.frame_id and msg.header.frame_id != self.params.frame_prefix + self.camera_frame:
            self.problem("camera_frame", f"camera_info frame '{msg.header.frame_id}' is not the robot's camera "
                         f"frame '{self.camera_frame}'; using the kinematics of '{self.camera_frame}'")

    def on_joint_states(self, msg: JointState) -> None:
        """Append to the state buffer only (cheap even for a 500 Hz stream)."""
        try:
            self.state.add_joints(header_seconds(msg), msg.name, msg.position)
        except InputError as error:
            self.problem("joint_states", f"joint_states ignored: {error}")

    def on_odom(self, msg: Odometry) -> None:
        """Append to the state buffer only (cheap even for a 500 Hz stream)."""
        p, q = msg.pose.pose.position, msg.pose.pose.orientation
        try:
            self.state.add_base(header_seconds(msg), (p.x, p.y, p.z), (q.x, q.y, q.z, q.w))
        except InputError as error:
            self.problem("odom", f"odom ignored: {error}")

    # ------------------------------------------------------------------------------------------------ processing

    def on_timer(self) -> None:
        """Process the newest frame that can be placed in time, if there is a new one. Never raises."""
        started = time.perf_counter()
        try:
            frame = self.next_frame()
            if frame is None:
                return
            self.process(frame)
            self.times_ms.append((time.perf_counter() - started) * 1e3)
        except InputError as error:
            self.counts["skipped"] += 1
            self.problem("input", f"frame skipped: {error}")
        except PerceptionError as error:
            self.counts["internal_errors"] += 1
            self.problem("perception", f"frame skipped: {error}")
        except Exception as error:  # a bug must not take perception down: report it and go on
            self.counts["internal_errors"] += 1
            self.problem("internal", f"frame skipped after an unexpected error: {type(error).__name__}: {error}")

    def next_frame(self) -> Frame | None:
        """The newest unprocessed frame whose state has arrived, with its camera pose at its stamp, or None.

        Frames whose state has not arrived wait (up to `state_wait`); frames that cannot be placed, and unprocessed
        frames older than the one returned, are dropped with their reason."""
        self._check_time_jump()
        pairs = self._unprocessed_pairs()
        if not pairs:
            return None
        if self.camera is None:
            for colour, _ in pairs:
                self._drop_pair(colour, Drop.NO_CAMERA_INFO,
                                "no valid head_camera/color/camera_info yet; frame skipped")
            return None
        now = time.monotonic()
        for index, (colour, depth) in enumerate(pairs):  # newest first
            stamp = colour.stamp
            try:
                state = self.state.at(stamp)
            except InputError as error:
                self._drop_pair(colour, Drop.BAD_STATE, f"frame at {stamp:.3f} s dropped: {error}")
                continue
            if state is not None:
                for older, _ in pairs[index + 1:]:
                    self._drop_pair(older, Drop.SUPERSEDED, f"frame at {older.stamp:.3f} s superseded by the frame "
                                    f"at {stamp:.3f} s")
                colour.done = True
                self.last_processed = max(self.last_processed, stamp, depth.stamp)
                self.wait_ms.append((now - max(colour.received, depth.received)) * 1e3)
                self.state_lead_ms.append((self.state.newest - stamp) * 1e3)
                base_to_odom = state.base_to_odom
                camera_to_odom = self.camera_pose.camera_to_odom(base_to_odom, state.joint_positions)
                return Frame(rgb=colour.value, depth=depth.value, camera=self.camera, camera_to_odom=camera_to_odom,
                             robot_xy=base_to_odom[:2, 3].copy(), stamp=stamp,
                             hands=self.camera_pose.hands_in_odom(), arms=self.camera_pose.arms_in_odom())
            miss = self.state.last_miss
            newest = self.state.newest
            if miss in (Miss.NOT_YET, Miss.NO_STATE):
                if now - max(colour.received, depth.received) <= self.params.state_wait:
                    continue  # its state may still come; an older frame may be placed meanwhile
                if newest is None:
                    self._drop_pair(colour, Drop.NO_STATE, f"no odom / joint_states within {self.params.state_wait} s "
                                    f"of the frame at {stamp:.3f} s; frame dropped")
                else:
                    self._drop_pair(colour, Drop.STATE_LATE, f"the state at the frame's stamp {stamp:.3f} s did "
                                    f"not arrive within {self.params.state_wait} s (newest {newest:.3f} s); "
                                    "frame dropped")
            elif miss is Miss.TOO_OLD:
                self._drop_pair(colour, Drop.STATE_TOO_OLD, f"frame at {stamp:.3f} s is older than the state buffer "
                                f"({self.params.state_buffer_length} s); frame dropped")
            else:
                self._drop_pair(colour, Drop.STATE_GAP, f"odom / joint_states have a gap of more than "
                                f"{self.params.state_max_gap} s around the frame at {stamp:.3f} s; frame dropped")
        return None

    def _check_time_jump(self) -> None:
        """A frame stamped well before the last one processed: time went back (simulation reset)."""
        if self.colours and self.colours[-1].stamp < self.last_processed - TIME_JUMP:
            self.get_logger().info(f"time went back from {self.last_processed:.3f} s to {self.colours[-1].stamp:.3f} s "
                                   "(simulation reset?): forgetting tracks, people and the obstacle grid")
            self.core.reset()
            self.last_processed = -math.inf
            for colour in self.colours:
                colour.done = colour.done or colour.stamp > self.colours[-1].stamp  # old time line
            self.state.drop_newer_than(self.colours[-1].stamp + TIME_JUMP)  # keep the states of the new time line

    def _unprocessed_pairs(self) -> list[tuple[_Stamped, _Stamped]]:
        """The colour images not yet processed or dropped, each with its depth image (matching stamps; they arrive
        on two topics, in either order), newest first. Warns if images keep arriving without ever pairing up."""
        pairs = []
        for colour in reversed(self.colours):
            if colour.done:
                continue
            depth = next((d for d in reversed(self.depths)
                          if abs(colour.stamp - d.stamp) <= self.params.sync_tolerance), None)
            if depth is not None:
                pairs.append((colour, depth))
        colours, depths = self.colours, self.depths
        if not pairs and len(colours) == PAIR_BUFFER and len(depths) == PAIR_BUFFER and not colours[0].done:
            self.problem("sync", f"no colour and depth images with stamps within {self.params.sync_tolerance} s "
                         f"of each other (newest colour {colours[-1].stamp:.3f} s, depth {depths[-1].stamp:.3f} s)")
        return pairs

    def _drop_pair(self, colour: _Stamped, reason: str, message: str) -> None:
        colour.done = True
        self.drop(reason, message)

    def drop(self, reason: str, message: str) -> None:
        """Count a frame dropped unprocessed and report why."""
        self.counts["skipped"] += 1
        self.dropped[reason] += 1
        if reason != Drop.SUPERSEDED:  # processing one frame per tick of a camera as fast: counted, not a problem
            self.problem("camera_info" if reason == Drop.NO_CAMERA_INFO else
                         "queue" if reason == Drop.QUEUE_FULL else "state", message)

    def process(self, frame: Frame) -> None:
        """Run the core on one frame and publish what is due."""
        debug_due = self._debug.due(frame.stamp)
        people_due = self._people.due(frame.stamp) or debug_due
        obstacles_due = self._obstacles.due(frame.stamp)
        if not np.isfinite(frame.depth).any():
            self.problem("depth_empty", "depth image has no valid pixel (all NaN / zero)")
        result = self.core.process(frame, obstacles=obstacles_due, people=people_due)
        self.counts["frames"] += 1
        self.last_result = result
        stamp = to_stamp(frame.stamp)
        self.pub_objects.publish(conv.objects_msg(result.objects, stamp, self.odom_frame))
        if obstacles_due and result.grid is not None:
            self._obstacles.done(frame.stamp)
            self.pub_obstacles.publish(conv.occupancy_grid_msg(result.grid, stamp, self.odom_frame))
        if people_due:
            self._people.done(frame.stamp)
            self.pub_people.publish(conv.people_msg(result.people, stamp, self.odom_frame))
            self.pub_tracked_people.publish(conv.tracked_people_msg(result.people, stamp, self.odom_frame,
                                                                    frame.stamp))
        if self._markers.due(frame.stamp) and self.pub_markers.get_subscription_count() > 0:
            self._markers.done(frame.stamp)
            self.pub_markers.publish(conv.object_markers_msg(result.objects, stamp, self.odom_frame,
                                                             self.colour_hues))
        if debug_due:
            self._debug.done(frame.stamp)
            image = self.core.debug_image(frame, result, self.params.debug_image_scale)
            self.pub_debug.publish(rgb_image_msg(image, stamp, self.camera_frame))

    # ------------------------------------------------------------------------------------------------ reporting

    def problem(self, kind: str, message: str) -> None:
        """Record a problem and warn about it, at most once per WARN_PERIOD per kind (wall time)."""
        if kind in ("input", "colour", "depth", "camera_info"):
            self.counts["input_errors"] += 1
        self.last_problem = message
        self.problems[kind] = message
        now = time.monotonic()
        if now - self._warned.get(kind, -math.inf) >= WARN_PERIOD:
            self._warned[kind] = now
            self.get_logger().warning(message)

    def publish_diagnostics(self) -> None:
        """Publish the node's health. Never raises."""
        try:
            self._publish_diagnostics()
        except Exception as error:  # reporting must not take the node down either
            self.get_logger().error(f"cannot publish diagnostics: {type(error).__name__}: {error}",
                                    throttle_duration_sec=WARN_PERIOD)

    def _publish_diagnostics(self) -> None:
        times = list(self.times_ms)
        values: dict[str, object] = dict(self.counts)
        values.update({f"dropped.{reason}": n for reason, n in sorted(self.dropped.items())})
        if times:
            values["time_median_ms"] = f"{statistics.median(times):.1f}"
            values["time_max_ms"] = f"{max(times):.1f}"
        if self.state_lead_ms:
            values["state_lead_median_ms"] = f"{statistics.median(self.state_lead_ms):.1f}"
            values["state_lead_min_ms"] = f"{min(self.state_lead_ms):.1f}"
        if self.wait_ms:
            values["wait_median_ms"] = f"{statistics.median(self.wait_ms):.1f}"
            values["wait_max_ms"] = f"{max(self.wait_ms):.1f}"
        values["pending_frames"] = sum(not c.done for c in self.colours)
        newest = self.state.newest
        values["state_newest_s"] = f"{newest:.3f}" if newest is not None else "none"
        values.update({f"state.{name}": n for name, n in self.state.counts.items()})
        result = self.last_result
        values["objects"] = len(result.objects) if result else 0
        values["people"] = len(result.people) if result else 0
        problems = "; ".join(self.problems.values())
        values.update({f"problem.{kind}": text for kind, text in self.problems.items()})
        if "internal" in self.problems or "perception" in self.problems:
            level, message = ERROR, problems
        elif self.counts["frames"] == 0:
            level, message = WARN, "no frame processed yet" + (f": {problems}" if problems else "")
        elif problems:
            level, message = WARN, problems
        else:
            level, message = OK, "ok"
        self.problems = {}
        self.pub_diagnostics.publish(diagnostics_msg(self.get_clock().now().to_msg(), "perception", level, message,
                                                     values))


def main(args: list[str] | None = None) -> int:
    return run_node("perception", Perception, args if args is not None else sys.argv,
                    fatal=(PerceptionError, ParameterError))


if __name__ == "__main__":
    sys.exit(main())
