"""MuJoCo's interactive viewer on a running simulation (`headless:=false`), for a person at a screen.

The viewer is MuJoCo's own passive viewer (`mujoco.viewer.launch_passive`): it shows the model and data the step
loop owns and handles the mouse on its own thread; the step loop calls `sync()` between two physics steps, at most
`rate` times per wall second. It needs a display (X11 or Wayland); without one `open_viewer` says so and returns
None, and the simulation runs headless.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any


def display_available(environ: dict[str, str] | None = None) -> bool:
    """Whether a window can be opened: an X11 (`DISPLAY`) or Wayland (`WAYLAND_DISPLAY`) display is set."""
    environ = os.environ if environ is None else environ
    return bool(environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"))


class Viewer:
    """A passive MuJoCo viewer synced from the step loop at most `rate` times per wall second."""

    def __init__(self, handle: Any, rate: float = 60.0) -> None:
        self._handle = handle
        self._period = 1.0 / rate
        self._next = 0.0

    def sync(self) -> None:
        """Show the current state if the last frame is older than the period (cheap otherwise)."""
        now = time.monotonic()
        if now >= self._next and self._handle.is_running():
            self._handle.sync()
            self._next = now + self._period

    @property
    def running(self) -> bool:
        return bool(self._handle.is_running())

    def close(self) -> None:
        self._handle.close()


def open_viewer(model: Any, data: Any, say: Callable[[str], None], environ: dict[str, str] | None = None,
                rate: float = 60.0) -> Viewer | None:
    """The viewer on `model` and `data`, or None (with the reason told to `say`) where no display can show it."""
    if not display_available(environ):
        say("headless:=false asks for MuJoCo's viewer, but this machine has no display (neither DISPLAY nor "
            "WAYLAND_DISPLAY is set): running headless")
        return None
    try:
        import mujoco.viewer

        return Viewer(mujoco.viewer.launch_passive(model, data, show_left_ui=False, show_right_ui=False), rate)
    except Exception as error:  # no OpenGL for a window, a display that refuses the connection, ...
        say(f"MuJoCo's viewer could not open ({error}): running headless")
        return None
