"""Playback timing, without ROS: the recorded messages merged with `clock` ticks on the recording's time line, and
the wall time each is due at a playback rate."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from legion_recording.bag import BagMessage
from legion_recording.errors import RecordingError

CLOCK_TOPIC = "/clock"


@dataclass(frozen=True)
class Event:
    """A clock tick (message None) or a recorded message, at `time_ns` on the recording's time line."""

    time_ns: int
    message: BagMessage | None


def with_clock(messages: Iterable[BagMessage], clock_period_ns: int) -> Iterator[Event]:
    """The messages (log-time order), recorded `clock` messages left out, with a clock tick at the first message's
    time and every `clock_period_ns` after it up to the last message (a tick precedes the messages at its time)."""
    if clock_period_ns <= 0:
        raise RecordingError(f"clock period must be > 0 ns, got {clock_period_ns}")
    next_tick = None
    for message in messages:
        if message.topic == CLOCK_TOPIC:
            continue
        if next_tick is None:
            next_tick = message.log_time_ns
        while next_tick <= message.log_time_ns:
            yield Event(next_tick, None)
            next_tick += clock_period_ns
        yield Event(message.log_time_ns, message)


def due_wall_time(time_ns: int, first_ns: int, wall_start: float, rate: float) -> float:
    """[s] wall time at which the event at `time_ns` is played, when the recording's `first_ns` was played at
    `wall_start` and playback runs `rate` times as fast as recorded."""
    if rate <= 0:
        raise RecordingError(f"playback rate must be > 0, got {rate}")
    return wall_start + (time_ns - first_ns) * 1e-9 / rate
