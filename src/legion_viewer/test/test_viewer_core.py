"""The viewer's core from message objects, with no rclpy.init: conversions, the robot's kinematics (against
yourdfpy's own), the scene state (versions, problems, markers), and drawing with a real viser server (no browser)."""

from __future__ import annotations

import io
import math
import socket

import numpy as np
import pytest
from geometry_msgs.msg import Point, Pose, PoseArray
from nav_msgs.msg import OccupancyGrid, Odometry
from sensor_msgs.msg import Image, JointState
from std_msgs.msg import String
from visualization_msgs.msg import Marker, MarkerArray

from legion_description import load_robot
from legion_interfaces.msg import DetectedObject, DetectedObjectArray, ExecutiveStatus, Footstep, FootstepPlan
from legion_viewer import conversions as conv
from legion_viewer.errors import ViewerError
from legion_viewer.kinematics import RobotKinematics
from legion_viewer.scene import SceneState, ViewSettings, ViserScene


@pytest.fixture(scope="module")
def centurion_urdf() -> str:
    return load_robot("centurion")[1]


@pytest.fixture(scope="module")
def kinematics(centurion_urdf: str) -> RobotKinematics:
    return RobotKinematics(centurion_urdf)


def pose_msg(x: float, y: float, z: float, yaw: float = 0.0) -> Pose:
    msg = Pose()
    msg.position.x, msg.position.y, msg.position.z = x, y, z
    msg.orientation.w, msg.orientation.z = math.cos(yaw / 2), math.sin(yaw / 2)
    return msg


def odometry(x: float, y: float, z: float, yaw: float = 0.0) -> Odometry:
    msg = Odometry()
    msg.header.frame_id, msg.child_frame_id = "odom", "base_link"
    msg.pose.pose = pose_msg(x, y, z, yaw)
    return msg


def objects_msg(*items: tuple[str, str, float, float]) -> DetectedObjectArray:
    msg = DetectedObjectArray()
    msg.header.frame_id = "odom"
    for ident, label, x, y in items:
        obj = DetectedObject(id=ident, label=label, pose=pose_msg(x, y, 0.8), confidence=1.0)
        obj.size.x = obj.size.y = obj.size.z = 0.05
        msg.objects.append(obj)
    return msg


# ---------------------------------------------------------------------------------------------------- conversions
def test_joint_positions_pair_names_and_drop_non_finite() -> None:
    msg = JointState(name=["a", "b", "c"], position=[0.1, math.nan, -0.2])
    assert conv.joint_positions(msg) == {"a": 0.1, "c": -0.2}
    with pytest.raises(ViewerError, match="3 names but 2 positions"):
        conv.joint_positions(JointState(name=["a", "b", "c"], position=[0.1, 0.2]))


def test_pose_normalises_and_rejects_bad_quaternions() -> None:
    msg = pose_msg(1.0, 2.0, 3.0, 0.5)
    msg.orientation.w *= 2.0
    msg.orientation.z *= 2.0
    result = conv.pose(msg)
    assert np.allclose(result.wxyz, [math.cos(0.25), 0, 0, math.sin(0.25)])
    assert np.allclose(conv.matrix_to_pose(result.matrix()).wxyz, result.wxyz)
    msg.orientation.w = msg.orientation.z = 0.0
    with pytest.raises(ViewerError, match="zero quaternion"):
        conv.pose(msg)
    msg = pose_msg(math.inf, 0.0, 0.0)
    with pytest.raises(ViewerError):
        conv.base_pose(Odometry(pose=Odometry().pose.__class__(pose=msg)))


def test_matrix_to_pose_round_trips_random_rotations() -> None:
    rng = np.random.default_rng(3)
    for _ in range(50):
        q = rng.normal(size=4)
        q /= np.linalg.norm(q)
        q *= np.sign(q[0])
        original = conv.Pose(rng.normal(size=3), q)
        assert np.allclose(conv.matrix_to_pose(original.matrix()).wxyz, q, atol=1e-9)


def test_occupied_cells_in_a_rotated_grid() -> None:
    msg = OccupancyGrid()
    msg.header.frame_id = "odom"
    msg.info.width, msg.info.height, msg.info.resolution = 3, 2, 0.5
    msg.info.origin = pose_msg(1.0, 0.0, 0.0, math.pi / 2)
    msg.data = [0, 100, -1, 0, 0, 60]  # row 0: cells (0, 0) (1, 0) (2, 0); row 1: (0, 1) (1, 1) (2, 1)
    cells = conv.occupied_cells(msg, 50)
    # cell (col 1, row 0) centre (0.75, 0.25) in the grid -> rotated 90 deg about z -> (-0.25, 0.75) + origin
    assert np.allclose(cells.centres, [[0.75, 0.75, 0.0], [0.25, 1.25, 0.0]])
    assert cells.resolution == 0.5 and cells.frame == "odom"
    assert len(conv.occupied_cells(msg, 101).centres) == 0
    msg.data = [0, 0]
    with pytest.raises(ViewerError, match="has 2 cells"):
        conv.occupied_cells(msg, 50)


def test_detected_objects_take_colour_and_shape_from_the_label() -> None:
    msg = objects_msg(("r1", "red_cube", 1.0, 0.0), ("b", "blue_bin", 2.0, 0.0), ("s", "green_sphere", 0.0, 1.0),
                      ("x", "thing", 0.0, 0.0))
    msg.objects[1].size.x = 0.4
    bad = DetectedObject(id="bad", label="red_cube", pose=pose_msg(math.nan, 0.0, 0.0))
    bad.size.x = bad.size.y = bad.size.z = 0.05
    msg.objects.append(bad)
    frame, objects = conv.detected_objects(msg)
    assert frame == "odom"
    assert [(o.id, o.shape, o.colour) for o in objects] == [
        ("r1", "box", conv.LABEL_COLOURS["red"]), ("b", "container", conv.LABEL_COLOURS["blue"]),
        ("s", "sphere", conv.LABEL_COLOURS["green"]), ("x", "box", conv.UNKNOWN_COLOUR)]


def test_footsteps_people_and_status_text() -> None:
    plan = FootstepPlan()
    plan.header.frame_id = "odom"
    plan.steps = [Footstep(side=Footstep.LEFT, pose=pose_msg(0.1, 0.1, 0.0)),
                  Footstep(side=Footstep.RIGHT, pose=pose_msg(0.3, -0.1, 0.0))]
    frame, steps = conv.footsteps(plan)
    assert frame == "odom" and [s.side for s in steps] == ["left", "right"]
    people = PoseArray(poses=[pose_msg(2.0, 1.0, 1.6), pose_msg(math.nan, 0.0, 0.0)])
    people.header.frame_id = "odom"
    assert np.allclose(conv.people(people)[1], [[2.0, 1.0, 1.6]])
    status = ExecutiveStatus(state="RUNNING", cell="sorting", phase="picking red_cube_1", sorted=2,
                             last_decision="pick red_cube_1: nearest")
    text = conv.executive_text(status)
    assert "**RUNNING** sorting" in text and "sorted 2" in text and "nearest" in text
    assert "state: **RUNNING**" in conv.fields_text(status) and "header" not in conv.fields_text(status)


def test_camera_image_is_read_or_rejected() -> None:
    msg = Image(height=2, width=2, encoding="rgb8", step=6, data=bytes(range(12)))
    assert conv.camera_image(msg).shape == (2, 2, 3)
    with pytest.raises(ViewerError, match="debug image"):
        conv.camera_image(Image(height=2, width=2, encoding="mono16", step=4, data=bytes(8)))


def marker(ns: str, ident: int, kind: int = Marker.CUBE, action: int = Marker.ADD, frame: str = "odom") -> Marker:
    msg = Marker(ns=ns, id=ident, type=kind, action=action, pose=pose_msg(1.0, 0.0, 0.5))
    msg.header.frame_id = frame
    msg.scale.x = msg.scale.y = msg.scale.z = 0.1
    msg.color.r, msg.color.a = 1.0, 1.0
    return msg


def test_markers_add_delete_and_unknown_types() -> None:
    strip = marker("path", 0, Marker.LINE_STRIP)
    strip.points = [Point(x=0.0), Point(x=1.0), Point(x=2.0)]
    shapes, problems = conv.markers(MarkerArray(markers=[marker("a", 1), strip, marker("m", 2, Marker.MESH_RESOURCE),
                                                         marker("a", 1, action=Marker.DELETE)]))
    assert [(s.key, s.action, s.kind) for s in shapes] == [
        (("a", 1), "add", "cube"), (("path", 0), "add", "line_strip"), (("a", 1), "delete", "")]
    assert shapes[0].colour == (255, 0, 0) and shapes[1].points.shape == (3, 3)
    assert len(problems) == 1 and "type 10" in problems[0]


# ---------------------------------------------------------------------------------------------------- kinematics
def test_link_poses_match_yourdfpy(centurion_urdf: str, kinematics: RobotKinematics) -> None:
    import yourdfpy

    reference = yourdfpy.URDF.load(io.StringIO(centurion_urdf), build_scene_graph=True, load_meshes=False)
    rng = np.random.default_rng(7)
    q = {name: float(rng.uniform(-0.8, 0.8)) for name in reference.actuated_joint_names}
    reference.update_cfg(q)
    poses = kinematics.link_poses(q)
    assert set(poses) == set(reference.link_map)
    for link, T in poses.items():
        assert np.allclose(T, reference.get_transform(link, kinematics.root), atol=1e-9), link


def test_local_transforms_compose_to_the_link_poses(kinematics: RobotKinematics) -> None:
    rng = np.random.default_rng(11)
    q = {j.name: float(rng.uniform(-0.5, 0.5)) for j in kinematics.moving}
    local, world = kinematics.local_transforms(q), kinematics.link_poses(q)
    for joint in kinematics.moving:
        assert np.allclose(world[joint.parent] @ local[joint.child], world[joint.child])
    assert sum(len(v) for v in kinematics.visuals.values()) > 20  # the primitives of the robot's visuals
    assert kinematics.link_path(kinematics.moving[0].child, "/r").startswith(f"/r/{kinematics.root}/")


def test_a_broken_description_is_a_viewer_error() -> None:
    with pytest.raises(ViewerError, match="cannot be read"):
        RobotKinematics("<robot name='x'><link name='a'/><joint name='j' type='revolute'>")


# ---------------------------------------------------------------------------------------------------- scene state
def test_scene_state_versions_and_problems(centurion_urdf: str) -> None:
    state = SceneState()
    assert state.on_description(String(data=centurion_urdf)) and state.version("description") == 1
    assert not state.on_description(String(data="  "))
    assert state.description == centurion_urdf and "empty" in state.problems["description"]
    assert state.on_joint_states(JointState(name=["a"], position=[0.5]))
    assert not state.on_joint_states(JointState(name=["a", "b"], position=[0.5]))
    assert state.joints == {"a": 0.5} and state.version("joints") == 1
    assert state.on_joint_states(JointState(name=["b"], position=[0.1]))  # partial messages merge
    assert state.joints == {"a": 0.5, "b": 0.1} and "joints" not in state.problems
    assert state.on_odometry(odometry(1.0, 2.0, 0.9))
    assert np.allclose(state.base.position, [1.0, 2.0, 0.9]) and state.base_frame == "base_link"


def test_scene_state_markers_per_topic() -> None:
    state = SceneState()
    state.on_markers("gait/markers", MarkerArray(markers=[marker("a", 1), marker("a", 2)]))
    state.on_markers("safety/markers", MarkerArray(markers=[marker("z", 1)]))
    state.on_markers("gait/markers", MarkerArray(markers=[marker("a", 1, action=Marker.DELETE)]))
    assert list(state.markers["gait/markers"]) == [("a", 2)]
    state.on_markers("gait/markers", MarkerArray(markers=[marker("", 0, action=Marker.DELETEALL), marker("b", 3)]))
    assert list(state.markers["gait/markers"]) == [("b", 3)] and list(state.markers["safety/markers"]) == [("z", 1)]
    assert state.version("markers:gait/markers") == 3


# ---------------------------------------------------------------------------------------------------- drawing
@pytest.fixture(scope="module")
def server():
    import viser

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = viser.ViserServer(host="127.0.0.1", port=port, verbose=False)
    yield server
    server.stop()


def test_drawing_sends_what_changed(server, centurion_urdf: str, kinematics: RobotKinematics) -> None:
    view = ViserScene(server, ViewSettings())
    state = SceneState()
    view.draw(state)
    assert view.kinematics is None
    state.on_description(String(data=centurion_urdf))
    state.on_odometry(odometry(1.0, 0.5, 0.9, 0.3))
    joint = kinematics.moving[0]
    state.on_joint_states(JointState(name=[joint.name], position=[0.4]))
    state.on_objects(objects_msg(("r1", "red_cube", 1.5, 0.0), ("b1", "blue_bin", 2.0, 1.0)))
    state.on_markers("gait/markers", MarkerArray(markers=[marker("a", 1), marker("hand", 2, frame=joint.child),
                                                          marker("c", 3, frame="elsewhere")]))
    view.draw(state)
    assert view.kinematics is not None and len(view._link_frames) == len(kinematics.links) - 1
    assert np.allclose(view._robot_root.position, [1.0, 0.5, 0.9])
    expected = conv.matrix_to_pose(kinematics.local_transforms({joint.name: 0.4})[joint.child])
    assert np.allclose(view._link_frames[joint.child].position, expected.position)
    assert set(view._handles["objects"]) == {"/objects/r1", "/objects/b1"}
    assert set(view._handles["markers"]) == {"/markers/gait_markers/a/1", "/markers/gait_markers/hand/2"}
    assert "elsewhere" in state.problems["markers:gait/markers"]
    # an object gone from perception's report is removed; an unchanged input is not redrawn
    state.on_objects(objects_msg(("r1", "red_cube", 1.5, 0.0)))
    handle = view._handles["markers"]["/markers/gait_markers/a/1"]
    view.draw(state)
    assert set(view._handles["objects"]) == {"/objects/r1"}
    assert view._handles["markers"]["/markers/gait_markers/a/1"] is handle
    # the layer checkboxes hide a layer
    view.toggles["robot"].value = False
    assert not view._layer_roots["robot"].visible


def test_joint_pose_equals_the_transform(kinematics: RobotKinematics) -> None:
    from legion_viewer.kinematics import joint_pose, joint_transform

    rng = np.random.default_rng(5)
    for joint in kinematics.joints:
        q = float(rng.uniform(-1.0, 1.0))
        position, wxyz = joint_pose(joint, q)
        expected = conv.matrix_to_pose(joint_transform(joint, q))
        assert np.allclose(position, expected.position, atol=1e-12), joint.name
        assert np.allclose(np.array(wxyz) * np.sign(wxyz[0] or 1.0), expected.wxyz, atol=1e-7), joint.name


def test_only_joints_that_moved_are_resent(server, centurion_urdf: str, kinematics: RobotKinematics) -> None:
    view = ViserScene(server, ViewSettings(joint_tolerance=0.01))
    state = SceneState()
    state.on_description(String(data=centurion_urdf))
    view.draw(state)
    first, second = kinematics.moving[0], kinematics.moving[1]
    before = view._link_frames[first.child].wxyz.copy()
    state.on_joint_states(JointState(name=[first.name, second.name], position=[0.005, 0.5]))
    view.draw(state)
    assert np.allclose(view._link_frames[first.child].wxyz, before)  # within the tolerance: not re-sent
    assert view._link_sent[second.child] == 0.5 and view._link_sent[first.child] == 0.0
