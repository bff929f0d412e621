"""People from OpenCV's Haar frontal-face cascade (shipped inside opencv-python, nothing downloaded) and depth.

Faces are searched only where the depth image sees a surface at head height (a seated to a tall standing person),
which keeps the cascade's cost low when the robot looks at a table. A face box is kept only if the depth in its
middle is valid and the face's metric width, box width times depth over focal length, is that of a human face
(`min_face_width`..`max_face_width`): this rejects face-like texture on objects and in pictures. The person's
position is the face centre in `odom`. People are tracked with a nearest neighbour gate (around where each track's
velocity says the person is now) and held for `hold_time` after they were last seen, so that a person who turns away
for a moment or is seen in every other frame stays reported to safety. Each track's horizontal velocity comes from an
alpha-beta filter over its sightings: with dt since the last sighting, prediction p' = p + v dt, residual
r = z - p', then p = p' + alpha r and v = v + (beta / dt) r (alpha `position_gain`, beta `velocity_gain`), the speed
clamped to `max_speed`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from legion_perception.config import PeopleConfig
from legion_perception.errors import ConfigError
from legion_perception.geometry import CameraIntrinsics, deproject, transform_points

HEAD_SEARCH_STEP = 8
"""[px] sampling step of the depth image when looking for surfaces at head height."""

Box = tuple[int, int, int, int]
"""(u, v, width, height) [px] of an image region."""


@dataclass(frozen=True)
class FaceDetection:
    """A face in one image."""

    box: Box
    """The face's box in the image [px]."""
    position: np.ndarray | None
    """Face centre in `odom` [m], None where the depth is unknown.  # (3,)"""
    width: float
    """Metric width of the face [m] (nan without depth)."""


@dataclass
class Person:
    """A tracked person."""

    number: int
    """Stable number while tracked."""
    position: np.ndarray
    """Face centre in `odom` [m].  # (3,)"""
    face_width: float
    """[m]"""
    last_seen: float
    """[s]"""
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(3))
    """Horizontal velocity of the face centre in `odom` [m/s] (z is 0), from the alpha-beta filter.  # (3,)"""


def cascade_path(name: str) -> Path:
    """A cascade file: a path as given, else the file of that name in OpenCV's bundled `cv2.data.haarcascades`."""
    path = Path(name)
    if path.is_file():
        return path
    return Path(cv2.data.haarcascades) / name


class FaceDetector:
    """Finds faces in colour images and places them in `odom` with the depth image."""

    def __init__(self, config: PeopleConfig):
        self.config = config
        path = cascade_path(config.cascade)
        self.cascade = cv2.CascadeClassifier(str(path))
        if self.cascade.empty():
            raise ConfigError(f"people.cascade: cannot load face cascade {path}")

    def boxes(self, rgb: np.ndarray, regions: list[Box] | None = None) -> list[Box]:
        """Face boxes in a colour image [px], searched in the whole image or only in `regions` (no depth check)."""
        cfg = self.config
        grey = cv2.equalizeHist(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
        found: list[Box] = []
        for u, v, w, h in regions if regions is not None else [(0, 0, grey.shape[1], grey.shape[0])]:
            if w < cfg.min_face_pixels or h < cfg.min_face_pixels:
                continue
            hits = self.cascade.detectMultiScale(grey[v:v + h, u:u + w], scaleFactor=cfg.scale_factor,
                                                 minNeighbors=cfg.min_neighbors,
                                                 minSize=(cfg.min_face_pixels, cfg.min_face_pixels))
            found += [(int(a) + u, int(b) + v, int(c), int(d)) for a, b, c, d in np.asarray(hits).reshape(-1, 4)]
        return _merge_overlapping(found)

    def head_height_regions(self, depth: np.ndarray, camera: CameraIntrinsics,
                            camera_to_odom: np.ndarray) -> list[Box]:
        """Image regions where the depth sees a surface at head height (`min_head_height`..`max_head_height` above
        the floor, within `max_range`), grown by a face's size: the only places a face can be."""
        cfg = self.config
        step = HEAD_SEARCH_STEP
        sub = depth[::step, ::step]
        v, u = np.mgrid[0:sub.shape[0], 0:sub.shape[1]]
        with np.errstate(invalid="ignore"):
            valid = (sub > 0.05) & (sub < cfg.max_range)
        heights = np.full(sub.shape, np.nan)
        points = transform_points(camera_to_odom, deproject(u[valid] * step, v[valid] * step, sub[valid], camera))
        heights[valid] = points[:, 2]
        with np.errstate(invalid="ignore"):
            head = ((heights >= cfg.min_head_height) & (heights <= cfg.max_head_height)).astype(np.uint8)
        if not head.any():
            return []
        grow = max(1, round(cfg.min_face_pixels * 2 / step))
        head = cv2.dilate(head, np.ones((3, 3), np.uint8), iterations=grow)
        count, _, stats, _ = cv2.connectedComponentsWithStats(head, connectivity=8)
        height, width = depth.shape
        regions = []
        for k in range(1, count):
            x, y, w, h = (int(q) * step for q in stats[k, :4])
            regions.append((x, y, min(w + step, width - x), min(h + step, height - y)))
        return regions

    def detect(self, rgb: np.ndarray, depth: np.ndarray, camera: CameraIntrinsics,
               camera_to_odom: np.ndarray, *, everywhere: bool = False) -> list[FaceDetection]:
        """Plausible faces with their odom positions, searched at head height (or `everywhere`). Boxes without
        valid depth are kept (for privacy) with no position; boxes whose metric width is not a face's are dropped."""
        cfg = self.config
        regions = None if everywhere else self.head_height_regions(depth, camera, camera_to_odom)
        faces = []
        for box in self.boxes(rgb, regions):
            u, v, w, h = box
            centre = depth[v + h // 4:v + 3 * h // 4 + 1, u + w // 4:u + 3 * w // 4 + 1]
            with np.errstate(invalid="ignore"):
                good = centre[np.isfinite(centre) & (centre > 0.05) & (centre < cfg.max_range)]
            if len(good) < 4:
                faces.append(FaceDetection(box, None, math.nan))
                continue
            z = float(np.median(good))
            width = w * z / camera.fx
            if not cfg.min_face_width <= width <= cfg.max_face_width:
                continue
            point = deproject(np.array([u + 0.5 * (w - 1)]), np.array([v + 0.5 * (h - 1)]), np.array([z]), camera)
            faces.append(FaceDetection(box, transform_points(camera_to_odom, point)[0], width))
        return faces


def _merge_overlapping(boxes: list[Box]) -> list[Box]:
    """Boxes with the ones that overlap another by more than half of the smaller merged into their union."""
    merged: list[Box] = []
    for box in sorted(boxes, key=lambda b: -b[2] * b[3]):
        u, v, w, h = box
        for i, (mu, mv, mw, mh) in enumerate(merged):
            iw = min(u + w, mu + mw) - max(u, mu)
            ih = min(v + h, mv + mh) - max(v, mv)
            if iw > 0 and ih > 0 and iw * ih > 0.5 * min(w * h, mw * mh):
                u0, v0 = min(u, mu), min(v, mv)
                merged[i] = (u0, v0, max(u + w, mu + mw) - u0, max(v + h, mv + mh) - v0)
                break
        else:
            merged.append(box)
    return merged


class PeopleTracker:
    """Nearest-neighbour tracks of people with a hold time (see the module docstring)."""

    def __init__(self, config: PeopleConfig):
        self.config = config
        self.people: list[Person] = []
        self._next = 1

    def reset(self) -> None:
        self.people.clear()

    def update(self, faces: list[FaceDetection], stamp: float) -> list[Person]:
        """Fold in one detection pass's faces (those with positions) and return the people held."""
        cfg = self.config
        unmatched = list(range(len(self.people)))
        for face in faces:
            if face.position is None:
                continue
            best, best_distance = None, cfg.gate_distance
            for i in unmatched:
                distance = float(np.linalg.norm(self.predicted(self.people[i], stamp)[:2] - face.position[:2]))
                if distance <= best_distance:
                    best, best_distance = i, distance
            if best is None:
                self.people.append(Person(self._next, face.position.copy(), face.width, stamp))
                self._next += 1
            else:
                unmatched.remove(best)
                self._filter(self.people[best], face, stamp)
        self.people = [p for p in self.people if stamp - p.last_seen <= cfg.hold_time]
        return list(self.people)

    @staticmethod
    def predicted(person: Person, stamp: float) -> np.ndarray:
        """Where the person's face is expected at `stamp` [s], from the track's velocity.  # (3,)"""
        return person.position + person.velocity * max(stamp - person.last_seen, 0.0)

    def _filter(self, person: Person, face: FaceDetection, stamp: float) -> None:
        """One alpha-beta update of a track with a sighting (see the module docstring)."""
        cfg = self.config
        dt = stamp - person.last_seen
        if dt <= 1e-6:  # the same instant: take the sighting
            person.position, person.face_width = face.position.copy(), face.width
            return
        predicted = self.predicted(person, stamp)
        residual = face.position - predicted
        person.position = predicted + cfg.position_gain * residual
        person.position[2] = face.position[2]
        velocity = person.velocity + (cfg.velocity_gain / dt) * residual
        velocity[2] = 0.0
        speed = float(np.linalg.norm(velocity[:2]))
        if speed > cfg.max_speed:
            velocity *= cfg.max_speed / speed
        person.velocity = velocity
        person.face_width, person.last_seen = face.width, stamp
