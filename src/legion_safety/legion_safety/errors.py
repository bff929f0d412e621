"""The one error type of legion_safety."""


class SafetyError(Exception):
    """Invalid safety configuration or input (a robot file's `safety:` block, a malformed message)."""
