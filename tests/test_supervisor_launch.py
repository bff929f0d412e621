"""The supervisor in the launch plan: it watches every node of the stack's work (composed nodes by their own names;
not the optional tools, such as the link transforms or the browser view), is not required, and its `watched` list
reaches the node as a string array."""

from __future__ import annotations

from pathlib import Path

import yaml

from legion_bringup.launcher import command_line
from legion_bringup.nodes import plan, resolve_arguments

SHARE = Path(__file__).resolve().parents[1]


def test_the_supervisor_watches_every_node_of_the_stack() -> None:
    for composed in ("true", "false"):
        nodes = plan("stack", resolve_arguments("stack", {"composed": composed}), SHARE)
        supervisor = next(n for n in nodes if n.name == "supervisor")
        expected = [name for n in nodes if n.required and not n.ros_only for name in (n.composed or (n.name,))]
        assert supervisor.parameters["watched"] == expected
        assert {"sim_bridge", "state_estimator", "whole_body_controller", "gait_planner", "perception",
                "manipulation", "safety", "executive"} == set(expected)
        assert not supervisor.required and not supervisor.respawn
        command = command_line(supervisor, Path("/bin/supervisor"), Path("/none"), "")
        value = next(w for w in command if w.startswith("watched:="))
        assert yaml.safe_load(value.split(":=", 1)[1]) == expected  # as rclpy reads a -p value


def test_the_sim_launch_has_no_supervisor() -> None:
    assert "supervisor" not in {n.name for n in plan("sim", resolve_arguments("sim", {}), SHARE)}
