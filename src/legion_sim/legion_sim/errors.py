"""The one exception type of legion_sim."""


class SimError(Exception):
    """A scene file, robot model or simulation request is invalid. The message names the file or object and the
    problem."""
