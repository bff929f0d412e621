"""What a recording says about itself: `RecordingInfo` (robot, scene, purpose, times, kinds of personal data), kept as
a string map in the MCAP file's `legion_recording` metadata record and in the bag's metadata.yaml `custom_data`; and
the rosbag2 bag metadata (metadata.yaml, version 9, as `ros2 bag info` reads it)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

from legion_recording.errors import RecordingError

METADATA_RECORD = "legion_recording"
"""Name of the MCAP metadata record holding a RecordingInfo."""
BAG_METADATA_VERSION = 9
"""rosbag2 metadata.yaml version of ROS 2 Jazzy."""
ROS_DISTRO = "jazzy"


@dataclass(frozen=True)
class TopicRecord:
    """One recorded topic, for metadata.yaml."""

    name: str
    """Absolute topic name (`/joint_states`)."""
    type_name: str
    """`pkg/msg/Type`"""
    type_hash: str
    offered_qos_profiles: list[dict] = field(default_factory=list)
    """The publishers' QoS, in rosbag2 v9 form (`conversions.qos_to_dict`)."""
    message_count: int = 0


@dataclass(frozen=True)
class RecordingInfo:
    """Who recorded what, where, when and why: the metadata every recording carries."""

    robot: str
    scene: str
    """Scene or work cell the robot was in."""
    purpose: str
    """The operator's reason for recording (required)."""
    start_ns: int
    """First message's time [ns] on the recording's clock."""
    end_ns: int
    """Last message's time [ns]."""
    clock: str
    """`simulated` (the simulator's `clock` topic) or `system` (wall time since the Unix epoch)."""
    recorded_at_utc: str
    """Wall time the recording started, ISO 8601 UTC."""
    personal_data: tuple[str, ...]
    """Kinds of personal data the recording may contain (data.personal_data), e.g. `images_of_people_anonymised`."""
    topics: tuple[str, ...]
    raw_images: bool
    """Raw camera images are included (asked for and allowed)."""
    retention_days: float
    """The retention period in force when it was recorded [days]."""

    def __post_init__(self) -> None:
        if not self.purpose.strip():
            raise RecordingError("a recording needs a purpose: say why you record (--purpose \"...\")")
        if self.clock not in ("simulated", "system"):
            raise RecordingError(f"clock must be `simulated` or `system`, got {self.clock!r}")

    def to_strings(self) -> dict[str, str]:
        """A string map (MCAP metadata, rosbag2 custom_data): strings as they are, others as JSON."""
        return {key: value if isinstance(value, str) else json.dumps(list(value) if isinstance(value, tuple)
                                                                       else value)
                for key, value in asdict(self).items()}

    @classmethod
    def from_strings(cls, values: Mapping[str, str]) -> RecordingInfo:
        """The inverse of `to_strings`; RecordingError names a missing or malformed field."""
        decoded: dict[str, object] = {}
        for name, kind in cls.__annotations__.items():
            if name not in values:
                raise RecordingError(f"recording metadata: missing field {name}")
            text = values[name]
            if kind == "str":
                decoded[name] = text
                continue
            try:
                value = json.loads(text)
            except ValueError as error:
                raise RecordingError(f"recording metadata: field {name} is not JSON: {text!r}") from error
            decoded[name] = tuple(value) if isinstance(value, list) else value
        return cls(**decoded)  # type: ignore[arg-type]


def bag_metadata(file_name: str, topics: Sequence[TopicRecord], start_ns: int, end_ns: int,
                 custom_data: Mapping[str, str], compression: str = "") -> dict:
    """The `rosbag2_bagfile_information` block of a one-file MCAP bag (metadata.yaml version 9)."""
    count = sum(t.message_count for t in topics)
    start = start_ns if count else 0
    duration = max(0, end_ns - start_ns) if count else 0
    return {
        "version": BAG_METADATA_VERSION,
        "storage_identifier": "mcap",
        "duration": {"nanoseconds": duration},
        "starting_time": {"nanoseconds_since_epoch": start},
        "message_count": count,
        "topics_with_message_count": [
            {"topic_metadata": {"name": t.name, "type": t.type_name, "serialization_format": "cdr",
                                "offered_qos_profiles": list(t.offered_qos_profiles),
                                "type_description_hash": t.type_hash},
             "message_count": t.message_count}
            for t in topics],
        "compression_format": compression,
        "compression_mode": "",
        "relative_file_paths": [file_name],
        "files": [{"path": file_name, "starting_time": {"nanoseconds_since_epoch": start},
                   "duration": {"nanoseconds": duration}, "message_count": count}],
        "custom_data": dict(custom_data),
        "ros_distro": ROS_DISTRO,
    }
