"""ROS 2 bags in MCAP storage, written and read with the `mcap` library (no ROS needed).

A bag is a folder `<name>/` holding `<name>_0.mcap` and `metadata.yaml`, as rosbag2 writes them, so `ros2 bag info`,
`ros2 bag play`, the rosbags library and Foxglove read it. The MCAP file has the `ros2` profile, one `ros2msg`
schema per message type (the complete .msg definition), one `cdr` channel per topic (metadata
`offered_qos_profiles`), chunks compressed with zstd, a `rosbag2` metadata record (the bag metadata, as rosbag2 puts
it there) and a `legion_recording` metadata record (`RecordingInfo`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import yaml
from mcap.exceptions import McapError
from mcap.reader import make_reader
from mcap.writer import CompressionType, Writer

from legion_recording.errors import RecordingError
from legion_recording.metadata import METADATA_RECORD, ROS_DISTRO, RecordingInfo, TopicRecord, bag_metadata
from legion_recording.msgdefs import MessageDefinition

METADATA_FILE = "metadata.yaml"
FOLDER_MODE = 0o700
"""A bag folder is readable by the user who recorded it only."""
FILE_MODE = 0o600
CHUNK_SIZE = 1024 * 1024
"""[bytes] MCAP chunk size before compression."""


def mcap_file(bag: Path) -> Path:
    """The MCAP file of a bag folder (the first one listed in its metadata.yaml, else the only *.mcap in it), or the
    path itself when it is an .mcap file."""
    bag = Path(bag)
    if bag.is_file():
        return bag
    meta = bag / METADATA_FILE
    if meta.is_file():
        try:
            info = yaml.safe_load(meta.read_text())["rosbag2_bagfile_information"]
            return bag / info["relative_file_paths"][0]
        except (yaml.YAMLError, KeyError, IndexError, TypeError) as error:
            raise RecordingError(f"{meta}: not a rosbag2 metadata file ({error})") from error
    files = sorted(bag.glob("*.mcap"))
    if len(files) != 1:
        raise RecordingError(f"{bag}: not a bag (no metadata.yaml and {len(files)} .mcap files)")
    return files[0]


class BagWriter:
    """Writes one bag folder. `add_topic` before the topic's first `write`; `close(info)` finishes the MCAP file and
    writes metadata.yaml. Not thread-safe: one thread writes."""

    def __init__(self, folder: Path, compression: bool = True):
        self.folder = Path(folder)
        if self.folder.exists():
            raise RecordingError(f"{self.folder} exists already; a recording never overwrites one")
        self.folder.parent.mkdir(parents=True, exist_ok=True)
        self.folder.mkdir(mode=FOLDER_MODE)
        self.folder.chmod(FOLDER_MODE)  # whatever the umask
        self.file_name = f"{self.folder.name}_0.mcap"
        self._stream = os.fdopen(os.open(self.folder / self.file_name, os.O_WRONLY | os.O_CREAT | os.O_EXCL,
                                         FILE_MODE), "wb")
        self._writer = Writer(self._stream, chunk_size=CHUNK_SIZE,
                              compression=CompressionType.ZSTD if compression else CompressionType.NONE)
        self._writer.start(profile="ros2", library="legion_recording (mcap python)")
        self._schemas: dict[str, int] = {}
        self._channels: dict[str, int] = {}
        self.topics: dict[str, TopicRecord] = {}
        self.start_ns: int | None = None
        self.end_ns: int | None = None
        self.bytes_written = 0
        self.closed = False

    def add_topic(self, topic: str, definition: MessageDefinition, qos_profiles: Sequence[dict]) -> None:
        if topic in self._channels:
            raise RecordingError(f"topic {topic} added twice")
        schema = self._schemas.get(definition.type_name)
        if schema is None:
            schema = self._writer.register_schema(definition.type_name, "ros2msg", definition.text.encode())
            self._schemas[definition.type_name] = schema
        self._channels[topic] = self._writer.register_channel(
            topic, "cdr", schema, {"offered_qos_profiles": yaml.safe_dump(list(qos_profiles), sort_keys=False)})
        self.topics[topic] = TopicRecord(topic, definition.type_name, definition.type_hash, list(qos_profiles), 0)

    def write(self, topic: str, log_time_ns: int, data: bytes, publish_time_ns: int | None = None) -> None:
        """One serialised (CDR) message of `topic`, received at `log_time_ns` [ns]."""
        channel = self._channels.get(topic)
        if channel is None:
            raise RecordingError(f"write to topic {topic} before add_topic")
        record = self.topics[topic]
        self._writer.add_message(channel, log_time=log_time_ns, data=bytes(data),
                                 publish_time=log_time_ns if publish_time_ns is None else publish_time_ns,
                                 sequence=record.message_count)
        self.topics[topic] = replace(record, message_count=record.message_count + 1)
        self.start_ns = log_time_ns if self.start_ns is None else min(self.start_ns, log_time_ns)
        self.end_ns = log_time_ns if self.end_ns is None else max(self.end_ns, log_time_ns)
        self.bytes_written += len(data)

    def close(self, info: RecordingInfo) -> Path:
        """Finish the bag with its metadata (start/end taken from the messages when there are any); the folder."""
        if self.closed:
            return self.folder
        start = self.start_ns if self.start_ns is not None else info.start_ns
        end = self.end_ns if self.end_ns is not None else info.end_ns
        info = replace(info, start_ns=start, end_ns=end, topics=tuple(sorted(self.topics)))
        strings = info.to_strings()
        meta = bag_metadata(self.file_name, list(self.topics.values()), start, end, strings)
        self._writer.add_metadata(METADATA_RECORD, strings)
        self._writer.add_metadata("rosbag2", {"serialized_metadata": yaml.safe_dump(meta, sort_keys=False),
                                              "ROS_DISTRO": ROS_DISTRO})
        self._writer.finish()
        self._stream.close()
        temporary = self.folder / (METADATA_FILE + ".tmp")
        temporary.write_text(yaml.safe_dump({"rosbag2_bagfile_information": meta}, sort_keys=False))
        temporary.chmod(FILE_MODE)
        os.replace(temporary, self.folder / METADATA_FILE)
        self.closed = True
        return self.folder


@dataclass(frozen=True)
class BagMessage:
    """One recorded message."""

    topic: str
    type_name: str
    log_time_ns: int
    data: bytes
    """Serialised (CDR) message."""


def read_info(bag: Path) -> RecordingInfo | None:
    """The RecordingInfo of a bag (from its MCAP metadata record), None if it has none."""
    path = mcap_file(bag)
    try:
        with open(path, "rb") as stream:
            for record in make_reader(stream).iter_metadata():
                if record.name == METADATA_RECORD:
                    return RecordingInfo.from_strings(record.metadata)
    except (OSError, McapError, ValueError) as error:
        raise RecordingError(f"{path}: cannot read the recording's metadata: {error}") from error
    return None


def read_topics(bag: Path) -> dict[str, str]:
    """{topic: type} of a bag."""
    path = mcap_file(bag)
    try:
        with open(path, "rb") as stream:
            summary = make_reader(stream).get_summary()
    except (OSError, McapError, ValueError) as error:
        raise RecordingError(f"{path}: not a readable MCAP file: {error}") from error
    if summary is None:
        raise RecordingError(f"{path}: MCAP file without a summary (not closed?)")
    return {c.topic: summary.schemas[c.schema_id].name for c in summary.channels.values()}


def read_messages(bag: Path, topics: Sequence[str] | None = None) -> Iterator[BagMessage]:
    """The messages of a bag in log-time order, only of `topics` (absolute or relative names) if given."""
    path = mcap_file(bag)
    wanted = None if topics is None else {"/" + t.lstrip("/") for t in topics}
    try:
        with open(path, "rb") as stream:
            reader = make_reader(stream)
            for schema, channel, message in reader.iter_messages(topics=None if wanted is None else sorted(wanted),
                                                                log_time_order=True):
                if channel.message_encoding != "cdr" or schema is None:
                    continue
                yield BagMessage(channel.topic, schema.name, message.log_time, message.data)
    except (OSError, McapError, ValueError) as error:
        raise RecordingError(f"{path}: cannot read messages: {error}") from error


def read_offered_qos(bag: Path) -> dict[str, list[dict]]:
    """{topic: offered QoS profiles (v9 dicts)} from the channels' `offered_qos_profiles` metadata."""
    path = mcap_file(bag)
    try:
        with open(path, "rb") as stream:
            summary = make_reader(stream).get_summary()
    except (OSError, McapError, ValueError) as error:
        raise RecordingError(f"{path}: not a readable MCAP file: {error}") from error
    found: dict[str, list[dict]] = {}
    for channel in (summary.channels.values() if summary else []):
        try:
            profiles = yaml.safe_load(channel.metadata.get("offered_qos_profiles", "") or "[]")
        except yaml.YAMLError:
            profiles = []
        found[channel.topic] = profiles if isinstance(profiles, list) else []
    return found
