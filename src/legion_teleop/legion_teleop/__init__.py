"""legion_teleop: drive a Legion humanoid by hand.

Core (no ROS): `config` (config/teleop.yaml: limits, timing, keyboard, gamepad mapping, checked with errors that name
the key), `keys` (terminal bytes -> key names -> teleop inputs), `teleop` (`Teleop`: dead-man rule, stale input,
acceleration limits, clamping, the e-stop latch, head and arm jog integration). `conversions`: messages <-> core.
`teleop_node`: the thin rclpy node; `terminal`: the raw-mode terminal front end (`legion teleop`).
"""

from legion_teleop.errors import TeleopError

__all__ = ["TeleopError"]
