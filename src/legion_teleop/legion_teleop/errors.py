"""The one error type of legion_teleop."""


class TeleopError(Exception):
    """A teleop configuration is invalid (the message names the file and the key), or an input cannot be used."""
