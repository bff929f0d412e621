"""The robot as the executive's behaviours see it: small client interfaces, no ROS.

The behaviour tree talks to the robot only through these protocols, so it runs against the ROS adapter
(`executive_node`) or against mocks in tests. Long-running requests (walking, picking, placing) return a `Handle`
the behaviours poll at each tick and cancel when the tree interrupts them. Everything spatial is in `odom`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Protocol


class Progress(enum.Enum):
    """Where a request stands."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True)
class Outcome:
    """How a finished request ended. For walk_to only `message` is filled."""

    code: str = ""
    """Pick / Place result code name (`SUCCEEDED`, `GRASP_MISSED`, `SLIPPED`, ...; legion_interfaces/action/Pick)."""
    message: str = ""
    """One sentence: what happened and why."""
    side: str = ""
    """The hand that held or holds the part."""
    holds: dict[str, str] = field(default_factory=dict)
    """Side -> object id each hand holds after the request ("" : nothing)."""
    verified: bool = False
    """Place: perception saw the part inside the container after release."""


class Handle(Protocol):
    """A request in flight: polled by a behaviour at each tick."""

    @property
    def progress(self) -> Progress: ...

    @property
    def outcome(self) -> Outcome:
        """Valid once `progress` is not RUNNING."""
        ...

    def cancel(self) -> None:
        """Ask for the request to stop; a finished request ignores it."""
        ...


@dataclass(frozen=True)
class PerceivedObject:
    """A part or a bin as perception reports it, in odom."""

    id: str
    """Tracked id (`red_cube_3`, `red_bin_1`): it never changes while the track lives."""
    label: str
    """Class (`red_cube`) or, for a bin, `<colour>_bin`."""
    position: tuple[float, float, float]
    """Centre (a bin: the centre of its opening) in odom [m]."""


@dataclass(frozen=True)
class Scene:
    """Perception's newest report."""

    stamp: float
    """[s] time of the camera frame it came from (-inf: nothing yet)."""
    parts: tuple[PerceivedObject, ...] = ()
    bins: tuple[PerceivedObject, ...] = ()


class Perception(Protocol):
    def scene(self) -> Scene:
        """Parts and bins of the newest report."""
        ...

    def people(self) -> list[tuple[float, float]]:
        """(x, y) [m] in odom of the people seen recently."""
        ...

    def clear_obstacles(self) -> None:
        """Ask perception to forget its obstacle grid and build it again from what the camera sees next (a recovery
        before a walk that found no way is tried again)."""
        ...


class Motion(Protocol):
    def walk_to(self, x: float, y: float, yaw: float) -> Handle:
        """Walk base_footprint to (x [m], y [m], yaw [rad]) in odom."""
        ...


class Manipulation(Protocol):
    def pick(self, object_id: str, side: str) -> Handle:
        """Pick a part by perception id; side `left`, `right` or "" (the planner chooses)."""
        ...

    def place(self, container: str, side: str) -> Handle:
        """Place what hand `side` holds into a container perception reports (id or label)."""
        ...

    def put_down(self, position: tuple[float, float, float], side: str) -> Handle:
        """Put what hand `side` holds down with its centre at `position` (odom) [m], e.g. back where it was picked."""
        ...

    def holding(self) -> dict[str, str]:
        """Side -> object id each hand holds now ("" : nothing), as manipulation last reported it."""
        ...


class Posture(Protocol):
    def look(self, posture: str) -> None:
        """Take the robot file's named posture (e.g. `inspect_table`: the head camera at the table)."""
        ...

    def neutral(self) -> None:
        """Back to the standing posture."""
        ...


class Robot(Protocol):
    def base_pose(self) -> tuple[float, float, float] | None:
        """(x [m], y [m], yaw [rad]) of base_footprint in odom, or None before the first state."""
        ...

    def emergency_stop(self) -> bool:
        """The hardware's protective stop is latched."""
        ...

    def safety_stop(self) -> bool:
        """The safety node reports a protective (or emergency) stop: a person is inside the protective separation
        distance, or its inputs are stale."""
        ...

    def fallen(self) -> bool:
        """The whole-body controller reports a fall."""
        ...


class Clock(Protocol):
    def now(self) -> float:
        """[s] the robot's time (simulated time in simulation)."""
        ...


class Reservations(Protocol):
    """The fleet coordinator, for a robot that shares its cell (legion_executive.fleet.FleetReservations)."""

    held: dict[str, float]
    """Resource -> [s] when its grant lapses, for what this robot holds."""

    def reserve(self, resources: tuple[str, ...]) -> Handle:
        """Ask for all of `resources` (RUNNING while another robot holds one; SUCCEEDED once granted)."""
        ...

    def release_all(self) -> None:
        """Give back everything this robot holds."""
        ...

    def poll(self, now: float) -> None:
        """Re-ask what is queued, renew what is held (called at each tick)."""
        ...


@dataclass
class Clients:
    """Everything the tree needs from the robot."""

    perception: Perception
    motion: Motion
    manipulation: Manipulation
    posture: Posture
    robot: Robot
    clock: Clock
    reservations: Reservations | None = None
    """The fleet coordinator of a cell shared with other robots; None: the robot works alone."""
