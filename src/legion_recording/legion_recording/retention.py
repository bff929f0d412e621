"""The retention period: which recordings in the recordings folder are older than `data.retention_days`, and their
deletion. A recording's age runs from when it ended: the newest modification time of its files (the bag's
metadata.yaml is written last, when it is closed). Only folders that are bags (a metadata.yaml or an .mcap file) are
listed or deleted; nothing else in the folder is touched."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from legion_recording.bag import METADATA_FILE, read_info
from legion_recording.errors import RecordingError
from legion_recording.metadata import RecordingInfo

SECONDS_PER_DAY = 86400.0


@dataclass(frozen=True)
class StoredRecording:
    """One recording in the recordings folder."""

    path: Path
    ended: float
    """[s since the Unix epoch] newest modification time of its files."""
    size_bytes: int
    info: RecordingInfo | None
    """Its metadata; None for a bag without (recorded by another tool) or unreadable."""

    def age_days(self, now: float) -> float:
        return (now - self.ended) / SECONDS_PER_DAY


def is_bag(path: Path) -> bool:
    return path.is_dir() and ((path / METADATA_FILE).is_file() or any(path.glob("*.mcap")))


def list_recordings(folder: Path) -> list[StoredRecording]:
    """The recordings (bag folders) directly in `folder`, oldest first; [] if the folder does not exist."""
    folder = Path(folder)
    if not folder.exists():
        return []
    if not folder.is_dir():
        raise RecordingError(f"recordings folder {folder} is not a folder")
    found = []
    for path in sorted(p for p in folder.iterdir() if is_bag(p)):
        files = [f for f in path.rglob("*") if f.is_file()]
        ended = max((f.stat().st_mtime for f in files), default=path.stat().st_mtime)
        try:
            info = read_info(path)
        except RecordingError:
            info = None
        found.append(StoredRecording(path, ended, sum(f.stat().st_size for f in files), info))
    return sorted(found, key=lambda r: r.ended)


def expired(recordings: list[StoredRecording], retention_days: float, now: float) -> list[StoredRecording]:
    """Those older than `retention_days` at `now` [s since the epoch]."""
    if retention_days <= 0:
        raise RecordingError(f"retention period must be > 0 days, got {retention_days}")
    return [r for r in recordings if r.age_days(now) > retention_days]


def prune(folder: Path, retention_days: float, now: float, dry_run: bool = False) -> list[StoredRecording]:
    """Delete the recordings in `folder` older than `retention_days` (none with `dry_run`); those deleted (or that
    would be)."""
    doomed = expired(list_recordings(folder), retention_days, now)
    if not dry_run:
        for recording in doomed:
            shutil.rmtree(recording.path)
    return doomed
