"""config/legion.rviz shows only what the stack publishes: every topic a display of the shipped RViz config
subscribes to is published by a Legion node with the type that display needs. Fast: the publishers are read from the
nodes' source (every `create_publisher(Type, "topic", ...)`, and the simulator bridge's `_publisher`, with `~/`
names resolved to the node's name and f-string names matched as patterns); tests/test_tf_stack.py checks the same
topics on the running stack's graph."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
RVIZ = ROOT / "config" / "legion.rviz"

DISPLAY_TOPICS: dict[str, dict[str, str]] = {
    "rviz_default_plugins/RobotModel": {"Description Topic": "std_msgs/msg/String"},
    "rviz_default_plugins/MarkerArray": {"Topic": "visualization_msgs/msg/MarkerArray"},
    "rviz_default_plugins/Marker": {"Topic": "visualization_msgs/msg/Marker"},
    "rviz_default_plugins/Map": {"Topic": "nav_msgs/msg/OccupancyGrid"},
    "rviz_default_plugins/Image": {"Topic": "sensor_msgs/msg/Image"},
    "rviz_default_plugins/DepthCloud": {"Depth Map Topic": "sensor_msgs/msg/Image",
                                        "Color Image Topic": "sensor_msgs/msg/Image"},
    "rviz_default_plugins/Wrench": {"Topic": "geometry_msgs/msg/WrenchStamped"},
    "rviz_default_plugins/Odometry": {"Topic": "nav_msgs/msg/Odometry"},
    "rviz_default_plugins/PoseArray": {"Topic": "geometry_msgs/msg/PoseArray"},
    "rviz_default_plugins/TF": {},
    "rviz_default_plugins/Grid": {},
}
"""RViz display class -> its topic properties and the message type each needs. A Map display's `Update Topic`
(map_msgs/OccupancyGridUpdate, incremental updates) is optional and not listed; the TF display reads `tf` and
`tf_static` (tf2_msgs/TFMessage)."""
TF_TOPICS = {"tf": "tf2_msgs/msg/TFMessage", "tf_static": "tf2_msgs/msg/TFMessage"}
RAW_CAMERA = ("head_camera/color/",)
"""Raw colour frames show faces: the config shows perception's anonymised debug image instead (docs/privacy.md)."""


def rviz_topics(path: Path = RVIZ) -> list[tuple[str, str, str]]:
    """(display name, topic, message type) of every topic the displays of an RViz config subscribe to. An unknown
    display class is an error (its topics would go unchecked)."""
    config = yaml.safe_load(path.read_text())
    topics = []
    for display in config["Visualization Manager"]["Displays"]:
        cls = display["Class"]
        if cls not in DISPLAY_TOPICS:
            raise AssertionError(f"display '{display['Name']}' of unknown class {cls}: add its topics to the test")
        for key, kind in DISPLAY_TOPICS[cls].items():
            value = display.get(key)
            name = value.get("Value", "") if isinstance(value, dict) else (value or "")
            if name:
                topics.append((display["Name"], name, kind))
        if cls == "rviz_default_plugins/TF":
            topics += [(display["Name"], name, kind) for name, kind in TF_TOPICS.items()]
    return topics


def _imports(tree: ast.Module) -> dict[str, str]:
    """Name -> `package/msg/Name` for `from <package>.msg import Name` lines."""
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.endswith(".msg"):
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module.split('.')[0]}/msg/{alias.name}"
    return names


def _node_name(tree: ast.Module) -> str | None:
    """The name a node class gives itself: `super().__init__("name", ...)`."""
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "__init__"
                and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            return node.args[0].value
    return None


def _pattern(argument: ast.expr, node_name: str | None) -> str | None:
    """A regular expression for a topic argument: a string, an f-string (its fields match one name part), or a
    namespace plus a string (`ns + "joint_states"`: a robot's topic in a multi-robot simulation, or the plain one)."""
    if isinstance(argument, ast.BinOp) and isinstance(argument.op, ast.Add):
        right = _pattern(argument.right, node_name)
        return None if right is None else "(?:.+/)?" + right
    if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
        parts = [argument.value]
    elif isinstance(argument, ast.JoinedStr):
        parts = [part.value if isinstance(part, ast.Constant) else None for part in argument.values]
    else:
        return None
    if isinstance(parts[0], str) and parts[0].startswith("~/"):
        if node_name is None:
            return None
        parts[0] = node_name + parts[0][1:]
    if isinstance(parts[0], str):
        parts[0] = parts[0].lstrip("/")
    return "".join("[^/]+" if part is None else re.escape(part) for part in parts)


def published_topics(root: Path = ROOT) -> list[tuple[str, str, Path]]:
    """(topic pattern, message type, file) of every publisher the Legion nodes create, from their source."""
    found = []
    for path in sorted(root.glob("src/*/*/*.py")):
        if "/test/" in str(path) or path.parent.name == "legion_testing":
            continue
        tree = ast.parse(path.read_text())
        imports, node_name = _imports(tree), _node_name(tree)
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("create_publisher", "_publisher") and len(node.args) >= 2
                    and isinstance(node.args[0], ast.Name) and node.args[0].id in imports):
                pattern = _pattern(node.args[1], node_name)
                if pattern is not None:
                    found.append((pattern, imports[node.args[0].id], path))
    return found


def test_the_scan_finds_the_publishers_it_should() -> None:
    """The scan itself: known publishers of several kinds (literal, f-string, `~/` name, the bridge's helper)."""
    published = published_topics()
    for topic, kind in (("odom", "nav_msgs/msg/Odometry"), ("l_foot/wrench", "geometry_msgs/msg/WrenchStamped"),
                        ("perception/markers", "visualization_msgs/msg/MarkerArray"),
                        ("robot_description", "std_msgs/msg/String"), ("tf_static", "tf2_msgs/msg/TFMessage")):
        assert any(re.fullmatch(p, topic) and k == kind for p, k, _ in published), (topic, kind)
    assert not any(re.fullmatch(p, "no_such/topic") for p, _, _ in published)


def test_every_topic_rviz_shows_is_published_with_its_type() -> None:
    published = published_topics()
    topics = rviz_topics()
    assert {"robot_description", "tf", "map", "perception/obstacles", "perception/debug_image",
            "perception/markers", "gait_planner/markers", "manipulation/markers",
            "safety/markers"} <= {t for _, t, _ in topics}
    for display, topic, kind in topics:
        assert not topic.startswith("/"), f"{display}: '{topic}' is absolute; namespace:= would not apply"
        assert not topic.startswith(RAW_CAMERA), f"{display}: '{topic}' is a raw colour stream (faces)"
        publishers = [(k, path.relative_to(ROOT)) for p, k, path in published if re.fullmatch(p, topic)]
        assert publishers, f"{display}: no Legion node publishes '{topic}'"
        assert all(k == kind for k, _ in publishers), f"{display}: '{topic}' needs {kind}, published as {publishers}"


@pytest.mark.parametrize("change, message", [
    (("Topic", "perception/no_such_markers"), "no Legion node publishes"),
    (("Topic", "odom"), "needs visualization_msgs/msg/MarkerArray"),
])
def test_a_wrong_topic_or_type_fails(tmp_path, change, message) -> None:
    config = yaml.safe_load(RVIZ.read_text())
    display = next(d for d in config["Visualization Manager"]["Displays"]
                   if d["Class"] == "rviz_default_plugins/MarkerArray")
    display[change[0]]["Value"] = change[1]
    broken = tmp_path / "broken.rviz"
    broken.write_text(yaml.safe_dump(config))
    published = published_topics()
    with pytest.raises(AssertionError, match=message):
        for name, topic, kind in rviz_topics(broken):
            publishers = [k for p, k, _ in published if re.fullmatch(p, topic)]
            assert publishers, f"{name}: no Legion node publishes '{topic}'"
            assert all(k == kind for k in publishers), f"{name}: '{topic}' needs {kind}"
