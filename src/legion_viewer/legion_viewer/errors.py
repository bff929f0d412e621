"""The one error type of legion_viewer."""


class ViewerError(ValueError):
    """A message or description the viewer cannot show (the message says which and why)."""
