"""The perception parameters against the rest of the stack: config/stack.yaml sets every one to its default, and
the default colours name the parts of the scenes and exclude their furniture."""

from pathlib import Path

import cv2
import numpy as np
import yaml

from legion_common.parameters import flatten_yaml, from_flat, to_flat
from legion_perception.config import DetectionConfig, NodeParameters, PerceptionConfig
from legion_perception.detection import hue_lookup
from legion_sim.scene import COLOURS

STACK_YAML = Path(__file__).resolve().parents[1] / "config" / "stack.yaml"


def test_stack_yaml_sets_every_perception_parameter_to_its_documented_default():
    """config/stack.yaml is where the tunables live; the code's defaults are the same values."""
    block = yaml.safe_load(STACK_YAML.read_text())["/**/perception"]["ros__parameters"]
    flat = flatten_yaml(block)
    expected = to_flat(PerceptionConfig()) | {k: v for k, v in to_flat(NodeParameters()).items() if k != "robot"}
    assert set(flat) == set(expected)
    for name, value in expected.items():
        assert (tuple(flat[name]) if isinstance(value, tuple) else flat[name]) == value, name
    node_names = set(to_flat(NodeParameters()))
    assert from_flat(PerceptionConfig, {k: v for k, v in flat.items() if k not in node_names}) == PerceptionConfig()
    assert from_flat(NodeParameters, {k: v for k, v in flat.items() if k in node_names}) == NodeParameters()


def test_named_colours_map_to_their_names_and_furniture_is_not_a_part_colour():
    config = DetectionConfig()
    table = hue_lookup(config)
    for name in config.colour_names:
        rgb = np.array([[np.array(COLOURS[name][:3]) * 255]], dtype=np.uint8)
        for shade in (0.4, 0.7, 1.0):  # lighting scales every channel: the hue and saturation stay
            hsv = cv2.cvtColor((rgb * shade).astype(np.uint8), cv2.COLOR_RGB2HSV_FULL)[0, 0]
            assert config.colour_names[table[hsv[0]]] == name
            assert hsv[1] >= config.min_saturation * 255
    for name in ("wood", "grey", "white", "steel", "light_grey", "dark_grey", "black"):
        rgb = np.array([[np.array(COLOURS[name][:3]) * 255]], dtype=np.uint8)
        assert cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV_FULL)[0, 0, 1] < config.min_saturation * 255, name
