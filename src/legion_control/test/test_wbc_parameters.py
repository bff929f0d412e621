"""Parameters: typed defaults, dotted names, range checks, and the stack YAML block in step with the code."""

from pathlib import Path

import pytest
import yaml

from legion_control.errors import ControlError
from legion_control.parameters import WbcParameters, parameter_specs

STACK_YAML = Path(__file__).resolve().parents[3] / "config" / "stack.yaml"


def test_defaults_are_within_their_ranges_and_described():
    for spec in parameter_specs(WbcParameters):
        assert spec.description, spec.name
        if spec.low is not None:
            assert spec.low <= spec.default <= spec.high, spec.name
    assert WbcParameters.from_flat({}) == WbcParameters()


def test_dotted_names_override_only_what_they_name():
    params = WbcParameters.from_flat({"com.stiffness": 80.0, "contact.friction": 0.5})
    assert params.com.stiffness == 80.0
    assert params.com.weight == WbcParameters().com.weight  # nested group defaults survive
    assert params.contact.friction == 0.5
    assert params.base_orientation == WbcParameters().base_orientation


@pytest.mark.parametrize(("values", "message"), [
    ({"com.stifness": 1.0}, "unknown"),
    ({"contact.friction": 5.0}, "outside its range"),
    ({"com.weight": float("nan")}, "finite"),
    ({"com.weight": "heavy"}, "must be a number"),
    ({"grasp.power": [0.0, 1.0]}, "must have 22 values"),
])
def test_bad_values_are_named(values, message):
    with pytest.raises(ControlError, match=message):
        WbcParameters.from_flat(values)


def flatten(tree: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def test_the_stack_yaml_block_names_known_parameters_with_float_values():
    if not STACK_YAML.is_file():
        pytest.skip("config/stack.yaml not found (not a source checkout)")
    block = yaml.safe_load(STACK_YAML.read_text())["/**/whole_body_controller"]["ros__parameters"]
    flat = flatten(block)
    node_only = {"solver", "diagnostics_rate", "robot"}
    core = {k: v for k, v in flat.items() if k not in node_only}
    params = WbcParameters.from_flat(core)  # raises on unknown names or bad ranges
    specs = {spec.name: spec for spec in parameter_specs(WbcParameters)}
    for name, value in core.items():
        # ROS parameters are typed: an integer in YAML would not match a double parameter.
        assert isinstance(value, float) or all(isinstance(v, float) for v in value), name
        assert type(specs[name].default) in (float, tuple), name
    assert params == WbcParameters.from_flat({k: v for k, v in core.items()})
