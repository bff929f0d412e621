"""TF over the whole stack, over DDS in lockstep simulation: the state estimator's `odom` -> `base_link` and
`odom` -> `base_footprint` on `tf` agree with `odom`, at its `tf_rate`; the link transforms (robot_state_publisher,
or on the pip path link_state_publisher) on `tf` and `tf_static` reach the gripper and camera frames from `odom`, and
the gripper pose composed along TF is the robot model's forward kinematics of the same stamp's state."""

from __future__ import annotations

import numpy as np
import pytest
from diagnostic_msgs.msg import DiagnosticArray
from nav_msgs.msg import Odometry
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import JointState
from tf2_msgs.msg import TFMessage

from legion_bringup.launcher import LaunchedNodes
from legion_common.messages import xyz, xyzw
from legion_common.stamps import header_seconds, to_seconds
from legion_common.transforms import pose_to_matrix, yaw_from_quaternion
from legion_description import load_robot_config
from legion_model import RobotModel
from legion_testing.probe import LATCHED, Probe

STARTUP = 120.0
"""[s] wall: model builds, DDS discovery, the first transforms."""
SIM_TIMEOUT = 180.0
"""[s] wall allowed per wait for simulated time (lockstep runs slower than real time on 2 cores)."""
TF_QOS = QoSProfile(depth=500, reliability=ReliabilityPolicy.RELIABLE)

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def stack():
    launched = LaunchedNodes("stack", {"scene": "empty", "lockstep": "true"}, echo=False,
                             extra_parameters={"sim_bridge": {"camera_rate": 0.0}})
    probe = Probe("tf_stack_test_probe")
    probe.record("tf", TFMessage, TF_QOS)
    probe.record("tf_static", TFMessage, LATCHED)
    for topic, kind in (("odom/decimated", Odometry), ("joint_states/decimated", JointState),
                        ("joint_states", JointState), ("diagnostics", DiagnosticArray)):
        probe.record(topic, kind)
    try:
        probe.wait_until(lambda: probe.received("tf_static") and len(probe.received("tf")) > 20, STARTUP,
                         "tf and tf_static")
        yield probe, launched
    finally:
        probe.close()
        launched.shutdown()


def _transforms(messages) -> list:
    return [t for msg in messages for t in msg.transforms]


def test_base_transforms_agree_with_odom_at_the_tf_rate(stack):
    probe, _ = stack
    config = load_robot_config("centurion")
    odom_frame, base_frame = config.frames["odom"], config.frames["base"]
    probe.clear("tf")
    start = probe.latest_time()
    probe.wait_sim_time(2.0, SIM_TIMEOUT)
    base = [t for t in _transforms(probe.received("tf")) if t.child_frame_id == base_frame]
    footprint = {to_seconds(t.header.stamp): t for t in _transforms(probe.received("tf"))
                 if t.child_frame_id == "base_footprint"}
    assert base and all(t.header.frame_id == odom_frame for t in base)
    stamps = [to_seconds(t.header.stamp) for t in base]
    in_window = sorted(s for s in stamps if start + 0.1 <= s <= start + 1.9)
    # 50 Hz of simulated time: at most 91 in 1.8 s, and consecutive stamps 20 ms apart. A probe starved of CPU on a
    # busy machine loses some messages (its reader falls behind the writer's history), so the rate is judged by the
    # usual gap, not by the count alone.
    gaps = np.diff(in_window)
    assert len(in_window) <= 91, f"{len(in_window)} odom -> base_link transforms in 1.8 s (tf_rate 50 Hz)"
    assert len(in_window) >= 45 and np.median(gaps) == pytest.approx(0.02, abs=1e-6), (
        f"{len(in_window)} odom -> base_link transforms in 1.8 s, median gap {np.median(gaps):.4f} s (tf_rate 50 Hz)")
    assert np.all(gaps > 0.02 - 1e-6), "two transforms closer than one tf period"
    odom = {round(header_seconds(m), 6): m for m in probe.received("odom/decimated")}
    matched = 0
    for transform in base:
        stamp = to_seconds(transform.header.stamp)
        msg = odom.get(round(stamp, 6))
        if msg is None:
            continue
        matched += 1
        np.testing.assert_allclose(xyz(transform.transform.translation), xyz(msg.pose.pose.position))
        np.testing.assert_allclose(xyzw(transform.transform.rotation), xyzw(msg.pose.pose.orientation))
        foot = footprint[stamp]
        assert foot.header.frame_id == odom_frame
        np.testing.assert_allclose(xyz(foot.transform.translation)[:2], xyz(msg.pose.pose.position)[:2])
        assert foot.transform.translation.z == 0.0
        assert yaw_from_quaternion(xyzw(foot.transform.rotation)) == pytest.approx(
            yaw_from_quaternion(xyzw(msg.pose.pose.orientation)), abs=1e-9)
    assert matched >= 0.9 * len(base), f"only {matched} of {len(base)} transforms have an odom of their stamp"


def test_link_tree_reaches_grippers_and_camera_as_the_model_says(stack):
    probe, _ = stack
    config = load_robot_config("centurion")
    static = {t.child_frame_id: t for t in _transforms(probe.received("tf_static"))}
    moving: dict[str, dict[float, object]] = {}
    for t in _transforms(probe.received("tf")):
        moving.setdefault(t.child_frame_id, {})[round(to_seconds(t.header.stamp), 6)] = t
    parent_of = {child: t.header.frame_id for child, t in static.items()}
    parent_of |= {child: next(iter(by_stamp.values())).header.frame_id for child, by_stamp in moving.items()}
    targets = [config.sides[side].gripper for side in config.sides] + [config.frames["camera_color_optical"],
                                                                         config.frames["camera_depth_optical"]]

    def chain(frame: str) -> list[str]:
        frames = [frame]
        while frames[-1] in parent_of and len(frames) < 100:
            frames.append(parent_of[frames[-1]])
        return frames

    for target in targets:
        assert chain(target)[-1] == config.frames["odom"], f"{target} does not reach odom: {chain(target)}"
    # The left gripper in odom at a stamp every transform of its chain has, composed along TF, equals the model's
    # forward kinematics of odom and the joint states of that stamp (what the estimator and the link publisher had).
    gripper = config.sides["left"].gripper
    links = chain(gripper)[:-1]
    common = set.intersection(*(set(moving[f]) for f in links if f not in static))
    joints = {round(header_seconds(m), 6): m for m in probe.received("joint_states/decimated")}
    odom = {round(header_seconds(m), 6): m for m in probe.received("odom/decimated")}
    stamps = sorted(common & set(joints) & set(odom))
    assert stamps, "no stamp at which tf, joint_states/decimated and odom/decimated all have the gripper's chain"
    stamp = stamps[-1]
    composed = np.eye(4)
    for frame in links:
        t = static[frame] if frame in static else moving[frame][stamp]
        composed = pose_to_matrix(xyz(t.transform.translation), xyzw(t.transform.rotation)) @ composed
    model = RobotModel.load("centurion")
    base_pose = odom[stamp].pose.pose
    state = joints[stamp]
    model.update(model.q_from_joint_positions(np.concatenate([xyz(base_pose.position), xyzw(base_pose.orientation)]),
                                              dict(zip(state.name, state.position, strict=True))))
    np.testing.assert_allclose(composed, model.transform_frame_to_world_matrix(gripper), atol=1e-6)


def test_every_topic_the_rviz_config_shows_is_on_the_graph_with_its_type(stack):
    """The running stack's graph (publishers and their types), for config/legion.rviz (tests/test_rviz_config.py
    checks the same from the nodes' source)."""
    from test_rviz_config import rviz_topics

    probe, _ = stack
    topics = rviz_topics()
    missing: list[str] = []

    def all_published() -> bool:
        missing.clear()
        for display, topic, kind in topics:
            types = {info.topic_type for info in probe.node.get_publishers_info_by_topic(topic)}
            if kind not in types:
                missing.append(f"{display}: {topic} ({kind}; published as {sorted(types)})")
        return not missing

    probe.wait_until(all_published, 30.0, "a publisher of every topic config/legion.rviz shows")
    assert not missing, missing
