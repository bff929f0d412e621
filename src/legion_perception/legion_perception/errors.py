"""The exception types of legion_perception: one root, `PerceptionError`."""


class PerceptionError(Exception):
    """Root of every error legion_perception raises on purpose (bad input, bad configuration)."""


class InputError(PerceptionError):
    """An input (image, camera info, joint state, odometry) is missing, malformed or inconsistent.

    The node reports it as a throttled warning and on `diagnostics`, skips the frame and goes on.
    """


class EncodingError(InputError):
    """An image has an encoding this package does not read, or data that does not match its size and step."""


class ConfigError(PerceptionError):
    """A parameter is out of range or inconsistent; the message names the parameter."""
