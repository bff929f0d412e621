"""Parts from images rendered by the simulator: accuracy against ground truth over viewpoints, lighting, depth noise,
clutter, occlusion and bins; the bins themselves (containers); tracking without phantoms; the camera pose from
kinematics.

Figures asserted (from the issue): position error median < 1 cm and 95th percentile < 2 cm at 0.5-1.5 m range,
every part detected and correctly labelled from the start pose, no phantom objects over 100 frames.
"""

import math

import numpy as np
import pytest

from legion_perception.config import PerceptionConfig
from legion_perception.detection import PartDetector
from legion_perception.pipeline import Frame, PerceptionCore
from legion_testing.rendered_scene import (
    Viewpoint,
    capture,
    fully_in_view,
    look,
    make_sim,
    match,
    reset_scene,
    set_lighting,
    sorting_cell,
    truth,
)

START = Viewpoint(neck_pitch=0.8)
"""The robot at the scene's start pose, looking down at the table."""
DETECTOR = PartDetector(PerceptionConfig().detection)


@pytest.fixture(scope="module")
def sorting_cell_sims():
    """The sorting cell with the robot's depth camera errors (True) and with exact depth (False)."""
    sims = {noise: make_sim("sorting_cell", sensor_noise=noise) for noise in (True, False)}
    yield sims
    for sim in sims.values():
        sim.close()


@pytest.fixture
def cell(sorting_cell_sims):
    """The module's sorting cell, with the robot's camera, back at its start state and lighting: the tests move the
    robot and dim the light."""
    return reset_scene(sorting_cell_sims[True])


def detect(sim, view: Viewpoint, containers: bool = False):
    """The frame from a viewpoint and its part detections (with the containers too if `containers`)."""
    look(sim, view)
    cap = capture(sim)
    detections = DETECTOR.detect(cap.rgb, cap.depth, cap.camera, cap.camera_to_odom)
    return cap, [d for d in detections if containers or not d.is_container]


def test_every_part_is_found_and_labelled_from_the_start_pose(cell):
    _, detections = detect(cell, START)
    expected = truth(cell)
    pairs, extra, missed = match(detections, expected)
    assert not missed and not extra
    for part, detection, error in pairs:
        assert detection.label == expected[part][0]
        assert error < 0.005, (part, error)
        assert not detection.occluded


def test_orientation_and_size_from_the_start_pose(cell):
    _, detections = detect(cell, START)
    pairs, _, _ = match(detections, truth(cell))
    scene = cell.scene
    for part_id, detection, _ in pairs:
        part = scene.part(part_id)
        np.testing.assert_allclose(detection.size, part.bounding_size, atol=0.005, err_msg=part_id)
        if part.shape == "box":  # a square box's yaw is defined modulo a quarter turn
            error = (detection.yaw - part.yaw + math.pi / 4) % (math.pi / 2) - math.pi / 4
            assert abs(error) < 0.05, (part_id, detection.yaw, part.yaw)


@pytest.mark.parametrize(("sensor_noise", "lighting", "wrong_label_share"),
                         [(False, 1.0, 0.0), (True, 1.0, 0.05), (True, 0.35, 0.1), (True, 1.8, 0.05)],
                         ids=["exact-depth", "robot-camera", "robot-camera-dim", "robot-camera-bright"])
def test_position_error_over_viewpoints(sorting_cell_sims, sensor_noise, lighting, wrong_label_share):
    """Random viewpoints (robot position and heading, head pitch and yaw) with parts at 0.5-1.5 m. With the robot's
    stereo depth errors a single frame may misjudge the shape of a part seen small or at a grazing angle (the node's
    tracker keeps the label most frames give): a few per cent of labels may be wrong."""
    cell = reset_scene(sorting_cell_sims[sensor_noise])
    rng = np.random.default_rng(7)
    set_lighting(cell, lighting)
    errors, wrong_labels, extras, seen, missed, labelled = [], [], 0, 0, [], 0
    try:
        for _ in range(8):
            view = Viewpoint(x=rng.uniform(-0.6, 0.1), y=rng.uniform(-0.25, 0.25), yaw=rng.uniform(-0.3, 0.3),
                             neck_pitch=rng.uniform(0.45, 0.9), neck_yaw=rng.uniform(-0.3, 0.3))
            cap, detections = detect(cell, view)
            expected = truth(cell)
            pairs, extra, missing = match(detections, expected)
            extras += len(extra)
            labelled += len(pairs)
            for part, detection, error in pairs:
                distance = np.linalg.norm(expected[part][1] - cap.camera_to_odom[:3, 3])
                if 0.5 <= distance <= 1.5:
                    errors.append(error)
                if detection.label != expected[part][0]:
                    wrong_labels.append((part, detection.label))
            in_view = [p for p in expected if fully_in_view(cell, cap, expected[p][1])]
            seen += len(in_view)
            missed += [p for p in missing if p in in_view]
    finally:
        set_lighting(cell, 1.0)
    errors = np.array(errors)
    assert len(errors) >= 20
    assert np.median(errors) < 0.01 and np.percentile(errors, 95) < 0.02, (np.median(errors), errors.max())
    assert len(wrong_labels) <= wrong_label_share * labelled, (labelled, wrong_labels)
    assert extras == 0
    assert len(missed) <= 0.05 * seen, missed


def random_clutter(rng: np.random.Generator, count: int) -> list[dict]:
    """Parts on a jittered grid over the table (none touching), random shapes, sizes, colours and yaws."""
    colours = ["red", "green", "blue", "yellow", "orange", "purple", "cyan", "magenta"]
    places = [(x, y) for x in (0.42, 0.52, 0.62, 0.72) for y in (-0.3, -0.15, 0.0, 0.15, 0.3)]
    parts = []
    for i, k in enumerate(rng.permutation(len(places))[:count]):
        x, y = places[k]
        x, y = x + rng.uniform(-0.015, 0.015), y + rng.uniform(-0.02, 0.02)
        colour = colours[rng.integers(len(colours))]
        shape = ("box", "cylinder", "sphere")[rng.integers(3)]
        if shape == "box":
            side = rng.uniform(0.035, 0.06)
            size, label = [side, side, side], f"{colour}_cube"
        elif shape == "cylinder":
            size, label = [rng.uniform(0.02, 0.03), rng.uniform(0.05, 0.1)], f"{colour}_cylinder"
        else:
            size, label = [rng.uniform(0.02, 0.035)], f"{colour}_sphere"
        parts.append({"id": f"p{i}", "label": label, "shape": shape, "colour": colour, "size": size, "mass": 0.1,
                      "position": [x, y], "yaw": float(rng.uniform(-0.7, 0.7))})
    return parts


def test_clutter_and_partial_occlusion(tmp_path):
    """A table full of parts of every colour and shape, with a tall cylinder hiding half of a small cube."""
    rng = np.random.default_rng(11)
    scene = sorting_cell()
    scene["name"] = "clutter"
    scene["parts"] = [
        *random_clutter(rng, 14),
        {"id": "hidden", "label": "green_cube", "shape": "box", "colour": "green", "size": [0.04, 0.04, 0.04],
         "mass": 0.1, "position": [0.80, -0.05]},
        {"id": "wall", "label": "blue_cylinder", "shape": "cylinder", "colour": "blue", "size": [0.03, 0.11],
         "mass": 0.1, "position": [0.74, -0.03]},
    ]
    sim = make_sim(scene, tmp_path)
    errors, occluded, wrong, extras, missed, seen, labelled = [], 0, [], 0, [], 0, 0
    for view in (START, Viewpoint(x=-0.2, neck_pitch=0.7), Viewpoint(y=0.2, yaw=-0.2, neck_pitch=0.75),
                 Viewpoint(x=-0.1, y=-0.2, yaw=0.25, neck_pitch=0.75, neck_yaw=-0.1)):
        cap, detections = detect(sim, view)
        expected = truth(sim)
        pairs, extra, missing = match(detections, expected)
        extras += len(extra)
        for part, detection, error in pairs:
            if detection.occluded:
                occluded += 1
                assert error < 0.03, (part, error)  # hidden in part: rougher, but still the right place
                continue
            errors.append(error)
            labelled += 1
            if detection.label != expected[part][0]:
                wrong.append((part, detection.label, expected[part][0]))
        in_view = [p for p in expected if fully_in_view(sim, cap, expected[p][1])]
        seen += len(in_view)
        missed += [p for p in missing if p in in_view and p != "hidden"]
    sim.close()
    errors = np.array(errors)
    assert occluded >= 1, "the hidden cube is seen and flagged as partly hidden"
    assert np.median(errors) < 0.01 and np.percentile(errors, 95) < 0.02, (np.median(errors), errors.max())
    assert len(wrong) <= 0.08 * labelled, (labelled, wrong)  # single frames with stereo depth: see above
    assert extras == 0
    assert len(missed) <= 0.1 * seen, missed


def test_parts_in_bins_of_their_own_colour(tmp_path):
    scene = sorting_cell()
    scene["name"] = "filled_bins"
    scene["parts"] += [
        {"id": "in_red_bin", "label": "red_cube", "shape": "box", "colour": "red", "size": [0.05, 0.05, 0.05],
         "mass": 0.1, "position": [0.33, 0.70], "yaw": 0.4},
        {"id": "in_green_bin", "label": "blue_cylinder", "shape": "cylinder", "colour": "blue", "size": [0.025, 0.08],
         "mass": 0.1, "position": [0.72, 0.75]},
    ]
    # The container logic (a bin's floor is the support) with exact depth; single frames of the robot's stereo
    # depth may misjudge a shape (test_position_error_over_viewpoints bounds how often).
    sim = make_sim(scene, tmp_path, sensor_noise=False)
    for view in (Viewpoint(yaw=0.9, neck_pitch=0.8), Viewpoint(yaw=0.5, neck_pitch=0.85, neck_yaw=0.6)):
        _, detections = detect(sim, view)
        expected = truth(sim)
        pairs, extra, _ = match(detections, expected)
        found = {part: (detection, error) for part, detection, error in pairs}
        assert not extra
        for part in ("in_red_bin", "in_green_bin"):
            detection, error = found[part]
            assert detection.label == expected[part][0] and error < 0.01, (part, detection.label, error)
    sim.close()


BIN_VIEWS = (Viewpoint(x=0.52, y=1.3, yaw=-math.pi / 2, neck_pitch=0.85),
             Viewpoint(x=0.52, y=-1.3, yaw=math.pi / 2, neck_pitch=0.85),
             Viewpoint(x=-0.1, y=0.72, neck_pitch=0.9),
             Viewpoint(x=0.45, y=-1.35, yaw=math.pi / 2 + 0.25, neck_pitch=0.8))
"""The robot behind the bins on either side, looking down at two of them side by side (the table beyond them);
before the red bin, looking along the row (the green bin behind it partly hidden); and turned, the blue bin seen
askew."""


def bin_truth(scene_bin) -> tuple[np.ndarray, np.ndarray]:
    """True centre of a bin's opening at rim height [m] and its size (outer x, y; rim above its inner floor) [m]."""
    x, y = scene_bin.position[:2]
    lx, ly, height = scene_bin.size
    rim = scene_bin.stand_height + height
    return np.array([x, y, rim]), np.array([lx, ly, rim - scene_bin.inner_floor_height])


@pytest.mark.parametrize("sensor_noise", [False, True], ids=["exact-depth", "robot-camera"])
def test_bins_are_reported_with_their_opening_yaw_and_size(tmp_path, sensor_noise):
    """Each bin seen whole is a `<colour>_bin` with its opening's centre within 2 cm, its yaw within 5 degrees (a
    square's, modulo a quarter turn) and its size within 2 cm; a partly hidden bin is flagged; a bin is never a part,
    and the parts in a bin are still found."""
    scene = sorting_cell()
    scene["name"] = "bins_with_parts"
    scene["bins"][2]["yaw"] = 0.3  # the blue bin turned
    scene["parts"] += [
        {"id": "in_red_bin", "label": "red_cube", "shape": "box", "colour": "red", "size": [0.05, 0.05, 0.05],
         "mass": 0.1, "position": [0.33, 0.70], "yaw": 0.4},
        {"id": "in_yellow_bin", "label": "blue_cylinder", "shape": "cylinder", "colour": "blue",
         "size": [0.025, 0.08], "mass": 0.1, "position": [0.72, -0.75]},
    ]
    sim = make_sim(scene, tmp_path, sensor_noise=sensor_noise)
    bins = {b.name: b for b in sim.scene.bins}
    whole, parts_in_bins = set(), set()
    for view in BIN_VIEWS:
        cap, detections = detect(sim, view, containers=True)
        containers = [d for d in detections if d.is_container]
        parts = [d for d in detections if not d.is_container]
        assert all(d.size.max() <= DETECTOR.config.max_part_size for d in parts)
        for container in containers:
            assert container.label in bins, container.label
            assert container.shape == "bin" and container.colour == container.label.removesuffix("_bin")
            if container.occluded:
                assert container.confidence <= 0.5
                continue
            whole.add(container.label)
            centre, size = bin_truth(bins[container.label])
            yaw_error = (container.yaw - bins[container.label].yaw + math.pi / 4) % (math.pi / 2) - math.pi / 4
            assert np.linalg.norm(container.position - centre) < 0.02, (view, container.label, container.position)
            assert abs(yaw_error) < math.radians(5.0), (view, container.label, container.yaw)
            np.testing.assert_allclose(container.size, size, atol=0.02, err_msg=container.label)
        expected = truth(sim)
        pairs, _, _ = match(parts, expected)
        for part, detection, error in pairs:
            if part in ("in_red_bin", "in_yellow_bin") and fully_in_view(sim, cap, expected[part][1]):
                assert detection.label == expected[part][0] and error < 0.01, (part, detection.label, error)
                parts_in_bins.add(part)
    sim.close()
    assert whole == set(bins), whole
    assert parts_in_bins == {"in_red_bin", "in_yellow_bin"}


def test_bins_are_tracked_with_stable_ids(tmp_path):
    """The tracker publishes each bin seen whole under a stable id, `<colour>_bin_1`, beside the parts."""
    sim = make_sim("sorting_cell", sensor_noise=True)
    core = PerceptionCore()
    bins = {b.name: b for b in sim.scene.bins}
    for k in range(6):
        look(sim, Viewpoint(x=0.52 + 0.02 * math.sin(k), y=1.3, yaw=-math.pi / 2, neck_pitch=0.85 + 0.02 * (k % 2)))
        cap = capture(sim)
        result = core.process(Frame(cap.rgb, cap.depth, cap.camera, cap.camera_to_odom, np.zeros(2), 0.1 * k),
                              obstacles=False, people=False)
    tracked = {t.id: t for t in result.objects if t.is_container}
    sim.close()
    assert set(tracked) == {"red_bin_1", "green_bin_1"}, [t.id for t in result.objects]
    for track in tracked.values():
        centre, size = bin_truth(bins[track.label])
        assert np.linalg.norm(track.position - centre) < 0.02 and np.abs(track.size - size).max() < 0.02


def _put(sim, part_id: str, position, quaternion) -> None:
    """Move a part (kinematically, as `look` moves the robot): centre [m] and orientation (w, x, y, z)."""
    model, data = sim.model, sim.data
    address = model.jnt_qposadr[model.joint(f"{part_id}/free").id]
    data.qpos[address:address + 3] = position
    data.qpos[address + 3:address + 7] = quaternion


def test_a_part_lying_in_or_across_a_bin_of_its_own_colour(tmp_path):
    """Issue 13: from the blue bin's drop station, with the executive's bin-inspection posture, a blue cylinder
    lying on its side in the blue bin, or across its rim, leaves the bin reported whole (not occluded: the tracker
    starts no track from a hidden bin) with its opening's centre and size, and the cylinder is a part where it lies
    (a lying cylinder's label is not asserted: the shapes are fitted standing)."""
    scene = sorting_cell()
    scene["name"] = "part_lying_in_its_bin"
    scene["parts"].append({"id": "lying", "label": "blue_cylinder", "shape": "cylinder", "colour": "blue",
                           "size": [0.025, 0.08], "mass": 0.12, "position": [1.5, 1.5]})
    sim = make_sim(scene, tmp_path, sensor_noise=False)
    blue_bin = next(b for b in sim.scene.bins if b.name == "blue_bin")
    centre, size = bin_truth(blue_bin)
    floor, rim = blue_bin.inner_floor_height, centre[2]
    along_x = (math.cos(math.pi / 4), 0.0, math.sin(math.pi / 4), 0.0)  # the cylinder's axis along world x
    along_y = (math.cos(math.pi / 4), math.sin(math.pi / 4), 0.0, 0.0)
    x, y = centre[:2]
    placements = {"inside": ((x, y, floor + 0.025), along_x),
                  "across the far rim": ((x, y + 0.145, rim + 0.025), along_y),
                  "across the side rim": ((x + 0.145, y, rim + 0.025), along_x)}
    station = Viewpoint(x=0.35, y=-1.21, yaw=math.pi / 2, neck_pitch=0.9, waist_pitch=0.2)  # blue_drop, inspect_bin
    try:
        for name, (position, quaternion) in placements.items():
            _put(sim, "lying", position, quaternion)
            _, detections = detect(sim, station, containers=True)
            bins = [d for d in detections if d.label == "blue_bin"]
            assert len(bins) == 1, (name, [d.label for d in detections])
            found = bins[0]
            assert not found.occluded, name
            assert np.linalg.norm(found.position - centre) < 0.02, (name, found.position)
            np.testing.assert_allclose(found.size, size, atol=0.02, err_msg=name)
            part = truth(sim)["lying"][1]
            near = [d for d in detections if not d.is_container and np.linalg.norm(d.position - part) < 0.015]
            assert len(near) == 1, (name, [(d.label, d.position) for d in detections if d.colour == "blue"])
    finally:
        sim.close()


@pytest.mark.long
def test_no_phantom_objects_over_100_frames(cell):
    """The tracker's output over 100 frames of a moving head with the robot's depth camera: exactly the six parts,
    with the right labels and stable ids."""
    core = PerceptionCore()
    expected = truth(cell)
    ids_of: dict[str, str] = {}
    for k in range(100):
        view = Viewpoint(neck_pitch=0.8 + 0.06 * math.sin(k / 7.0), neck_yaw=0.12 * math.sin(k / 11.0),
                         x=0.03 * math.sin(k / 13.0))
        look(cell, view)
        cap = capture(cell)
        result = core.process(Frame(cap.rgb, cap.depth, cap.camera, cap.camera_to_odom, np.zeros(2), 0.1 * k),
                              obstacles=False, people=False)
        if k < 2:
            assert result.objects == []
            continue
        pairs, extra, missed = match([o for o in result.objects if not o.is_container], expected, gate=0.01)
        assert not extra and not missed, (k, [o.id for o in result.objects])
        for part, track, _ in pairs:
            assert track.label == expected[part][0]
            assert ids_of.setdefault(part, track.id) == track.id, "ids are stable"
    assert sorted(ids_of.values()) == sorted(["red_cube_1", "red_cube_2", "blue_cylinder_1", "blue_cylinder_2",
                                              "green_cube_1", "yellow_sphere_1"])


def test_camera_pose_from_odometry_and_kinematics_matches_the_simulator(cell):
    from legion_common.transforms import pose_to_matrix
    from legion_model import RobotModel
    from legion_perception.camera_pose import CameraPoseSource

    source = CameraPoseSource(RobotModel.load("centurion", lock_hands=True), "head_camera_color_optical_frame")
    rng = np.random.default_rng(5)
    for _ in range(5):
        look(cell, Viewpoint(x=rng.uniform(-1, 1), y=rng.uniform(-1, 1), yaw=rng.uniform(-3, 3),
                             neck_pitch=rng.uniform(-0.5, 0.9), neck_yaw=rng.uniform(-1, 1),
                             waist_pitch=rng.uniform(0.0, 0.3)))
        base = cell.ground_truth_base()  # what ground_truth/odom carries; the node reads it as `odom`
        joints = cell.joint_state()
        camera_to_odom = source.camera_to_odom(pose_to_matrix(base.position, base.orientation),
                                               dict(zip(joints.names, joints.position, strict=True)))
        reference = capture(cell).camera_to_odom
        assert np.linalg.norm(camera_to_odom[:3, 3] - reference[:3, 3]) < 1e-4
        assert np.abs(camera_to_odom[:3, :3] - reference[:3, :3]).max() < 1e-4
