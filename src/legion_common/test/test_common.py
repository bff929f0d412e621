"""legion_common: the parameter mechanism (with and without ROS), stamps, diagnostics, transforms, images."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pytest

from legion_common import diagnostics, messages, stamps, transforms
from legion_common.parameters import (
    ParameterError,
    declare_parameters,
    flatten_yaml,
    from_flat,
    param,
    parameter_specs,
    require,
    to_flat,
)


@dataclass(frozen=True)
class Gains:
    stiffness: float = param(100.0, "Proportional gain.", unit="1/s^2", low=0.0, high=1e4)
    damping: float = param(20.0, "Derivative gain.", unit="1/s", low=0.0, high=1e3)


@dataclass(frozen=True)
class Example:
    rate: float = param(500.0, "Control rate.", unit="Hz", low=1.0, high=2000.0)
    samples: int = param(3, "Samples kept.", low=1, high=10)
    solver: str = param("daqp", "QP solver.", choices=("daqp", "proxsuite"))
    verbose: bool = param(False, "Say more.")
    posture: tuple[float, ...] = param((0.0, 0.5), "A posture.", unit="rad", low=-3.0, high=3.0)
    names: tuple[str, ...] = param((), "Names.")
    com: Gains = field(default_factory=Gains)
    swing: Gains = field(default_factory=lambda: Gains(400.0, 40.0))

    def validated(self) -> Example:
        require(self.com.stiffness <= self.swing.stiffness * 10.0, "com.stiffness must be at most 10 x swing's")
        return self


def test_specs_carry_dotted_names_units_and_ranges():
    specs = {spec.name: spec for spec in parameter_specs(Example)}
    assert set(specs) >= {"rate", "com.stiffness", "swing.damping", "posture"}
    assert specs["swing.stiffness"].default == 400.0
    assert specs["rate"].unit == "Hz" and (specs["rate"].low, specs["rate"].high) == (1.0, 2000.0)
    assert "[Hz]" in specs["rate"].full_description and "1..2000" in specs["rate"].full_description
    assert specs["posture"].kind is tuple and specs["posture"].element is float
    assert specs["names"].element is str


def test_from_flat_converts_checks_and_keeps_defaults():
    params = from_flat(Example, {"rate": 250, "com.stiffness": 80, "posture": [0.1, 0.2, 0.3]})
    assert params.rate == 250.0 and isinstance(params.rate, float)
    assert params.com == Gains(80.0, 20.0) and params.swing == Gains(400.0, 40.0)
    assert params.posture == (0.1, 0.2, 0.3)
    assert to_flat(params)["com.stiffness"] == 80.0
    assert from_flat(Example, to_flat(params)) == params


@pytest.mark.parametrize(("values", "words"), [
    ({"rate": 0.5}, "'rate' = 0.5 is outside its range"),
    ({"rate": float("nan")}, "'rate' must be finite"),
    ({"rate": "fast"}, "'rate' must be a number"),
    ({"samples": 2.5}, "'samples' must be a whole number"),
    ({"solver": "osqp"}, "'solver' = 'osqp' is not one of"),
    ({"verbose": 1}, "'verbose' must be true or false"),
    ({"posture": [0.0, 4.0]}, "'posture' = 4.0 is outside"),
    ({"posture": 1.0}, "'posture' must be a list"),
    ({"com.stiffnes": 1.0}, "unknown parameter(s) of Example: com.stiffnes"),
    ({"com.stiffness": 5000.0}, "com.stiffness must be at most 10 x swing's"),
])
def test_errors_name_the_parameter(values, words):
    with pytest.raises(ParameterError) as error:
        from_flat(Example, values)
    assert words in str(error.value)


def test_flatten_yaml_matches_ros_names():
    assert flatten_yaml({"rate": 1.0, "com": {"stiffness": 2.0, "damping": 3.0}}) == {
        "rate": 1.0, "com.stiffness": 2.0, "com.damping": 3.0}


def test_declare_parameters_on_a_real_node():
    rclpy = pytest.importorskip("rclpy")
    from rclpy.parameter import Parameter

    rclpy.init()
    try:
        node = rclpy.create_node("params_test", parameter_overrides=[
            Parameter("com.stiffness", value=90.0), Parameter("rate", value=200), Parameter("names", value=["a"])])
        params = declare_parameters(node, Example)
        assert params.com.stiffness == 90.0 and params.rate == 200.0 and params.names == ("a",)
        descriptor = node.describe_parameter("com.stiffness")
        assert descriptor.floating_point_range[0].to_value == 1e4 and "[1/s^2]" in descriptor.description
        assert node.describe_parameter("samples").integer_range[0].to_value == 10
        node.destroy_node()
        bad = rclpy.create_node("params_bad", parameter_overrides=[Parameter("com.damping", value=-1.0)])
        with pytest.raises(ParameterError, match=r"com\.damping"):
            declare_parameters(bad, Example)
        bad.destroy_node()
    finally:
        rclpy.shutdown()


def test_stamps_round_trip_to_the_nanosecond():
    for seconds in (0.0, 0.002, 1.5, 12345.678901234):
        stamp = stamps.to_stamp(seconds)
        assert abs(stamps.to_seconds(stamp) - seconds) < 1e-9
        assert 0 <= stamp.nanosec < 1_000_000_000
    assert stamps.to_seconds(stamps.to_duration(2.25)) == 2.25


def test_diagnostics_builder_and_reader():
    msg = diagnostics.diagnostics_msg(1.5, "node", diagnostics.WARN, "late", {"x": 0.123456789, "n": 3})
    assert msg.status[0].hardware_id == "node" and msg.status[0].level == bytes([1])
    assert diagnostics.diagnostic_values(msg) == {"x": "0.123457", "n": "3"}
    assert diagnostics.diagnostic_level(msg) == diagnostics.WARN
    assert stamps.to_seconds(msg.header.stamp) == 1.5


def test_transforms_agree():
    rng = np.random.default_rng(1)
    for _ in range(20):
        q = rng.normal(size=4)
        q /= np.linalg.norm(q)
        rotation = transforms.quaternion_to_matrix(q)
        q2 = transforms.matrix_to_quaternion(rotation)
        assert np.allclose(transforms.quaternion_to_matrix(q2), rotation)
        assert math.isclose(transforms.yaw_from_quaternion(q), transforms.yaw_from_matrix(rotation), abs_tol=1e-9)
        assert math.isclose(transforms.tilt_from_quaternion(q), math.acos(np.clip(rotation[2, 2], -1, 1)),
                            abs_tol=1e-9)
    assert np.allclose(transforms.quaternion_to_matrix(transforms.quaternion_from_yaw(0.7)), transforms.rotation_z(0.7))
    transform = transforms.pose_to_matrix([1.0, 2.0, 3.0], transforms.quaternion_from_yaw(0.3))
    assert np.allclose(transform @ transforms.invert_transform(transform), np.eye(4))
    assert math.isclose(transforms.wrap_angle(3 * math.pi), -math.pi)
    assert math.isclose(transforms.mean_yaw(3.0, -3.0), math.pi, abs_tol=1e-9) or math.isclose(
        abs(transforms.mean_yaw(3.0, -3.0)), math.pi, abs_tol=1e-9)
    with pytest.raises(transforms.TransformError):
        transforms.quaternion_to_matrix([0.0, 0.0, 0.0, 0.0])
    with pytest.raises(transforms.TransformError):
        transforms.pose_to_matrix([0.0, float("nan"), 0.0], [0, 0, 0, 1])


def test_images_round_trip_and_reject_bad_sizes():
    pytest.importorskip("sensor_msgs")
    rgb = np.random.default_rng(2).integers(0, 255, size=(4, 5, 3), dtype=np.uint8)
    depth = np.linspace(0.5, 2.0, 20, dtype=np.float32).reshape(4, 5)
    stamp = stamps.to_stamp(1.0)
    assert np.array_equal(messages.image_to_rgb(messages.rgb_image_msg(rgb, stamp, "cam")), rgb)
    assert np.array_equal(messages.image_to_depth(messages.depth_image_msg(depth, stamp, "cam")), depth)
    broken = messages.rgb_image_msg(rgb, stamp, "cam")
    broken.height = 40
    with pytest.raises(messages.EncodingError, match="bytes of data"):
        messages.image_to_rgb(broken)
    pose = messages.pose_msg([1.0, 2.0, 3.0], [0.0, 0.0, 0.0, 1.0])
    position, quaternion = messages.pose_arrays(pose)
    assert position.tolist() == [1.0, 2.0, 3.0] and quaternion.tolist() == [0.0, 0.0, 0.0, 1.0]
