"""The perception node in-process over real DDS: synthetic camera, joint state and odometry messages in (rendered by
the simulator, no sim_bridge), objects, obstacles, people, debug image and diagnostics out; malformed input is
reported and survived; each frame is placed in time with the state interpolated at its stamp (the state arrives
at 50 Hz, maybe after the frame), and a frame whose state never comes is dropped and counted. Waits on matched
endpoints and on messages, never on fixed sleeps. Each test gets a node of its own (tracks, buffers and counters are
the node's state)."""

import math
import threading

import numpy as np
import pytest

rclpy = pytest.importorskip("rclpy")

from diagnostic_msgs.msg import DiagnosticArray  # noqa: E402
from geometry_msgs.msg import PoseArray  # noqa: E402
from nav_msgs.msg import OccupancyGrid, Odometry  # noqa: E402
from rclpy.executors import SingleThreadedExecutor  # noqa: E402
from rclpy.qos import QoSProfile, ReliabilityPolicy  # noqa: E402
from sensor_msgs.msg import CameraInfo, Image, JointState  # noqa: E402
from std_srvs.srv import Trigger  # noqa: E402

from legion_common.messages import depth_image_msg, pose_msg, rgb_image_msg  # noqa: E402
from legion_common.stamps import header_seconds, to_stamp  # noqa: E402
from legion_common.transforms import quaternion_from_yaw  # noqa: E402
from legion_interfaces.msg import DetectedObjectArray  # noqa: E402
from legion_perception import conversions as conv  # noqa: E402
from legion_perception.state_buffer import Miss  # noqa: E402
from legion_testing.probe import Probe  # noqa: E402
from legion_testing.rendered_scene import Viewpoint, capture, look, match, reset_scene, truth  # noqa: E402

pytestmark = pytest.mark.stack  # a Legion node over DDS

CAMERA_FRAME = "head_camera_color_optical_frame"
SENSOR = QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE)
PARTS = ["red_cube_1", "red_cube_2", "blue_cylinder_1", "blue_cylinder_2", "green_cube_1", "yellow_sphere_1"]


class Rig:
    """A perception node spun on its own thread and a probe that feeds it and records its outputs."""

    def __init__(self):
        self.probe = Probe("perception_test_probe")  # initialises rclpy
        from legion_perception.perception_node import Perception

        self.node = Perception()
        self.executor = SingleThreadedExecutor()
        self.executor.add_node(self.node)
        self.pubs = {
            "colour": self.probe.publisher(Image, "head_camera/color/image_raw", SENSOR),
            "depth": self.probe.publisher(Image, "head_camera/depth/image_raw", SENSOR),
            "info": self.probe.publisher(CameraInfo, "head_camera/color/camera_info", SENSOR),
            "joints": self.probe.publisher(JointState, "joint_states", SENSOR),
            "odom": self.probe.publisher(Odometry, "odom", SENSOR),
        }
        for topic, kind in (("perception/objects", DetectedObjectArray), ("perception/obstacles", OccupancyGrid),
                            ("perception/people", PoseArray), ("perception/debug_image", Image),
                            ("diagnostics", DiagnosticArray)):
            self.probe.record(topic, kind, SENSOR)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._spin, daemon=True)
        self.thread.start()
        self.probe.wait_until(lambda: all(p.get_subscription_count() >= 1 for p in self.pubs.values()), 20.0,
                              "the perception node's subscriptions")
        self.probe.wait_until(lambda: self.node.pub_objects.get_subscription_count() >= 1
                              and self.node.pub_debug.get_subscription_count() >= 1, 20.0, "the probe's subscriptions")

    def _spin(self):
        while not self.stop.is_set() and rclpy.ok():
            self.executor.spin_once(timeout_sec=0.05)

    def publish_frame(self, sim, t: float, *, colour_encoding: str = "rgb8", with_info: bool = True,
                      depth_override: np.ndarray | None = None) -> None:
        stamp = to_stamp(t)
        cap = capture(sim)
        joints = sim.joint_state()
        joint_msg = JointState(name=list(joints.names), position=joints.position.tolist())
        joint_msg.header.stamp = stamp
        base = sim.ground_truth_base()  # in simulation `odom` is remapped from ground_truth/odom
        odom = Odometry()
        odom.header.stamp, odom.header.frame_id, odom.child_frame_id = stamp, "odom", "base_link"
        odom.pose.pose = pose_msg(base.position, base.orientation)
        self.pubs["joints"].publish(joint_msg)
        self.pubs["odom"].publish(odom)
        if with_info:
            self.pubs["info"].publish(conv.intrinsics_to_camera_info(cap.camera, stamp, CAMERA_FRAME))
        colour = rgb_image_msg(cap.rgb, stamp, CAMERA_FRAME)
        if colour_encoding != "rgb8":
            colour.encoding = colour_encoding
        self.pubs["colour"].publish(colour)
        depth = cap.depth if depth_override is None else depth_override
        self.pubs["depth"].publish(depth_image_msg(depth, stamp, CAMERA_FRAME))

    def publish_state(self, t: float, joints, position, yaw: float) -> None:
        """joint_states and odom stamped `t`: the given joint state, the base at `position` turned by `yaw`."""
        joint_msg = JointState(name=list(joints.names), position=joints.position.tolist())
        joint_msg.header.stamp = to_stamp(t)
        odom = Odometry()
        odom.header.stamp, odom.header.frame_id, odom.child_frame_id = to_stamp(t), "odom", "base_link"
        odom.pose.pose = pose_msg(position, quaternion_from_yaw(yaw))
        self.pubs["joints"].publish(joint_msg)
        self.pubs["odom"].publish(odom)

    def publish_images(self, sim, t: float) -> None:
        """Camera info, colour and depth images of what the head camera sees now, stamped `t`."""
        stamp = to_stamp(t)
        cap = capture(sim)
        self.pubs["info"].publish(conv.intrinsics_to_camera_info(cap.camera, stamp, CAMERA_FRAME))
        self.pubs["colour"].publish(rgb_image_msg(cap.rgb, stamp, CAMERA_FRAME))
        self.pubs["depth"].publish(depth_image_msg(cap.depth, stamp, CAMERA_FRAME))

    def objects_at(self, t: float) -> DetectedObjectArray | None:
        for msg in reversed(self.probe.received("perception/objects")):
            if abs(header_seconds(msg) - t) < 1e-6:
                return msg
        return None

    def feed(self, sim, times, **options) -> None:
        """Publish a frame at each time and wait for the objects the node publishes for it."""
        for t in times:
            self.publish_frame(sim, t, **options)
            self.probe.wait_until(lambda t=t: self.objects_at(t) is not None, 20.0, f"perception/objects at {t} s")

    def close(self):
        self.stop.set()
        self.thread.join(timeout=2.0)
        self.executor.shutdown()
        self.node.destroy_node()
        self.probe.close()


@pytest.fixture
def rig():
    rig = Rig()
    yield rig
    rig.close()


@pytest.fixture
def cell(sorting_cell_sim):
    """The sorting cell at its start, the head looking down at the table (the tests only render it)."""
    sim = reset_scene(sorting_cell_sim)
    look(sim, Viewpoint(neck_pitch=0.8))
    return sim


def test_objects_obstacles_and_debug_image_from_published_frames(rig, cell):
    expected = truth(cell)
    rig.feed(cell, [1.0 + 0.1 * k for k in range(6)])
    msg = rig.objects_at(1.5)
    assert msg.header.frame_id == "odom"
    objects = conv.objects_from_msg(msg)

    class Found:
        def __init__(self, item):
            self.id, self.label, self.position = item[0], item[1], item[2]

    pairs, extra, missed = match([Found(o) for o in objects], expected, gate=0.01)
    assert not extra and not missed
    assert all(found.label == expected[part][0] for part, found, _ in pairs)
    assert sorted(o[0] for o in objects) == sorted(PARTS)

    rig.probe.wait_until(lambda: rig.probe.received("perception/obstacles"), 10.0, "an obstacle grid")
    grid = rig.probe.received("perception/obstacles")[-1]
    assert grid.header.frame_id == "odom" and 100 in set(grid.data)
    rig.probe.wait_until(lambda: rig.probe.received("perception/debug_image"), 10.0, "a debug image")
    debug = rig.probe.received("perception/debug_image")[-1]
    assert (debug.encoding, debug.width, debug.height) == ("rgb8", 320, 240)
    rig.probe.wait_until(lambda: rig.probe.received("perception/people"), 10.0, "a people message")
    assert rig.probe.received("perception/people")[-1].poses == []


def test_clear_obstacles_forgets_the_grid_and_the_next_frames_map_again(rig, cell):
    """The recovery the executive uses before it retries a walk that found no way (as Nav2's costmap clearing)."""
    rig.feed(cell, [2.0 + 0.1 * k for k in range(4)])
    assert np.count_nonzero(rig.node.core.mapper.grid().data == 100) > 50
    answer = rig.probe.call(Trigger, "perception/clear_obstacles", Trigger.Request())
    assert answer.success and "occupied cells forgotten" in answer.message
    assert not np.any(rig.node.core.mapper.grid().data == 100)
    assert len(rig.node.core.tracker.tracks) > 0  # the parts are kept
    rig.feed(cell, [2.5 + 0.1 * k for k in range(3)])
    assert np.count_nonzero(rig.node.core.mapper.grid().data == 100) > 50


def test_malformed_input_is_reported_and_survived(rig, cell):
    rig.feed(cell, [4.7, 4.8, 4.9])  # the parts confirmed (3 detections in a row)
    frames_before = rig.node.counts["frames"]
    rig.publish_frame(cell, 5.0, colour_encoding="mono8")  # wrong encoding: rejected in the callback
    rig.probe.wait_until(lambda: "mono8" in rig.node.last_problem or rig.node.counts["input_errors"] > 0, 10.0,
                         "the encoding problem to be recorded")
    rig.probe.wait_until(lambda: any(s.level == b"\x01" and "mono8" in s.message
                                     for d in rig.probe.received("diagnostics") for s in d.status), 10.0,
                         "a diagnostics warning naming the encoding")
    empty = np.full((480, 640), np.nan, np.float32)  # no valid depth at all: processed, nothing new found
    rig.publish_frame(cell, 5.1, depth_override=empty)
    rig.probe.wait_until(lambda: rig.objects_at(5.1) is not None, 10.0, "objects for the frame without depth")
    # still alive and still right afterwards
    rig.publish_frame(cell, 5.2)
    rig.probe.wait_until(lambda: rig.objects_at(5.2) is not None, 10.0, "objects after the bad frames")
    assert len(rig.objects_at(5.2).objects) == 6
    assert rig.node.counts["frames"] >= frames_before + 2
    assert rig.node.counts["internal_errors"] == 0


def test_frames_before_any_camera_info_are_skipped_with_a_warning(rig, cell):
    assert rig.node.camera is None  # a new node: images arrive before the first camera_info
    skipped = rig.node.counts["skipped"]
    rig.publish_frame(cell, 7.0, with_info=False)
    rig.probe.wait_until(lambda: rig.node.counts["skipped"] > skipped, 10.0, "the frame to be skipped")
    rig.probe.wait_until(lambda: any("camera_info" in s.message for d in rig.probe.received("diagnostics")
                                     for s in d.status), 10.0, "a diagnostics warning about camera_info")
    assert rig.objects_at(7.0) is None
    cap = capture(cell)
    rig.pubs["info"].publish(conv.intrinsics_to_camera_info(cap.camera, to_stamp(7.05), CAMERA_FRAME))
    rig.probe.wait_until(lambda: rig.node.camera is not None, 10.0, "the camera_info to be taken")
    rig.publish_frame(cell, 7.1)  # processed again
    rig.probe.wait_until(lambda: rig.objects_at(7.1) is not None, 10.0, "objects once camera_info arrived")


def test_time_going_back_resets_and_goes_on(rig, cell):
    """A simulation reset restarts the clock: the node forgets its tracks and processes the new frames."""
    rig.feed(cell, [8.8, 8.9, 9.0])
    assert len(rig.objects_at(9.0).objects) == 6
    rig.feed(cell, [0.2, 0.3, 0.4, 0.5])  # after the reset
    assert len(rig.objects_at(0.2).objects) == 0  # tracks start again: not yet confirmed
    assert len(rig.objects_at(0.5).objects) == 6


def _errors(msg: DetectedObjectArray, expected: dict) -> list[float]:
    class Found:
        def __init__(self, item):
            self.id, self.label, self.position = item[0], item[1], item[2]

    pairs, _, _ = match([Found(o) for o in conv.objects_from_msg(msg)], expected, gate=0.1)
    return [error for _, _, error in pairs]


def test_a_frame_between_two_state_samples_uses_the_state_interpolated_at_its_stamp(rig, cell):
    """The base drives at 1 m/s and turns at 0.5 rad/s; odom and joint_states come at 50 Hz; each frame is stamped 8 ms
    after a sample and arrives before the sample after it (it waits for it). The parts come out where they are:
    0.4-1.9 mm off (robot camera errors); with the nearest sample (8 ms old: the camera 8 mm and 4 mrad off) they
    were 7.3-8.5 mm off."""
    speed, turn_rate, centre = 1.0, 0.5, 1.0
    base_z = cell.ground_truth_base().position[2]
    joints = None

    def base(t):
        return np.array([speed * (t - centre), 0.0, base_z]), turn_rate * (t - centre)

    expected = truth(cell)
    sample = 0.9  # the next state sample to publish, on a 50 Hz grid
    frames = [centre - 0.06 + 0.04 * k + 0.008 for k in range(5)]
    for t in frames:
        position, yaw = base(t)
        look(cell, Viewpoint(x=position[0], y=position[1], yaw=yaw, neck_pitch=0.8))
        joints = cell.joint_state()
        while sample <= t:
            rig.publish_state(sample, joints, *base(sample))
            sample = round(sample + 0.02, 6)
        waited = rig.node.state.misses[Miss.NOT_YET]
        rig.publish_images(cell, t)  # the frame overtakes the state sample after it
        rig.probe.wait_until(lambda w=waited: rig.node.state.misses[Miss.NOT_YET] > w, 10.0,
                             f"the frame at {t:.3f} s to wait for its state")
        assert rig.objects_at(t) is None
        rig.publish_state(sample, joints, *base(sample))
        sample = round(sample + 0.02, 6)
        rig.probe.wait_until(lambda t=t: rig.objects_at(t) is not None, 20.0, f"perception/objects at {t:.3f} s")
    errors = _errors(rig.objects_at(frames[-1]), expected)
    assert len(errors) == len(PARTS)
    assert max(errors) < 0.004, [f"{e * 1e3:.1f} mm" for e in errors]
    assert rig.node.counts["frames"] == len(frames) and not rig.node.dropped
    rig.probe.wait_until(lambda: any(any(v.key == "state_lead_median_ms" for v in s.values)
                                     for d in rig.probe.received("diagnostics") for s in d.status), 10.0,
                         "diagnostics with the state's lead over the frames")


def test_a_frame_whose_state_never_comes_is_dropped_and_counted(rig, cell):
    joints = cell.joint_state()
    base = cell.ground_truth_base()
    for k in range(6):
        rig.publish_state(2.0 + 0.02 * k, joints, base.position, 0.0)
    rig.probe.wait_until(lambda: rig.node.state.newest is not None and math.isclose(rig.node.state.newest, 2.1),
                         10.0, "the state up to 2.1 s")
    rig.publish_images(cell, 2.3)  # 0.2 s after the newest state, which then stops
    rig.probe.wait_until(lambda: rig.node.dropped["state_late"] == 1, 10.0, "the frame to be dropped")
    assert rig.objects_at(2.3) is None and rig.node.counts["frames"] == 0
    rig.probe.wait_until(lambda: any(s.level == b"\x01" and "did not arrive" in s.message
                                     and any(v.key == "dropped.state_late" and v.value == "1" for v in s.values)
                                     for d in rig.probe.received("diagnostics") for s in d.status), 10.0,
                         "a diagnostics warning counting the late state")
    rig.publish_images(cell, 0.5)  # older than the buffer holds (and not a time reset: within 2 s)
    rig.probe.wait_until(lambda: rig.node.dropped["state_too_old"] == 1, 10.0, "the too old frame to be dropped")
    rig.publish_images(cell, 2.05)  # between two samples: processed
    rig.probe.wait_until(lambda: rig.objects_at(2.05) is not None, 10.0, "objects for a frame with its state")
