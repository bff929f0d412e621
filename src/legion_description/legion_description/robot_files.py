"""Locate and expand a robot's description files.

A robot is named by the `robot` parameter every node takes: either a name, whose `<robot>.yaml` is searched for in

1. the directories on the `LEGION_ROBOT_PATH` environment variable (`:`-separated), for robots kept outside the
   workspace (a vendor's repository, a test's temporary directory);
2. `config/robots/` of the description share: the `legion_description` package share found through the ament index
   (after `colcon build`, or on a ROS install), else the source workspace's top-level `config/robots/`;
3. the workspace folder the installed robot files link to (a `colcon build --symlink-install`), so that a robot file
   added there is found without a rebuild;

or the path of a robot file itself (`robot:=/path/to/myrobot.yaml`). The robot file's `urdf` entry (a `.urdf.xacro`
or a plain `.urdf`) is read relative to the robot file's own directory first, then to the description share.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from legion_common.share import names_a_file, search_dirs
from legion_common.share import share_dir as common_share_dir

_ROBOT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
ROBOT_PATH_VARIABLE = "LEGION_ROBOT_PATH"
"""Environment variable: directories (`:`-separated) searched for `<robot>.yaml` before the description share."""


class DescriptionError(Exception):
    """A robot description or robot configuration file is missing or invalid. The message names the file."""


@dataclass(frozen=True)
class RobotFiles:
    """Where one robot's files are."""

    name: str
    """The robot's name: the file's `name` entry, else its file name without `.yaml`."""
    config_path: Path
    """The robot file (`<robot>.yaml`)."""
    urdf_path: Path
    """Its description (`.urdf.xacro` or `.urdf`)."""


def share_dir() -> Path:
    """Directory that holds `urdf/` and `config/robots/`: the package share, or the source workspace root."""
    return common_share_dir("legion_description", "urdf", Path(__file__).resolve().parents[3])


def is_robot_file(robot: str) -> bool:
    """Whether `robot` names a robot file by path (it ends in `.yaml`/`.yml` or contains a `/`) rather than a name."""
    return names_a_file(robot)


def robot_search_dirs() -> list[Path]:
    """Directories searched for `<robot>.yaml`, in order (see the module's docstring)."""
    return search_dirs(ROBOT_PATH_VARIABLE, share_dir() / "config" / "robots")


def _checked_name(robot: str) -> str:
    if not isinstance(robot, str) or not _ROBOT_NAME.match(robot):
        raise DescriptionError(f"invalid robot name {robot!r}: expected letters, digits and underscores, or the path "
                               "of a robot file (.yaml)")
    return robot


def robot_config_path(robot: str = "centurion") -> Path:
    """The robot file of `robot` (a name or a path); raises DescriptionError, saying where it looked, if none."""
    if is_robot_file(robot):
        path = Path(robot).expanduser()
        if not path.is_file():
            raise DescriptionError(f"no robot configuration: robot file {path} does not exist")
        return path.resolve()
    name = _checked_name(robot)
    searched = robot_search_dirs()
    for directory in searched:
        path = directory / f"{name}.yaml"
        if path.is_file():
            return path
    raise DescriptionError(
        f"no robot configuration for robot {robot!r}: no {name}.yaml in {', '.join(str(d) for d in searched)}. A robot "
        f"file added to the workspace's config/robots/ is installed by `colcon build` (scripts/setup.sh); or put its "
        f"directory on {ROBOT_PATH_VARIABLE}, or pass the file itself: robot:=/path/to/{name}.yaml")


def _urdf_entry(config_path: Path) -> str:
    try:
        data = yaml.safe_load(config_path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise DescriptionError(f"cannot read robot configuration {config_path}: {error}") from error
    entry = data.get("urdf") if isinstance(data, dict) else None
    if not isinstance(entry, str) or not entry:
        raise DescriptionError(f"{config_path}: missing key 'urdf' (the robot's .urdf.xacro or .urdf file)")
    return entry


def resolve_urdf(config_path: Path, entry: str) -> Path:
    """The description file a robot file's `urdf` entry names: relative to the robot file's directory, then to the
    description share (installed and, for a symlink install, the workspace it links to)."""
    entry_path = Path(entry).expanduser()
    if entry_path.is_absolute():
        candidates = [entry_path]
    else:
        config_path = Path(config_path)
        candidates = [config_path.parent / entry_path, share_dir() / entry_path]
        real = config_path.resolve()
        if real.parent.name == "robots" and real.parent.parent.name == "config":
            candidates.append(real.parents[2] / entry_path)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise DescriptionError(f"{config_path}: 'urdf: {entry}' does not exist (looked at "
                           f"{', '.join(str(c) for c in candidates)})")


def robot_files(robot: str = "centurion") -> RobotFiles:
    """Where the robot file and description of `robot` (a name or a robot file's path) are."""
    config_path = robot_config_path(robot)
    try:
        data = yaml.safe_load(config_path.read_text())
    except (OSError, yaml.YAMLError):
        data = None
    name = data.get("name") if isinstance(data, dict) and isinstance(data.get("name"), str) else config_path.stem
    return RobotFiles(name=name, config_path=config_path,
                      urdf_path=resolve_urdf(config_path, _urdf_entry(config_path)))


def urdf_xacro_path(robot: str = "centurion") -> Path:
    """Path of the robot's description file (its robot file's `urdf` entry); raises DescriptionError if missing."""
    return robot_files(robot).urdf_path


def expand_urdf(robot: str = "centurion", *, path: Path | str | None = None, **xacro_args: str | bool) -> str:
    """Expand a robot's xacro into URDF XML text.

    Args:
        robot: robot name or robot file, used when `path` is not given.
        path: an explicit `.urdf.xacro` or `.urdf` file.
        xacro_args: xacro arguments, e.g. `use_gazebo=True`.

    Raises:
        DescriptionError: the file is missing or does not expand (the message names the file and the problem).
    """
    import xacro

    source = Path(path) if path is not None else urdf_xacro_path(robot)
    if not source.is_file():
        raise DescriptionError(f"robot description {source} does not exist")
    mappings = {k: (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in xacro_args.items()}
    try:
        document = xacro.process_file(str(source), mappings=mappings)
    except Exception as error:  # xacro raises many types (XacroException, ExpatError, NameError, ...)
        raise DescriptionError(f"robot description {source} does not expand: {error}") from error
    return document.toprettyxml(indent="  ")
