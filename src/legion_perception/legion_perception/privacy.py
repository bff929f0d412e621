"""Face anonymisation for every image that leaves the perception node.

A face region (the detector's box grown by `face_margin` on each side) is replaced by a coarse mosaic of
`mosaic_cells` cells across and then blurred, which removes the detail a person could be recognised by (eyes,
mouth, skin texture) while keeping the image useful for debugging. The function works on a copy; the caller's image
is never changed.
"""

from __future__ import annotations

import cv2
import numpy as np

from legion_perception.config import PrivacyConfig
from legion_perception.people import Box


def grow_box(box: Box, margin: float, width: int, height: int) -> Box:
    """`box` grown by `margin` times its size on each side, clipped to a width x height image."""
    u, v, w, h = box
    du, dv = round(w * margin), round(h * margin)
    u0, v0 = max(u - du, 0), max(v - dv, 0)
    u1, v1 = min(u + w + du, width), min(v + h + dv, height)
    return u0, v0, max(u1 - u0, 0), max(v1 - v0, 0)


def anonymise_faces(image: np.ndarray, boxes: list[Box], config: PrivacyConfig) -> np.ndarray:
    """A copy of `image` with every face box (grown by the margin) mosaicked and blurred.  # (H, W, C) uint8"""
    out = image.copy()
    height, width = image.shape[:2]
    for box in boxes:
        u, v, w, h = grow_box(box, config.face_margin, width, height)
        if w < 2 or h < 2:
            continue
        region = out[v:v + h, u:u + w]
        cells = max(1, config.mosaic_cells)
        small = cv2.resize(region, (cells, max(1, round(cells * h / w))), interpolation=cv2.INTER_AREA)
        mosaic = cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)
        cell = max(w, h) / cells
        out[v:v + h, u:u + w] = cv2.GaussianBlur(mosaic, (0, 0), sigmaX=max(1.0, 0.5 * cell))
    return out


def detail(image: np.ndarray, box: Box | None = None) -> float:
    """High-frequency detail of an image region: the variance of its grey-level Laplacian."""
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image
    if box is not None:
        u, v, w, h = box
        grey = grey[v:v + h, u:u + w]
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())
