"""Time stamps: builtin_interfaces Time / Duration <-> seconds.

Simulation time runs on a fixed step grid, so the conversion to a message is nanosecond-exact (rounded, never
truncated): `to_seconds(to_stamp(t)) == t` to 1 ns.
"""

from __future__ import annotations

from typing import Any


def to_seconds(stamp: Any) -> float:
    """A builtin_interfaces Time or Duration (anything with `sec` and `nanosec`) -> seconds."""
    return stamp.sec + stamp.nanosec * 1e-9


def to_nanoseconds(seconds: float) -> int:
    """Seconds -> whole nanoseconds (rounded)."""
    return round(seconds * 1e9)


def to_stamp(seconds: float):
    """Seconds -> builtin_interfaces/Time."""
    from builtin_interfaces.msg import Time

    nanoseconds = to_nanoseconds(seconds)
    return Time(sec=nanoseconds // 1_000_000_000, nanosec=nanoseconds % 1_000_000_000)


def to_duration(seconds: float):
    """Seconds -> builtin_interfaces/Duration."""
    from builtin_interfaces.msg import Duration

    nanoseconds = to_nanoseconds(seconds)
    return Duration(sec=nanoseconds // 1_000_000_000, nanosec=nanoseconds % 1_000_000_000)


def header_seconds(msg: Any) -> float:
    """The stamp of a message with a `header`, in seconds."""
    return to_seconds(msg.header.stamp)
