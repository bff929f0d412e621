"""diagnostic_msgs builders and readers shared by every node."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from legion_common.stamps import to_stamp

OK, WARN, ERROR, STALE = 0, 1, 2, 3
"""DiagnosticStatus levels as integers (the message stores them as one byte)."""


def format_value(value: Any) -> str:
    """A diagnostic value as text: floats with 6 significant digits, everything else with str()."""
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def diagnostics_msg(stamp: Any, name: str, level: int | bytes, message: str, values: Mapping[str, Any] | None = None,
                    hardware_id: str = ""):
    """One DiagnosticStatus in a DiagnosticArray.

    Args:
        stamp: builtin_interfaces/Time, or seconds.
        name: the status name (the node's name).
        level: OK / WARN / ERROR / STALE, as an int or as DiagnosticStatus' byte constants.
        message: one line saying what is wrong, or "ok".
        values: key -> value; floats are written with 6 significant digits.
        hardware_id: what the status is about (defaults to `name`).
    """
    from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue

    level_byte = level if isinstance(level, bytes) else bytes([int(level)])
    status = DiagnosticStatus(level=level_byte, name=name, message=message, hardware_id=hardware_id or name)
    status.values = [KeyValue(key=str(key), value=format_value(value)) for key, value in (values or {}).items()]
    array = DiagnosticArray()
    array.header.stamp = to_stamp(stamp) if isinstance(stamp, (int, float)) else stamp
    array.status = [status]
    return array


def diagnostic_values(msg: Any) -> dict[str, str]:
    """Key -> value of every status in a DiagnosticArray (for tests and tools)."""
    return {kv.key: kv.value for status in msg.status for kv in status.values}


def diagnostic_level(msg: Any) -> int:
    """The highest level of the statuses in a DiagnosticArray, as an int."""
    levels = [status.level[0] if isinstance(status.level, bytes) else int(status.level) for status in msg.status]
    return max(levels, default=OK)
