"""The browser view's cost and frame rate, over the whole stack in lockstep (sorting cell, camera at 10 Hz), with a
real headless browser (Debian's chromium, software WebGL) showing the page. Prints, for the measured interval:

- CPU seconds per simulated second of each launched node (utime + stime of its process, /proc/<pid>/stat), the
  viewer's included: what the view adds to the stack; and per wall second (the viewer draws on a wall-clock timer, so
  its CPU per simulated second grows as lockstep slows down under load);
- the frames per second the page rendered (requestAnimationFrame, counted in the page) and the viewer's draws;
- with `--compare`, the same stack without the viewer first (the other nodes' CPU, to see that it does not change);
  `--no-browser` leaves the browser out (chromium renders on the same two cores and slows lockstep down).

Optionally the robot runs a sorting shift (`--job`: run_job on the cell, so the map, parts, footsteps and markers
are on the page) and the screenshot is kept (`--screenshot docs/images/viewer.png`).

`--in-process`: the view alone in this process, no ROS, every joint moving: the browser's frame rate and the
drawing's cost without a stack on the machine.

Run: `. scripts/env.sh && python bench/bench_viewer.py --seconds 10 [--compare] [--job] [--screenshot FILE]`
     `python bench/bench_viewer.py --in-process --fps-seconds 10`
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
            if viewer and not options.no_browser:
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
            if page is not None:
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


def run_in_process(options: argparse.Namespace) -> None:
    """The view alone, in this process, no ROS: Centurion's description, every joint swinging (a sine per joint),
    drawn at 20 Hz as the node does; the page's frame rate and this process's CPU per wall second."""
    import math

    import viser
    from sensor_msgs.msg import JointState
    from std_msgs.msg import String

    from legion_description import load_robot
    from legion_viewer.kinematics import RobotKinematics
    from legion_viewer.scene import SceneState, ViewSettings, ViserScene

    urdf = load_robot("centurion")[1]
    names = [j.name for j in RobotKinematics(urdf).moving]
    port = free_port()
    server = viser.ViserServer(host="127.0.0.1", port=port, verbose=False)
    view, state = ViserScene(server, ViewSettings(environment_map=options.environment_map)), SceneState()
    state.on_description(String(data=urdf))
    page = browser_module.Browser(f"http://127.0.0.1:{port}", 1280, 800)
    try:
        page.wait_for_text("Layers", 120)
        page.driver.execute_script(CLOSE_NOTIFICATIONS)
        period, draws, drawing = 1.0 / 20.0, 0, 0.0
        cpu0, wall0 = time.process_time(), time.monotonic()
        fps: list[float] = []
        import threading

        counter = threading.Thread(target=lambda: fps.append(page.frames_per_second(options.fps_seconds)))
        counter.start()
        while counter.is_alive():
            t = time.monotonic() - wall0
            state.on_joint_states(JointState(name=names, position=[0.3 * math.sin(t + i) for i in range(len(names))]))
            start = time.perf_counter()
            view.draw(state)
            drawing += time.perf_counter() - start
            draws += 1
            time.sleep(max(0.0, period - (time.monotonic() - wall0 - t)))
        wall, cpu = time.monotonic() - wall0, time.process_time() - cpu0
        print(f"\n== in-process view (no ROS), {len(names)} joints moving, drawn at 20 Hz, {wall:.1f} s wall, "
              f"environment map '{options.environment_map}':")
        print(f"  browser: {fps[0]:.1f} frames/s (requestAnimationFrame, headless chromium, software WebGL)")
        print(f"  draws {draws / wall:.1f} /s, {1000 * drawing / max(draws, 1):.2f} ms each (mean); "
              f"this process {cpu / wall:.3f} CPU s per wall s (drawing and viser's server threads)")
    finally:
        page.close()
        server.stop()


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
    parser.add_argument("--no-browser", action="store_true",
                        help="no browser on the page (the viewer's own cost to the stack, without chromium's CPU)")
    parser.add_argument("--in-process", action="store_true", help="the view alone, no ROS, no stack")
    parser.add_argument("--environment-map", default="", help="--in-process: viser's environment map (default none)")
    parser.add_argument("--timeout", type=float, default=1800.0, help="wall-clock limit of each wait [s]")
    options = parser.parse_args()
    reason = browser_module.missing()
    if reason is not None:
        raise SystemExit(f"bench_viewer: {reason}")
    if options.in_process:
        run_in_process(options)
        return
    if options.compare:
        run(False, options)
    run(True, options)


if __name__ == "__main__":
    main()
