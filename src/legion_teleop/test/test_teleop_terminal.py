"""The terminal front end, as a person uses it: the real `legion teleop` process in a pseudo-terminal that is its
controlling terminal. A held key (repeated) drives cmd_vel; the space bar sends the e-stop; `R` asks to confirm and
`n` cancels, `R` then `y` calls `emergency_stop/reset` (a fake here); Ctrl-C (SIGINT from the terminal) quits cleanly,
restoring the terminal. Over DDS between processes, a few seconds; no `stack` marker."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import shutil
import subprocess
import termios
import time

import pytest
from geometry_msgs.msg import Twist
from std_msgs.msg import Bool
from std_srvs.srv import Trigger

from legion_testing.probe import LATCHED, Probe

TIMEOUT = 60.0  # [s] wall: start-up (the robot's kinematics) and discovery on a loaded machine


def controlling_terminal() -> None:
    """In the child: a session of its own with the pty as its controlling terminal, as a shell gives it (Ctrl-C is
    then SIGINT from the terminal, not a byte)."""
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


@pytest.fixture
def terminal():
    executable = shutil.which("legion")
    if executable is None:
        pytest.skip("the legion command is not on PATH (. scripts/env.sh)")
    probe = Probe("teleop_terminal_test")
    probe.record("cmd_vel", Twist)
    probe.record("emergency_stop", Bool, LATCHED)
    resets = []

    def reset(_request, response):
        resets.append(time.monotonic())
        response.success, response.message = True, "cleared"
        return response

    probe.node.create_service(Trigger, "emergency_stop/reset", reset)
    master, slave = pty.openpty()
    before = termios.tcgetattr(slave)
    process = subprocess.Popen([executable, "teleop", "--no-arm"], stdin=slave, stdout=slave, stderr=slave,
                               close_fds=True, preexec_fn=controlling_terminal)
    output = bytearray()

    def read() -> bytes:
        while select.select([master], [], [], 0.0)[0]:
            try:
                output.extend(os.read(master, 65536))
            except OSError:
                break
        return bytes(output)

    try:
        probe.wait_until(lambda: any(i.node_name == "teleop" for i in probe.node.get_publishers_info_by_topic(
            "cmd_vel")) and b"w/s fwd/back" in read(), TIMEOUT, "legion teleop to start")
        yield probe, master, process, read, resets, (slave, before)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(master)
        os.close(slave)
        probe.close()


def hold(master: int, key: bytes, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        os.write(master, key)
        time.sleep(0.03)  # a terminal's key repeat


def test_keys_drive_stop_and_the_estop_resets_only_when_confirmed(terminal) -> None:
    probe, master, process, read, resets, (slave, before) = terminal
    # Driving: teleop's side of the DDS match may lag this side's; hold until cmd_vel arrives.
    probe.wait_until(lambda: hold(master, b"w", 0.3) or any(m.linear.x > 0 for m in probe.received("cmd_vel")),
                     TIMEOUT, "cmd_vel from a held key")
    hold(master, b"w", 1.0)
    assert probe.received("cmd_vel")[-1].linear.x > 0.1
    probe.wait_until(lambda: probe.received("cmd_vel")[-1].linear.x == 0.0, 3.0, "the stop after letting go")
    assert b"DRIVING" in read()
    # E-stop, then a reset that is cancelled, then one that is confirmed.
    os.write(master, b" ")
    probe.wait_until(lambda: any(m.data for m in probe.received("emergency_stop")), 5.0, "emergency_stop true")
    probe.clear("cmd_vel")
    hold(master, b"w", 0.5)
    assert all(m.linear.x == 0.0 for m in probe.received("cmd_vel"))
    os.write(master, b"R")
    probe.wait_until(lambda: b"Reset the emergency stop?" in read(), 5.0, "the confirmation question")
    os.write(master, b"n")
    probe.wait_until(lambda: b"cancelled" in read(), 5.0, "the cancel")
    assert resets == []
    os.write(master, b"Ry")
    probe.wait_until(lambda: bool(resets), 10.0, "the reset call")
    probe.wait_until(lambda: not probe.received("emergency_stop")[-1].data, 5.0, "emergency_stop false")
    probe.wait_until(lambda: hold(master, b"w", 0.3) or probe.received("cmd_vel")[-1].linear.x > 0, 10.0,
                     "driving again")
    # Quit: exits 0 and gives the terminal back as it was.
    os.write(master, b"\x03")
    deadline = time.monotonic() + 20.0
    while process.poll() is None and time.monotonic() < deadline:
        read()
        time.sleep(0.05)
    assert process.returncode == 0
    assert termios.tcgetattr(slave)[3] == before[3]  # local modes (echo, canonical) restored
