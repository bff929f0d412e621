"""Fixtures shared by the workspace tests."""

import pytest

from legion_testing.rendered_scene import make_sim


@pytest.fixture(scope="module")
def sorting_cell_sim():
    """The sorting cell with the robot's sensor errors, one simulation per test module (tests reset it with
    `reset_scene`)."""
    sim = make_sim("sorting_cell")
    yield sim
    sim.close()
