"""`headless:=false`: MuJoCo's viewer opens where a display exists, and the bridge says so and runs headless where
none does."""

import sys
import types

from legion_sim.viewer import Viewer, display_available, open_viewer


class FakeHandle:
    def __init__(self) -> None:
        self.syncs, self.closed = 0, False

    def is_running(self) -> bool:
        return not self.closed

    def sync(self) -> None:
        self.syncs += 1

    def close(self) -> None:
        self.closed = True


def test_no_display_means_headless_with_a_clear_message():
    said: list[str] = []
    assert not display_available({})
    assert open_viewer(object(), object(), said.append, environ={}) is None
    assert len(said) == 1 and "no display" in said[0] and "running headless" in said[0]


def test_a_display_opens_mujocos_passive_viewer(monkeypatch):
    handle = FakeHandle()
    opened = {}

    def launch_passive(model, data, **options):
        opened.update(model=model, data=data, options=options)
        return handle

    monkeypatch.setitem(sys.modules, "mujoco.viewer", types.SimpleNamespace(launch_passive=launch_passive))
    import mujoco

    monkeypatch.setattr(mujoco, "viewer", sys.modules["mujoco.viewer"], raising=False)
    said: list[str] = []
    viewer = open_viewer("model", "data", said.append, environ={"DISPLAY": ":0"}, rate=1e-3)
    assert isinstance(viewer, Viewer) and not said and opened["model"] == "model" and opened["data"] == "data"
    viewer.sync()
    viewer.sync()  # within the period: not shown again
    assert handle.syncs == 1 and viewer.running
    viewer.close()
    assert not viewer.running


def test_a_display_that_fails_is_reported(monkeypatch):
    def launch_passive(model, data, **options):
        raise RuntimeError("GLFW could not open a window")

    monkeypatch.setitem(sys.modules, "mujoco.viewer", types.SimpleNamespace(launch_passive=launch_passive))
    import mujoco

    monkeypatch.setattr(mujoco, "viewer", sys.modules["mujoco.viewer"], raising=False)
    said: list[str] = []
    assert open_viewer("model", "data", said.append, environ={"WAYLAND_DISPLAY": "wayland-0"}) is None
    assert "GLFW could not open a window" in said[0]
