"""Test support of the Legion workspace: used by tests/ and bench/, never by a library package."""
