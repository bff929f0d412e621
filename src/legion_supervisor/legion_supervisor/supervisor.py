"""Liveness of the nodes of a launch and the pause policy, without ROS.

A watched node is

- `alive`: in the ROS graph, and its newest `diagnostics` (or `hardware/status`) status is at most
  `diagnostics_timeout` old (a node that has not published one yet counts as alive while in the graph);
- `stale`: in the graph, but its diagnostics are older than `diagnostics_timeout` (hung, or its clock stopped);
- `dead`: absent from the graph for longer than `graph_grace` (a process that exited, was killed or lost DDS).

A node seen `dead` and then `alive` again has been restarted: it is taken back (its `restarts` counter goes up) and
the pause it caused ends. `pause_on` names the nodes whose loss pauses work: while any of them is not alive,
`pause` is true and names them; the gait planner then stands and manipulation holds (supervisor/pause). Times are
passed in by the caller: `now` [s] of the clock the diagnostics are stamped in (simulated time) and `wall` [s] of a
steady clock (graph presence; simulated time stops when the simulator dies). Not thread-safe.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from legion_common.parameters import param, require

ALIVE = "alive"
STALE = "stale"
DEAD = "dead"
UNSEEN = "unseen"
"""Not yet seen in the graph (start-up)."""


class SupervisorError(Exception):
    """The supervisor's configuration is invalid."""


@dataclass(frozen=True)
class SupervisorParameters:
    """The supervisor's parameters (also the node's, under the same names)."""

    watched: tuple[str, ...] = param(("",), "Names of the nodes to watch (the launch plan's nodes); empty strings "
                                            "are ignored.")
    pause_on: tuple[str, ...] = param(("perception",), "Nodes whose loss pauses walking and manipulation "
                                                       "(supervisor/pause); empty strings are ignored.")
    diagnostics_timeout: float = param(5.0, "A node whose newest diagnostics status is older than this is stale.",
                                       unit="s", low=0.5, high=600.0)
    graph_grace: float = param(1.0, "A node absent from the graph for longer than this is dead.", unit="s",
                               low=0.0, high=60.0)
    check_rate: float = param(4.0, "Rate of the graph check and of supervisor/status.", unit="Hz", low=0.1,
                              high=50.0)

    def validated(self) -> SupervisorParameters:
        require(any(self.watched), "watched must name at least one node")
        return self


@dataclass
class NodeHealth:
    """What the supervisor knows of one watched node."""

    name: str
    state: str = UNSEEN
    in_graph: bool = False
    absent_since: float | None = None
    """[s] wall time it left the graph (None while in it)."""
    last_diagnostics: float | None = None
    """[s] clock time of its newest diagnostics status."""
    deaths: int = 0
    restarts: int = 0
    detail: str = "not yet seen"


@dataclass
class Verdict:
    """The supervisor's view at one check."""

    nodes: dict[str, NodeHealth]
    pause: bool
    pause_reason: str
    changes: list[str] = field(default_factory=list)
    """Transitions since the previous check (`perception: alive -> dead`)."""

    @property
    def dead(self) -> list[str]:
        return [n for n, h in self.nodes.items() if h.state == DEAD]


class Supervisor:
    """Liveness of the watched nodes and the pause they cause."""

    def __init__(self, params: SupervisorParameters) -> None:
        watched = [n for n in params.watched if n]
        if not watched:
            raise SupervisorError("no node to watch")
        if len(set(watched)) != len(watched):
            raise SupervisorError(f"a node is watched twice: {watched}")
        unknown = [n for n in params.pause_on if n and n not in watched]
        if unknown:
            raise SupervisorError(f"pause_on names node(s) that are not watched: {unknown}")
        self.params = params
        self.nodes = {name: NodeHealth(name) for name in watched}
        self.pause_on = tuple(n for n in params.pause_on if n)

    def observe_diagnostics(self, status_name: str, now: float) -> str | None:
        """A diagnostics status named `status_name` arrived at clock time `now` [s]; the watched node it belongs to
        (the status name starts with the node name), or None."""
        for name, health in self.nodes.items():
            if status_name == name or status_name.startswith((f"{name}:", f"{name} ", f"{name}/")):
                health.last_diagnostics = now if health.last_diagnostics is None else max(now,
                                                                                          health.last_diagnostics)
                return name
        return None

    def check(self, graph_nodes: Iterable[str], now: float, wall: float) -> Verdict:
        """Update every node's state from the node names in the graph, the clock time `now` [s] and the wall time
        `wall` [s]; the verdict with the transitions since the last check."""
        present = set(graph_nodes)
        changes = []
        for name, health in self.nodes.items():
            health.in_graph = name in present
            if health.in_graph:
                health.absent_since = None
            elif health.absent_since is None:
                health.absent_since = wall
            state, detail = self._state(health, now, wall)
            if state != health.state:
                if state == DEAD:
                    health.deaths += 1
                    health.last_diagnostics = None  # a restarted process must report afresh
                if health.state == DEAD and state in (ALIVE, STALE):
                    health.restarts += 1
                changes.append(f"{name}: {health.state} -> {state} ({detail})")
                health.state = state
            health.detail = detail
        lost = [n for n in self.pause_on if self.nodes[n].state != ALIVE]
        reason = f"paused: {', '.join(f'{n} {self.nodes[n].state}' for n in lost)}" if lost else ""
        return Verdict(self.nodes, bool(lost), reason, changes)

    def _state(self, health: NodeHealth, now: float, wall: float) -> tuple[str, str]:
        if not health.in_graph:
            if health.state == UNSEEN:
                return UNSEEN, "not yet seen"
            if wall - health.absent_since > self.params.graph_grace:
                return DEAD, f"absent from the graph for {wall - health.absent_since:.1f} s"
            return health.state, "leaving the graph"
        if health.last_diagnostics is None:
            return ALIVE, "in the graph, no diagnostics yet"
        age = now - health.last_diagnostics
        if age > self.params.diagnostics_timeout:
            return STALE, f"diagnostics {age:.1f} s old"
        return ALIVE, f"diagnostics {max(age, 0.0):.1f} s old"


def summary(nodes: Sequence[NodeHealth]) -> str:
    """One line: `perception dead, gait_planner alive, ...` listing the nodes that are not alive first."""
    ordered = sorted(nodes, key=lambda h: (h.state == ALIVE, h.name))
    return ", ".join(f"{h.name} {h.state}" for h in ordered)
