"""Speed and separation monitoring over the whole stack (DDS, lockstep): a person walks at 1.6 m/s towards the robot,
which walks towards them at 0.25 m/s (legion_testing.safety_approach, scene `safety_approach`). The robot must stop
(protective stop, then at rest within T_r + T_s of it), never touch the person, and walk on by itself once the person
has left. The person is seen only through the head camera; ground truth judges."""

from __future__ import annotations

import math

import pytest

from legion_description import load_robot_config
from legion_testing.safety_approach import ROBOT_START, run_approach

pytestmark = [pytest.mark.stack, pytest.mark.slow]

CONTACT = 0.55
"""[m] base to person centre below which they touch: the robot's front (0.3 m) and the person's half depth (0.11 m)
with margin."""
REACTION_TIME = 0.45
"""[s] T_r of config/stack.yaml."""


def test_a_person_walking_at_the_robot_stops_it_without_contact_and_it_resumes_after() -> None:
    result = run_approach()
    print("\n".join(result.report()))
    assert not result.fell
    stop = result.stop
    assert stop is not None, "no protective stop"
    assert stop[0] > ROBOT_START
    stopping_time = load_robot_config("centurion").safety["stopping_time"]
    rest = result.rest_time
    assert math.isfinite(rest), "the robot never came to rest"
    assert rest - stop[0] <= REACTION_TIME + stopping_time + 0.5
    assert result.min_distance > CONTACT
    resume = result.resume
    assert resume is not None, "never clear again after the person left"
    assert result.travel_after(resume[0]) > 0.3, "did not walk on after the person left"
