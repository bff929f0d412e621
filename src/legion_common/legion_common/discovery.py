"""How far Legion's DDS participants look for each other: the local machine unless the user says otherwise.

A robot's topics (`cmd_vel`, `joint_commands`, `emergency_stop`, ...) move it; by default ROS 2 announces every
participant by multicast to the whole subnet, where anyone on the network can discover and command them. Legion's
launches and `legion teleop` therefore set `ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST` (ROS 2 Jazzy: no multicast, unicast
discovery to this machine only) unless the environment already chooses (`ROS_AUTOMATIC_DISCOVERY_RANGE=SUBNET` opens it
up, e.g. for a remote operator; `ROS_LOCALHOST_ONLY`, the older switch, is respected too). docs/security.md.
"""

from __future__ import annotations

from collections.abc import Mapping

DISCOVERY_RANGE = "ROS_AUTOMATIC_DISCOVERY_RANGE"
LEGACY_LOCALHOST_ONLY = "ROS_LOCALHOST_ONLY"
DEFAULT_RANGE = "LOCALHOST"


def discovery_environment(environment: Mapping[str, str]) -> dict[str, str]:
    """The variables to add to `environment` so that discovery stays on this machine: {} when the user has chosen a
    range (either variable set, even empty), else `{ROS_AUTOMATIC_DISCOVERY_RANGE: LOCALHOST}`."""
    if DISCOVERY_RANGE in environment or LEGACY_LOCALHOST_ONLY in environment:
        return {}
    return {DISCOVERY_RANGE: DEFAULT_RANGE}
