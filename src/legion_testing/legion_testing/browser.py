"""A real headless browser for tests and benchmarks of the browser view: Debian's chromium driven by Selenium
(chromium-driver). Nothing is downloaded: without /usr/bin/chromium and /usr/bin/chromedriver, `missing()` says so
and the callers skip.

    reason = missing()
    with Browser(url) as browser:
        browser.wait_for_text("Connected", timeout=60)
        rgb = browser.screenshot()          # (h, w, 3) uint8
        fps = browser.frames_per_second(3.0)
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np

CHROMIUM = ("chromium", "chromium-browser")
DRIVER = "chromedriver"
RAF_COUNT_SCRIPT = """
const done = arguments[arguments.length - 1];
const seconds = arguments[0];
let frames = 0;
const start = performance.now();
function frame(now) {
  frames += 1;
  if (now - start < seconds * 1000) { requestAnimationFrame(frame); } else { done(frames / ((now - start) / 1000)); }
}
requestAnimationFrame(frame);
"""
"""Frames the page rendered per second over `seconds`: requestAnimationFrame callbacks counted in the page."""


def _chromium() -> str | None:
    for name in CHROMIUM:
        path = shutil.which(name)
        if path:
            return path
    return None


def missing() -> str | None:
    """Why the browser cannot run here (None when it can): chromium, chromedriver or selenium is absent."""
    if _chromium() is None:
        return "no chromium: apt-get install -y chromium chromium-driver"
    if shutil.which(DRIVER) is None:
        return "no chromedriver: apt-get install -y chromium-driver"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "no selenium (requirements.txt)"
    return None


class Browser:
    """A headless chromium window (software WebGL: SwiftShader) showing `url`."""

    def __init__(self, url: str, width: int = 1024, height: int = 768) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service

        options = Options()
        options.binary_location = _chromium() or CHROMIUM[0]
        for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", f"--window-size={width},{height}",
                         "--enable-unsafe-swiftshader", "--use-angle=swiftshader", "--hide-scrollbars"):
            options.add_argument(argument)
        self.driver = webdriver.Chrome(options=options, service=Service(shutil.which(DRIVER) or DRIVER))
        self.driver.set_script_timeout(60)
        self.driver.get(url)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.driver.quit()

    def page_text(self) -> str:
        return self.driver.execute_script("return document.body ? document.body.innerText : ''") or ""

    def wait_for_text(self, text: str, timeout: float) -> bool:
        """Whether `text` appears in the page's visible text within `timeout` [s, wall]."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.page_text():
                return True
            time.sleep(0.25)
        return False

    def click_label(self, text: str) -> None:
        """Click the element whose visible text is exactly `text` (a checkbox's label)."""
        from selenium.webdriver.common.by import By

        element = self.driver.find_element(By.XPATH, f"//label[normalize-space(.)='{text}']")
        element.click()

    def screenshot(self, path: Path | None = None) -> np.ndarray:
        """The window as (h, w, 3) uint8 RGB; also saved as a PNG at `path` if given."""
        import cv2

        png = self.driver.get_screenshot_as_png()
        if path is not None:
            Path(path).write_bytes(png)
        bgr = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
        return bgr[:, :, ::-1].copy()

    def frames_per_second(self, seconds: float) -> float:
        """Frames the page rendered per second over `seconds` (requestAnimationFrame, counted in the page)."""
        return float(self.driver.execute_async_script(RAF_COUNT_SCRIPT, seconds))
