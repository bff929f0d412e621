"""The recording core, without ROS: which topics to subscribe to as the graph changes, messages buffered from the
subscriptions and written to the bag from one thread, and the metadata at the end."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from legion_recording.bag import BagWriter
from legion_recording.config import DataConfig
from legion_recording.errors import RecordingError
from legion_recording.metadata import RecordingInfo
from legion_recording.msgdefs import MessageDefinition, message_definition
from legion_recording.selection import Decision, Request, is_raw_image, personal_data_kinds, select


@dataclass(frozen=True)
class RecordingSettings:
    """What a recording is for and where it goes."""

    folder: Path
    """Bag folder to create."""
    robot: str
    scene: str
    purpose: str
    clock: str = "simulated"
    """`simulated` or `system` (see RecordingInfo.clock)."""
    request: Request = field(default_factory=Request)


class Recording:
    """Topic choice and bag writing for one recording. `update_graph` from the node's discovery timer, `receive` from
    subscription callbacks (any thread), `flush` from one timer, `close` at the end."""

    def __init__(self, settings: RecordingSettings, config: DataConfig):
        if not settings.purpose.strip():
            raise RecordingError("a recording needs a purpose: say why you record (--purpose \"...\")")
        self.settings = settings
        self.config = config
        self.writer = BagWriter(settings.folder)
        self.recorded_at_utc = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self.topics: dict[str, str] = {}
        """Subscribed topics: {topic: type}."""
        self.skipped: dict[str, Decision] = {}
        self.unavailable: dict[str, str] = {}
        """Topics chosen but not recordable (no message definition installed): {topic: why}."""
        self._definitions: dict[str, MessageDefinition] = {}
        self._pending: list[tuple[str, int, bytes]] = []
        self._lock = threading.Lock()
        self.received = 0

    def update_graph(self, graph: Mapping[str, Sequence[str]],
                     offered_qos: Mapping[str, list[dict]]) -> list[tuple[str, str]]:
        """Topics newly chosen in `graph` ({topic: [types]}), with the publishers' QoS ({topic: [v9 dicts]}):
        [(topic, type)] to subscribe to (each once). Skipped topics are remembered in `skipped`."""
        chosen, skipped = select(graph, self.settings.request, self.config)
        self.skipped.update({t: d for t, d in skipped.items() if t not in self.topics})
        new = []
        for topic, type_name in chosen.items():
            if topic in self.topics or topic in self.unavailable:
                continue
            try:
                definition = self._definitions.get(type_name) or message_definition(type_name)
            except RecordingError as error:
                self.unavailable[topic] = str(error)
                continue
            self._definitions[type_name] = definition
            self.writer.add_topic(topic, definition, offered_qos.get(topic, []))
            self.topics[topic] = type_name
            new.append((topic, type_name))
        return new

    def receive(self, topic: str, time_ns: int, data: bytes) -> None:
        """A serialised message of `topic` received at `time_ns` [ns, the recording's clock]."""
        with self._lock:
            self._pending.append((topic, time_ns, data))
            self.received += 1

    def flush(self) -> int:
        """Write the buffered messages to the bag; how many."""
        with self._lock:
            pending, self._pending = self._pending, []
        for topic, time_ns, data in pending:
            self.writer.write(topic, time_ns, data)
        return len(pending)

    def close(self, end_ns: int) -> RecordingInfo:
        """Write what is left and finish the bag with its metadata."""
        self.flush()
        topics = tuple(sorted(self.writer.topics))
        info = RecordingInfo(
            robot=self.settings.robot, scene=self.settings.scene, purpose=self.settings.purpose,
            start_ns=self.writer.start_ns if self.writer.start_ns is not None else end_ns, end_ns=end_ns,
            clock=self.settings.clock, recorded_at_utc=self.recorded_at_utc,
            personal_data=tuple(personal_data_kinds(topics, self.config)), topics=topics,
            raw_images=any(is_raw_image(t, [self.writer.topics[t].type_name], self.config) for t in topics),
            retention_days=self.config.retention_days)
        self.writer.close(info)
        return info
