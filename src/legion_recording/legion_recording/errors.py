"""The one error type of legion_recording."""


class RecordingError(Exception):
    """A recording cannot be made, read, played or pruned as asked (bad request, bad file, bad configuration)."""
