"""Tick-to-command latency accounting and the clock's rate gate (legion_sim.tick_latency), without ROS."""

from __future__ import annotations

import math

import numpy as np
import pytest

from legion_sim.tick_latency import HISTOGRAM_RESOLUTION, LatencyHistogram, RateGate, TickLatency

PERIOD = 0.002  # [s] 500 Hz control
NS = 2_000_000  # one control period [ns]


def accounting(miss_after: int = 25, window: int = 1000) -> TickLatency:
    return TickLatency(on_time_limit=PERIOD, miss_after_ticks=miss_after, window_ticks=window)


def test_histogram_percentiles_within_its_resolution():
    rng = np.random.default_rng(3)
    latencies = rng.lognormal(mean=math.log(0.8e-3), sigma=0.6, size=20000)
    histogram = LatencyHistogram()
    for latency in latencies:
        histogram.add(latency)
    assert histogram.total == latencies.size
    assert histogram.max == latencies.max()
    for q in (0.5, 0.9, 0.99):
        exact = np.quantile(latencies, q)
        assert histogram.quantile(q) == pytest.approx(exact, rel=1.5 * HISTOGRAM_RESOLUTION), q
    assert histogram.quantile(1.0) == latencies.max()  # capped by the exact max


def test_histogram_edges_and_empty():
    histogram = LatencyHistogram()
    assert math.isnan(histogram.quantile(0.5))
    histogram.add(-1e-7)  # clock granularity: counts as 0, in the first bin
    histogram.add(1e4)  # beyond the top: last bin, max exact
    assert histogram.counts[0] == 1 and histogram.counts[-1] == 1
    assert histogram.max == 1e4


def test_on_time_late_and_latency_figures():
    account = accounting()
    for k, latency in enumerate([0.0005, 0.001, 0.0019, 0.003, 0.010]):
        account.state_published(k * NS, 10.0 + k)
        assert account.command_received(k * NS, 10.0 + k + latency) == pytest.approx(latency)
    total, window = account.total(), account.window()
    assert (total.ticks, total.on_time, total.late, total.missed) == (5, 3, 2, 0)
    assert (window.ticks, window.on_time, window.late, window.missed) == (5, 3, 2, 0)
    assert window.median == pytest.approx(0.0019)
    assert window.max == pytest.approx(0.010) and total.max == pytest.approx(0.010)
    assert total.median == pytest.approx(0.0019, rel=HISTOGRAM_RESOLUTION)
    assert account.pending == 0


def test_ticks_before_the_first_answer_are_not_counted():
    account = accounting(miss_after=5)
    for k in range(40):  # the controller is not up yet
        account.state_published(k * NS, k * PERIOD)
    assert account.pending == 5 and account.total().ticks == 0
    account.state_published(40 * NS, 40 * PERIOD)
    account.command_received(40 * NS, 40 * PERIOD + 0.001)
    total = account.total()
    assert (total.ticks, total.on_time, total.missed) == (1, 1, 0)  # the startup ticks skipped were not missed


def test_a_newer_answer_makes_the_skipped_ticks_missed():
    account = accounting()
    account.state_published(0, 0.0)
    account.command_received(0, 0.0005)
    for k in (1, 2, 3):
        account.state_published(k * NS, k * PERIOD)
    account.command_received(3 * NS, 3 * PERIOD + 0.0015)  # the controller skipped ticks 1 and 2
    total = account.total()
    assert (total.ticks, total.on_time, total.late, total.missed) == (4, 2, 0, 2)
    assert account.command_received(1 * NS, 0.01) is None  # too late: given up, counted as a duplicate answer
    assert account.duplicates == 1 and account.total().ticks == 4


def test_unanswered_ticks_are_missed_after_the_horizon():
    account = accounting(miss_after=25)
    account.state_published(0, 0.0)
    account.command_received(0, 0.001)
    for k in range(1, 101):  # the controller died
        account.state_published(k * NS, k * PERIOD)
    total = account.total()
    assert total.missed == 100 - 25 and account.pending == 25
    assert account.window().missed == 75 and math.isfinite(account.window().median)


def test_late_answer_within_the_horizon_is_late_not_missed():
    account = accounting(miss_after=25)
    account.state_published(0, 0.0)
    account.command_received(0, 0.001)
    for k in range(1, 11):
        account.state_published(k * NS, k * PERIOD)
    for k in range(1, 11):  # a controller 10 ticks behind answers every one, in order
        account.command_received(k * NS, 15 * PERIOD + k * 1e-4)
    total = account.total()
    assert (total.on_time, total.late, total.missed) == (1, 10, 0)


def test_duplicates_and_unmatched_stamps():
    account = accounting()
    account.state_published(0, 0.0)
    account.command_received(0, 0.001)
    assert account.command_received(0, 0.0012) is None  # a second command publisher
    assert account.command_received(7 * NS, 0.0013) is None  # a stamp never published
    assert (account.duplicates, account.unmatched) == (1, 1)
    assert account.total().ticks == 1


def test_window_holds_the_newest_ticks_and_reset_starts_over():
    account = accounting(window=10)
    for k in range(30):
        account.state_published(k * NS, k * 1.0)
        account.command_received(k * NS, k * 1.0 + (0.005 if k >= 20 else 0.001))  # the last 10 are late
    window = account.window()
    assert (window.ticks, window.on_time, window.late) == (10, 0, 10)
    assert window.median == pytest.approx(0.005)
    assert account.total().ticks == 30
    status = account.status()
    assert status["tick_latency.total.ticks"] == 30 and status["tick_latency.window.late"] == 10
    assert status["tick_latency.window.median_ms"] == pytest.approx(5.0)
    account.reset()
    assert account.total().ticks == 0 and account.window().ticks == 0 and account.pending == 0
    assert math.isnan(account.status()["tick_latency.window.median_ms"])


def test_rejects_bad_settings():
    with pytest.raises(ValueError, match="on_time_limit"):
        TickLatency(0.0, 25, 100)
    with pytest.raises(ValueError, match="window_ticks"):
        TickLatency(PERIOD, 25, 0)
    with pytest.raises(ValueError, match="rate"):
        RateGate(0.0)


def test_rate_gate_decimates_500_hz_ticks_to_200_hz():
    gate = RateGate(200.0)
    ticks = np.arange(0, 5000) * PERIOD  # 10 s of control ticks
    passed = np.array([t for t in ticks if gate.due(t)])
    assert len(passed) == pytest.approx(2000, abs=1)
    gaps = np.diff(passed)
    assert gaps.max() <= 1 / 200.0 + PERIOD + 1e-9  # never more than one period plus one tick apart
    assert gaps.min() >= 2 * PERIOD - 1e-9  # 2 or 3 ticks apart
    assert np.all(gaps > 0)  # monotonic


def test_rate_gate_reopens_when_time_restarts():
    gate = RateGate(200.0)
    for k in range(1000):
        gate.due(k * PERIOD)
    assert gate.due(0.0)  # sim/reset: time back to 0, the clock follows at once
    assert not gate.due(PERIOD)
    assert gate.due(3 * PERIOD)
    gate.reset()
    assert gate.due(3 * PERIOD)


def test_rate_gate_at_the_control_rate_passes_every_tick():
    gate = RateGate(500.0)
    assert all(gate.due(k * PERIOD) for k in range(1000))
