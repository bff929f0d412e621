"""legion_sim: the simulated robot hardware (MuJoCo) behind Legion's hardware interface. No ROS in this package's core.

MuJoCo picks its OpenGL backend when it is first imported, so the headless EGL backend is selected here, before any
module of this package imports mujoco (an explicit `MUJOCO_GL` in the environment wins).
"""

import os

os.environ.setdefault("MUJOCO_GL", "egl")

from legion_sim.errors import SimError

__all__ = ["SimError"]
