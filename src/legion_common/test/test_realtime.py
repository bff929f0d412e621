"""legion_common.realtime: SCHED_FIFO, affinity and mlockall applied where permitted, reported where not.

Each request runs in a child process, so the test process keeps its normal scheduler and memory."""

from __future__ import annotations

import json
import os
import resource
import sys

import pytest

from legion_common.parameters import ParameterError, from_flat
from legion_common.realtime import APPLIED, NOT_PERMITTED, OFF, RealtimeParameters, RealtimeReport, configure_realtime

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux scheduler calls")


def run_child(priority: int, cpus: list[int] | None, lock: bool, unprivileged: bool) -> dict:
    """`configure_realtime` in a forked child (as the user nobody with rtprio 0 and a 64 KiB memlock limit if
    `unprivileged`); returns its report and the scheduler and affinity it then has."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 1
        try:
            os.close(read_end)
            if unprivileged:  # an ordinary user: no real-time priority, no locked memory, no root
                resource.setrlimit(resource.RLIMIT_RTPRIO, (0, 0))
                resource.setrlimit(resource.RLIMIT_MEMLOCK, (64 * 1024, 64 * 1024))
                if os.geteuid() == 0:
                    os.setgroups([])
                    os.setgid(65534)
                    os.setuid(65534)  # nobody: no CAP_SYS_NICE, no CAP_IPC_LOCK
            report = configure_realtime(priority, cpus, lock)
            result = {"scheduler": report.scheduler, "affinity": report.affinity, "memory": report.memory,
                      "summary": report.summary(), "policy": os.sched_getscheduler(0), "fifo": os.SCHED_FIFO,
                      "cpus": sorted(os.sched_getaffinity(0))}
            os.write(write_end, json.dumps(result).encode())
            code = 0
        except BaseException as error:  # report anything, including a raise from configure_realtime
            os.write(write_end, json.dumps({"error": repr(error)}).encode())
        finally:
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end) as handle:
        text = handle.read()
    _, status = os.waitpid(pid, 0)
    result = json.loads(text)
    assert os.waitstatus_to_exitcode(status) == 0 and "error" not in result, result
    return result


@linux
def test_unprivileged_request_reports_not_permitted_without_raising():
    child = run_child(50, None, True, unprivileged=True)
    assert child["scheduler"] == NOT_PERMITTED and child["memory"] == NOT_PERMITTED
    assert child["policy"] != child["fifo"]  # left as it was
    assert "SCHED_FIFO 50 not permitted" in child["summary"] and "mlockall not permitted" in child["summary"]


@linux
def test_privileged_request_is_applied_or_refused_cleanly():
    """As root in a container SCHED_FIFO may or may not be allowed: either it is in force or it is reported."""
    cpu = min(os.sched_getaffinity(0))
    child = run_child(1, [cpu], True, unprivileged=False)
    assert child["scheduler"] in (APPLIED, NOT_PERMITTED)
    assert (child["policy"] == child["fifo"]) == (child["scheduler"] == APPLIED)
    assert child["affinity"] == APPLIED and child["cpus"] == [cpu]
    assert child["memory"] in (APPLIED, NOT_PERMITTED)


@linux
def test_affinity_to_a_cpu_that_does_not_exist_is_reported():
    child = run_child(0, [4095], False, unprivileged=False)
    assert child["affinity"] == "invalid" and "sched_setaffinity" in child["summary"]
    assert child["scheduler"] == OFF and child["memory"] == OFF


def test_everything_off_changes_nothing():
    before = (os.sched_getscheduler(0), os.sched_getaffinity(0)) if sys.platform.startswith("linux") else None
    report = configure_realtime(0, None, False)
    assert isinstance(report, RealtimeReport) and report.fully_applied
    assert report.summary() == "realtime: SCHED_FIFO off; CPUs all; mlockall off"
    if before is not None:
        assert (os.sched_getscheduler(0), os.sched_getaffinity(0)) == before


def test_out_of_range_priority_is_invalid_not_raised():
    report = configure_realtime(1000, None, False)
    assert report.scheduler == "invalid" and not report.fully_applied


def test_parameter_group_defaults_and_ranges():
    params = from_flat(RealtimeParameters, {})
    assert (params.priority, params.cpus, params.lock_memory) == (0, (), False)
    assert from_flat(RealtimeParameters, {"priority": 80, "cpus": [1]}).cpus == (1,)
    with pytest.raises(ParameterError, match="priority"):
        from_flat(RealtimeParameters, {"priority": 99})
    with pytest.raises(ParameterError, match="cpus"):
        from_flat(RealtimeParameters, {"cpus": [-1]})
