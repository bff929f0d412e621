"""visualization_msgs builders shared by the nodes' `~/markers` (docs/interfaces.md, "Visualisation").

Every MarkerArray a node publishes starts with a DELETEALL marker, so that what the node no longer shows disappears
in RViz and in the browser viewer; markers carry a `lifetime` so that a node that stops publishing leaves nothing
behind. Each package's `conversions` module builds its MarkerArray from core data with these helpers.
"""

from __future__ import annotations

import colorsys
from collections.abc import Sequence
from typing import Any

from builtin_interfaces.msg import Duration
from geometry_msgs.msg import Point
from std_msgs.msg import ColorRGBA
from visualization_msgs.msg import Marker, MarkerArray

from legion_common.messages import pose_msg

LIFETIME = 2.0
"""[s] a marker not renewed for this long disappears (the nodes publish at a few Hz)."""
TEXT_HEIGHT = 0.04
"""[m] height of label text."""


def marker_array(frame_id: str) -> MarkerArray:
    """A MarkerArray holding only the DELETEALL marker that starts every array (in `frame_id`)."""
    clear = Marker(action=Marker.DELETEALL)
    clear.header.frame_id = frame_id
    return MarkerArray(markers=[clear])


def marker(kind: int, namespace: str, ident: int, stamp: Any, frame_id: str, colour: Sequence[float],
           position: Sequence[float] = (0.0, 0.0, 0.0), orientation_xyzw: Sequence[float] = (0.0, 0.0, 0.0, 1.0),
           scale: Sequence[float] = (1.0, 1.0, 1.0)) -> Marker:
    """One ADD marker: `kind` (Marker.CUBE, ...), pose in `frame_id` ([m], quaternion x, y, z, w), `scale` [m] and
    `colour` (r, g, b[, a]) in 0..1 (alpha 1 if not given)."""
    msg = Marker(type=kind, ns=namespace, id=ident, action=Marker.ADD, pose=pose_msg(position, orientation_xyzw))
    msg.header.stamp = stamp
    msg.header.frame_id = frame_id
    msg.scale.x, msg.scale.y, msg.scale.z = (float(v) for v in scale)
    alpha = float(colour[3]) if len(colour) > 3 else 1.0
    msg.color = ColorRGBA(r=float(colour[0]), g=float(colour[1]), b=float(colour[2]), a=alpha)
    msg.lifetime = Duration(sec=int(LIFETIME), nanosec=round((LIFETIME % 1.0) * 1e9))
    return msg


def text_marker(namespace: str, ident: int, stamp: Any, frame_id: str, text: str, position: Sequence[float],
                colour: Sequence[float] = (1.0, 1.0, 1.0)) -> Marker:
    """A label facing the viewer, centred at `position` [m]."""
    msg = marker(Marker.TEXT_VIEW_FACING, namespace, ident, stamp, frame_id, colour, position,
                 scale=(TEXT_HEIGHT, TEXT_HEIGHT, TEXT_HEIGHT))
    msg.text = text
    return msg


def line_strip(namespace: str, ident: int, stamp: Any, frame_id: str, colour: Sequence[float],
               points: Sequence[Sequence[float]], width: float) -> Marker:
    """A polyline through `points` [m] (x, y, z each), `width` [m]."""
    msg = marker(Marker.LINE_STRIP, namespace, ident, stamp, frame_id, colour, scale=(width, 0.0, 0.0))
    msg.points = [Point(x=float(p[0]), y=float(p[1]), z=float(p[2])) for p in points]
    return msg


def hue_colour(hue_degrees: float, alpha: float = 1.0) -> tuple[float, float, float, float]:
    """Fully saturated colour of a hue [deg] (the hue perception names a colour by), as r, g, b, a."""
    r, g, b = colorsys.hsv_to_rgb((hue_degrees % 360.0) / 360.0, 0.9, 0.95)
    return r, g, b, alpha
