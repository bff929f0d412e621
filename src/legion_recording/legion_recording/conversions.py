"""Message and QoS conversions of legion_recording (rclpy objects <-> plain data). rclpy's QoS classes are imported
inside the functions that build them, so the plain helpers work without ROS."""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from typing import Any

from legion_recording.errors import RecordingError

INFINITE = {"sec": 2147483647, "nsec": 4294967295}
"""rmw's infinite duration, as rosbag2 writes it."""
NS_PER_S = 1_000_000_000


def _duration_dict(duration: Any) -> dict[str, int]:
    nanoseconds = int(getattr(duration, "nanoseconds", 0))
    sec, nsec = divmod(nanoseconds, NS_PER_S)
    if sec >= INFINITE["sec"] or nanoseconds < 0:
        return dict(INFINITE)
    return {"sec": int(sec), "nsec": int(nsec)}


def _policy_name(policy: Any) -> str:
    return str(getattr(policy, "name", policy)).lower()


def qos_to_dict(qos: Any) -> dict:
    """An rclpy QoSProfile (e.g. a publisher's, from `get_publishers_info_by_topic`) in rosbag2 v9 metadata form."""
    return {
        "history": _policy_name(qos.history), "depth": int(qos.depth),
        "reliability": _policy_name(qos.reliability), "durability": _policy_name(qos.durability),
        "deadline": _duration_dict(qos.deadline), "lifespan": _duration_dict(qos.lifespan),
        "liveliness": _policy_name(qos.liveliness),
        "liveliness_lease_duration": _duration_dict(qos.liveliness_lease_duration),
        "avoid_ros_namespace_conventions": bool(qos.avoid_ros_namespace_conventions),
    }


def subscription_policies(offered: Sequence[Mapping]) -> tuple[str, str]:
    """(reliability, durability) a recorder subscribes with to hear every publisher of a topic, as rosbag2 does:
    reliable only if all publishers are, transient_local only if all are (so it also gets latched messages)."""
    if not offered:
        return "reliable", "volatile"
    reliability = "reliable" if all(q.get("reliability") == "reliable" for q in offered) else "best_effort"
    durability = "transient_local" if all(q.get("durability") == "transient_local" for q in offered) else "volatile"
    return reliability, durability


def make_qos(reliability: str, durability: str, depth: int) -> Any:
    """An rclpy QoSProfile (keep last `depth`)."""
    from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

    return QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=depth,
                      reliability=ReliabilityPolicy.RELIABLE if reliability == "reliable"
                      else ReliabilityPolicy.BEST_EFFORT,
                      durability=DurabilityPolicy.TRANSIENT_LOCAL if durability == "transient_local"
                      else DurabilityPolicy.VOLATILE)


def message_class(type_name: str) -> type:
    """The Python class of `pkg/msg/Type`; RecordingError if its package is not importable."""
    parts = type_name.split("/")
    if len(parts) != 3:
        raise RecordingError(f"message type {type_name!r} is not of the form package/msg/Type")
    try:
        return getattr(importlib.import_module(f"{parts[0]}.{parts[1]}"), parts[2])
    except (ImportError, AttributeError) as error:
        raise RecordingError(f"message type {type_name} is not available in this Python environment: {error}") \
            from error


def clock_msg(time_ns: int) -> Any:
    """rosgraph_msgs/Clock at `time_ns` [ns]."""
    from builtin_interfaces.msg import Time
    from rosgraph_msgs.msg import Clock

    sec, nanosec = divmod(int(time_ns), NS_PER_S)
    return Clock(clock=Time(sec=int(sec), nanosec=int(nanosec)))


def graph_to_dict(names_and_types: Sequence[tuple[str, Sequence[str]]]) -> dict[str, list[str]]:
    """`Node.get_topic_names_and_types()` as {topic: [types]}."""
    return {name: list(types) for name, types in names_and_types}
