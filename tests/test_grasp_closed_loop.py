"""Picks by contact in closed loop: the whole-body controller and the hand grasp controller lift sorting-cell parts
off the table in MuJoCo (legion_testing.grasp_study; no weld or attachment), the robot keeps its balance."""

from __future__ import annotations

import pytest

pytest.importorskip("legion_sim.simulation", reason="legion_sim is not installed")

from legion_testing.grasp_study import LIFT_SUCCESS, SORTING_CELL_PARTS, run_trial


@pytest.mark.parametrize("index,side", [(1, "right"), (3, "left")])
def test_picks_and_holds_a_sorting_cell_part_by_contact(index, side):
    result = run_trial(SORTING_CELL_PARTS[index], side, seed=index, hold_time=1.0)
    assert not result.fallen
    assert result.lifted >= LIFT_SUCCESS, result
    assert result.success, result
