"""Robot models the tests run on: the generated humanoid always, Centurion once its URDF exists; each whole and with
the hands locked."""

from __future__ import annotations

import pytest

from legion_description import DescriptionError, urdf_xacro_path
from legion_model import RobotModel
from legion_model.testing import GeneratedRobot, write_test_humanoid

ROBOT_VARIANTS = ["pico", "pico-body", "centurion", "centurion-body"]


@pytest.fixture(scope="session")
def generated_robot(tmp_path_factory: pytest.TempPathFactory) -> GeneratedRobot:
    return write_test_humanoid(tmp_path_factory.mktemp("pico_share"))


def centurion_available() -> bool:
    try:
        urdf_xacro_path("centurion")
    except DescriptionError:
        return False
    return True


_models: dict[str, RobotModel] = {}


def load_variant(variant: str, generated: GeneratedRobot) -> RobotModel:
    """A robot model by variant name (`<robot>` or `<robot>-body` with the hands locked), loaded once a session."""
    if variant not in _models:
        robot, _, body = variant.partition("-")
        if robot == "centurion":
            if not centurion_available():
                pytest.skip("urdf/centurion.urdf.xacro does not exist yet")
            _models[variant] = RobotModel.load("centurion", lock_hands=bool(body))
        else:
            _models[variant] = RobotModel.load(generated.name, config_path=generated.config_path, lock_hands=bool(body))
    return _models[variant]


@pytest.fixture(params=ROBOT_VARIANTS)
def robot(request: pytest.FixtureRequest, generated_robot: GeneratedRobot) -> RobotModel:
    return load_variant(request.param, generated_robot)


@pytest.fixture(params=["pico", "centurion"])
def whole_robot(request: pytest.FixtureRequest, generated_robot: GeneratedRobot) -> RobotModel:
    return load_variant(request.param, generated_robot)


@pytest.fixture
def frames(robot: RobotModel) -> list[str]:
    """Frames the controllers use: base, torso, head camera optical frame, both soles and grippers."""
    config = robot.config
    names = [config.frames["base"], config.frames["torso"], config.frames["camera_color_optical"]]
    for side in ("left", "right"):
        names += [config.sides[side].sole, config.sides[side].gripper]
    return names
