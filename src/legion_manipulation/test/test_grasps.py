"""Grasp planning: poses of the top-down pick relative to the part, per shape, side and size."""

import math

import numpy as np
import pytest

from legion_common.transforms import matrix_to_quaternion, quaternion_to_matrix
from legion_control.errors import ControlError
from legion_control.grasp import GraspMode
from legion_manipulation.grasps import (
    PartGeometry,
    PlanningParameters,
    candidate_headings,
    choose_side,
    grasp_heading,
    plan_grasp,
    shape_from_label,
    sweep_clearance,
    top_down_rotation,
)

TABLE = 0.75


def part(shape, size, x=0.45, y=0.0, yaw=0.0):
    half = {"box": size[-1] / 2.0, "cylinder": size[-1] / 2.0, "sphere": size[0]}[shape]
    return PartGeometry(shape, size, np.array([x, y, TABLE + half]), yaw)


def test_top_down_rotation_points_the_palm_down_and_the_fingers_along_the_heading():
    rotation = top_down_rotation(0.5)
    assert np.allclose(rotation.T @ rotation, np.eye(3))
    assert np.linalg.det(rotation) == pytest.approx(1.0)
    assert np.allclose(rotation[:, 0], [0.0, 0.0, -1.0])
    assert np.allclose(rotation[:, 2], [math.cos(0.5), math.sin(0.5), 0.0])


@pytest.mark.parametrize("angle", [0.0, 0.3, -2.0, math.pi - 0.01, 3.0])
def test_quaternion_round_trip(angle):
    rotation = top_down_rotation(angle)
    q = matrix_to_quaternion(rotation)
    assert q[3] >= 0.0
    assert np.allclose(quaternion_to_matrix(q), rotation, atol=1e-9)


def test_box_heading_is_the_face_normal_nearest_to_the_preferred_one_round_parts_take_it():
    assert grasp_heading(part("box", (0.05, 0.05, 0.05), yaw=0.9), 0.0) == pytest.approx(0.9 - math.pi / 2.0)
    assert grasp_heading(part("box", (0.05, 0.05, 0.05), yaw=0.7), 0.0) == pytest.approx(0.7)
    assert grasp_heading(part("box", (0.05, 0.05, 0.05), yaw=0.3), 0.0) == pytest.approx(0.3)
    assert grasp_heading(part("box", (0.05, 0.05, 0.05), yaw=-3.0), 0.0) == pytest.approx(-3.0 + math.pi)
    assert grasp_heading(part("cylinder", (0.025, 0.08)), 0.4) == pytest.approx(0.4)


def test_sides_mirror_and_choose_side_follows_the_part():
    assert choose_side((0.4, 0.1), (0.0, 0.0), 0.0) == "left"
    assert choose_side((0.4, -0.1), (0.0, 0.0), 0.0) == "right"
    assert choose_side((0.4, -0.1), (0.0, 0.0), math.pi) == "left"  # facing -x, -y is on the left
    assert choose_side((0.4, -0.1), (0.0, 0.0), 0.0, sides=("left",)) == "left"
    params = PlanningParameters(lateral=0.01)
    cube = part("box", (0.05, 0.05, 0.05))
    right, left = plan_grasp(cube, "right", params=params), plan_grasp(cube, "left", params=params)
    assert right.grasp[1] == pytest.approx(cube.position[1] - 0.01)  # y gripper = +y odom here: thumb side
    assert left.grasp[1] == pytest.approx(cube.position[1] + 0.01)
    assert np.allclose(right.grasp[[0, 2]], left.grasp[[0, 2]])


@pytest.mark.parametrize("shape,size", [("box", (0.05, 0.05, 0.05)), ("box", (0.03, 0.03, 0.03)),
                                        ("cylinder", (0.025, 0.08)), ("cylinder", (0.02, 0.10)),
                                        ("sphere", (0.03,)), ("sphere", (0.02,))])
def test_grasp_puts_the_palm_on_the_top_the_part_against_the_thumb_and_clears_the_table(shape, size):
    params = PlanningParameters()
    item = part(shape, size, yaw=0.2)
    plan = plan_grasp(item, "right", params=params)
    assert plan.mode == GraspMode.PINCH
    assert plan.closure == pytest.approx(params.closure)
    in_gripper = plan.rotation.T @ (item.position - plan.grasp)
    top = item.position[2] + item.half_height
    palm = plan.grasp[2] + params.palm_to_gripper
    bottom = item.position[2] - item.half_height
    assert palm >= top + params.top_clearance - 1e-9  # the palm never pushes into the part
    assert plan.grasp[2] - bottom >= params.min_support_clearance - 1e-9  # the fingers clear the table
    if plan.grasp[2] - bottom > params.min_support_clearance + 1e-9:
        assert palm == pytest.approx(top + params.top_clearance)  # tall part: the palm rests on its top
    half_along = size[0] / 2.0 if shape == "box" else size[0]
    assert in_gripper[2] - half_along == pytest.approx(params.thumb_wall + params.wall_gap)
    assert abs(in_gripper[1]) < 1e-9
    # pre-grasp straight above, lift straight up
    assert np.allclose(plan.pre_grasp - plan.grasp, [0.0, 0.0, params.approach_height])
    assert np.allclose(plan.lift - plan.grasp, [0.0, 0.0, params.lift_height])
    assert np.allclose(quaternion_to_matrix(plan.orientation), plan.rotation)


def test_invalid_parts_and_sides_are_refused():
    with pytest.raises(ControlError, match="shape"):
        plan_grasp(PartGeometry("cone", (0.02,), np.zeros(3)), "right")
    with pytest.raises(ControlError, match="positive"):
        plan_grasp(PartGeometry("box", (0.05, 0.05), np.zeros(3)), "right")
    with pytest.raises(ControlError, match="finite"):
        plan_grasp(PartGeometry("sphere", (0.03,), np.array([np.nan, 0.0, 0.8])), "right")
    with pytest.raises(ControlError, match="side"):
        plan_grasp(part("sphere", (0.03,)), "middle")
    with pytest.raises(ControlError, match="wide"):
        plan_grasp(part("box", (0.10, 0.10, 0.05)), "left")


def test_shape_from_label():
    assert shape_from_label("red_cube") == "box"
    assert shape_from_label("blue_cylinder") == "cylinder"
    assert shape_from_label("yellow_sphere") == "sphere"
    with pytest.raises(ControlError, match="no known shape"):
        shape_from_label("green_pyramid")


def test_transit_rises_before_it_moves_over_the_table():
    plan = plan_grasp(part("cylinder", (0.025, 0.10)), "right")
    low = np.array([0.14, -0.25, 0.80])
    via, last = plan.transit(low)
    assert np.allclose(via, [0.14, -0.25, plan.pre_grasp[2]])
    assert np.allclose(last, plan.pre_grasp)
    (only,) = plan.transit(plan.pre_grasp + np.array([0.1, 0.0, 0.05]))
    assert np.allclose(only, plan.pre_grasp)


@pytest.mark.parametrize("roll", [0.0, 0.7, -2.79])
def test_the_carry_turn_is_about_the_fingers_and_mirrored_between_the_hands(roll):
    params = PlanningParameters(carry_roll=roll)
    right, left = params.carry_rotation("right"), params.carry_rotation("left")
    for turn in (right, left):
        assert np.allclose(turn.T @ turn, np.eye(3))
        assert np.allclose(turn[:, 2], [0.0, 0.0, 1.0])  # the fingers' axis stays
    assert np.allclose(right, left.T)  # mirrored: the same angle the other way
    grasp = top_down_rotation(0.4)
    carried = grasp @ right
    assert math.acos(np.clip(carried[:, 0] @ grasp[:, 0], -1.0, 1.0)) == pytest.approx(abs(roll), abs=1e-9)


# The sorting cell's near row: a part with another 10 cm behind it (along the robot's heading) and others 15 cm to
# either side. Closing, the fingers of a grasp along the heading swept down onto the part behind and the hand was
# levered up off the part it was to pick (the shift's first picks: GRASP_MISSED).
CYLINDER = part("cylinder", (0.025, 0.08), x=0.43, y=0.0)
NEAR_ROW = [(np.array([0.53, 0.0, 0.775]), 0.035, 0.80), (np.array([0.43, 0.15, 0.775]), 0.035, 0.80),
            (np.array([0.43, -0.15, 0.77]), 0.028, 0.79), (np.array([0.53, 0.15, 0.78]), 0.03, 0.81),
            (np.array([0.53, -0.15, 0.79]), 0.025, 0.83)]
"""(centre, footprint radius, top) as `tasks.neighbour_footprints` gives them: parts no taller than the cylinder."""


def test_the_fingers_of_a_grasp_along_the_heading_sweep_onto_the_part_behind():
    params = PlanningParameters()
    assert sweep_clearance(CYLINDER, "left", 0.0, NEAR_ROW[:1], params) < 0.0
    assert sweep_clearance(CYLINDER, "left", 0.0, [(np.array([0.75, 0.0, 0.78]), 0.03)], params) > 0.0
    assert sweep_clearance(CYLINDER, "left", 0.0, [], params) == math.inf


@pytest.mark.parametrize("side", ["left", "right"])
def test_the_heading_turns_so_that_the_closing_fingers_miss_the_neighbouring_parts(side):
    params = PlanningParameters()
    headings = candidate_headings(CYLINDER, side, 0.0, NEAR_ROW, params)
    best = headings[0]
    assert abs(best) > 0.5 and abs(best) <= params.max_heading_turn
    assert sweep_clearance(CYLINDER, side, best, NEAR_ROW, params) > 0.0
    assert sweep_clearance(CYLINDER, side, best, NEAR_ROW, params) == max(
        sweep_clearance(CYLINDER, side, h, NEAR_ROW, params) for h in headings)
    plan = plan_grasp(CYLINDER, side, best, params)
    assert plan.heading == pytest.approx(best)


def test_without_neighbours_the_heading_is_the_preferred_one():
    box = part("box", (0.05, 0.05, 0.05), yaw=0.3)
    assert candidate_headings(box, "left", 0.0, []) == [pytest.approx(grasp_heading(box, 0.0))]
    far = [(np.array([0.45, 0.6, 0.775]), 0.035)]
    assert candidate_headings(CYLINDER, "left", 0.2, far)[0] == pytest.approx(0.2)


def test_a_box_turns_by_its_faces_to_miss_a_neighbour():
    cube = part("box", (0.04, 0.04, 0.04), x=0.43, y=-0.15, yaw=-0.2)
    # two parts no taller than the hand's underside (centre, footprint radius, top)
    neighbours = [(np.array([0.53, -0.15, 0.775]), 0.025, 0.80), (np.array([0.43, 0.0, 0.775]), 0.025, 0.80)]
    best = candidate_headings(cube, "right", 0.0, neighbours)[0]
    quarter = math.pi / 2.0
    assert abs(math.remainder(best - cube.yaw, quarter)) < 1e-9
    assert sweep_clearance(cube, "right", best, neighbours) >= PlanningParameters().neighbour_clearance


def test_a_neighbour_taller_than_the_hand_s_underside_behind_the_gripper_blocks_the_thumb_and_wrist():
    # a short cylinder; a tall one 10 cm behind it along the fingers (the thumb and the wrist pass over it)
    params = PlanningParameters()
    short = part("cylinder", (0.025, 0.07), x=0.50, y=0.0)
    behind = np.array([0.40, 0.0, TABLE + 0.05])
    radius = 0.025 * math.sqrt(2.0)
    grasp_z = plan_grasp(short, "right", 0.0, params).grasp[2]
    tall, low = (behind, radius, TABLE + 0.10), (behind, radius, grasp_z - 0.005)
    assert sweep_clearance(short, "right", 0.0, [tall], params) < 0.0
    assert sweep_clearance(short, "right", 0.0, [low], params) > params.neighbour_clearance  # under the hand
    assert sweep_clearance(short, "right", 0.0, [(behind, radius)], params) < 0.0  # height unknown: tall
    # without the back band (as before) the tall one was clear: only the fingers' sweep was checked
    assert sweep_clearance(short, "right", 0.0, [tall], PlanningParameters(hand_back_reach=0.0)) > 0.0
    # turned, the hand's back clears it
    best = candidate_headings(short, "right", 0.0, [tall], params)[0]
    assert abs(best) > 0.0
    assert sweep_clearance(short, "right", best, [tall], params) >= params.neighbour_clearance
