"""Typed, range-checked settings of the perception core, one dataclass per stage.

Every field carries its description and range in its metadata, so that the node can declare each one as a ROS
parameter named `<section>.<field>` (e.g. `detection.max_range`) with that description, and so that one function,
`validate`, checks every range. The defaults are the values of `config/stack.yaml`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from typing import Any

from legion_perception.errors import ConfigError


def _p(default: Any, description: str, lo: float | None = None, hi: float | None = None) -> Any:
    """A settings field with its description and closed range [lo, hi] (for numbers and number arrays)."""
    meta = {"description": description, "min": lo, "max": hi}
    if isinstance(default, tuple):
        return field(default_factory=lambda: default, metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class DetectionConfig:
    """Parts from colour + depth: segmentation, 3D estimation and shape/colour classification."""

    min_range: float = _p(0.2, "Nearest depth used for parts [m].", 0.05, 5.0)
    max_range: float = _p(2.0, "Farthest depth used for parts [m]; farther parts are not reported.", 0.1, 10.0)
    min_saturation: float = _p(0.6, "Lowest HSV saturation of a part's pixel (0..1); excludes wood, grey, white.",
                               0.05, 1.0)
    min_value: float = _p(0.12, "Lowest HSV value (brightness) of a part's pixel (0..1).", 0.0, 1.0)
    colour_names: tuple[str, ...] = _p(("red", "orange", "yellow", "green", "cyan", "blue", "purple", "magenta"),
                                       "Names of the part colours, used in labels (<colour>_<shape>).")
    colour_hues: tuple[float, ...] = _p((0.0, 28.0, 53.0, 130.0, 184.0, 228.0, 278.0, 316.0),
                                        "Hue of each named colour [deg], in the order of colour_names.", 0.0, 360.0)
    hue_tolerance: float = _p(20.0, "Largest hue distance of a pixel from its colour's hue [deg].", 1.0, 60.0)
    min_pixels: int = _p(20, "Smallest colour blob kept [px].", 1, 100000)
    edge_erosion: int = _p(0, "Pixels removed from a blob's edge before using its depth (mixed edge pixels) [px].",
                           0, 5)
    min_points: int = _p(12, "Fewest valid 3D points a part needs.", 3, 100000)
    min_part_size: float = _p(0.01, "Smallest extent of a part [m].", 0.001, 1.0)
    max_part_size: float = _p(0.12, "Largest extent of a part [m]; larger blobs are searched as containers.",
                              0.02, 2.0)
    top_face_tolerance: float = _p(0.004, "Points this close below the highest point form the top face [m].",
                                   0.0005, 0.05)
    sphere_fit_tolerance: float = _p(0.1, "Largest RMS distance to a fitted sphere, as a fraction of its radius, "
                                     "for the part to be a sphere.", 0.0, 1.0)
    circle_fill_max: float = _p(0.88, "Top face area over its bounding rectangle's: below, a cylinder (a disc "
                                "fills pi/4); above, a box.", 0.5, 1.0)
    cube_aspect_max: float = _p(1.3, "Largest ratio of a box's longest to shortest side for the label `cube`.",
                                1.0, 10.0)
    support_ring: int = _p(4, "Width of the ring of pixels around a blob where the supporting surface is read [px].",
                           1, 50)
    support_search: float = _p(0.03, "How far below the blob's lowest point the support may lie [m].", 0.0, 0.5)
    container_wall_margin: float = _p(0.03, "In a large blob (a bin), points this close to its outline are wall [m].",
                                      0.0, 0.2)
    container_floor_tolerance: float = _p(0.008, "Points this close to a bin's floor level are floor [m].",
                                          0.001, 0.05)


@dataclass(frozen=True)
class TrackingConfig:
    """Data association of part detections over frames, with stable ids."""

    gate_distance: float = _p(0.05, "Largest distance between a track and a detection of the same label [m].",
                              0.001, 1.0)
    confirm_hits: int = _p(3, "Detections in a row before a track is published.", 1, 100)
    max_misses: int = _p(5, "Frames in which a visible track is not detected before it is dropped.", 1, 1000)
    position_smoothing: float = _p(0.5, "Weight of a new detection in the track's position (1 = no smoothing).",
                                   0.01, 1.0)
    occlusion_margin: float = _p(0.03, "A track is hidden (not missed) where the depth image sees this much in "
                                 "front of it [m].", 0.0, 1.0)
    image_margin: int = _p(10, "A track this close to the image border is not expected to be seen [px].", 0, 200)


@dataclass(frozen=True)
class ObstacleConfig:
    """Occupancy grid in `odom` from depth, floor removed, centred on the robot."""

    resolution: float = _p(0.05, "Cell size [m].", 0.005, 1.0)
    size: float = _p(8.0, "Side of the square grid, centred on the robot [m].", 0.5, 100.0)
    pixel_step: int = _p(4, "Use every n-th pixel in each direction.", 1, 32)
    max_range: float = _p(4.0, "Farthest depth used [m].", 0.1, 20.0)
    floor_height: float = _p(0.04, "Points lower than this above the floor are floor [m].", 0.0, 0.5)
    max_height: float = _p(2.0, "Points higher than this (above the robot) are ignored [m].", 0.1, 10.0)
    self_radius: float = _p(0.3, "Points this close to the robot base (horizontally) are the robot itself [m].",
                            0.0, 2.0)
    min_points: int = _p(2, "Obstacle points a cell needs in one frame to count as hit.", 1, 1000)
    hit_evidence: int = _p(3, "Evidence added to a cell hit by an obstacle in a frame.", 1, 100)
    free_evidence: int = _p(1, "Evidence removed from a cell where only floor is seen in a frame.", 0, 100)
    max_evidence: int = _p(12, "Evidence saturates at +-this.", 1, 100)
    occupied_threshold: int = _p(3, "Evidence at which a cell is occupied (100); <= 0 with observations is free.",
                                 1, 100)


@dataclass(frozen=True)
class PeopleConfig:
    """People from OpenCV's Haar frontal-face cascade (shipped with OpenCV) and depth."""

    cascade: str = _p("haarcascade_frontalface_default.xml", "Cascade file in cv2.data.haarcascades (or a path).")
    scale_factor: float = _p(1.15, "Cascade image pyramid step.", 1.01, 2.0)
    min_neighbors: int = _p(4, "Cascade detections that must agree.", 1, 50)
    min_face_pixels: int = _p(20, "Smallest face searched [px].", 8, 1000)
    min_face_width: float = _p(0.08, "Smallest plausible face width [m] (from the face's depth).", 0.01, 1.0)
    max_face_width: float = _p(0.40, "Largest plausible face width [m].", 0.02, 2.0)
    max_range: float = _p(6.0, "Farthest face depth [m].", 0.2, 50.0)
    min_head_height: float = _p(0.9, "Lowest height of a face above the floor searched for people [m].", 0.0, 3.0)
    max_head_height: float = _p(2.2, "Highest height of a face above the floor searched for people [m].", 0.1, 5.0)
    hold_time: float = _p(1.5, "A person not seen for this long is dropped [s].", 0.0, 60.0)
    gate_distance: float = _p(0.6, "Largest move of a person between two sightings [m].", 0.01, 10.0)


@dataclass(frozen=True)
class PrivacyConfig:
    """Face anonymisation of every image that leaves the node."""

    face_margin: float = _p(0.3, "Margin added around a face box on each side, as a fraction of its size.", 0.0, 2.0)
    mosaic_cells: int = _p(5, "A face is replaced by a mosaic of this many cells across, then blurred.", 1, 64)
    person_hold_blur: bool = _p(True, "Also blur where a recently seen face is expected but not found in this image.")


@dataclass(frozen=True)
class PerceptionConfig:
    """All the settings of the core."""

    detection: DetectionConfig = field(default_factory=DetectionConfig)
    tracking: TrackingConfig = field(default_factory=TrackingConfig)
    obstacles: ObstacleConfig = field(default_factory=ObstacleConfig)
    people: PeopleConfig = field(default_factory=PeopleConfig)
    privacy: PrivacyConfig = field(default_factory=PrivacyConfig)


SECTIONS: tuple[str, ...] = ("detection", "tracking", "obstacles", "people", "privacy")


def validate(settings: Any, prefix: str = "") -> Any:
    """Check every field of a settings dataclass (recursively) against its range; return it unchanged.

    Raises:
        ConfigError: a value is of the wrong type, non-finite or out of range (the message names it).
    """
    for item in fields(settings):
        value = getattr(settings, item.name)
        name = f"{prefix}{item.name}"
        if hasattr(value, "__dataclass_fields__"):
            validate(value, f"{name}.")
            continue
        lo, hi = item.metadata.get("min"), item.metadata.get("max")
        values = value if isinstance(value, tuple) else (value,)
        for v in values:
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                continue
            if not math.isfinite(v) or (lo is not None and v < lo) or (hi is not None and v > hi):
                raise ConfigError(f"parameter {name} = {value!r} is out of range [{lo}, {hi}]")
    if isinstance(settings, DetectionConfig):
        if len(settings.colour_names) != len(settings.colour_hues) or not settings.colour_names:
            raise ConfigError("detection.colour_names and detection.colour_hues must be non-empty and of equal length")
        if settings.min_range >= settings.max_range:
            raise ConfigError("detection.min_range must be below detection.max_range")
        if settings.min_part_size >= settings.max_part_size:
            raise ConfigError("detection.min_part_size must be below detection.max_part_size")
    if isinstance(settings, PeopleConfig) and settings.min_face_width >= settings.max_face_width:
        raise ConfigError("people.min_face_width must be below people.max_face_width")
    if isinstance(settings, PeopleConfig) and settings.min_head_height >= settings.max_head_height:
        raise ConfigError("people.min_head_height must be below people.max_head_height")
    if isinstance(settings, ObstacleConfig) and settings.floor_height >= settings.max_height:
        raise ConfigError("obstacles.floor_height must be below obstacles.max_height")
    return settings


def flatten(settings: PerceptionConfig) -> dict[str, tuple[Any, str]]:
    """`<section>.<field>` -> (value, description), for declaring ROS parameters."""
    flat = {}
    for section in SECTIONS:
        part = getattr(settings, section)
        for item in fields(part):
            flat[f"{section}.{item.name}"] = (getattr(part, item.name), item.metadata.get("description", ""))
    return flat


def from_flat(values: dict[str, Any], base: PerceptionConfig | None = None) -> PerceptionConfig:
    """A validated PerceptionConfig from `<section>.<field>` -> value (lists become tuples, ints where declared)."""
    base = base or PerceptionConfig()
    sections = {}
    for section in SECTIONS:
        part = getattr(base, section)
        changes = {}
        for item in fields(part):
            key = f"{section}.{item.name}"
            if key not in values:
                continue
            value = values[key]
            default = getattr(part, item.name)
            if isinstance(default, tuple):
                value = tuple(type(default[0])(v) if default else v for v in value)
            elif isinstance(default, bool):
                value = bool(value)
            elif isinstance(default, int):
                if isinstance(value, float) and not value.is_integer():
                    raise ConfigError(f"parameter {key} must be an integer, got {value!r}")
                value = int(value)
            elif isinstance(default, float):
                value = float(value)
            changes[item.name] = value
        sections[section] = replace(part, **changes)
    return validate(PerceptionConfig(**sections))
