"""The node-kill matrix: each process of the stack killed (SIGKILL) in turn while the robot stands and while it walks;
did the robot stay up (ground truth, judge only), what the supervisor reported (`supervisor/status`,
`supervisor/pause`, the hardware's protective stop on `hardware/status`), and did work resume after the process was
started again (the launch's own command). Used by bench/bench_node_kill.py and tests/test_node_kill.py.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import Twist
from nav_msgs.msg import Odometry
from std_msgs.msg import Bool

from legion_testing.fuzz_stack import StackUnderTest
from legion_testing.probe import LATCHED

WALL_PER_SIM_SECOND = 15.0
"""[s] wall allowed per second of simulated time before a wait gives up (lockstep on a loaded 2-core machine)."""


@dataclass
class KillRow:
    """One kill: what happened."""

    process: str
    nodes: tuple[str, ...]
    walking: bool
    stayed_up: bool = True
    """Up through the kill, the dead time, the restart and the time after it."""
    fell_when: str = ""
    """`before the kill`, `while dead` or `after the restart` (empty: did not fall)."""
    reported_dead: bool = False
    """The supervisor reported each of the process's nodes dead on supervisor/status."""
    paused: bool = False
    """supervisor/pause went true while it was dead."""
    hardware_stop: str = ""
    """The hardware's stop reason seen while it was dead (`watchdog`: the hardware held the joints)."""
    restarted: bool = False
    """The supervisor reported its nodes alive again after the restart."""
    resumed: bool = False
    """Standing: the robot stands, balanced, after the restart; walking: it walks again (ground truth)."""
    walked_while_dead: float = 0.0
    """[m] base travel while the process was dead (walking rows)."""
    notes: list[str] = field(default_factory=list)


class KillBench:
    """The stack with a supervisor, a probe that records what judges a kill, and a cmd_vel driver."""

    def __init__(self, stack: StackUnderTest) -> None:
        self.stack = stack
        probe = stack.probe
        self._lock = threading.Lock()
        self.forward = 0.0
        """[m/s] cmd_vel sent on each ground_truth/odom message while > 0."""
        self._cmd_vel = probe.publisher(Twist, "cmd_vel")
        probe.record("supervisor/status", DiagnosticArray)
        probe.record("supervisor/pause", Bool, LATCHED)
        probe.record("ground_truth/odom", Odometry, callback=self._drive)

    def _drive(self, _msg: Odometry) -> None:
        if self.forward > 0.0:
            twist = Twist()
            twist.linear.x = self.forward
            self._cmd_vel.publish(twist)

    def node_state(self, node: str) -> str:
        """The supervisor's newest state of `node` ('' before the first report)."""
        for msg in reversed(self.stack.probe.received("supervisor/status")):
            for status in msg.status:
                if status.name == f"supervisor: {node}":
                    return {kv.key: kv.value for kv in status.values}.get("state", "")
        return ""

    def paused(self) -> bool:
        received = self.stack.probe.received("supervisor/pause")
        return bool(received and received[-1].data)

    def position(self) -> tuple[float, float]:
        msg = self.stack.probe.received("ground_truth/odom")[-1]
        return msg.pose.pose.position.x, msg.pose.pose.position.y

    def sim_time(self) -> float:
        return self.stack.probe.latest_time("ground_truth/odom")

    def run_sim(self, seconds: float, watch=None) -> bool:
        """Let `seconds` of simulated time pass (calling `watch()` meanwhile); False if the robot fell."""
        start = self.sim_time()
        deadline = time.monotonic() + WALL_PER_SIM_SECOND * seconds + 30.0
        up = True
        while self.sim_time() < start + seconds and time.monotonic() < deadline:
            up = up and self.stack.upright()
            if watch is not None:
                watch()
            time.sleep(0.05)
        return up and self.stack.upright()

    def kill(self, process: str, walking: bool, dead_for: float = 2.0, after: float = 3.0) -> KillRow:
        """Kill `process`, keep it dead for `dead_for` [s] of simulated time (at least until the supervisor has
        judged it), start it again and watch `after` [s] of simulated time."""
        stack, launched = self.stack, self.stack.launched
        nodes = self._nodes_of(process)
        row = KillRow(process, nodes, walking)
        self.forward = 0.2 if walking else 0.0
        if walking and not self.run_sim(2.0):  # under way
            row.stayed_up, row.fell_when = False, "before the kill"
        stack.statuses.clear()
        start = self.position()
        launched.kill(process)

        def watch_dead() -> None:
            row.reported_dead = row.reported_dead or all(self.node_state(n) == "dead" for n in nodes)
            row.paused = row.paused or self.paused()
            for status in list(stack.statuses):
                if status.name.startswith("sim_bridge"):
                    reason = {kv.key: kv.value for kv in status.values}.get("stop_reason", "")
                    row.hardware_stop = row.hardware_stop or reason

        if process == "supervisor":  # the reporter itself: nobody reports it; it is judged by its status alone
            row.notes.append("the supervisor does not watch itself")
            stack.probe.clear("supervisor/status")
        wall_deadline = time.monotonic() + (30.0 if process != "supervisor" else 3.0)
        while not row.reported_dead and time.monotonic() < wall_deadline:
            watch_dead()
            time.sleep(0.1)
        if process != "sim_bridge" and not self.run_sim(dead_for, watch_dead):  # (no simulator: no time)
            row.stayed_up, row.fell_when = False, row.fell_when or "while dead"
        watch_dead()
        moved = self.position()
        row.walked_while_dead = ((moved[0] - start[0]) ** 2 + (moved[1] - start[1]) ** 2) ** 0.5
        launched.restart(process)
        if process == "supervisor":
            stack.probe.clear("supervisor/status")
            nodes = ("sim_bridge",)  # taken back when it reports again (on any watched node)
        wall_deadline = time.monotonic() + 180.0
        while time.monotonic() < wall_deadline and not all(self.node_state(n) == "alive" for n in nodes):
            time.sleep(0.2)
        row.restarted = all(self.node_state(n) == "alive" for n in nodes)
        if process == "sim_bridge":
            row.notes.append("the simulator restarted: the world starts again from the scene")
        if not walking:
            try:
                stack.wait_standing(timeout=180.0)
            except AssertionError as error:
                row.notes.append(str(error))
        before = self.position()
        up = self.run_sim(after)
        if not up:
            row.stayed_up, row.fell_when = False, row.fell_when or "after the restart"
        travelled = self.position()[0] - before[0]
        if walking:
            row.resumed = up and travelled > 0.1
            row.notes.append(f"walked {travelled:.2f} m in {after:.0f} s after the restart")
        else:
            row.resumed = up and stack.probe.diagnostic("whole_body_controller").get("state") == "balancing"
        self.forward = 0.0
        return row

    def _nodes_of(self, process: str) -> tuple[str, ...]:
        from legion_bringup.launcher import bringup_share
        from legion_bringup.nodes import plan

        for spec in plan("stack", self.stack.launched.arguments, bringup_share()):
            if spec.name == process:
                return spec.composed or (spec.name,)
        raise KeyError(process)


def format_matrix(rows: list[KillRow]) -> str:
    """The matrix as text, one line per kill."""
    lines = [f"{'process killed':20s} {'while':8s} {'stayed up':9s} {'reported':8s} {'paused':6s} "
             f"{'hw stop':9s} {'restarted':9s} {'resumed':7s} notes"]
    for r in rows:
        lines.append(f"{r.process:20s} {'walking' if r.walking else 'standing':8s} {r.stayed_up!s:9s} "
                     f"{r.reported_dead!s:8s} {r.paused!s:6s} {r.hardware_stop or '-':9s} {r.restarted!s:9s} "
                     f"{r.resumed!s:7s} {'; '.join(([f'fell {r.fell_when}'] if r.fell_when else []) + r.notes)}")
    return "\n".join(lines)
