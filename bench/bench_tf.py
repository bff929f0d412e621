"""What TF costs: the CPU of the link transforms (link_state_publisher on the pip path) and of the state estimator's
`tf`, over the whole stack over DDS in lockstep (empty scene, camera off, robot standing), and the per-message cost
of building them in-process (CPU time of the process).

For each configuration (`tf_rate` of the state estimator as given, default 50 Hz and 0 = off), after start-up it
prints the CPU seconds per simulated second of every launched process (utime + stime of the process, /proc/<pid>/stat,
threads included) over `--seconds` of simulated time; the estimator runs in the composed control process
(`whole_body_control`). Then, in-process: the time to build one estimator `tf` message and one link `tf` message.
With no subscriber, markers cost nothing and are not measured.

Run: `. scripts/env.sh && python bench/bench_tf.py --seconds 10`
The machine is shared: CPU figures of a process include its share of contention; compare runs of one session.
"""

from __future__ import annotations

import argparse
import os
import random
import time

from diagnostic_msgs.msg import DiagnosticArray
from nav_msgs.msg import Odometry
from sensor_msgs.msg import JointState

from legion_bringup.launcher import LaunchedNodes
from legion_testing.probe import Probe

CLOCK_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime [s] of a process, from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICK


def measure(tf_rate: float, seconds: float, timeout: float) -> dict[str, float]:
    """CPU seconds per simulated second of each process, with the estimator's tf at `tf_rate`."""
    extra = {"sim_bridge": {"camera_rate": 0.0}, "state_estimator": {"tf_rate": tf_rate}}
    with LaunchedNodes("stack", {"scene": "empty", "lockstep": "true"}, echo=False,
                       extra_parameters=extra) as launched:
        probe = Probe("bench_tf_probe")
        try:
            probe.record("joint_states/decimated", JointState)
            probe.record("diagnostics", DiagnosticArray)
            probe.wait_until(lambda: len(probe.received("joint_states/decimated")) > 10, timeout, "the stack")
            probe.wait_sim_time(1.0, timeout, topic="joint_states/decimated")
            pids = {name: process.pid for name, process in launched.processes.items()}
            start = {name: cpu_seconds(pid) for name, pid in pids.items()}
            sim_start = probe.latest_time("joint_states/decimated")
            sim_end = probe.wait_sim_time(seconds, timeout, topic="joint_states/decimated")
            end = {name: cpu_seconds(pid) for name, pid in pids.items()}
        finally:
            probe.close()
    simulated = sim_end - sim_start
    return {name: (end[name] - start[name]) / simulated for name in pids}


def build_costs(repeats: int = 2000) -> tuple[float, float]:
    """[us] building one estimator tf message (odom -> base_link, base_footprint) and one link tf message (Pinocchio
    kinematics of every moving joint and the TFMessage)."""
    from builtin_interfaces.msg import Time

    from legion_common.messages import pose_msg
    from legion_description import conversions as conv
    from legion_description import load_robot
    from legion_description.link_states import LinkStates
    from legion_estimation.conversions import odom_transforms_msg

    odometry = Odometry(child_frame_id="base_link")
    odometry.header.frame_id = "odom"
    odometry.pose.pose = pose_msg((0.1, 0.2, 0.9), (0.0, 0.0, 0.3826834, 0.9238795))
    begin = time.process_time()  # CPU time of this process: what a message costs, whatever the machine's load
    for _ in range(repeats):
        odom_transforms_msg(odometry)
    estimator = (time.process_time() - begin) / repeats * 1e6
    _, urdf = load_robot("centurion")
    links = LinkStates(urdf)
    positions = {name: 0.1 for name in links.joint_names}
    message = conv.LinkTransformsMessage(links.moving_edges)
    begin = time.process_time()
    for _ in range(repeats // 4):
        links.set_positions(positions)
        message.update(Time(), *links.moving_transforms())
    link = (time.process_time() - begin) / (repeats // 4) * 1e6
    return estimator, link


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="simulated seconds measured (default 10)")
    parser.add_argument("--rates", type=float, nargs="*", default=[50.0, 0.0], help="estimator tf_rate values [Hz]")
    parser.add_argument("--timeout", type=float, default=1200.0, help="wall-clock limit of each wait [s]")
    parser.add_argument("--build-only", action="store_true", help="only the in-process per-message costs")
    options = parser.parse_args()
    os.environ["ROS_DOMAIN_ID"] = os.environ.get("LEGION_BENCH_DOMAIN_ID", str(random.SystemRandom().randint(100, 200)))
    if options.build_only:
        estimator, link = build_costs()
        print(f"in-process CPU per message: estimator tf {estimator:.0f} us; link tf (kinematics + message) "
              f"{link:.0f} us")
        return
    results = {rate: measure(rate, options.seconds, options.timeout) for rate in options.rates}
    names = sorted({name for result in results.values() for name in result})
    print(f"\nCPU seconds per simulated second (full stack over DDS, lockstep, empty scene, camera off, standing, "
          f"{options.seconds:g} s; load average {os.getloadavg()[0]:.1f}):")
    print(f"{'process':28s}" + "".join(f"  tf_rate {rate:g} Hz" for rate in options.rates))
    for name in names:
        print(f"{name:28s}" + "".join(f"  {results[rate].get(name, float('nan')):13.3f}" for rate in options.rates))
    estimator, link = build_costs()
    print(f"\nin-process CPU per message: estimator tf {estimator:.0f} us; link tf (kinematics + message) "
          f"{link:.0f} us")


if __name__ == "__main__":
    main()
