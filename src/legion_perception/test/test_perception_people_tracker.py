"""People tracks with velocity (legion_perception.people.PeopleTracker): the alpha-beta filter converges on a walking
person's velocity from noisy sightings (seeded), the gate follows a fast walker by its prediction, and the tracked
message carries id, position and velocity."""

from __future__ import annotations

import numpy as np
import pytest

from legion_perception.config import PeopleConfig
from legion_perception.people import FaceDetection, PeopleTracker


def walk(tracker: PeopleTracker, velocity: np.ndarray, seconds: float, rate: float = 5.0, noise: float = 0.0,
         seed: int = 0, start=(5.0, 0.5, 1.6)):
    rng = np.random.default_rng(seed)
    position = np.array(start, dtype=float)
    people = []
    for k in range(int(seconds * rate)):
        t = k / rate
        seen = position + velocity * t + np.r_[rng.normal(0.0, noise, 2), 0.0]
        people = tracker.update([FaceDetection((0, 0, 30, 30), seen, 0.2)], t)
    return people


@pytest.mark.parametrize("seed", range(5))
def test_the_velocity_of_a_person_walking_at_the_robot_converges(seed):
    velocity = np.array([-1.6, 0.0, 0.0])
    (person,) = walk(PeopleTracker(PeopleConfig()), velocity, 3.0, noise=0.03, seed=seed)
    assert np.linalg.norm(person.velocity[:2] - velocity[:2]) < 0.25
    assert person.velocity[2] == 0.0


def test_a_fast_walker_stays_one_track_through_the_prediction():
    """At 3 m/s a person moves 0.6 m between two 5 Hz sightings, beyond a 0.4 m gate: only the prediction from the
    track's velocity keeps them one track (they speed up from 1.6 m/s, a speed the gate alone follows)."""
    tracker = PeopleTracker(PeopleConfig(gate_distance=0.4))
    (person,) = walk(tracker, np.array([-1.6, 0.0, 0.0]), 2.0)
    start = person.position.copy()
    for k in range(1, 11):
        t = 2.0 - 0.2 + 0.2 * k
        people = tracker.update([FaceDetection((0, 0, 30, 30), start + np.array([-3.0 * 0.2 * k, 0.0, 0.0]), 0.2)], t)
        assert [p.number for p in people] == [1]
    assert people[0].velocity[0] == pytest.approx(-3.0, abs=0.4)


def test_a_person_standing_still_has_no_velocity_and_speed_is_clamped():
    (still,) = walk(PeopleTracker(PeopleConfig()), np.zeros(3), 2.0, noise=0.02)
    assert np.linalg.norm(still.velocity) < 0.3
    tracker = PeopleTracker(PeopleConfig(max_speed=1.0))
    tracker.update([FaceDetection((0, 0, 30, 30), np.array([5.0, 0.0, 1.6]), 0.2)], 0.0)
    (jumped,) = tracker.update([FaceDetection((0, 0, 30, 30), np.array([4.5, 0.0, 1.6]), 0.2)], 0.05)
    assert np.linalg.norm(jumped.velocity) == pytest.approx(1.0)


def test_tracked_people_message():
    from legion_common.stamps import to_stamp
    from legion_perception.conversions import tracked_people_msg

    tracker = PeopleTracker(PeopleConfig())
    (person,) = walk(tracker, np.array([-1.0, 0.5, 0.0]), 2.0)
    msg = tracked_people_msg([person], to_stamp(2.0), "odom", 2.1)
    (out,) = msg.people
    assert out.id == "person_1" and msg.header.frame_id == "odom"
    assert (out.position.x, out.position.y) == pytest.approx(tuple(person.position[:2]))
    assert (out.velocity.x, out.velocity.y) == pytest.approx(tuple(person.velocity[:2]))
    assert out.last_seen == pytest.approx(2.1 - person.last_seen)
