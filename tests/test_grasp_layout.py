"""The grasp study's random table layouts (legion_testing.grasp_study.random_layout): seeded, in the issue's class,
size and mass ranges, on the near half of the table and spaced; and one layout picked in closed loop (long)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import yaml

from legion_testing.grasp_study import (
    LAYOUT_X,
    LAYOUT_Y,
    REACH_X,
    REACH_Y,
    TABLE,
    PartSpec,
    random_layout,
    random_part,
    spacing_ok,
    write_scene,
)

SEEDS = range(200)


def _in_ranges(part: PartSpec) -> None:
    if part.shape == "box":
        assert part.size[0] == part.size[1] == part.size[2]
        assert 0.03 <= part.size[0] <= 0.06
    elif part.shape == "cylinder":
        assert 0.02 <= part.size[0] <= 0.03 and 0.06 <= part.size[1] <= 0.10
    else:
        assert part.shape == "sphere" and 0.02 <= part.size[0] <= 0.035
    assert 0.04 <= part.mass <= 0.3
    assert -math.pi <= part.yaw <= math.pi
    near_edge = TABLE["position"][0] - 0.5 * TABLE["size"][0]
    assert part.x - part.footprint_radius > near_edge  # on the table


def test_layouts_are_seeded():
    assert random_layout(np.random.default_rng(7)) == random_layout(np.random.default_rng(7))
    assert random_layout(np.random.default_rng(7)) != random_layout(np.random.default_rng(8))


def test_the_picked_part_is_the_single_part_study_s_part_of_the_seed():
    for seed in range(20):
        assert random_layout(np.random.default_rng(seed)).part == random_part(np.random.default_rng(seed))


def test_layout_parts_are_in_range_on_the_near_table_and_do_not_overlap():
    counts = set()
    for seed in SEEDS:
        layout = random_layout(np.random.default_rng(seed), neighbours=(3, 5), min_spacing=0.08, min_gap=0.03)
        counts.add(len(layout.neighbours))
        part = layout.part
        _in_ranges(part)
        assert REACH_X[0] <= part.x <= REACH_X[1] and REACH_Y[0] <= abs(part.y) <= REACH_Y[1]
        for other in layout.neighbours:
            _in_ranges(other)
            assert LAYOUT_X[0] <= other.x <= LAYOUT_X[1] and abs(other.y) <= LAYOUT_Y
        for a, b in itertools.combinations((part, *layout.neighbours), 2):
            distance = math.hypot(a.x - b.x, a.y - b.y)
            assert distance >= 0.08 and distance - a.footprint_radius - b.footprint_radius >= 0.03
            assert spacing_ok(a, b, 0.08, 0.03)
    assert counts == {3, 4, 5}  # every layout found room for all its neighbours


def test_spacing_is_a_parameter():
    for seed in range(50):
        layout = random_layout(np.random.default_rng(seed), neighbours=4, min_spacing=0.12, min_gap=0.0)
        for a, b in itertools.combinations((layout.part, *layout.neighbours), 2):
            assert math.hypot(a.x - b.x, a.y - b.y) >= 0.12


def test_the_scene_has_every_part_with_the_picked_one_as_part(tmp_path):
    layout = random_layout(np.random.default_rng(3), neighbours=4)
    scene = yaml.safe_load(write_scene(layout.part, tmp_path, layout.neighbours).read_text())
    ids = [entry["id"] for entry in scene["parts"]]
    assert ids[0] == "part" and len(set(ids)) == len(ids) == 5
    assert scene["parts"][0]["position"] == [layout.part.x, layout.part.y]
    assert [entry["position"] for entry in scene["parts"][1:]] == [[p.x, p.y] for p in layout.neighbours]


@pytest.mark.long
def test_a_part_with_a_neighbour_behind_it_is_picked_with_the_fingers_turned_away():
    """The sorting cell's near row: a part 10 cm behind the picked one lies under the closing fingers at the robot's
    heading; the grasp turns away from it (as the manipulation node chooses it), picks the part, and the neighbour
    stays where it was."""
    pytest.importorskip("legion_sim.simulation", reason="legion_sim is not installed")
    from legion_testing.grasp_study import SORTING_CELL_PARTS, run_trial

    result = run_trial(SORTING_CELL_PARTS[1], "left", seed=1, hold_time=1.0, neighbours=(SORTING_CELL_PARTS[4],))
    assert result.clear and abs(result.heading) > 0.1, result
    assert result.success, result
    assert result.neighbours_disturbed == 0, result


def test_neighbour_footprints_carry_the_perceived_top_of_each_neighbour():
    from legion_manipulation.tasks import PerceivedObject, neighbour_footprints

    part = PerceivedObject("p", "red_cube", np.array([0.5, 0.0, 0.77]), 0.0, np.array([0.04, 0.04, 0.04]))
    tall = PerceivedObject("n", "blue_cylinder", np.array([0.4, 0.1, 0.80]), 0.0, np.array([0.05, 0.05, 0.10]))
    [(centre, radius, top)] = neighbour_footprints([part, tall], part)
    assert np.allclose(centre, tall.position)
    assert radius == pytest.approx(0.5 * math.hypot(0.05, 0.05))
    assert top == pytest.approx(0.85)


class _HeadingReach:
    """A stand-in for `ArmReach`: the `left` hand reaches only grasps with the fingers along the robot's heading
    (x), the `right` one any."""

    def solve(self, side, q, pose):
        from types import SimpleNamespace

        heading = math.atan2(pose.rotation[1, 2], pose.rotation[0, 2])
        return SimpleNamespace(reachable=side == "right" or abs(heading) < 1e-6)


def test_with_no_clear_heading_the_clearest_reachable_grasp_of_either_hand_is_taken():
    from legion_manipulation.grasps import PartGeometry, PlanningParameters, sweep_clearance
    from legion_manipulation.tasks import choose_grasp

    planning = PlanningParameters()
    part = PartGeometry("cylinder", (0.025, 0.07), np.array([0.5, 0.0, 0.785]))
    # small tall parts all round it: every heading of either hand is blocked; a big one straight ahead (x): worst
    ring = [(np.array([0.5 + 0.085 * math.cos(a), 0.085 * math.sin(a), 0.80]), 0.015, 0.85)
            for a in np.linspace(0.0, 2.0 * math.pi, 12, endpoint=False)] + [(np.array([0.58, 0.0, 0.8]), 0.05, 0.85)]
    side, plan = choose_grasp(_HeadingReach(), np.zeros(7), part, ["left", "right"], 0.0, ring, planning)
    left_gap = sweep_clearance(part, "left", 0.0, ring, planning)
    assert left_gap < planning.neighbour_clearance
    assert side == "right" and sweep_clearance(part, "right", plan.heading, ring, planning) > left_gap
