"""Obstacle grid from rendered depth: furniture occupied, floor free (removed), unseen cells unknown."""

import math

import numpy as np
import pytest

from legion_perception.config import ObstacleConfig
from legion_perception.obstacles import FREE, OCCUPIED, UNKNOWN, ObstacleMapper, _shifted, near_polyline
from legion_testing.rendered_scene import Viewpoint, capture, look, make_sim, reset_scene


@pytest.fixture
def cell(sorting_cell_sim):
    """The module's sorting cell back at its start state and lighting: the tests move the robot and dim the light."""
    return reset_scene(sorting_cell_sim)


def build_grid(sim, views, config: ObstacleConfig | None = None):
    mapper = ObstacleMapper(config or ObstacleConfig())
    grid = None
    for view in views:
        look(sim, view)
        cap = capture(sim)
        grid = mapper.update(cap.depth, cap.camera, cap.camera_to_odom, np.array([view.x, view.y]))
    return grid


def test_table_bins_and_pillar_are_occupied_floor_is_free_behind_is_unknown(cell):
    views = [Viewpoint(neck_pitch=0.8), Viewpoint(neck_pitch=0.3), Viewpoint(neck_pitch=0.3, neck_yaw=0.6),
             Viewpoint(neck_pitch=0.8, neck_yaw=0.9), Viewpoint(neck_pitch=0.8, neck_yaw=-0.9)]
    grid = build_grid(cell, views)
    assert grid.data.shape == (160, 160) and grid.resolution == pytest.approx(0.05)
    scene = cell.scene
    (table,) = scene.tables
    assert grid.value_at(*table.position) == OCCUPIED
    for bin_ in scene.bins:
        assert grid.value_at(*bin_.position) == OCCUPIED, bin_.name
    pillar = next(o for o in scene.obstacles if o.name == "pillar")
    # the pillar's near face (towards the robot) is what the camera sees
    direction = -np.array(pillar.position) / np.linalg.norm(pillar.position)
    near_face = np.array(pillar.position) + direction * (pillar.size[0] - 0.02)
    assert grid.value_at(*near_face) == OCCUPIED
    assert grid.value_at(1.5, -0.3) == FREE  # open floor ahead, beyond the table
    assert grid.value_at(-1.0, 0.0) == UNKNOWN  # behind the robot: never seen
    assert grid.value_at(0.0, 0.0) in (UNKNOWN, FREE)  # the robot does not map itself
    occupied = np.argwhere(grid.data == OCCUPIED)
    assert len(occupied) > 50


def test_nothing_on_an_empty_floor(tmp_path):
    sim = make_sim({"name": "bare"}, tmp_path)
    grid = build_grid(sim, [Viewpoint(neck_pitch=0.5, yaw=a) for a in (-0.5, 0.0, 0.5)])
    sim.close()
    assert (grid.data == OCCUPIED).sum() == 0
    assert (grid.data == FREE).sum() > 400


def test_the_grid_follows_the_robot_and_keeps_what_it_knew(cell):
    mapper = ObstacleMapper(ObstacleConfig(size=4.0))
    look(cell, Viewpoint(neck_pitch=0.6))
    cap = capture(cell)
    first = mapper.update(cap.depth, cap.camera, cap.camera_to_odom, np.zeros(2))
    table_cell = first.value_at(0.6, 0.0)
    assert table_cell == OCCUPIED
    # The robot walks back 1 m without seeing anything new (an empty depth image): the table stays known.
    moved = mapper.update(np.full_like(cap.depth, np.nan), cap.camera, cap.camera_to_odom, np.array([-1.0, 0.0]))
    assert moved.origin[0] == pytest.approx(first.origin[0] - 1.0)
    assert moved.value_at(0.6, 0.0) == OCCUPIED
    assert moved.value_at(-2.9, 0.0) == UNKNOWN


def test_shifting_an_array():
    a = np.arange(12).reshape(3, 4)
    np.testing.assert_array_equal(_shifted(a, 1, 0, -1), [[4, 5, 6, 7], [8, 9, 10, 11], [-1, -1, -1, -1]])
    np.testing.assert_array_equal(_shifted(a, 0, -1, 0), [[0, 0, 1, 2], [0, 4, 5, 6], [0, 8, 9, 10]])
    assert (_shifted(a, 5, 0, 7) == 7).all()


def test_a_removed_obstacle_clears_within_a_few_frames():
    """Evidence saturates, so a cell seen as floor for a while after being occupied becomes free."""
    from legion_perception.geometry import CameraIntrinsics

    config = ObstacleConfig(pixel_step=1)
    mapper = ObstacleMapper(config)
    camera = CameraIntrinsics(100.0, 100.0, 15.5, 15.5, 32, 32)
    # a camera 1 m above the floor looking straight down: optical z = -world z, x = world x, y = -world y
    camera_to_odom = np.eye(4)
    camera_to_odom[:3, :3] = np.diag([1.0, -1.0, -1.0])
    camera_to_odom[:3, 3] = (2.0, 0.0, 1.0)
    box = np.full((32, 32), 1.0, np.float32)
    box[12:20, 12:20] = 0.7  # a 0.3 m high box under the camera
    robot = np.zeros(2)
    for _ in range(3):
        grid = mapper.update(box, camera, camera_to_odom, robot)
    assert grid.value_at(2.0, 0.0) == OCCUPIED
    floor = np.full((32, 32), 1.0, np.float32)
    frames = 0
    while grid.value_at(2.0, 0.0) != FREE:
        grid = mapper.update(floor, camera, camera_to_odom, robot)
        frames += 1
        assert frames <= math.ceil((config.max_evidence + 1) / config.free_evidence)


def test_what_is_near_the_robots_hands_is_not_an_obstacle(cell):
    """Points within hand_radius of a gripper frame are the robot's hand or the part it holds: a 'hand' placed over
    the table's centre clears that part of the table, and only that part."""
    look(cell, Viewpoint(neck_pitch=0.8))
    cap = capture(cell)
    (table,) = cell.scene.tables
    top = np.array([table.position[0], table.position[1], table.size[2]])
    plain = ObstacleMapper(ObstacleConfig()).update(cap.depth, cap.camera, cap.camera_to_odom, np.zeros(2))
    held = ObstacleMapper(ObstacleConfig()).update(cap.depth, cap.camera, cap.camera_to_odom, np.zeros(2),
                                                   hands=top[None, :])
    assert plain.value_at(*top[:2]) == OCCUPIED and held.value_at(*top[:2]) != OCCUPIED
    assert held.value_at(top[0], top[1] + 0.35) == plain.value_at(top[0], top[1] + 0.35) == OCCUPIED


def test_what_is_near_the_robots_arms_is_not_an_obstacle(cell):
    """Points within arm_radius of an arm's polyline (shoulder to gripper) are the robot's arm: an 'arm' laid along
    the table's near edge clears the cells under it and nothing farther than arm_radius away."""
    look(cell, Viewpoint(neck_pitch=0.8))
    cap = capture(cell)
    (table,) = cell.scene.tables
    edge_x, height = table.position[0] - table.size[0] / 2, table.size[2]
    arm = np.array([[edge_x + 0.05, -0.3, height], [edge_x + 0.05, 0.0, height], [edge_x + 0.05, 0.2, height]])
    plain = ObstacleMapper(ObstacleConfig()).update(cap.depth, cap.camera, cap.camera_to_odom, np.zeros(2))
    filtered = ObstacleMapper(ObstacleConfig()).update(cap.depth, cap.camera, cap.camera_to_odom, np.zeros(2),
                                                       arms=(arm,))
    for y in (-0.25, 0.0, 0.15):
        assert plain.value_at(edge_x + 0.05, y) == OCCUPIED and filtered.value_at(edge_x + 0.05, y) != OCCUPIED
    far = ObstacleConfig().arm_radius + 0.1
    assert filtered.value_at(edge_x + 0.05 + far, 0.0) == plain.value_at(edge_x + 0.05 + far, 0.0) == OCCUPIED


def test_near_polyline_measures_the_distance_to_each_segment() -> None:
    line = np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [1.0, 1.0, 0.0]])
    points = np.array([[0.5, 0.09, 0.0], [0.5, 0.11, 0.0], [1.09, 0.5, 0.0], [-0.09, 0.0, 0.0], [-0.11, 0.0, 0.0],
                       [1.0, 1.0, 0.099], [0.5, 0.5, 0.0], [5.0, 5.0, 5.0]])
    np.testing.assert_array_equal(near_polyline(points, line, 0.1),
                                  [True, False, True, True, False, True, False, False])
    assert near_polyline(points, line[:1], 0.1).sum() == 1  # one point: a sphere
    assert not near_polyline(points, line[:0], 0.1).any() and not near_polyline(points, line, 0.0).any()


def test_the_arm_chains_run_from_the_shoulders_to_the_grippers() -> None:
    """The node's self filter: each arm's joints (a frame per joint in the model) and its gripper frame, placed by
    forward kinematics; a reaching elbow moves the chain with it."""
    from legion_description import load_robot_config
    from legion_model import RobotModel
    from legion_perception.camera_pose import CameraPoseSource

    config = load_robot_config("centurion")
    chains = tuple((*config.joints("arms", name), side.gripper) for name, side in config.sides.items())
    source = CameraPoseSource(RobotModel.load("centurion", lock_hands=True), config.frames["camera_color_optical"],
                              tuple(side.gripper for side in config.sides.values()), chains)
    base = np.eye(4)
    base[:3, 3] = [1.0, 2.0, 0.9]
    source.camera_to_odom(base, dict(config.standing))
    standing = source.arms_in_odom()
    assert len(standing) == 2
    for arm, hand in zip(standing, source.hands_in_odom(), strict=True):
        assert arm.shape == (len(config.joints("arms", "left")) + 1, 3)
        np.testing.assert_allclose(arm[-1], hand)
        assert 0.3 < np.sum(np.linalg.norm(np.diff(arm, axis=0), axis=1)) < 1.2  # shoulder to gripper
        assert np.linalg.norm(arm[0, :2] - base[:2, 3]) < 0.4 and arm[0, 2] > arm[-1, 2]  # shoulder above the hand
    elbow = config.joints("arms", "right")[3]
    source.camera_to_odom(base, dict(config.standing) | {elbow: 1.5})
    assert np.linalg.norm(source.arms_in_odom()[1][-1] - standing[1][-1]) > 0.1
