"""Small recordings for tests: a bag of known JointState and DetectedObjectArray messages, and its metadata."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from legion_recording.bag import BagWriter
from legion_recording.conversions import qos_to_dict
from legion_recording.metadata import RecordingInfo
from legion_recording.msgdefs import DELIMITER, message_definition


def info(**changes) -> RecordingInfo:
    values = dict(robot="centurion", scene="sorting_cell", purpose="test", start_ns=1, end_ns=2, clock="simulated",
                  recorded_at_utc="2026-01-01T00:00:00Z", personal_data=("motion",), topics=("/joint_states",),
                  raw_images=False, retention_days=30.0)
    return RecordingInfo(**(values | changes))


def rosbags_typestore():
    """rosbags' Jazzy types plus Legion's, the latter built from the complete definitions the bags carry."""
    from rosbags.typesys import Stores, get_types_from_msg, get_typestore

    store = get_typestore(Stores.ROS2_JAZZY)
    for name in ("legion_interfaces/msg/DetectedObject", "legion_interfaces/msg/DetectedObjectArray"):
        text = message_definition(name).text.split(DELIMITER)[0]
        store.register(get_types_from_msg(text, name))
    return store


def write_bag(folder: Path, count: int = 5) -> Path:
    """A bag of `count` JointState and one DetectedObjectArray, serialised to CDR by rosbags (rclpy's
    serialize_message appends 8 bytes to some messages in the pip build; what a raw subscription receives over DDS
    is exact, and that is what the recorder writes)."""
    from rclpy.qos import QoSProfile

    store = rosbags_typestore()
    joint_state = store.types["sensor_msgs/msg/JointState"]
    header = store.types["std_msgs/msg/Header"]
    stamp = store.types["builtin_interfaces/msg/Time"]
    writer = BagWriter(folder)
    qos = [qos_to_dict(QoSProfile(depth=10))]
    writer.add_topic("/joint_states", message_definition("sensor_msgs/msg/JointState"), qos)
    writer.add_topic("/perception/objects", message_definition("legion_interfaces/msg/DetectedObjectArray"), qos)
    for i in range(count):
        joints = joint_state(header=header(stamp=stamp(sec=i, nanosec=0), frame_id=""), name=["a", "b"],
                             position=np.array([0.1 * i, -0.2]), velocity=np.zeros(0), effort=np.zeros(0))
        writer.write("/joint_states", (i + 1) * 1_000_000_000,
                     bytes(store.serialize_cdr(joints, "sensor_msgs/msg/JointState")))
    obj = store.types["legion_interfaces/msg/DetectedObject"]
    pose = store.types["geometry_msgs/msg/Pose"]
    point = store.types["geometry_msgs/msg/Point"]
    quaternion = store.types["geometry_msgs/msg/Quaternion"]
    vector = store.types["geometry_msgs/msg/Vector3"]
    objects = store.types["legion_interfaces/msg/DetectedObjectArray"](
        header=header(stamp=stamp(sec=2, nanosec=0), frame_id="odom"),
        objects=[obj(id="red_cube_1", label="red_cube", pose=pose(position=point(x=1.0, y=0.0, z=0.8),
                                                                   orientation=quaternion(x=0.0, y=0.0, z=0.0, w=1.0)),
                     size=vector(x=0.05, y=0.05, z=0.05), confidence=0.9)])
    writer.write("/perception/objects", 2_500_000_000,
                 bytes(store.serialize_cdr(objects, "legion_interfaces/msg/DetectedObjectArray")))
    writer.close(info(start_ns=0, end_ns=0, topics=()))
    return folder


def write_episode_bag(folder: Path, seconds: float = 2.0, joints: tuple[str, ...] = ("hip", "knee")) -> Path:
    """A bag like a recorded episode: joint_states at 100 Hz (positions 0.1 t, -0.2 t), joint_commands at 100 Hz
    (the first joint only, position 0.5), and a 32x24 perception/debug_image at 2 Hz whose red channel is its index."""
    from rclpy.qos import QoSProfile
    from rosbags.typesys import get_types_from_msg

    store = rosbags_typestore()
    text = message_definition("legion_interfaces/msg/JointCommand").text.split(DELIMITER)[0]
    store.register(get_types_from_msg(text, "legion_interfaces/msg/JointCommand"))
    header, stamp = store.types["std_msgs/msg/Header"], store.types["builtin_interfaces/msg/Time"]
    writer = BagWriter(folder)
    qos = [qos_to_dict(QoSProfile(depth=10))]
    for topic, kind in (("/joint_states", "sensor_msgs/msg/JointState"),
                        ("/joint_commands", "legion_interfaces/msg/JointCommand"),
                        ("/perception/debug_image", "sensor_msgs/msg/Image")):
        writer.add_topic(topic, message_definition(kind), qos)
    for i in range(int(seconds * 100) + 1):
        t_ns = 1_000_000_000 + i * 10_000_000
        t = i * 0.01
        h = header(stamp=stamp(sec=t_ns // 10**9, nanosec=t_ns % 10**9), frame_id="")
        state = store.types["sensor_msgs/msg/JointState"](
            header=h, name=list(joints), position=np.array([0.1 * t, -0.2 * t]), velocity=np.zeros(0),
            effort=np.zeros(0))
        writer.write("/joint_states", t_ns, bytes(store.serialize_cdr(state, "sensor_msgs/msg/JointState")))
        command = store.types["legion_interfaces/msg/JointCommand"](
            header=h, name=[joints[0]], position=np.array([0.5]), velocity=np.zeros(0), effort=np.zeros(0),
            stiffness=np.zeros(0), damping=np.zeros(0))
        writer.write("/joint_commands", t_ns + 1,
                     bytes(store.serialize_cdr(command, "legion_interfaces/msg/JointCommand")))
        if i % 50 == 0:
            pixels = np.zeros((24, 32, 3), np.uint8)
            pixels[..., 0] = 40 * (i // 50)
            image = store.types["sensor_msgs/msg/Image"](header=h, height=24, width=32, encoding="rgb8",
                                                         is_bigendian=0, step=96, data=pixels.reshape(-1))
            writer.write("/perception/debug_image", t_ns + 2,
                         bytes(store.serialize_cdr(image, "sensor_msgs/msg/Image")))
    writer.close(info(start_ns=0, end_ns=0, topics=(), purpose="episode test"))
    return folder
