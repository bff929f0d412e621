"""The one exception type of legion_model."""


class ModelError(Exception):
    """The robot model cannot be built or was asked about something it does not have.

    Raised for a URDF that does not parse or lacks a joint or frame named in the robot configuration, an unknown
    joint or frame name, a vector of the wrong size, or a standing posture that cannot put both soles flat on the
    ground. The message names the robot and the offending joint, frame or value.
    """
