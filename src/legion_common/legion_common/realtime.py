"""Real-time scheduling for a node's process: SCHED_FIFO priority, CPU affinity and locked memory.

`configure_realtime(priority, cpus, lock_memory)` asks the operating system for what it can give and never raises:
where a request is not permitted (no CAP_SYS_NICE / rtprio limit, a container, a CPU the process may not use) it says
so in the returned `RealtimeReport` and leaves that setting as it was. A node embeds `RealtimeParameters` as a group
(`realtime: RealtimeParameters = field(default_factory=RealtimeParameters)`: parameters `realtime.priority`,
`realtime.cpus`, `realtime.lock_memory`) and logs `report.summary()` once at start:

    report = configure_realtime_from(params.realtime)
    node.get_logger().info(report.summary())

docs/realtime.md tells how to run the stack on a PREEMPT_RT kernel (rtprio limits, isolcpus, which node gets what).
Linux only; on other systems every request reports "not supported".
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from legion_common.parameters import param

MCL_CURRENT = 1
MCL_FUTURE = 2
"""mlockall flags (Linux, <sys/mman.h>)."""

APPLIED = "applied"
OFF = "off"
NOT_PERMITTED = "not permitted"
NOT_SUPPORTED = "not supported"
INVALID = "invalid"


@dataclass(frozen=True)
class RealtimeParameters:
    """Real-time settings of a node's process (a parameter group: `realtime.<field>`). All off by default."""

    priority: int = param(0, "SCHED_FIFO priority of the process, 1..98; 0 leaves the normal scheduler (off).",
                          low=0, high=98)
    cpus: tuple[int, ...] = param((), "CPUs the process may run on (sched_setaffinity); empty: all.", low=0,
                                  high=4095)
    lock_memory: bool = param(False, "Lock the process's memory in RAM (mlockall), so no page fault stalls a tick.")


@dataclass(frozen=True)
class RealtimeReport:
    """What `configure_realtime` did. Each outcome is one of "applied", "off", "not permitted", "not supported",
    "invalid", with a detail (the error, or what was set)."""

    priority: int
    cpus: tuple[int, ...]
    lock_memory: bool
    scheduler: str
    scheduler_detail: str
    affinity: str
    affinity_detail: str
    memory: str
    memory_detail: str

    @property
    def fully_applied(self) -> bool:
        """Everything that was asked for is in force (settings left off count as in force)."""
        return all(outcome in (APPLIED, OFF) for outcome in (self.scheduler, self.affinity, self.memory))

    def summary(self) -> str:
        """One line: `realtime: SCHED_FIFO 80 applied; CPUs [1] applied; mlockall not permitted (...)`."""
        parts = [f"SCHED_FIFO {self.priority} {self.scheduler}" if self.priority else "SCHED_FIFO off",
                 f"CPUs {list(self.cpus)} {self.affinity}" if self.cpus else "CPUs all",
                 f"mlockall {self.memory}" if self.lock_memory else "mlockall off"]
        details = [d for d in (self.scheduler_detail, self.affinity_detail, self.memory_detail) if d]
        return "realtime: " + "; ".join(parts) + (f" ({'; '.join(details)})" if details else "")


def _outcome(error: OSError) -> str:
    return NOT_PERMITTED if isinstance(error, PermissionError) or error.errno in (errno.EPERM, errno.EACCES) \
        else INVALID


def _threads() -> list[int]:
    """Ids of the process's threads (Linux: the scheduler and affinity are per thread), the caller's first; [0] (the
    calling thread) where /proc is not there."""
    try:
        others = sorted(int(tid) for tid in os.listdir("/proc/self/task") if int(tid) != threading.get_native_id())
    except (OSError, ValueError):
        return [0]
    return [0, *others]


def _for_each_thread(apply) -> None:
    """`apply(thread_id)` on every thread; a thread that ended meanwhile is skipped; other errors propagate."""
    for thread in _threads():
        try:
            apply(thread)
        except ProcessLookupError:
            if thread == 0:
                raise


def _set_scheduler(priority: int) -> tuple[str, str]:
    if priority == 0:
        return OFF, ""
    if not hasattr(os, "sched_setscheduler") or not hasattr(os, "SCHED_FIFO"):
        return NOT_SUPPORTED, "no sched_setscheduler on this system"
    try:
        highest = os.sched_get_priority_max(os.SCHED_FIFO)
        if not 1 <= priority <= highest:
            return INVALID, f"priority {priority} outside 1..{highest}"
        _for_each_thread(lambda thread: os.sched_setscheduler(thread, os.SCHED_FIFO, os.sched_param(priority)))
    except OSError as error:
        return _outcome(error), f"sched_setscheduler: {error.strerror or error}"
    return APPLIED, ""


def _set_affinity(cpus: Sequence[int]) -> tuple[str, str]:
    if not cpus:
        return OFF, ""
    if not hasattr(os, "sched_setaffinity"):
        return NOT_SUPPORTED, "no sched_setaffinity on this system"
    try:
        _for_each_thread(lambda thread: os.sched_setaffinity(thread, set(cpus)))
    except OSError as error:
        return _outcome(error), f"sched_setaffinity {sorted(set(cpus))}: {error.strerror or error}"
    return APPLIED, ""


def _lock_memory(lock: bool) -> tuple[str, str]:
    if not lock:
        return OFF, ""
    path = ctypes.util.find_library("c")
    if path is None:
        return NOT_SUPPORTED, "no C library found for mlockall"
    try:
        libc = ctypes.CDLL(path, use_errno=True)
        mlockall = libc.mlockall
    except (OSError, AttributeError) as error:
        return NOT_SUPPORTED, f"mlockall: {error}"
    if mlockall(MCL_CURRENT | MCL_FUTURE) != 0:
        code = ctypes.get_errno()
        outcome = NOT_PERMITTED if code in (errno.EPERM, errno.ENOMEM, errno.EAGAIN) else INVALID
        # ENOMEM / EAGAIN: the locked-memory limit (RLIMIT_MEMLOCK) is too small, a permission matter as well.
        return outcome, f"mlockall: {os.strerror(code)}"
    return APPLIED, ""


def configure_realtime(priority: int, cpus: Sequence[int] | None, lock_memory: bool) -> RealtimeReport:
    """Apply real-time settings to the calling process; never raises on a refusal.

    Args:
        priority: SCHED_FIFO priority (1..98 on Linux); 0 leaves the scheduler as it is.
        cpus: CPU numbers the process may run on; None or empty leaves the affinity as it is.
        lock_memory: lock current and future memory (mlockall(MCL_CURRENT | MCL_FUTURE)).

    Returns:
        What was applied, refused ("not permitted": EPERM / EACCES, or RLIMIT_MEMLOCK too small), unsupported or
        invalid, per setting. The scheduler and affinity are set on every thread the process has (the middleware's
        too); threads started afterwards inherit them. A refusal on the first thread leaves the others as they were.
    """
    cpus = tuple(int(c) for c in (cpus or ()))
    scheduler = _set_scheduler(int(priority))
    affinity = _set_affinity(cpus)
    memory = _lock_memory(bool(lock_memory))
    return RealtimeReport(int(priority), cpus, bool(lock_memory), *scheduler, *affinity, *memory)


def configure_realtime_from(params: RealtimeParameters) -> RealtimeReport:
    """`configure_realtime` with a node's `RealtimeParameters` group."""
    return configure_realtime(params.priority, params.cpus, params.lock_memory)
