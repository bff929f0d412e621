"""The browser view's cost and frame rate, over the whole stack in lockstep (sorting cell, camera at 10 Hz), with a
real headless browser (Debian's chromium, software WebGL) showing the page. Prints, for the measured interval:

- CPU seconds per simulated second of each launched node (utime + stime of its process, /proc/<pid>/stat), the
  viewer's included: what the view adds to the stack; and per wall second (the viewer draws on a wall-clock timer, so
  its CPU per simulated second grows as lockstep slows down under load);
- the frames per second the page rendered (requestAnimationFrame, counted in the page) and the viewer's draws;
- with `--compare`, the same stack without the viewer first (the other nodes' CPU, to see that it does not change).

Optionally the robot runs a sorting shift (`--job`: run_job on the cell, so the map, parts, footsteps and markers
are on the page) and the screenshot is kept (`--screenshot docs/images/viewer.png`).

Run: `. scripts/env.sh && python bench/bench_viewer.py --seconds 10 [--compare] [--job] [--screenshot FILE]`
"""

from __future__ import annotations

import argparse
import socket
import time
from pathlib import Path

from diagnostic_msgs.msg import DiagnosticArray
from nav_msgs.msg import Odometry

from legion_bringup.launcher import LaunchedNodes
from legion_common.stamps import header_seconds
from legion_testing import browser as browser_module
from legion_testing.probe import Probe

CLOCK_TICK = __import__("os").sysconf("SC_CLK_TCK")
"""[1/s] the unit of utime and stime in /proc/<pid>/stat."""
CLOSE_NOTIFICATIONS = "document.querySelectorAll('.mantine-Notification-closeButton').forEach(b => b.click());"


def cpu_seconds(pid: int) -> float:
    """utime + stime [s] of a process, from /proc/<pid>/stat; NaN once it has exited."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICK


def sim_time(probe: Probe) -> float:
    messages = probe.received("odom/decimated")
    return header_seconds(messages[-1]) if messages else -1.0


def wait_sim(probe: Probe, seconds: float, timeout: float) -> float:
    start = sim_time(probe)
    probe.wait_until(lambda: sim_time(probe) - start >= seconds, timeout, f"{seconds} s of simulated time")
    return sim_time(probe) - start


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def send_job(probe: Probe, cell: str) -> None:
    from rclpy.action import ActionClient

    from legion_interfaces.action import RunJob

    client = ActionClient(probe.node, RunJob, "run_job")
    assert client.wait_for_server(timeout_sec=60.0), "run_job server not found"
    client.send_goal_async(RunJob.Goal(cell=cell, max_parts=0))
    probe.job_client = client  # kept alive with the probe


def run(viewer: bool, options: argparse.Namespace) -> None:
    port = free_port()
    arguments = {"lockstep": "true", "scene": options.scene, "viewer": str(viewer).lower(), "viewer_port": str(port)}
    with LaunchedNodes("stack", arguments, echo=False) as launched:
        probe = Probe("bench_viewer_probe")
        page = None
        try:
            probe.record("odom/decimated", Odometry)
            probe.record("diagnostics", DiagnosticArray)
            probe.wait_until(lambda: sim_time(probe) >= 0, options.timeout, "the stack's odometry")
            if options.job:
                send_job(probe, options.cell)
            if viewer:
                page = browser_module.Browser(f"http://127.0.0.1:{port}", 1280, 800)
                page.wait_for_text("Layers", 120)
                page.driver.execute_script(CLOSE_NOTIFICATIONS)
            wait_sim(probe, options.settle, options.timeout)
            pids = {name: process.pid for name, process in launched.processes.items()}
            cpu0 = {name: cpu_seconds(pid) for name, pid in pids.items()}
            draws0 = float(probe.diagnostic("viewer").get("draws", "nan"))
            wall0 = time.monotonic()
            fps = page.frames_per_second(min(options.fps_seconds, 30.0)) if page is not None else float("nan")
            simulated = wait_sim(probe, options.seconds, options.timeout)
            wall = time.monotonic() - wall0
            cpu = {name: cpu_seconds(pid) - cpu0[name] for name, pid in pids.items()}
            draws = float(probe.diagnostic("viewer").get("draws", "nan")) - draws0
            print(f"\n== stack lockstep, scene {options.scene}, viewer {'on' if viewer else 'off'}: "
                  f"{simulated:.2f} s simulated in {wall:.1f} s wall (real-time factor {simulated / wall:.2f})")
            for name in sorted(cpu, key=lambda n: -cpu[n]):
                print(f"  {name:24s} {cpu[name] / simulated:6.2f} CPU s per simulated s, "
                      f"{cpu[name] / wall:5.3f} per wall s")
            print(f"  {'all nodes':24s} {sum(cpu.values()) / simulated:6.2f} CPU s per simulated s")
            if viewer:
                print(f"  browser: {fps:.1f} frames/s (requestAnimationFrame over {min(options.fps_seconds, 30.0):.0f} "
                      f"s wall, headless chromium, software WebGL); viewer draws {draws / wall:.1f} /s wall")
                if options.screenshot:
                    page.driver.execute_script(CLOSE_NOTIFICATIONS)
                    time.sleep(1.0)
                    page.screenshot(Path(options.screenshot))
                    print(f"  screenshot: {options.screenshot}")
        finally:
            if page is not None:
                page.close()
            probe.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="simulated seconds measured (default 10)")
    parser.add_argument("--settle", type=float, default=2.0, help="simulated seconds before measuring (default 2)")
    parser.add_argument("--fps-seconds", type=float, default=5.0, help="wall seconds of frame counting (default 5)")
    parser.add_argument("--scene", default="sorting_cell")
    parser.add_argument("--cell", default="sorting_cell", help="cell of --job (default sorting_cell)")
    parser.add_argument("--job", action="store_true", help="run a sorting shift meanwhile (run_job)")
    parser.add_argument("--compare", action="store_true", help="first the same stack without the viewer")
    parser.add_argument("--screenshot", default="", help="keep the page's screenshot at the end here")
    parser.add_argument("--timeout", type=float, default=1800.0, help="wall-clock limit of each wait [s]")
    options = parser.parse_args()
    reason = browser_module.missing()
    if reason is not None:
        raise SystemExit(f"bench_viewer: {reason}")
    if options.compare:
        run(False, options)
    run(True, options)


if __name__ == "__main__":
    main()
