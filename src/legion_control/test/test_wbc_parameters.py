"""Parameters: typed defaults with units and ranges, dotted names, range checks, and the stack YAML block in step
with the code."""

from pathlib import Path

import pytest
import yaml

from legion_common.parameters import ParameterError, flatten_yaml, from_flat, parameter_specs
from legion_control.parameters import WbcNodeParameters, WbcParameters

STACK_YAML = Path(__file__).resolve().parents[3] / "config" / "stack.yaml"


def test_defaults_are_within_their_ranges_and_described():
    for spec in parameter_specs(WbcParameters) + parameter_specs(WbcNodeParameters):
        assert spec.description, spec.name
        if spec.low is not None:
            values = spec.default if isinstance(spec.default, tuple) else (spec.default,)
            assert all(spec.low <= value <= spec.high for value in values), spec.name
        if spec.kind is float:
            assert spec.low is not None and spec.high is not None, f"{spec.name} has no range"
    assert from_flat(WbcParameters, {}) == WbcParameters()


def test_dotted_names_override_only_what_they_name():
    params = from_flat(WbcParameters, {"com.stiffness": 80.0, "contact.friction": 0.5})
    assert params.com.stiffness == 80.0
    assert params.com.weight == WbcParameters().com.weight  # nested group defaults survive
    assert params.contact.friction == 0.5
    assert params.base_orientation == WbcParameters().base_orientation


@pytest.mark.parametrize(("values", "message"), [
    ({"com.stifness": 1.0}, "unknown"),
    ({"contact.friction": 5.0}, "outside its range"),
    ({"com.weight": float("nan")}, "finite"),
    ({"com.weight": "heavy"}, "must be a number"),
    ({"grasp.power": [0.0, 1.0]}, "unknown"),  # hand postures are the robot file's synergies
])
def test_bad_values_are_named(values, message):
    with pytest.raises(ParameterError, match=message):
        from_flat(WbcParameters, values)


def test_the_stack_yaml_block_names_known_parameters_with_float_or_switch_values():
    if not STACK_YAML.is_file():
        pytest.skip("config/stack.yaml not found (not a source checkout)")
    block = yaml.safe_load(STACK_YAML.read_text())["/**/whole_body_controller"]["ros__parameters"]
    flat = flatten_yaml(block)
    node_only = {spec.name for spec in parameter_specs(WbcNodeParameters)}
    from_flat(WbcNodeParameters, {k: v for k, v in flat.items() if k in node_only})
    core = {k: v for k, v in flat.items() if k not in node_only}
    params = from_flat(WbcParameters, core)  # raises on unknown names or bad ranges
    specs = {spec.name: spec for spec in parameter_specs(WbcParameters)}
    for name, value in core.items():
        if specs[name].kind is bool:  # a switch (fall.capture_point)
            assert isinstance(value, bool), name
            continue
        # ROS parameters are typed: an integer in YAML would not match a double parameter.
        assert isinstance(value, float) or all(isinstance(v, float) for v in value), name
        assert specs[name].kind in (float, tuple), name
    assert params.com.stiffness == core["com.stiffness"]
