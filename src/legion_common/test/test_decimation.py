"""Decimator: the first stamp at or after each grid point passes; two streams of one source stay in step."""

import math

import pytest

from legion_common.decimation import Decimator


def test_500_hz_to_50_hz_passes_every_tenth_stamp_on_the_grid():
    decimator = Decimator(50.0)
    stamps = [round(k * 0.002, 6) for k in range(1000)]
    passed = [s for s in stamps if decimator.due(s)]
    assert len(passed) == 100
    assert all(math.isclose(s % 0.02, 0.0, abs_tol=1e-9) or math.isclose(s % 0.02, 0.02, abs_tol=1e-9)
               for s in passed)


def test_irregular_stamps_pass_the_first_after_each_grid_point():
    decimator = Decimator(10.0)
    assert [s for s in (0.03, 0.05, 0.11, 0.12, 0.35, 0.41) if decimator.due(s)] == [0.03, 0.11, 0.35, 0.41]


def test_time_going_back_restarts_and_zero_rate_never_passes():
    decimator = Decimator(50.0)
    assert decimator.due(10.0) and not decimator.due(10.002)
    assert decimator.due(0.0)  # sim/reset
    assert not Decimator(0.0).due(1.0)
    with pytest.raises(ValueError, match="decimation rate"):
        Decimator(float("nan"))
