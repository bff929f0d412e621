"""The `main()` every Legion node executable shares: start rclpy, build the node, spin it, report a fatal error in one
line and exit non-zero, and always clean up.

    def main(args=None) -> int:
        return run_node("gait_planner", GaitPlannerNode, args, fatal=(ParameterError, GaitError))

A node class may define `close()` (called before `destroy_node()`, e.g. to close a viewer window). `run(node)` replaces
the default spin (a SingleThreadedExecutor) for nodes that drive their own loop.

Profiling: with `LEGION_PROFILE=<folder>` in the environment, each process runs its main thread under cProfile, timed
by the thread's CPU time (not the wall clock, which would count the time the process waits for a core on a busy
machine), and writes `<folder>/<name>-<pid>.prof` when it ends (read with `python -m pstats`; docs/realtime.md). The
executor thread of a process that drives its own loop (`spin_in_background`) is not profiled.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from typing import Any


def make_executor() -> Any:
    """The executor every Legion process spins: rclpy's SingleThreadedExecutor.

    rclpy's EventsExecutor (experimental in Jazzy, rclpy 7.1) was measured here and is not used: in every Legion
    process, with or without sim time and timers, it spun one core at 50-95 % and delivered nothing (the stack never
    started; docs/realtime.md)."""
    from rclpy.executors import SingleThreadedExecutor

    return SingleThreadedExecutor()


def spin(node: Any) -> None:
    """Spin `node` alone until shutdown, on `make_executor()`."""
    executor = make_executor()
    executor.add_node(node)
    executor.spin()


def spin_in_background(*nodes: Any) -> Any:
    """Spin `nodes` on `make_executor()` on a daemon thread until shutdown, for a process whose main thread drives its
    own loop (the simulator's steps, the control process's tick); the executor."""
    import threading

    from rclpy.executors import ExternalShutdownException

    executor = make_executor()
    for node in nodes:
        executor.add_node(node)

    def spin_executor() -> None:
        with contextlib.suppress(ExternalShutdownException):
            executor.spin()

    threading.Thread(target=spin_executor, daemon=True).start()
    return executor


def profiled(name: str, work: Callable[[], None]) -> None:
    """Run `work()`; under cProfile when `LEGION_PROFILE` names a folder (the statistics are written however it
    ends)."""
    import os

    folder = os.environ.get("LEGION_PROFILE", "")
    if not folder:
        work()
        return
    import cProfile
    import time
    from pathlib import Path

    profile = cProfile.Profile(time.thread_time)
    try:
        profile.runcall(work)
    finally:
        Path(folder).mkdir(parents=True, exist_ok=True)
        profile.dump_stats(str(Path(folder) / f"{name}-{os.getpid()}.prof"))


def run_node(name: str, make_node: Callable[[], Any], args: list[str] | None = None,
             fatal: tuple[type[BaseException], ...] = (Exception,), run: Callable[[Any], None] | None = None) -> int:
    """Run a node until shutdown; 0 on a normal end (Ctrl-C, shutdown), 1 on an error of a `fatal` type (a bad
    parameter, a broken robot or scene file), whose message `<name>: <error>` goes to stderr (and to the node's log,
    if the node was built)."""
    import rclpy
    from rclpy.executors import ExternalShutdownException

    rclpy.init(args=args)
    node = None
    try:
        node = make_node()
        profiled(name, lambda: (run or spin)(node))
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except fatal as error:
        if node is not None and not rclpy.ok():  # shutting down (SIGINT from a launch): not an error
            return 0
        message = f"{name}: {error}"
        if node is not None:
            node.get_logger().fatal(message)
        print(message, file=sys.stderr, flush=True)
        return 1
    finally:
        if node is not None:
            close = getattr(node, "close", None)
            if callable(close):
                close()
            node.destroy_node()
        rclpy.try_shutdown()
    return 0
