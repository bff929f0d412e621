"""The main job's report artefacts without ROS: the shift record's JSON round trip and checks, the plots, the cell
camera (the sorting cell rendered headless with the robot standing, the co-worker's face blurred) and the MP4."""

import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from legion_bringup.shift_media import (
    CameraView,
    CellCamera,
    ShiftVideo,
    plot_cell_map,
    plot_com_zmp,
    plot_part_timeline,
    write_plots,
)
from legion_bringup.shift_record import (
    CellLayout,
    Footstep,
    ObstacleGrid,
    PartEvent,
    PhaseSpan,
    ReportError,
    ShiftRecord,
    zmp_from_lipm,
    zmp_from_sole_wrenches,
)

ROOT = Path(__file__).resolve().parents[3]
CELL = ROOT / "config" / "cells" / "sorting_cell.yaml"


def make_record(seed: int = 0) -> ShiftRecord:
    """A plausible shift: the robot walks 0.5 m back and returns (true and estimated paths apart by a drift),
    footsteps along the way, an obstacle grid with the table, two parts placed and one failed."""
    rng = np.random.default_rng(seed)
    record = ShiftRecord(scene="sorting_cell", robot="centurion", cell=CellLayout.load(CELL))
    for k in range(400):  # 20 s at 20 Hz
        t = 0.05 * k
        x = -0.5 * math.sin(math.pi * t / 20.0)
        sway = 0.06 * math.sin(2.0 * math.pi * t / 1.6)
        com = (x + 0.02, sway)
        record.add_sample(t, (x, 0.005 * math.sin(t), 0.01 * math.sin(t)), (x + 0.002 * t, 0.001 * t, 0.0),
                          com=com, zmp=(com[0] + 0.01 * rng.standard_normal(), 2.0 * sway),
                          com_reference=com, zmp_reference=(com[0], 1.8 * sway))
    for k in range(12):
        side = "left" if k % 2 == 0 else "right"
        record.footsteps.append(Footstep(t=1.0 + 0.8 * k, x=-0.04 * k, y=0.1 if side == "left" else -0.1, yaw=0.0,
                                         side=side, planned=k >= 10))
    cells = np.zeros((60, 80), dtype=int)
    cells[25:35, 45:55] = 100  # the table, seen as an obstacle
    cells[:5, :] = -1
    record.grid = ObstacleGrid.from_occupancy(-1.5, -1.5, 0.0, 0.05, 80, 60, cells.reshape(-1))
    record.parts = [
        PartEvent("red_cube_1", "red_cube", "placed", (0.43, 0.15), (0.36, 0.71), "red_bin",
                  (PhaseSpan("walk", 2.0, 4.0), PhaseSpan("pick", 4.0, 8.0), PhaseSpan("carry", 8.0, 11.0),
                   PhaseSpan("place", 11.0, 13.0))),
        PartEvent("blue_cylinder_1", "blue_cylinder", "dropped", (0.43, 0.0), (0.2, -0.3), "blue_bin",
                  (PhaseSpan("walk", 13.0, 14.0), PhaseSpan("pick", 14.0, 17.0), PhaseSpan("carry", 17.0, 18.0))),
        PartEvent("yellow_sphere_1", "yellow_sphere", "skipped", (0.53, 0.15)),
    ]
    return record


def test_record_round_trip(tmp_path):
    record = make_record()
    assert len(record.samples) == 400
    loaded = ShiftRecord.load(record.save(tmp_path / "shift.json"))
    assert loaded == record
    assert loaded.parts[0].start == 2.0 and loaded.parts[0].end == 13.0
    assert math.isnan(loaded.parts[2].start)
    assert [a.name for a in loaded.cell.areas if a.kind == "bin"] == ["red_bin", "green_bin", "blue_bin",
                                                                      "yellow_bin"]


def test_samples_are_decimated_and_time_only_moves_forward():
    record = ShiftRecord(scene="s", robot="r", sample_period=0.05)
    kept = [record.add_sample(0.002 * k, (0.0, 0.0, 0.0)) for k in range(101)]  # 500 Hz for 0.2 s
    assert sum(kept) == 5
    with pytest.raises(ReportError, match="time went back"):
        record.add_sample(0.1, (0.0, 0.0, 0.0))
    with pytest.raises(ReportError, match="true_base"):
        record.add_sample(1.0, (0.0, math.nan, 0.0))


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d.pop("robot"), "lacks"),
    (lambda d: d["samples"][3].update(true_base=[0.0, 1.0]), r"samples\[3\].true_base"),
    (lambda d: d["footsteps"][0].update(side="middle"), r"footsteps\[0\].side"),
    (lambda d: d["grid"].update(width=7), "grid data has 4800 cells"),
    (lambda d: d["parts"][0]["phases"][1].update(end=1.0), r"parts\[0\].phases\[1\] ends"),
    (lambda d: d["cell"]["areas"][0].update(shape="star"), r"cell.areas\[0\].shape"),
])
def test_a_bad_record_is_refused_with_the_field(change, message):
    data = make_record().to_dict()
    change(data)
    with pytest.raises(ReportError, match=message):
        ShiftRecord.from_dict(data)


def test_unreadable_files_are_reported(tmp_path):
    with pytest.raises(ReportError, match="cannot read shift record"):
        ShiftRecord.load(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ReportError, match="is not JSON"):
        ShiftRecord.load(tmp_path / "bad.json")
    (tmp_path / "cell.yaml").write_text("name: c\nkeep_out:\n  - {name: k, shape: star, position: [0, 0]}\n")
    with pytest.raises(ReportError, match=r"cell.yaml: tables: missing"):  # the executive's loader's checks
        CellLayout.load(tmp_path / "cell.yaml")
    with pytest.raises(ReportError, match=r"absent\.yaml does not exist"):
        CellLayout.load(tmp_path / "absent.yaml")


def test_zmp_helpers():
    # The LIPM: a CoM accelerating forwards has its ZMP behind it by z/g times the acceleration.
    assert zmp_from_lipm((0.1, 0.0, 0.9), (0.981, -0.981, 0.0), 0.9) == pytest.approx((0.01, 0.09))
    with pytest.raises(ReportError):
        zmp_from_lipm((0.0, 0.0), (0.0, 0.0), 0.0)
    # Two feet, 300 N each, CoPs 2 cm ahead of each sole origin; the right foot turned by 90 degrees.
    soles = {"left": (0.0, 0.1, 0.0), "right": (0.0, -0.1, math.pi / 2)}
    cop_ahead = ((0.0, 0.0, 300.0), (0.0, -0.02 * 300.0, 0.0))  # tau_y = -x f_z
    zmp = zmp_from_sole_wrenches(soles, {"left": cop_ahead, "right": cop_ahead})
    assert zmp == pytest.approx(((0.02 + 0.0) / 2, (0.1 - 0.1 + 0.02) / 2))
    assert zmp_from_sole_wrenches(soles, {"left": ((0, 0, 5.0), (0, 0, 0)), "right": ((0, 0, -1.0), (0, 0, 0))}) \
        is None


def _not_blank(path: Path, min_size: tuple[int, int]) -> np.ndarray:
    image = cv2.imread(str(path))
    assert image is not None, path
    assert image.shape[0] >= min_size[0] and image.shape[1] >= min_size[1], image.shape
    assert image.std() > 20.0
    return image


def test_plots_are_written_and_show_the_shift(tmp_path):
    record = make_record()
    paths = write_plots(record, tmp_path, "job")
    assert set(paths) == {"map", "com_zmp", "parts"}
    cell_map = _not_blank(paths["map"], (600, 700))
    _not_blank(paths["com_zmp"], (500, 800))
    _not_blank(paths["parts"], (200, 800))
    # Coloured content: the footsteps (blue and red), the paths, the bins' outlines, the parts.
    hsv = cv2.cvtColor(cell_map, cv2.COLOR_BGR2HSV)
    assert np.count_nonzero(hsv[..., 1] > 100) > 500
    # The same map without anything recorded is a different picture (it draws what it is given).
    empty = ShiftRecord(scene="sorting_cell", robot="centurion", cell=record.cell)
    sparse = _not_blank(plot_cell_map(empty, tmp_path / "empty.png"), (300, 300))
    assert sparse.shape != cell_map.shape or np.abs(sparse.astype(int) - cell_map).mean() > 5.0


def test_a_part_flung_far_is_named_at_the_edge_and_does_not_shrink_the_cell(tmp_path):
    """A part the simulation threw 16 m away would make the cell a speck: the view stays on the work."""
    import dataclasses

    record = make_record()
    near = _not_blank(plot_cell_map(record, tmp_path / "near.png"), (600, 700))
    record.parts[1] = dataclasses.replace(record.parts[1], end_position=(-12.0, 11.3))
    far = _not_blank(plot_cell_map(record, tmp_path / "far.png"), (600, 700))
    assert far.shape == near.shape
    assert np.abs(far.astype(int) - near).mean() < 3.0  # the same view; only the part's line and its note differ


def test_plots_without_data_say_so_and_a_missing_folder_is_an_error(tmp_path):
    empty = ShiftRecord(scene="s", robot="r")
    _not_blank(plot_com_zmp(empty, tmp_path / "c.png"), (300, 300))
    _not_blank(plot_part_timeline(empty, tmp_path / "p.png"), (150, 300))
    with pytest.raises(ReportError, match="does not exist"):
        plot_com_zmp(make_record(), tmp_path / "no" / "c.png")


@pytest.fixture(scope="module")
def camera():
    cell_camera = CellCamera("sorting_cell")
    yield cell_camera
    cell_camera.close()


def test_camera_renders_the_robot_standing_in_the_cell(camera, tmp_path):
    standing = camera.render(anonymise=False)
    assert standing.shape == (480, 640, 3) and standing.dtype == np.uint8
    away = camera.render(base_position=(50.0, 50.0, -5.0), anonymise=False)  # the cell without the robot
    # Where the robot stands (its base projected into the image) the two renders differ.
    (u, v), = camera.project(np.array([[0.0, 0.0, 1.0]])).round().astype(int)
    assert 0 <= u < 640 and 0 <= v < 480
    window = (slice(max(v - 40, 0), v + 40), slice(max(u - 25, 0), u + 25))
    changed = np.abs(standing.astype(int) - away.astype(int)).sum(axis=2) > 30
    assert changed[window].mean() > 0.3
    assert changed.mean() < 0.2  # and only there: the rest of the cell is the same
    # Joint positions move the robot: the right shoulder (first arm joint) raised changes the picture again.
    arm = camera.config.joints("arms", "right")[0]
    raised = camera.render(joints={arm: -1.5}, anonymise=False)
    assert np.abs(raised.astype(int) - standing.astype(int)).sum(axis=2).__gt__(30).sum() > 200
    with pytest.raises(ReportError, match="unknown joint"):
        camera.render(joints={"no_such_joint": 0.0})
    with pytest.raises(ReportError, match="no part 'bolt'"):
        camera.render(parts={"bolt": ((0, 0, 0), (0, 0, 0, 1))})
    with pytest.raises(ReportError, match="base_position"):
        camera.render(base_position=(0.0, 0.0))


def test_the_video_is_an_mp4_in_simulated_time(camera, tmp_path):
    path = tmp_path / "shift.mp4"
    with ShiftVideo(path, fps=10.0) as video:
        t = 0.0
        while t < 0.75:  # 50 Hz states for 0.75 s, a frame every 0.1 s
            if video.due(t):
                video.add(camera.render(base_position=(-0.2 * t, 0.0, 0.93), overlay=f"t {t:.2f} s"), t)
            t += 0.02
        assert video.add(camera.render(), 1.25) == 5  # a gap of 0.5 s in the states: the frame is repeated
    import imageio_ffmpeg

    reader = imageio_ffmpeg.read_frames(str(path))
    meta = reader.__next__()
    frames = list(reader)
    assert meta["size"] == (640, 480) and meta["fps"] == pytest.approx(10.0)
    assert meta["codec"].startswith("h264") and "yuv420p" in meta["pix_fmt"]
    assert len(frames) == video.frames == 13
    first = np.frombuffer(frames[0], dtype=np.uint8).reshape(480, 640, 3)
    assert first.std() > 20.0
    with pytest.raises(ReportError, match="closed"):
        video.add(first)


def test_the_coworkers_face_is_blurred(tmp_path):
    from legion_perception.config import PeopleConfig
    from legion_perception.people import FaceDetector
    from legion_perception.privacy import detail
    from legion_sim.model_builder import FACE_HEIGHT
    from legion_sim.scene import load_scene

    # 1.5 m from the co-worker of the sorting cell (at (1.5, -2.0), facing the robot's start), looking at the face:
    # the face detector finds it unblurred.
    (person,) = load_scene("sorting_cell").people
    head = (*person.position, person.height - FACE_HEIGHT / 2.0)
    facing = (math.cos(person.yaw), math.sin(person.yaw))
    view = CameraView(position=(head[0] + 1.5 * facing[0], head[1] + 1.5 * facing[1], head[2] + 0.1), look_at=head,
                      fovy=40.0)
    with CellCamera("sorting_cell", view=view) as close:
        assert len(close.face_boxes) == 1
        box = close.face_boxes[0]
        raw, blurred = close.render(anonymise=False), close.render()
    detector = FaceDetector(PeopleConfig())
    found = detector.boxes(raw)
    assert found, "no face found in the unblurred render"
    u, v, w, h = box
    assert any(u <= fu + fw / 2 <= u + w and v <= fv + fh / 2 <= v + h for fu, fv, fw, fh in found)
    assert detail(blurred, box) < 0.1 * detail(raw, box)
    assert not detector.boxes(blurred)
    # Outside the head the image is untouched.
    outside = np.ones(raw.shape[:2], bool)
    outside[max(v - h, 0):v + 2 * h, max(u - w, 0):u + 2 * w] = False
    assert np.array_equal(raw[outside], blurred[outside])


def test_default_view_blurs_the_head(camera):
    from legion_perception.privacy import detail

    assert len(camera.face_boxes) == 1
    box = camera.face_boxes[0]
    raw, blurred = camera.render(anonymise=False), camera.render()
    assert detail(blurred, box) < 0.2 * detail(raw, box)


def test_bad_camera_requests_are_refused(tmp_path):
    with pytest.raises(ReportError, match="coincide"):
        CameraView(position=(1.0, 1.0, 1.0), look_at=(1.0, 1.0, 1.0))
    with pytest.raises(ReportError, match="cannot read scene file"):
        CellCamera(tmp_path / "missing.yaml")
    with pytest.raises(ReportError, match="even"):
        CellCamera("sorting_cell", width=641)
    with pytest.raises(ReportError, match="does not exist"):
        ShiftVideo(tmp_path / "no" / "v.mp4")


def test_the_camera_shows_what_the_simulator_holds(camera):
    """Posed from what the judge reads (ground-truth base and parts, joint positions), the camera's picture is the
    simulator's own state rendered from the same view: same model, same mapping of the free base and the joints."""
    from legion_sim.simulation import Simulation

    sim = Simulation.from_names("centurion", "sorting_cell", sensor_noise=False)
    try:
        sim.apply_wrench(camera.config.frames["base"], (25.0, 10.0, 0.0), (0.0, 0.0, 0.0), 0.3)  # sway and turn it
        sim.apply_wrench("red_cube_1", (0.0, 0.0, 3.0), (0.0, 0.0, 0.2), 0.1)  # the cube hops
        sim.step(250)
        base = sim.ground_truth_base()
        joints = sim.joint_state()
        parts = {o.id: (o.position, o.orientation) for o in sim.ground_truth_objects()}
        posed = camera.render(base.position, base.orientation, dict(zip(joints.names, joints.position, strict=True)),
                              parts, anonymise=False)
        camera.renderer.update_scene(sim.data, camera.camera, camera.option)
        truth = camera.renderer.render()
    finally:
        sim.close()
    assert np.abs(posed.astype(int) - truth.astype(int)).max(axis=2).__gt__(8).mean() < 0.002
    assert np.abs(posed.astype(int) - camera.render(anonymise=False).astype(int)).max(axis=2).__gt__(8).mean() > 0.002


def test_frames_logged_during_the_shift_are_rendered_after_it(camera, tmp_path):
    from legion_bringup.shift_media import FrameLog, FrameState, render_video

    log = FrameLog(fps=10.0)
    kept = [log.add(FrameState(0.02 * k, (-0.01 * k, 0.0, 0.93), (0.0, 0.0, 0.0, 1.0), {}, {}, f"t {0.02 * k:.2f}"))
            for k in range(25)]  # 50 Hz for 0.5 s
    assert sum(kept) == 5
    path = render_video(log.states, tmp_path / "after.mp4", camera)
    import imageio_ffmpeg

    assert imageio_ffmpeg.count_frames_and_secs(str(path))[0] == 5
    with pytest.raises(ReportError, match="no frame states"):
        render_video([], tmp_path / "none.mp4", camera)
