"""`viewer`: the ROS 2 adapter of `legion_viewer.scene`: a live view of the robot and its cell in the browser.

A thin node: its subscriptions store the newest message of each topic in a `SceneState`, and one wall-clock timer
(`update_rate`) sends the browser what changed (`ViserScene.draw`). The page is served by viser on `host`:`port`
(127.0.0.1 by default: the view stays on this machine); a browser needs no ROS install.

Subscribes: `robot_description` (std_msgs/String, transient-local), `joint_states` (sensor_msgs/JointState) and
`odom` (nav_msgs/Odometry) (the launch remaps both to the state estimator's 50 Hz `.../decimated`; best effort, keep
the newest: the viewer never slows the control path), `map` (nav_msgs/OccupancyGrid, transient-local),
`perception/objects` (DetectedObjectArray), `gait/footsteps` (FootstepPlan, transient-local),
`perception/people` (geometry_msgs/PoseArray), `perception/debug_image` (sensor_msgs/Image, the face-blurred image;
never the raw camera), `executive/status` (ExecutiveStatus); found in the ROS graph every `discovery_period`:
`safety/state` (legion_interfaces/SafetyState, once it exists) and every visualization_msgs/MarkerArray topic whose
name ends in `markers` (each with its publishers' durability).
Publishes: `diagnostics` (the view's problems and its draw rate).
Parameters: see `ViewerParameters` (`/**/viewer` in config/stack.yaml).
"""

from __future__ import annotations

import importlib
import time
from dataclasses import dataclass
from typing import Any

from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import PoseArray
from nav_msgs.msg import OccupancyGrid, Odometry
from rclpy.clock import Clock, ClockType
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image, JointState
from std_msgs.msg import String
from visualization_msgs.msg import MarkerArray

from legion_common.diagnostics import OK, WARN, diagnostics_msg
from legion_common.node import LegionNode
from legion_common.node_main import run_node
from legion_common.parameters import ParameterError, declare_parameters, param, require
from legion_interfaces.msg import DetectedObjectArray, ExecutiveStatus, FootstepPlan
from legion_viewer.errors import ViewerError
from legion_viewer.scene import SceneState, ViewSettings, ViserScene

NEWEST_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1, reliability=ReliabilityPolicy.BEST_EFFORT)
"""High-rate state and images: only the newest matters, and a best-effort reader costs the writer no resends."""
INPUT_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=5, reliability=ReliabilityPolicy.RELIABLE)
LATCHED_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1, reliability=ReliabilityPolicy.RELIABLE,
                         durability=DurabilityPolicy.TRANSIENT_LOCAL)
MARKER_TYPE = "visualization_msgs/msg/MarkerArray"
SAFETY_TOPIC = "safety/state"


@dataclass(frozen=True)
class ViewerParameters:
    """The node's parameters (`/**/viewer` in config/stack.yaml)."""

    robot: str = param("centurion", "Robot name or robot file: its sole size (footsteps).")
    host: str = param("127.0.0.1", "Address the web page is served on (127.0.0.1: this machine only; 0.0.0.0: "
                                   "every interface).")
    port: int = param(8080, "TCP port of the web page (and its websocket).", low=1, high=65535)
    update_rate: float = param(20.0, "Rate at which the browser is sent what changed (wall clock).", unit="Hz",
                               low=1.0, high=60.0)
    discovery_period: float = param(2.0, "How often the ROS graph is searched for `*markers` topics and "
                                         "safety/state.", unit="s", low=0.1, high=60.0)
    joint_tolerance: float = param(0.002, "A link is re-sent to the browser when its joint has moved more than this "
                                          "since it was last sent.", unit="rad or m", low=0.0, high=0.1)
    occupied_threshold: int = param(50, "Occupancy from which a map cell is drawn.", low=0, high=100)
    person_radius: float = param(0.25, "Radius of the cylinder drawn for a person.", unit="m", low=0.05, high=2.0)
    camera_offset: tuple[float, ...] = param((2.5, -3.0, 2.0), "Browser camera's start position relative to the "
                                                               "robot's first pose (world axes).", unit="m",
                                             low=-50.0, high=50.0)
    camera_target_height: float = param(0.8, "Height above the robot's first position the camera looks at.",
                                        unit="m", low=-5.0, high=5.0)
    environment_map: str = param("", "viser environment map preset, '' for none (without a GPU a browser renders "
                                     "one at well under 1 frame/s).",
                                 choices=("", "apartment", "city", "dawn", "forest", "lobby", "night", "park",
                                          "studio", "sunset", "warehouse"))

    def validated(self) -> ViewerParameters:
        require(len(self.camera_offset) == 3, "camera_offset must have 3 values (x, y, z)")
        require(bool(self.host), "host must not be empty")
        return self


class ViewerNode(LegionNode):
    def __init__(self, **kwargs) -> None:
        super().__init__("viewer", **kwargs)
        self.params = declare_parameters(self, ViewerParameters).validated()
        sole_length, sole_width = _sole_size(self.params.robot)
        settings = ViewSettings(occupied_threshold=self.params.occupied_threshold, sole_length=sole_length,
                                sole_width=sole_width, person_radius=self.params.person_radius,
                                camera_offset=tuple(self.params.camera_offset),
                                camera_target_height=self.params.camera_target_height,
                                environment_map=self.params.environment_map,
                                joint_tolerance=self.params.joint_tolerance)
        import viser

        try:
            self.server = viser.ViserServer(host=self.params.host, port=self.params.port, label="Legion",
                                            verbose=False)
        except OSError as error:
            raise ViewerError(f"cannot serve on {self.params.host}:{self.params.port}: {error}") from error
        self.url = f"http://{self.params.host}:{self.server.get_port()}"
        self.view = ViserScene(self.server, settings)
        self.state = SceneState(occupied_threshold=self.params.occupied_threshold)
        state = self.state
        self.create_subscription(String, "robot_description", state.on_description, LATCHED_QOS)
        self.create_subscription(JointState, "joint_states", state.on_joint_states, NEWEST_QOS)
        self.create_subscription(Odometry, "odom", state.on_odometry, NEWEST_QOS)
        self.create_subscription(OccupancyGrid, "map", state.on_map, LATCHED_QOS)
        self.create_subscription(DetectedObjectArray, "perception/objects", state.on_objects, INPUT_QOS)
        self.create_subscription(FootstepPlan, "gait/footsteps", state.on_footsteps, LATCHED_QOS)
        self.create_subscription(PoseArray, "perception/people", state.on_people, INPUT_QOS)
        self.create_subscription(Image, "perception/debug_image", state.on_image, NEWEST_QOS)
        self.create_subscription(ExecutiveStatus, "executive/status", state.on_executive_status, INPUT_QOS)
        self.pub_diagnostics = self.create_publisher(DiagnosticArray, "diagnostics", INPUT_QOS)
        self._dynamic: dict[str, Any] = {}
        """Topic -> subscription, for the topics found in the graph."""
        wall = Clock(clock_type=ClockType.STEADY_TIME)  # the browser's rate is a wall-clock rate, sim time or not
        self.create_timer(1.0 / self.params.update_rate, self.on_draw, clock=wall)
        self.create_timer(self.params.discovery_period, self.on_discovery, clock=wall)
        self.create_timer(1.0, self.on_diagnostics, clock=wall)
        self.draws = 0
        self.draw_seconds = 0.0
        self.on_discovery()
        self.get_logger().info(f"viewer: open {self.url} in a browser")

    def on_draw(self) -> None:
        start = time.perf_counter()
        try:
            self.view.draw(self.state)
        except Exception as error:  # a drawing error must not stop the view: report it, keep serving
            self.state.problems["draw"] = f"{type(error).__name__}: {error}"
        self.draws += 1
        self.draw_seconds += time.perf_counter() - start

    def on_discovery(self) -> None:
        """Subscribe to safety/state and to every `*markers` MarkerArray topic that has appeared in the graph."""
        for topic, types in self.get_topic_names_and_types():
            relative = self._relative(topic)
            if relative is None or topic in self._dynamic:
                continue
            if relative.endswith("markers") and MARKER_TYPE in types:
                self._dynamic[topic] = self.create_subscription(
                    MarkerArray, topic, lambda msg, t=relative: self.state.on_markers(t, msg), self._qos_of(topic))
            elif relative == SAFETY_TOPIC:
                kind = _message_class(types[0])
                if kind is None:
                    self.state.problems["safety"] = f"{topic} has type {types[0]}, which is not installed here"
                    continue
                self._dynamic[topic] = self.create_subscription(kind, topic, self.state.on_safety_state,
                                                                self._qos_of(topic))

    def _relative(self, topic: str) -> str | None:
        """`topic` relative to this node's namespace, or None if it is outside it."""
        namespace = self.get_namespace().rstrip("/")
        if not topic.startswith(namespace + "/"):
            return None
        return topic[len(namespace) + 1:]

    def _qos_of(self, topic: str) -> QoSProfile:
        """Transient-local (the newest latched message on joining) if every publisher offers it, else volatile."""
        infos = self.get_publishers_info_by_topic(topic)
        latched = bool(infos) and all(i.qos_profile.durability == DurabilityPolicy.TRANSIENT_LOCAL for i in infos)
        return LATCHED_QOS if latched else INPUT_QOS

    def on_diagnostics(self) -> None:
        problems = dict(self.state.problems)
        values = {"url": self.url, "draws": self.draws, "clients": len(self.server.get_clients()),
                  "draw_time_mean_ms": 1000.0 * self.draw_seconds / max(self.draws, 1),
                  "marker_topics": " ".join(sorted(t for t in self._dynamic if t.endswith("markers")))}
        values |= {f"problem.{k}": v for k, v in problems.items()}
        level, message = (WARN, f"{len(problems)} input(s) not shown") if problems else (OK, "ok")
        self.pub_diagnostics.publish(diagnostics_msg(self.get_clock().now().to_msg(), "viewer", level, message,
                                                     values))

    def close(self) -> None:
        self.server.stop()


def _sole_size(robot: str) -> tuple[float, float]:
    """The robot file's sole length and width [m] (the footstep rectangles)."""
    from legion_description import DescriptionError, load_robot_config

    try:
        config = load_robot_config(robot)
    except DescriptionError as error:
        raise ViewerError(str(error)) from error
    return config.sole_length, config.sole_width


def _message_class(type_name: str) -> Any:
    """`pkg/msg/Name` -> the message class, or None when that package or message is not installed."""
    package, _, name = type_name.partition("/msg/")
    try:
        return getattr(importlib.import_module(f"{package}.msg"), name)
    except (ImportError, AttributeError):
        return None


def main(args=None) -> int:
    return run_node("viewer", ViewerNode, args, fatal=(ParameterError, ViewerError))


if __name__ == "__main__":
    raise SystemExit(main())
