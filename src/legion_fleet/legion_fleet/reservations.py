"""Leased reservations of what several robots of one cell share (an area, a bin, a station): the core of
`fleet_coordinator`, without ROS.

A robot asks for a set of named resources (`station/red_drop`, `bin/red_bin`, `aisle/north`: the names are the
cell's, the table does not interpret them) and gets all of them or none:

- **Leased.** A grant lapses `lease` seconds after it was given unless the robot asks again (a renewal), so the
  resources of a robot that died, hung or lost its link come free by themselves: nobody waits forever for a robot
  that is gone.
- **First come, first served.** A refused robot is queued on each resource it asked for; a resource that comes free
  goes to the robot queued first, not to whoever asks next, so no robot starves. A queued robot that stops asking
  (for `queue_timeout`) leaves the queue.
- **No deadlock.** All-or-nothing grants never hold a robot half-way; what remains is a robot that holds something and
  asks for more (hold and wait). A request is refused with `WOULD_DEADLOCK` when the robots it would wait for wait,
  directly or through others, for something it holds: that robot must release first. A cycle of waits therefore
  never forms.

    table = ReservationTable()
    table.reserve("robot_1", ["station/red_drop"], lease=10.0, now=0.0)    # GRANTED
    table.reserve("robot_2", ["station/red_drop"], lease=10.0, now=1.0)    # BUSY, queued, holder robot_1
    table.release("robot_1", [], now=2.0)                                   # everything robot_1 holds
    table.reserve("robot_2", ["station/red_drop"], lease=10.0, now=2.5)    # GRANTED

Times are the caller's clock (the coordinator's ROS time), in seconds.
"""

from __future__ import annotations

import enum
import math
import re
from dataclasses import dataclass, field

NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./-]{0,127}$")
"""A robot or resource name: letters, digits, `_`, `.`, `/`, `-`; at most 128 characters."""


class ReservationError(ValueError):
    """A malformed request (a bad name, lease or list); nothing changed."""


class Code(enum.IntEnum):
    """How a request ended (the values of legion_interfaces/srv/Reserve's constants)."""

    GRANTED = 0
    BUSY = 1
    WOULD_DEADLOCK = 2
    INVALID = 3


@dataclass(frozen=True)
class Answer:
    """The answer to one `reserve`."""

    code: Code
    holders: tuple[str, ...]
    """For each resource asked, in order: the robot that holds it, or that is queued before the asker ("" : free,
    or granted to the asker)."""
    expires: float
    """[s] when the grant lapses (GRANTED); nan otherwise."""
    message: str


@dataclass
class Lease:
    robot: str
    expires: float


@dataclass
class Waiter:
    robot: str
    since: float
    """[s] when it first asked (its place in the queue)."""
    asked: float
    """[s] when it last asked."""


@dataclass
class ReservationTable:
    """Who holds and who waits for each resource (see the module's docstring)."""

    max_lease: float = 600.0
    """[s] the longest lease granted at once."""
    queue_timeout: float = 10.0
    """[s] a queued robot that has not asked again for this long leaves the queue."""
    leases: dict[str, Lease] = field(default_factory=dict)
    """resource -> its current lease."""
    queues: dict[str, list[Waiter]] = field(default_factory=dict)
    """resource -> the robots waiting for it, in order of arrival."""

    # ---------------------------------------------------------------------------------------------------- requests
    def reserve(self, robot: str, resources: list[str] | tuple[str, ...], lease: float, now: float) -> Answer:
        """Grant `robot` every resource of `resources` for `lease` seconds from `now`, or none of them.

        Resources the robot already holds are renewed. A robot waits for one request at a time: a new request takes
        it off the queues of resources it does not name again. Raises ReservationError on a malformed request."""
        resources = self._checked(robot, resources, allow_empty=False)
        if not (isinstance(lease, (int, float)) and math.isfinite(lease) and 0.0 < lease <= self.max_lease):
            raise ReservationError(f"lease must be a number of seconds in (0, {self.max_lease:g}], got {lease!r}")
        self.expire(now)
        for resource in [r for r in self.queues if r not in resources]:
            self._dequeue(resource, robot)
        blockers = [self._blocker(resource, robot) for resource in resources]
        if not any(blockers):
            for resource in resources:
                self.leases[resource] = Lease(robot, now + lease)
                self._dequeue(resource, robot)
            return Answer(Code.GRANTED, tuple("" for _ in resources), now + lease,
                          f"{robot} holds {', '.join(resources)} until t = {now + lease:.1f} s")
        holders = tuple(blockers)
        waited = sorted({b for b in blockers if b})
        if self._would_deadlock(robot, waited):
            mine = sorted(r for r, held in self.leases.items() if held.robot == robot)
            return Answer(Code.WOULD_DEADLOCK, holders, math.nan,
                          f"{robot} holds {', '.join(mine)}, which {', '.join(waited)} wait(s) for, and asks for "
                          f"what they hold: release first")
        for resource in resources:
            self._enqueue(resource, robot, now)
        busy = [f"{resource} ({holder})" for resource, holder in zip(resources, blockers, strict=True) if holder]
        return Answer(Code.BUSY, holders, math.nan, f"busy: {', '.join(busy)}; {robot} is queued, ask again")

    def release(self, robot: str, resources: list[str] | tuple[str, ...], now: float) -> list[str]:
        """Release what `robot` holds of `resources` (empty: all it holds) and take it off their queues; returns the
        resources released. Releasing what it does not hold is not an error."""
        resources = self._checked(robot, resources, allow_empty=True)
        self.expire(now)
        names = resources or [r for r, held in self.leases.items() if held.robot == robot]
        released = [r for r in names if r in self.leases and self.leases[r].robot == robot]
        for resource in released:
            del self.leases[resource]
        for resource in resources or list(self.queues):
            self._dequeue(resource, robot)
        return released

    def expire(self, now: float) -> list[tuple[str, str]]:
        """Drop lapsed leases and queued robots that stopped asking; returns the (resource, robot) leases dropped."""
        lapsed = [(r, held.robot) for r, held in self.leases.items() if held.expires <= now]
        for resource, _ in lapsed:
            del self.leases[resource]
        for resource, queue in list(self.queues.items()):
            queue[:] = [w for w in queue if now - w.asked <= self.queue_timeout]
            if not queue:
                del self.queues[resource]
        return lapsed

    def held_by(self, robot: str) -> list[str]:
        """The resources `robot` holds (lapsed leases included until the next request or `expire`)."""
        return sorted(r for r, held in self.leases.items() if held.robot == robot)

    # ----------------------------------------------------------------------------------------------------- helpers
    @staticmethod
    def _checked(robot: str, resources, allow_empty: bool) -> list[str]:
        if not isinstance(robot, str) or not NAME.match(robot):
            raise ReservationError(f"robot name {robot!r} must be 1-128 letters, digits, '_', '.', '/' or '-'")
        if isinstance(resources, str) or not isinstance(resources, (list, tuple)):
            raise ReservationError(f"resources must be a list of names, got {resources!r}")
        if not resources and not allow_empty:
            raise ReservationError("resources must name at least one resource")
        for resource in resources:
            if not isinstance(resource, str) or not NAME.match(resource):
                raise ReservationError(f"resource name {resource!r} must be 1-128 letters, digits, '_', '.', '/' "
                                       f"or '-'")
        if len(set(resources)) != len(resources):
            raise ReservationError(f"resources {list(resources)} name a resource twice")
        return list(resources)

    def _blocker(self, resource: str, robot: str) -> str:
        """Who keeps `robot` from `resource` now: its holder, or the first robot queued before it ("" : nobody)."""
        held = self.leases.get(resource)
        if held is not None:
            return "" if held.robot == robot else held.robot
        for waiter in self.queues.get(resource, ()):
            return "" if waiter.robot == robot else waiter.robot
        return ""

    def _enqueue(self, resource: str, robot: str, now: float) -> None:
        queue = self.queues.setdefault(resource, [])
        for waiter in queue:
            if waiter.robot == robot:
                waiter.asked = now
                return
        queue.append(Waiter(robot, now, now))

    def _dequeue(self, resource: str, robot: str) -> None:
        queue = self.queues.get(resource)
        if queue is None:
            return
        queue[:] = [w for w in queue if w.robot != robot]
        if not queue:
            del self.queues[resource]

    def _waits_for(self, robot: str) -> set[str]:
        """The robots `robot` waits for: the holders of (and robots queued before it on) what it is queued on."""
        out = set()
        for resource, queue in self.queues.items():
            robots = [w.robot for w in queue]
            if robot not in robots:
                continue
            held = self.leases.get(resource)
            if held is not None and held.robot != robot:
                out.add(held.robot)
            out.update(robots[:robots.index(robot)])
        return out

    def _would_deadlock(self, robot: str, waited: list[str]) -> bool:
        """Whether `robot`, waiting for `waited`, would close a cycle: one of them waits (transitively) for it."""
        seen, frontier = set(), list(waited)
        while frontier:
            other = frontier.pop()
            if other == robot:
                return True
            if other in seen:
                continue
            seen.add(other)
            frontier.extend(self._waits_for(other))
        return False
