"""The sorting shift's behaviours: py_trees leaves over the client interfaces (`clients`).

Each behaviour reads and updates the shared `ShiftState` on the blackboard (key `<namespace>/shift`), starts at most
one request (walk, pick, place) in `initialise`, polls its handle in `update` and cancels it in `terminate` when the
tree interrupts it (a guard took over, the job was cancelled). A behaviour whose step is already done succeeds at
once, so that after an interruption the tree redoes only the interrupted step. Every decision is logged through
`ShiftState.decide`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import py_trees
from py_trees.common import Access, Status

from legion_common.transforms import wrap_angle
from legion_executive.cell import Station
from legion_executive.clients import Clients, Handle, Progress
from legion_executive.shift import SAME_PART_DISTANCE, CurrentPart, PartRecord, Phase, ShiftState

DROP_CODES = ("SLIPPED", "GRASP_MISSED")
"""Place result codes that mean the part is no longer in the hand."""
PERCEPTION_TIMEOUT = 5.0
"""[s] after the settle time, a look waits this long for a perception report newer than the head's move."""


class ShiftBehaviour(py_trees.behaviour.Behaviour):
    """A leaf with the robot's clients and the shift's state (blackboard key `shift` under `namespace`)."""

    def __init__(self, name: str, namespace: str, clients: Clients) -> None:
        super().__init__(name)
        self.clients = clients
        self.board = self.attach_blackboard_client(namespace=namespace)
        self.board.register_key("shift", access=Access.READ)
        self.handle: Handle | None = None

    @property
    def shift(self) -> ShiftState:
        return self.board.shift

    def now(self) -> float:
        return self.clients.clock.now()

    def holds(self, object_id: str) -> str:
        """The hand that holds `object_id`, or ""."""
        return next((side for side, held in self.clients.manipulation.holding().items() if held == object_id), "")

    def terminate(self, new_status: Status) -> None:
        if new_status == Status.INVALID and self.handle is not None and self.handle.progress == Progress.RUNNING:
            self.handle.cancel()
            self.shift.decide(f"{self.name}: interrupted, request cancelled")
        self.handle = None


# ------------------------------------------------------------------------------------------------ guards
class SafetyStopActive(ShiftBehaviour):
    """SUCCESS while the e-stop is latched or the robot has fallen."""

    def update(self) -> Status:
        robot = self.clients.robot
        if robot.emergency_stop() or robot.fallen():
            self.feedback_message = "e-stop" if robot.emergency_stop() else "fallen"
            return Status.SUCCESS
        return Status.FAILURE


class HoldStopped(ShiftBehaviour):
    """Hold (RUNNING) while stopped: the tree below was cancelled; a safe point is set to resume from after the reset:
    a fresh look, and a new choice of part unless one is in a hand."""

    def initialise(self) -> None:
        shift = self.shift
        what = "e-stop" if self.clients.robot.emergency_stop() else "fall"
        shift.phase = f"stopped ({what})"
        shift.invalidate_view()
        if shift.current is not None and shift.current.phase == Phase.PICK:
            shift.decide(f"stopped by {what}: every request cancelled; after the reset the robot looks again and "
                         f"re-plans ('{shift.current.record.id}' will be chosen again if still there)")
            shift.current = None
        else:
            shift.decide(f"stopped by {what}: every request cancelled; holding until it is reset")
        self.clients.posture.neutral()

    def update(self) -> Status:
        return Status.RUNNING


class PersonInZone(ShiftBehaviour):
    """SUCCESS while a person is within policy.protective_zone of the robot or the safety node reports a protective
    stop, and until both have been clear for policy.resume_after."""

    def __init__(self, name: str, namespace: str, clients: Clients) -> None:
        super().__init__(name, namespace, clients)
        self.last_seen = -math.inf
        self.distance = math.inf

    def update(self) -> Status:
        policy = self.shift.cell.policy
        base = self.clients.robot.base_pose()
        now = self.now()
        if base is not None:
            distances = [math.hypot(x - base[0], y - base[1]) for x, y in self.clients.perception.people()]
            nearest = min(distances, default=math.inf)
            if nearest < policy.protective_zone:
                self.last_seen, self.distance = now, nearest
        if self.clients.robot.safety_stop():
            self.last_seen, self.distance = now, math.nan
        if now - self.last_seen < policy.resume_after:
            self.feedback_message = ("the safety node's protective stop" if math.isnan(self.distance)
                                     else f"a person at {self.distance:.2f} m")
            self.shift.pause_reason = self.feedback_message
            return Status.SUCCESS
        return Status.FAILURE


class HoldPaused(ShiftBehaviour):
    """Hold (RUNNING) while a person is near: the running motion was cancelled by the interruption; the interrupted
    step is redone when the shift resumes."""

    def initialise(self) -> None:
        shift = self.shift
        shift.phase = "paused (person in the protective zone)"
        shift.decide(f"paused ({shift.pause_reason}; the protective zone is "
                     f"{shift.cell.policy.protective_zone:.1f} m): motion cancelled, resuming "
                     f"{shift.cell.policy.resume_after:.1f} s after it is clear")

    def update(self) -> Status:
        return Status.RUNNING

    def terminate(self, new_status: Status) -> None:
        if new_status == Status.INVALID:
            self.shift.decide("resumed: the protective zone is clear; redoing the interrupted step")


# ------------------------------------------------------------------------------------------------ walking, looking
class WalkToStation(ShiftBehaviour):
    """Walk to a station (returned by `target(shift)`), unless the robot is there already. With `carrying`, the part
    of the current cycle must stay in its hand: if it leaves the hand the walk is cancelled and the part is dropped."""

    def __init__(self, name: str, namespace: str, clients: Clients, target, carrying: bool = False,
                 needed=lambda shift: True) -> None:
        super().__init__(name, namespace, clients)
        self.target = target
        self.carrying = carrying
        self.needed = needed
        self.station: Station | None = None
        self.send_at = -math.inf
        """[s] when the goal is sent: after a clearing of the obstacle grid, once perception has looked again."""

    def at(self, station: Station) -> bool:
        base = self.clients.robot.base_pose()
        policy = self.shift.cell.policy
        return base is not None and math.hypot(base[0] - station.pose[0], base[1] - station.pose[1]) \
            <= policy.station_tolerance and abs(wrap_angle(base[2] - station.pose[2])) <= policy.station_yaw_tolerance

    def dropped(self) -> bool:
        current = self.shift.current
        if not self.carrying or current is None or self.holds(current.record.track):
            return False
        current.outcome, current.reason = "dropped", f"'{current.record.id}' left the hand on the way to its bin"
        current.phase = Phase.DONE
        self.shift.decide(f"dropped: {current.reason}; the shift goes on")
        return True

    def initialise(self) -> None:
        self.handle = None
        self.station = None
        if not self.needed(self.shift):
            return
        self.station = self.target(self.shift)
        if self.station is None or self.dropped() or self.at(self.station):
            return
        self.clients.posture.neutral()  # walk upright: a look posture may lean the torso or turn the head
        self.shift.phase = f"walking to {self.station.name}"
        self.send_at = self.shift.obstacles_cleared + self.shift.cell.policy.look_time
        if self.now() >= self.send_at:
            self._send()

    def _send(self) -> None:
        x, y, yaw = self.station.pose
        self.shift.decide(f"walk to station '{self.station.name}' ({x:.2f}, {y:.2f}, {math.degrees(yaw):.0f} deg)"
                          + (" carrying " + self.shift.current.record.id if self.carrying and self.shift.current
                             else ""))
        self.handle = self.clients.motion.walk_to(x, y, yaw)

    def update(self) -> Status:
        if not self.needed(self.shift):
            return Status.SUCCESS
        if self.station is None:
            self.shift.last_failure = "no station to walk to"
            return Status.FAILURE
        if self.carrying and self.shift.current is not None and self.shift.current.outcome == "dropped":
            return Status.FAILURE
        if self.dropped():
            if self.handle is not None:
                self.handle.cancel()
                self.handle = None
            return Status.FAILURE
        if self.handle is None:
            if self.at(self.station):
                return Status.SUCCESS
            if self.now() < self.send_at:
                return Status.RUNNING  # perception builds its obstacle grid again before the retry
            self._send()
            return Status.RUNNING
        progress = self.handle.progress
        if progress == Progress.RUNNING:
            return Status.RUNNING
        message = self.handle.outcome.message
        self.handle = None
        if progress == Progress.SUCCEEDED:
            return Status.FAILURE if self.dropped() else Status.SUCCESS
        self.shift.last_failure = f"walk_to station '{self.station.name}' failed: {message}"
        self.shift.decide(self.shift.last_failure)
        # A recovery, as Nav2's: perception forgets its obstacle grid (a stale cell, something that has gone) and
        # maps again from what it sees before the walk is retried.
        self.clients.perception.clear_obstacles()
        self.shift.obstacles_cleared = self.now()
        self.shift.decide("perception's obstacle grid cleared before the walk is tried again")
        return Status.FAILURE


class Reserve(ShiftBehaviour):
    """Reserve, at the fleet coordinator, what the robots of the cell share before going there (`resources(shift)`:
    names such as `station/red_drop`). Succeeds at once without a fleet (`clients.reservations` is None) or when
    nothing is to be reserved; RUNNING while another robot holds it (the robot waits where it is, queued); FAILURE
    after `policy.reservation_timeout` of waiting or when the coordinator refuses or does not answer."""

    def __init__(self, name: str, namespace: str, clients: Clients, resources, needed=lambda shift: True) -> None:
        super().__init__(name, namespace, clients)
        self.resources = resources
        self.needed = needed
        self.started = math.nan
        self.names: tuple[str, ...] = ()

    def initialise(self) -> None:
        self.handle = None
        fleet = self.clients.reservations
        self.names = tuple(self.resources(self.shift)) if self.needed(self.shift) else ()
        if fleet is None or not self.names:
            return
        self.started = self.now()
        self.handle = fleet.reserve(self.names)

    def update(self) -> Status:
        if self.handle is None:
            return Status.SUCCESS
        progress = self.handle.progress
        if progress == Progress.SUCCEEDED:
            self.shift.decide(f"reserved {', '.join(self.names)}")
            self.handle = None
            return Status.SUCCESS
        if progress == Progress.FAILED:
            self.shift.last_failure = f"reservation of {', '.join(self.names)} failed: {self.handle.outcome.message}"
            self.shift.decide(self.shift.last_failure)
            self.handle = None
            return Status.FAILURE
        waited = self.now() - self.started
        holders = sorted({h for h in getattr(self.handle, "holders", ()) if h})
        self.shift.phase = f"waiting for {', '.join(self.names)}" + (f" (held by {', '.join(holders)})"
                                                                      if holders else "")
        if waited > self.shift.cell.policy.reservation_timeout:
            self.handle.cancel()
            self.handle = None
            self.shift.last_failure = (f"waited {waited:.0f} s for {', '.join(self.names)}"
                                       + (f", held by {', '.join(holders)}" if holders else ""))
            self.shift.decide(self.shift.last_failure)
            return Status.FAILURE
        return Status.RUNNING


class ReleaseReservations(ShiftBehaviour):
    """Release everything this robot holds at the fleet coordinator (the robot has left the shared area), unless the
    current part is still on its way to its bin: a cycle resumed after a pause comes through here on its way back to
    the bin's station, whose reservation it still needs."""

    def update(self) -> Status:
        fleet = self.clients.reservations
        if self.shift.current is not None and not needs_pick(self.shift):
            return Status.SUCCESS
        if fleet is not None and fleet.held:
            fleet.release_all()
            self.shift.decide("left the shared area: reservations released")
        return Status.SUCCESS


class Look(ShiftBehaviour):
    """At a station: take its `look` posture, wait policy.look_time, then read perception (a report newer than the
    settle time). Succeeds at once if the newest look was taken there and nothing has happened since."""

    def __init__(self, name: str, namespace: str, clients: Clients, target) -> None:
        super().__init__(name, namespace, clients)
        self.target = target
        self.started = math.nan
        self.station: Station | None = None

    def initialise(self) -> None:
        self.station = self.target(self.shift)
        self.started = math.nan
        if self.station is None or self.shift.has_view(self.station.name):
            return
        self.started = self.now()
        self.shift.phase = f"looking at {', '.join(self.station.faces)}"
        if self.station.look:
            self.clients.posture.look(self.station.look)
        else:
            self.clients.posture.neutral()

    def update(self) -> Status:
        shift = self.shift
        if self.station is None:
            return Status.FAILURE
        if math.isnan(self.started):
            return Status.SUCCESS
        settled = self.started + shift.cell.policy.look_time
        now = self.now()
        if now < settled:
            return Status.RUNNING
        scene = self.clients.perception.scene()
        if scene.stamp < settled:
            if now > settled + PERCEPTION_TIMEOUT:
                shift.last_failure = f"no perception report at station '{self.station.name}'"
                shift.decide(shift.last_failure)
                return Status.FAILURE
            return Status.RUNNING
        shift.view, shift.view_station, shift.view_valid = scene, self.station.name, True
        # Parts are counted from a station that faces their table: perception keeps reporting parts it saw before
        # (at the place it saw them, with the odometry of then), so a look from a bin's station would count a part
        # seen again from there, a little off, as another.
        faced = [p for p in scene.parts if (table := shift.cell.table_at(p.position[0], p.position[1])) is not None
                 and table.name in self.station.faces]
        shift.note_seen(faced)
        shift.decide(f"looked from '{self.station.name}': {len(faced)} parts on the table it faces, "
                     f"{len(scene.bins)} bins in view")
        return Status.SUCCESS


# ------------------------------------------------------------------------------------------------ bins
def _station_name(station: str | Callable[[ShiftState], str | None], shift: ShiftState) -> str | None:
    """A station given by name, or by a function of the shift (e.g. the current part's bin station)."""
    return station(shift) if callable(station) else station


class _BinStationBehaviour(ShiftBehaviour):
    """A behaviour about the bins of one station: a name, or a function of the shift giving one (e.g. the current
    part's bin station)."""

    def __init__(self, name: str, namespace: str, clients: Clients, station) -> None:
        super().__init__(name, namespace, clients)
        self._station = station

    @property
    def station(self) -> str | None:
        return _station_name(self._station, self.shift)


class StationChecked(_BinStationBehaviour):
    """SUCCESS if the bins of `station` have been checked."""

    def update(self) -> Status:
        return Status.SUCCESS if self.station in self.shift.bins_checked else Status.FAILURE


class CheckBins(_BinStationBehaviour):
    """From the look at `station`: each of its bins must be seen within policy.bin_tolerance of where the cell says;
    one that is not is reported and not used (its classes are then left alone)."""

    def update(self) -> Status:
        shift = self.shift
        cell = shift.cell
        seen = shift.view.bins if shift.view is not None else ()
        for b in (b for b in cell.bins if b.station == self.station):
            candidates = [p for p in seen if p.label == b.name or p.id == b.name or p.id.startswith(f"{b.name}_")]
            best = min(candidates, key=lambda p: math.hypot(p.position[0] - b.position[0],
                                                            p.position[1] - b.position[1]), default=None)
            if best is None:
                shift.bin_problems[b.name] = f"bin '{b.name}' not seen from station '{self.station}'"
            else:
                distance = math.hypot(best.position[0] - b.position[0], best.position[1] - b.position[1])
                if distance > cell.policy.bin_tolerance:
                    shift.bin_problems[b.name] = (f"bin '{b.name}' seen {distance:.2f} m from its cell position "
                                                  f"(tolerance {cell.policy.bin_tolerance:.2f} m)")
                else:
                    shift.bin_ids[b.name] = best.id
                    shift.decide(f"bin '{b.name}' found as '{best.id}', {distance:.2f} m from its cell position")
                    continue
            shift.decide(f"{shift.bin_problems[b.name]}: not used; {', '.join(b.accepts)} left alone")
        shift.bins_checked.add(self.station)
        return Status.SUCCESS


class BinsUnusable(_BinStationBehaviour):
    """The bins of `station` could not be checked (its station unreachable, no perception): reported, not used."""

    def update(self) -> Status:
        shift = self.shift
        for b in (b for b in shift.cell.bins if b.station == self.station):
            shift.bin_problems[b.name] = f"bin '{b.name}' could not be checked: {shift.last_failure}"
            shift.decide(f"{shift.bin_problems[b.name]}: not used; {', '.join(b.accepts)} left alone")
        shift.bins_checked.add(self.station)
        return Status.SUCCESS


class BinUsable(ShiftBehaviour):
    """SUCCESS if the current part's bin passed its check; else FAILURE with the bin's problem as the last failure
    (the part is then not placed)."""

    def update(self) -> Status:
        shift = self.shift
        current = shift.current
        if current is None:
            return Status.FAILURE
        problem = shift.bin_problems.get(current.record.bin, "")
        if not problem:
            return Status.SUCCESS
        shift.last_failure = problem
        return Status.FAILURE


# ------------------------------------------------------------------------------------------------ parts
class ChoosePart(ShiftBehaviour):
    """The next part from the newest look: on a table, not yet worked on, its class accepted by a usable bin; the
    closest to the robot first. FAILURE (with `shift.done`) when none is left or max_parts have been worked on.
    Parts whose class no usable bin accepts are recorded `ignored` once."""

    def update(self) -> Status:
        shift = self.shift
        if shift.current is not None:  # resuming the interrupted cycle
            return Status.SUCCESS
        if shift.max_parts and shift.worked() >= shift.max_parts:
            shift.done, shift.done_reason = True, f"{shift.max_parts} parts worked on (max_parts)"
            shift.decide(f"done: {shift.done_reason}")
            return Status.FAILURE
        held = {side: part for side, part in self.clients.manipulation.holding().items() if part}
        if held and len(held) == len(self.clients.manipulation.holding()):
            shift.last_failure = "every hand holds a part that could not be put down: " + ", ".join(
                f"{side} '{part}'" for side, part in sorted(held.items()))
            shift.decide(shift.last_failure)
            return Status.FAILURE
        cell = shift.cell
        base = self.clients.robot.base_pose() or (0.0, 0.0, 0.0)
        candidates = []
        for part in shift.view.parts if shift.view is not None else ():
            table = cell.table_at(part.position[0], part.position[1])
            record = shift.record_of(part)
            if table is None or (record is not None and record.outcome):
                continue
            bin_ = cell.bin_for(part.label)
            reason = ""
            if bin_ is None:
                reason = f"no bin accepts class '{part.label}'"
            elif bin_.name in shift.bin_problems:
                reason = f"its bin is not used: {shift.bin_problems[bin_.name]}"
            if reason:
                now = self.now()
                shift.records[part.id] = PartRecord(part.id, part.label, bin_.name if bin_ else "", "ignored",
                                                    start=now, end=now, reason=reason,
                                                    position=part.position)
                shift.decide(f"ignore '{part.id}': {reason}")
                continue
            station = cell.station_for_table(table.name)
            distance = math.hypot(part.position[0] - base[0], part.position[1] - base[1])
            candidates.append((distance, part, bin_, station))
        if not candidates:
            shift.done, shift.done_reason = True, "no sortable part left"
            shift.decide(f"done: {shift.done_reason}")
            return Status.FAILURE
        distance, part, bin_, station = min(candidates, key=lambda c: c[0])
        record = shift.record_of(part) or PartRecord(part.id, part.label, bin_.name, start=self.now(),
                                                     position=part.position)
        shift.records[record.id] = record
        shift.current = CurrentPart(record, station.name)
        shift.decide(f"next part '{part.id}' ({part.label}) for '{bin_.name}': the closest of {len(candidates)} "
                     f"sortable parts ({distance:.2f} m)")
        return Status.SUCCESS


def needs_pick(shift: ShiftState) -> bool:
    return shift.current is not None and shift.current.phase == Phase.PICK


def needs_carry(shift: ShiftState) -> bool:
    return shift.current is not None and shift.current.phase == Phase.CARRY


class Pick(ShiftBehaviour):
    """Pick the current part (from a fresh look). Attempt 1: the planner's hand; 2: the same hand; 3 and later: the
    other hand if policy.other_hand. A failure costs an attempt and the look; after policy.max_attempts FAILURE."""

    def side_for(self, record: PartRecord) -> str:
        attempt = record.attempts + 1
        if attempt >= 3 and self.shift.cell.policy.other_hand and record.first_side:
            return {"left": "right", "right": "left"}.get(record.first_side, "")
        return record.first_side if attempt == 2 else ""

    def initialise(self) -> None:
        self.handle = None
        shift = self.shift
        current = shift.current
        if current is None or current.phase != Phase.PICK:
            return
        record = current.record
        held = self.holds(record.track)
        if held:  # a pick interrupted after the grasp: the part is in the hand
            current.phase, current.side = Phase.CARRY, held
            shift.decide(f"'{record.id}' is already in the {held} hand")
            return
        if record.attempts >= shift.cell.policy.max_attempts:
            return
        seen = shift.find_part(record)
        if seen is None:
            record.attempts += 1
            shift.last_failure = f"'{record.id}' is no longer seen on the table"
            shift.invalidate_view()
            shift.decide(f"pick attempt {record.attempts}: {shift.last_failure}")
            return
        record.position, record.track = seen.position, seen.id
        side = self.side_for(record)
        shift.phase = f"picking {record.id}"
        track = "" if seen.id == record.id else f" (perceived now as '{seen.id}')"
        shift.decide(f"pick '{record.id}'{track} attempt {record.attempts + 1} of {shift.cell.policy.max_attempts} "
                     f"with {side + ' hand' if side else 'the hand the planner chooses'}")
        self.handle = self.clients.manipulation.pick(seen.id, side)

    def update(self) -> Status:
        shift = self.shift
        current = shift.current
        if current is None:
            return Status.FAILURE
        if current.phase != Phase.PICK:
            return Status.SUCCESS
        if self.handle is None:
            return Status.FAILURE
        progress = self.handle.progress
        if progress == Progress.RUNNING:
            return Status.RUNNING
        outcome, self.handle = self.handle.outcome, None
        record = current.record
        record.attempts += 1
        if not record.first_side and outcome.side:
            record.first_side = outcome.side
        if progress == Progress.SUCCEEDED:
            current.phase, current.side = Phase.CARRY, outcome.side or self.holds(record.track)
            shift.decide(f"picked '{record.id}' with the {current.side} hand")
            return Status.SUCCESS
        shift.last_failure = f"pick attempt {record.attempts} ({outcome.side or 'any'} hand) failed: " \
                             f"{outcome.code}: {outcome.message}"
        shift.invalidate_view()
        left = shift.cell.policy.max_attempts - record.attempts
        shift.decide(shift.last_failure + (f"; looking again, {left} attempts left" if left > 0 else ""))
        return Status.FAILURE


class Place(ShiftBehaviour):
    """Place the carried part into its bin (the id perception gave the bin); the result's `verified` decides whether
    it counts as sorted. A part no longer in the hand is dropped."""

    def initialise(self) -> None:
        self.handle = None
        shift = self.shift
        current = shift.current
        if current is None or current.phase != Phase.CARRY:
            return
        record = current.record
        side = self.holds(record.track)
        if not side:
            current.phase, current.outcome = Phase.DONE, "dropped"
            current.reason = f"'{record.id}' is no longer in the hand before the place"
            shift.decide(f"dropped: {current.reason}; the shift goes on")
            return
        container = shift.bin_ids.get(record.bin, record.bin)
        shift.phase = f"placing {record.id} into {record.bin}"
        shift.decide(f"place '{record.id}' from the {side} hand into '{container}'")
        self.handle = self.clients.manipulation.place(container, side)

    def update(self) -> Status:
        shift = self.shift
        current = shift.current
        if current is None:
            return Status.FAILURE
        if current.phase == Phase.DONE:
            return Status.SUCCESS if current.outcome in ("", "sorted", "failed") else Status.FAILURE
        if self.handle is None:
            return Status.FAILURE
        progress = self.handle.progress
        if progress == Progress.RUNNING:
            return Status.RUNNING
        outcome, self.handle = self.handle.outcome, None
        record = current.record
        if progress == Progress.SUCCEEDED:
            current.phase = Phase.DONE
            if outcome.verified:
                current.outcome = "sorted"
                shift.decide(f"placed '{record.id}' into '{record.bin}', verified by perception")
            else:
                current.outcome = "failed"
                current.reason = "released over the bin but perception did not see it inside"
                current.recheck = True
                shift.decide(f"placed '{record.id}' but not verified: {current.reason}")
            return Status.SUCCESS
        if outcome.code in DROP_CODES or not self.holds(record.track):
            current.phase, current.outcome = Phase.DONE, "dropped"
            current.reason = f"fell during the place: {outcome.code}: {outcome.message}"
            current.recheck = True  # it left the hand over its bin: it may have fallen in
            shift.decide(f"dropped '{record.id}': {current.reason}; the shift goes on")
            return Status.FAILURE
        shift.last_failure = f"place into '{record.bin}' failed: {outcome.code}: {outcome.message}"
        shift.decide(shift.last_failure)
        return Status.FAILURE


RECHECK_MARGIN = 0.03
"""[m] a part seen this far outside a bin's outline (its centre: a part against a wall is partly hidden by it, so
its visible part's centre is off) still counts as inside on the second look."""
RECHECK_RIM = 0.02
"""[m] ... and no higher than this above the bin's rim (higher: resting on the rim or held)."""


def colour_of(label: str) -> str:
    """The colour of a part class (`blue_cylinder` -> `blue`): a part lying in a bin may read as another shape (a
    cylinder on its side shows a rectangle from above), never another colour."""
    return label.rsplit("_", 1)[0]


def parts_in_bin(scene, bin_position: tuple[float, float, float], size: tuple[float, float], yaw: float,
                 colour: str) -> list:
    """The parts of `scene` of `colour` inside a bin whose opening centre perception puts at `bin_position` (odom),
    of the cell's outer `size` and `yaw`: within its outline grown by RECHECK_MARGIN, no higher than RECHECK_RIM
    above its rim; tracks closer together than SAME_PART_DISTANCE count once."""
    c, s = math.cos(yaw), math.sin(yaw)
    found = []
    for part in scene.parts:
        if colour_of(part.label) != colour:
            continue
        dx, dy = part.position[0] - bin_position[0], part.position[1] - bin_position[1]
        local_x, local_y = c * dx + s * dy, -s * dx + c * dy
        if (abs(local_x) <= size[0] / 2 + RECHECK_MARGIN and abs(local_y) <= size[1] / 2 + RECHECK_MARGIN
                and part.position[2] <= bin_position[2] + RECHECK_RIM
                and all(math.dist(part.position, other.position) > SAME_PART_DISTANCE for other in found)):
            found.append(part)  # two tracks closer than SAME_PART_DISTANCE are one part (a track kept and a new one)
    return found


class RecheckBin(ShiftBehaviour):
    """After a place that released the part over its bin without confirming it inside (perception did not see it
    there within the place's verify time, or it slipped at the release), look into the bin again from its station
    (the `look` posture, policy.look_time, a perception report newer than that) and count the part sorted if more
    parts of its colour lie in the bin (`parts_in_bin`) than parts already sorted into it. Perception only, never
    the simulator's truth. Always SUCCESS (the outcome stays as the place left it when the look does not confirm)."""

    def initialise(self) -> None:
        self.started = math.nan
        shift = self.shift
        current = shift.current
        if current is None or not current.recheck or current.outcome not in ("failed", "dropped"):
            return
        if self.holds(current.record.track):
            current.recheck = False
            return
        station = shift.cell.station(shift.cell.bin(current.record.bin).station)
        self.started = self.now()
        shift.phase = f"looking into {current.record.bin} again"
        if station.look:
            self.clients.posture.look(station.look)
        else:
            self.clients.posture.neutral()

    def update(self) -> Status:
        shift = self.shift
        current = shift.current
        if math.isnan(self.started) or current is None:
            return Status.SUCCESS
        settled = self.started + shift.cell.policy.look_time
        now = self.now()
        if now < settled:
            return Status.RUNNING
        scene = self.clients.perception.scene()
        if scene.stamp < settled:
            if now <= settled + PERCEPTION_TIMEOUT:
                return Status.RUNNING
            current.recheck = False
            shift.decide(f"no perception report to look into '{current.record.bin}' again")
            return Status.SUCCESS
        current.recheck = False
        shift.invalidate_view()
        record = current.record
        cell_bin = shift.cell.bin(record.bin)
        bin_id = shift.bin_ids.get(record.bin, record.bin)
        seen_bin = next((b for b in scene.bins if b.id == bin_id), None)
        if seen_bin is None:
            shift.decide(f"'{record.bin}' not seen on the second look: '{record.id}' stays {current.outcome}")
            return Status.SUCCESS
        inside = parts_in_bin(scene, seen_bin.position, cell_bin.size, cell_bin.yaw, colour_of(record.label))
        before = sum(1 for r in shift.records.values() if r is not record and r.outcome == "sorted"
                     and r.bin == record.bin and colour_of(r.label) == colour_of(record.label))
        if len(inside) > before:
            was = current.outcome
            current.outcome, current.reason = "sorted", ""
            shift.decide(f"'{record.id}' seen inside '{record.bin}' on a second look ({len(inside)} "
                         f"{colour_of(record.label)} part(s) there, {before} sorted before; the place said {was})")
        else:
            shift.decide(f"'{record.id}' not seen inside '{record.bin}' on a second look ({len(inside)} "
                         f"{colour_of(record.label)} part(s) there, {before} sorted before): stays {current.outcome}")
        return Status.SUCCESS


class EndCycle(ShiftBehaviour):
    """The fallback after a step of the cycle failed for good: the part gets `outcome` (unless a step already gave
    it one, e.g. dropped) with the last failure as its reason; FAILURE, so that the cycle's remaining steps are not
    run. With `bin_unreachable`, the bins of the part's bin station are no longer used either."""

    def __init__(self, name: str, namespace: str, clients: Clients, outcome: str, bin_unreachable: bool = False):
        super().__init__(name, namespace, clients)
        self.outcome = outcome
        self.bin_unreachable = bin_unreachable

    def update(self) -> Status:
        shift = self.shift
        current = shift.current
        if current is None:
            return Status.FAILURE
        if not current.outcome:
            current.outcome, current.reason = self.outcome, shift.last_failure or self.name
            if self.bin_unreachable:
                station = shift.cell.bin(current.record.bin).station
                names = [b.name for b in shift.cell.bins if b.station == station]
                for name in names:
                    shift.bin_problems[name] = f"its station '{station}' cannot be reached ({shift.last_failure})"
                current.reason += f"; bins {', '.join(names)} are no longer used"
            shift.decide(f"{self.outcome} '{current.record.id}': {current.reason}")
        current.phase = Phase.DONE
        return Status.FAILURE


def needs_return(shift: ShiftState) -> bool:
    return shift.current is not None and shift.current.phase == Phase.RETURN


class HandsFree(ShiftBehaviour):
    """SUCCESS when the current part's cycle left it out of the hands (placed, dropped, or never picked); FAILURE
    when it is still in a hand, which turns the part to `Phase.RETURN`: it is to be put back where it was picked,
    so that the hand is free for the next part."""

    def update(self) -> Status:
        current = self.shift.current
        if current is None or current.returned:
            return Status.SUCCESS
        side = self.holds(current.record.track)
        if not side:
            return Status.SUCCESS
        if current.phase != Phase.RETURN:
            current.phase, current.side = Phase.RETURN, side
            self.shift.decide(f"'{current.record.id}' is still in the {side} hand: putting it back on the table")
        return Status.FAILURE


class PutBack(ShiftBehaviour):
    """Put the current part (`Phase.RETURN`) down where perception saw it on the table when it was chosen; SUCCESS
    when it left the hand there, FAILURE (the hand keeps it) otherwise."""

    def initialise(self) -> None:
        self.handle = None
        current = self.shift.current
        if current is None or current.phase != Phase.RETURN or current.record.position is None:
            return
        side = self.holds(current.record.track)
        if not side:
            return
        self.shift.phase = f"putting {current.record.id} back"
        x, y, z = current.record.position
        self.shift.decide(f"put '{current.record.id}' back from the {side} hand at ({x:.2f}, {y:.2f}, {z:.2f})")
        self.handle = self.clients.manipulation.put_down(current.record.position, side)

    def update(self) -> Status:
        current = self.shift.current
        if current is None or current.phase != Phase.RETURN:
            return Status.SUCCESS
        if self.handle is None:
            if not self.holds(current.record.track):  # it left the hand before the put-down began
                return self._done("it left the hand on the way back")
            self.shift.last_failure = f"'{current.record.id}' has no position to be put back at"
            return Status.FAILURE
        progress = self.handle.progress
        if progress == Progress.RUNNING:
            return Status.RUNNING
        outcome, self.handle = self.handle.outcome, None
        if progress == Progress.SUCCEEDED or not self.holds(current.record.track):
            return self._done("put back on the table" if progress == Progress.SUCCEEDED
                              else f"left the hand while being put back ({outcome.code})")
        self.shift.last_failure = f"putting '{current.record.id}' back failed: {outcome.code}: {outcome.message}"
        self.shift.decide(self.shift.last_failure)
        return Status.FAILURE

    def _done(self, what: str) -> Status:
        current = self.shift.current
        current.phase, current.returned = Phase.DONE, True
        current.reason = f"{current.reason}; {what}" if current.reason else what
        self.shift.decide(f"'{current.record.id}': {what}")
        return Status.SUCCESS


class KeepHolding(ShiftBehaviour):
    """The part could not be put back: it stays in its hand (the next parts are picked with the other hand); SUCCESS."""

    def update(self) -> Status:
        current = self.shift.current
        if current is not None and not current.returned:
            side = self.holds(current.record.track)
            current.phase, current.returned = Phase.DONE, True
            what = f"still in the {side} hand" if side else "no longer in a hand"
            current.reason = f"{current.reason}; {what}" if current.reason else what
            self.shift.decide(f"'{current.record.id}' {what}: {self.shift.last_failure}")
        return Status.SUCCESS


class FinishPart(ShiftBehaviour):
    """Close the current part's record (its outcome, end time, reason) and count it; the next look is a fresh one."""

    def update(self) -> Status:
        shift = self.shift
        current = shift.current
        if current is None:
            return Status.SUCCESS
        record = current.record
        record.outcome = current.outcome or "sorted"
        record.reason = current.reason
        record.end = self.now()
        shift.current = None
        shift.invalidate_view()
        counts = shift.counts()
        shift.decide(f"'{record.id}': {record.outcome}" + (f" ({record.reason})" if record.reason else "")
                     + f"; sorted {counts['sorted']}, skipped {counts['skipped']}, dropped {counts['dropped']}, "
                       f"failed {counts['failed']}, ignored {counts['ignored']}")
        return Status.SUCCESS


class FinishShift(ShiftBehaviour):
    """SUCCESS with the shift's report when it ended because nothing sortable is left; else FAILURE (the reason)."""

    def update(self) -> Status:
        shift = self.shift
        counts = shift.counts()
        if shift.done:
            self.clients.posture.neutral()
            shift.phase = "done"
            shift.decide(f"shift done ({shift.done_reason}): seen {counts['seen']}, sorted {counts['sorted']}, "
                         f"skipped {counts['skipped']}, dropped {counts['dropped']}, failed {counts['failed']}, "
                         f"ignored {counts['ignored']}")
            return Status.SUCCESS
        shift.failure = shift.last_failure or "the shift could not go on"
        shift.phase = "failed"
        shift.decide(f"shift failed: {shift.failure}")
        return Status.FAILURE
