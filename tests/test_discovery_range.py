"""DDS discovery stays on this machine unless the user opens it (docs/security.md).

`legion launch` (and the ROS launch files, and `legion teleop`) add `ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST` unless the
environment chooses a range. Measured here on the wire: a participant started with the launch's environment sends no
discovery (SPDP) multicast on this machine's network interface, while one with `SUBNET` does (the control that shows
the listener hears it); and a localhost-only participant still talks to a default one on the same machine."""

from __future__ import annotations

import os
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from legion_bringup.nodes import middleware_environment
from legion_common.discovery import DISCOVERY_RANGE, discovery_environment

WORKSPACE = Path(__file__).resolve().parents[1]
MULTICAST_GROUP = "239.255.0.1"  # the RTPS default discovery group
LISTEN = 4.0  # [s] a participant announces itself several times a second at start

PARTICIPANT = """
import time, rclpy
from std_msgs.msg import String
rclpy.init()
node = rclpy.create_node("discovery_range_probe")
publisher = node.create_publisher(String, "discovery_range_check", 10)
end = time.monotonic() + float(__import__("sys").argv[1])
while time.monotonic() < end:
    publisher.publish(String(data="hello"))
    rclpy.spin_once(node, timeout_sec=0.05)
"""


def test_the_launch_environment_keeps_discovery_local_unless_chosen() -> None:
    assert discovery_environment({}) == {DISCOVERY_RANGE: "LOCALHOST"}
    assert discovery_environment({DISCOVERY_RANGE: "SUBNET"}) == {}
    assert discovery_environment({"ROS_LOCALHOST_ONLY": "0"}) == {}
    assert middleware_environment(WORKSPACE, {})[DISCOVERY_RANGE] == "LOCALHOST"
    assert DISCOVERY_RANGE not in middleware_environment(WORKSPACE, {DISCOVERY_RANGE: "SUBNET"})


def _network_address() -> str | None:
    """This machine's IPv4 address on a non-loopback interface (the one a default route uses), or None."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing interface
        address = probe.getsockname()[0]
    except OSError:
        return None
    finally:
        probe.close()
    return None if address.startswith("127.") else address


def _multicast_announcements(environment: dict[str, str], address: str, domain: int) -> int:
    """How many RTPS packets from a participant started with `environment` arrive on the discovery multicast group
    joined on interface `address`, in LISTEN seconds (packets of other processes are told apart by the pid in the
    RTPS GUID prefix)."""
    port = 7400 + 250 * domain
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("", port))
    listener.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                        struct.pack("4s4s", socket.inet_aton(MULTICAST_GROUP), socket.inet_aton(address)))
    listener.settimeout(0.1)
    child = subprocess.Popen([sys.executable, "-c", PARTICIPANT, str(LISTEN + 2.0)],
                             env=environment | {"ROS_DOMAIN_ID": str(domain)},
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ours = struct.pack("<H", child.pid & 0xFFFF)
    count = 0
    try:
        end = time.monotonic() + LISTEN
        while time.monotonic() < end:
            try:
                data, _ = listener.recvfrom(65536)
            except TimeoutError:
                continue
            if data[:4] == b"RTPS" and data[12:14] == ours:  # GUID prefix bytes 4-5: the writer's pid
                count += 1
    finally:
        child.kill()
        child.wait()
        listener.close()
    return count


def test_a_launched_participant_sends_no_discovery_multicast_on_the_network() -> None:
    address = _network_address()
    if address is None:
        pytest.skip("no non-loopback IPv4 interface to listen on")
    domain = (int(os.environ.get("ROS_DOMAIN_ID", "0")) + 117) % 233
    base = {k: v for k, v in os.environ.items() if k not in (DISCOVERY_RANGE, "ROS_LOCALHOST_ONLY")}
    launched = base | middleware_environment(WORKSPACE, base)
    assert launched[DISCOVERY_RANGE] == "LOCALHOST"
    opened = _multicast_announcements(base | {DISCOVERY_RANGE: "SUBNET"}, address, domain)
    assert opened > 0, "the control failed: no multicast heard from a SUBNET participant"
    assert _multicast_announcements(launched, address, domain) == 0


def test_a_localhost_only_participant_still_talks_to_a_default_one_on_this_machine() -> None:
    from std_msgs.msg import String

    from legion_testing.probe import Probe

    probe = Probe("discovery_range_listener")  # this process: the default range (SUBNET)
    probe.record("discovery_range_check", String)
    environment = {k: v for k, v in os.environ.items() if k != DISCOVERY_RANGE} | {DISCOVERY_RANGE: "LOCALHOST"}
    child = subprocess.Popen([sys.executable, "-c", PARTICIPANT, "30"], env=environment,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        probe.wait_until(lambda: bool(probe.received("discovery_range_check")), 25.0, "a message across the ranges")
    finally:
        child.kill()
        child.wait()
        probe.close()
