"""Carrying by contact in closed loop: the whole-body controller, the hand grasp controller and the gait planner
pick a sorting-cell part, hold it at the manipulation node's carry pose and walk a sidestep and a turn with it in
MuJoCo (legion_testing.carry_study; no weld or attachment); the part stays in the hand and the robot stays up."""

from __future__ import annotations

import pytest

pytest.importorskip("legion_sim.simulation", reason="legion_sim is not installed")

from legion_testing.carry_study import CARRY_MOTIONS, CARRY_TOLERANCE, run_carry
from legion_testing.grasp_study import SORTING_CELL_PARTS

SIDESTEP_AND_TURN = tuple(m for m in CARRY_MOTIONS if m.name in ("turn_left", "side_left"))


SLOW = pytest.mark.slow  # each a minute or more of simulation: the default run keeps the hardest part, the sphere


@pytest.mark.parametrize("index", [pytest.param(3, marks=pytest.mark.long), pytest.param(0, marks=SLOW),
                                   pytest.param(1, marks=SLOW)],
                         ids=["yellow_sphere", "red_cube", "blue_cylinder"])
def test_carries_a_sorting_cell_part_through_a_turn_and_a_sidestep(index):
    result = run_carry(SORTING_CELL_PARTS[index], "left", seed=0, motions=SIDESTEP_AND_TURN)
    assert result.pick.success, result.pick
    for motion in result.motions:
        assert motion.held and motion.drift < CARRY_TOLERANCE, motion
        assert motion.reached, motion
    assert not result.fallen, result.note
    assert [m.motion.name for m in result.motions] == ["turn_left", "side_left"], result.note
    assert result.success
