"""The whole stack in real-time mode: the simulator does not wait for the software (as a real robot does not).

`stack` launch with `lockstep:=false` in the empty scene, the head camera on at 10 Hz (perception running): the robot
stands 2 s, then walks 3 m forward on `cmd_vel` at 0.5 m/s and stops. It must not fall and the hardware's watchdog
must never trip (a trip means no command for 50 ms of simulated time: a stuck control path). Judged on the
simulator's ground truth, which no node of the stack reads.

On a machine too slow for real time the simulator runs as fast as it can (real-time factor below 1) and the
controller still has to keep up with it: the ticks it answers late or skips are counted on `hardware/status`
(docs/realtime.md) and printed, not asserted (speed figures belong to bench/bench_stack.py). Because the outcome
depends on the machine's load, the default run leaves this module out: `./test.sh --realtime` runs it alone.
"""

from __future__ import annotations

import math
import time

import pytest
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import Twist
from nav_msgs.msg import Odometry

from legion_bringup.job import FALL_TILT_DEG
from legion_bringup.launcher import LaunchedNodes
from legion_common.diagnostics import diagnostic_values
from legion_common.messages import xyzw
from legion_common.stamps import header_seconds
from legion_common.transforms import tilt_from_quaternion
from legion_testing.probe import Probe

pytestmark = [pytest.mark.stack, pytest.mark.realtime]

STARTUP = 120.0
"""[s] wall: model builds, DDS discovery, the controller's first commands."""
TIMEOUT = 240.0
"""[s] wall allowed for the stand and the walk (the simulator may run well below real time on 2 cores)."""
FALL_HEIGHT = 0.6
"""[m] a base lower than this has fallen."""
SPEED, DISTANCE = 0.5, 3.0
"""[m/s], [m] the walk."""


def test_stands_and_walks_3_m_in_real_time_without_a_fall_or_a_watchdog_trip():
    launched = LaunchedNodes("stack", {"scene": "empty", "lockstep": "false"}, echo=False,
                             extra_parameters={"sim_bridge": {"camera_rate": 10.0}})
    probe = Probe("realtime_stack_test_probe")
    statuses: list[tuple[float, dict[str, str]]] = []  # (stamp, key values) of hardware/status
    fell: list[str] = []

    def on_truth(msg: Odometry) -> None:
        pose = msg.pose.pose
        tilt = math.degrees(tilt_from_quaternion(xyzw(pose.orientation)))
        if not fell and (tilt > FALL_TILT_DEG or pose.position.z < FALL_HEIGHT):
            fell.append(f"at {header_seconds(msg):.2f} s: tilt {tilt:.0f} deg, base height {pose.position.z:.2f} m")

    def number(key: str) -> float:
        return float(statuses[-1][1].get(key, "nan")) if statuses else math.nan

    def now() -> float:
        truth = probe.received("ground_truth/odom")
        return header_seconds(truth[-1]) if truth else -1.0

    try:
        probe.record("ground_truth/odom", Odometry, callback=on_truth)
        probe.record("hardware/status", DiagnosticArray,
                     callback=lambda m: statuses.append((header_seconds(m), diagnostic_values(m))))
        cmd_vel = probe.publisher(Twist, "cmd_vel")
        probe.wait_until(lambda: number("commands_accepted") > 0, STARTUP, "the controller's first commands")
        trips_before = number("watchdog_trips")
        probe.wait_sim_time(2.0, TIMEOUT, topic="ground_truth/odom")
        start = probe.received("ground_truth/odom")[-1].pose.pose.position
        walk_end = now() + DISTANCE / SPEED + 4.0  # + the speed ramp and margin
        command = Twist()
        command.linear.x = SPEED
        wall_end = time.monotonic() + TIMEOUT
        while now() < walk_end and not fell and time.monotonic() < wall_end:
            cmd_vel.publish(command)
            position = probe.received("ground_truth/odom")[-1].pose.pose.position
            if position.x - start.x >= DISTANCE:
                break
            time.sleep(0.05)
        cmd_vel.publish(Twist())
        probe.wait_sim_time(1.5, TIMEOUT, topic="ground_truth/odom")  # stop and settle
        end = probe.received("ground_truth/odom")[-1].pose.pose.position
        stamp = now()
        probe.wait_until(lambda: statuses[-1][0] >= stamp, 30.0, "a hardware/status after the walk")
        print(f"real time: walked {end.x - start.x:.2f} m; ticks on time {number('tick_latency.total.on_time'):.0f}, "
              f"late {number('tick_latency.total.late'):.0f}, missed {number('tick_latency.total.missed'):.0f}; "
              f"latency median {number('tick_latency.total.median_ms'):.1f} ms")
        assert not fell, f"the robot fell {fell[0]}"
        assert end.x - start.x >= 0.9 * DISTANCE, f"walked only {end.x - start.x:.2f} m of {DISTANCE} m"
        assert number("watchdog_trips") == trips_before, (
            f"the watchdog tripped {number('watchdog_trips') - trips_before:.0f} times")
        assert all(process.poll() is None for process in launched.processes.values())
    finally:
        probe.close()
        launched.shutdown()
