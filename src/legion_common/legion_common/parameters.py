"""Typed node parameters: a frozen dataclass declares them, with a default, a description and a range check.

    @dataclass(frozen=True)
    class MyParameters:
        rate: float = 500.0
        \"\"\"[Hz] control rate.\"\"\"

        DESCRIPTIONS: ClassVar[dict[str, str]] = {"rate": "Control rate [Hz], 1..2000."}

        def validated(self) -> "MyParameters":
            require(1.0 <= self.rate <= 2000.0, "rate must be in 1..2000 Hz")
            return self

    params = declare_parameters(node, MyParameters)   # read once, typed, checked

The dataclass itself has no ROS dependency, so cores and tests build it directly.
"""

from __future__ import annotations

import dataclasses
from typing import TypeVar

T = TypeVar("T")


class ParameterError(ValueError):
    """A node parameter is out of its range or of the wrong type."""


def require(condition: bool, message: str) -> None:
    """Raise ParameterError(message) unless condition holds."""
    if not condition:
        raise ParameterError(f"invalid parameter: {message}")


def declare_parameters(node, parameters_type: type[T]) -> T:
    """Declare every field of `parameters_type` on `node` (default and description from the dataclass) and return
    the values read back, converted to the field's type and validated by the dataclass's `validated()`."""
    from rcl_interfaces.msg import ParameterDescriptor

    descriptions = getattr(parameters_type, "DESCRIPTIONS", {})
    values = {}
    for field in dataclasses.fields(parameters_type):
        descriptor = ParameterDescriptor(description=descriptions.get(field.name, ""))
        value = node.declare_parameter(field.name, field.default, descriptor).value
        if isinstance(field.default, float) and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)  # `-p rate:=500` arrives as an integer
        values[field.name] = value
    result = parameters_type(**values)
    validated = getattr(result, "validated", None)
    return validated() if validated else result
