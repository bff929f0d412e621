"""Typed, range-checked parameters of the whole-body controller, read once from a flat name -> value mapping.

Every tunable has a default, a description and a range. Nested groups become dotted names, as ROS 2 parameters and
`config/stack.yaml` spell them (`com.stiffness`, `contact.friction`, ...):

    params = WbcParameters.from_flat({"com.stiffness": 80.0})   # the others keep their defaults
    for spec in parameter_specs(WbcParameters): ...             # name, default, description, range (for the node)

Gains follow task-space inverse dynamics: a task with error e and error rate e_dot asks for the acceleration
`a_ref + stiffness * e + damping * e_dot` [1/s^2, 1/s], weighted by `weight` in the QP cost.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field

from legion_control.errors import ControlError


def _param(default: object, description: str, low: float | None = None, high: float | None = None):
    """A parameter field: default, description and the closed range [low, high] every value must lie in."""
    return field(default=default, metadata={"description": description, "range": (low, high)})


@dataclass(frozen=True)
class TaskGains:
    """Weight and PD gains of a task."""

    weight: float = _param(1.0, "Cost weight of the task.", 0.0, 1e6)
    stiffness: float = _param(100.0, "Proportional gain [1/s^2].", 0.0, 1e4)
    damping: float = _param(20.0, "Derivative gain [1/s].", 0.0, 1e3)


@dataclass(frozen=True)
class PostureWeights:
    """Per joint group factor on the posture task's weight. The legs' posture is fixed by the soles, the CoM and
    the base orientation, so a strong leg posture task only fights them (e.g. in a squat)."""

    legs: float = _param(0.01, "Posture weight factor of the leg joints.", 0.0, 1e3)
    waist: float = _param(0.5, "Posture weight factor of the waist joints.", 0.0, 1e3)
    arms: float = _param(0.1, "Posture weight factor of the arm joints.", 0.0, 1e3)
    neck: float = _param(1.0, "Posture weight factor of the neck joints.", 0.0, 1e3)


@dataclass(frozen=True)
class HandTaskParameters:
    """The hand pose tasks (gripper frame pose in odom)."""

    position_weight: float = _param(300.0, "Cost weight of the gripper position task.", 0.0, 1e6)
    orientation_weight: float = _param(10.0, "Cost weight of the gripper orientation task.", 0.0, 1e6)
    stiffness: float = _param(100.0, "Proportional gain of the hand tasks [1/s^2].", 0.0, 1e4)
    damping: float = _param(20.0, "Derivative gain of the hand tasks [1/s].", 0.0, 1e3)
    max_speed: float = _param(0.3, "Speed at which the hand reference moves towards a new target [m/s].", 0.01, 5.0)
    max_angular_speed: float = _param(1.0, "Angular speed of the hand reference towards a target [rad/s].", 0.01,
                                      20.0)
    target_timeout: float = _param(1.0, "A hand target older than this is stale and releases the task [s].", 0.01,
                                   1e6)
    reach_margin: float = _param(0.03, "Targets farther from the waist than the waist and arm links' length minus "
                                       "this are unreachable and rejected [m].", 0.0, 0.5)


@dataclass(frozen=True)
class AngularMomentumParameters:
    """Centroidal angular momentum damping task: d/dt L = -damping * L."""

    weight: float = _param(0.0, "Cost weight of the angular momentum task (0: off; damping angular momentum "
                                "works against the hip strategy that rejects pushes).", 0.0, 1e6)
    damping: float = _param(10.0, "Rate at which angular momentum about the CoM is damped [1/s].", 0.0, 1e3)


@dataclass(frozen=True)
class ContactParameters:
    """Sole contacts: wrench cone and contact constraint."""

    friction: float = _param(0.7, "Friction coefficient assumed between sole and ground (the linearised cone is "
                                  "the pyramid inscribed in it).", 0.05, 2.0)
    min_normal_force: float = _param(15.0, "Least normal force of a sole in contact [N].", 0.0, 1000.0)
    cop_margin: float = _param(0.01, "The centre of pressure keeps this far inside the sole rectangle [m].", 0.0,
                               0.05)
    stiffness: float = _param(100.0, "Proportional gain pulling a stance sole back to where it landed, along the "
                                    "ground and in yaw (slip) [1/s^2].",
                              0.0, 1e4)
    damping: float = _param(20.0, "Derivative gain on a stance sole's velocity [1/s].", 0.0, 1e3)
    force_weight: float = _param(1e-4, "Regularisation weight of contact forces towards an even split [1/N^2].",
                                 0.0, 1e3)
    torque_weight: float = _param(1e-3, "Regularisation weight of contact torques [1/(N m)^2].", 0.0, 1e3)


@dataclass(frozen=True)
class LimitParameters:
    """Hard limits of the QP."""

    torque_scale: float = _param(0.95, "Fraction of each joint's effort limit the QP may use.", 0.1, 1.0)
    position_margin: float = _param(0.03, "Joint positions keep this far inside their limits [rad].", 0.0, 0.5)
    position_horizon: float = _param(0.05, "Look-ahead over which a joint must be able to stop before its position "
                                           "limit [s].", 0.002, 1.0)
    velocity_scale: float = _param(0.9, "Fraction of each joint's velocity limit the QP may reach.", 0.1, 1.0)
    velocity_horizon: float = _param(0.02, "Time over which a velocity limit is approached [s].", 0.002, 1.0)
    max_joint_acceleration: float = _param(400.0, "Largest joint acceleration the QP may ask for [rad/s^2].", 1.0,
                                           1e5)
    regularization: float = _param(1e-5, "Regularisation weight of joint accelerations.", 1e-9, 1.0)


@dataclass(frozen=True)
class CommandParameters:
    """The joint command: feed-forward torque plus integrated targets with moderate gains."""

    stiffness_scale: float = _param(0.2, "Joint stiffness, as a fraction of the robot's position-hold stiffness.",
                                    0.0, 2.0)
    damping_scale: float = _param(0.5, "Joint damping, as a fraction of the robot's position-hold damping.", 0.0,
                                  4.0)
    leak_time: float = _param(0.05, "Time constant with which the integrated joint targets are pulled back to the "
                                    "measured state [s]; 0 integrates from the measured state every cycle.", 0.0,
                              10.0)
    friction_compensation: float = _param(1.0, "Fraction of the model's viscous joint friction added to the "
                                               "feed-forward torque.", 0.0, 1.5)


@dataclass(frozen=True)
class FallParameters:
    """Fall detection and the safe damping behaviour."""

    max_tilt: float = _param(0.6, "Base tilt from upright beyond which the robot has fallen [rad].", 0.05, 1.5)
    com_margin: float = _param(0.25, "Ground distance of the CoM outside the support polygon beyond which the robot "
                                     "has fallen [m].", 0.0, 1.0)
    min_com_height_ratio: float = _param(0.55, "CoM height below this fraction of the standing one means fallen.",
                                         0.05, 1.0)
    damping_scale: float = _param(1.0, "Joint damping while fallen, as a fraction of the position-hold damping.",
                                  0.0, 10.0)
    recovery_time: float = _param(0.05, "Standing upright on both soles for this long ends the fall state [s].",
                                  0.0, 60.0)


@dataclass(frozen=True)
class ReferenceParameters:
    """Checks and shaping of the references the controller takes."""

    min_com_height_ratio: float = _param(0.6, "Lowest CoM reference, as a fraction of the standing CoM height.",
                                         0.1, 1.0)
    max_com_height_ratio: float = _param(1.03, "Highest CoM reference, as a fraction of the standing CoM height.",
                                         1.0, 1.5)
    max_com_distance: float = _param(0.35, "Largest ground distance of a CoM reference from the stance soles' "
                                           "midpoint [m]; farther is unreachable.", 0.01, 2.0)
    max_com_offset: float = _param(0.12, "Largest horizontal balance offset of the CoM [m].", 0.0, 1.0)
    max_com_lowering: float = _param(0.25, "Largest downward balance offset of the CoM [m].", 0.0, 1.0)
    max_com_raising: float = _param(0.03, "Largest upward balance offset of the CoM [m].", 0.0, 0.5)
    offset_timeout: float = _param(0.2, "A balance offset's velocity and acceleration feed-forward are dropped when "
                                        "it is older than this (the offset itself is held) [s].", 0.0, 1e6)
    transition_time: float = _param(0.5, "Blend time when the CoM reference source changes [s].", 0.0, 10.0)
    max_sole_distance: float = _param(0.6, "A swing-foot reference farther than this from the stance sole is "
                                           "unreachable [m].", 0.05, 2.0)


def _default_open() -> tuple[float, ...]:
    return (0.0,) * 22


def _default_power() -> tuple[float, ...]:
    thumb = (1.0, 0.6, 0.4, 0.6, 0.8)
    finger = (0.0, 1.3, 1.4, 1.0)
    return thumb + finger * 3 + (0.3, 0.0, 1.3, 1.4, 1.0)


def _default_pinch() -> tuple[float, ...]:
    thumb = (1.1, 0.7, 0.4, 0.4, 0.5)
    index = (0.0, 0.9, 0.9, 0.5)
    curled = (0.0, 1.4, 1.5, 1.0)
    return thumb + index + index + curled + (0.3, 0.0, 1.4, 1.5, 1.0)


@dataclass(frozen=True)
class EstimatorParameters:
    """Base state between odometry messages (see `base_estimator`)."""

    blend_time: float = _param(0.02, "Time constant with which a low-rate odometry's correction of the kinematic "
                                     "base estimate is blended in [s]; 0 applies it at once.", 0.0, 1.0)


@dataclass(frozen=True)
class GraspParameters:
    """The joint-space grasp controller. Postures list one value per hand joint [rad], in the order of the robot
    configuration's `joint_groups.hands.<side>` (the same order, and the same values, for both mirrored hands)."""

    open: tuple[float, ...] = _param(_default_open(), "Open hand posture [rad].")
    power: tuple[float, ...] = _param(_default_power(), "Fully closed power-grasp posture [rad].")
    pinch: tuple[float, ...] = _param(_default_pinch(), "Fully closed pinch posture [rad].")
    speed: float = _param(2.0, "Largest speed of a hand joint target [rad/s].", 0.01, 100.0)
    stiffness_scale: float = _param(1.0, "Hand joint stiffness, as a fraction of the robot's hand gains.", 0.0, 10.0)
    damping_scale: float = _param(1.0, "Hand joint damping, as a fraction of the robot's hand gains.", 0.0, 10.0)


@dataclass(frozen=True)
class WbcParameters:
    """Every tunable of the whole-body controller core (see `config/stack.yaml`, `whole_body_controller`)."""

    control_rate: float = _param(500.0, "Nominal control rate [Hz]: the period used on the first cycle and to bound "
                                        "the measured period.", 10.0, 5000.0)
    com: TaskGains = field(default_factory=lambda: TaskGains(1000.0, 50.0, 14.0))
    base_orientation: TaskGains = field(default_factory=lambda: TaskGains(10.0, 150.0, 25.0))
    swing_foot: TaskGains = field(default_factory=lambda: TaskGains(1000.0, 400.0, 40.0))
    posture: TaskGains = field(default_factory=lambda: TaskGains(1.0, 40.0, 12.0))
    posture_weights: PostureWeights = field(default_factory=PostureWeights)
    hand: HandTaskParameters = field(default_factory=HandTaskParameters)
    angular_momentum: AngularMomentumParameters = field(default_factory=AngularMomentumParameters)
    contact: ContactParameters = field(default_factory=ContactParameters)
    limits: LimitParameters = field(default_factory=LimitParameters)
    command: CommandParameters = field(default_factory=CommandParameters)
    fall: FallParameters = field(default_factory=FallParameters)
    references: ReferenceParameters = field(default_factory=ReferenceParameters)
    estimator: EstimatorParameters = field(default_factory=EstimatorParameters)
    grasp: GraspParameters = field(default_factory=GraspParameters)

    @classmethod
    def from_flat(cls, values: Mapping[str, object] | None = None) -> WbcParameters:
        """Build from dotted names (`com.stiffness`); names not given keep their defaults.

        Raises:
            ControlError: an unknown name, a value of the wrong type, or a value out of its range.
        """
        return build_parameters(cls, values or {})


@dataclass(frozen=True)
class ParameterSpec:
    """One flat parameter: dotted name, default, description and range."""

    name: str
    default: object
    description: str
    low: float | None
    high: float | None


def _is_group(annotation: object) -> bool:
    return isinstance(annotation, type) and dataclasses.is_dataclass(annotation)


def parameter_specs(cls: type = WbcParameters) -> list[ParameterSpec]:
    """Every leaf parameter of a parameters dataclass, with dotted names and the defaults of `cls()`."""
    return _specs(cls(), "")


def _specs(defaults: object, prefix: str) -> list[ParameterSpec]:
    specs: list[ParameterSpec] = []
    hints = typing.get_type_hints(type(defaults))
    for item in dataclasses.fields(defaults):
        name = f"{prefix}{item.name}"
        value = getattr(defaults, item.name)
        if _is_group(hints[item.name]):
            specs += _specs(value, f"{name}.")
            continue
        low, high = item.metadata.get("range", (None, None))
        specs.append(ParameterSpec(name, value, item.metadata.get("description", ""), low, high))
    return specs


def _checked_value(spec: ParameterSpec, value: object) -> object:
    default = spec.default
    if isinstance(default, tuple):
        try:
            values = tuple(float(v) for v in value)  # type: ignore[union-attr]
        except (TypeError, ValueError):
            raise ControlError(f"parameter '{spec.name}' must be a list of numbers, got {value!r}") from None
        if len(values) != len(default):
            raise ControlError(f"parameter '{spec.name}' must have {len(default)} values, got {len(values)}")
        if not all(math.isfinite(v) for v in values):
            raise ControlError(f"parameter '{spec.name}' must be finite, got {value!r}")
        return values
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ControlError(f"parameter '{spec.name}' must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ControlError(f"parameter '{spec.name}' must be finite, got {value!r}")
    if (spec.low is not None and number < spec.low) or (spec.high is not None and number > spec.high):
        raise ControlError(f"parameter '{spec.name}' = {number} is outside its range [{spec.low}, {spec.high}]")
    return number


def build_parameters(cls: type, values: Mapping[str, object]):
    """Instance of a parameters dataclass from dotted names (see `WbcParameters.from_flat`)."""
    specs = {spec.name: spec for spec in parameter_specs(cls)}
    unknown = sorted(set(values) - set(specs))
    if unknown:
        raise ControlError(f"unknown whole-body controller parameter(s): {', '.join(unknown)}")
    checked = {name: _checked_value(specs[name], value) for name, value in values.items()}
    return _replaced(cls(), checked, "")


def _replaced(defaults: object, checked: Mapping[str, object], prefix: str):
    """`defaults` with the checked values of its (nested) fields substituted."""
    hints = typing.get_type_hints(type(defaults))
    changes = {}
    for item in dataclasses.fields(defaults):
        name = f"{prefix}{item.name}"
        if _is_group(hints[item.name]):
            changes[item.name] = _replaced(getattr(defaults, item.name), checked, f"{name}.")
        elif name in checked:
            changes[item.name] = checked[name]
    return dataclasses.replace(defaults, **changes)
