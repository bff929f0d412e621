"""The executive's side of the fleet coordinator (legion_fleet): reserving what the robots of a cell share.

`FleetReservations` asks for resources by name through two callables that send a request and call back with the
answer (the ROS adapter wraps the `fleet/reserve` and `fleet/release` services with them; tests wrap a
`legion_fleet.reservations.ReservationTable`), and keeps what it was granted alive:

- `reserve(resources)` returns a `clients.Handle`: RUNNING while the coordinator answers BUSY (asked again every
  `retry` seconds: the robot keeps its place in the queue; also while the coordinator's service is not there),
  SUCCEEDED once GRANTED, FAILED on INVALID or when the coordinator does not answer a request it took within
  `answer_timeout` (FAILED: the executive does not walk into a shared area without a grant). WOULD_DEADLOCK:
  everything this robot holds is released, then it asks again.
- `poll(now)` (at each tick of the tree) sends the re-asks that are due and renews every held resource a third of a
  lease before it lapses, so a robot that stops ticking (dead, hung) loses its grants after one lease.
- `release_all()` when the robot has left the shared area, and at the end of a shift. No reserve or renewal is sent
  until the coordinator has answered the release (or `answer_timeout` has passed): the two services are separate, so a
  reserve sent right after a release could be answered first and its grant then freed by the release.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from legion_executive.clients import Outcome, Progress

GRANTED, BUSY, WOULD_DEADLOCK, INVALID = 0, 1, 2, 3
"""legion_interfaces/srv/Reserve's codes."""

Answer = Callable[[int, tuple[str, ...], str], None]
"""(code, holders, message) of a reserve request."""
SendReserve = Callable[[tuple[str, ...], float, Answer], bool]
"""Send a reserve request (resources, lease [s]); call the answer back when it comes (or never). False: not sent
(the coordinator is not there yet): it is tried again after `retry`."""
SendRelease = Callable[[tuple[str, ...], Callable[[], None]], bool]
"""Send a release (resources; empty: all this robot holds) and call the second argument back once the coordinator
has answered it. False: not sent (the coordinator is not there)."""


@dataclass
class Reservation:
    """One reserve request in flight (a `clients.Handle`)."""

    resources: tuple[str, ...]
    progress: Progress = Progress.RUNNING
    outcome: Outcome = field(default_factory=Outcome)
    asked: float = -math.inf
    """[s] when it was last sent."""
    pending: bool = False
    """Sent and not yet answered."""
    holders: tuple[str, ...] = ()
    """The newest answer's holders (who keeps this robot waiting)."""
    cancelled: bool = False
    on_cancel: Callable[[Reservation], None] | None = None

    def cancel(self) -> None:
        """Stop asking; the robot leaves the queues of what it asked for and does not hold."""
        self.cancelled = True
        if self.progress == Progress.RUNNING:
            self.progress = Progress.FAILED
            self.outcome = Outcome(code="CANCELLED", message=f"reservation of {', '.join(self.resources)} cancelled")
            if self.on_cancel is not None:
                self.on_cancel(self)


class FleetReservations:
    """Reservations of one robot at the fleet coordinator (see the module's docstring)."""

    def __init__(self, send_reserve: SendReserve, send_release: SendRelease, clock: Callable[[], float],
                 lease: float = 30.0, retry: float = 1.0, answer_timeout: float = 5.0,
                 log: Callable[[str], None] = print) -> None:
        self.send_reserve, self.send_release, self.clock = send_reserve, send_release, clock
        self.lease, self.retry, self.answer_timeout, self.log = lease, retry, answer_timeout, log
        self.requests: list[Reservation] = []
        self.held: dict[str, float] = {}
        """Resource -> [s] when its grant lapses (as this side counts it, from when the request was sent)."""
        self.releasing_since = -math.inf
        """[s] when the newest release was sent, until its answer (-inf: none in flight)."""

    def reserve(self, resources: tuple[str, ...] | list[str]) -> Reservation:
        request = Reservation(tuple(resources), on_cancel=self._cancelled)
        self.requests.append(request)
        self._send(request, self.clock())
        return request

    def release_all(self) -> None:
        for request in self.requests:
            request.on_cancel = None  # the release below covers every queue
            request.cancel()
        self.requests.clear()
        if self.held:
            self.log(f"released {', '.join(sorted(self.held))}")
        self.held.clear()
        self._send_release(())

    def holds(self, resource: str) -> bool:
        return resource in self.held

    def poll(self, now: float) -> None:
        """Re-ask what is due, renew what is held, fail requests the coordinator does not answer."""
        self.requests = [r for r in self.requests if r.progress == Progress.RUNNING and not r.cancelled]
        for request in self.requests:
            if request.pending and now - request.asked > self.answer_timeout:
                request.pending = False
                request.progress = Progress.FAILED
                request.outcome = Outcome(code="NO_ANSWER", message=f"the fleet coordinator did not answer within "
                                                                    f"{self.answer_timeout:g} s")
            elif not request.pending and now - request.asked >= self.retry:
                self._send(request, now)
        due = [r for r, lapses in self.held.items() if lapses - now < self.lease / 3.0]
        if due:
            self._renew(tuple(sorted(due)), now)

    # ----------------------------------------------------------------------------------------------------- helpers
    def _cancelled(self, request: Reservation) -> None:
        waiting = tuple(r for r in request.resources if r not in self.held)
        if waiting:
            self._send_release(waiting)

    def _releasing(self, now: float) -> bool:
        """A release is on its way (reserves and renewals wait for its answer, at most `answer_timeout`)."""
        if now - self.releasing_since > self.answer_timeout:
            self.releasing_since = -math.inf
        return math.isfinite(self.releasing_since)

    def _send_release(self, resources: tuple[str, ...]) -> None:
        sent_at = self.clock()

        def answered() -> None:
            if self.releasing_since == sent_at:  # not a newer release's
                self.releasing_since = -math.inf

        self.releasing_since = sent_at
        if not self.send_release(resources, answered):
            self.releasing_since = -math.inf

    def _send(self, request: Reservation, now: float) -> None:
        if self._releasing(now):  # sent at a poll once the release is answered (asked is left as it was)
            return
        request.asked, request.pending = now, True  # (an answer may come back within the call)
        sent = self.send_reserve(request.resources, self.lease,
                                 lambda code, holders, message: self._answered(request, now, code, holders, message))
        if not sent:
            request.pending = False

    def _answered(self, request: Reservation, sent: float, code: int, holders: tuple[str, ...], message: str) -> None:
        request.pending = False
        if request.progress != Progress.RUNNING:  # cancelled meanwhile: a grant that came anyway is given back
            if code == GRANTED and not request.cancelled:
                return
            if code == GRANTED:
                self._send_release(request.resources)
            return
        request.holders = tuple(holders)
        if code == GRANTED:
            for resource in request.resources:
                self.held[resource] = sent + self.lease
            request.progress, request.outcome = Progress.SUCCEEDED, Outcome(code="GRANTED", message=message)
        elif code == WOULD_DEADLOCK:
            self.log(f"reservation of {', '.join(request.resources)} would deadlock ({message}): releasing "
                     f"{', '.join(sorted(self.held)) or 'nothing'} and asking again")
            self.held.clear()
            self._send_release(())
        elif code != BUSY:
            request.progress = Progress.FAILED
            request.outcome = Outcome(code="INVALID", message=message)

    def _renew(self, resources: tuple[str, ...], now: float) -> None:
        if self._releasing(now):
            return
        before = {resource: self.held[resource] for resource in resources}
        for resource in resources:
            self.held[resource] = now + self.lease  # not renewed twice while the answer is on its way

        def answered(code: int, _holders, message: str) -> None:
            if code != GRANTED:
                for resource in resources:
                    self.held.pop(resource, None)
                self.log(f"renewal of {', '.join(resources)} refused: {message}")

        if not self.send_reserve(resources, self.lease, answered):
            self.held.update(before)  # not sent: tried again at the next poll
