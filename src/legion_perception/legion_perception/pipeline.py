"""The perception core: one registered RGB-D frame with its camera pose in, parts, bins, obstacles and people out.

No ROS, no clock: the caller passes each frame with its time stamp and the camera pose it computed (from `odom` and
the robot's kinematics in the node; from the simulator in tests) and decides which optional stages run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from legion_common.parameters import from_flat, to_flat
from legion_common.transforms import invert_transform
from legion_perception.config import PerceptionConfig
from legion_perception.detection import PartDetection, PartDetector, check_frame
from legion_perception.errors import InputError
from legion_perception.geometry import CameraIntrinsics, project, transform_points
from legion_perception.obstacles import ObstacleMapper, OccupancyGrid
from legion_perception.people import Box, FaceDetection, FaceDetector, PeopleTracker, Person
from legion_perception.privacy import anonymise_faces
from legion_perception.tracking import PartTrack, PartTracker

FACE_ASPECT = 1.25
"""Height over width of the region blurred around a face that is expected but not detected."""


@dataclass(frozen=True)
class Frame:
    """One registered colour + depth frame with its camera pose."""

    rgb: np.ndarray
    """Colour image.  # (H, W, 3) uint8"""
    depth: np.ndarray
    """z-depth registered to the colour image [m]; NaN, inf or 0 where unknown.  # (H, W) float32"""
    camera: CameraIntrinsics
    camera_to_odom: np.ndarray
    """Pose of the camera optical frame in `odom`.  # (4, 4)"""
    robot_xy: np.ndarray
    """Odom (x, y) of the robot base [m] (grid centre, self filter).  # (2,)"""
    stamp: float
    """Time the images were taken [s]."""
    hands: np.ndarray | None = None
    """The robot's gripper frames in `odom` at that time [m] (self filter of the obstacle grid).  # (k, 3)"""
    arms: tuple[np.ndarray, ...] = ()
    """Per arm, its joints' and gripper's positions in `odom` at that time, shoulder to gripper [m] (self filter of
    the obstacle grid).  # each (m, 3)"""


@dataclass
class PerceptionResult:
    """What one frame produced."""

    stamp: float
    detections: list[PartDetection]
    """This frame's part and container (`is_container`) detections."""
    objects: list[PartTrack]
    """Confirmed part and container tracks (the published objects)."""
    grid: OccupancyGrid | None = None
    """The obstacle grid, if that stage ran."""
    faces: list[FaceDetection] = field(default_factory=list)
    """This frame's faces, if people detection ran."""
    people: list[Person] = field(default_factory=list)
    """People held by the tracker."""
    people_ran: bool = False


class PerceptionCore:
    """Parts, obstacles and people from RGB-D frames, with face anonymisation for images that leave."""

    def __init__(self, config: PerceptionConfig | None = None):
        """Raises ParameterError if a setting is out of its range or inconsistent (the message names it)."""
        self.config = from_flat(PerceptionConfig, to_flat(config or PerceptionConfig()))
        self.detector = PartDetector(self.config.detection)
        self.tracker = PartTracker(self.config.tracking)
        self.mapper = ObstacleMapper(self.config.obstacles)
        self.faces = FaceDetector(self.config.people)
        self.people = PeopleTracker(self.config.people)

    def reset(self) -> None:
        self.tracker.reset()
        self.mapper.reset()
        self.people.reset()

    def process(self, frame: Frame, *, obstacles: bool = True, people: bool = True) -> PerceptionResult:
        """Run the stages on one frame.

        Args:
            frame: the images, intrinsics, camera pose and time.
            obstacles: update and return the obstacle grid.
            people: run the face detector (the slowest stage; the node runs it at its own rate and always on
                frames that leave the node as images).

        Raises:
            InputError: the images do not match each other or the intrinsics, or the camera pose is not finite.
        """
        check_frame(frame.rgb, frame.depth, frame.camera)
        if frame.camera_to_odom.shape != (4, 4) or not np.isfinite(frame.camera_to_odom).all():
            raise InputError("camera pose is not a finite 4x4 transform")
        detections = self.detector.detect(frame.rgb, frame.depth, frame.camera, frame.camera_to_odom)
        objects = self.tracker.update(detections, frame.stamp, self._visibility(frame))
        result = PerceptionResult(stamp=frame.stamp, detections=detections, objects=objects)
        if obstacles:
            result.grid = self.mapper.update(frame.depth, frame.camera, frame.camera_to_odom, frame.robot_xy,
                                             frame.hands, frame.arms)
        if people:
            result.faces = self.faces.detect(frame.rgb, frame.depth, frame.camera, frame.camera_to_odom)
            result.people = self.people.update(result.faces, frame.stamp)
            result.people_ran = True
        else:
            result.people = [p for p in self.people.people if frame.stamp - p.last_seen <= self.config.people.hold_time]
        return result

    # ------------------------------------------------------------------------------------------ privacy, debug

    def privacy_boxes(self, frame: Frame, result: PerceptionResult) -> list[Box]:
        """Every region of `frame` to anonymise: faces found anywhere in the image (not only at head height, and
        with or without depth), this result's faces, and where a held person's face projects into the image though
        it was not found in this frame."""
        faces = self.faces.detect(frame.rgb, frame.depth, frame.camera, frame.camera_to_odom, everywhere=True)
        boxes: list[Box] = [face.box for face in faces] + [face.box for face in result.faces]
        if not self.config.privacy.person_hold_blur:
            return boxes
        seen = [face.position for face in [*faces, *result.faces] if face.position is not None]
        odom_to_camera = invert_transform(frame.camera_to_odom)
        for person in result.people:
            if any(np.linalg.norm(person.position - p) < self.config.people.gate_distance for p in seen):
                continue
            u, v, z = project(transform_points(odom_to_camera, person.position[None, :]), frame.camera)
            if not np.isfinite(u[0]) or z[0] <= 0:
                continue
            w = person.face_width * frame.camera.fx / z[0]
            h = FACE_ASPECT * w
            boxes.append((int(u[0] - w / 2), int(v[0] - h / 2), int(w) + 1, int(h) + 1))
        return [b for b in boxes if b[0] + b[2] > 0 and b[1] + b[3] > 0
                and b[0] < frame.camera.width and b[1] < frame.camera.height]

    def anonymised_image(self, frame: Frame, result: PerceptionResult, scale: float = 1.0) -> np.ndarray:
        """The frame's colour image, resized by `scale`, with every face anonymised.  # (h, w, 3) uint8"""
        boxes = self.privacy_boxes(frame, result)
        image = frame.rgb
        if scale != 1.0:
            size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
            boxes = [(int(u * scale), int(v * scale), int(np.ceil(w * scale)) + 1, int(np.ceil(h * scale)) + 1)
                     for u, v, w, h in boxes]
        return anonymise_faces(image, boxes, self.config.privacy)

    def debug_image(self, frame: Frame, result: PerceptionResult, scale: float = 0.5) -> np.ndarray:
        """The anonymised colour image with parts (id or label) and people drawn on it.  # (h, w, 3) uint8"""
        image = self.anonymised_image(frame, result, scale)
        odom_to_camera = invert_transform(frame.camera_to_odom)
        for track in result.objects:
            colour = (0, 255, 0) if track.seen_now else (255, 255, 0)
            self._draw_point(image, frame.camera, odom_to_camera, track.position, scale, colour, track.id)
        for track in result.detections:
            u, v, w, h = (round(q * scale) for q in track.pixel_box)
            cv2.rectangle(image, (u, v), (u + w, v + h), (0, 255, 0), 1)
        for person in result.people:  # a frame around the (anonymised) face, the label above it
            u, v, z = project(transform_points(odom_to_camera, person.position[None, :]), frame.camera)
            if not np.isfinite(u[0]):
                continue
            half = (0.5 + self.config.privacy.face_margin) * person.face_width * frame.camera.fx / z[0] * scale
            top_left = (round(u[0] * scale - half), round(v[0] * scale - FACE_ASPECT * half))
            bottom_right = (round(u[0] * scale + half), round(v[0] * scale + FACE_ASPECT * half))
            cv2.rectangle(image, top_left, bottom_right, (255, 0, 255), 1)
            cv2.putText(image, f"person {person.number}", (top_left[0], top_left[1] - 3), cv2.FONT_HERSHEY_SIMPLEX,
                        0.35, (255, 0, 255), 1, cv2.LINE_AA)
        return image

    @staticmethod
    def _draw_point(image: np.ndarray, camera: CameraIntrinsics, odom_to_camera: np.ndarray, point: np.ndarray,
                    scale: float, colour: tuple[int, int, int], text: str) -> None:
        u, v, _ = project(transform_points(odom_to_camera, point[None, :]), camera)
        if not np.isfinite(u[0]):
            return
        centre = (round(u[0] * scale), round(v[0] * scale))
        cv2.circle(image, centre, 3, colour, -1)
        cv2.putText(image, text, (centre[0] + 4, centre[1] - 4), cv2.FONT_HERSHEY_SIMPLEX, 0.35, colour, 1,
                    cv2.LINE_AA)

    def _visibility(self, frame: Frame):
        """Whether a part (centre in `odom`, size) should be seen whole in this frame: inside the image with its
        extent and a margin, in the detection range, and not hidden behind something nearer."""
        odom_to_camera = invert_transform(frame.camera_to_odom)
        cfg_t, cfg_d = self.config.tracking, self.config.detection
        camera, depth = frame.camera, frame.depth

        def expected_visible(point: np.ndarray, size: np.ndarray) -> bool:
            u, v, z = project(transform_points(odom_to_camera, point[None, :]), camera)
            if not np.isfinite(u[0]) or not cfg_d.min_range <= z[0] <= cfg_d.max_range:
                return False
            m = cfg_t.image_margin + camera.fx * float(np.max(size)) / z[0]
            if not (m <= u[0] < camera.width - m and m <= v[0] < camera.height - m):
                return False
            seen = float(depth[round(float(v[0])), round(float(u[0]))])
            return bool(np.isfinite(seen) and seen > 0 and seen >= z[0] - cfg_t.occlusion_margin)

        return expected_visible
