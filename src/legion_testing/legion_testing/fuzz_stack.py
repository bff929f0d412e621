"""A fuzzing campaign against the running stack: `legion launch stack` in lockstep, the robot standing, every topic
and service of every node fuzzed in turn (`legion_testing.fuzz`), then: which nodes died (process list and graph),
whether the robot fell (ground_truth/odom, judge only), and how many rejections the nodes reported on `diagnostics`
and `hardware/status`. Used by tests/test_fuzz.py (500 per target) and bench/bench_fuzz.py (10,000 per target).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from diagnostic_msgs.msg import DiagnosticArray
from nav_msgs.msg import Odometry
from std_srvs.srv import Trigger

from legion_bringup.launcher import LaunchedNodes
from legion_common.messages import xyzw
from legion_common.transforms import tilt_from_quaternion
from legion_testing.fuzz import Fuzzer, Outcome, discover, rejection_counts
from legion_testing.probe import Probe

STARTUP = 180.0
"""[s] wall: model builds, DDS discovery, first balanced cycles."""
UPRIGHT_HEIGHT_FRACTION = 0.8
"""The robot is up while its base is at least this fraction of its standing height above the floor."""
UPRIGHT_TILT = 0.3
"""[rad] and tilted less than this."""


@dataclass
class TargetReport:
    """One fuzzed topic or service and what followed."""

    outcome: Outcome
    rejections: int = 0
    """Rejection counters' increase while it was fuzzed."""
    fell: bool = False
    dead: list[str] = field(default_factory=list)
    """Processes that exited or nodes that left the graph while it was fuzzed."""


@dataclass
class CampaignReport:
    targets: list[TargetReport] = field(default_factory=list)
    crashes: list[str] = field(default_factory=list)
    falls: int = 0
    rejections: int = 0
    counters: dict[str, int] = field(default_factory=dict)
    """Rejection counters at the end, per `<status>/<key>`."""
    node_names: list[str] = field(default_factory=list)
    missing_from_graph: list[str] = field(default_factory=list)
    upright_at_end: bool = False


class StackUnderTest:
    """The stack launched for fuzzing, with a probe recording ground truth and diagnostics."""

    def __init__(self, extra_parameters: dict[str, dict[str, object]] | None = None,
                 arguments: dict[str, str] | None = None) -> None:
        args = {"scene": "empty", "lockstep": "true"} | (arguments or {})
        # Camera off: no people reports, so the safety node is told not to require them (else: a protective stop).
        extra = {"sim_bridge": {"camera_rate": 0.0}, "safety": {"zones.people_required": False}}
        extra |= extra_parameters or {}
        self.launched = LaunchedNodes("stack", args, echo=False, extra_parameters=extra)
        self.probe = Probe("fuzz_probe")
        self.statuses: list = []
        self.probe.record("ground_truth/odom", Odometry)
        self.probe.record("diagnostics", DiagnosticArray, callback=lambda m: self.statuses.extend(m.status))
        self.probe.record("hardware/status", DiagnosticArray, callback=lambda m: self.statuses.extend(m.status))
        self.standing_height = 0.0

    def node_names(self) -> list[str]:
        from legion_bringup.launcher import bringup_share
        from legion_bringup.nodes import plan

        names = []
        for spec in plan("stack", self.launched.arguments, bringup_share()):
            if spec.name in self.launched.processes:
                names.extend(spec.composed or (spec.name,))
        return names

    def base(self) -> tuple[float, float]:
        """(base height [m], tilt [rad]) of the newest ground truth."""
        msg = self.probe.received("ground_truth/odom")[-1]
        return msg.pose.pose.position.z, tilt_from_quaternion(xyzw(msg.pose.pose.orientation))

    def upright(self) -> bool:
        height, tilt = self.base()
        return height > UPRIGHT_HEIGHT_FRACTION * self.standing_height and tilt < UPRIGHT_TILT

    def wait_standing(self, timeout: float = STARTUP) -> None:
        probe = self.probe
        probe.wait_until(lambda: probe.diagnostic("whole_body_controller").get("state") == "balancing", timeout,
                         "the whole-body controller to balance")
        probe.wait_until(lambda: probe.diagnostic("gait_planner").get("phase") == "standing", timeout,
                         "the gait planner to stand")
        probe.wait_sim_time(1.0, timeout, topic="ground_truth/odom")
        if self.standing_height == 0.0:
            self.standing_height = self.base()[0]

    def dead(self) -> list[str]:
        """Processes that have exited and nodes missing from the graph."""
        gone = [f"{name} (process exited {p.poll()})" for name, p in self.launched.processes.items()
                if p.poll() is not None]
        in_graph = {name for name, _ in self.probe.node.get_node_names_and_namespaces()}
        gone += [f"{name} (not in the graph)" for name in self.node_names() if name not in in_graph]
        return gone

    def recover(self) -> None:
        """Clear a latched e-stop and, if the robot is down, reset the world; wait until it stands."""
        self.probe.call(Trigger, "emergency_stop/reset", Trigger.Request(), timeout=30.0)
        if not self.upright():
            self.probe.call(Trigger, "sim/reset", Trigger.Request(), timeout=60.0)
            self.probe.wait_until(self.upright, STARTUP, "the robot upright after sim/reset")
            # The controller balances again by itself once upright on both soles; a controller process started again
            # after the fall did not (node-kill matrix), so it is reset as an operator would.
            self.probe.call(Trigger, "whole_body_controller/reset", Trigger.Request(), timeout=60.0)
        self.wait_standing()

    def close(self) -> None:
        self.probe.close()
        self.launched.shutdown()


def expected_rates(parameters: dict[str, object] | None = None) -> dict[str, float]:
    """[Hz] expected rate of the hardware's topics (the control rate) and the commands the controller sends at it."""
    control = float((parameters or {}).get("control_rate", 500.0))
    return {topic: control for topic in ("joint_states", "imu/data", "odom", "joint_commands", "l_foot/wrench",
                                         "r_foot/wrench", "gait/reference")}


def run_campaign(stack: StackUnderTest, count: int, seed: int = 0, settle: float = 1.0,
                 log=print, only: tuple[str, ...] = ()) -> CampaignReport:
    """Fuzz every target of the stack's nodes with `count` messages or calls each; `settle` [s] of simulated time
    after each target before it is judged. `only`: fuzz just the targets whose name contains one of these."""
    from legion_description import load_robot

    config, _ = load_robot(stack.launched.arguments["robot"])
    names = [*config.all_joints, *config.frames.values(), *(f"{s}_gripper" for s in config.sides)]
    report = CampaignReport(node_names=stack.node_names())
    stack.wait_standing()
    fuzzer = Fuzzer(stack.probe.node, seed, names, expected_rates())
    targets = [t for t in discover(stack.probe.node, report.node_names)
               if not only or any(word in t.name for word in only)]
    before_all = rejection_counts(list(stack.statuses), report.node_names)
    for target in targets:
        before = rejection_counts(list(stack.statuses), report.node_names)
        start = time.monotonic()
        outcome = fuzzer.fuzz(target, count)
        if "emergency_stop" in target.name:
            stack.probe.call(Trigger, "emergency_stop/reset", Trigger.Request(), timeout=30.0)
        stack.probe.wait_sim_time(settle, 120.0, topic="ground_truth/odom")
        after = rejection_counts(list(stack.statuses), report.node_names)
        entry = TargetReport(outcome, sum(after.get(k, 0) - before.get(k, 0) for k in after), not stack.upright(),
                             stack.dead())
        report.targets.append(entry)
        log(f"{target.kind:7s} {target.name:45s} {','.join(target.nodes):40s} sent {outcome.sent:6d} "
            f"answered {outcome.answered:6d} rejections {entry.rejections:7d} fell {entry.fell!s:5s} "
            f"dead {entry.dead} {'; '.join(outcome.errors)} ({time.monotonic() - start:.1f} s)")
        if entry.dead:
            report.crashes.extend(f"{d} after {target.name}" for d in entry.dead)
            break
        if entry.fell:
            report.falls += 1
            stack.recover()
    stack.probe.wait_sim_time(settle, 120.0, topic="ground_truth/odom")
    report.counters = rejection_counts(list(stack.statuses), report.node_names)
    report.rejections = sum(report.counters.get(k, 0) - before_all.get(k, 0) for k in report.counters)
    in_graph = {name for name, _ in stack.probe.node.get_node_names_and_namespaces()}
    report.missing_from_graph = [n for n in report.node_names if n not in in_graph]
    report.upright_at_end = stack.upright()
    return report
