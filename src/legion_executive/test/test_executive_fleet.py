"""The sorting tree in a cell shared with other robots: a bin's station is reserved at the fleet coordinator before
the walk to it, the robot waits while another robot holds it, and gives it back once it is at its table again.
Mock robot and mock clock (no ROS); the coordinator is legion_fleet's real reservation table, answering at once."""

from __future__ import annotations

import dataclasses

from executive_fixtures import Run, make_world, sorting_cell

from legion_executive.clients import Progress
from legion_executive.fleet import FleetReservations
from legion_executive.shift import State
from legion_fleet.reservations import ReservationTable

RED_DROP = "station/red_drop"


class Coordinator:
    """legion_fleet's table on the mock clock, as the fleet/reserve and fleet/release services would serve it."""

    def __init__(self, world) -> None:
        self.world = world
        self.table = ReservationTable(queue_timeout=5.0)
        self.requests: list[tuple[str, tuple[str, ...]]] = []
        self.answering = True
        """It takes requests and answers them (False: it takes them and never answers: hung)."""
        self.present = True
        """Its service is there (False: requests are not sent)."""

    def fleet(self, robot: str, **options) -> FleetReservations:
        def send_reserve(resources, lease, answer):
            self.requests.append((robot, tuple(resources)))
            if self.present and self.answering:
                reply = self.table.reserve(robot, list(resources), lease, self.world.time)
                answer(int(reply.code), reply.holders, reply.message)
            return self.present

        def send_release(resources, answered):
            if not self.present:
                return False
            self.table.release(robot, list(resources), self.world.time)
            if self.answering:
                answered()
            return True

        return FleetReservations(send_reserve, send_release, lambda: self.world.time, log=lambda _line: None,
                                 **options)


def shared_run(parts=None, **cell_policy):
    world = make_world(parts or [("red_cube_1", "red_cube", 0.50, 0.10)])
    coordinator = Coordinator(world)
    clients = world.clients()
    clients.reservations = coordinator.fleet("robot_1")
    world.clients = lambda: clients  # the Run builds its executive from world.clients()
    cell = sorting_cell()
    if cell_policy:
        cell = dataclasses.replace(cell, policy=dataclasses.replace(cell.policy, **cell_policy))
    return world, coordinator, Run(world, cell)


def at_red_drop(world) -> bool:
    red = sorting_cell().station("red_drop").pose
    return any(abs(x - red[0]) < 1e-6 and abs(y - red[1]) < 1e-6 for x, y, _ in world.walks)


def test_a_free_bin_station_is_reserved_before_the_walk_and_released_back_at_the_table():
    world, coordinator, run = shared_run()
    run.run(until=lambda r: at_red_drop(world))
    assert coordinator.table.held_by("robot_1") == [RED_DROP]
    assert run.logged(f"reserved {RED_DROP}")
    assert run.run() == State.SUCCEEDED
    assert world.parts["red_cube_1"].where == "bin:red_bin_1"
    assert coordinator.table.held_by("robot_1") == []
    assert run.logged("reservations released")


def test_the_robot_waits_while_another_holds_the_station_then_goes():
    world, coordinator, run = shared_run()
    coordinator.table.reserve("robot_2", [RED_DROP], lease=30.0, now=0.0)
    # robot_2 keeps renewing while it works at the station, for 40 s of the mock clock.
    renew = {"until": 40.0}

    def until(r):
        if world.time < renew["until"]:
            coordinator.table.reserve("robot_2", [RED_DROP], lease=30.0, now=world.time)
        return world.time >= renew["until"]

    run.run(until=until)
    assert run.executive.shift.current is not None
    assert "red_cube_1" in run.executive.clients.manipulation.holding().values()
    assert not at_red_drop(world), "walked to a station another robot holds"
    assert "waiting for station/red_drop (held by robot_2)" in run.executive.shift.phase
    coordinator.table.release("robot_2", [], now=world.time)
    assert run.run() == State.SUCCEEDED
    assert at_red_drop(world) and world.parts["red_cube_1"].where == "bin:red_bin_1"
    assert coordinator.table.held_by("robot_1") == []


def test_a_station_held_too_long_fails_the_part_which_goes_back_on_the_table():
    world, coordinator, run = shared_run(reservation_timeout=20.0)
    coordinator.table.reserve("robot_2", [RED_DROP], lease=600.0, now=0.0)
    assert run.run() in (State.SUCCEEDED, State.FAILED)
    record = run.record("red_cube_1")
    assert record.outcome == "failed" and "held by robot_2" in record.reason
    assert "no longer used" not in record.reason and not run.executive.shift.bin_problems  # busy, not unreachable
    assert world.parts["red_cube_1"].where == "table"  # put back where it was seen
    assert not at_red_drop(world)
    assert coordinator.table.held_by("robot_1") == []
    assert coordinator.table.queues == {} or all("robot_1" not in [w.robot for w in q]
                                                 for q in coordinator.table.queues.values())


def test_a_cancelled_shift_gives_its_reservations_back():
    _world, coordinator, run = shared_run()
    run.run(until=lambda r: coordinator.table.held_by("robot_1") == [RED_DROP])
    run.executive.cancel("operator")
    assert run.executive.state == State.CANCELLED
    assert coordinator.table.held_by("robot_1") == []


def test_grants_are_renewed_while_held_and_lapse_when_the_robot_stops():
    world = make_world()
    coordinator = Coordinator(world)
    fleet = coordinator.fleet("robot_1", lease=9.0)
    handle = fleet.reserve((RED_DROP,))
    assert handle.progress == Progress.SUCCEEDED
    for _ in range(300):  # 30 s, polled at 10 Hz as the executive ticks
        world.step(0.1)
        fleet.poll(world.time)
        assert coordinator.table.held_by("robot_1") == [RED_DROP], world.time
    # The robot stops ticking (hung): after one lease the coordinator gives the station to the next robot.
    world.step(9.1)
    assert coordinator.table.reserve("robot_2", [RED_DROP], lease=9.0, now=world.time).code == 0


def test_a_coordinator_that_does_not_answer_fails_the_request():
    world = make_world()
    coordinator = Coordinator(world)
    coordinator.answering = False
    fleet = coordinator.fleet("robot_1", answer_timeout=2.0)
    handle = fleet.reserve((RED_DROP,))
    for _ in range(25):
        world.step(0.1)
        fleet.poll(world.time)
    assert handle.progress == Progress.FAILED and handle.outcome.code == "NO_ANSWER"


def test_a_would_be_deadlock_releases_what_the_robot_holds_and_asks_again():
    world = make_world()
    coordinator = Coordinator(world)
    table = coordinator.table
    fleet = coordinator.fleet("robot_1")
    assert fleet.reserve(("station/a",)).progress == Progress.SUCCEEDED
    table.reserve("robot_2", ["station/b"], lease=30.0, now=0.0)
    table.reserve("robot_2", ["station/b", "station/a"], lease=30.0, now=0.0)  # robot_2 waits for robot_1
    handle = fleet.reserve(("station/a", "station/b"))  # would close the cycle: robot_1 lets go of station/a
    assert handle.progress == Progress.RUNNING and fleet.held == {}
    assert table.reserve("robot_2", ["station/b", "station/a"], lease=30.0, now=0.5).code == 0
    table.release("robot_2", [], now=1.0)
    world.step(1.0)
    fleet.poll(world.time)
    assert handle.progress == Progress.SUCCEEDED and sorted(fleet.held) == ["station/a", "station/b"]


def test_requests_wait_for_a_coordinator_that_is_not_there_yet():
    world = make_world()
    coordinator = Coordinator(world)
    coordinator.present = False
    fleet = coordinator.fleet("robot_1", retry=1.0, answer_timeout=2.0)
    handle = fleet.reserve((RED_DROP,))
    for _ in range(50):  # 5 s: not sent, never timed out, asked again every second
        world.step(0.1)
        fleet.poll(world.time)
    assert handle.progress == Progress.RUNNING and len(coordinator.requests) >= 5
    coordinator.present = True
    world.step(1.0)
    fleet.poll(world.time)
    assert handle.progress == Progress.SUCCEEDED


def test_a_shift_waits_out_a_missing_coordinator_then_fails_the_part_only():
    world, coordinator, run = shared_run(reservation_timeout=10.0)
    coordinator.present = False
    assert run.run() in (State.SUCCEEDED, State.FAILED)
    record = run.record("red_cube_1")
    assert record.outcome == "failed" and "waited" in record.reason
    assert world.parts["red_cube_1"].where == "table" and not at_red_drop(world)


def test_a_pause_on_the_way_to_the_shared_station_keeps_its_reservation_from_the_robot_queued_behind():
    """A person (or the other robot, as safety sees it) pauses the robot while it carries its part to the bin's
    station; the resumed cycle passes the table view's release on its way back there and must not give the station to
    the robot queued for it."""
    world, coordinator, run = shared_run()
    run.run(until=lambda r: coordinator.table.held_by("robot_1") == [RED_DROP])
    assert coordinator.table.reserve("robot_2", [RED_DROP], lease=30.0, now=world.time).code == 1  # queued

    def robot_2_asks(_r=None) -> bool:  # a queued robot keeps asking (else it leaves the queue)
        coordinator.table.reserve("robot_2", [RED_DROP], lease=30.0, now=world.time)
        return False

    world.people_at.append((world.base[0] + 1.0, world.base[1]))
    assert run.run(until=lambda r: robot_2_asks() or r.executive.state == State.PAUSED, limit=1.0) == State.PAUSED
    run.run(until=robot_2_asks, limit=3.0)
    red = sorting_cell().station("red_drop").pose

    def walks_to_red_drop() -> int:
        return sum(abs(x - red[0]) < 1e-6 and abs(y - red[1]) < 1e-6 for x, y, _ in world.walks)

    walks = walks_to_red_drop()
    world.people_at.clear()
    assert run.run(until=lambda r: robot_2_asks() or walks_to_red_drop() > walks, limit=30.0) == State.RUNNING
    assert coordinator.table.held_by("robot_1") == [RED_DROP]
    assert coordinator.table.held_by("robot_2") == []
    assert not run.logged("left the shared area")


def test_a_reserve_sent_after_a_release_waits_for_the_coordinator_to_answer_the_release():
    """The coordinator's reserve and release are two services: a reserve sent before the release is answered could be
    granted first and then freed by that release."""
    world = make_world()
    table = ReservationTable()
    sent, pending_releases = [], []

    def send_reserve(resources, lease, answer):
        sent.append(tuple(resources))
        reply = table.reserve("robot_1", list(resources), lease, world.time)
        answer(int(reply.code), reply.holders, reply.message)
        return True

    def send_release(resources, answered):  # answered later, as a slow service would
        pending_releases.append((tuple(resources), answered))
        return True

    fleet = FleetReservations(send_reserve, send_release, lambda: world.time, log=lambda _line: None)
    assert fleet.reserve((RED_DROP,)).progress == Progress.SUCCEEDED
    fleet.release_all()
    handle = fleet.reserve((RED_DROP,))
    world.step(2.0)
    fleet.poll(world.time)
    assert sent == [(RED_DROP,)] and handle.progress == Progress.RUNNING  # held back
    resources, answered = pending_releases.pop()
    table.release("robot_1", list(resources), world.time)
    answered()
    world.step(0.1)
    fleet.poll(world.time)
    assert sent == [(RED_DROP,), (RED_DROP,)] and handle.progress == Progress.SUCCEEDED
    assert table.held_by("robot_1") == [RED_DROP]
