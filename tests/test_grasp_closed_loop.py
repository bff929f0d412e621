"""Picks by contact in closed loop: the whole-body controller and the hand grasp controller lift sorting-cell parts
off the table in MuJoCo (legion_testing.grasp_study; no weld or attachment), the robot keeps its balance."""

from __future__ import annotations

import pytest

pytest.importorskip("legion_sim.simulation", reason="legion_sim is not installed")

from legion_testing.grasp_study import LIFT_SUCCESS, SORTING_CELL_PARTS, run_trial


@pytest.mark.parametrize("index,side", [(1, "right"), pytest.param(3, "left", marks=pytest.mark.long)])
def test_picks_and_holds_a_sorting_cell_part_by_contact(index, side):
    result = run_trial(SORTING_CELL_PARTS[index], side, seed=index, hold_time=1.0)
    assert not result.fallen
    assert result.lifted >= LIFT_SUCCESS, result
    assert result.success, result


@pytest.mark.long
def test_a_cylinder_seen_two_centimetres_too_far_is_still_picked():
    """Perception (with the state estimator's drift) may put a part a couple of centimetres from where it is. Seen
    farther along the fingers than it is, the part must still be clear of the thumb as the open hand comes down (with
    the thumb 3 mm from the part's near side the thumb landed on its edge and tipped the cylinder over)."""
    result = run_trial(SORTING_CELL_PARTS[1], "left", seed=1, hold_time=1.0, perception_offset=(0.02, 0.0, 0.0))
    assert not result.fallen
    assert result.success, result
