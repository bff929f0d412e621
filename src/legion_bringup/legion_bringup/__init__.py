"""Bring-up of the Legion stack: the one node list that `ros2 launch` and `legion launch` both read."""
