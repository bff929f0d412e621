"""Test-session settings for the whole workspace.

Every DDS participant of one test session (the test process and the nodes it launches) talks on its own ROS domain,
so a test run never hears, or is heard by, another stack running on the same machine; with pytest-xdist (`-n 2`, as
`./test.sh` runs) each worker has a domain of its own. Set LEGION_TEST_DOMAIN_ID to choose the (first) domain, e.g. to
watch a test with other tools.

`./test.sh` runs the whole-stack tests (marker `stack`) after the others, alone and one after another: each launches
the whole stack, which needs both cores (if they are run under xdist anyway, they share one worker).
"""

import os
import random

import pytest

_worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
_index = int(_worker[2:]) if _worker[2:].isdigit() else 0
if "LEGION_TEST_DOMAIN_ID" in os.environ:
    _base = int(os.environ["LEGION_TEST_DOMAIN_ID"])
elif "PYTEST_XDIST_WORKER" in os.environ:
    # Workers of one run share their parent: a base drawn from its pid keeps their domains distinct and adjacent.
    _base = 10 + (os.getppid() % 40) * 2
else:
    _base = random.SystemRandom().randint(10, 99)
os.environ["ROS_DOMAIN_ID"] = str(min(_base + _index, 232))
os.environ.setdefault("MUJOCO_GL", "egl")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("stack") is not None:
            item.add_marker(pytest.mark.xdist_group("stack"))
