"""Parts on tables and in bins, and the bins themselves, from one registered colour + depth frame.

Pipeline (all in `PartDetector.detect`):

1. Pixels with a saturated colour and a depth in [min_range, max_range] (or no depth: a sensor's dropout) are
   labelled with the nearest named hue (HSV); depth discontinuities are cut out so that parts at different depths
   do not merge. A clipped (over-exposed) pixel takes the colour of its nearest unclipped neighbour of similar hue.
2. Each connected blob of one colour is deprojected with the camera intrinsics (eroded by a pixel: edge pixels mix
   colours and depths) and transformed into `odom` with the camera pose.
3. A blob no larger than a part is a part. Its shape is a sphere if a sphere fits its points; otherwise its top face
   (the points within `top_face_tolerance` of the highest) is a disc (cylinder) or a rectangle (box). The top face
   gives the centre in x, y, the yaw and the footprint; the height is the top face minus the supporting surface,
   read from a ring of pixels around the blob.
4. A larger blob is searched as a container (a bin): its outline is the minimum-area rectangle of its points
   projected on the floor plane; the points farther than `container_wall_margin` inside it must show a dominant
   horizontal floor (else it is no container: a shirt, a wall). Walls and floor removed, the blobs that stand on
   its floor are parts. If its rim (the highest points) stands at least `min_container_depth` above that floor and
   the outline is at most `max_container_size`, the container itself is reported too (shape `bin`): centre of
   its opening at rim height, yaw and outer extents of the outline, height = rim above its floor (the wall height
   inside). It has the colour of its blob, so a part and a container never share a label. The rim is read robustly
   (the median of the walls' tops, `PartDetector._rim_level`): the blob's points more than RIM_TOLERANCE above it
   are a part of the bin's colour lying across its rim, reported as a part resting on the rim and left out of the
   container's outline and rim.

A blob cut by the image border gives nothing (neither a part nor a container, nor the parts in it): its extent and
centre would be wrong. One partly hidden behind something nearer is flagged `occluded` (half the confidence; the
tracker starts no track from it).

The label is `<colour>_<shape>` with shape `cube` (a box with nearly equal sides), `box`, `cylinder`, `sphere` or
`bin` (a container).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from legion_common.transforms import wrap_angle
from legion_perception.config import DetectionConfig
from legion_perception.errors import InputError
from legion_perception.geometry import CameraIntrinsics, deproject, transform_points

_NO_COLOUR = 255
CONTAINER_SHAPE = "bin"
"""Shape (and label suffix) of a container: an open box that parts are put into."""
_KERNEL3 = np.ones((3, 3), np.uint8)


@dataclass(frozen=True)
class PartDetection:
    """One part seen in one frame."""

    label: str
    """Class, `<colour>_<shape>`, e.g. `red_cube` or, for a container, `red_bin`."""
    colour: str
    shape: str
    """Geometric shape: `box`, `cylinder` or `sphere`; `bin` (CONTAINER_SHAPE) for a container."""
    position: np.ndarray
    """Centre of the part in `odom` [m]; of a container, the centre of its opening at rim height.  # (3,)"""
    yaw: float
    """Heading of the part's x axis about odom z [rad]: in [-pi/4, pi/4) for a box or a container, 0 for round
    parts."""
    size: np.ndarray
    """Extent along the part's own x, y, z axes [m]; of a container, the outer extents of its outline and, in z,
    its rim's height above its floor.  # (3,)"""
    confidence: float
    """0..1, from the number of points and the fit."""
    pixel_box: tuple[int, int, int, int]
    """(u, v, width, height) of the blob in the image [px]."""
    points: int
    """Number of 3D points used."""
    occluded: bool = False
    """Something nearer hides part of it: its centre and size may be off (the tracker does not move a confirmed
    track to an occluded detection)."""

    @property
    def is_container(self) -> bool:
        """Whether this is a container (a bin), not a part."""
        return self.shape == CONTAINER_SHAPE


@dataclass(frozen=True)
class _Blob:
    colour: str
    u: np.ndarray  # (n,) pixel columns of the eroded blob with valid depth
    v: np.ndarray  # (n,) pixel rows
    points: np.ndarray  # (n, 3) in odom
    pixel_box: tuple[int, int, int, int]


def hue_lookup(config: DetectionConfig) -> np.ndarray:
    """Table from OpenCV's full-range hue (0..255) to the index of the nearest named colour, or 255 if none is
    within `hue_tolerance`.  # (256,) uint8"""
    degrees = np.arange(256) * 360.0 / 256.0
    hues = np.asarray(config.colour_hues, dtype=float)
    distance = np.abs((degrees[:, None] - hues[None, :] + 180.0) % 360.0 - 180.0)  # (256, k)
    nearest = distance.argmin(axis=1)
    table = np.where(distance[np.arange(256), nearest] <= config.hue_tolerance, nearest, _NO_COLOUR)
    return table.astype(np.uint8)


def _algebraic_fit(points: np.ndarray) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
    """Least-squares n-sphere through points  # (k, n): (centre about the mean (n,), squared radius, the points
    about their mean (k, n), their mean (n,)).

    Solves |p|^2 = 2 c.p + (r^2 - |c|^2) linearly, about the points' mean for conditioning.
    """
    mean = points.mean(axis=0)
    p = points - mean
    a = np.hstack([2.0 * p, np.ones((len(p), 1))])
    b = (p * p).sum(axis=1)
    solution, *_ = np.linalg.lstsq(a, b, rcond=None)
    centre = solution[:-1]
    return centre, float(solution[-1] + centre @ centre), p, mean


def fit_sphere(points: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Least-squares sphere through points: (centre [m] (3,), radius [m], RMS distance to the surface [m])."""
    centre, radius_sq, p, mean = _algebraic_fit(points)
    if not math.isfinite(radius_sq) or radius_sq <= 0:
        return centre + mean, math.inf, math.inf
    radius = math.sqrt(radius_sq)
    rms = float(np.sqrt(np.mean((np.linalg.norm(p - centre, axis=1) - radius) ** 2)))
    return centre + mean, radius, rms


def fit_circle(xy: np.ndarray) -> tuple[np.ndarray, float]:
    """Least-squares circle through 2D points: (centre [m] (2,), radius [m])."""
    centre, radius_sq, _, mean = _algebraic_fit(xy)
    return centre + mean, math.sqrt(max(radius_sq, 0.0))


def depth_edges(depth: np.ndarray, jump: float) -> np.ndarray:
    """Pixels on the far side of a depth jump larger than `jump` times the depth: the background next to an
    occluding edge, where a real sensor's depth mixes both surfaces.  # (H, W) bool"""
    edges = np.zeros(depth.shape, dtype=bool)
    with np.errstate(invalid="ignore"):
        du = np.diff(depth, axis=1)  # depth[:, 1:] - depth[:, :-1]
        limit = jump * np.fmin(depth[:, 1:], depth[:, :-1])
        edges[:, 1:] |= du > limit  # right pixel farther
        edges[:, :-1] |= -du > limit  # left pixel farther
        dv = np.diff(depth, axis=0)
        limit = jump * np.fmin(depth[1:, :], depth[:-1, :])
        edges[1:, :] |= dv > limit
        edges[:-1, :] |= -dv > limit
    return edges


DEPTH_JUMP = 0.02
"""Relative depth step (2 % of the depth: 2 cm at 1 m) that separates two surfaces."""
OCCLUSION_MARGIN = 0.015
"""[m] a surface next to a blob and this much nearer than the blob there hides part of it."""


def is_occluded(u: np.ndarray, v: np.ndarray, depth: np.ndarray, margin: float = OCCLUSION_MARGIN,
                blob_u: np.ndarray | None = None, blob_v: np.ndarray | None = None) -> bool:
    """Whether an occluder cuts the surface at pixels (u, v): pixels within 2 px of them, outside the whole blob
    (pixels blob_u, blob_v; default the same), that see something `margin` nearer than the surface next to them."""
    blob_u = u if blob_u is None else blob_u
    blob_v = v if blob_v is None else blob_v
    height, width = depth.shape
    u0, v0 = max(int(u.min()) - 3, 0), max(int(v.min()) - 3, 0)
    u1, v1 = min(int(u.max()) + 4, width), min(int(v.max()) + 4, height)
    window = depth[v0:v1, u0:u1]
    far = np.float32(1e6)  # stands for "no surface pixel here" (OpenCV's min filter turns inf into FLT_MAX)
    surface = np.full(window.shape, far, np.float32)
    surface[v - v0, u - u0] = depth[v, u]
    near_surface = cv2.erode(surface, _KERNEL3, iterations=2)  # nearest surface depth within 2 px
    outside = np.ones(window.shape, bool)
    inside = (blob_u >= u0) & (blob_u < u1) & (blob_v >= v0) & (blob_v < v1)
    outside[blob_v[inside] - v0, blob_u[inside] - u0] = False
    ring = outside & (surface == far) & (near_surface < far)
    with np.errstate(invalid="ignore"):
        front = window[ring] < near_surface[ring] - margin
    return int(front.sum()) >= 3


CLIPPED_VALUE = 250
"""A pixel whose brightest channel reaches this (0..255) is clipped: its hue is bent towards the other channels'."""


CLIP_HUE_SHIFT = 25.0
"""[deg] the most clipping bends a hue: a clipped pixel only takes a neighbour's colour this close to its own hue."""


def _relabel_clipped(colours: np.ndarray, hue: np.ndarray, region: np.ndarray, clipped: np.ndarray,
                     colour_hues: np.ndarray) -> np.ndarray:
    """Colour indices of one region with each clipped pixel given the colour of the nearest unclipped, coloured
    pixel of the region if that colour's hue is within CLIP_HUE_SHIFT of the pixel's own (a brightly lit top face
    takes the colour of the part's shaded sides, not of a neighbouring part). Unchanged without such pixels.

    Args:
        colours: colour index per pixel (255: none).  # (h, w) uint8
        hue: OpenCV full-range hue (0..255).  # (h, w) uint8
        region, clipped: masks of the region and of its clipped pixels.  # (h, w) bool
        colour_hues: hue of each colour index [deg].  # (k,)
    """
    reliable = region & ~clipped & (colours != _NO_COLOUR)
    if not reliable.any():
        return colours
    _, nearest = cv2.distanceTransformWithLabels((~reliable).view(np.uint8), cv2.DIST_L2, 3,
                                                 labelType=cv2.DIST_LABEL_PIXEL)
    source = colours[reliable]  # raster order, as OpenCV numbers the zero pixels
    proposed = source[nearest[clipped] - 1]
    own_hue = hue[clipped].astype(float) * (360.0 / 256.0)
    shift = np.abs((own_hue - colour_hues[proposed] + 180.0) % 360.0 - 180.0)
    out = colours.copy()
    out[clipped] = np.where(shift <= CLIP_HUE_SHIFT, proposed, colours[clipped])
    return out


CONTAINER_CELL = 0.01
"""[m] side of the floor-plane cells a container's points are counted in to find stray points."""
RIM_TOLERANCE = 0.015
"""[m] a container's points this far above its rim (robust level: `PartDetector._rim_level`) are something lying on
the rim, not its walls."""
OUTLINE_CLOSING = 2
"""Iterations of a 3x3 closing of a container's image mask before its holes are filled for the occlusion test: gaps
of up to about twice this many pixels wide (a part's unlit flank) are not taken for an occluder."""
CONTAINER_CELL_POINTS = 3
"""A container's point in a cell with fewer points is a stray one (a pixel mixing its colour with the depth of a
nearer surface), left out of its outline. Its walls are vertical, so many points project into each cell of its
outline."""


def container_outline(xy: np.ndarray, cell: float, min_points: int
                      ) -> tuple[tuple[float, float], tuple[float, float], float, np.ndarray]:
    """Outline of a container from its points projected on the floor plane  # (n, 2) [m]: cv2.minAreaRect's centre
    (x, y) [m], (width, height) [m] and angle [deg] of the points in floor cells of side `cell` [m] holding at
    least `min_points` of them, and those points [mm].  # (k, 2) float32"""
    cells = np.floor(xy / cell).astype(np.int64)
    _, inverse, counts = np.unique(cells, axis=0, return_inverse=True, return_counts=True)
    kept = xy[counts[inverse.ravel()] >= min_points]
    if len(kept) < 3:
        kept = xy
    xy_mm = (kept * 1000.0).astype(np.float32)  # OpenCV's geometry prefers pixel-like magnitudes
    (cx, cy), (lx, ly), angle = cv2.minAreaRect(xy_mm)
    return (cx / 1000.0, cy / 1000.0), (lx / 1000.0, ly / 1000.0), float(angle), xy_mm


class PartDetector:
    """Detects parts in registered colour + depth frames (see the module docstring)."""

    def __init__(self, config: DetectionConfig):
        self.config = config
        self._lookup = hue_lookup(config)
        self._names = tuple(config.colour_names)
        self._hues = np.asarray(config.colour_hues, dtype=float)

    # -------------------------------------------------------------------------------------------- entry point

    def detect(self, rgb: np.ndarray, depth: np.ndarray, camera: CameraIntrinsics,
               camera_to_odom: np.ndarray) -> list[PartDetection]:
        """The parts and the containers (`is_container`) in one frame.

        Args:
            rgb: colour image.  # (H, W, 3) uint8
            depth: z-depth registered to the colour image [m]; NaN, inf or 0 where unknown.  # (H, W) float32
            camera: intrinsics of both images.
            camera_to_odom: pose of the camera optical frame in `odom`.  # (4, 4)

        Raises:
            InputError: the images' shapes or types do not match each other or the intrinsics.
        """
        check_frame(rgb, depth, camera)
        cfg = self.config
        depth = smooth_depth(np.asarray(depth, dtype=np.float32), cfg.depth_filter_size)
        self._depth = depth
        with np.errstate(invalid="ignore"):
            known = np.isfinite(depth) & (depth > 0.0)
            valid = (depth > cfg.min_range) & (depth < cfg.max_range)
        # Colour blobs run across depth dropouts (NaN, 0: a real sensor's holes) but are cut at occlusion edges and
        # end where the depth leaves the range; only pixels with a valid depth give points.
        edges = depth_edges(depth, DEPTH_JUMP)
        valid &= ~edges
        segmentable = valid | ~known
        hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV_FULL)
        chroma = ((hsv[..., 1] >= cfg.min_saturation * 255.0) & (hsv[..., 2] >= cfg.min_value * 255.0)
                  & segmentable)
        colour_index = self._lookup[hsv[..., 0]]
        colour_index[~chroma] = _NO_COLOUR
        clipped = chroma & (hsv[..., 2] >= CLIPPED_VALUE)

        # Coloured regions first (one labelling of the whole image), then blobs of one colour inside each region.
        count, regions, stats, _ = cv2.connectedComponentsWithStats(chroma.view(np.uint8), connectivity=8)
        detections: list[PartDetection] = []
        for k in range(1, count):
            if stats[k, cv2.CC_STAT_AREA] < cfg.min_pixels:
                continue
            x0, y0, w, h = (int(q) for q in stats[k, :4])
            in_region = regions[y0:y0 + h, x0:x0 + w] == k
            colours = colour_index[y0:y0 + h, x0:x0 + w]
            region_clipped = in_region & clipped[y0:y0 + h, x0:x0 + w]
            if region_clipped.any():
                colours = _relabel_clipped(colours, hsv[y0:y0 + h, x0:x0 + w, 0], in_region, region_clipped,
                                           self._hues)
            present = np.bincount(colours[in_region], minlength=256)
            for index in np.flatnonzero(present[:len(self._names)] >= cfg.min_pixels):
                mask = (in_region & (colours == index)).view(np.uint8)
                n, blobs, blob_stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
                for b in range(1, n):
                    if blob_stats[b, cv2.CC_STAT_AREA] < cfg.min_pixels:
                        continue
                    bx, by, bw, bh = (int(q) for q in blob_stats[b, :4])
                    blob_mask = blobs[by:by + bh, bx:bx + bw] == b
                    detections.extend(self._blob_parts(self._names[index], blob_mask, (x0 + bx, y0 + by, bw, bh),
                                                       depth, valid, camera, camera_to_odom))
        return detections

    # -------------------------------------------------------------------------------------------- per blob

    def _blob_parts(self, colour: str, blob_mask: np.ndarray, box: tuple[int, int, int, int], depth: np.ndarray,
                    valid: np.ndarray, camera: CameraIntrinsics, camera_to_odom: np.ndarray) -> list[PartDetection]:
        """Parts, or a container and the parts in it, from one connected blob of one colour: `blob_mask` (h, w) bool
        covers image box (u, v, w, h)."""
        cfg = self.config
        x0, y0, w, h = box
        height, width = depth.shape
        if x0 <= 0 or y0 <= 0 or x0 + w >= width or y0 + h >= height:
            return []  # cut by the image border: its extent and centre would be wrong
        pad = cfg.support_ring + 1
        u0, v0 = max(x0 - pad, 0), max(y0 - pad, 0)
        u1, v1 = min(x0 + w + pad, width), min(y0 + h + pad, height)
        mask = np.zeros((v1 - v0, u1 - u0), np.uint8)
        mask[y0 - v0:y0 - v0 + h, x0 - u0:x0 - u0 + w] = blob_mask
        core = cv2.erode(mask, _KERNEL3, iterations=cfg.edge_erosion) if cfg.edge_erosion else mask
        core_valid = core.astype(bool) & valid[v0:v1, u0:u1]
        vv, uu = np.nonzero(core_valid)
        if len(uu) < cfg.min_points:
            return []
        blob = self._blob(colour, uu + u0, vv + v0, depth, camera, camera_to_odom, box, 2.0 * cfg.max_part_size)
        xy = blob.points[:, :2]
        low, high = np.percentile(xy, (2.0, 98.0), axis=0)
        extent = high - low
        if extent.max() <= cfg.max_part_size:
            ring = cv2.dilate(mask, _KERNEL3, iterations=cfg.support_ring).astype(bool) & ~mask.astype(bool)
            ring &= np.isfinite(depth[v0:v1, u0:u1]) & (depth[v0:v1, u0:u1] > 0)
            rv, ru = np.nonzero(ring)
            ring_points = transform_points(camera_to_odom, deproject(ru + u0, rv + v0, depth[rv + v0, ru + u0], camera))
            part = self._estimate(blob, ring_z=ring_points[:, 2], support=None)
            return [part] if part is not None else []
        # A container's depth spans more than a part's window: its points are taken again with its own for its
        # outline. The parts in it are searched among the part window's points, which leaves out the lower far walls
        # seen at a grazing angle (their depth noise would bring wall points inside the outline).
        whole = self._blob(colour, uu + u0, vv + v0, depth, camera, camera_to_odom, box, cfg.max_container_size)
        return self._container_parts(blob, whole)

    def _blob(self, colour: str, u: np.ndarray, v: np.ndarray, depth: np.ndarray, camera: CameraIntrinsics,
              camera_to_odom: np.ndarray, pixel_box: tuple[int, int, int, int], window: float) -> _Blob:
        """The blob's pixels whose depth is within `window` [m] of their median (no stray far or near pixels), in
        `odom`."""
        z = depth[v, u]
        keep = np.abs(z - np.median(z)) <= window
        u, v, z = u[keep], v[keep], z[keep]
        points = transform_points(camera_to_odom, deproject(u, v, z, camera))
        return _Blob(colour, u, v, points, pixel_box)

    def _container_parts(self, blob: _Blob, whole: _Blob) -> list[PartDetection]:
        """The container (a bin) a large blob is, if it is one, and the parts of the blob's colour standing on its
        floor, walls and floor removed, or lying across its rim (the module docstring, step 4). `blob` has the
        points within the part window of the median depth, `whole` those within `max_container_size`."""
        cfg = self.config
        found = []
        inside = self._inside(whole)
        if inside is not None:
            floor = inside[1]
            above = whole.points[:, 2] > self._rim_level(whole, floor) + RIM_TOLERANCE
            if above.any():
                # Something of the bin's colour lies on its rim: it is no wall (it would raise the rim and widen the
                # outline), but a part resting on the rim.
                below = _Blob(whole.colour, whole.u[~above], whole.v[~above], whole.points[~above], whole.pixel_box)
                inside = self._inside(below)
                found += self._parts_among(whole, above, self._rim_level(whole, floor))
                whole, pixels = below, (whole.u, whole.v)
            else:
                pixels = (whole.u, whole.v)
            if inside is not None:
                container = self._container(whole, *inside[2:], pixels=pixels)
                if container is not None:
                    found.insert(0, container)
        inside = self._inside(blob)
        if inside is None:
            return found
        inner, floor = inside[:2]
        z = blob.points[inner, 2]
        standing = inner.copy()
        standing[inner] = (z > floor + cfg.container_floor_tolerance) & (z < floor + cfg.max_part_size)
        return found + self._parts_among(blob, standing, floor)

    def _parts_among(self, blob: _Blob, selected: np.ndarray, support: float) -> list[PartDetection]:
        """The parts that the `selected` points (n,) bool of a blob form (connected in the image), resting on a
        surface at height `support` [m]."""
        cfg = self.config
        if selected.sum() < cfg.min_points:
            return []
        u, v = blob.u[selected], blob.v[selected]
        u0, v0 = int(u.min()), int(v.min())
        mask = np.zeros((int(v.max()) - v0 + 1, int(u.max()) - u0 + 1), np.uint8)
        mask[v - v0, u - u0] = 1
        count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        points = blob.points[selected]
        parts = []
        for k in range(1, count):
            if stats[k, cv2.CC_STAT_AREA] < cfg.min_pixels:
                continue
            member = labels[v - v0, u - u0] == k
            x, y, w, h = (int(q) for q in stats[k, :4])
            sub = _Blob(blob.colour, u[member], v[member], points[member], (x + u0, y + v0, w, h))
            part = self._estimate(sub, ring_z=None, support=support)
            if part is not None:
                parts.append(part)
        return parts

    @staticmethod
    def _rim_level(blob: _Blob, floor: float) -> float:
        """Height of a container's rim [m], robust to a part lying across it: the median, over the floor-plane cells
        of side CONTAINER_CELL whose highest point is in the upper half between the floor and the blob's top (the
        walls, seen all round), of that highest point."""
        z = blob.points[:, 2]
        cells = np.floor(blob.points[:, :2] / CONTAINER_CELL).astype(np.int64)
        _, inverse = np.unique(cells, axis=0, return_inverse=True)
        inverse = inverse.ravel()
        highest = np.full(inverse.max() + 1, -np.inf)
        np.maximum.at(highest, inverse, z)
        top = float(np.percentile(z, 99.5))
        high = highest[highest > 0.5 * (floor + top)]
        return float(np.median(high)) if len(high) else top

    def _inside(self, blob: _Blob) -> tuple[np.ndarray, float, float, tuple[float, float], tuple[float, float], float,
                                            np.ndarray] | None:
        """Inside and floor of a large blob: (mask of the points inside its outline by more than
        `container_wall_margin` (n,), the floor's height [m], then its floor, centre, extents, angle and points as
        `_container` takes them), or None if the inside shows no dominant horizontal floor."""
        cfg = self.config
        xy = blob.points[:, :2]
        (cx, cy), (lx, ly), angle, xy_mm = container_outline(xy, CONTAINER_CELL, CONTAINER_CELL_POINTS)
        c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
        local = (xy - np.array([cx, cy])) @ np.array([[c, -s], [s, c]])
        to_outline = np.minimum(lx / 2.0 - np.abs(local[:, 0]), ly / 2.0 - np.abs(local[:, 1]))
        inner = to_outline > cfg.container_wall_margin
        if inner.sum() < cfg.min_points:
            return None
        z = blob.points[inner, 2]
        bins = np.arange(z.min(), z.max() + 2 * cfg.container_floor_tolerance, cfg.container_floor_tolerance)
        if len(bins) < 2:
            return None
        histogram, edges = np.histogram(z, bins=bins)
        top = int(histogram.argmax())
        near_floor = z[(z >= edges[max(top - 1, 0)]) & (z <= edges[min(top + 2, len(edges) - 1)])]
        if len(near_floor) < 0.2 * len(z):
            return None  # no dominant horizontal floor: not a container (a shirt, a wall)
        floor = float(np.median(near_floor))
        return inner, floor, floor, (cx, cy), (lx, ly), angle, xy_mm

    def _container(self, blob: _Blob, floor: float, centre: tuple[float, float], extents: tuple[float, float],
                   angle: float, xy_mm: np.ndarray, pixels: tuple[np.ndarray, np.ndarray] | None = None
                   ) -> PartDetection | None:
        """The container a large blob with a floor is (the module docstring, step 4), or None if it is none.

        Args:
            blob: the blob's pixels and points.
            floor: height of its floor in `odom` [m].
            centre, extents, angle: its outline, cv2.minAreaRect's (x, y) [m], (width, height) [m] and angle [deg].
            xy_mm: the points projected on the floor plane [mm].  # (n, 2) float32
            pixels: (u, v) of the whole blob, parts lying on its rim included (they hide none of it); default the
                blob's.
        """
        cfg = self.config
        rim = float(np.percentile(blob.points[:, 2], 99.5))
        lx, ly = extents
        if rim - floor < cfg.min_container_depth or max(lx, ly) > cfg.max_container_size:
            return None
        yaw = math.radians(angle)
        wrapped = wrap_angle(yaw, math.pi / 2.0)
        if round((wrapped - yaw) / (math.pi / 2.0)) % 2:
            lx, ly = ly, lx
        fill = cv2.contourArea(cv2.convexHull(xy_mm)) / max(lx * ly * 1e6, 1e-9)
        # Occluded if something nearer cuts its outline; parts standing in it (holes of the blob) or lying on its rim
        # (`pixels`) do not count.
        pu, pv = (blob.u, blob.v) if pixels is None else pixels
        u0, v0 = int(pu.min()), int(pv.min())
        mask = np.zeros((int(pv.max()) - v0 + 1, int(pu.max()) - u0 + 1), np.uint8)
        mask[pv - v0, pu - u0] = 1
        # Closed first: a part lying across the rim has a shaded flank (too dark to have a colour) that runs out
        # across the outline, a thin gap that no hole-filling closes, and that flank is nearer than the bin past it.
        mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, _KERNEL3, iterations=OUTLINE_CLOSING)
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(mask, contours, -1, 1, thickness=cv2.FILLED)
        filled_v, filled_u = np.nonzero(mask)
        occluded = is_occluded(blob.u, blob.v, self._depth, blob_u=filled_u + u0, blob_v=filled_v + v0)
        confidence = float(np.clip(len(blob.points) / 150.0, 0.1, 1.0) * np.clip(fill, 0.1, 1.0))
        return PartDetection(label=f"{blob.colour}_{CONTAINER_SHAPE}", colour=blob.colour, shape=CONTAINER_SHAPE,
                             position=np.array([centre[0], centre[1], rim]), yaw=float(wrapped),
                             size=np.array([lx, ly, rim - floor]), confidence=confidence * (0.5 if occluded else 1.0),
                             pixel_box=blob.pixel_box, points=len(blob.points), occluded=occluded)

    # -------------------------------------------------------------------------------------------- estimation

    def _estimate(self, blob: _Blob, ring_z: np.ndarray | None, support: float | None) -> PartDetection | None:
        """Shape, centre, yaw and size of one part's blob, or None if it is no plausible part."""
        cfg = self.config
        points = blob.points
        if len(points) < cfg.min_points:
            return None
        z = points[:, 2]
        z_low, z_top = (float(q) for q in np.percentile(z, (1.0, 99.5)))
        if support is None:
            support = z_low
            if ring_z is not None and len(ring_z):
                below = ring_z[(ring_z >= z_low - cfg.support_search) & (ring_z <= z_top - cfg.min_part_size)]
                if len(below) >= 5:
                    support = min(float(np.median(below)), z_low)

        centre, radius, rms = fit_sphere(points)
        if (rms <= cfg.sphere_fit_tolerance * radius and cfg.min_part_size <= 2 * radius <= cfg.max_part_size
                and centre[2] < z_top):
            size = np.full(3, 2.0 * radius)
            return self._detection(blob, "sphere", centre, 0.0, size, rms / radius, None)

        on_top = z >= z_top - cfg.top_face_tolerance
        top = points[on_top, :2]
        if len(top) < 5:
            return None
        top32 = (top * 1000.0).astype(np.float32)  # [mm]: OpenCV's geometry prefers pixel-like magnitudes
        (rx, ry), (rw, rh), angle = cv2.minAreaRect(top32)
        hull_area = cv2.contourArea(cv2.convexHull(top32))
        fill = hull_area / max(rw * rh, 1e-9)
        height = z_top - support
        if fill < cfg.circle_fill_max:
            hull = cv2.convexHull(top32).reshape(-1, 2).astype(np.float64) / 1000.0
            (px, py), r = fit_circle(hull) if len(hull) >= 3 else ((rx / 1000.0, ry / 1000.0), 0.0)
            position = np.array([px, py, 0.5 * (z_top + support)])
            return self._detection(blob, "cylinder", position, 0.0, np.array([2 * r, 2 * r, height]), 1.0 - fill,
                                   on_top)
        yaw = math.radians(angle)
        lx, ly = rw / 1000.0, rh / 1000.0
        wrapped = wrap_angle(yaw, math.pi / 2.0)
        if round((wrapped - yaw) / (math.pi / 2.0)) % 2:
            lx, ly = ly, lx
        position = np.array([rx / 1000.0, ry / 1000.0, 0.5 * (z_top + support)])
        return self._detection(blob, "box", position, wrapped, np.array([lx, ly, height]), 1.0 - fill, on_top)

    def _detection(self, blob: _Blob, shape: str, position: np.ndarray, yaw: float, size: np.ndarray,
                   misfit: float, on_top: np.ndarray | None) -> PartDetection | None:
        """A detection from the estimate, or None if implausible. It is occluded if something nearer cuts the
        surface the estimate rests on: the top face (`on_top`, a mask of the blob's points) or, for a sphere, all."""
        cfg = self.config
        if not (np.isfinite(position).all() and np.isfinite(size).all()):
            return None
        if size.min() < cfg.min_part_size or size.max() > cfg.max_part_size:
            return None
        name = shape
        if shape == "box":
            name = "cube" if size.max() <= cfg.cube_aspect_max * size.min() else "box"
        if on_top is None:
            occluded = is_occluded(blob.u, blob.v, self._depth)
        else:
            occluded = is_occluded(blob.u[on_top], blob.v[on_top], self._depth, blob_u=blob.u, blob_v=blob.v)
        confidence = float(np.clip(len(blob.points) / 150.0, 0.1, 1.0) * np.clip(1.0 - misfit, 0.1, 1.0))
        return PartDetection(label=f"{blob.colour}_{name}", colour=blob.colour, shape=shape, position=position,
                             yaw=float(yaw), size=size, confidence=confidence * (0.5 if occluded else 1.0),
                             pixel_box=blob.pixel_box, points=len(blob.points), occluded=occluded)


def smooth_depth(depth: np.ndarray, size: int) -> np.ndarray:
    """The depth image through a `size` x `size` median filter (0 or 1: unchanged), as a stereo camera's spatial
    post-filter does: it removes most of the per-pixel noise and keeps edges. Unknown pixels (NaN, inf, 0) stay
    unknown, and a pixel whose neighbourhood is mostly unknown keeps its own value.  # (H, W) float32"""
    if size <= 1:
        return depth
    with np.errstate(invalid="ignore"):
        known = np.isfinite(depth) & (depth > 0.0)
    filled = np.where(known, depth, 0.0).astype(np.float32)
    smoothed = cv2.medianBlur(filled, size)
    # Where the median landed on a hole's zeros (a neighbourhood mostly unknown), keep the pixel's own depth.
    result = np.where(smoothed > 0.0, smoothed, filled)
    result[~known] = np.nan
    return result.astype(np.float32)


def check_frame(rgb: np.ndarray, depth: np.ndarray, camera: CameraIntrinsics) -> None:
    """InputError unless rgb is (H, W, 3) uint8, depth (H, W) float and both match the intrinsics' size."""
    if not isinstance(rgb, np.ndarray) or rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise InputError(f"colour image must be (H, W, 3) uint8, got {getattr(rgb, 'shape', None)} "
                         f"{getattr(rgb, 'dtype', None)}")
    if not isinstance(depth, np.ndarray) or depth.ndim != 2 or depth.dtype.kind != "f":
        raise InputError(f"depth image must be (H, W) float, got {getattr(depth, 'shape', None)} "
                         f"{getattr(depth, 'dtype', None)}")
    if depth.shape != rgb.shape[:2]:
        raise InputError(f"depth {depth.shape[1]}x{depth.shape[0]} is not registered to colour "
                         f"{rgb.shape[1]}x{rgb.shape[0]}")
    if (camera.width, camera.height) != (rgb.shape[1], rgb.shape[0]):
        raise InputError(f"camera info says {camera.width}x{camera.height}, images are {rgb.shape[1]}x{rgb.shape[0]}")
