"""Teleop latency: from a key press (or a Joy message) to the cmd_vel it causes, received by a subscriber.

The real `legion teleop` process runs in a pseudo-terminal (raw input, as a person's terminal gives it). For each of
`--presses` presses this script writes `w` into the terminal (time t0, host monotonic clock), and its own DDS
subscriber takes the first cmd_vel that follows (t1, same clock): latency = t1 - t0, the whole path (terminal, select
loop, teleop core, rclpy publish, DDS to another process, rclpy callback). It then waits for teleop's stop (the zero
Twist once no key came for the key timeout) and a random 50-150 ms, so presses fall anywhere in the 20 Hz command
timer's period. Then the same with `--presses` Joy messages (dead-man held, stick forward) published by this script
on `joy`, each followed by a release. Full processes over DDS (Fast DDS, this machine), real time, no simulation:
nothing else needs to run.

Run: `. scripts/env.sh && python bench/bench_teleop.py [--presses 200]`
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import random
import subprocess
import tempfile
import termios
import threading
import time
from pathlib import Path

import numpy as np
import yaml
from geometry_msgs.msg import Twist
from sensor_msgs.msg import Joy

from legion_teleop.config import default_path, load_config
from legion_testing.probe import Probe

TIMEOUT = 10.0  # [s] wall, per press


def controlling_terminal() -> None:
    """In the child: the pty as its controlling terminal, as a shell gives it (Ctrl-C quits it)."""
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Receiver:
    """cmd_vel with the host monotonic time of receipt."""

    def __init__(self, probe: Probe) -> None:
        self.lock = threading.Lock()
        self.messages: list[tuple[float, float]] = []  # (receipt time [s], linear.x [m/s])
        probe.node.create_subscription(Twist, "cmd_vel", self.on_twist, 100)

    def on_twist(self, msg: Twist) -> None:
        now = time.monotonic()
        with self.lock:
            self.messages.append((now, msg.linear.x))

    def count(self) -> int:
        with self.lock:
            return len(self.messages)

    def wait(self, since: int, predicate, what: str) -> tuple[float, float]:
        """The first message after index `since` that satisfies `predicate(linear_x)`."""
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            with self.lock:
                for stamp, value in self.messages[since:]:
                    if predicate(value):
                        return stamp, value
            time.sleep(0.0005)
        raise RuntimeError(f"timed out waiting for {what}")


def figures(latencies: list[float]) -> str:
    ms = np.array(latencies) * 1e3
    return (f"n={len(ms)}  p50 {np.percentile(ms, 50):.2f} ms  p90 {np.percentile(ms, 90):.2f} ms  "
            f"p99 {np.percentile(ms, 99):.2f} ms  max {ms.max():.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--presses", type=int, default=200)
    parser.add_argument("--key-timeout", type=float, default=0.15,
                        help="the teleop file's timing.key_timeout for the run [s] (shorter: a faster bench; the "
                             "path measured is the same)")
    options = parser.parse_args()
    # A DDS domain of its own (unless given): other stacks on this machine must not answer for teleop.
    os.environ.setdefault("ROS_DOMAIN_ID", str(random.SystemRandom().randint(100, 200)))
    data = yaml.safe_load(default_path().read_text())
    data["timing"]["key_timeout"] = options.key_timeout
    config_file = Path(tempfile.mkdtemp()) / "teleop_bench.yaml"
    config_file.write_text(yaml.safe_dump(data))
    config = load_config(str(config_file))

    probe = Probe("bench_teleop")
    receiver = Receiver(probe)
    joy = probe.publisher(Joy, "joy")
    master, slave = pty.openpty()
    teleop = subprocess.Popen(["legion", "teleop", "--quiet", "--no-arm", "--config", str(config_file)],
                              stdin=slave, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, close_fds=True,
                              preexec_fn=controlling_terminal)
    os.close(slave)
    try:
        probe.wait_until(lambda: any(info.node_name == "teleop"
                                     for info in probe.node.get_publishers_info_by_topic("cmd_vel"))
                         and joy.get_subscription_count() > 0, 60.0, "teleop's cmd_vel and joy to match")
        # Warm-up: press until teleop's cmd_vel arrives (its side of the match may complete after this side's).
        deadline = time.monotonic() + 60.0
        while True:
            since = receiver.count()
            os.write(master, b"w")
            time.sleep(0.5)
            if any(x > 0.0 for _, x in receiver.messages[since:]):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("teleop's cmd_vel never arrived")
        time.sleep(options.key_timeout + 0.5)
        keys = []
        for press in range(options.presses + 3):  # 3 more warm-up presses, not counted
            since = receiver.count()
            t0 = time.monotonic()
            os.write(master, b"w")
            t1, _ = receiver.wait(since, lambda x: x > 0.0, f"cmd_vel after key press {press}")
            receiver.wait(since, lambda x: x == 0.0, "the stop after the key timeout")
            if press >= 3:
                keys.append(t1 - t0)
            time.sleep(random.uniform(0.05, 0.15))
        joys = []
        axes = [0.0] * 8
        axes[config.joy.axes["forward"].axis] = 1.0
        held = [0] * 11
        held[config.joy.deadman_buttons[0]] = 1
        for press in range(options.presses + 3):
            since = receiver.count()
            t0 = time.monotonic()
            joy.publish(Joy(axes=axes, buttons=held))
            t1, _ = receiver.wait(since, lambda x: x > 0.0, f"cmd_vel after Joy {press}")
            joy.publish(Joy(axes=axes, buttons=[0] * 11))
            receiver.wait(since, lambda x: x == 0.0, "the stop on dead-man release")
            if press >= 3:
                joys.append(t1 - t0)
            time.sleep(random.uniform(0.05, 0.15))
    finally:
        os.write(master, b"\x03")
        try:
            teleop.wait(timeout=10.0)
        except subprocess.TimeoutExpired:
            teleop.kill()
        os.close(master)
        probe.close()
    print("teleop latency to cmd_vel received by another process (full processes over DDS, real time):")
    print(f"  key press in a pty -> cmd_vel: {figures(keys)}")
    print(f"  Joy message        -> cmd_vel: {figures(joys)}")
    print(f"  load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
