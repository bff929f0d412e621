"""Property tests (hypothesis) of the cores' input checks: any input is either accepted with finite outputs or
rejected with the package's own error (or reason), never another exception.

- legion_sim `validate_command` / `HardwareRules.set_command` (the hardware's JointCommand rules);
- legion_gait `check_twist` (cmd_vel) and `check_goal` (walk_to) -> GaitError;
- legion_executive `parse_cell` (a cell file's YAML tree) -> CellError;
- legion_manipulation `plan_grasp` (a perceived part) -> ControlError.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from legion_control.errors import ControlError
from legion_executive.cell import CellError, parse_cell
from legion_gait.commands import check_goal, check_twist
from legion_gait.errors import GaitError
from legion_gait.parameters import GaitParameters
from legion_manipulation.grasps import PartGeometry, plan_grasp
from legion_sim.hardware_rules import HardwareRules, validate_command

SETTINGS = settings(max_examples=150, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])
JOINTS = ("hip", "knee", "ankle")
REASONS = {"empty", "length_mismatch", "unknown_joint", "duplicate_joint", "not_a_number", "non_finite",
           "negative_gain", "out_of_range"}

any_float = st.floats(allow_nan=True, allow_infinity=True)
numbers = st.one_of(any_float, st.integers(min_value=-(10 ** 30), max_value=10 ** 30))
names = st.one_of(st.sampled_from(JOINTS), st.text(max_size=8))
scalar_junk = st.one_of(numbers, st.text(max_size=5), st.none(), st.booleans())
value_lists = st.lists(st.one_of(numbers, scalar_junk), max_size=5)


@SETTINGS
@given(st.lists(names, max_size=5), value_lists, value_lists, value_lists, value_lists, value_lists)
def test_joint_command_is_valid_or_rejected_with_a_reason(names_, position, velocity, effort, stiffness, damping):
    problem = validate_command(names_, position, velocity, effort, stiffness, damping, set(JOINTS))
    if problem is not None:
        assert problem[0] in REASONS
        return
    arrays = np.array([position, velocity, effort, stiffness, damping], dtype=float)
    assert np.isfinite(arrays).all() and (arrays[3:] >= 0.0).all()
    rules = HardwareRules(JOINTS, np.ones(3), np.ones(3), np.full(3, 10.0), watchdog_timeout=0.05)
    accepted, reason = rules.set_command(names_, position, velocity, effort, stiffness, damping, time=0.0)
    assert accepted and reason == ""
    torques = rules.torques(np.zeros(3), np.zeros(3))
    assert np.isfinite(torques).all() and (np.abs(torques) <= 10.0).all()


@SETTINGS
@given(st.lists(names, max_size=5), value_lists, value_lists, value_lists, value_lists, value_lists)
def test_hardware_keeps_the_last_valid_command_after_any_rejected_one(names_, position, velocity, effort, stiffness,
                                                                       damping):
    rules = HardwareRules(JOINTS, np.ones(3), np.ones(3), np.full(3, 10.0), watchdog_timeout=0.05)
    assert rules.set_command(list(JOINTS), [0.1] * 3, [0.0] * 3, [0.0] * 3, [5.0] * 3, [1.0] * 3, time=0.0)[0]
    accepted, reason = rules.set_command(names_, position, velocity, effort, stiffness, damping, time=0.001)
    if not accepted:
        assert reason.split(":")[0] in REASONS
        assert np.allclose(rules.position, 0.1) and np.allclose(rules.stiffness, 5.0)
    assert np.isfinite(rules.position).all() and np.isfinite(rules.stiffness).all()


@SETTINGS
@given(st.tuples(any_float, any_float, any_float), st.tuples(any_float, any_float, any_float))
def test_cmd_vel_is_clamped_finite_or_rejected(linear, angular):
    params = GaitParameters()
    command, warnings = check_twist(0.0, linear, angular, params)
    if command is None:
        assert warnings and "rejected" in warnings[0]
        return
    assert np.isfinite(command.velocity).all()
    assert command.velocity[0] <= params.max_forward_speed + 1e-9
    assert command.velocity[0] >= -params.max_backward_speed - 1e-9
    assert abs(command.velocity[1]) <= params.max_lateral_speed + 1e-9
    assert abs(command.velocity[2]) <= params.max_yaw_rate + 1e-9


@SETTINGS
@given(st.text(max_size=6) | st.sampled_from(("odom", "/odom", "")), st.tuples(any_float, any_float, any_float),
       st.tuples(any_float, any_float, any_float, any_float),
       st.none() | st.tuples(any_float, any_float, any_float), any_float)
def test_walk_to_goal_is_a_finite_pose_or_a_gait_error(frame, position, orientation, base, floor):
    base_pose = None if base is None else np.array(base)
    try:
        goal = check_goal(0.0, frame, position, orientation, base_pose, floor, GaitParameters())
    except GaitError:
        return
    assert np.isfinite(goal.pose).all() and abs(goal.pose[2]) <= math.pi + 1e-9


yaml_leaf = st.one_of(st.none(), st.booleans(), numbers, st.text(max_size=8))
yaml_tree = st.recursive(yaml_leaf, lambda children: st.one_of(
    st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)), max_leaves=20)
with open(__import__("pathlib").Path(__file__).resolve().parents[1] / "config/cells/sorting_cell.yaml") as handle:
    SORTING_CELL = yaml.safe_load(handle)


def _mutated_cell(draw_key: str, value) -> dict:
    """The sorting cell with one top-level section, or one field of its first entry, replaced by `value`."""
    cell = yaml.safe_load(yaml.safe_dump(SORTING_CELL))
    section, _, field = draw_key.partition(".")
    if field and isinstance(cell.get(section), list):
        cell[section][0][field] = value
    elif field and isinstance(cell.get(section), dict):
        cell[section][field] = value
    else:
        cell[section] = value
    return cell


CELL_KEYS = ("name", "tables", "stations", "bins", "keep_out", "policy", "tables.position", "tables.size",
             "tables.height", "tables.yaw", "stations.pose", "stations.faces", "bins.accepts", "bins.position",
             "bins.size", "bins.station", "keep_out.radius", "keep_out.shape", "policy.max_attempts",
             "policy.bin_tolerance", "policy.order", "unknown")


@SETTINGS
@given(st.sampled_from(CELL_KEYS), yaml_tree)
def test_cell_file_is_parsed_or_rejected_with_a_cell_error(key, value):
    try:
        cell = parse_cell(_mutated_cell(key, value), "fuzzed.yaml")
    except CellError:
        return
    assert cell.name


@SETTINGS
@given(yaml_tree)
def test_any_yaml_tree_is_a_cell_or_a_cell_error(tree):
    with contextlib.suppress(CellError):
        parse_cell(tree, "fuzzed.yaml")


@SETTINGS
@given(st.sampled_from(("box", "cylinder", "sphere", "cone", "")), st.lists(any_float, max_size=4),
       st.tuples(any_float, any_float, any_float), any_float, st.sampled_from(("left", "right", "middle")), any_float)
def test_grasp_of_any_part_is_finite_or_a_control_error(shape, size, position, yaw, side, heading):
    part = PartGeometry(shape, tuple(size), np.array(position), yaw)
    try:
        plan = plan_grasp(part, side, heading)
    except ControlError:
        return
    for array in (plan.rotation, plan.pre_grasp, plan.grasp, plan.lift):
        assert np.isfinite(array).all()
    assert math.isfinite(plan.closure) and math.isfinite(plan.heading)
