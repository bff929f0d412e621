"""Messages of a fixed layout published as CDR bytes: the 500 Hz topics of the control path.

rclpy's `Publisher.publish(message)` converts the Python message to its C struct field by field (every string, every
sequence checked and copied) before the middleware serializes it; for a 74-joint `JointCommand` that is about
0.1-0.2 ms per message on this project's 2-core machine, as much as the middleware's write itself. `SerializedState`
lays a message type's CDR bytes out once, from a template message whose strings and sequence lengths are those of
every message to come (joint names, frame ids), and each publish writes only the stamp and the numbers into a copy
(`Publisher.publish(bytes)`): a few microseconds. The bytes are those `rclpy.serialization.serialize_message` gives
for the same message (unit-tested), so subscribers see no difference.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from rclpy.serialization import serialize_message


class SerializedState:
    """One message type of fixed layout as CDR bytes, for `Publisher.publish(bytes)`: a template message (its strings
    and sequence lengths fixed) is serialized once; `serialize(sec, nanosec, *runs)` writes the stamp and runs of
    float64 fields into a copy of it.

    Args:
        message: the template, with every constant field set (frame ids, joint names, sequence lengths).
        stamp: sets the template's stamp: `stamp(message, sec, nanosec)`.
        runs: per run of consecutive float64 fields, `(length, assign)` with `assign(message, values)` setting them
            on the template; the runs are found in the bytes by serializing distinct marker values.
    """

    def __init__(self, message: Any, stamp: Callable[[Any, int, int], None],
                 runs: Sequence[tuple[int, Callable[[Any, list[float]], None]]] = ()):
        markers = []
        for index, (length, assign) in enumerate(runs):
            values = [float.fromhex(f"0x1.5e7a{index:02x}{k:04x}p-977") for k in range(length)]
            assign(message, values)
            markers.append(np.array(values, dtype="<f8").tobytes())
        stamp(message, 0x5E7A5E7A, 0x3B5E7A5E)
        template = serialize_message(message)
        self._stamp_offset = self._find(template, struct.pack("<iI", 0x5E7A5E7A, 0x3B5E7A5E))
        self._buffer = bytearray(template)
        self._runs = [np.ndarray((len(marker) // 8,), dtype="<f8", buffer=self._buffer,
                                 offset=self._find(template, marker)) for marker in markers]
        for run in self._runs:
            run[:] = 0.0

    @staticmethod
    def _find(template: bytes, marker: bytes) -> int:
        offset = template.find(marker)
        if offset < 0 or template.find(marker, offset + 1) >= 0:
            raise ValueError("SerializedState: a field's marker is not found exactly once in the serialized template")
        return offset

    def serialize(self, sec: int, nanosec: int, *runs: Sequence[float] | np.ndarray) -> bytes:
        """The message's CDR bytes with this stamp and these values (one sequence per run, each of its length)."""
        struct.pack_into("<iI", self._buffer, self._stamp_offset, sec, nanosec)
        for view, values in zip(self._runs, runs, strict=True):
            view[:] = values
        return bytes(self._buffer)


def header_stamp(message: Any, sec: int, nanosec: int) -> None:
    """`SerializedState`'s `stamp` for a message with a std_msgs/Header `header`."""
    message.header.stamp.sec, message.header.stamp.nanosec = sec, nanosec


def set_array(field: str) -> Callable[[Any, list[float]], None]:
    """A run's `assign` for a float64[] field of the message."""
    return lambda message, values: setattr(message, field, values)


def set_vector(path: Callable[[Any], Any]) -> Callable[[Any, list[float]], None]:
    """A run's `assign` for an (x, y, z) vector: `path(message)` is the geometry_msgs/Vector3 or Point."""
    def assign(message: Any, values: list[float]) -> None:
        target = path(message)
        target.x, target.y, target.z = values
    return assign


def set_quaternion(path: Callable[[Any], Any]) -> Callable[[Any, list[float]], None]:
    """A run's `assign` for an (x, y, z, w) quaternion: `path(message)` is the geometry_msgs/Quaternion."""
    def assign(message: Any, values: list[float]) -> None:
        q = path(message)
        q.x, q.y, q.z, q.w = values
    return assign
