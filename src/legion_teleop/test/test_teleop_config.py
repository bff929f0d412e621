"""The teleop file: the shipped one loads; a malformed one fails with an error that names the file and the key."""

from __future__ import annotations

import copy

import pytest
import yaml

from legion_teleop import TeleopError
from legion_teleop.config import config_from_dict, default_path, load_config

SHIPPED = yaml.safe_load(default_path().read_text())


def test_the_shipped_file_loads_with_its_values() -> None:
    config = load_config("teleop")
    assert config.limits.max_forward_speed == SHIPPED["limits"]["max_forward_speed"]
    assert config.joy.deadman_buttons == tuple(SHIPPED["joy"]["deadman_buttons"])
    assert config.joy.axes["forward"].axis == SHIPPED["joy"]["axes"]["forward"]["axis"]
    assert config.joy.required_axes() == 1 + max(b["axis"] for b in (*SHIPPED["joy"]["axes"].values(),
                                                                     *SHIPPED["joy"]["arm_axes"].values()))


def _broken(path: tuple, value) -> dict:
    data = copy.deepcopy(SHIPPED)
    node = data
    for key in path[:-1]:
        node = node[key]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return data


@pytest.mark.parametrize(("path", "value", "message"), [
    (("joy", "axes", "forwrd"), {"axis": 1}, "joy.axes.forwrd: unknown command 'forwrd'"),
    (("joy", "axes", "forward", "axis"), -1, "joy.axes.forward.axis must be a non-negative whole number"),
    (("joy", "axes", "forward", "axis"), 1.5, "joy.axes.forward.axis must be a non-negative whole number"),
    (("joy", "axes", "forward", "axis"), KeyError, "joy.axes.forward.axis: missing"),
    (("joy", "axes", "forward", "scale"), "fast", "joy.axes.forward.scale must be a finite number"),
    (("joy", "axes", "forward", "gain"), 2.0, "joy.axes.forward: unknown key(s) gain"),
    (("joy", "axes", "forward"), [1, 2], "joy.axes.forward must be {axis"),
    (("joy", "axes"), KeyError, "joy.axes: required"),
    (("joy", "deadman_buttons"), KeyError, "joy.deadman_buttons: required"),
    (("joy", "deadman_buttons"), [], "joy.deadman_buttons: required"),
    (("joy", "buttons", "hand_open"), 4, "joy.buttons.hand_open: button 4 is also a dead-man button"),
    (("joy", "buttons", "hand_open"), 1, "joy.buttons.hand_close: button 1 is already hand_open"),
    (("joy", "buttons", "jump"), 9, "joy.buttons.jump: unknown event 'jump'"),
    (("joy", "arm_mode_button"), 4, "joy.arm_mode_button: button 4 is already used"),
    (("joy", "arm_mode_button"), KeyError, "joy.arm_axes: given without arm_mode_button"),
    (("joy", "arm_axes", "forward"), {"axis": 1}, "joy.arm_axes.forward: unknown command"),
    (("joy", "deadzone"), 1.0, "joy.deadzone must be a number in [0, 1)"),
    (("joy", "rumble"), True, "joy: unknown key(s) rumble"),
    (("joy",), KeyError, "joy: missing"),
    (("joy",), [1, 2], "joy must be a mapping"),
    (("limits", "max_forward_speed"), 5.0, "limits.max_forward_speed"),
    (("limits", "max_fwd_speed"), 0.2, "unknown parameter(s) of Limits: limits.max_fwd_speed"),
    (("timing", "joy_timeout"), 0.8, "joy_timeout must not exceed"),
    (("timing", "rate"), "fast", "timing.rate"),
    (("teleop",), {}, "unknown section(s) teleop"),
])
def test_a_malformed_file_names_the_key(path, value, message) -> None:
    with pytest.raises(TeleopError) as error:
        config_from_dict(_broken(path, value), "my_teleop.yaml")
    assert message in str(error.value)
    assert str(error.value).startswith("my_teleop.yaml")


def test_a_missing_or_broken_file_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(TeleopError, match="cannot read it"):
        load_config(str(tmp_path / "nowhere.yaml"))
    broken = tmp_path / "broken.yaml"
    broken.write_text("joy: [unclosed\n")
    with pytest.raises(TeleopError, match="not valid YAML"):
        load_config(str(broken))
    broken.write_text("- a list\n")
    with pytest.raises(TeleopError, match="must be a mapping"):
        load_config(str(broken))


def test_a_bare_axis_index_is_accepted() -> None:
    config = config_from_dict(_broken(("joy", "axes", "forward"), 2))
    assert config.joy.axes["forward"].axis == 2 and config.joy.axes["forward"].scale == 1.0
