#!/usr/bin/env python3
"""What one message of the control path costs to send and to take, as a Python message and as CDR bytes.

The control process sends `joint_commands` (legion_interfaces/JointCommand, every joint of the robot) and `odom`
(nav_msgs/Odometry) 500 times per simulated second, and takes `joint_states`, `imu/data` and two foot wrenches as
often. Prints, for each, the median and 99th percentile wall time of:
- build + publish of the Python message (what `conv.joint_command_msg` and a hand-built Odometry cost), against
  the pre-serialized bytes (`legion_common.serialized.SerializedState`, what the nodes publish);
- taking one message from its subscription as a Python message, against taking its CDR bytes (`raw=True`).

One subscriber in a child process (as in the stack: the hardware takes joint_commands, the control process takes the
state); Fast DDS with the project's profile (scripts/env.sh), real DDS, no simulation.

Run: `. scripts/env.sh && python bench/bench_publish.py [--robot centurion] [--count 3000]`
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import time

import numpy as np


def _subscriber(topics: list[tuple[str, str]], seconds: float) -> None:
    """A child process taking every topic (type name, topic) for `seconds`."""
    import importlib

    import rclpy

    from legion_common.inbox import Inbox

    rclpy.init()
    node = rclpy.create_node("bench_publish_subscriber")
    inbox = Inbox(node)
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    qos = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE)
    subscriptions = []
    for type_name, topic in topics:
        package, _, name = type_name.rpartition(".")
        subscriptions.append(inbox.subscribe(getattr(importlib.import_module(package), name), topic, qos))
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        inbox.wait(0.1)
        for subscription in subscriptions:
            while inbox.take(subscription) is not None:
                pass
    rclpy.shutdown()


def _stats(samples: list[float]) -> str:
    values = np.array(samples) * 1e6
    return f"median {np.median(values):7.1f} us   p99 {np.percentile(values, 99):7.1f} us"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--robot", default="centurion", help="robot file (its joints make the command)")
    parser.add_argument("--count", type=int, default=3000, help="messages per measurement")
    args = parser.parse_args()
    os.environ.setdefault("ROS_DOMAIN_ID", str(100 + os.getpid() % 100))

    import rclpy
    from geometry_msgs.msg import WrenchStamped
    from nav_msgs.msg import Odometry
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from sensor_msgs.msg import Imu, JointState

    from legion_common.messages import pose_msg, vector3_msg
    from legion_common.serialized import SerializedState, header_stamp, set_quaternion, set_vector
    from legion_common.stamps import to_stamp
    from legion_control import conversions as conv
    from legion_control.whole_body_controller import JointCommandArrays
    from legion_model import RobotModel
    from legion_sim import conversions as sim_conv

    names = RobotModel.load(args.robot).config.all_joints
    n = len(names)
    qos = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE)
    outgoing = [("legion_interfaces.msg.JointCommand", "bench/joint_commands"), ("nav_msgs.msg.Odometry", "bench/odom")]
    child = multiprocessing.get_context("spawn").Process(target=_subscriber, args=(outgoing, 10.0 + args.count * 0.02))
    child.start()
    rclpy.init()
    node = rclpy.create_node("bench_publish")
    from legion_interfaces.msg import JointCommand
    command_pub = node.create_publisher(JointCommand, "bench/joint_commands", qos)
    odom_pub = node.create_publisher(Odometry, "bench/odom", qos)
    deadline = time.monotonic() + 20.0
    while (command_pub.get_subscription_count() < 1 or odom_pub.get_subscription_count() < 1) \
            and time.monotonic() < deadline:
        time.sleep(0.05)
    rng = np.random.default_rng(0)
    to_bytes = conv.JointCommandBytes()

    def odometry(stamp, values) -> Odometry:
        msg = Odometry()
        msg.header.stamp = stamp
        msg.header.frame_id, msg.child_frame_id = "odom", "base_link"
        msg.pose.pose = pose_msg(values[:3], values[3:7])
        msg.twist.twist.linear, msg.twist.twist.angular = vector3_msg(values[7:10]), vector3_msg(values[10:13])
        return msg

    odom_bytes = SerializedState(odometry(to_stamp(0.0), np.r_[np.zeros(6), 1.0, np.zeros(6)]), header_stamp, [
        (3, set_vector(lambda m: m.pose.pose.position)), (4, set_quaternion(lambda m: m.pose.pose.orientation)),
        (3, set_vector(lambda m: m.twist.twist.linear)), (3, set_vector(lambda m: m.twist.twist.angular))])
    print(f"# {args.count} messages each, one subscriber in another process; {n} joints ({args.robot}); "
          f"load average {os.getloadavg()[0]:.2f}")
    for label, send in (
            ("joint_commands as a message (joint_command_msg)",
             lambda stamp, arrays, values: command_pub.publish(conv.joint_command_msg(stamp, arrays))),
            ("joint_commands as bytes (JointCommandBytes)",
             lambda stamp, arrays, values: command_pub.publish(to_bytes(stamp, arrays))),
            ("odom as a message", lambda stamp, arrays, values: odom_pub.publish(odometry(stamp, values))),
            ("odom as bytes (SerializedState)", lambda stamp, arrays, values: odom_pub.publish(
                odom_bytes.serialize(stamp.sec, stamp.nanosec, values[:3], values[3:7], values[7:10],
                                     values[10:13])))):
        samples = []
        for k in range(args.count):
            arrays = JointCommandArrays(names, *(rng.normal(size=n) for _ in range(5)))
            values = rng.normal(size=13)
            stamp = to_stamp(k * 0.002)
            start = time.perf_counter()
            send(stamp, arrays, values)
            samples.append(time.perf_counter() - start)
            time.sleep(0.002)
        print(f"build + publish, {label:48s} {_stats(samples)}")

    # Taking: the state's four messages as the hardware sends them (pre-serialized), as messages and as bytes.
    state = {"joint_states": (JointState, sim_conv.serialized_joint_state(names), (n, n, n)),
             "imu/data": (Imu, sim_conv.serialized_imu("imu_link"), (4, 3, 3)),
             "l_foot/wrench": (WrenchStamped, sim_conv.serialized_wrench("l_sole"), (3, 3))}
    for topic, (kind, serialized, runs) in state.items():
        publisher = node.create_publisher(kind, f"bench/{topic}", qos)
        for raw in (False, True):
            subscription = node.create_subscription(kind, f"bench/{topic}", lambda _m: None, qos, raw=raw)
            time.sleep(0.5)
            samples = []
            for _ in range(min(args.count, 1000)):
                publisher.publish(serialized.serialize(1, 2, *(rng.normal(size=length) for length in runs)))
                deadline = time.monotonic() + 1.0
                while time.monotonic() < deadline:
                    start = time.perf_counter()
                    with subscription.handle:
                        taken = subscription.handle.take_message(subscription.msg_type, subscription.raw)
                    if taken is not None:
                        samples.append(time.perf_counter() - start)
                        break
            node.destroy_subscription(subscription)
            print(f"take, {topic:14s} as {'bytes' if raw else 'a message':9s}                               "
                  f"{_stats(samples)}")
    rclpy.shutdown()
    child.join()


if __name__ == "__main__":
    main()
