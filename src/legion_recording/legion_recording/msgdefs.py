"""Complete ROS 2 message definitions for bag schemas, from the installed interface files.

Every interface package installs `share/<pkg>/msg/<Type>.msg` and, since Iron, `<Type>.json` (its type description,
with the RIHS01 hash of the type and of every type it refers to). A schema in rosbag2's `ros2msg` encoding is the
type's .msg text, then each referenced type's .msg text after a line of 80 `=` and a line `MSG: <pkg>/msg/<Type>`.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from legion_recording.errors import RecordingError

DELIMITER = "=" * 80


@dataclass(frozen=True)
class MessageDefinition:
    """The schema of one message type."""

    type_name: str
    """`pkg/msg/Type`"""
    text: str
    """Complete definition (ros2msg encoding)."""
    type_hash: str
    """RIHS01 type hash (`RIHS01_<hex>`), or "" when the package ships no type description."""


def prefixes() -> list[Path]:
    """Install prefixes searched for interface files: AMENT_PREFIX_PATH, then this interpreter's prefix."""
    found = [Path(p) for p in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep) if p]
    found.append(Path(sys.prefix))
    return found


def split_type_name(type_name: str) -> tuple[str, str, str]:
    """`sensor_msgs/msg/Image` -> (sensor_msgs, msg, Image)."""
    parts = type_name.split("/")
    if len(parts) != 3 or not all(parts):
        raise RecordingError(f"message type {type_name!r} is not of the form package/msg/Type")
    return parts[0], parts[1], parts[2]


def interface_file(type_name: str, suffix: str, search: list[Path] | None = None) -> Path | None:
    package, kind, name = split_type_name(type_name)
    for prefix in prefixes() if search is None else search:
        path = prefix / "share" / package / kind / f"{name}{suffix}"
        if path.is_file():
            return path
    return None


def message_definition(type_name: str, search: list[Path] | None = None) -> MessageDefinition:
    """The complete definition of `type_name` (e.g. `sensor_msgs/msg/Image`); RecordingError if its .msg file, or
    that of a type it refers to, is not installed."""
    main = interface_file(type_name, ".msg", search)
    if main is None:
        raise RecordingError(f"no message definition installed for {type_name} (share/.../{type_name}.msg)")
    description = interface_file(type_name, ".json", search)
    type_hash, referenced = "", []
    if description is not None:
        try:
            tree = json.loads(description.read_text())
            hashes = {h["type_name"]: h["hash_string"] for h in tree["type_hashes"]}
            type_hash = hashes.get(type_name, "")
            referenced = sorted(r["type_name"] for r in tree["type_description_msg"]["referenced_type_descriptions"])
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise RecordingError(f"unreadable type description {description}: {error}") from error
    else:
        referenced = _referenced_from_msg(type_name, search)
    parts = [main.read_text().rstrip("\n")]
    for dependency in referenced:
        path = interface_file(dependency, ".msg", search)
        if path is None:
            raise RecordingError(f"{type_name} refers to {dependency}, whose .msg file is not installed")
        parts.append(f"{DELIMITER}\nMSG: {dependency}\n{path.read_text().rstrip()}")
    return MessageDefinition(type_name, "\n".join(parts) + "\n", type_hash)


PRIMITIVES = {"bool", "byte", "char", "float32", "float64", "int8", "uint8", "int16", "uint16", "int32", "uint32",
              "int64", "uint64", "string", "wstring"}


def field_types(text: str, package: str) -> list[str]:
    """The non-primitive field types (`pkg/msg/Type`) of one .msg text."""
    found = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        base = line.split()[0].split("[", 1)[0].split("<=", 1)[0]
        if base in PRIMITIVES or "=" in line.split()[0]:
            continue
        if "/" in base:
            pkg, name = base.split("/", 1)[0], base.rsplit("/", 1)[1]
        else:
            pkg, name = ("std_msgs", "Header") if base == "Header" else (package, base)
        found.append(f"{pkg}/msg/{name}")
    return found


def _referenced_from_msg(type_name: str, search: list[Path] | None) -> list[str]:
    """Every type `type_name` refers to, transitively, by reading .msg files (packages without type descriptions)."""
    seen: set[str] = set()
    pending = [type_name]
    while pending:
        current = pending.pop()
        path = interface_file(current, ".msg", search)
        if path is None:
            raise RecordingError(f"{type_name} refers to {current}, whose .msg file is not installed")
        for dependency in field_types(path.read_text(), split_type_name(current)[0]):
            if dependency not in seen and dependency != type_name:
                seen.add(dependency)
                pending.append(dependency)
    return sorted(seen)
