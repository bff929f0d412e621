"""The exception types of legion_perception: one root, `PerceptionError`.

Parameters out of range or inconsistent raise `legion_common.parameters.ParameterError`; images whose encoding or
size cannot be read raise `legion_common.messages.EncodingError`.
"""


class PerceptionError(Exception):
    """Root of every error legion_perception raises on purpose (bad input, bad configuration)."""


class InputError(PerceptionError):
    """An input (image, camera info, joint state, odometry) is missing, malformed or inconsistent.

    The node reports it as a throttled warning and on `diagnostics`, skips the frame and goes on.
    """


class ConfigError(PerceptionError):
    """A setting names something that cannot be loaded (the robot, the face cascade); the message names it."""
