"""The sorting shift as a py_trees behaviour tree, and `SortingExecutive`, which runs it one tick at a time.

    sorting shift (Selector, no memory: the guards are checked at every tick, in priority order)
    ├── e-stop or fall (Sequence)      SafetyStopActive -> HoldStopped          (cancels everything below, holds)
    ├── person nearby (Sequence)       PersonInZone -> HoldPaused               (cancels the motion, holds)
    └── shift (Sequence, memory)
        ├── check bins (Sequence)      only with policy.check_bins_first: per bin station: Selector[checked?,
        │                                  Sequence[Retry(walk), look, CheckBins], BinsUnusable]
        └── until done (Selector)
            ├── Repeat(forever) part cycle (Sequence, memory)
            │   ├── table view:      Retry(walk to the table station), ReleaseReservations (left the bins), Look
            │   ├── ChoosePart       (FAILURE when none is left, or every hand holds a part: ends the Repeat)
            │   ├── FailureIsSuccess(steps (Sequence, memory)):
            │   │     Selector[Retry(walk to the part's station), EndCycle(skipped)]
            │   │     Selector[Retry(max_attempts, Sequence[Look, Pick]), EndCycle(skipped)]
            │   │     Selector[Sequence[Selector[Reserve(the bin's station: the fleet coordinator, in a shared
            │   │                                        cell), EndCycle(failed, busy)],
            │   │                       Retry(walk to the bin's station, carrying)], EndCycle(failed, bin unreachable)]
            │   │     Selector[Sequence[bin checked (look and CheckBins at the bin's station, at every
            │   │                        arrival), BinUsable, Retry(2, Place)], EndCycle(failed)]
            │   ├── RecheckBin       (a place that released the part without confirming it inside its bin: look
            │   │                      into the bin again; more parts of its colour there than sorted into it: sorted)
            │   ├── hands free: Selector[HandsFree (the part is not in a hand), Sequence[Retry(walk back to the
            │   │     part's station, carrying), PutBack (where it was seen)], KeepHolding (the other hand goes on)]
            │   └── FinishPart
            └── FinishShift      (SUCCESS: nothing sortable left; FAILURE: why the shift could not go on)

The guards interrupt the shift branch (py_trees stops it, each running behaviour cancels its request); the shift
branch then restarts from its first child, and the record in `ShiftState` makes every finished step succeed at once,
so the interrupted step is the first one redone. The executive reads the clock only through `clients.clock`.

In a cell shared with other robots (`clients.reservations`: the fleet coordinator) a bin's station is reserved before
the walk to it and released once the robot is back at its table (and when the shift ends); a robot alone skips both.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import py_trees
from py_trees.common import Access, Status
from py_trees.composites import Selector, Sequence
from py_trees.decorators import FailureIsSuccess, Repeat, Retry

from legion_executive import behaviours as b
from legion_executive.cell import CellConfig
from legion_executive.clients import Clients
from legion_executive.shift import PartRecord, ShiftState, State

_namespaces = itertools.count()


@dataclass(frozen=True)
class ExecutiveStatus:
    """A snapshot of the executive (what `executive/status` carries)."""

    state: State
    phase: str
    part_id: str
    part_label: str
    counts: dict[str, int]
    parts: tuple[PartRecord, ...]
    tree: str
    last_decision: str
    message: str = ""
    bin_problems: dict[str, str] = field(default_factory=dict)


def build_tree(cell: CellConfig, clients: Clients, namespace: str) -> py_trees.behaviour.Behaviour:
    """The sorting tree for `cell` (see the module's docstring); its behaviours share `<namespace>/shift`."""
    policy = cell.policy
    ns, c = namespace, clients

    def station(name: str) -> Callable[[ShiftState], object]:
        return lambda shift: shift.cell.station(name)

    def walk(name: str, target, carrying: bool = False, needed=lambda shift: True) -> Retry:
        return Retry(f"retry {name}", b.WalkToStation(name, ns, c, target, carrying, needed), policy.walk_attempts)

    checks = []
    for name in dict.fromkeys(bin_.station for bin_ in cell.bins) if policy.check_bins_first else ():
        checks.append(Selector(f"bins at {name}", memory=True, children=[
            b.StationChecked(f"checked {name}?", ns, c, name),
            Sequence(f"check {name}", memory=True, children=[
                walk(f"walk to {name}", station(name)),
                b.Look(f"look from {name}", ns, c, station(name)),
                b.CheckBins(f"check bins at {name}", ns, c, name)]),
            b.BinsUnusable(f"bins at {name} unusable", ns, c, name)]))

    def part_station(shift: ShiftState):
        return shift.station_of_current()

    def bin_station(shift: ShiftState):
        return shift.cell.station(shift.cell.bin(shift.current.record.bin).station) if shift.current else None

    def bin_station_name(shift: ShiftState) -> str | None:
        return shift.cell.bin(shift.current.record.bin).station if shift.current else None

    steps = Sequence("steps", memory=True, children=[
        Selector("reach the part", memory=True, children=[
            walk("walk to the part's station", part_station, needed=b.needs_pick),
            b.EndCycle("station unreachable", ns, c, "skipped")]),
        Selector("pick", memory=True, children=[
            Retry("attempts", Sequence("look and pick", memory=True, children=[
                _LookIfPicking("look before the pick", ns, c, part_station),
                b.Pick("pick", ns, c)]), policy.max_attempts),
            b.EndCycle("pick failed", ns, c, "skipped")]),
        Selector("carry", memory=True, children=[
            Sequence("reserve and walk", memory=True, children=[
                Selector("reserve", memory=True, children=[  # a busy station fails the part, not the bin
                    b.Reserve("reserve the bin's station", ns, c,
                              lambda shift: (f"station/{bin_station_name(shift)}",), needed=b.needs_carry),
                    b.EndCycle("bin station busy", ns, c, "failed")]),
                walk("walk to the bin's station", bin_station, carrying=True, needed=b.needs_carry)]),
            b.EndCycle("bin station unreachable", ns, c, "failed", bin_unreachable=True)]),
        Selector("place", memory=True, children=[
            Sequence("check the bin and place", memory=True, children=[
                # looked into at every arrival (not only the first): perception tracks a bin only while it is in
                # view, and its id may change between visits (the place names the bin by that id)
                Selector("bin checked", memory=True, children=[
                    Sequence("check the bin", memory=True, children=[
                        b.Look("look into the bin", ns, c, bin_station),
                        b.CheckBins("check the bin", ns, c, bin_station_name)]),
                    b.BinsUnusable("bin not checked", ns, c, bin_station_name)]),
                b.BinUsable("bin usable?", ns, c),
                Retry("place attempts", b.Place("place", ns, c), 2)]),
            b.EndCycle("place failed", ns, c, "failed")]),
    ])
    cycle = Sequence("part cycle", memory=True, children=[
        Sequence("table view", memory=True, children=[
            walk("walk to the table station", part_station, needed=lambda shift: shift.current is None
                 or b.needs_pick(shift)),
            b.ReleaseReservations("release the shared areas", ns, c),
            _LookIfPicking("look at the table", ns, c, part_station, always=True)]),
        b.ChoosePart("choose part", ns, c),
        FailureIsSuccess("part done either way", steps),
        b.RecheckBin("look into the bin again", ns, c),
        Selector("hands free", memory=True, children=[
            b.HandsFree("part out of the hands?", ns, c),
            Sequence("put it back", memory=True, children=[
                walk("walk back to the part's station", part_station, carrying=True, needed=b.needs_return),
                b.PutBack("put back", ns, c)]),
            b.KeepHolding("keep it in the hand", ns, c)]),
        b.FinishPart("finish part", ns, c),
    ])
    shift = Sequence("shift", memory=True, children=[
        Sequence("check bins", memory=True, children=checks),
        Selector("until done", memory=True, children=[
            Repeat("every part", cycle, num_success=-1),
            b.FinishShift("finish shift", ns, c)]),
    ])
    return Selector("sorting shift", memory=False, children=[
        Sequence("e-stop or fall", memory=False, children=[
            b.SafetyStopActive("e-stop or fallen?", ns, c), b.HoldStopped("hold stopped", ns, c)]),
        Sequence("person nearby", memory=False, children=[
            b.PersonInZone("person in the zone?", ns, c), b.HoldPaused("hold paused", ns, c)]),
        shift,
    ])


class _LookIfPicking(b.Look):
    """A look at the part's station, needed only while the current part is still to be picked (or, with `always`,
    also before a part is chosen)."""

    def __init__(self, name: str, namespace: str, clients: Clients, target, always: bool = False) -> None:
        super().__init__(name, namespace, clients, target)
        self.always = always

    def initialise(self) -> None:
        shift = self.shift
        if not (b.needs_pick(shift) or (self.always and shift.current is None)):
            self.station, self.started = self.target(shift), math.nan
            return
        super().initialise()


class SortingExecutive:
    """Runs one sorting shift at a time over `clients`: `start`, then `tick` (e.g. at 10 Hz) until `status().state`
    is final; `cancel` at any time. `log` receives one line per decision.

        executive = SortingExecutive(Clients(perception, motion, manipulation, posture, robot, clock), log=print)
        executive.start(load_cell("sorting_cell"), max_parts=0)
        while executive.tick() not in (State.SUCCEEDED, State.FAILED, State.CANCELLED):
            ...  # wait for the next tick; executive.status() is the snapshot for executive/status

    With `legion_executive.mock.MockWorld().clients()` it runs with no robot and no ROS (the tests do)."""

    def __init__(self, clients: Clients, log: Callable[[str], None] = print) -> None:
        self.clients = clients
        self.log = log
        self.namespace = f"/executive_{next(_namespaces)}"
        self.board = py_trees.blackboard.Client(name="executive", namespace=self.namespace)
        self.board.register_key("shift", access=Access.WRITE)
        self.tree: py_trees.trees.BehaviourTree | None = None
        self.shift: ShiftState | None = None
        self.state = State.IDLE
        self.message = ""

    @property
    def active(self) -> bool:
        return self.state in (State.RUNNING, State.PAUSED, State.STOPPED)

    def start(self, cell: CellConfig, max_parts: int = 0) -> None:
        """Start a shift in `cell` (a running one must be cancelled first)."""
        if self.active:
            raise RuntimeError("a shift is already running")
        self.shift = ShiftState(cell=cell, log=self.log, max_parts=max_parts)
        self.board.shift = self.shift
        self.tree = py_trees.trees.BehaviourTree(build_tree(cell, self.clients, self.namespace))
        self.state, self.message = State.RUNNING, ""
        self.shift.decide(f"shift started in cell '{cell.name}'"
                          + (f", at most {max_parts} parts" if max_parts else ""))

    def tick(self) -> State:
        """One tick of the tree; the state after it."""
        if not self.active or self.tree is None:
            return self.state
        fleet = self.clients.reservations
        if fleet is not None:
            fleet.poll(self.clients.clock.now())
        try:
            self.tree.tick()
        except Exception as error:  # a fault in a behaviour or a client: the shift fails, the caller goes on
            self.tree.root.stop(Status.INVALID)
            self.state, self.message = State.FAILED, f"internal error: {type(error).__name__}: {error}"
            self.shift.decide(f"shift failed: {self.message}")
            self._release()
            return self.state
        root = self.tree.root
        guard = root.current_child
        if root.status == Status.SUCCESS and guard is root.children[2]:
            self.state, self.message = State.SUCCEEDED, self.shift.done_reason
        elif root.status == Status.FAILURE:
            self.state, self.message = State.FAILED, self.shift.failure or self.shift.last_failure
        elif guard is root.children[0]:
            self.state = State.STOPPED
        elif guard is root.children[1]:
            self.state = State.PAUSED
        else:
            self.state = State.RUNNING
        if not self.active:
            self._release()
        return self.state

    def _release(self) -> None:
        """Give back the shared areas this robot holds (the shift has ended)."""
        fleet = self.clients.reservations
        if fleet is not None and fleet.held:
            fleet.release_all()
            self.shift.decide("shift over: reservations released")

    def cancel(self, reason: str = "cancelled") -> None:
        """Stop the shift: every running request is cancelled, the robot goes back to standing."""
        if not self.active or self.tree is None:
            return
        self.tree.root.stop(Status.INVALID)
        self.clients.posture.neutral()
        self._release()
        self.state, self.message = State.CANCELLED, reason
        self.shift.phase = "cancelled"
        self.shift.decide(f"shift cancelled: {reason}")

    def status(self) -> ExecutiveStatus:
        shift = self.shift
        if shift is None:
            return ExecutiveStatus(State.IDLE, "idle", "", "", {}, (), "", "")
        current = shift.current
        tree = py_trees.display.unicode_tree(self.tree.root, show_status=True) if self.tree else ""
        return ExecutiveStatus(self.state, shift.phase, current.record.id if current else "",
                               current.record.label if current else "", shift.counts(),
                               tuple(shift.records.values()), tree, shift.last_decision, self.message,
                               dict(shift.bin_problems))

    def close(self) -> None:
        """Forget the shift's blackboard entries."""
        py_trees.blackboard.Blackboard.unset(f"{self.namespace}/shift")
