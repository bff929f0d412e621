"""The main job's report artefacts: plots (PNG) of a recorded shift and an MP4 of it from a fixed camera in the cell.

No ROS here: the job feeds a `legion_bringup.shift_record.ShiftRecord` and, for the video, the state the judge
knows at each frame (ground truth). Three parts:

- **Plots** (matplotlib, Agg, no pyplot state): `plot_cell_map` (obstacle grid, the cell's tables, bins and
  keep-out areas, the true and estimated base paths, footsteps, parts from where they started to where they ended),
  `plot_com_zmp` (CoM and ZMP x and y over time, measured and planned) and `plot_part_timeline` (each part's
  phases as bars, its outcome). Each writes a PNG and returns its path; `write_plots` writes all three.
- **`CellCamera`**: a fixed camera in the cell rendering the scene's MuJoCo model, built from the scene file with
  legion_sim's builder (the same model the simulator runs), posed from what the judge knows: the robot's true base
  pose (`ground_truth/odom`), its joint positions (`joint_states`) and the parts' true poses
  (`ground_truth/objects`). Headless (MUJOCO_GL=egl), shadows and reflections off. People in the scene are
  mannequins whose heads the scene places: each head's box is projected into the image and anonymised with
  `legion_perception.privacy.anonymise_faces` on every frame (optionally also any face OpenCV's cascade finds).
- **`ShiftVideo`**: streams frames to ffmpeg (imageio-ffmpeg's bundled binary, nothing downloaded) as H.264 yuv420p
  MP4 that browsers play, one frame per 1/fps of *simulated* time; frames are never held in memory.

In the job, either rendered on the fly:

    camera = CellCamera("sorting_cell")
    with ShiftVideo(folder / f"{name}.mp4", fps=10) as video:
        ...  # on each state, at simulated time t:
        if video.due(t):
            video.add(camera.render(base_position, base_orientation, joints, parts, overlay=f"t {t:.1f} s"), t)
    camera.close()

or, cheaper for the stack on a small machine, logged during the shift and rendered after it:

    frames = FrameLog(fps=10)
    ...  # on each state: if frames.due(t): frames.add(FrameState(t, position, orientation, joints, parts, text))
    with CellCamera("sorting_cell") as camera:  # after the stack has stopped
        render_video(frames.states, folder / f"{name}.mp4", camera)
    write_plots(record, folder, name)
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from legion_bringup.shift_record import PHASES, ReportError, ShiftRecord

if TYPE_CHECKING:
    from legion_perception.config import PrivacyConfig

DPI = 100
MAP_SIZE = (9.0, 8.0)
"""Cell map figure size [in]."""
SERIES_SIZE = (10.0, 6.5)
TIMELINE_ROW = 0.45
"""Height of one part's row in the timeline [in]."""
SIDE_COLOURS = {"left": "tab:blue", "right": "tab:red"}
PHASE_COLOURS = {"walk": "#6baed6", "pick": "#fd8d3c", "carry": "#74c476", "place": "#9e9ac8", "look": "#bdbdbd"}
"""Bar colour per phase; other phases get `OTHER_PHASE_COLOUR`."""
OTHER_PHASE_COLOUR = "#969696"
GOOD_OUTCOMES = ("placed", "done", "success")
"""Outcomes drawn as a success (green); anything else is drawn red."""
UNMOVED = 0.01
"""A part that ended closer than this to where it started is drawn at its start only [m]."""
AREA_STYLES = {"table": ("saddlebrown", "-"), "bin": ("darkgreen", "-"), "keep_out": ("crimson", "--")}


# --------------------------------------------------------------------------------------------------------- plots
FAR_END = 1.0
"""[m] a part's end farther than this outside what the shift covered (cell, paths, footsteps, starts) is named at
the map's edge instead of widening the view."""

def _figure(size: tuple[float, float]):
    """A matplotlib Figure with an Agg canvas, outside pyplot (no global state, no display)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=size, dpi=DPI)
    FigureCanvasAgg(figure)
    return figure


def _save(figure, path: str | Path) -> Path:
    path = Path(path)
    if not path.parent.is_dir():
        raise ReportError(f"cannot write {path}: folder {path.parent} does not exist")
    figure.savefig(path, dpi=DPI, bbox_inches="tight")
    return path


def plot_cell_map(record: ShiftRecord, path: str | Path, sole_size: tuple[float, float] = (0.22, 0.10),
                  title: str | None = None) -> Path:
    """The cell from above, in `odom` [m], equal aspect: the obstacle grid (grey, occupied darker), the cell's
    tables, bins and keep-out areas (outlines, named), the stations, the true base path (solid) and the estimated one
    (dashed), footsteps as sole rectangles (`sole_size` = (length, width) [m], the robot file's sole) coloured by
    side (planned steps hollow), and each part from its start (circle) to where it ended (cross: green placed,
    red otherwise; none for a part that did not move). Writes a PNG at `path` and returns it."""
    from matplotlib.collections import PolyCollection
    from matplotlib.patches import Circle, Polygon, Rectangle
    from matplotlib.transforms import Affine2D

    figure = _figure(MAP_SIZE)
    ax = figure.add_subplot(1, 1, 1)
    xs: list[float] = []
    ys: list[float] = []

    grid = record.grid
    if grid is not None and grid.width and grid.height:
        cells = np.asarray(grid.data, dtype=float).reshape(grid.height, grid.width)
        shade = np.where(cells < 0, 0.12, np.clip(cells, 0, 100) / 100.0 * 0.75)  # unknown faint, occupied dark
        image = ax.imshow(shade, cmap="Greys", vmin=0.0, vmax=1.0, origin="lower", interpolation="nearest",
                          extent=(0.0, grid.width * grid.resolution, 0.0, grid.height * grid.resolution), zorder=0)
        ox, oy, oyaw = grid.origin
        image.set_transform(Affine2D().rotate(oyaw).translate(ox, oy) + ax.transData)
        # (the grid's extent does not set the view: it spans metres of floor the robot never went near)

    if record.cell is not None:
        for area in record.cell.areas:
            colour, style = AREA_STYLES.get(area.kind, ("black", "-"))
            if area.shape == "circle":
                ax.add_patch(Circle(area.position, area.radius, fill=False, edgecolor=colour, linestyle=style, lw=1.5))
            else:
                ax.add_patch(Polygon(area.corners(), closed=True, fill=False, edgecolor=colour, linestyle=style,
                                     lw=1.5))
            ax.annotate(area.name, area.position, ha="center", va="center", fontsize=7, color=colour)
            for x, y in area.corners():
                xs.append(x)
                ys.append(y)
        for name, (x, y, yaw) in record.cell.stations.items():
            ax.annotate("", (x + 0.15 * math.cos(yaw), y + 0.15 * math.sin(yaw)), (x, y),
                        arrowprops={"arrowstyle": "->", "color": "dimgrey"})
            ax.annotate(name, (x, y), textcoords="offset points", xytext=(4, -9), fontsize=6, color="dimgrey")
            xs.append(x)
            ys.append(y)

    if record.footsteps:  # one collection per side and kind: thousands of steps draw in well under a second
        length, width = sole_size
        steps = np.array([(f.x, f.y, f.yaw) for f in record.footsteps])  # (n, 3)
        c, s = np.cos(steps[:, 2])[:, None], np.sin(steps[:, 2])[:, None]
        u = np.array([1, -1, -1, 1])[None, :] * length / 2
        v = np.array([1, 1, -1, -1])[None, :] * width / 2
        soles = np.stack([steps[:, :1] + c * u - s * v, steps[:, 1:2] + s * u + c * v], axis=2)  # (n, 4, 2)
        for side, colour in SIDE_COLOURS.items():
            for planned in (False, True):
                chosen = [i for i, f in enumerate(record.footsteps) if f.side == side and f.planned == planned]
                if chosen:
                    ax.add_collection(PolyCollection(
                        soles[chosen], facecolors=colour if not planned else "none", edgecolors=colour,
                        alpha=0.35 if not planned else 0.8, linewidths=0.8))
        xs += list(steps[:, 0])
        ys += list(steps[:, 1])

    for name, label, style in (("true_base", "base, true", "-"), ("estimated_base", "base, estimated", "--")):
        _, poses = record.series(name)
        if poses:
            path_xy = np.array(poses)[:, :2]
            ax.plot(path_xy[:, 0], path_xy[:, 1], style, color="black" if name == "true_base" else "tab:purple",
                    lw=1.4, label=label)
            xs += list(path_xy[:, 0])
            ys += list(path_xy[:, 1])
    _, true_poses = record.series("true_base")
    if true_poses:
        ax.plot(*true_poses[0][:2], marker="^", color="black", ms=8, ls="", label="base at start")

    ends_drawn: set[bool] = set()
    far_ends = []
    for k, part in enumerate(record.parts):
        good = part.outcome in GOOD_OUTCOMES
        ax.plot(*part.start_position, "o", color="tab:orange", ms=5, label="part at start" if k == 0 else None)
        ax.annotate(part.id, part.start_position, textcoords="offset points", xytext=(3, 3), fontsize=6)
        xs.append(part.start_position[0])
        ys.append(part.start_position[1])
        if part.end_position is not None and math.dist(part.end_position, part.start_position) > UNMOVED:
            colour = "tab:green" if good else "tab:red"
            ends_drawn.add(good)
            ax.plot(*part.end_position, "x", color=colour, ms=7, mew=2)
            ax.plot([part.start_position[0], part.end_position[0]], [part.start_position[1], part.end_position[1]],
                    ":", color=colour, lw=0.8)
            far_ends.append((part, colour))
    if True in ends_drawn:
        ax.plot([], [], "x", color="tab:green", mew=2, label="part at end (placed)")
    if False in ends_drawn:
        ax.plot([], [], "x", color="tab:red", mew=2, label="part at end (not placed)")
    for side, colour in SIDE_COLOURS.items():
        if any(step.side == side for step in record.footsteps):
            ax.add_patch(Rectangle((0, 0), 0, 0, facecolor=colour, alpha=0.35, label=f"{side} footstep"))

    margin = 0.3
    for part, _ in far_ends:  # a part that ended near the work widens the view; one flung far is named
        near = xs and (min(xs) - FAR_END <= part.end_position[0] <= max(xs) + FAR_END
                       and min(ys) - FAR_END <= part.end_position[1] <= max(ys) + FAR_END)
        if near or not xs:
            xs.append(part.end_position[0])
            ys.append(part.end_position[1])
    if xs:
        low_x, high_x, low_y, high_y = min(xs) - margin, max(xs) + margin, min(ys) - margin, max(ys) + margin
        ax.set_xlim(low_x, high_x)
        ax.set_ylim(low_y, high_y)
        for part, colour in far_ends:
            x, y = part.end_position
            if not (low_x <= x <= high_x and low_y <= y <= high_y):
                edge = (min(max(x, low_x), high_x), min(max(y, low_y), high_y))
                ax.annotate(f"{part.id} ended at ({x:.1f}, {y:.1f}) m", edge, fontsize=6, color=colour,
                            ha="right" if x > high_x else "left", va="top" if y > high_y else "bottom")
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel("x in odom [m]")
    ax.set_ylabel("y in odom [m]")
    ax.grid(True, lw=0.3, alpha=0.5)
    ax.set_title(title or f"{record.robot} in {record.scene}: cell map, base paths, footsteps and parts")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    return _save(figure, path)


def plot_com_zmp(record: ShiftRecord, path: str | Path, title: str | None = None) -> Path:
    """CoM and ZMP x and y [m] in `odom` against simulated time [s]: measured (solid) and the gait planner's
    (dashed), each where it was recorded. A series absent from the record is not drawn; with none at all the figure
    says so. Writes a PNG at `path` and returns it."""
    figure = _figure(SERIES_SIZE)
    axes = figure.subplots(2, 1, sharex=True)
    drawn = 0
    for name, label, colour, style in (("com", "CoM, measured", "tab:blue", "-"),
                                       ("zmp", "ZMP, measured", "tab:orange", "-"),
                                       ("com_reference", "CoM, planned", "tab:blue", "--"),
                                       ("zmp_reference", "ZMP, planned", "tab:orange", "--")):
        times, values = record.series(name)
        if not times:
            continue
        drawn += 1
        values = np.array(values)
        for axis, ax in enumerate(axes):
            ax.plot(times, values[:, axis], style, color=colour, lw=1.2 if style == "-" else 1.0, label=label)
    for ax, coordinate in zip(axes, "xy", strict=True):
        ax.set_ylabel(f"{coordinate} in odom [m]")
        ax.grid(True, lw=0.3, alpha=0.5)
    axes[-1].set_xlabel("simulated time [s]")
    if drawn:
        axes[0].legend(loc="best", fontsize=8)
    else:
        axes[0].text(0.5, 0.5, "no CoM or ZMP recorded", ha="center", va="center", transform=axes[0].transAxes)
    axes[0].set_title(title or f"{record.robot} in {record.scene}: centre of mass and zero-moment point")
    return _save(figure, path)


def plot_part_timeline(record: ShiftRecord, path: str | Path, title: str | None = None) -> Path:
    """One row per part (in record order, top down): a bar per phase (walk, pick, carry, place, ...) over simulated
    time [s], coloured by phase, and the outcome (and bin) at the row's end, green when placed, red otherwise.
    Writes a PNG at `path` and returns it."""
    from matplotlib.patches import Patch

    parts = record.parts
    figure = _figure((10.0, max(2.5, 1.2 + TIMELINE_ROW * len(parts))))
    ax = figure.add_subplot(1, 1, 1)
    seen: list[str] = []
    start = min(0.0, min((p.start for p in parts if p.phases), default=0.0))
    end = max((p.end for p in parts if p.phases), default=1.0)
    for row, part in enumerate(parts):
        y = len(parts) - 1 - row
        for phase in part.phases:
            ax.barh(y, phase.end - phase.start, left=phase.start, height=0.6, edgecolor="black", lw=0.4,
                    color=PHASE_COLOURS.get(phase.name, OTHER_PHASE_COLOUR))
            if phase.name not in seen:
                seen.append(phase.name)
        good = part.outcome in GOOD_OUTCOMES
        x = part.end if part.phases else start
        ax.text(x + 0.01 * (end - start), y, f"{part.outcome}" + (f" -> {part.bin}" if part.bin else ""),
                va="center", fontsize=8, color="tab:green" if good else "tab:red", fontweight="bold", clip_on=False)
    ax.set_yticks(range(len(parts)), [f"{p.id} ({p.label})" for p in reversed(parts)], fontsize=8)
    ax.set_ylim(-0.7, max(len(parts), 1) - 0.3)
    ax.set_xlim(start, end + 0.22 * (end - start))
    ax.set_xlabel("simulated time [s]")
    ax.grid(True, axis="x", lw=0.3, alpha=0.5)
    order = [name for name in PHASES if name in seen] + [name for name in seen if name not in PHASES]
    if order:
        ax.legend(handles=[Patch(color=PHASE_COLOURS.get(n, OTHER_PHASE_COLOUR), label=n) for n in order],
                  loc="upper center", bbox_to_anchor=(0.5, -0.12 - 0.5 / figure.get_figheight()), fontsize=8,
                  ncols=len(order), frameon=False)
    if not parts:
        ax.text(0.5, 0.5, "no part events recorded", ha="center", va="center", transform=ax.transAxes)
    ax.set_title(title or f"{record.robot} in {record.scene}: parts, phase by phase")
    return _save(figure, path)


def write_plots(record: ShiftRecord, folder: str | Path, stem: str,
                sole_size: tuple[float, float] = (0.22, 0.10)) -> dict[str, Path]:
    """All three plots as `<folder>/<stem>-{map,com_zmp,parts}.png`; returns name -> path."""
    folder = Path(folder)
    return {"map": plot_cell_map(record, folder / f"{stem}-map.png", sole_size),
            "com_zmp": plot_com_zmp(record, folder / f"{stem}-com_zmp.png"),
            "parts": plot_part_timeline(record, folder / f"{stem}-parts.png")}


# --------------------------------------------------------------------------------------------------------- camera
@dataclass(frozen=True)
class CameraView:
    """A fixed camera in the cell: where it is and what it looks at, in the world (`odom`) frame [m]."""

    position: tuple[float, float, float] = (2.9, 0.9, 2.6)
    """Camera centre [m]. The default: high in the sorting cell's front-left corner, beyond the table, facing the
    robot's start."""
    look_at: tuple[float, float, float] = (0.35, -0.55, 0.6)
    """The point at the image centre [m]: the default sees the robot from the front across the table, the four bins
    and the co-worker at the front right (whose head is blurred)."""
    fovy: float = 65.0
    """Vertical field of view [deg]."""

    def __post_init__(self) -> None:
        if len(self.position) != 3 or len(self.look_at) != 3:
            raise ReportError(f"camera view: position and look_at need 3 coordinates, got {self.position}, "
                              f"{self.look_at}")
        if not all(math.isfinite(v) for v in (*self.position, *self.look_at, self.fovy)):
            raise ReportError("camera view: non-finite number")
        if math.dist(self.position, self.look_at) < 1e-3:
            raise ReportError("camera view: position and look_at coincide")
        if not 5.0 <= self.fovy <= 150.0:
            raise ReportError(f"camera view: fovy must be in [5, 150] deg, got {self.fovy}")


class CellCamera:
    """Renders the scene's MuJoCo model from a fixed `CameraView`, headless, with the people's faces anonymised.

    Args:
        scene: scene name or path (`config/scenes/<scene>.yaml`), as the simulator was started with.
        robot: robot name or file (its configuration and URDF build the same model the simulator runs).
        view: the camera; `CameraView()` by default.
        width, height: image size [px] (even, for yuv420p video).
        privacy: face anonymisation settings (`legion_perception.config.PrivacyConfig`); defaults if None.
        detect_faces: also run OpenCV's frontal-face cascade (`legion_perception.people`) on every frame and blur what
            it finds (costs about as much as the render); the scene's people are blurred either way.

    Raises:
        ReportError: a missing or invalid scene or robot, no GL context (MUJOCO_GL must be `egl` or `osmesa`
            without a display, set before mujoco is first imported).
    """

    def __init__(self, scene: str | Path = "sorting_cell", robot: str = "centurion", view: CameraView | None = None,
                 width: int = 640, height: int = 480, privacy: PrivacyConfig | None = None,
                 detect_faces: bool = False):
        import mujoco

        from legion_description.robot_config import load_robot_config
        from legion_description.robot_files import DescriptionError, expand_urdf
        from legion_perception.config import PrivacyConfig
        from legion_sim.errors import SimError
        from legion_sim.model_builder import HIDDEN_GROUP, build_model
        from legion_sim.scene import load_scene

        if width < 16 or height < 16 or width % 2 or height % 2:
            raise ReportError(f"camera image size must be even and at least 16 px, got {width} x {height}")
        self.view = view or CameraView()
        self.width, self.height = width, height
        self.privacy = privacy or PrivacyConfig()
        try:
            self.scene = load_scene(scene)
            self.config = load_robot_config(robot)
            built = build_model(expand_urdf(robot), self.config, self.scene)
        except (SimError, DescriptionError) as error:
            raise ReportError(f"cell camera: {error}") from error
        self._mujoco = mujoco
        self.built = built
        self.model = built.model
        self.model.vis.global_.offwidth = max(self.model.vis.global_.offwidth, width)
        self.model.vis.global_.offheight = max(self.model.vis.global_.offheight, height)
        self.model.vis.global_.fovy = self.view.fovy
        self.data = mujoco.MjData(self.model)
        self._joint_qpos = dict(zip(built.joint_names, (int(a) for a in built.qpos_adr), strict=True))
        self.set_standing()
        try:
            self.renderer = mujoco.Renderer(self.model, height, width)
        except Exception as error:  # the GL backends raise several types
            raise ReportError(f"cell camera: cannot create a renderer (MUJOCO_GL={os.environ.get('MUJOCO_GL')!r}; "
                              f"headless needs egl or osmesa, set before mujoco is imported): {error}") from error
        for flag in (mujoco.mjtRndFlag.mjRND_SHADOW, mujoco.mjtRndFlag.mjRND_REFLECTION,
                     mujoco.mjtRndFlag.mjRND_SKYBOX):
            self.renderer.scene.flags[flag] = False
        self.option = mujoco.MjvOption()
        self.option.geomgroup[HIDDEN_GROUP] = 0  # collision-only geoms
        self.option.sitegroup[:] = 0
        self.camera = mujoco.MjvCamera()
        self.camera.type = mujoco.mjtCamera.mjCAMERA_FREE
        position, look_at = np.array(self.view.position, float), np.array(self.view.look_at, float)
        forward = look_at - position
        self.camera.distance = float(np.linalg.norm(forward))
        forward /= self.camera.distance
        self.camera.lookat[:] = look_at
        self.camera.azimuth = math.degrees(math.atan2(forward[1], forward[0]))
        self.camera.elevation = math.degrees(math.asin(float(np.clip(forward[2], -1.0, 1.0))))
        self.renderer.update_scene(self.data, self.camera, self.option)
        gl_camera = self.renderer.scene.camera[0]
        self._centre = np.array(gl_camera.pos, dtype=float)
        self._forward = np.array(gl_camera.forward, dtype=float)
        self._up = np.array(gl_camera.up, dtype=float)
        self._right = np.cross(self._forward, self._up)
        self.focal = 0.5 * height / math.tan(math.radians(self.view.fovy) / 2.0)
        """Focal length [px] (square pixels)."""
        self.face_boxes = self._project_heads()
        """The scene's people's head boxes in the image [px] (u, v, w, h): fixed camera, standing people."""
        self._detector = None
        if detect_faces:
            from legion_perception.config import PeopleConfig
            from legion_perception.people import FaceDetector

            self._detector = FaceDetector(PeopleConfig())

    def project(self, points: np.ndarray) -> np.ndarray:
        """Pixels (u, v) of world points (N, 3) [m]; NaN for points behind the camera.  # (N, 2)"""
        points = np.atleast_2d(np.asarray(points, dtype=float)) - self._centre
        depth = points @ self._forward
        with np.errstate(divide="ignore", invalid="ignore"):
            u = 0.5 * self.width + self.focal * (points @ self._right) / depth
            v = 0.5 * self.height - self.focal * (points @ self._up) / depth
        uv = np.stack([u, v], axis=1)
        uv[depth <= 1e-6] = np.nan
        return uv

    def _project_heads(self) -> list[tuple[int, int, int, int]]:
        """Each person's head (a box: `model_builder` puts it at the top of the figure, FACE_WIDTH wide and
        FACE_HEIGHT tall, 0.2 m deep) as the image box around its projected corners, clipped to the image; heads
        behind the camera or out of the image are left out."""
        from legion_sim.model_builder import FACE_HEIGHT, FACE_WIDTH

        boxes = []
        for person in self.scene.people:
            centre_z = person.height - FACE_HEIGHT / 2.0
            c, s = math.cos(person.yaw), math.sin(person.yaw)
            corners = np.array([(person.position[0] + c * dx - s * dy, person.position[1] + s * dx + c * dy,
                                 centre_z + dz) for dx in (-0.11, 0.11) for dy in (-FACE_WIDTH / 2, FACE_WIDTH / 2)
                                for dz in (-FACE_HEIGHT / 2, FACE_HEIGHT / 2)])
            uv = self.project(corners)
            if np.isnan(uv).any():
                continue
            u0, v0 = max(int(np.floor(uv[:, 0].min())), 0), max(int(np.floor(uv[:, 1].min())), 0)
            u1, v1 = min(int(np.ceil(uv[:, 0].max())), self.width), min(int(np.ceil(uv[:, 1].max())), self.height)
            if u1 - u0 >= 2 and v1 - v0 >= 2:
                boxes.append((u0, v0, u1 - u0, v1 - v0))
        return boxes

    def set_standing(self) -> None:
        """The robot in the configuration's standing posture at the scene's start pose, soles on the floor; the parts
        where the scene puts them (what `render` shows for anything it is not given)."""
        mujoco = self._mujoco
        model, data, built = self.model, self.data, self.built
        mujoco.mj_resetData(model, data)
        start = self.scene.robot_start
        root = built.root_qpos_adr
        data.qpos[root:root + 3] = (start.x, start.y, 0.0)
        data.qpos[root + 3:root + 7] = (math.cos(start.yaw / 2.0), 0.0, 0.0, math.sin(start.yaw / 2.0))
        for name, value in self.config.standing.items():
            data.qpos[self._joint_qpos[name]] = value
        mujoco.mj_kinematics(model, data)
        lowest_sole = min(data.site_xpos[model.site(self.config.sides[side].sole).id][2]
                          for side in ("left", "right"))
        data.qpos[root + 2] = -lowest_sole
        self._standing_qpos = data.qpos.copy()

    def render(self, base_position: Sequence[float] | None = None, base_orientation: Sequence[float] | None = None,
               joints: Mapping[str, float] | None = None,
               parts: Mapping[str, tuple[Sequence[float], Sequence[float]]] | None = None,
               overlay: str | None = None, anonymise: bool = True) -> np.ndarray:
        """One frame.  # (height, width, 3) uint8 RGB

        Args:
            base_position: base_link origin (x, y, z) in the world [m] (`ground_truth/odom`); None: standing at the
                scene's start.
            base_orientation: base_link quaternion (x, y, z, w) in the world; None: the start's.
            joints: joint name -> position [rad] (`joint_states`); joints not named keep the standing posture.
            parts: part id -> (position (3,) [m], quaternion (x, y, z, w)) (`ground_truth/objects`); parts not named
                stay where the scene puts them.
            overlay: a text line drawn at the top (e.g. simulated time, phase, parts done).
            anonymise: blur the people's faces (only a test turns this off).

        Raises:
            ReportError: an unknown joint or part, or a value of the wrong size or not finite.
        """
        mujoco = self._mujoco
        qpos = self.data.qpos
        qpos[:] = self._standing_qpos
        root = self.built.root_qpos_adr
        if base_position is not None:
            qpos[root:root + 3] = _finite(base_position, 3, "base_position")
        if base_orientation is not None:
            x, y, z, w = _finite(base_orientation, 4, "base_orientation")
            qpos[root + 3:root + 7] = (w, x, y, z)
        if joints:
            unknown = sorted(set(joints) - set(self._joint_qpos))
            if unknown:
                raise ReportError(f"cell camera: unknown joint(s) {unknown[:5]} (robot {self.config.name})")
            for name, value in joints.items():
                qpos[self._joint_qpos[name]] = value
            if not np.all(np.isfinite(qpos)):
                raise ReportError("cell camera: a joint position is not finite")
        for part_id, (position, orientation) in (parts or {}).items():
            address = self.built.part_qpos_adr.get(part_id)
            if address is None:
                raise ReportError(f"cell camera: no part '{part_id}' in scene {self.scene.name}")
            x, y, z, w = _finite(orientation, 4, f"parts[{part_id}] orientation")
            qpos[address:address + 3] = _finite(position, 3, f"parts[{part_id}] position")
            qpos[address + 3:address + 7] = (w, x, y, z)
        mujoco.mj_kinematics(self.model, self.data)
        mujoco.mj_comPos(self.model, self.data)
        mujoco.mj_camlight(self.model, self.data)  # the lights' poses: without them the scene has the headlight only
        self.renderer.update_scene(self.data, self.camera, self.option)
        image = self.renderer.render()
        if anonymise:
            image = self.anonymise(image)
        if overlay:
            image = draw_overlay(image, overlay)
        return image

    def anonymise(self, image: np.ndarray) -> np.ndarray:
        """A copy of `image` with the people's head boxes (and any detected face) mosaicked and blurred."""
        from legion_perception.privacy import anonymise_faces

        boxes = list(self.face_boxes)
        if self._detector is not None:
            boxes += self._detector.boxes(image)
        return anonymise_faces(image, boxes, self.privacy) if boxes else image

    def close(self) -> None:
        """Free the GL context."""
        if self.renderer is not None:
            self.renderer.close()
            self.renderer = None

    def __enter__(self) -> CellCamera:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()


def _finite(values: Sequence[float], length: int, what: str) -> np.ndarray:
    array = np.asarray(values, dtype=float).reshape(-1)
    if array.shape != (length,) or not np.all(np.isfinite(array)):
        raise ReportError(f"cell camera: {what} must be {length} finite numbers, got {values!r}")
    return array


def draw_overlay(image: np.ndarray, text: str) -> np.ndarray:
    """`image` with `text` in white on a dark band across its top (in place when writable; returned)."""
    if not image.flags.writeable:
        image = image.copy()
    band = max(16, image.shape[0] // 20)
    image[:band] = (image[:band] * 0.35).astype(np.uint8)
    cv2.putText(image, text, (6, band - 5), cv2.FONT_HERSHEY_SIMPLEX, band / 40.0, (255, 255, 255), 1, cv2.LINE_AA)
    return image


# --------------------------------------------------------------------------------------------------------- video
@dataclass(frozen=True)
class FrameState:
    """What the judge knows at one video frame: enough to pose `CellCamera` (ground truth and joint positions)."""

    t: float
    """Simulated time [s]."""
    base_position: tuple[float, float, float]
    """base_link origin in the world [m] (`ground_truth/odom`)."""
    base_orientation: tuple[float, float, float, float]
    """base_link quaternion (x, y, z, w) in the world."""
    joints: Mapping[str, float]
    """Joint name -> position [rad] (`joint_states`)."""
    parts: Mapping[str, tuple[Sequence[float], Sequence[float]]]
    """Part id -> (position [m], quaternion (x, y, z, w)) (`ground_truth/objects`)."""
    overlay: str = ""
    """The text line drawn on the frame (e.g. simulated time, phase, parts done)."""


class FrameLog:
    """The frame states of a shift, one per 1/fps of simulated time, for rendering the video after the shift.

    On a 2-core machine rendering during a lockstep shift takes CPU from the stack (a software-rendered frame costs
    tens of ms): the job can log states here at 10 Hz (about 0.5 KiB each, 3 MiB for 10 minutes) and call
    `render_video` once the stack has stopped. `add` keeps a state only when its frame is due."""

    def __init__(self, fps: float = 10.0):
        if not (math.isfinite(fps) and fps > 0.0):
            raise ReportError(f"frame log fps must be positive, got {fps}")
        self.fps = float(fps)
        self.states: list[FrameState] = []

    def due(self, t: float) -> bool:
        """Whether a state at simulated time t [s] would be kept."""
        return not self.states or t >= self.states[-1].t + 1.0 / self.fps - 1e-9

    def add(self, state: FrameState) -> bool:
        """Keep `state` if its frame is due; returns whether it was kept."""
        if not self.due(state.t):
            return False
        self.states.append(state)
        return True


def render_video(states: Sequence[FrameState], path: str | Path, camera: CellCamera, fps: float = 10.0) -> Path:
    """Render `states` (in time order) with `camera` into an MP4 at `path`, one frame per 1/fps of simulated time
    (a state standing for the frames up to the next one); returns the path. Raises ReportError on an empty list or
    a state the camera refuses."""
    if not states:
        raise ReportError(f"no frame states to render into {path}")
    with ShiftVideo(path, fps=fps, size=(camera.width, camera.height)) as video:
        for state in states:
            video.add(camera.render(state.base_position, state.base_orientation, state.joints, state.parts,
                                    overlay=state.overlay or None), state.t)
    return video.path


class ShiftVideo:
    """An MP4 (H.264, yuv420p, browser-playable) written frame by frame through imageio-ffmpeg's bundled ffmpeg.

    One video frame stands for 1/fps of simulated time: `due(t)` says whether the frame for simulated time t is
    still to be written, `add(frame, t)` writes it, repeated over any frame slots the job missed (the video stays
    in step with simulated time). Nothing is buffered here; ffmpeg reads from a pipe.

    Args:
        path: the .mp4 file (its folder must exist).
        fps: frames per simulated second.
        size: (width, height) [px], even.
        crf: x264 quality (lower is better, 23 is x264's default).
    """

    def __init__(self, path: str | Path, fps: float = 10.0, size: tuple[int, int] = (640, 480), crf: int = 23):
        import imageio_ffmpeg

        self.path = Path(path)
        if not self.path.parent.is_dir():
            raise ReportError(f"cannot write {self.path}: folder {self.path.parent} does not exist")
        if not (math.isfinite(fps) and 0.5 <= fps <= 120.0):
            raise ReportError(f"video fps must be in [0.5, 120], got {fps}")
        width, height = size
        if width < 16 or height < 16 or width % 2 or height % 2:
            raise ReportError(f"video size must be even and at least 16 px, got {width} x {height}")
        self.fps, self.size = float(fps), (int(width), int(height))
        self.frames = 0
        """Frames written so far."""
        self._start: float | None = None
        self._writer = imageio_ffmpeg.write_frames(
            str(self.path), self.size, pix_fmt_in="rgb24", pix_fmt_out="yuv420p", fps=self.fps, codec="libx264",
            quality=None, macro_block_size=2, ffmpeg_log_level="error",
            output_params=["-crf", str(int(crf)), "-preset", "veryfast", "-movflags", "+faststart"])
        self._writer.send(None)  # starts ffmpeg

    def due(self, t: float) -> bool:
        """Whether the frame for simulated time t [s] is still to be written (always true for the first)."""
        return self._start is None or t >= self._start + self.frames / self.fps - 1e-9

    def add(self, frame: np.ndarray, t: float | None = None) -> int:
        """Write `frame` (height, width, 3) uint8 RGB: once, or, given the simulated time t [s], as many times as
        frame slots have passed up to t. Returns the frames written."""
        if self._writer is None:
            raise ReportError(f"video {self.path} is closed")
        width, height = self.size
        if frame.shape != (height, width, 3) or frame.dtype != np.uint8:
            raise ReportError(f"video frame must be ({height}, {width}, 3) uint8, got {frame.shape} {frame.dtype}")
        count = 1
        if t is not None:
            if self._start is None:
                self._start = float(t)
            count = max(1, math.floor((t - self._start) * self.fps + 1e-6) + 1 - self.frames)
        data = np.ascontiguousarray(frame)
        try:
            for _ in range(count):
                self._writer.send(data)
        except OSError as error:  # ffmpeg exited (disk full, killed): its command and messages are in the error
            self._writer = None
            raise ReportError(f"video {self.path}: ffmpeg failed: {error}") from error
        self.frames += count
        return count

    def close(self) -> Path:
        """Finish the file (ffmpeg flushes and exits); returns its path. Safe to call twice."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        return self.path

    def __enter__(self) -> ShiftVideo:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()
