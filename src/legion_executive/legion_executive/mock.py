"""A mock robot in a mock cell: every client interface of `clients`, over a simulated clock, for tests and demos.

`MockWorld` keeps parts (on a table, in a hand, in a bin, on the floor), bins as perception would report them, people,
the robot's base pose and its e-stop and fall flags. Requests take a fixed time of the mock clock and then succeed,
unless a failure was scripted: `pick_failures[part_id]`, `place_failures[part_id]` and `put_down_failures[part_id]`
(result codes, consumed in order), `unreachable` (station poses walk_to always fails at), `walk_failures` (walks
to a station that fail before one succeeds), `blocked_until_cleared` (station poses walk_to fails at until
perception's obstacle grid is cleared), `drop_on_walk` (parts that fall from the hand during the next walk).
`step(dt)` advances the clock; a handle's outcome is decided when it is polled after its end time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from legion_executive.clients import Clients, Outcome, PerceivedObject, Progress, Scene


@dataclass
class MockPart:
    id: str
    label: str
    position: tuple[float, float, float]
    where: str = "table"
    """`table`, `hand:<side>`, `bin:<bin id>` or `floor`."""


class MockHandle:
    """A request that ends `duration` after it was made, with the outcome `finish()` gives then."""

    def __init__(self, world: MockWorld, duration: float, finish) -> None:
        self.world = world
        self.end = world.time + duration
        self.finish = finish
        self._progress = Progress.RUNNING
        self._outcome = Outcome()
        self.cancelled = False

    @property
    def progress(self) -> Progress:
        if self._progress == Progress.RUNNING and self.world.time >= self.end:
            success, self._outcome = self.finish()
            self._progress = Progress.SUCCEEDED if success else Progress.FAILED
        return self._progress

    @property
    def outcome(self) -> Outcome:
        return self._outcome

    def cancel(self) -> None:
        if self._progress == Progress.RUNNING:
            self.cancelled = True
            self._progress = Progress.FAILED
            self._outcome = Outcome(code="CANCELLED", message="cancelled")
            self.world.cancels += 1


@dataclass
class MockWorld:
    """The mock robot and cell; its `clients()` are what the executive is given."""

    parts: dict[str, MockPart] = field(default_factory=dict)
    bins: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    """Perceived bin id -> opening centre in odom (the label is the id without its `_<n>`)."""
    base: tuple[float, float, float] = (0.0, 0.0, 0.0)
    time: float = 0.0
    people_at: list[tuple[float, float]] = field(default_factory=list)
    estop: bool = False
    safety_stop: bool = False
    """The safety node's protective stop."""
    is_fallen: bool = False
    walk_speed: float = 0.5
    """[m/s]"""
    pick_time: float = 2.0
    place_time: float = 2.0
    pick_failures: dict[str, list[str]] = field(default_factory=dict)
    place_failures: dict[str, list[str]] = field(default_factory=dict)
    put_down_failures: dict[str, list[str]] = field(default_factory=dict)
    unreachable: set[tuple[float, float]] = field(default_factory=set)
    walk_failures: dict[tuple[float, float], int] = field(default_factory=dict)
    blocked_until_cleared: set[tuple[float, float]] = field(default_factory=set)
    """Station positions walk_to fails at until perception's obstacle grid is cleared (a stale obstacle)."""
    obstacles_cleared: int = 0
    """How often the executive had perception clear its obstacle grid."""
    cleared_times: list[float] = field(default_factory=list)
    walk_times: list[float] = field(default_factory=list)
    """When each of `walks` was asked for [s]."""
    """Station (x, y) -> walks to it that fail before one succeeds."""
    drop_on_walk: set[str] = field(default_factory=set)
    postures: list[str] = field(default_factory=list)
    walks: list[tuple[float, float, float]] = field(default_factory=list)
    picks: list[tuple[str, str]] = field(default_factory=list)
    places: list[tuple[str, str]] = field(default_factory=list)
    put_downs: list[tuple[tuple[float, float, float], str]] = field(default_factory=list)
    cancels: int = 0
    remembered_offset: float = 0.0
    """[m] table parts are reported this much farther along +x while the robot's base is more than 0.3 m from the
    origin, where it starts (perception's memory of parts out of view, placed with the odometry of when they were
    seen)."""

    # --------------------------------------------------------------------------------------------- simulation
    def step(self, dt: float) -> None:
        self.time += dt

    def hand_of(self, part_id: str) -> str:
        where = self.parts[part_id].where
        return where.split(":", 1)[1] if where.startswith("hand:") else ""

    def holding(self) -> dict[str, str]:
        held = {"left": "", "right": ""}
        for part in self.parts.values():
            if part.where.startswith("hand:"):
                held[part.where.split(":", 1)[1]] = part.id
        return held

    # --------------------------------------------------------------------------------------------- clients
    def clients(self) -> Clients:
        return Clients(perception=_Perception(self), motion=_Motion(self), manipulation=_Manipulation(self),
                       posture=_Posture(self), robot=_Robot(self), clock=_Clock(self))


class _Clock:
    def __init__(self, world: MockWorld) -> None:
        self.world = world

    def now(self) -> float:
        return self.world.time


class _Robot:
    def __init__(self, world: MockWorld) -> None:
        self.world = world

    def base_pose(self):
        return self.world.base

    def emergency_stop(self) -> bool:
        return self.world.estop

    def safety_stop(self) -> bool:
        return self.world.safety_stop

    def fallen(self) -> bool:
        return self.world.is_fallen


class _Posture:
    def __init__(self, world: MockWorld) -> None:
        self.world = world

    def look(self, posture: str) -> None:
        self.world.postures.append(posture)

    def neutral(self) -> None:
        self.world.postures.append("")


class _Perception:
    """Sees everything, always, at the current time: parts on tables, in bins and on the floor; bins."""

    def __init__(self, world: MockWorld) -> None:
        self.world = world

    def scene(self) -> Scene:
        w = self.world
        away = w.remembered_offset if math.hypot(w.base[0], w.base[1]) > 0.3 else 0.0
        parts = tuple(PerceivedObject(p.id, p.label,
                                      (p.position[0] + away, *p.position[1:]) if p.where == "table" else p.position)
                      for p in w.parts.values() if not p.where.startswith("hand:"))
        bins = tuple(PerceivedObject(i, i.rsplit("_", 1)[0], pos) for i, pos in w.bins.items())
        return Scene(w.time, parts, bins)

    def people(self) -> list[tuple[float, float]]:
        return list(self.world.people_at)

    def clear_obstacles(self) -> None:
        self.world.obstacles_cleared += 1
        self.world.cleared_times.append(self.world.time)
        self.world.blocked_until_cleared.clear()


class _Motion:
    def __init__(self, world: MockWorld) -> None:
        self.world = world

    def walk_to(self, x: float, y: float, yaw: float) -> MockHandle:
        w = self.world
        w.walks.append((x, y, yaw))
        w.walk_times.append(w.time)
        distance = math.hypot(x - w.base[0], y - w.base[1])

        def finish():
            if any(math.hypot(x - ux, y - uy) < 1e-6 for ux, uy in w.unreachable | w.blocked_until_cleared):
                return False, Outcome(message="no path to the goal")
            if w.walk_failures.get((x, y), 0) > 0:
                w.walk_failures[(x, y)] -= 1
                return False, Outcome(message="failed to settle at the goal")
            w.base = (x, y, yaw)
            for part_id in list(w.drop_on_walk):
                if w.hand_of(part_id):
                    w.parts[part_id].where = "floor"
                    w.parts[part_id].position = (x + 0.3, y, 0.02)
                    w.drop_on_walk.discard(part_id)
            return True, Outcome(message="arrived")

        return MockHandle(w, distance / w.walk_speed + 0.5, finish)


class _Manipulation:
    def __init__(self, world: MockWorld) -> None:
        self.world = world

    def holding(self) -> dict[str, str]:
        return self.world.holding()

    def pick(self, object_id: str, side: str) -> MockHandle:
        w = self.world
        w.picks.append((object_id, side))
        free = [hand for hand, held in w.holding().items() if not held]
        chosen = side or ("right" if "right" in free else free[0] if free else "right")

        def finish():
            failures = w.pick_failures.get(object_id, [])
            if failures:
                code = failures.pop(0)
                return False, Outcome(code=code, message=f"scripted {code}", side=chosen, holds=w.holding())
            if w.holding().get(chosen):
                return False, Outcome(code="BUSY", message=f"the {chosen} hand already holds a part", side=chosen,
                                      holds=w.holding())
            part = w.parts.get(object_id)
            if part is None or part.where != "table":
                return False, Outcome(code="NOT_FOUND", message="no such part", side=chosen, holds=w.holding())
            part.where = f"hand:{chosen}"
            return True, Outcome(code="SUCCEEDED", message="picked", side=chosen, holds=w.holding())

        return MockHandle(w, w.pick_time, finish)

    def place(self, container: str, side: str) -> MockHandle:
        w = self.world
        w.places.append((container, side))
        held = w.holding().get(side, "")

        def finish():
            if not held or w.hand_of(held) != side:
                return False, Outcome(code="GRASP_MISSED", message="the hand holds nothing", side=side)
            failures = w.place_failures.get(held, [])
            if failures:
                code = failures.pop(0)
                if code == "SLIPPED":
                    w.parts[held].where, w.parts[held].position = "floor", (w.base[0] + 0.3, w.base[1], 0.02)
                if code in ("SLIPPED_INTO_BIN", "UNSEEN"):
                    # it slipped at the release but fell into the bin / it went in, but the place did not see it
                    x, y, z = w.bins[container]
                    w.parts[held].where, w.parts[held].position = f"bin:{container}", (x + 0.13, y, z - 0.15)
                    if code == "UNSEEN":
                        return True, Outcome(code="SUCCEEDED", message="released, not seen inside", side=side,
                                             holds=w.holding(), verified=False)
                    code = "SLIPPED"
                return False, Outcome(code=code, message=f"scripted {code}", side=side, holds=w.holding())
            if container not in w.bins:
                return False, Outcome(code="NOT_FOUND", message=f"no container '{container}'", side=side)
            w.parts[held].where, w.parts[held].position = f"bin:{container}", w.bins[container]
            return True, Outcome(code="SUCCEEDED", message="placed", side=side, holds=w.holding(), verified=True)

        return MockHandle(w, w.place_time, finish)

    def put_down(self, position: tuple[float, float, float], side: str) -> MockHandle:
        w = self.world
        w.put_downs.append((tuple(position), side))
        held = w.holding().get(side, "")

        def finish():
            if not held or w.hand_of(held) != side:
                return False, Outcome(code="GRASP_MISSED", message="the hand holds nothing", side=side)
            failures = w.put_down_failures.get(held, [])
            if failures:
                code = failures.pop(0)
                return False, Outcome(code=code, message=f"scripted {code}", side=side, holds=w.holding())
            w.parts[held].where, w.parts[held].position = "table", tuple(position)
            return True, Outcome(code="SUCCEEDED", message="put down", side=side, holds=w.holding(), verified=True)

        return MockHandle(w, w.place_time, finish)
