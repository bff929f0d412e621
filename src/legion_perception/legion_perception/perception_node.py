"""`perception`: the head RGB-D camera turned into parts, obstacles and people, with faces anonymised.

A thin ROS 2 adapter over `legion_perception.pipeline.PerceptionCore` (see that module and docs/privacy.md).
"""

from __future__ import annotations

import math
import statistics
import sys
import time
from collections import deque
from dataclasses import dataclass

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import PoseArray
from nav_msgs.msg import OccupancyGrid, Odometry
from rclpy.node import Node
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, Image, JointState

from legion_common.diagnostics import ERROR, OK, WARN, diagnostics_msg
from legion_common.messages import EncodingError, image_to_depth, image_to_rgb, rgb_image_msg
from legion_common.node_main import run_node
from legion_common.parameters import ParameterError, declare_parameters
from legion_common.stamps import header_seconds, to_stamp
from legion_description import DescriptionError, load_robot_config
from legion_interfaces.msg import DetectedObjectArray
from legion_model import ModelError, RobotModel
from legion_perception import conversions as conv
from legion_perception.camera_pose import CameraPoseSource
from legion_perception.config import NodeParameters, PerceptionConfig
from legion_perception.errors import ConfigError, InputError, PerceptionError
from legion_perception.pipeline import Frame, PerceptionCore

INPUT_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=2, reliability=ReliabilityPolicy.RELIABLE)
"""Images and camera infos, as the hardware publishes them (docs/interfaces.md): reliable, so that a 1 MB image is
not lost to one dropped fragment, and only the newest two kept."""
STATE_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=50, reliability=ReliabilityPolicy.RELIABLE)
OUTPUT_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=2, reliability=ReliabilityPolicy.RELIABLE)
PAIR_BUFFER = 3
"""Colour and depth images kept per topic to pair them by stamp."""
WARN_PERIOD = 2.0
"""[s] between two warnings of the same kind."""
TIME_JUMP = 1.0
"""[s] a frame stamped this much before the last one processed means time went back (a simulation reset)."""


@dataclass
class _Stamped:
    stamp: float
    value: object


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


class Perception(Node):
    """Parts, obstacles and people from the head RGB-D camera, in `odom`, with faces anonymised in every image out.

    Subscribes (reliable; images and infos depth 2, states depth 50):
        `head_camera/color/image_raw` (sensor_msgs/Image rgb8, bgr8, rgba8 or bgra8),
        `head_camera/color/camera_info` (sensor_msgs/CameraInfo; the depth image is registered to it),
        `head_camera/depth/image_raw` (sensor_msgs/Image 32FC1 [m] or 16UC1 [mm]),
        `joint_states` (sensor_msgs/JointState), `odom` (nav_msgs/Odometry, `odom` -> base).
    Publishes (reliable, depth 2):
        `perception/objects` (legion_interfaces/DetectedObjectArray, frame `odom`): confirmed part tracks, every
            processed frame;
        `perception/obstacles` (nav_msgs/OccupancyGrid, frame `odom`, floor removed) at `obstacles_rate`;
        `perception/people` (geometry_msgs/PoseArray, frame `odom`): face centres of the people held, at
            `people_rate`;
        `perception/debug_image` (sensor_msgs/Image rgb8, camera frame): faces anonymised, detections drawn, at
            `debug_image_rate`;
        `diagnostics` (diagnostic_msgs/DiagnosticArray) at `diagnostics_rate`: timing, counts, last problem.
    Parameters (`config/stack.yaml`, block `perception`; each with its description, unit and range):
        `legion_perception.config.NodeParameters` (robot, process_rate, sync_tolerance, state_tolerance,
        people_rate, obstacles_rate, debug_image_rate, debug_image_scale, diagnostics_rate) and the groups of
        `legion_perception.config.PerceptionConfig` (detection.*, tracking.*, obstacles.*, people.*, privacy.*).

    The camera pose of a frame is `odom` -> base from the `odom` message nearest the frame's stamp composed with
    base -> camera from forward kinematics of the nearest `joint_states` (legion_model). Callbacks only convert and
    store; one timer does the processing. Malformed or missing input (no camera_info yet, wrong encoding, sizes that
    disagree, depth full of NaN, no odometry) is reported as a throttled warning and on `diagnostics`, and the frame
    is skipped; the node never stops. Raw camera frames are never written anywhere (docs/privacy.md).
    """

    def __init__(self, *, model=None) -> None:
        super().__init__("perception")
        self.params: NodeParameters = declare_parameters(self, NodeParameters)
        self.config: PerceptionConfig = declare_parameters(self, PerceptionConfig)
        try:
            robot_config = load_robot_config(self.params.robot)
            self.odom_frame = robot_config.frames["odom"]
            self.camera_frame = robot_config.frames["camera_color_optical"]
            if model is None:
                model = RobotModel.load(self.params.robot, lock_hands=True)
            self.camera_pose = CameraPoseSource(model, self.camera_frame)
        except (DescriptionError, ModelError) as error:
            raise ConfigError(f"robot '{self.params.robot}': {error}") from error
        self.core = PerceptionCore(self.config)

        self.colours: deque[_Stamped] = deque(maxlen=PAIR_BUFFER)
        self.depths: deque[_Stamped] = deque(maxlen=PAIR_BUFFER)
        self.camera = None
        self.odom: deque[_Stamped] = deque(maxlen=200)
        self.joint_states: deque[_Stamped] = deque(maxlen=1500)
        self.last_processed = -math.inf
        self.times_ms: deque[float] = deque(maxlen=100)
        self.counts = {"frames": 0, "skipped": 0, "input_errors": 0, "internal_errors": 0}
        self.last_problem = ""
        self.problems: dict[str, str] = {}
        """Problem kind -> latest message since the last diagnostics."""
        self._warned: dict[str, float] = {}
        self._people = _Schedule(self.params.people_rate)
        self._obstacles = _Schedule(self.params.obstacles_rate)
        self._debug = _Schedule(self.params.debug_image_rate)
        self.last_result = None

        self.pub_objects = self.create_publisher(DetectedObjectArray, "perception/objects", OUTPUT_QOS)
        self.pub_obstacles = self.create_publisher(OccupancyGrid, "perception/obstacles", OUTPUT_QOS)
        self.pub_people = self.create_publisher(PoseArray, "perception/people", OUTPUT_QOS)
        self.pub_debug = self.create_publisher(Image, "perception/debug_image", OUTPUT_QOS)
        self.pub_diagnostics = self.create_publisher(DiagnosticArray, "diagnostics", OUTPUT_QOS)
        self.create_subscription(Image, "head_camera/color/image_raw", self.on_colour, INPUT_QOS)
        self.create_subscription(Image, "head_camera/depth/image_raw", self.on_depth, INPUT_QOS)
        self.create_subscription(CameraInfo, "head_camera/color/camera_info", self.on_camera_info, INPUT_QOS)
        self.create_subscription(JointState, "joint_states", self.on_joint_states, STATE_QOS)
        self.create_subscription(Odometry, "odom", self.on_odom, STATE_QOS)
        self.create_timer(1.0 / self.params.process_rate, self.on_timer)
        self.create_timer(1.0 / self.params.diagnostics_rate, self.publish_diagnostics)
        self.get_logger().info(f"perception for robot '{self.params.robot}': camera frame '{self.camera_frame}', "
                               f"output frame '{self.odom_frame}'")

    # ------------------------------------------------------------------------------------------------ callbacks

    def on_colour(self, msg: Image) -> None:
        try:
            self.colours.append(_Stamped(header_seconds(msg), image_to_rgb(msg)))
        except EncodingError as error:
            self.problem("colour", f"colour image dropped: {error}")

    def on_depth(self, msg: Image) -> None:
        try:
            self.depths.append(_Stamped(header_seconds(msg), image_to_depth(msg)))
        except EncodingError as error:
            self.problem("depth", f"depth image dropped: {error}")

    def on_camera_info(self, msg: CameraInfo) -> None:
        try:
            self.camera = conv.camera_info_to_intrinsics(msg)
        except InputError as error:
            self.problem("camera_info", f"camera_info ignored: {error}")
            return
        if msg.header.frame_id and msg.header.frame_id != self.camera_frame:
            self.problem("camera_frame", f"camera_info frame '{msg.header.frame_id}' is not the robot's camera "
                         f"frame '{self.camera_frame}'; using the kinematics of '{self.camera_frame}'")

    def on_joint_states(self, msg: JointState) -> None:
        self.joint_states.append(_Stamped(header_seconds(msg), msg))

    def on_odom(self, msg: Odometry) -> None:
        self.odom.append(_Stamped(header_seconds(msg), msg))

    # ------------------------------------------------------------------------------------------------ processing

    def on_timer(self) -> None:
        """Process the newest complete frame, if there is a new one. Never raises."""
        try:
            frame = self.next_frame()
            if frame is None:
                return
            self.process(frame)
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
        """The newest unprocessed frame with its camera pose, or None (with a warning saying what is missing)."""
        pair = self._newest_pair()
        if pair is None:
            return None
        colour, depth = pair
        stamp = colour.stamp
        self.last_processed = max(colour.stamp, depth.stamp)
        if self.camera is None:
            self.counts["skipped"] += 1
            self.problem("camera_info", "no valid head_camera/color/camera_info yet; frame skipped")
            return None
        odom = _nearest(self.odom, stamp)
        joints = _nearest(self.joint_states, stamp)
        if odom is None or joints is None:
            self.counts["skipped"] += 1
            self.problem("state", f"no {'odom' if odom is None else 'joint_states'} received yet; frame skipped")
            return None
        gap = max(abs(odom.stamp - stamp), abs(joints.stamp - stamp))
        if gap > self.params.state_tolerance:
            self.counts["skipped"] += 1
            self.problem("state", f"odom / joint_states are {gap:.3f} s away from the frame's stamp; frame skipped")
            return None
        base_to_odom = conv.odometry_to_matrix(odom.value)
        camera_to_odom = self.camera_pose.camera_to_odom(base_to_odom, conv.joint_positions(joints.value))
        return Frame(rgb=colour.value, depth=depth.value, camera=self.camera, camera_to_odom=camera_to_odom,
                     robot_xy=base_to_odom[:2, 3].copy(), stamp=stamp)

    def _newest_pair(self) -> tuple[_Stamped, _Stamped] | None:
        """The newest unprocessed colour and depth images with matching stamps (they arrive on two topics, in either
        order). Warns if images keep arriving without ever pairing up."""
        colours, depths = list(self.colours), list(self.depths)
        if colours and colours[-1].stamp < self.last_processed - TIME_JUMP:
            self.get_logger().info(f"time went back from {self.last_processed:.3f} s to {colours[-1].stamp:.3f} s "
                                   "(simulation reset?): forgetting tracks, people and the obstacle grid")
            self.core.reset()
            self.last_processed = -math.inf
            now = colours[-1].stamp + TIME_JUMP
            for buffer in (self.odom, self.joint_states):  # keep only the states of the new time line
                fresh = [item for item in buffer if item.stamp <= now]
                buffer.clear()
                buffer.extend(fresh)
        for colour in reversed(colours):
            if colour.stamp <= self.last_processed:
                break
            for depth in reversed(depths):
                if abs(colour.stamp - depth.stamp) <= self.params.sync_tolerance:
                    return colour, depth
        if colours and depths and len(colours) == PAIR_BUFFER and len(depths) == PAIR_BUFFER:
            newest = max(colours[-1].stamp, depths[-1].stamp)
            if newest > self.last_processed and min(colours[0].stamp, depths[0].stamp) > self.last_processed:
                self.problem("sync", f"no colour and depth images with stamps within {self.params.sync_tolerance} s "
                             f"of each other (newest colour {colours[-1].stamp:.3f} s, depth {depths[-1].stamp:.3f} s)")
        return None

    def process(self, frame: Frame) -> None:
        """Run the core on one frame and publish what is due."""
        debug_due = self._debug.due(frame.stamp)
        people_due = self._people.due(frame.stamp) or debug_due
        obstacles_due = self._obstacles.due(frame.stamp)
        if not np.isfinite(frame.depth).any():
            self.problem("depth_empty", "depth image has no valid pixel (all NaN / zero)")
        started = time.perf_counter()
        result = self.core.process(frame, obstacles=obstacles_due, people=people_due)
        self.times_ms.append((time.perf_counter() - started) * 1e3)
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
        if times:
            values["time_median_ms"] = f"{statistics.median(times):.1f}"
            values["time_max_ms"] = f"{max(times):.1f}"
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


def _nearest(buffer: deque[_Stamped], stamp: float) -> _Stamped | None:
    """The buffered message whose stamp is nearest `stamp`."""
    best, best_gap = None, math.inf
    for item in reversed(buffer):
        gap = abs(item.stamp - stamp)
        if gap < best_gap:
            best, best_gap = item, gap
        elif item.stamp < stamp:
            break  # stamps only get older from here
    return best


def main(args: list[str] | None = None) -> int:
    return run_node("perception", Perception, args if args is not None else sys.argv,
                    fatal=(PerceptionError, ParameterError))


if __name__ == "__main__":
    sys.exit(main())
