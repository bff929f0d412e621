"""Part tracks over frames: nearest-neighbour association per label, with stable ids and confirm/drop rules.

A detection that matches no track starts a tentative track, unless its top face is partly hidden (then its shape,
centre and size are unreliable: it only refreshes a track of its colour). A tentative track is confirmed after
`confirm_hits` consecutive detections and only then gets an id (`<label>_<n>`, n counting from 1 per label, never
reused), so a one-frame false detection never reaches the output. A tentative track missed once is dropped. A
confirmed track is missed only in frames where it is expected to be seen whole (inside the image, in range and not
hidden behind something nearer: the caller's `expected_visible`); after `max_misses` such frames in a row it is
dropped. Parts out of view are kept, so the robot remembers the parts it has looked away from.

Containers (bins, `PartDetection.is_container`) are tracked the same way under their own labels (`red_bin_1`), with
`container_gate_distance`: they are large and static, and their centres lie far apart. A container's detection
never refreshes a part's track, nor a part's a container's, even partly hidden (matched by colour alone).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from legion_common.transforms import wrap_angle
from legion_perception.config import TrackingConfig
from legion_perception.detection import CONTAINER_SHAPE, PartDetection


@dataclass
class PartTrack:
    """One tracked part or container (position and yaw in `odom`, see PartDetection)."""

    label: str
    colour: str
    shape: str
    position: np.ndarray
    """Smoothed centre in `odom` [m].  # (3,)"""
    yaw: float
    """[rad], see PartDetection.yaw."""
    size: np.ndarray
    """[m]  # (3,)"""
    confidence: float
    last_seen: float
    """Time of the last detection [s]."""
    id: str = ""
    """Stable id, set when the track is confirmed."""
    hits: int = 1
    misses: int = 0
    seen_now: bool = True
    """Whether the latest update detected it."""
    pixel_box: tuple[int, int, int, int] = (0, 0, 0, 0)

    @property
    def confirmed(self) -> bool:
        return bool(self.id)

    @property
    def is_container(self) -> bool:
        """Whether this tracks a container (a bin), not a part."""
        return self.shape == CONTAINER_SHAPE


class PartTracker:
    """Keeps the part tracks (see the module docstring)."""

    def __init__(self, config: TrackingConfig):
        self.config = config
        self.tracks: list[PartTrack] = []
        self._next_number: dict[str, int] = {}

    def reset(self) -> None:
        self.tracks.clear()
        self._next_number.clear()

    def update(self, detections: Sequence[PartDetection], stamp: float,
               expected_visible: Callable[[np.ndarray, np.ndarray], bool] | None = None) -> list[PartTrack]:
        """Fold one frame's detections in; return the confirmed tracks.

        Args:
            detections: the frame's parts.
            stamp: the frame's time [s].
            expected_visible: whether a part (centre in `odom` [m], size [m]) should have been seen whole in this
                frame; None = always.
        """
        cfg = self.config
        pairs = []
        for ti, track in enumerate(self.tracks):
            for di, detection in enumerate(detections):
                # A partly hidden part may look like another shape of its colour: it matches by colour alone.
                same = detection.colour == track.colour if detection.occluded else detection.label == track.label
                if not same or detection.is_container != track.is_container:  # a bin is never a part, nor back
                    continue
                distance = float(np.linalg.norm(detection.position - track.position))
                gate = cfg.container_gate_distance if detection.is_container else cfg.gate_distance
                if distance <= gate:
                    pairs.append((distance, ti, di))
        pairs.sort()
        matched_tracks: set[int] = set()
        matched_detections: set[int] = set()
        for _, ti, di in pairs:
            if ti in matched_tracks or di in matched_detections:
                continue
            matched_tracks.add(ti)
            matched_detections.add(di)
            self._correct(self.tracks[ti], detections[di], stamp)

        survivors = []
        for ti, track in enumerate(self.tracks):
            if ti in matched_tracks:
                survivors.append(track)
                continue
            track.seen_now = False
            if not track.confirmed:
                continue  # a tentative track missed once is dropped
            if expected_visible is None or expected_visible(track.position, track.size):
                track.misses += 1
            if track.misses <= cfg.max_misses:
                survivors.append(track)
        for di, detection in enumerate(detections):
            if di not in matched_detections and not detection.occluded:  # only a part seen whole starts a track
                survivors.append(PartTrack(label=detection.label, colour=detection.colour, shape=detection.shape,
                                           position=detection.position.copy(), yaw=detection.yaw,
                                           size=detection.size.copy(), confidence=detection.confidence,
                                           last_seen=stamp, pixel_box=detection.pixel_box))
        self.tracks = survivors
        for track in self.tracks:
            if not track.confirmed and track.hits >= cfg.confirm_hits:
                number = self._next_number.get(track.label, 1)
                self._next_number[track.label] = number + 1
                track.id = f"{track.label}_{number}"
        return self.confirmed()

    def confirmed(self) -> list[PartTrack]:
        return sorted((t for t in self.tracks if t.confirmed), key=lambda t: t.id)

    def _correct(self, track: PartTrack, detection: PartDetection, stamp: float) -> None:
        track.hits += 1
        track.misses = 0
        track.seen_now = True
        track.last_seen = stamp
        track.pixel_box = detection.pixel_box
        if detection.occluded and track.confirmed:
            return  # seen, but partly hidden: its estimate is worse than what the track knows
        a = self.config.position_smoothing
        track.position = (1.0 - a) * track.position + a * detection.position
        period = math.pi / 2.0 if detection.shape in ("box", CONTAINER_SHAPE) else 2.0 * math.pi
        track.yaw = wrap_angle(track.yaw + a * wrap_angle(detection.yaw - track.yaw, period), period)
        track.size = (1.0 - a) * track.size + a * detection.size
        track.confidence = (1.0 - a) * track.confidence + a * detection.confidence
