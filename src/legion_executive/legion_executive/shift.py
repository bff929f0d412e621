"""The state of one sorting shift, shared by the behaviours through the py_trees blackboard (key `shift`).

The tree's composites say what comes next; this record says what has been done, so that every step can be redone
after an interruption (a person in the protective zone, an e-stop) without repeating finished work: a behaviour
whose step is already done succeeds at once. Times are the robot's clock [s].
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable
from dataclasses import dataclass, field

from legion_executive.cell import CellConfig, Station
from legion_executive.clients import PerceivedObject, Scene


class State(enum.Enum):
    """The executive's state, as `executive/status` reports it."""

    IDLE = "IDLE"
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"          # a person in the protective zone: motion cancelled, holding
    STOPPED = "STOPPED"        # e-stop or fall: everything cancelled, holding until reset
    SUCCEEDED = "SUCCEEDED"    # no sortable part left (or max_parts done)
    FAILED = "FAILED"          # the shift cannot go on (e.g. the table station cannot be reached)
    CANCELLED = "CANCELLED"


class Phase(enum.Enum):
    """Where the current part is in its cycle."""

    PICK = "pick"        # on the table: walk to its station, look, pick
    CARRY = "carry"      # in a hand: walk to its bin's station
    RETURN = "return"    # its cycle ended with it still in a hand: put it back where it was picked
    DONE = "done"        # placed (or lost): the outcome is known


OUTCOMES = ("sorted", "skipped", "dropped", "ignored", "failed")


SAME_PART_DISTANCE = 0.06
"""[m] a perceived part of the same class this close to where a part was last seen is that part (perception's
track ids may change between looks)."""


SEEN_MATCH_DISTANCE = 0.15
"""[m] the farthest a part may have moved between two looks and still be counted as the part seen before (a failed
grasp nudges a part a few centimetres). Parts of one class closer together than this are still counted apart: the
matching is one to one."""


def _nearest(parts, label: str, position) -> PerceivedObject | None:
    near = [p for p in parts if p.label == label and math.dist(p.position[:2], position[:2]) <= SAME_PART_DISTANCE]
    return min(near, key=lambda p: math.dist(p.position[:2], position[:2]), default=None)


@dataclass
class PartRecord:
    """What happened to one part (the `parts` of the status and of the job's result)."""

    id: str
    label: str
    bin: str = ""
    outcome: str = ""
    """One of OUTCOMES; "" while it is being worked on."""
    attempts: int = 0
    """Picks that ended in failure, plus the one that succeeded."""
    start: float = math.nan
    end: float = math.nan
    reason: str = ""
    position: tuple[float, float, float] | None = None
    """Where perception saw it when it was first chosen or ignored (odom) [m]."""
    track_id: str = ""
    """Perception's id of the part now, if it changed since the part was chosen (see `track`)."""
    first_side: str = ""
    """The hand of the first pick (the other hand is tried after failures)."""

    @property
    def track(self) -> str:
        """The id perception gives the part now (what pick, place and the hands' reports name)."""
        return self.track_id or self.id

    @track.setter
    def track(self, value: str) -> None:
        self.track_id = "" if value == self.id else value


@dataclass
class CurrentPart:
    """The part being sorted."""

    record: PartRecord
    station: str
    """Where it is picked from."""
    phase: Phase = Phase.PICK
    side: str = ""
    """The hand that holds it."""
    outcome: str = ""
    """Set by the step that ended its cycle ("" : sorted, if it got placed)."""
    reason: str = ""
    returned: bool = False
    """Its cycle ended with it in a hand and it has been put back (or the attempt to has ended)."""
    recheck: bool = False
    """It left the hand over its bin but the place could not confirm it inside (not seen there, or it slipped at
    the release): a second look into the bin decides (`RecheckBin`)."""


@dataclass
class ShiftState:
    """Everything the behaviours share about one shift."""

    cell: CellConfig
    log: Callable[[str], None]
    max_parts: int = 0
    """Parts to work on (sorted, skipped, dropped or failed) before the shift ends; 0: all."""
    records: dict[str, PartRecord] = field(default_factory=dict)
    current: CurrentPart | None = None
    view: Scene | None = None
    """The newest look's perception report, and where it was taken."""
    view_station: str = ""
    view_valid: bool = False
    seen: list[tuple[str, tuple[float, float, float]]] = field(default_factory=list)
    """Each distinct part seen on a table: class and where it was last seen (see `note_seen`: a part perception
    re-tracks under a new id, or that a failed grasp nudged, is not counted twice)."""
    bins_checked: set[str] = field(default_factory=set)
    """Stations whose bins have been checked."""
    bin_ids: dict[str, str] = field(default_factory=dict)
    """Bin name -> the id perception gives it (bins found where the cell says)."""
    bin_problems: dict[str, str] = field(default_factory=dict)
    """Bin name -> why it is not used."""
    phase: str = "idle"
    """What the robot is doing (free text for the status)."""
    last_decision: str = ""
    pause_reason: str = ""
    """Why the shift paused last: a person at a distance, or the safety node's protective stop."""
    last_failure: str = ""
    obstacles_cleared: float = -math.inf
    """[s] when perception's obstacle grid was last cleared (a walk's recovery)."""
    done: bool = False
    """No sortable part is left (or max_parts reached): the shift succeeds."""
    done_reason: str = ""
    failure: str = ""

    def decide(self, line: str) -> None:
        """Log one decision: what and why."""
        self.last_decision = line
        self.log(line)

    def invalidate_view(self) -> None:
        self.view_valid = False

    def has_view(self, station: str) -> bool:
        return self.view_valid and self.view is not None and self.view_station == station

    def station_of_current(self) -> Station:
        if self.current is not None:
            return self.cell.station(self.current.station)
        return self.cell.work_stations[0]

    def part_in_view(self, object_id: str) -> PerceivedObject | None:
        if self.view is None:
            return None
        return next((p for p in self.view.parts if p.id == object_id), None)

    def find_part(self, record: PartRecord) -> PerceivedObject | None:
        """The part of `record` in the newest look: by its id, else (perception may have started a new track for it,
        e.g. after a failed grasp nudged it) the part of its class nearest where it was last seen, within
        SAME_PART_DISTANCE."""
        found = self.part_in_view(record.id)
        if found is not None or self.view is None or record.position is None:
            return found
        return _nearest(self.view.parts, record.label, record.position)

    def record_of(self, part: PerceivedObject) -> PartRecord | None:
        """The record of a perceived part: by its id, else a record of its class last seen within
        SAME_PART_DISTANCE of it (the same part under a new perception track)."""
        record = self.records.get(part.id)
        if record is not None:
            return record
        near = [r for r in self.records.values() if r.label == part.label and r.position is not None
                and math.dist(r.position[:2], part.position[:2]) <= SAME_PART_DISTANCE]
        return min(near, key=lambda r: math.dist(r.position[:2], part.position[:2]), default=None)

    def note_seen(self, parts) -> None:
        """Count the parts of a look that were not seen before. The look's parts are matched one to one with the
        parts seen so far, by class, nearest pairs first, within SEEN_MATCH_DISTANCE (a part nudged by a failed
        grasp moves a few centimetres; two parts of one class are each matched to their own); a matched part's
        place is updated, an unmatched one is new."""
        pairs = sorted((math.dist(position[:2], part.position[:2]), index, number)
                       for index, (label, position) in enumerate(self.seen)
                       for number, part in enumerate(parts) if label == part.label)
        matched_seen, matched_parts = set(), set()
        for distance, index, number in pairs:
            if distance > SEEN_MATCH_DISTANCE:
                break
            if index in matched_seen or number in matched_parts:
                continue
            matched_seen.add(index)
            matched_parts.add(number)
            self.seen[index] = (self.seen[index][0], parts[number].position)
        self.seen.extend((part.label, part.position) for number, part in enumerate(parts)
                         if number not in matched_parts)

    def counts(self) -> dict[str, int]:
        counts = {"seen": len(self.seen)} | {outcome: 0 for outcome in OUTCOMES}
        for record in self.records.values():
            if record.outcome:
                counts[record.outcome] += 1
        return counts

    def worked(self) -> int:
        """Parts whose cycle ended (every outcome but `ignored`)."""
        return sum(1 for r in self.records.values() if r.outcome and r.outcome != "ignored")
