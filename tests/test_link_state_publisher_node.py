"""The `link_state_publisher` node in-process over DDS: a robot_description that does not parse is reported and
changes nothing; a good one gives tf_static (fixed joints, once, transient-local) and tf (moving joints, stamped like
the joint states, at most `publish_rate` of their stamps); joint states with unequal arrays are dropped. An
in-process node test (seconds), no `stack` marker."""

from __future__ import annotations

import itertools
import math
import threading
import time

import pytest
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import JointState
from std_msgs.msg import String
from tf2_msgs.msg import TFMessage

from legion_common.stamps import to_seconds, to_stamp
from legion_description import load_robot
from legion_description.link_state_publisher_node import LinkStatePublisher
from legion_description.link_states import LinkStates
from legion_testing.probe import LATCHED, Probe

TIMEOUT = 30.0  # [s] wall


@pytest.fixture
def system():
    probe = Probe("link_state_publisher_test_probe")
    probe.record("tf", TFMessage, QoSProfile(depth=200, reliability=ReliabilityPolicy.RELIABLE))
    probe.record("tf_static", TFMessage, LATCHED)
    node = LinkStatePublisher(parameter_overrides=[Parameter("publish_rate", value=10.0)])
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    stop = threading.Event()
    thread = threading.Thread(target=lambda: [executor.spin_once(timeout_sec=0.05) for _ in iter(stop.is_set, True)],
                              daemon=True)
    thread.start()
    try:
        yield probe, node
    finally:
        stop.set()
        thread.join(timeout=5.0)
        executor.shutdown()
        node.destroy_node()
        probe.close()


def test_bad_description_then_good_one_then_transforms(system) -> None:
    probe, node = system
    description = probe.publisher(String, "robot_description", LATCHED)
    joints = probe.publisher(JointState, "joint_states")
    probe.wait_until(lambda: description.get_subscription_count() > 0 and joints.get_subscription_count() > 0,
                     TIMEOUT, "the node's subscriptions")
    description.publish(String(data="<robot name='broken'><link name='a'/>"))
    _, urdf = load_robot("centurion")
    links = LinkStates(urdf)
    names = list(links.joint_names)
    # Unequal arrays before and after the good description: dropped (no tf from them)
    joints.publish(JointState(name=names, position=[0.0]))
    description.publish(String(data=urdf))
    probe.wait_until(lambda: node.links is not None, TIMEOUT, "the good description")
    bad = JointState(name=names, position=[0.0])
    bad.header.stamp = to_stamp(0.5)
    joints.publish(bad)
    for tick in range(60):  # 50 Hz of stamps, 1.2 s (the node keeps the newest only: paced)
        msg = JointState(name=names, position=[0.2] * len(names))
        msg.header.stamp = to_stamp(1.0 + 0.02 * tick)
        joints.publish(msg)
        time.sleep(0.01)
    probe.wait_until(lambda: probe.received("tf_static") and len(probe.received("tf")) >= 5, TIMEOUT,
                     "tf_static and tf")
    (static,) = probe.received("tf_static")
    assert {t.child_frame_id for t in static.transforms} == {edge.child for edge in links.fixed_edges_}
    assert to_seconds(static.transforms[0].header.stamp) >= 1.0  # not from the dropped joint states
    stamps = [to_seconds(m.transforms[0].header.stamp) for m in probe.received("tf")]
    assert all(s >= 1.0 for s in stamps)  # nothing from the dropped joint states
    # at most publish_rate (10 Hz) of stamps, on the decimator's grid: one per 0.1 s cell of stamps (1.02 then 1.1
    # when the node, loaded, takes the 1.00 message too late: it keeps the newest only)
    cells = [math.floor(s * 10.0 + 1e-6) for s in stamps]
    assert all(b > a for a, b in itertools.pairwise(cells)), stamps
    newest = probe.received("tf")[-1]
    assert {t.child_frame_id for t in newest.transforms} == {edge.child for edge in links.moving_edges}
