"""Locate and expand a robot's description files.

On a ROS install (or after `colcon build`) the files are found in the `legion_description` share directory through
the ament index; in a source checkout they are found in the workspace's top-level `urdf/` and `config/robots/`.
"""

from __future__ import annotations

import re
from pathlib import Path

_ROBOT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


class DescriptionError(Exception):
    """A robot description or robot configuration file is missing or invalid. The message names the file."""


def share_dir() -> Path:
    """Directory that holds `urdf/` and `config/robots/`: the package share, or the source workspace root."""
    try:
        from ament_index_python.packages import PackageNotFoundError, get_package_share_directory

        try:
            share = Path(get_package_share_directory("legion_description"))
            if (share / "urdf").is_dir():
                return share
        except (PackageNotFoundError, OSError):  # OSError: no AMENT_PREFIX_PATH at all
            pass
    except ImportError:
        pass
    # Source checkout: <ws>/src/legion_description/legion_description/robot_files.py
    return Path(__file__).resolve().parents[3]


def _checked_name(robot: str) -> str:
    if not isinstance(robot, str) or not _ROBOT_NAME.match(robot):
        raise DescriptionError(f"invalid robot name {robot!r}: expected letters, digits and underscores")
    return robot


def urdf_xacro_path(robot: str = "centurion") -> Path:
    """Path of `urdf/<robot>.urdf.xacro`; raises DescriptionError if it does not exist."""
    path = share_dir() / "urdf" / f"{_checked_name(robot)}.urdf.xacro"
    if not path.is_file():
        raise DescriptionError(f"no robot description for robot {robot!r}: {path} does not exist")
    return path


def robot_config_path(robot: str = "centurion") -> Path:
    """Path of `config/robots/<robot>.yaml`; raises DescriptionError if it does not exist."""
    path = share_dir() / "config" / "robots" / f"{_checked_name(robot)}.yaml"
    if not path.is_file():
        raise DescriptionError(f"no robot configuration for robot {robot!r}: {path} does not exist")
    return path


def expand_urdf(robot: str = "centurion", *, path: Path | str | None = None, **xacro_args: str | bool) -> str:
    """Expand a robot's xacro into URDF XML text.

    Args:
        robot: robot name, used when `path` is not given.
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
