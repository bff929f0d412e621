"""Typed node parameters: one mechanism for every Legion node.

A frozen dataclass declares the parameters. Each field carries its default, a description, a unit and a closed range;
a field whose type is itself such a dataclass (`field(default_factory=...)`) is a group, and its fields get dotted
names (`com.stiffness`), as ROS 2 parameters and `config/stack.yaml` spell them:

    @dataclass(frozen=True)
    class TaskGains:
        stiffness: float = param(100.0, "Proportional gain.", unit="1/s^2", low=0.0, high=1e4)

    @dataclass(frozen=True)
    class MyParameters:
        rate: float = param(500.0, "Control rate.", unit="Hz", low=1.0, high=2000.0)
        com: TaskGains = field(default_factory=TaskGains)

        def validated(self) -> "MyParameters":          # optional: checks across fields
            require(self.rate > 10.0 or ..., "...")
            return self

    params = declare_parameters(node, MyParameters)    # ROS: declared with descriptors and ranges, read once
    params = from_flat(MyParameters, {"com.stiffness": 80.0})   # cores and tests: no ROS needed

Supported leaf types: bool, int, float, str and tuples of them (`tuple[float, ...]`). Every error is a
`ParameterError` whose message names the parameter. This module imports rclpy's messages only inside
`declare_parameters`, so cores and tests use the dataclasses without ROS.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


class ParameterError(ValueError):
    """A node parameter is unknown, of the wrong type, or out of its range."""


def require(condition: bool, message: str) -> None:
    """Raise ParameterError(message) unless condition holds (for `validated()` checks across fields)."""
    if not condition:
        raise ParameterError(f"invalid parameter: {message}")


def param(default: Any, description: str, *, unit: str = "", low: float | None = None, high: float | None = None,
          choices: tuple[str, ...] | None = None) -> Any:
    """A parameter field: its default, what it means, its unit ("" for none) and the closed range [low, high] that
    every value (every element, for a tuple) must lie in; `choices` lists the allowed values of a string."""
    metadata = {"description": description, "unit": unit, "range": (low, high), "choices": choices}
    if isinstance(default, (list, tuple)):
        value = tuple(default)
        return dataclasses.field(default_factory=lambda: value, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


@dataclass(frozen=True)
class ParameterSpec:
    """One leaf parameter: dotted name, default, description, unit, range, leaf type and element type (tuples)."""

    name: str
    default: Any
    description: str
    unit: str
    low: float | None
    high: float | None
    kind: type
    element: type | None = None
    choices: tuple[str, ...] | None = None

    @property
    def full_description(self) -> str:
        """The description with its unit and range, as the ROS parameter descriptor shows it."""
        text = self.description
        if self.unit:
            text += f" [{self.unit}]"
        if self.low is not None or self.high is not None:
            low = "-inf" if self.low is None else f"{self.low:g}"
            high = "inf" if self.high is None else f"{self.high:g}"
            text += f" Range {low}..{high}."
        if self.choices:
            text += f" One of: {', '.join(self.choices)}."
        return text


def _is_group(annotation: object) -> bool:
    return isinstance(annotation, type) and dataclasses.is_dataclass(annotation)


def _leaf_types(annotation: object, default: Any) -> tuple[type, type | None]:
    origin = typing.get_origin(annotation)
    if origin is tuple:
        args = [a for a in typing.get_args(annotation) if a is not Ellipsis]
        element = args[0] if args else (type(default[0]) if default else float)
        return tuple, element
    if isinstance(annotation, type):
        return annotation, None
    return type(default), None


def parameter_specs(cls: type, prefix: str = "") -> list[ParameterSpec]:
    """Every leaf parameter of a parameters dataclass, with dotted names and the defaults of `cls()`."""
    return _specs(cls(), prefix)


def _specs(defaults: object, prefix: str) -> list[ParameterSpec]:
    specs: list[ParameterSpec] = []
    hints = typing.get_type_hints(type(defaults))
    for item in dataclasses.fields(defaults):
        if not item.init:
            continue
        name = f"{prefix}{item.name}"
        value = getattr(defaults, item.name)
        if _is_group(hints[item.name]):
            specs += _specs(value, f"{name}.")
            continue
        kind, element = _leaf_types(hints[item.name], value)
        low, high = item.metadata.get("range", (None, None))
        specs.append(ParameterSpec(name, value, item.metadata.get("description", ""), item.metadata.get("unit", ""),
                                   low, high, kind, element, item.metadata.get("choices")))
    return specs


def _scalar(spec: ParameterSpec, kind: type, value: Any) -> Any:
    """`value` converted to `kind` and range-checked, or ParameterError naming the parameter."""
    if kind is bool:
        if not isinstance(value, bool):
            raise ParameterError(f"parameter '{spec.name}' must be true or false, got {value!r}")
        return value
    if kind is str:
        if not isinstance(value, str):
            raise ParameterError(f"parameter '{spec.name}' must be a string, got {value!r}")
        if spec.choices and value not in spec.choices:
            raise ParameterError(f"parameter '{spec.name}' = {value!r} is not one of {', '.join(spec.choices)}")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParameterError(f"parameter '{spec.name}' must be a number, got {value!r}")
    if kind is int:
        if isinstance(value, float) and not value.is_integer():
            raise ParameterError(f"parameter '{spec.name}' must be a whole number, got {value!r}")
        number: float = int(value)
    else:
        number = float(value)
        if not math.isfinite(number):
            raise ParameterError(f"parameter '{spec.name}' must be finite, got {value!r}")
    if (spec.low is not None and number < spec.low) or (spec.high is not None and number > spec.high):
        raise ParameterError(f"parameter '{spec.name}' = {value!r} is outside its range [{spec.low}, {spec.high}]"
                             + (f" {spec.unit}" if spec.unit else ""))
    return number


def checked_value(spec: ParameterSpec, value: Any) -> Any:
    """`value` as the parameter's type (a tuple for lists), range-checked.

    Raises:
        ParameterError: wrong type, non-finite or out of range; the message names the parameter.
    """
    if spec.kind is tuple:
        if isinstance(value, (str, bytes)) or not isinstance(value, typing.Iterable):
            raise ParameterError(f"parameter '{spec.name}' must be a list, got {value!r}")
        return tuple(_scalar(spec, spec.element or float, v) for v in value)
    return _scalar(spec, spec.kind, value)


def from_flat(cls: type[T], values: Mapping[str, Any] | None = None, prefix: str = "") -> T:
    """An instance of the parameters dataclass `cls` from dotted names (`prefix` + `com.stiffness`); names not given
    keep their defaults. Every value is converted and range-checked, then `validated()` of every group runs.

    Raises:
        ParameterError: an unknown name, a value of the wrong type or out of its range, or a failed `validated()`.
    """
    values = dict(values or {})
    specs = {spec.name: spec for spec in parameter_specs(cls, prefix)}
    unknown = sorted(set(values) - set(specs))
    if unknown:
        raise ParameterError(f"unknown parameter(s) of {cls.__name__}: {', '.join(unknown)}")
    checked = {name: checked_value(specs[name], value) for name, value in values.items()}
    return _replaced(cls(), checked, prefix)


def _replaced(defaults: Any, checked: Mapping[str, Any], prefix: str) -> Any:
    hints = typing.get_type_hints(type(defaults))
    changes = {}
    for item in dataclasses.fields(defaults):
        if not item.init:
            continue
        name = f"{prefix}{item.name}"
        if _is_group(hints[item.name]):
            changes[item.name] = _replaced(getattr(defaults, item.name), checked, f"{name}.")
        elif name in checked:
            changes[item.name] = checked[name]
    result = dataclasses.replace(defaults, **changes)
    validated = getattr(result, "validated", None)
    return validated() if callable(validated) else result


def to_flat(parameters: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted name -> value of every leaf of a parameters instance (the inverse of `from_flat`)."""
    return {spec.name: spec.default for spec in _specs(parameters, prefix)}


def flatten_yaml(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """A nested mapping (a node's `ros__parameters` in YAML) -> dotted name -> value, as ROS 2 flattens it."""
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten_yaml(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def declare_parameters(node: Any, cls: type[T], prefix: str = "") -> T:
    """Declare every leaf parameter of `cls` on `node` (default, description with unit and range, and a
    FloatingPointRange / IntegerRange where both bounds are set) and return the values read back once, as a typed,
    checked instance of `cls`.

    Raises:
        ParameterError: a value given to the node (launch file, parameters file, command line) is of the wrong type,
            out of its range, or fails `validated()`; the message names the parameter.
    """
    from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor
    from rclpy.exceptions import InvalidParameterTypeException, InvalidParameterValueException
    from rclpy.parameter import Parameter

    array_types = {float: Parameter.Type.DOUBLE_ARRAY, int: Parameter.Type.INTEGER_ARRAY,
                   str: Parameter.Type.STRING_ARRAY, bool: Parameter.Type.BOOL_ARRAY}
    values: dict[str, Any] = {}
    for spec in parameter_specs(cls, prefix):
        descriptor = ParameterDescriptor(description=spec.full_description)
        if spec.low is not None and spec.high is not None:
            if spec.kind is float:
                descriptor.floating_point_range = [FloatingPointRange(from_value=float(spec.low),
                                                                      to_value=float(spec.high))]
            elif spec.kind is int:
                descriptor.integer_range = [IntegerRange(from_value=math.ceil(spec.low),
                                                         to_value=math.floor(spec.high), step=1)]
        if spec.kind is tuple:
            default: Any = list(spec.default) if spec.default else array_types[spec.element or float]
        else:
            default = spec.default
        try:
            try:
                value = node.declare_parameter(spec.name, default, descriptor).value
            except InvalidParameterTypeException:
                if spec.kind is not float:
                    raise
                # `rate:=500` in a launch or parameters file arrives as an integer: take it as a number and let
                # `from_flat` convert and range-check it.
                descriptor.dynamic_typing = True
                descriptor.floating_point_range = []
                value = node.declare_parameter(spec.name, default, descriptor).value
        except (InvalidParameterValueException, InvalidParameterTypeException) as error:
            raise ParameterError(f"parameter '{spec.name}': {error}") from error
        if value is None:  # an empty array default that nobody set
            continue
        values[spec.name] = value
    return from_flat(cls, values, prefix)
