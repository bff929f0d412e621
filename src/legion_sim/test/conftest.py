"""Fixtures: the tiny test humanoid (fast, always available) and Centurion (skipped until its URDF exists)."""

from __future__ import annotations

import os

os.environ.setdefault("MUJOCO_GL", "egl")

import pytest
from tiny_robot import write_tiny_robot

from legion_description.robot_config import RobotConfig, load_robot_config
from legion_sim.scene import Scene, load_scene, parse_scene
from legion_sim.simulation import Simulation


@pytest.fixture(scope="session")
def tiny_robot(tmp_path_factory) -> tuple[RobotConfig, str]:
    """(config, URDF text) of the tiny humanoid."""
    urdf, config = write_tiny_robot(tmp_path_factory.mktemp("tiny"))
    return load_robot_config(path=config), urdf.read_text()


@pytest.fixture(scope="session")
def empty_scene() -> Scene:
    return load_scene("empty")


@pytest.fixture(scope="session")
def table_scene() -> Scene:
    """A small scene with one table, one part and one bin, for builder tests."""
    return parse_scene({
        "name": "test_table",
        "tables": [{"name": "table", "position": [0.6, 0.0], "size": [0.5, 0.8, 0.7]}],
        "bins": [{"name": "bin", "position": [0.4, 0.7], "size": [0.3, 0.3, 0.2], "accepts": "red_cube"}],
        "parts": [{"id": "cube", "label": "red_cube", "shape": "box", "size": [0.05, 0.05, 0.05], "mass": 0.1,
                   "colour": "red", "position": [0.5, 0.1]}],
        "obstacles": [{"name": "pillar", "shape": "cylinder", "size": [0.1, 1.0], "position": [-1.0, 1.0]}],
    }, "test_table.yaml")


@pytest.fixture
def tiny_sim(tiny_robot, empty_scene) -> Simulation:
    config, urdf = tiny_robot
    sim = Simulation(config, empty_scene, urdf, sensor_noise=False)
    yield sim
    sim.close()


@pytest.fixture(scope="session")
def centurion_session() -> Simulation:
    """Centurion in the sorting cell with ideal sensors, built once per session (reset by `centurion`)."""
    from legion_description.robot_files import DescriptionError, urdf_xacro_path

    try:
        urdf_xacro_path("centurion")
    except DescriptionError as error:
        pytest.skip(f"Centurion URDF not available: {error}")
    sim = Simulation.from_names("centurion", "sorting_cell", sensor_noise=False)  # exact sensors: physics tests
    yield sim
    sim.close()


@pytest.fixture
def centurion(centurion_session) -> Simulation:
    centurion_session.reset()
    return centurion_session
