"""The SROS2 policy config/security/legion.policy.xml (docs/security.md) against the nodes it is for: the teleop and
executive profiles allow every topic, service and action the running nodes use (read from the ROS graph, in-process),
so enforcing the policy does not break them; and neither allows a command it has no business sending."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import rclpy

POLICY = Path(__file__).resolve().parents[1] / "config" / "security" / "legion.policy.xml"
MOTION = {"cmd_vel", "joint_commands", "gait/reference", "balance/offset", "posture/reference", "emergency_stop",
          "left_hand/target", "right_hand/target", "left_hand/command", "right_hand/command", "left_hand/payload",
          "right_hand/payload"}
"""Topics that move the robot (docs/security.md)."""


def profile(node: str) -> dict[str, set[str]]:
    """Permission kind (`publish`, `subscribe`, `request`, `reply`, `call`, `execute`) -> names, for a node."""
    found = ET.parse(POLICY).getroot().findall(f".//profile[@node='{node}']")
    assert len(found) == 1, f"one profile for {node}"
    allowed: dict[str, set[str]] = {}
    for group in found[0]:
        for kind, value in group.attrib.items():
            if value == "ALLOW":
                allowed.setdefault(kind, set()).update(child.text.strip() for child in group)
    return allowed


def used(node) -> dict[str, set[str]]:
    """What a node uses, from the ROS graph, in the policy's terms (actions from their hidden topics/services)."""
    name, namespace = node.get_name(), node.get_namespace()
    uses: dict[str, set[str]] = {k: set() for k in ("publish", "subscribe", "request", "reply", "call", "execute")}

    def relative(full: str, kind: str) -> str:
        if kind in ("reply", "request") and full.startswith(f"/{name}/"):  # the node's own (parameter) services
            return "~/" + full[len(name) + 2:]
        return full.lstrip("/")

    for kind, getter in (("publish", node.get_publisher_names_and_types_by_node),
                         ("subscribe", node.get_subscriber_names_and_types_by_node),
                         ("reply", node.get_service_names_and_types_by_node),
                         ("request", node.get_client_names_and_types_by_node)):
        for full, _ in getter(name, namespace):
            short = relative(full, kind)
            if "/_action/" in short:
                action = short.split("/_action/")[0]
                if kind in ("reply", "request"):
                    uses["execute" if kind == "reply" else "call"].add(action)
                continue
            uses[kind].add(short)
    return uses


@pytest.fixture(scope="module")
def nodes():
    # A context of their own: pytest-xdist may run other modules' tests between these two, and one that shuts down
    # rclpy's default context would leave these nodes out of the graph
    context = rclpy.Context()
    rclpy.init(context=context)
    from legion_executive.executive_node import ExecutiveNode
    from legion_teleop.teleop_node import TeleopNode

    # ... and names of their own: the graph's by-node queries take the first node of a name, and a node called
    # `executive` left by another test of this worker (its context gone, its endpoints with it) would answer
    rename = ("--ros-args", "-r")
    teleop = TeleopNode(context=context, cli_args=[*rename, "__node:=teleop_policy_check"])
    executive = ExecutiveNode(context=context, cli_args=[*rename, "__node:=executive_policy_check"])
    try:
        yield {"teleop": teleop, "executive": executive}
    finally:
        teleop.destroy_node()
        executive.destroy_node()
        context.try_shutdown()


@pytest.mark.parametrize("name", ["teleop", "executive"])
def test_the_policy_allows_what_the_node_uses(nodes, name) -> None:
    allowed, uses = profile(name), used(nodes[name])
    deadline = time.monotonic() + 10.0  # the graph cache may lag the node's creation on a loaded machine
    while not (uses["publish"] and uses["subscribe"]) and time.monotonic() < deadline:
        time.sleep(0.1)
        uses = used(nodes[name])
    assert uses["publish"] and uses["subscribe"], "the graph shows the node's topics"
    for kind, names in uses.items():
        missing = names - allowed.get(kind, set())
        assert not missing, f"{name} {kind}s {sorted(missing)}, which the policy does not allow"


def test_each_enclave_may_send_only_its_own_motion_commands() -> None:
    teleop, executive = profile("teleop"), profile("executive")
    assert teleop["publish"] & MOTION == {"cmd_vel", "posture/reference", "emergency_stop", "left_hand/target",
                                          "right_hand/target", "left_hand/command", "right_hand/command"}
    assert executive["publish"] & MOTION == {"posture/reference"}
    assert "joint_commands" not in teleop["publish"] | executive["publish"]
    assert teleop["request"] == {"emergency_stop/reset", "safety/reset"}
    assert not {"emergency_stop/reset", "safety/reset"} & executive.get("request", set())
    assert executive["call"] == {"walk_to", "pick", "place"} and "call" not in teleop
