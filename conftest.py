"""Test-session settings for the whole workspace.

Every DDS participant of one test session (the test process and the nodes it launches) talks on its own ROS domain,
so a test run never hears, or is heard by, another stack running on the same machine. Set LEGION_TEST_DOMAIN_ID to
choose the domain (e.g. to watch a test with other tools).
"""

import os
import random

os.environ["ROS_DOMAIN_ID"] = os.environ.get("LEGION_TEST_DOMAIN_ID", str(random.SystemRandom().randint(10, 100)))
os.environ.setdefault("MUJOCO_GL", "egl")
