"""The data configuration (`config/data.yaml`, block `data:`): recordings folder, retention period, privacy rules and
the kinds of personal data each topic may carry. Read once into a `DataConfig`; every error is a RecordingError that
names the field."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from legion_recording.errors import RecordingError

CONFIG_VARIABLE = "LEGION_DATA_CONFIG"
"""Environment variable: path of the data configuration file, instead of the installed config/data.yaml."""
DIRECTORY_VARIABLE = "LEGION_DATA_DIR"
"""Environment variable: recordings folder, overriding `data.directory`."""
MAX_RETENTION_DAYS = 3650


@dataclass(frozen=True)
class DataConfig:
    """What may be recorded, where it is kept and for how long."""

    directory: Path = Path("~/legion_data/recordings")
    """Folder of the recordings (`~` expanded by `recordings_dir`)."""
    retention_days: float = 30.0
    """[days] recordings older than this (from their end) are deleted by `prune`."""
    allow_raw_images: bool = False
    """Raw camera images may be recorded (a recording must still ask for them)."""
    excluded_topics: tuple[str, ...] = ("ground_truth/*",)
    """Patterns of topics never in the default set."""
    raw_image_topics: tuple[str, ...] = ("*/image_raw",)
    """Patterns of raw camera topics (every sensor_msgs/msg/Image topic not anonymised is one too)."""
    anonymised_image_topics: tuple[str, ...] = ("perception/debug_image",)
    """Patterns of image topics whose faces are anonymised before they are published."""
    personal_data: tuple[tuple[str, tuple[str, ...]], ...] = field(default_factory=tuple)
    """(kind, topic patterns): the kinds of personal data a recording of those topics may contain."""

    def recordings_dir(self) -> Path:
        """The recordings folder: LEGION_DATA_DIR if set, else `directory`, with `~` expanded."""
        override = os.environ.get(DIRECTORY_VARIABLE)
        return Path(override if override else self.directory).expanduser()


def _patterns(block: Mapping, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
    value = block.get(key, list(default))
    if not isinstance(value, list) or not all(isinstance(p, str) and p for p in value):
        raise RecordingError(f"data.{key}: a list of topic patterns (non-empty strings), got {value!r}")
    return tuple(p.lstrip("/") for p in value)


def parse_data_config(tree: Mapping | None) -> DataConfig:
    """A DataConfig from the parsed YAML file (its `data:` block); missing fields keep their defaults."""
    if tree is None:
        tree = {}
    if not isinstance(tree, Mapping) or not isinstance(tree.get("data", {}), Mapping):
        raise RecordingError("data configuration: expected a mapping with a `data:` block")
    block = tree.get("data", {}) or {}
    known = {"directory", "retention_days", "allow_raw_images", "excluded_topics", "raw_image_topics",
             "anonymised_image_topics", "personal_data"}
    unknown = sorted(set(block) - known)
    if unknown:
        raise RecordingError(f"data: unknown field(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    defaults = DataConfig()
    directory = block.get("directory", str(defaults.directory))
    if not isinstance(directory, str) or not directory.strip():
        raise RecordingError(f"data.directory: a folder path, got {directory!r}")
    days = block.get("retention_days", defaults.retention_days)
    if isinstance(days, bool) or not isinstance(days, (int, float)) or not 1 <= days <= MAX_RETENTION_DAYS:
        raise RecordingError(f"data.retention_days: a number of days in 1..{MAX_RETENTION_DAYS}, got {days!r}")
    allow = block.get("allow_raw_images", defaults.allow_raw_images)
    if not isinstance(allow, bool):
        raise RecordingError(f"data.allow_raw_images: true or false, got {allow!r}")
    kinds = block.get("personal_data", {}) or {}
    if not isinstance(kinds, Mapping):
        raise RecordingError(f"data.personal_data: a mapping kind -> topic patterns, got {kinds!r}")
    personal = tuple((str(kind), _patterns(kinds, kind, ())) for kind in kinds)
    return DataConfig(
        directory=Path(directory), retention_days=float(days), allow_raw_images=allow,
        excluded_topics=_patterns(block, "excluded_topics", defaults.excluded_topics),
        raw_image_topics=_patterns(block, "raw_image_topics", defaults.raw_image_topics),
        anonymised_image_topics=_patterns(block, "anonymised_image_topics", defaults.anonymised_image_topics),
        personal_data=personal,
    )


def config_path() -> Path:
    """The data configuration file: LEGION_DATA_CONFIG, else config/data.yaml of the installed (or source) workspace."""
    override = os.environ.get(CONFIG_VARIABLE)
    if override:
        return Path(override)
    from legion_common.share import share_dir

    return share_dir("legion_bringup", "config", Path(__file__).resolve().parents[3]) / "config" / "data.yaml"


def load_data_config(path: Path | None = None) -> DataConfig:
    """Read the data configuration from `path` (default `config_path()`)."""
    path = config_path() if path is None else Path(path)
    try:
        tree = yaml.safe_load(path.read_text())
    except OSError as error:
        raise RecordingError(f"cannot read the data configuration {path}: {error}") from error
    except yaml.YAMLError as error:
        raise RecordingError(f"data configuration {path} is not valid YAML: {error}") from error
    try:
        return parse_data_config(tree)
    except RecordingError as error:
        raise RecordingError(f"{path}: {error}") from error
