"""Typed, range-checked parameters of the perception node and its core, one dataclass per stage.

The fields are `legion_common.parameters.param` fields (default, description, unit, range); the groups of
`PerceptionConfig` give the dotted ROS parameter names `config/stack.yaml` uses (`detection.max_range`), and
`NodeParameters` holds the node's own (`robot`, the rates). Read them with `legion_common.parameters`:
`declare_parameters(node, PerceptionConfig)` in the node, `from_flat(PerceptionConfig, {...})` in cores and tests.
The defaults are the values of `config/stack.yaml`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from legion_common.frames import frame_prefix_param
from legion_common.parameters import param, require


@dataclass(frozen=True)
class DetectionConfig:
    """Parts from colour + depth: segmentation, 3D estimation and shape/colour classification."""

    depth_filter_size: int = param(3, "Side of the median filter applied to the depth image before parts are "
                                   "measured (stereo depth noise); 0 or 1: none; 3 or 5.", unit="px", low=0,
                                   high=5)
    min_range: float = param(0.2, "Nearest depth used for parts.", unit="m", low=0.05, high=5.0)
    max_range: float = param(2.0, "Farthest depth used for parts; farther parts are not reported.", unit="m",
                             low=0.1, high=10.0)
    min_saturation: float = param(0.6, "Lowest HSV saturation of a part's pixel; excludes wood, grey, white.",
                                  low=0.05, high=1.0)
    min_value: float = param(0.12, "Lowest HSV value (brightness) of a part's pixel.", low=0.0, high=1.0)
    colour_names: tuple[str, ...] = param(("red", "orange", "yellow", "green", "cyan", "blue", "purple", "magenta"),
                                          "Names of the part colours, used in labels (<colour>_<shape>).")
    colour_hues: tuple[float, ...] = param((0.0, 28.0, 53.0, 130.0, 184.0, 228.0, 278.0, 316.0),
                                           "Hue of each named colour, in the order of colour_names.", unit="deg",
                                           low=0.0, high=360.0)
    hue_tolerance: float = param(20.0, "Largest hue distance of a pixel from its colour's hue.", unit="deg",
                                 low=1.0, high=60.0)
    min_pixels: int = param(20, "Smallest colour blob kept.", unit="px", low=1, high=100000)
    edge_erosion: int = param(0, "Pixels removed from a blob's edge before using its depth (mixed edge pixels).",
                              unit="px", low=0, high=5)
    min_points: int = param(12, "Fewest valid 3D points a part needs.", low=3, high=100000)
    min_part_size: float = param(0.01, "Smallest extent of a part.", unit="m", low=0.001, high=1.0)
    max_part_size: float = param(0.12, "Largest extent of a part; larger blobs are searched as containers.",
                                 unit="m", low=0.02, high=2.0)
    top_face_tolerance: float = param(0.004, "Points this close below the highest point form the top face.",
                                      unit="m", low=0.0005, high=0.05)
    sphere_fit_tolerance: float = param(0.1, "Largest RMS distance to a fitted sphere, as a fraction of its radius, "
                                        "for the part to be a sphere.", low=0.0, high=1.0)
    circle_fill_max: float = param(0.85, "Top face area over its bounding rectangle's: below, a cylinder (a disc "
                                   "fills pi/4); above, a box.", low=0.5, high=1.0)
    cube_aspect_max: float = param(1.3, "Largest ratio of a box's longest to shortest side for the label `cube`.",
                                   low=1.0, high=10.0)
    support_ring: int = param(4, "Width of the ring of pixels around a blob where the supporting surface is read.",
                              unit="px", low=1, high=50)
    support_search: float = param(0.03, "How far below the blob's lowest point the support may lie.", unit="m",
                                  low=0.0, high=0.5)
    container_wall_margin: float = param(0.03, "In a large blob (a bin), points this close to its outline are wall.",
                                         unit="m", low=0.0, high=0.2)
    container_floor_tolerance: float = param(0.008, "Points this close to a bin's floor level are floor.", unit="m",
                                             low=0.001, high=0.05)
    min_container_depth: float = param(0.03, "Smallest height of a large blob's rim above its floor for it to be "
                                       "reported as a container (a bin); a flat slab is none.", unit="m", low=0.005,
                                       high=1.0)
    max_container_size: float = param(1.0, "Largest extent of a container; a larger blob is not reported as one.",
                                      unit="m", low=0.05, high=5.0)

    def validated(self) -> DetectionConfig:
        require(bool(self.colour_names) and len(self.colour_names) == len(self.colour_hues),
                "detection.colour_names and detection.colour_hues must be non-empty and of equal length")
        require(self.min_range < self.max_range, "detection.min_range must be below detection.max_range")
        require(self.min_part_size < self.max_part_size,
                "detection.min_part_size must be below detection.max_part_size")
        require(self.max_part_size < self.max_container_size,
                "detection.max_part_size must be below detection.max_container_size")
        return self


@dataclass(frozen=True)
class TrackingConfig:
    """Data association of part detections over frames, with stable ids."""

    gate_distance: float = param(0.05, "Largest distance between a track and a detection of the same label.",
                                 unit="m", low=0.001, high=1.0)
    container_gate_distance: float = param(0.10, "Largest distance between a container's (a bin's) track and a "
                                           "detection of the same label: containers are large and static, their "
                                           "centres lie far apart.", unit="m", low=0.001, high=2.0)
    confirm_hits: int = param(3, "Detections in a row before a track is published.", low=1, high=100)
    max_misses: int = param(5, "Frames in which a visible track is not detected before it is dropped.", low=1,
                            high=1000)
    position_smoothing: float = param(0.5, "Weight of a new detection in the track's position (1 = no smoothing).",
                                      low=0.01, high=1.0)
    occlusion_margin: float = param(0.03, "A track is hidden (not missed) where the depth image sees this much in "
                                    "front of it.", unit="m", low=0.0, high=1.0)
    image_margin: int = param(10, "A track this close to the image border is not expected to be seen.", unit="px",
                              low=0, high=200)


@dataclass(frozen=True)
class ObstacleConfig:
    """Occupancy grid in `odom` from depth, floor removed, centred on the robot."""

    resolution: float = param(0.05, "Cell size.", unit="m", low=0.005, high=1.0)
    size: float = param(8.0, "Side of the square grid, centred on the robot.", unit="m", low=0.5, high=100.0)
    pixel_step: int = param(4, "Use every n-th pixel in each direction.", low=1, high=32)
    max_range: float = param(3.5, "Farthest depth used (stereo depth noise grows with the square of range).",
                             unit="m", low=0.1, high=20.0)
    floor_height: float = param(0.10, "Points lower than this above the floor are floor (depth noise and the "
                                      "camera pose's error while walking lift far floor points by several cm).",
                                unit="m", low=0.0, high=0.5)
    max_height: float = param(2.0, "Points higher than this (above the robot) are ignored.", unit="m", low=0.1,
                              high=10.0)
    self_radius: float = param(0.3, "Points this close to the robot base (horizontally) are the robot itself.",
                               unit="m", low=0.0, high=2.0)
    arm_radius: float = param(0.12, "Points this close to an arm (the segments between its joints, shoulder to "
                              "gripper) are the robot's own arm.", unit="m", low=0.0, high=1.0)
    hand_radius: float = param(0.2, "Points this close to a gripper frame are the robot's hand or what it holds.",
                               unit="m", low=0.0, high=1.0)
    min_points: int = param(2, "Obstacle points a cell needs in one frame to count as hit.", low=1, high=1000)
    hit_evidence: int = param(3, "Evidence added to a cell hit by an obstacle in a frame.", low=1, high=100)
    free_evidence: int = param(1, "Evidence removed from a cell where only floor is seen in a frame.", low=0,
                               high=100)
    max_evidence: int = param(12, "Evidence saturates at +-this.", low=1, high=100)
    occupied_threshold: int = param(3, "Evidence at which a cell is occupied (100); <= 0 with observations is free.",
                                    low=1, high=100)

    def validated(self) -> ObstacleConfig:
        require(self.floor_height < self.max_height, "obstacles.floor_height must be below obstacles.max_height")
        return self


@dataclass(frozen=True)
class PeopleConfig:
    """People from OpenCV's Haar frontal-face cascade (shipped with OpenCV) and depth."""

    cascade: str = param("haarcascade_frontalface_default.xml", "Cascade file in cv2.data.haarcascades (or a path).")
    scale_factor: float = param(1.15, "Cascade image pyramid step.", low=1.01, high=2.0)
    min_neighbors: int = param(4, "Cascade detections that must agree.", low=1, high=50)
    min_face_pixels: int = param(20, "Smallest face searched.", unit="px", low=8, high=1000)
    min_face_width: float = param(0.08, "Smallest plausible face width (from the face's depth).", unit="m",
                                  low=0.01, high=1.0)
    max_face_width: float = param(0.40, "Largest plausible face width.", unit="m", low=0.02, high=2.0)
    max_range: float = param(6.0, "Farthest face depth.", unit="m", low=0.2, high=50.0)
    min_head_height: float = param(0.9, "Lowest height of a face above the floor searched for people.", unit="m",
                                   low=0.0, high=3.0)
    max_head_height: float = param(2.2, "Highest height of a face above the floor searched for people.", unit="m",
                                   low=0.1, high=5.0)
    hold_time: float = param(1.5, "A person not seen for this long is dropped.", unit="s", low=0.0, high=60.0)
    gate_distance: float = param(0.6, "Largest move of a person between two sightings.", unit="m", low=0.01,
                                 high=10.0)
    position_gain: float = param(0.7, "Alpha of the person's alpha-beta filter: weight of a sighting in the "
                                      "position.", low=0.01, high=1.0)
    velocity_gain: float = param(0.3, "Beta of the person's alpha-beta filter: weight of a sighting's residual in "
                                      "the velocity.", low=0.0, high=2.0)
    max_speed: float = param(4.0, "A person's estimated horizontal speed is clamped to this.", unit="m/s",
                             low=0.1, high=20.0)

    def validated(self) -> PeopleConfig:
        require(self.min_face_width < self.max_face_width, "people.min_face_width must be below people.max_face_width")
        require(self.min_head_height < self.max_head_height,
                "people.min_head_height must be below people.max_head_height")
        return self


@dataclass(frozen=True)
class PrivacyConfig:
    """Face anonymisation of every image that leaves the node."""

    face_margin: float = param(0.3, "Margin added around a face box on each side, as a fraction of its size.",
                               low=0.0, high=2.0)
    mosaic_cells: int = param(5, "A face is replaced by a mosaic of this many cells across, then blurred.", low=1,
                              high=64)
    person_hold_blur: bool = param(True, "Also blur where a recently seen face is expected but not found in this "
                                   "image.")


@dataclass(frozen=True)
class PerceptionConfig:
    """All the settings of the core, as the groups `detection.*`, `tracking.*`, `obstacles.*`, `people.*` and
    `privacy.*`."""

    detection: DetectionConfig = field(default_factory=DetectionConfig)
    tracking: TrackingConfig = field(default_factory=TrackingConfig)
    obstacles: ObstacleConfig = field(default_factory=ObstacleConfig)
    people: PeopleConfig = field(default_factory=PeopleConfig)
    privacy: PrivacyConfig = field(default_factory=PrivacyConfig)


@dataclass(frozen=True)
class NodeParameters:
    """The perception node's own parameters (the core's are those of `PerceptionConfig`)."""

    robot: str = param("centurion", "Robot name (config/robots/<robot>.yaml, urdf/<robot>.urdf.xacro): camera frame "
                       "and kinematics.")
    frame_prefix: str = frame_prefix_param()
    process_rate: float = param(10.0, "Rate of the processing timer; each tick processes the newest new frame.",
                                unit="Hz", low=0.1, high=100.0)
    sync_tolerance: float = param(0.02, "Largest stamp difference between the colour and depth images of a frame.",
                                  unit="s", low=0.0, high=1.0)
    state_buffer_length: float = param(2.0, "History of odom / joint_states samples kept to place frames in time.",
                                       unit="s", low=0.1, high=60.0)
    state_tolerance: float = param(0.001, "A frame stamped at most this much after the newest odom / joint_states "
                                   "sample uses that sample (held, not extrapolated); a later frame waits for its "
                                   "state.", unit="s", low=0.0, high=1.0)
    state_max_gap: float = param(0.1, "Largest time between the two odom (or joint_states) samples a frame's "
                                 "camera pose is interpolated between; across a longer gap the frame is dropped.",
                                 unit="s", low=0.001, high=5.0)
    state_wait: float = param(0.5, "Longest wall time a frame waits for the state at its stamp to arrive before it "
                              "is dropped (reason `state_late`, or `no_state` before any state).", unit="s",
                              low=0.0, high=10.0)
    people_rate: float = param(5.0, "Face detection (and perception/people) rate; 0 = only on images that leave the "
                               "node.", unit="Hz", low=0.0, high=100.0)
    obstacles_rate: float = param(5.0, "Obstacle grid rate; 0 disables perception/obstacles.", unit="Hz", low=0.0,
                                  high=100.0)
    debug_image_rate: float = param(2.0, "Annotated, face-anonymised debug image rate; 0 disables "
                                    "perception/debug_image.", unit="Hz", low=0.0, high=30.0)
    debug_image_scale: float = param(0.5, "Debug image size relative to the camera image.", low=0.1, high=1.0)
    marker_rate: float = param(2.0, "Rate of `perception/markers` (parts, containers, labels), published only while "
                               "subscribed; 0 disables them.", unit="Hz", low=0.0, high=30.0)
    diagnostics_rate: float = param(1.0, "Diagnostics rate.", unit="Hz", low=0.1, high=10.0)

    def validated(self) -> NodeParameters:
        require(bool(self.robot), "robot must not be empty")
        return self
