"""A person walks at the robot over the whole stack (lockstep, DDS): the speed and separation monitoring scenario of
tests/test_safety_stack.py and `bench/bench_safety.py approach`.

Scene `safety_approach`: the person starts 7.5 m in front of the robot's start at `PERSON_START` s of simulated
time, walks at 1.6 m/s to 3.2 m in front of it, stands there 4 s facing it, then turns and walks out of the way. The
robot stands until `ROBOT_START`, then is driven forward at `ROBOT_SPEED` by cmd_vel (sent at every
ground_truth/odom message, 50 Hz of simulated time) until `END`. Simulated time runs from the launch on (free until
the controller publishes), so once the stack balances the run resets the simulation (`sim/reset`: time 0, the robot
at its start) and the scenario's times count from there. Ground truth (`ground_truth/odom`,
`ground_truth/people`) only judges; the stack sees the person through the head camera alone.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field

import numpy as np

ROBOT_START = 14.0
"""[s] simulated time at which the robot starts walking."""
PERSON_START = 20.0
"""[s] the scene's start_time of the person."""
ROBOT_SPEED = 0.25
"""[m/s] commanded forward speed."""
END = 38.0
"""[s] simulated time at which the run ends."""
REST_SPEED = 0.05
"""[m/s] ground-truth base speed below which the robot counts as at rest."""
STARTUP = 180.0
"""[s] wall: model build, DDS discovery, first balanced cycles."""
WALL_PER_SIM_SECOND = 15.0


@dataclass
class ApproachResult:
    """What a run recorded (times [s] of simulated time, distances [m] base to person, ground truth)."""

    samples: list[tuple[float, np.ndarray, np.ndarray, float]] = field(default_factory=list)
    """(time, base xy, person xy, base speed) at each ground_truth/odom."""
    states: list[tuple[float, int, float, float, float, str]] = field(default_factory=list)
    """(time, zone, speed scale, S_p, nearest distance seen, reason) of each safety/state."""
    fell: bool = False
    ready_time: float = math.nan

    def distance_at(self, time: float) -> float:
        for t, base, person, _ in self.samples:
            if t >= time:
                return float(np.hypot(*(person - base)))
        return math.nan

    def first_state(self, predicate) -> tuple | None:
        return next((s for s in self.states if s[0] >= ROBOT_START and predicate(s)), None)

    @property
    def slow(self) -> tuple | None:
        """The first safety/state with a speed scale below 1 after the robot started."""
        return self.first_state(lambda s: s[2] < 1.0)

    @property
    def stop(self) -> tuple | None:
        """The first protective stop after the robot started."""
        return self.first_state(lambda s: s[1] >= 2)

    @property
    def rest_time(self) -> float:
        """First time after the stop from which the base stays below REST_SPEED for 1 s (nan: never)."""
        if self.stop is None:
            return math.nan
        times = [(t, v) for t, _, _, v in self.samples if t >= self.stop[0]]
        for i, (t, _) in enumerate(times):
            if all(v < REST_SPEED for t2, v in times[i:] if t2 <= t + 1.0):
                return t
        return math.nan

    @property
    def resume(self) -> tuple | None:
        """The first clear (scale 1) state after the stop."""
        stop = self.stop
        return None if stop is None else next((s for s in self.states if s[0] > stop[0] and s[1] == 0), None)

    @property
    def min_distance(self) -> float:
        return min(float(np.hypot(*(p - b))) for _, b, p, _ in self.samples) if self.samples else math.nan

    def travel_after(self, time: float) -> float:
        """Ground-truth base travel [m] from `time` to the end."""
        after = [b for t, b, _, _ in self.samples if t >= time]
        return float(np.hypot(*(after[-1] - after[0]))) if len(after) > 1 else 0.0

    def report(self) -> list[str]:
        slow, stop, resume = self.slow, self.stop, self.resume
        lines = ["Person at 1.6 m/s towards the robot walking at 0.25 m/s (full stack over DDS, lockstep; ground "
                 "truth judges)"]

        def at(state, label):
            if state is None:
                lines.append(f"  {label}: never")
            else:
                lines.append(f"  {label}: t = {state[0]:.2f} s, ground-truth distance {self.distance_at(state[0]):.2f} "
                             f"m, S_p reported {state[3]:.2f} m, scale {state[2]:.2f} ({state[5]})")
        at(slow, "speed scale first below 1")
        at(stop, "protective stop")
        rest = self.rest_time
        lines.append(f"  base at rest (< {REST_SPEED} m/s for 1 s): "
                     + (f"t = {rest:.2f} s ({rest - stop[0]:.2f} s after the stop), distance "
                        f"{self.distance_at(rest):.2f} m" if stop is not None and math.isfinite(rest) else "never"))
        lines.append(f"  smallest distance base-person: {self.min_distance:.2f} m; "
                     f"fell: {'yes' if self.fell else 'no'}")
        at(resume, "clear again")
        if resume is not None:
            lines.append(f"  base travel after clear: {self.travel_after(resume[0]):.2f} m")
        return lines


def run_approach(echo: bool = False) -> ApproachResult:
    """Launch the stack on `safety_approach`, drive the robot, record; see the module docstring."""
    from diagnostic_msgs.msg import DiagnosticArray
    from geometry_msgs.msg import PoseArray, Twist
    from nav_msgs.msg import Odometry
    from std_srvs.srv import Trigger

    from legion_bringup.launcher import LaunchedNodes
    from legion_common.stamps import header_seconds
    from legion_interfaces.msg import SafetyState
    from legion_testing.probe import LATCHED, Probe

    result = ApproachResult()
    lock = threading.Lock()
    people: list[np.ndarray] = []
    launched = LaunchedNodes("stack", {"scene": "safety_approach", "lockstep": "true"}, echo=echo)
    probe = Probe("safety_approach_probe")
    try:
        cmd = probe.publisher(Twist, "cmd_vel")

        def on_people(msg: PoseArray) -> None:
            if msg.poses:
                with lock:
                    people[:] = [np.array([msg.poses[0].position.x, msg.poses[0].position.y])]

        recording = threading.Event()

        def on_odom(msg: Odometry) -> None:
            if not recording.is_set():
                return
            now = header_seconds(msg)
            pose, twist = msg.pose.pose, msg.twist.twist.linear
            with lock:
                person = people[0] if people else None
            if pose.position.z < 0.6:
                result.fell = True
            if person is not None:
                result.samples.append((now, np.array([pose.position.x, pose.position.y]), person,
                                       math.hypot(twist.x, twist.y)))
            if ROBOT_START <= now < END:
                forward = Twist()
                forward.linear.x = ROBOT_SPEED
                cmd.publish(forward)

        def on_state(msg: SafetyState) -> None:
            if recording.is_set():
                result.states.append((header_seconds(msg), int(msg.zone), float(msg.speed_scale),
                                  float(msg.protective_distance), float(msg.nearest_person_distance), msg.reason))

        probe.record("ground_truth/people", PoseArray, callback=on_people)
        probe.record("ground_truth/odom", Odometry, callback=on_odom)
        probe.record("safety/state", SafetyState, LATCHED, callback=on_state)
        probe.record("diagnostics", DiagnosticArray)

        def balancing() -> bool:
            return (probe.diagnostic("whole_body_controller").get("state") == "balancing"
                    and probe.diagnostic("gait_planner").get("phase") == "standing")

        probe.wait_until(balancing, STARTUP, "the stack to balance")
        assert probe.call(Trigger, "sim/reset", Trigger.Request(), timeout=60.0).success
        probe.clear("diagnostics")
        probe.wait_until(lambda: 0.0 <= probe.latest_time("ground_truth/odom") < 5.0, STARTUP, "the reset")
        recording.set()
        probe.wait_until(lambda: bool(result.states) and result.states[-1][0] < 5.0, STARTUP,
                         "safety/state after the reset")
        result.ready_time = probe.latest_time("ground_truth/odom")
        if result.ready_time > ROBOT_START - 2.0:
            raise AssertionError(f"the stack came up at {result.ready_time:.1f} s of simulated time, too late for "
                                 f"the robot to start at {ROBOT_START} s")

        def finished() -> bool:
            exited = launched.exited_required()
            if exited is not None:
                raise AssertionError(f"node {exited[0]} exited with code {exited[1]}")
            return probe.latest_time("ground_truth/odom") >= END or result.fell

        probe.wait_until(finished, WALL_PER_SIM_SECOND * (END - result.ready_time) + 60.0, f"simulated time {END} s")
    finally:
        probe.close()
        launched.shutdown()
    return result
