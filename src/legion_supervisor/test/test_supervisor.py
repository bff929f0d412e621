"""The supervisor's core: node states from graph presence and diagnostics freshness, deaths and restarts, the pause."""

from __future__ import annotations

import pytest

from legion_common.parameters import ParameterError, from_flat
from legion_supervisor.supervisor import (
    ALIVE,
    DEAD,
    STALE,
    UNSEEN,
    Supervisor,
    SupervisorError,
    SupervisorParameters,
)

NODES = ("sim_bridge", "whole_body_controller", "perception", "gait_planner")


def make(**overrides) -> Supervisor:
    values = {"watched": NODES, "pause_on": ("perception",), "diagnostics_timeout": 2.0, "graph_grace": 1.0}
    return Supervisor(from_flat(SupervisorParameters, values | overrides).validated())


def test_nodes_in_the_graph_with_fresh_diagnostics_are_alive_and_nothing_pauses() -> None:
    supervisor = make()
    supervisor.observe_diagnostics("sim_bridge: hardware", 1.0)
    verdict = supervisor.check(NODES, now=1.5, wall=0.0)
    assert {h.state for h in verdict.nodes.values()} == {ALIVE}
    assert not verdict.pause and verdict.pause_reason == "" and verdict.dead == []


def test_a_node_not_yet_seen_pauses_until_it_appears() -> None:
    supervisor = make()
    verdict = supervisor.check(["sim_bridge"], now=0.0, wall=0.0)
    assert verdict.nodes["perception"].state == UNSEEN and verdict.pause
    assert not supervisor.check(NODES, now=0.1, wall=0.1).pause


def test_a_node_gone_from_the_graph_is_dead_after_the_grace_then_taken_back_when_it_returns() -> None:
    supervisor = make()
    supervisor.check(NODES, now=0.0, wall=0.0)
    others = [n for n in NODES if n != "perception"]
    assert supervisor.check(others, now=0.5, wall=0.5).nodes["perception"].state == ALIVE  # within the grace
    verdict = supervisor.check(others, now=1.0, wall=1.6)
    assert verdict.nodes["perception"].state == DEAD and verdict.dead == ["perception"]
    assert verdict.pause and "perception dead" in verdict.pause_reason
    assert any("perception: alive -> dead" in c for c in verdict.changes)
    assert verdict.nodes["perception"].deaths == 1
    verdict = supervisor.check(NODES, now=5.0, wall=5.0)
    assert verdict.nodes["perception"].state == ALIVE and verdict.nodes["perception"].restarts == 1
    assert not verdict.pause


def test_a_dead_node_that_does_not_pause_work_is_reported_only() -> None:
    supervisor = make()
    supervisor.check(NODES, now=0.0, wall=0.0)
    supervisor.check([n for n in NODES if n != "whole_body_controller"], now=1.0, wall=1.0)
    verdict = supervisor.check([n for n in NODES if n != "whole_body_controller"], now=2.5, wall=2.5)
    assert verdict.dead == ["whole_body_controller"] and not verdict.pause


def test_stale_diagnostics_make_a_node_stale_and_fresh_ones_alive_again() -> None:
    supervisor = make()
    assert supervisor.observe_diagnostics("perception", 1.0) == "perception"
    assert supervisor.check(NODES, now=2.9, wall=0.0).nodes["perception"].state == ALIVE
    verdict = supervisor.check(NODES, now=3.5, wall=0.1)
    assert verdict.nodes["perception"].state == STALE and verdict.pause
    supervisor.observe_diagnostics("perception", 3.6)
    assert supervisor.check(NODES, now=3.7, wall=0.2).nodes["perception"].state == ALIVE


def test_status_names_belong_to_the_node_they_start_with_only() -> None:
    supervisor = make()
    assert supervisor.observe_diagnostics("sim_bridge: hardware", 0.0) == "sim_bridge"
    assert supervisor.observe_diagnostics("perception_extra", 0.0) is None
    assert supervisor.observe_diagnostics("ghost", 0.0) is None


def test_a_restarted_node_must_report_afresh() -> None:
    supervisor = make()
    supervisor.observe_diagnostics("perception", 0.0)
    supervisor.check(NODES, now=0.0, wall=0.0)
    supervisor.check([n for n in NODES if n != "perception"], now=1.0, wall=1.0)
    supervisor.check([n for n in NODES if n != "perception"], now=1.0, wall=2.5)
    assert supervisor.nodes["perception"].last_diagnostics is None


def test_bad_configurations_are_rejected() -> None:
    with pytest.raises(SupervisorError):
        make(pause_on=("executive",))
    with pytest.raises(SupervisorError):
        make(watched=("a", "a"))
    with pytest.raises(ParameterError):
        from_flat(SupervisorParameters, {"watched": ("",)}).validated()
    with pytest.raises(ParameterError):
        from_flat(SupervisorParameters, {"diagnostics_timeout": -1.0})
