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
        self._run_spans = [(self._find(template, marker), len(marker) // 8) for marker in markers]
        self._runs = [np.ndarray((count,), dtype="<f8", buffer=self._buffer, offset=offset)
                      for offset, count in self._run_spans]
        for run in self._runs:
            run[:] = 0.0

    @staticmethod
    def _find(template: bytes, marker: bytes) -> int:
        offset = template.find(marker)
        if offset < 0 or template.find(marker, offset + 1) >= 0:
            raise ValueError("SerializedState: a field's marker is not found exactly once in the serialized template")
        return offset

    @property
    def stamp_offset(self) -> int:
        """Byte offset of the stamp (int32 sec, uint32 nanosec) in the CDR bytes."""
        return self._stamp_offset

    @property
    def run_spans(self) -> list[tuple[int, int]]:
        """(byte offset, number of float64) of each run in the CDR bytes."""
        return list(self._run_spans)

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


class SerializedReader:
    """The reading side of `SerializedState`: the stamp and runs of float64 fields read straight from a message's CDR
    bytes (a subscription with `raw=True`), without building the Python message (20-45 us per message here,
    `bench/bench_publish.py`; a few here).

    The layout is learnt from the first message: it is deserialized once, the stamp's and the runs' offsets are found
    as `SerializedState` finds them, and every byte outside them (frame id, names, sequence lengths, other fields) is
    kept. A later message is read only if it has the same length and those same bytes (the same layout from the same
    kind of sender); otherwise `read` returns None and the caller deserializes it as usual, so a malformed, foreign
    or differently laid-out message is handled exactly as before.

    Args:
        msg_type: the message class.
        stamp, runs: as for `SerializedState` (the runs' values are read in that order).
    """

    def __init__(self, msg_type: Any, stamp: Callable[[Any, int, int], None],
                 runs: Sequence[tuple[int, Callable[[Any, list[float]], None]]]):
        self.msg_type = msg_type
        self._stamp = stamp
        self._run_spec = list(runs)
        self._reference: bytes | None = None
        self._constant: list[tuple[int, int]] = []
        self._runs: list[tuple[int, int]] = []
        self._stamp_offset = 0
        self.learnt = False
        self.unusable = False

    def _learn(self, data: bytes) -> None:
        from rclpy.serialization import deserialize_message

        message = deserialize_message(data, self.msg_type)
        try:
            layout = SerializedState(message, self._stamp, self._run_spec)
        except ValueError:  # a marker not found exactly once: this message cannot be read in place
            self.unusable = True
            return
        spans = [(layout.stamp_offset, 8)] + [(offset, 8 * count) for offset, count in layout.run_spans]
        if any(offset + size > len(data) for offset, size in spans):
            self.unusable = True
            return
        constant, start = [], 0
        for offset, size in sorted(spans):
            if offset > start:
                constant.append((start, offset))
            start = offset + size
        if start < len(data):
            constant.append((start, len(data)))
        self._reference = bytes(data)
        self._constant = constant
        self._runs = layout.run_spans
        self._stamp_offset = layout.stamp_offset
        self.learnt = True

    def read(self, data: bytes) -> tuple[int, int, list[np.ndarray]] | None:
        """(sec, nanosec, one float64 array per run) from the CDR bytes, or None if they do not have the learnt
        layout (deserialize them instead)."""
        if not self.learnt:
            if self.unusable:
                return None
            self._learn(data)
            if not self.learnt:
                return None
        reference = self._reference
        if len(data) != len(reference):
            return None
        view, known = memoryview(data), memoryview(reference)
        for start, end in self._constant:
            if view[start:end] != known[start:end]:
                return None
        sec, nanosec = struct.unpack_from("<iI", data, self._stamp_offset)
        return sec, nanosec, [np.frombuffer(data, dtype="<f8", count=count, offset=offset)
                              for offset, count in self._runs]
