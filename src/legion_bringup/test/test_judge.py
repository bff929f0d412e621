"""The main job's judge: where a part truly ended against the scene's bins and tables, and the statistics."""

import pytest

from legion_bringup.judge import failure_category, judge_parts, part_fate, wilson_interval
from legion_sim.scene import load_scene


@pytest.fixture(scope="module")
def cell():
    return load_scene("sorting_cell")


def test_a_part_inside_its_bin_is_sorted_and_inside_another_is_not(cell):
    red_bin = next(b for b in cell.bins if b.name == "red_bin")
    inside = (red_bin.position[0] + 0.05, red_bin.position[1] - 0.05, red_bin.stand_height + 0.05)
    fate = part_fate("red_cube_1", "red_cube", inside, cell)
    assert fate.place == "bin" and fate.container == "red_bin" and fate.correct
    wrong = part_fate("green_cube_1", "green_cube", inside, cell)
    assert wrong.place == "bin" and not wrong.correct
    assert failure_category(wrong, "sorted", fell=False) == "wrong_bin"
    assert failure_category(fate, "sorted", fell=False) == ""


def test_table_floor_and_hand(cell):
    table = cell.tables[0]
    on_table = part_fate("p", "red_cube", (table.position[0], table.position[1], table.size[2] + 0.025), cell)
    assert on_table.place == "table" and not on_table.correct
    assert failure_category(on_table, "skipped", fell=False) == "left_on_table:skipped"
    assert failure_category(on_table, "skipped", fell=True) == "fall"
    floor = part_fate("p", "red_cube", (1.0, 1.0, 0.025), cell)
    assert floor.place == "floor" and failure_category(floor, "dropped", fell=False) == "dropped"
    assert part_fate("p", "red_cube", (-0.3, 0.3, 0.9), cell).place == "hand"
    # just outside a bin's footprint at rim height is not in the bin
    red_bin = next(b for b in cell.bins if b.name == "red_bin")
    beside = (red_bin.position[0], red_bin.position[1] + red_bin.size[1], red_bin.stand_height + 0.05)
    assert part_fate("p", "red_cube", beside, cell).place != "bin"


def test_only_scene_parts_are_judged(cell):
    objects = [(p.id, p.label, (p.position[0], p.position[1], 0.8)) for p in cell.parts] + [
        ("red_bin", "red_bin", (0.35, 0.72, 0.6))]
    fates = judge_parts(objects, cell)
    assert [f.id for f in fates] == [p.id for p in cell.parts]
    assert all(f.place == "table" for f in fates)


def test_wilson_interval():
    low, high = wilson_interval(95, 100)
    assert 0.88 < low < 0.90 and 0.97 < high < 0.99
    assert wilson_interval(0, 0) == (0.0, 1.0)
    low, high = wilson_interval(20, 20)
    assert high == 1.0 and 0.83 < low < 0.85


def test_the_timeline_phases_of_the_executives_phase_text():
    from legion_bringup.job import phase_kind

    assert phase_kind("walking to red_drop", True) == "carry"
    assert phase_kind("walking to table", True) == phase_kind("walking to table", False) == "walk"
    assert phase_kind("picking red_cube_1", True) == "pick" and phase_kind("placing a into b", True) == "place"
    assert phase_kind("looking at work_table", True) == "look" and phase_kind("done", False) == ""
