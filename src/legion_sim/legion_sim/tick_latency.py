"""Tick-to-command latency accounting of the hardware (docs/realtime.md), and the clock decimation gate.

A control tick is the hardware publishing the state stamped t (`joint_states`); the controller answers it with a
JointCommand stamped t. `TickLatency` measures, per tick, the wall time from publishing the state to receiving the
answer, and sorts every tick into exactly one of:

- **on time**: answered within `on_time_limit` (one control period) of wall time;
- **late**: answered, but later than that;
- **missed**: never answered: a newer tick was answered first (a controller answers in stamp order, so the older one
  will not come), or it is still unanswered when `miss_after_ticks` newer ticks have been published.

Ticks published before the first answer are not counted (the controller is not up yet; the watchdog is not armed
either); `reset()` starts over (the simulation's `sim/reset`). A second answer to the same tick (a second command
publisher) counts as `duplicates`; an answer whose stamp was never published (or already given up) as `unmatched`.

Latencies are kept twice: in a log-spaced histogram since start (median / p99 to within `HISTOGRAM_RESOLUTION`, max
exact) and exactly over a window of the last `window_ticks` finished ticks. Nothing here reads a clock: the caller
passes the stamps [ns] and wall times [s]. Not thread-safe.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

ON_TIME, LATE, MISSED = 0, 1, 2
"""Outcome codes of a finished tick."""

HISTOGRAM_LOW = 1e-6
"""[s] lowest histogram edge: faster answers land in the first bin."""
HISTOGRAM_HIGH = 100.0
"""[s] highest histogram edge: slower answers land in the last bin (max stays exact)."""
HISTOGRAM_RESOLUTION = 0.02
"""Relative width of a histogram bin: since-start percentiles are within 2 % of the exact value."""


@dataclass(frozen=True)
class LatencySummary:
    """Counts and latency figures [s] of a set of ticks (NaN latencies when no tick was answered)."""

    ticks: int
    on_time: int
    late: int
    missed: int
    median: float
    p99: float
    max: float

    def as_status(self, prefix: str) -> dict[str, float | int]:
        """`hardware/status` values: `<prefix>.ticks`, `.on_time`, `.late`, `.missed`, `.median_ms`, `.p99_ms`,
        `.max_ms` (milliseconds, rounded to 1 us)."""
        return {f"{prefix}.ticks": self.ticks, f"{prefix}.on_time": self.on_time, f"{prefix}.late": self.late,
                f"{prefix}.missed": self.missed, f"{prefix}.median_ms": _ms(self.median),
                f"{prefix}.p99_ms": _ms(self.p99), f"{prefix}.max_ms": _ms(self.max)}


def _ms(seconds: float) -> float:
    return round(seconds * 1e3, 3) if math.isfinite(seconds) else float("nan")


class LatencyHistogram:
    """Log-spaced histogram of latencies [s] between `HISTOGRAM_LOW` and `HISTOGRAM_HIGH`, with an exact max."""

    def __init__(self) -> None:
        self._ratio = 1.0 + HISTOGRAM_RESOLUTION
        count = math.ceil(math.log(HISTOGRAM_HIGH / HISTOGRAM_LOW) / math.log(self._ratio))
        self.edges = HISTOGRAM_LOW * self._ratio ** np.arange(count + 1)
        """(count + 1,) bin edges [s]; bin i holds [edges[i], edges[i+1]), the first and last also what is beyond."""
        self.counts = np.zeros(count, dtype=np.int64)
        self.total = 0
        self.max = float("nan")

    def add(self, latency: float) -> None:
        """Count one latency [s] (negative values, from clock granularity, count as 0)."""
        latency = max(float(latency), 0.0)
        index = int(math.log(max(latency, HISTOGRAM_LOW) / HISTOGRAM_LOW) / math.log(self._ratio))
        self.counts[min(index, len(self.counts) - 1)] += 1
        self.total += 1
        self.max = latency if not self.max >= latency else self.max

    def quantile(self, q: float) -> float:
        """The latency [s] below which a fraction q (0..1) of the counted ones lie: the geometric centre of the bin
        holding it, capped by the exact max. NaN when empty."""
        if self.total == 0:
            return float("nan")
        if q >= 1.0:
            return self.max
        rank = min(max(q, 0.0), 1.0) * self.total
        index = int(np.searchsorted(np.cumsum(self.counts), max(rank, 1), side="left"))
        centre = math.sqrt(self.edges[index] * self.edges[index + 1])
        return min(centre, self.max)


class TickLatency:
    """Tick-to-command latency accounting (see the module docstring).

    Args:
        on_time_limit: [s] wall time within which an answer is on time (one control period).
        miss_after_ticks: a tick still unanswered when this many newer ticks have been published is missed.
        window_ticks: how many of the newest finished ticks the window figures cover.
    """

    def __init__(self, on_time_limit: float, miss_after_ticks: int, window_ticks: int) -> None:
        if not on_time_limit > 0.0:
            raise ValueError(f"on_time_limit must be > 0 s, got {on_time_limit}")
        if miss_after_ticks < 1 or window_ticks < 1:
            raise ValueError(f"miss_after_ticks and window_ticks must be >= 1, got {miss_after_ticks}, "
                             f"{window_ticks}")
        self.on_time_limit = float(on_time_limit)
        self.miss_after_ticks = int(miss_after_ticks)
        self.window_ticks = int(window_ticks)
        self._window_outcome = np.zeros(self.window_ticks, dtype=np.int8)
        self._window_latency = np.full(self.window_ticks, np.nan)
        self.reset()

    def reset(self) -> None:
        """Forget every tick and count: accounting restarts at the next answer."""
        self._pending: OrderedDict[int, float] = OrderedDict()
        """Published, unanswered ticks: stamp [ns] -> wall time of publication [s], oldest first."""
        self._started = False
        self._newest_finished_ns = -1
        self.histogram = LatencyHistogram()
        self.counts = [0, 0, 0]
        """Finished ticks since start by outcome (ON_TIME, LATE, MISSED)."""
        self.duplicates = 0
        self.unmatched = 0
        self._window_next = 0
        self._window_filled = 0

    # ------------------------------------------------------------------------------------------------ events
    def state_published(self, stamp_ns: int, wall_time: float) -> None:
        """The hardware published the state stamped `stamp_ns` at `wall_time` [s]."""
        self._pending[int(stamp_ns)] = float(wall_time)
        if self._started:
            while len(self._pending) > self.miss_after_ticks:
                self._finish(self._pending.popitem(last=False)[0], MISSED, math.nan)
        else:
            while len(self._pending) > self.miss_after_ticks:  # not counted yet, just bounded
                self._pending.popitem(last=False)

    def command_received(self, stamp_ns: int, wall_time: float) -> float | None:
        """A command stamped `stamp_ns` arrived at `wall_time` [s]. Returns its tick's latency [s], or None if it
        answers no pending tick (a duplicate or an unmatched stamp)."""
        stamp_ns = int(stamp_ns)
        published = self._pending.get(stamp_ns)
        if published is None:
            if stamp_ns <= self._newest_finished_ns:
                self.duplicates += 1
            else:
                self.unmatched += 1
            return None
        while True:  # older pending ticks will not be answered any more: missed
            oldest, _ = self._pending.popitem(last=False)
            if oldest == stamp_ns:
                break
            if self._started:
                self._finish(oldest, MISSED, math.nan)
        self._started = True
        latency = max(float(wall_time) - published, 0.0)
        self._finish(stamp_ns, ON_TIME if latency <= self.on_time_limit else LATE, latency)
        self.histogram.add(latency)
        return latency

    def _finish(self, stamp_ns: int, outcome: int, latency: float) -> None:
        self.counts[outcome] += 1
        self._newest_finished_ns = max(self._newest_finished_ns, stamp_ns)
        self._window_outcome[self._window_next] = outcome
        self._window_latency[self._window_next] = latency
        self._window_next = (self._window_next + 1) % self.window_ticks
        self._window_filled = min(self._window_filled + 1, self.window_ticks)

    # ------------------------------------------------------------------------------------------------ figures
    @property
    def pending(self) -> int:
        """Published ticks not answered yet."""
        return len(self._pending)

    def total(self) -> LatencySummary:
        """Every tick finished since start (percentiles from the histogram)."""
        return LatencySummary(sum(self.counts), *self.counts, self.histogram.quantile(0.5),
                              self.histogram.quantile(0.99), self.histogram.max)

    def window(self) -> LatencySummary:
        """The newest `window_ticks` finished ticks (exact percentiles)."""
        outcomes = self._window_outcome[:self._window_filled]
        latencies = self._window_latency[:self._window_filled]
        answered = latencies[np.isfinite(latencies)]
        if answered.size:
            median, p99 = np.percentile(answered, [50.0, 99.0])
            largest = float(answered.max())
        else:
            median = p99 = largest = math.nan
        counts = np.bincount(outcomes, minlength=3)
        return LatencySummary(int(outcomes.size), int(counts[ON_TIME]), int(counts[LATE]), int(counts[MISSED]),
                              float(median), float(p99), largest)

    def status(self) -> dict[str, float | int]:
        """The `hardware/status` values: `tick_latency.total.*`, `tick_latency.window.*` (see
        `LatencySummary.as_status`), `tick_latency.pending`, `.duplicates`, `.unmatched`."""
        values = self.total().as_status("tick_latency.total") | self.window().as_status("tick_latency.window")
        values.update({"tick_latency.pending": self.pending, "tick_latency.duplicates": self.duplicates,
                       "tick_latency.unmatched": self.unmatched})
        return values


class RateGate:
    """Decimates a stream of instants to a rate: `due(t)` is true at the first instant at or after each multiple of
    the period (so a 200 Hz gate on 500 Hz ticks passes every 2nd or 3rd tick, 200 per second on average, never more
    than one period plus one tick apart). An instant earlier than the last one passed (time restarted) passes and
restarts the grid, as `reset()` does."""

    EPS = 1e-9
    """[s] tolerance on comparing instants with the period grid."""

    def __init__(self, rate: float) -> None:
        if not rate > 0.0:
            raise ValueError(f"rate must be > 0 Hz, got {rate}")
        self.period = 1.0 / float(rate)
        self.reset()

    def reset(self) -> None:
        self._next = -math.inf
        self._last = -math.inf

    def due(self, time: float) -> bool:
        """Whether instant `time` [s] passes; if it does, the gate closes until the next multiple of the period."""
        if time + self.EPS < self._next and time + self.EPS >= self._last:
            return False
        self._last = time
        self._next = (math.floor(time / self.period + self.EPS) + 1) * self.period
        return True
