"""Which discovered topics a recording takes: the default set, `--all`, or named topics, under the privacy rules.

Topic names are matched without their leading `/`, and a pattern matches under any namespace
(`ground_truth/*` matches `robot_1/ground_truth/odom`). Hidden topics (a name part starting with `_`, e.g. action
internals) are never recorded.

- Default set: everything but raw camera images and the excluded topics (simulator ground truth).
- `--all`: everything, ground truth included; raw camera images only as below.
- Named topics: those, ground truth included if named.
- Raw camera images (the `raw_image_topics` patterns, and any sensor_msgs/msg/Image topic not listed as anonymised)
  only when the recording asks for them (`allow_raw_images`) AND the data configuration allows them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase

from legion_recording.config import DataConfig

IMAGE_TYPE = "sensor_msgs/msg/Image"


@dataclass(frozen=True)
class Request:
    """What the operator asked to record."""

    topics: tuple[str, ...] = ()
    """Named topics (empty: the default set, or everything with `record_all`)."""
    record_all: bool = False
    allow_raw_images: bool = False
    """The operator asks for raw camera images too (the configuration must allow them as well)."""


@dataclass(frozen=True)
class Decision:
    """Whether one topic is recorded, and why not."""

    record: bool
    reason: str = ""
    refused: bool = False
    """Not recorded for privacy although asked for by name or by `--all` (the operator is told)."""


def relative_name(topic: str) -> str:
    """`/robot_1/joint_states` -> `robot_1/joint_states`."""
    return topic.lstrip("/")


def matches(topic: str, patterns: Iterable[str]) -> bool:
    """Whether `topic` matches one of `patterns`, at its full name or under any namespace prefix."""
    name = relative_name(topic)
    parts = name.split("/")
    suffixes = ["/".join(parts[i:]) for i in range(len(parts))]
    return any(fnmatchcase(suffix, pattern.lstrip("/")) for pattern in patterns for suffix in suffixes)


def is_hidden(topic: str) -> bool:
    return any(part.startswith("_") for part in relative_name(topic).split("/"))


def is_raw_image(topic: str, types: Iterable[str], config: DataConfig) -> bool:
    """A raw camera topic: it matches `raw_image_topics`, or it carries sensor_msgs/msg/Image and is not listed as
    anonymised."""
    if matches(topic, config.raw_image_topics):
        return True
    return IMAGE_TYPE in set(types) and not matches(topic, config.anonymised_image_topics)


def decide(topic: str, types: Iterable[str], request: Request, config: DataConfig) -> Decision:
    """Whether `topic` (with its advertised `types`) is recorded for `request`."""
    types = list(types)
    named = any(relative_name(topic) == relative_name(t) for t in request.topics)
    if request.topics and not named:
        return Decision(False, "not requested")
    if is_hidden(topic):
        return Decision(False, "hidden topic", refused=named)
    if len(set(types)) != 1:
        return Decision(False, f"published with {len(set(types))} types ({', '.join(sorted(set(types)))})",
                        refused=named)
    if is_raw_image(topic, types, config):
        if not config.allow_raw_images:
            return Decision(False, "raw camera images are not allowed by the data configuration "
                                   "(data.allow_raw_images: false); record perception/debug_image (faces "
                                   "anonymised) instead", refused=named or request.record_all)
        if not request.allow_raw_images:
            return Decision(False, "raw camera images are recorded only with --allow-raw-images",
                            refused=named or request.record_all)
        return Decision(True)
    if not (named or request.record_all) and matches(topic, config.excluded_topics):
        return Decision(False, "excluded from the default set (data.excluded_topics)")
    return Decision(True)


def select(graph: Mapping[str, Iterable[str]], request: Request,
           config: DataConfig) -> tuple[dict[str, str], dict[str, Decision]]:
    """The topics to record ({topic: type}) from a graph ({topic: [types]}), and the decisions not to record the
    others ({topic: Decision})."""
    chosen: dict[str, str] = {}
    skipped: dict[str, Decision] = {}
    for topic, types in sorted(graph.items()):
        types = list(types)
        decision = decide(topic, types, request, config)
        if decision.record:
            chosen[topic] = types[0]
        else:
            skipped[topic] = decision
    return chosen, skipped


def refusals(request: Request, config: DataConfig, graph: Mapping[str, Iterable[str]] | None = None) -> list[str]:
    """Clear messages for the named topics the privacy rules refuse, before anything is recorded (a named topic not
    yet in `graph` is judged by its name alone)."""
    messages = []
    graph = graph or {}
    for topic in request.topics:
        types = next((list(t) for name, t in graph.items() if relative_name(name) == relative_name(topic)), [])
        if is_raw_image(topic, types, config):
            decision = decide(topic, types or [IMAGE_TYPE], request, config)
            if not decision.record:
                messages.append(f"{relative_name(topic)}: refused: {decision.reason}")
    return messages


def personal_data_kinds(topics: Iterable[str], config: DataConfig) -> list[str]:
    """The kinds of personal data (data.personal_data) that recordings of `topics` may contain, sorted."""
    topics = list(topics)
    return sorted(kind for kind, patterns in config.personal_data if any(matches(t, patterns) for t in topics))
