"""Shared test fixtures: the sorting cell and a mock world laid out like it (parts on the work table, the four bins
where the cell file says), and a loop that ticks the executive on the mock clock."""

from __future__ import annotations

from legion_executive.cell import load_cell
from legion_executive.mock import MockPart, MockWorld
from legion_executive.shift import State
from legion_executive.tree import SortingExecutive

FINAL = (State.SUCCEEDED, State.FAILED, State.CANCELLED)
BIN_HEIGHT = 0.30


def sorting_cell():
    return load_cell("sorting_cell")


def make_world(parts: list[tuple[str, str, float, float]] | None = None) -> MockWorld:
    """The sorting cell's bins (as perception reports them) and `parts` (id, label, x, y) on the work table."""
    cell = sorting_cell()
    world = MockWorld()
    for b in cell.bins:
        world.bins[f"{b.name}_1"] = (b.position[0], b.position[1], BIN_HEIGHT)
    if parts is None:
        parts = [("red_cube_1", "red_cube", 0.50, 0.10), ("green_cube_1", "green_cube", 0.60, -0.20)]
    for part_id, label, x, y in parts:
        world.parts[part_id] = MockPart(part_id, label, (x, y, 0.78))
    return world


class Run:
    """An executive over a mock world with its decision log."""

    def __init__(self, world: MockWorld, cell=None, max_parts: int = 0) -> None:
        self.world = world
        self.lines: list[str] = []
        self.executive = SortingExecutive(world.clients(), self.lines.append)
        self.executive.start(cell or sorting_cell(), max_parts)

    def run(self, until=None, limit: float = 600.0, dt: float = 0.1) -> State:
        """Tick (and advance the mock clock by dt) until a final state, `until(self)` or `limit` [s] of mock time."""
        end = self.world.time + limit
        state = self.executive.state
        while self.world.time < end:
            state = self.executive.tick()
            if state in FINAL or (until is not None and until(self)):
                return state
            self.world.step(dt)
        return state

    def record(self, part_id: str):
        return self.executive.shift.records[part_id]

    def logged(self, text: str) -> bool:
        return any(text in line for line in self.lines)
