"""The `legion record`, `legion play` and `legion data` commands (legion_bringup's CLI hands them their arguments).

    legion record [--topics T ...] [--all] --purpose "..." [--allow-raw-images] [-o DIR] [--duration S]
    legion play BAG [--rate R] [--topics T ...] [--wait-for T ...]
    legion data list | prune [--dry-run] | export BAG ... -o DIR --task "..." --i-consent

Each returns the process exit code: 0 done, 2 refused or bad input (a clear message on stderr).
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
import time
from pathlib import Path

from legion_recording.bag import read_messages, read_offered_qos, read_topics
from legion_recording.config import load_data_config
from legion_recording.errors import RecordingError
from legion_recording.playback import due_wall_time, with_clock
from legion_recording.recording import Recording, RecordingSettings
from legion_recording.retention import list_recordings, prune
from legion_recording.selection import Request, refusals

SCENE_QUERY_TIMEOUT = 8.0
"""[s] how long `legion record` asks the simulator for its robot and scene (a simulator stepping the whole stack in
lockstep on a loaded machine took more than 3 s to answer; a real robot has none: give them on the command line)."""
CLOCK_DISCOVERY_TIMEOUT = 5.0
"""[s] how long `legion record --clock auto` looks for a `clock` topic (DDS discovery of a late joiner: 2.5-3 s)."""
FLUSH_TIMEOUT = 2.0
"""[s] `legion play` waits this long at most for reliable subscribers to acknowledge the last messages."""



class StopOnSignals(threading.Event):
    """Set by SIGINT or SIGTERM instead of interrupting (a recording or playback ends cleanly and is kept); `restore`
    puts the previous handlers back."""

    def __init__(self) -> None:
        super().__init__()
        self._previous = {sig: signal.signal(sig, lambda *_: self.set()) for sig in (signal.SIGINT, signal.SIGTERM)}

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

def add_record_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--topics", nargs="+", default=[], metavar="TOPIC",
                        help="record these topics only (default: every topic but raw camera images and ground truth)")
    parser.add_argument("--all", action="store_true", dest="record_all",
                        help="record every topic, ground truth included (raw camera images only as allowed)")
    parser.add_argument("--purpose", default="", help="why you record (required; kept in the recording's metadata)")
    parser.add_argument("--allow-raw-images", action="store_true",
                        help="also record raw camera images (only if config/data.yaml allows them)")
    parser.add_argument("-o", "--output", type=Path, default=None,
                        help="bag folder to create (default: <data directory>/legion_<UTC time>)")
    parser.add_argument("--duration", type=float, default=0.0,
                        help="stop after this many seconds of the recording's clock (default 0: at Ctrl-C)")
    parser.add_argument("--robot", default="", help="robot name for the metadata (default: the simulator's)")
    parser.add_argument("--scene", default="", help="scene or cell for the metadata (default: the simulator's)")
    parser.add_argument("--clock", choices=("auto", "simulated", "system"), default="auto",
                        help="time base of the recording: the simulator's `clock` topic, the system time, or "
                             "auto (simulated if a `clock` topic is published)")


def add_play_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("bag", type=Path, help="bag folder (or its .mcap file)")
    parser.add_argument("--rate", type=float, default=1.0, help="playback speed factor (default 1)")
    parser.add_argument("--topics", nargs="+", default=None, metavar="TOPIC", help="play only these topics")
    parser.add_argument("--clock-rate", type=float, default=100.0,
                        help="[Hz of recorded time] `clock` messages published (default 100)")
    parser.add_argument("--wait-for", nargs="+", default=[], metavar="TOPIC",
                        help="before playing, wait until each of these topics has a subscriber (max --wait s)")
    parser.add_argument("--wait", type=float, default=30.0, help="[s] longest wait for --wait-for (default 30)")


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    verbs = parser.add_subparsers(dest="data_command", required=True)
    verbs.add_parser("list", help="list the recordings in the data directory with their age and purpose")
    pruning = verbs.add_parser("prune", help="delete the recordings older than the retention period")
    pruning.add_argument("--dry-run", action="store_true", help="only show what would be deleted")
    exporting = verbs.add_parser("export", help="export recordings as a LeRobot v3.0 dataset (needs --i-consent)")
    exporting.add_argument("bags", nargs="+", type=Path, help="bag folders, one episode each")
    exporting.add_argument("-o", "--output", type=Path, required=True, help="dataset folder to create")
    exporting.add_argument("--task", required=True, help="what the episodes show (the dataset's task text)")
    exporting.add_argument("--fps", type=float, default=10.0, help="frames per second of the dataset (default 10)")
    exporting.add_argument("--i-consent", action="store_true", dest="consent",
                           help="confirm that the people in these recordings agreed to their export")


def _graph_now(node) -> dict[str, list[str]]:
    return {name: list(types) for name, types in node.get_topic_names_and_types()}


def record(options: argparse.Namespace) -> int:
    config = load_data_config()
    request = Request(tuple(options.topics), options.record_all, options.allow_raw_images)
    if not options.purpose.strip():
        raise RecordingError("say why you record: --purpose \"...\" (kept in the recording's metadata)")
    refused = refusals(request, config)
    if refused:
        raise RecordingError("refused to record raw camera images:\n  " + "\n  ".join(refused))
    if options.duration < 0:
        raise RecordingError(f"--duration must be >= 0 s, got {options.duration}")
    import rclpy
    from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor

    from legion_recording.recorder_node import RecorderNode

    rclpy.init()
    stop = StopOnSignals()
    node = None
    try:
        probe = rclpy.create_node("recorder_probe")
        clock = options.clock
        if clock == "auto":  # simulated time if a `clock` topic shows up in the graph within the discovery time
            deadline = time.monotonic() + CLOCK_DISCOVERY_TIMEOUT
            while "/clock" not in _graph_now(probe) and time.monotonic() < deadline:
                rclpy.spin_once(probe, timeout_sec=0.1)
            clock = "simulated" if "/clock" in _graph_now(probe) else "system"
        probe.destroy_node()
        folder = options.output or config.recordings_dir() / time.strftime("legion_%Y%m%d_%H%M%S", time.gmtime())
        settings = RecordingSettings(folder=Path(folder), robot=options.robot or "unknown",
                                     scene=options.scene or "unknown", purpose=options.purpose, clock=clock,
                                     request=request)
        recording = Recording(settings, config)
        node = RecorderNode(recording, use_sim_time=clock == "simulated")
        if not (options.robot and options.scene):
            found = node.scene_parameters(SCENE_QUERY_TIMEOUT)
            recording.settings = RecordingSettings(
                folder=settings.folder, robot=options.robot or found.get("robot", "unknown"),
                scene=options.scene or found.get("scene", "unknown"), purpose=settings.purpose, clock=clock,
                request=request)
        print(f"legion record: recording to {folder} ({clock} time); Ctrl-C stops", flush=True)
        executor = SingleThreadedExecutor()
        executor.add_node(node)
        start_ns = None
        while not stop.is_set() and rclpy.ok():
            with contextlib.suppress(ExternalShutdownException):
                executor.spin_once(timeout_sec=0.1)
            now = node.now_ns()
            if now > 0 and start_ns is None:
                start_ns = now
            if options.duration > 0 and start_ns is not None and now - start_ns >= options.duration * 1e9:
                break
        info = recording.close(node.now_ns())
        for topic, decision in sorted(recording.skipped.items()):
            if decision.refused:
                print(f"  not recorded: {topic}: {decision.reason}", file=sys.stderr)
        for topic, why in sorted(recording.unavailable.items()):
            print(f"  not recorded: {topic}: {why}", file=sys.stderr)
        counts = {t.name: t.message_count for t in recording.writer.topics.values()}
        print(f"legion record: {sum(counts.values())} messages of {len(counts)} topics, "
              f"{(info.end_ns - info.start_ns) * 1e-9:.2f} s, personal data: {', '.join(info.personal_data) or 'none'}"
              f"; dropped before the first clock: {node.dropped}", flush=True)
        return 0
    finally:
        if node is not None:
            node.destroy_node()
        stop.restore()
        with contextlib.suppress(Exception):
            rclpy.shutdown()


def play(options: argparse.Namespace) -> int:
    if options.rate <= 0 or options.clock_rate <= 0:
        raise RecordingError("--rate and --clock-rate must be > 0")
    topics = read_topics(options.bag)
    if options.topics is not None:
        wanted = {"/" + t.lstrip("/") for t in options.topics}
        missing = sorted(wanted - set(topics))
        if missing:
            raise RecordingError(f"{options.bag} has no topic {', '.join(missing)}; it has {', '.join(sorted(topics))}")
        topics = {t: kind for t, kind in topics.items() if t in wanted}
    import rclpy

    from legion_recording.player_node import PlayerNode

    rclpy.init()
    stop = StopOnSignals()
    node = None
    try:
        node = PlayerNode(topics, read_offered_qos(options.bag))
        for topic, why in node.skipped.items():
            print(f"  not played: {topic}: {why}", file=sys.stderr)
        deadline = time.monotonic() + options.wait
        while not stop.is_set() and any(node.subscribers(t) == 0 for t in options.wait_for):
            if time.monotonic() > deadline:
                raise RecordingError(f"no subscriber on {', '.join(options.wait_for)} within {options.wait} s")
            rclpy.spin_once(node, timeout_sec=0.05)
        events = with_clock(read_messages(options.bag, sorted(topics)), round(1e9 / options.clock_rate))
        first_ns, wall_start = None, time.monotonic()
        for event in events:
            if stop.is_set():
                break
            if first_ns is None:
                first_ns, wall_start = event.time_ns, time.monotonic()
            delay = due_wall_time(event.time_ns, first_ns, wall_start, options.rate) - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            node.play(event)
        if not node.flush(FLUSH_TIMEOUT):
            print(f"legion play: not every subscriber acknowledged the last messages within {FLUSH_TIMEOUT:g} s",
                  file=sys.stderr)
        print(f"legion play: {node.published} messages of {len(topics)} topics from {options.bag}", flush=True)
        return 0
    finally:
        if node is not None:
            node.destroy_node()
        stop.restore()
        with contextlib.suppress(Exception):
            rclpy.shutdown()


def data(options: argparse.Namespace, now: float | None = None) -> int:
    config = load_data_config()
    folder = config.recordings_dir()
    now = time.time() if now is None else now
    if options.data_command == "list":
        recordings = list_recordings(folder)
        print(f"{len(recordings)} recordings in {folder} (retention {config.retention_days:g} days; nothing is "
              f"uploaded)")
        for r in recordings:
            info = r.info
            state = "EXPIRED" if r.age_days(now) > config.retention_days else "kept"
            about = (f"robot {info.robot}, scene {info.scene}, purpose: {info.purpose}; personal data: "
                     f"{', '.join(info.personal_data) or 'none'}" if info else "no Legion metadata")
            print(f"  {r.path.name}  {r.age_days(now):6.1f} days  {r.size_bytes / 1e6:8.2f} MB  {state}  {about}")
        return 0
    if options.data_command == "export":
        from legion_recording.lerobot import export

        dataset = export(options.bags, options.output, task=options.task, fps=options.fps, consent=options.consent,
                         config=config)
        print(f"legion data export: LeRobot v3.0 dataset of {len(options.bags)} episodes in {dataset}")
        return 0
    doomed = prune(folder, config.retention_days, now, dry_run=options.dry_run)
    verb = "would delete" if options.dry_run else "deleted"
    print(f"legion data prune: {verb} {len(doomed)} recordings older than {config.retention_days:g} days in {folder}")
    for r in doomed:
        print(f"  {r.path.name}  {r.age_days(now):.1f} days")
    return 0

