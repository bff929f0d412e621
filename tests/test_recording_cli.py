"""`legion record`, `legion play` and `legion data` as an operator runs them (the CLI in a separate process): raw
camera topics are refused with a clear message before anything is recorded, a recording without a purpose is refused,
`data list` / `data prune` follow the configured retention period, and `legion play` publishes a recording back
over DDS with `clock` on the recording's time line (an in-process subscriber, no stack)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from legion_recording.retention import SECONDS_PER_DAY
from legion_testing.recordings import write_bag

TIMEOUT = 120.0


def legion(*arguments: str, environment: dict[str, str] | None = None,
           background: bool = False) -> subprocess.CompletedProcess | subprocess.Popen:
    command = [sys.executable, "-m", "legion_bringup.cli", *arguments]
    env = os.environ | (environment or {})
    if background:
        return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    return subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, env=env, check=False)


def test_raw_camera_topics_are_refused_clearly_and_nothing_is_written(tmp_path):
    done = legion("record", "--purpose", "x", "--topics", "head_camera/color/image_raw", "-o", str(tmp_path / "bag"))
    assert done.returncode == 2
    assert "refused" in done.stderr and "allow_raw_images" in done.stderr and "perception/debug_image" in done.stderr
    asked = legion("record", "--purpose", "x", "--allow-raw-images", "--topics", "head_camera/depth/image_raw",
                   "-o", str(tmp_path / "bag"))
    assert asked.returncode == 2 and "not allowed by the data configuration" in asked.stderr
    assert not (tmp_path / "bag").exists()


def test_a_recording_needs_a_purpose(tmp_path):
    done = legion("record", "-o", str(tmp_path / "bag"))
    assert done.returncode == 2 and "--purpose" in done.stderr
    assert not (tmp_path / "bag").exists()


def test_data_list_and_prune_follow_the_retention_period(tmp_path):
    now = time.time()
    for name, age in (("old_run", 40.0), ("new_run", 2.0)):
        bag = write_bag(tmp_path / name, count=1)
        for f in bag.iterdir():
            os.utime(f, (now - age * SECONDS_PER_DAY,) * 2)
    env = {"LEGION_DATA_DIR": str(tmp_path)}
    listing = legion("data", "list", environment=env)
    assert listing.returncode == 0, listing.stderr
    assert "2 recordings" in listing.stdout and "retention 30 days" in listing.stdout
    old_line = next(line for line in listing.stdout.splitlines() if "old_run" in line)
    assert "EXPIRED" in old_line and "purpose: test" in old_line
    dry = legion("data", "prune", "--dry-run", environment=env)
    assert "would delete 1" in dry.stdout and (tmp_path / "old_run").exists()
    pruned = legion("data", "prune", environment=env)
    assert "deleted 1" in pruned.stdout
    assert not (tmp_path / "old_run").exists() and (tmp_path / "new_run").exists()


def test_a_bad_bag_is_a_clear_error(tmp_path):
    done = legion("play", str(tmp_path / "no_bag"))
    assert done.returncode == 2 and "not a bag" in done.stderr
    bag = write_bag(tmp_path / "bag", count=2)
    done = legion("play", str(bag), "--topics", "no_such_topic")
    assert done.returncode == 2 and "has no topic /no_such_topic" in done.stderr


def test_play_publishes_the_recording_with_its_clock(tmp_path):
    from rosgraph_msgs.msg import Clock
    from sensor_msgs.msg import JointState

    from legion_common.stamps import to_seconds
    from legion_testing.probe import Probe

    bag = write_bag(tmp_path / "bag", count=5)  # joint_states at 1..5 s, one perception/objects at 2.5 s
    probe = Probe("recording_play_probe")
    try:
        probe.record("joint_states", JointState)
        probe.record("clock", Clock)
        player = legion("play", str(bag), "--rate", "4", "--clock-rate", "10", "--topics", "joint_states",
                        "--wait-for", "joint_states", "clock", background=True)
        stdout, stderr = player.communicate(timeout=TIMEOUT)
        assert player.returncode == 0, stdout + stderr
        probe.wait_until(lambda: len(probe.received("joint_states")) == 5, 10.0, "the 5 played joint_states")
        positions = [round(m.position[0], 6) for m in probe.received("joint_states")]
        assert positions == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4])
        clock = [to_seconds(m.clock) for m in probe.received("clock")]
        assert clock[0] == pytest.approx(1.0) and clock[-1] == pytest.approx(5.0)
        assert len(clock) == 41  # 1.0 s to 5.0 s every 0.1 s of recorded time
        assert "5 messages of 1 topics" in stdout
    finally:
        probe.close()


def test_export_to_lerobot_needs_consent(tmp_path):
    from legion_testing.recordings import write_episode_bag

    bag = write_episode_bag(tmp_path / "episode", 1.0)
    refused = legion("data", "export", str(bag), "-o", str(tmp_path / "dataset"), "--task", "stand")
    assert refused.returncode == 2 and "--i-consent" in refused.stderr and not (tmp_path / "dataset").exists()
    done = legion("data", "export", str(bag), "-o", str(tmp_path / "dataset"), "--task", "stand", "--i-consent")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "dataset" / "meta" / "info.json").is_file()
