"""The one exception root of legion_gait."""


class GaitError(Exception):
    """A gait input (command, goal, parameter, state) is invalid, or no plan can satisfy it."""
