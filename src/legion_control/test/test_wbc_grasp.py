"""The joint-space grasp controller: modes, closure, rate limit, joint limits, bad commands."""

import numpy as np
import pytest

from legion_control.errors import ControlError
from legion_control.grasp import GraspController, GraspMode, HandCommand, checked_hand_command
from legion_control.parameters import GraspParameters

JOINTS = {"left": ("l_a", "l_b", "l_c"), "right": ("r_a", "r_b", "r_c")}
LOWER = {n: -1.2 for names in JOINTS.values() for n in names}
UPPER = {n: 1.2 for names in JOINTS.values() for n in names}
SYNERGIES = {"open": (0.0, 0.0, 0.0), "power": (1.0, 1.0, 2.0), "pinch": (0.5, 0.0, 0.2)}
MIRRORED = {name: tuple(-v for v in values) for name, values in SYNERGIES.items()}  # right joints close negative
PARAMS = GraspParameters(speed=2.0)


def make() -> GraspController:
    return GraspController({"left": (JOINTS["left"], SYNERGIES), "right": (JOINTS["right"], MIRRORED)}, LOWER,
                           UPPER, PARAMS, {})


def settle(grasp: GraspController, seconds: float = 2.0) -> dict[str, np.ndarray]:
    targets = {}
    for _ in range(int(seconds / 0.002)):
        targets = grasp.update(0.002)
    return targets


def test_closure_interpolates_between_open_and_the_mode_posture_within_limits():
    grasp = make()
    grasp.set_command("left", HandCommand(GraspMode.POWER, 0.5))
    grasp.set_command("right", HandCommand(GraspMode.PINCH, 1.0))
    targets = settle(grasp)
    assert np.allclose(targets["left"], [0.5, 0.5, 1.0])
    assert np.allclose(targets["right"], [-0.5, 0.0, -0.2])  # each hand its own synergies
    grasp.set_command("left", HandCommand(GraspMode.POWER, 1.0))
    assert np.allclose(settle(grasp)["left"], [1.0, 1.0, 1.2])  # 2.0 clamped to the upper limit
    grasp.set_command("left", HandCommand(GraspMode.OPEN, 0.7))  # closure ignored when open
    assert np.allclose(settle(grasp)["left"], 0.0)


def test_targets_move_at_most_at_the_grasp_speed():
    grasp = make()
    grasp.set_command("left", HandCommand(GraspMode.POWER, 1.0))
    previous = grasp.targets["left"].copy()
    for _ in range(50):
        current = grasp.update(0.002)["left"]
        assert np.all(np.abs(current - previous) <= PARAMS.speed * 0.002 + 1e-12)
        previous = current


@pytest.mark.parametrize(("mode", "closure"), [(7, 0.5), (1, 1.5), (2, float("nan")), (0, -0.1)])
def test_bad_hand_commands_are_rejected(mode, closure):
    with pytest.raises(ControlError):
        checked_hand_command(mode, closure)


def test_postures_must_fit_the_hands():
    short = {"open": (0.0, 0.0), "power": (1.0, 1.0), "pinch": (0.5, 0.0)}
    with pytest.raises(ControlError, match="'open' synergy has 2 values but the hand has 3 joints"):
        GraspController({"left": (JOINTS["left"], short)}, LOWER, UPPER, PARAMS, {})
    with pytest.raises(ControlError, match="no 'pinch' synergy"):
        GraspController({"left": (JOINTS["left"], {"open": (0.0,) * 3, "power": (1.0,) * 3})}, LOWER, UPPER, PARAMS,
                        {})


def test_a_side_without_a_hand_is_refused():
    grasp = GraspController({"left": (JOINTS["left"], SYNERGIES)}, LOWER, UPPER, PARAMS, {})
    with pytest.raises(ControlError, match="no hand on side 'right'"):
        grasp.set_command("right", HandCommand(GraspMode.POWER, 1.0))
    assert set(grasp.update(0.002)) == {"left"}
