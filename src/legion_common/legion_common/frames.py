"""Frame ids of one robot of a multi-robot scene (docs/interfaces.md, "Several robots"): every frame id a node
publishes or expects gets the robot's `frame_prefix` (`robot_1/odom`), as robot_state_publisher's `frame_prefix` and
Nav2's multi-robot bringup do; a single robot's prefix is empty. Nothing here imports ROS."""

from __future__ import annotations

from typing import Any

from legion_common.parameters import param

FRAME_PREFIX_DESCRIPTION = ("Put before every frame id this node publishes or expects (e.g. `robot_1/` for robot_1 of "
                            "a multi-robot scene), as robot_state_publisher's `frame_prefix`.")


def frame_prefix_param() -> Any:
    """The `frame_prefix` field of a node's parameters dataclass (legion_common.parameters): default empty."""
    return param("", FRAME_PREFIX_DESCRIPTION)


def frame_error(frame_id: str, expected: str, what: str) -> str | None:
    """Why a message whose header says `frame_id` is not taken as given in `expected`, or None when it is: the same
    frame (a leading "/" ignored, as tf2 does) or an empty frame id (meaning `expected`)."""
    frame = frame_id.lstrip("/")
    if not frame or frame == expected.lstrip("/"):
        return None
    return f"{what} in frame '{frame_id}', expected '{expected}'"
