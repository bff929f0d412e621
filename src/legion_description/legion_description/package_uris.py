"""Resolve the resource URIs of a robot description (`package://`, `file://`) to absolute file paths.

A URDF names its meshes by URI. `package://<package>/<path>` is `<path>` inside the package's directory, looked up in
this order:

1. the ament index (`ament_index_python`, over `AMENT_PREFIX_PATH`): the package's share directory;
2. the directories of `LEGION_PACKAGE_PATH`, then those of `ROS_PACKAGE_PATH` (both `os.pathsep`-separated lists):
   an entry holds package directories (`<entry>/<package>`), or is itself the package's directory when its last
   component is the package name.

`file:///abs/path` is the absolute path `/abs/path`. Plain paths are left as they are. MuJoCo and Pinocchio both read
the rewritten text (`resolve_mesh_uris`), so neither needs a ROS installation to find a mesh.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit
from xml.sax.saxutils import escape, unescape

from legion_description.robot_files import DescriptionError

PACKAGE_PATH_VARIABLE = "LEGION_PACKAGE_PATH"
"""Environment variable listing directories that hold packages (`os.pathsep`-separated), searched after the ament
index and before `ROS_PACKAGE_PATH`."""

_SEARCH_VARIABLES = (PACKAGE_PATH_VARIABLE, "ROS_PACKAGE_PATH")
_MESH_TAG = re.compile(r"<mesh\b[^>]*>")
_FILENAME = re.compile(r"""(\bfilename\s*=\s*)(["'])(.*?)\2""", re.DOTALL)
_ATTRIBUTE_ENTITIES = {'"': "&quot;", "'": "&apos;"}


def _ament_share(package: str) -> Path | None:
    """The package's share directory from the ament index, or None (no index, or not in it)."""
    try:
        from ament_index_python.packages import PackageNotFoundError, get_package_share_directory
    except ImportError:
        return None
    try:
        share = Path(get_package_share_directory(package))
    except (PackageNotFoundError, LookupError, OSError, ValueError):  # OSError/ValueError: no AMENT_PREFIX_PATH
        return None
    return share if share.is_dir() else None


def package_search_path() -> list[Path]:
    """Directories searched for packages after the ament index: `LEGION_PACKAGE_PATH`, then `ROS_PACKAGE_PATH`."""
    directories = []
    for variable in _SEARCH_VARIABLES:
        directories += [Path(entry) for entry in os.environ.get(variable, "").split(os.pathsep) if entry]
    return directories


def package_directory(package: str) -> Path:
    """Directory of `package`: its ament share directory, else the first match on `package_search_path()`.

    Raises:
        DescriptionError: the package is in neither (the message names the package and where it looked).
    """
    if not package or "/" in package or package in (".", ".."):
        raise DescriptionError(f"invalid package name {package!r}")
    share = _ament_share(package)
    if share is not None:
        return share
    searched = package_search_path()
    for directory in searched:
        for candidate in (directory / package, directory):
            if candidate.name == package and candidate.is_dir():
                return candidate
    where = ", ".join(str(d) for d in searched) or "none set"
    raise DescriptionError(
        f"package '{package}' not found in the ament index (AMENT_PREFIX_PATH) nor in the "
        f"{' / '.join(_SEARCH_VARIABLES)} directories ({where})"
    )


def resolve_uri(uri: str) -> str:
    """The file path a description's resource URI names: absolute for `package://` and `file://`, unchanged for a
    plain path.

    Raises:
        DescriptionError: the package cannot be found, the file does not exist, or the URI's scheme is not
            `package` or `file` (the message names the URI, and the package).
    """
    scheme, separator, rest = uri.partition("://")
    if not separator:
        return uri
    if scheme == "package":
        package, _, relative = rest.partition("/")
        if not relative:
            raise DescriptionError(f"resource URI '{uri}' names no file inside package '{package}'")
        try:
            directory = package_directory(package)
        except DescriptionError as error:
            raise DescriptionError(f"resource URI '{uri}': {error}") from error
        path = directory / relative
        if not path.is_file():
            raise DescriptionError(f"resource URI '{uri}': {path} does not exist (package '{package}' is {directory})")
        return str(path.resolve())
    if scheme == "file":
        parts = urlsplit(uri)
        if parts.netloc not in ("", "localhost"):
            raise DescriptionError(f"resource URI '{uri}' names a remote host; only local files are read")
        path = Path(unquote(parts.path))
        if not path.is_file():
            raise DescriptionError(f"resource URI '{uri}': {path} does not exist")
        return str(path)
    raise DescriptionError(f"resource URI '{uri}' has scheme '{scheme}'; only package:// and file:// are resolved")


def resolve_mesh_uris(urdf_xml: str) -> str:
    """The URDF text with every `<mesh filename="...">` URI replaced by its absolute path (`resolve_uri`); the rest
    of the text is unchanged.

    Raises:
        DescriptionError: a mesh URI does not resolve (see `resolve_uri`).
    """

    def resolve_filename(match: re.Match) -> str:
        prefix, quote, value = match.groups()
        resolved = resolve_uri(unescape(value, _ATTRIBUTE_ENTITIES))
        return f"{prefix}{quote}{escape(resolved, {quote: _ATTRIBUTE_ENTITIES[quote]})}{quote}"

    return _MESH_TAG.sub(lambda tag: _FILENAME.sub(resolve_filename, tag.group(0), count=1), urdf_xml)
