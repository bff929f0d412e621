"""The reservation table of the fleet coordinator: all or nothing, leases, first come first served, no deadlock."""

from __future__ import annotations

import math

import pytest

from legion_fleet.reservations import Code, ReservationError, ReservationTable

RED, GREEN, AISLE = "station/red_drop", "station/green_drop", "aisle/north"


def test_a_free_set_is_granted_whole_and_a_held_one_is_busy():
    table = ReservationTable()
    granted = table.reserve("robot_1", [RED, AISLE], lease=10.0, now=0.0)
    assert granted.code == Code.GRANTED and granted.expires == 10.0 and granted.holders == ("", "")
    busy = table.reserve("robot_2", [GREEN, AISLE], lease=10.0, now=1.0)
    assert busy.code == Code.BUSY and busy.holders == ("", "robot_1") and math.isnan(busy.expires)
    assert "aisle/north (robot_1)" in busy.message
    assert table.held_by("robot_2") == []  # all or nothing: GREEN, though free, was not granted
    assert table.held_by("robot_1") == [AISLE, RED]


def test_asking_again_renews_and_a_lease_lapses_when_not_renewed():
    table = ReservationTable()
    table.reserve("robot_1", [RED], lease=5.0, now=0.0)
    assert table.reserve("robot_1", [RED], lease=5.0, now=4.0).expires == 9.0
    assert table.reserve("robot_2", [RED], lease=5.0, now=8.9).code == Code.BUSY
    # robot_1 stops renewing (it died): at t = 9 its lease lapses and the queued robot_2 gets the station.
    assert table.expire(9.0) == [(RED, "robot_1")]
    assert table.reserve("robot_2", [RED], lease=5.0, now=9.1).code == Code.GRANTED


def test_release_frees_for_the_first_robot_queued_not_the_next_to_ask():
    table = ReservationTable()
    table.reserve("robot_1", [RED], lease=30.0, now=0.0)
    assert table.reserve("robot_2", [RED], lease=30.0, now=1.0).code == Code.BUSY
    assert table.reserve("robot_3", [RED], lease=30.0, now=2.0).code == Code.BUSY
    assert table.release("robot_1", [], now=3.0) == [RED]
    late = table.reserve("robot_3", [RED], lease=30.0, now=3.5)
    assert late.code == Code.BUSY and late.holders == ("robot_2",)
    assert table.reserve("robot_2", [RED], lease=30.0, now=4.0).code == Code.GRANTED
    table.release("robot_2", [RED], now=5.0)
    assert table.reserve("robot_3", [RED], lease=30.0, now=5.5).code == Code.GRANTED


def test_a_queued_robot_that_stops_asking_leaves_the_queue():
    table = ReservationTable(queue_timeout=10.0)
    table.reserve("robot_1", [RED], lease=30.0, now=0.0)
    table.reserve("robot_2", [RED], lease=30.0, now=1.0)  # queued, then never asks again
    table.release("robot_1", [RED], now=5.0)
    assert table.reserve("robot_3", [RED], lease=30.0, now=6.0).code == Code.BUSY  # robot_2 is still first
    assert table.reserve("robot_3", [RED], lease=30.0, now=12.0).code == Code.GRANTED  # 11 s since robot_2 asked


def test_a_new_request_replaces_the_robots_place_in_other_queues():
    table = ReservationTable()
    table.reserve("robot_1", [RED], lease=30.0, now=0.0)
    table.reserve("robot_2", [RED], lease=30.0, now=1.0)  # queued on RED
    assert table.reserve("robot_2", [GREEN], lease=30.0, now=2.0).code == Code.GRANTED
    table.release("robot_1", [], now=3.0)
    assert table.reserve("robot_3", [RED], lease=30.0, now=3.0).code == Code.GRANTED  # robot_2 no longer waits


def test_hold_and_wait_that_would_close_a_cycle_is_refused():
    table = ReservationTable()
    table.reserve("robot_1", [RED], lease=30.0, now=0.0)
    table.reserve("robot_2", [GREEN], lease=30.0, now=0.0)
    assert table.reserve("robot_1", [RED, GREEN], lease=30.0, now=1.0).code == Code.BUSY  # waits for robot_2
    refused = table.reserve("robot_2", [GREEN, RED], lease=30.0, now=2.0)
    assert refused.code == Code.WOULD_DEADLOCK and "release first" in refused.message
    assert table.held_by("robot_2") == [GREEN]  # nothing changed for it
    # robot_2 releases what it holds: robot_1 gets both.
    table.release("robot_2", [], now=3.0)
    assert table.reserve("robot_1", [RED, GREEN], lease=30.0, now=3.0).code == Code.GRANTED


def test_a_cycle_through_three_robots_is_refused_too():
    table = ReservationTable()
    for robot, resource in (("a", "r1"), ("b", "r2"), ("c", "r3")):
        table.reserve(robot, [resource], lease=30.0, now=0.0)
    assert table.reserve("a", ["r1", "r2"], lease=30.0, now=1.0).code == Code.BUSY  # a waits for b
    assert table.reserve("b", ["r2", "r3"], lease=30.0, now=1.0).code == Code.BUSY  # b waits for c
    assert table.reserve("c", ["r3", "r1"], lease=30.0, now=1.0).code == Code.WOULD_DEADLOCK


def test_release_of_what_a_robot_does_not_hold_changes_nothing():
    table = ReservationTable()
    table.reserve("robot_1", [RED], lease=30.0, now=0.0)
    assert table.release("robot_2", [RED], now=1.0) == []
    assert table.held_by("robot_1") == [RED]


@pytest.mark.parametrize(("robot", "resources", "lease", "match"), [
    ("", [RED], 10.0, "robot name"),
    ("robot 1", [RED], 10.0, "robot name"),
    ("robot_1", [], 10.0, "at least one resource"),
    ("robot_1", RED, 10.0, "must be a list"),
    ("robot_1", ["bad name!"], 10.0, "resource name"),
    ("robot_1", [RED, RED], 10.0, "twice"),
    ("robot_1", [RED], float("nan"), "lease"),
    ("robot_1", [RED], 0.0, "lease"),
    ("robot_1", [RED], 1e6, "lease"),
])
def test_malformed_requests_are_refused_and_change_nothing(robot, resources, lease, match):
    table = ReservationTable()
    table.reserve("robot_9", [GREEN], lease=10.0, now=0.0)
    with pytest.raises(ReservationError, match=match):
        table.reserve(robot, resources, lease=lease, now=1.0)
    assert table.held_by("robot_9") == [GREEN] and not table.queues
