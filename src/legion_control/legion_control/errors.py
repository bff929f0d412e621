"""The one exception type of legion_control."""


class ControlError(Exception):
    """The whole-body controller was given something it cannot use.

    Raised for an out-of-range or malformed parameter, a reference that is not finite or cannot be reached (the
    controller then keeps the last good reference and reports it), a state vector of the wrong size, or a robot
    model that lacks what the controller needs. The message names the offending value.
    """
