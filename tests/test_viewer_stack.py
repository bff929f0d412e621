"""The browser view over the whole stack: `legion launch stack viewer:=true` in lockstep, the page opened in a real
headless browser (Debian's chromium driven by Selenium, software WebGL), and the robot seen drawn.

The robot counts as drawn when hiding it (the page's own `robot` layer checkbox, clicked in the browser) changes at
least MIN_ROBOT_PIXELS pixels of the 3D view, centred near the view's centre, where the camera looks at the robot:
with no robot drawn nothing changes and the test fails. The browser's frame rate (requestAnimationFrame, counted in
the page) is printed. Set LEGION_VIEWER_SCREENSHOT=<path> to keep the screenshot (docs/images/viewer.png is one).
Skips, saying why, when chromium, chromedriver or selenium is absent.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import numpy as np
import pytest
from nav_msgs.msg import Odometry

from legion_bringup.launcher import LaunchedNodes
from legion_testing import browser as browser_module
from legion_testing.probe import Probe

pytestmark = pytest.mark.stack

STARTUP = 180.0
"""[s] wall: the stack's start (model builds, DDS discovery) on a loaded 2-core machine."""
ROBOT_WAIT = 180.0
"""[s] wall for the robot to appear in the page."""
WINDOW = (1024, 768)
PANEL_LEFT = 680
"""[px] the side panel (status, camera, layers) starts about here; the 3D view is compared left of it."""
MIN_ROBOT_PIXELS = 1500
"""Pixels of the 3D view that hiding the robot must change (the standing robot covers about 4000 at 1024x768)."""
PIXEL_CHANGE = 40
"""Smallest change of a pixel's channel (0..255) counted as changed."""
CLOSE_NOTIFICATIONS = "document.querySelectorAll('.mantine-Notification-closeButton').forEach(b => b.click());"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def robot_pixels(shown: np.ndarray, hidden: np.ndarray) -> tuple[int, np.ndarray]:  # (h, w, 3) screenshots
    """Pixels of the 3D view (left of the panel) that differ between the two screenshots, and their centroid
    (x, y) [px]."""
    diff = np.abs(shown[:, :PANEL_LEFT].astype(int) - hidden[:, :PANEL_LEFT].astype(int)).max(axis=2) > PIXEL_CHANGE
    ys, xs = np.nonzero(diff)
    centroid = np.array([xs.mean(), ys.mean()]) if len(xs) else np.array([np.nan, np.nan])
    return int(diff.sum()), centroid


def test_robot_drawn_in_browser(tmp_path: Path) -> None:
    reason = browser_module.missing()
    if reason is not None:
        pytest.skip(reason)
    port = free_port()
    with LaunchedNodes("stack", {"lockstep": "true", "viewer": "true", "viewer_port": str(port)}, echo=False) \
            as launched:
        probe = Probe()
        try:
            probe.record("odom/decimated", Odometry)
            probe.wait_until(lambda: len(probe.received("odom/decimated")) > 0, STARTUP, "the stack's odometry")
        except AssertionError:
            print("\n".join(launched.output[-40:]))
            raise
        finally:
            probe.close()
        with browser_module.Browser(f"http://127.0.0.1:{port}", *WINDOW) as page:
            assert page.wait_for_text("Layers", 60), f"the view's page did not load: {page.page_text()[:500]}"
            deadline = time.monotonic() + ROBOT_WAIT
            changed, centroid, size = 0, np.array([np.nan, np.nan]), np.array(WINDOW, float)
            while time.monotonic() < deadline:
                page.driver.execute_script(CLOSE_NOTIFICATIONS)
                time.sleep(2.0)
                shown = page.screenshot(tmp_path / "viewer.png")
                page.click_label("robot")  # hide the robot layer
                time.sleep(3.0)
                hidden = page.screenshot(tmp_path / "viewer_hidden.png")
                page.click_label("robot")  # and show it again
                changed, centroid = robot_pixels(shown, hidden)
                size = np.array([shown.shape[1], shown.shape[0]], float)  # the page's viewport [px]
                if changed >= MIN_ROBOT_PIXELS:
                    break
            fps = page.frames_per_second(5.0)
            print(f"browser view: {changed} robot pixels centred at {centroid.round()}, "
                  f"{fps:.1f} frames/s (requestAnimationFrame, headless chromium with software WebGL)")
            keep = os.environ.get("LEGION_VIEWER_SCREENSHOT")
            if keep:
                Path(keep).write_bytes((tmp_path / "viewer.png").read_bytes())
    assert changed >= MIN_ROBOT_PIXELS, f"the robot is not drawn: hiding it changed {changed} pixels"
    # The camera looks at the robot: it is drawn about the middle of the page (the canvas fills the page).
    assert np.all(np.abs(centroid - size / 2) < 250), \
        f"the robot is drawn away from the view's centre: centroid {centroid}, page {size}"
    assert fps > 0.2, f"the page rendered {fps:.2f} frames/s"
