"""Where a package's installed files are: its ament share directory, or the source workspace for a checkout."""

from __future__ import annotations

import os
from pathlib import Path


def share_dir(package: str, marker: str, source_root: Path) -> Path:
    """The directory holding `marker` (e.g. `config`, `urdf`) for `package`: its ament share directory when it is
    installed and has `marker`, else `source_root` (the workspace root of a source checkout or a symlink install)."""
    try:
        from ament_index_python.packages import PackageNotFoundError, get_package_share_directory

        try:
            share = Path(get_package_share_directory(package))
            if (share / marker).is_dir():
                return share
        except (PackageNotFoundError, OSError):  # OSError: no AMENT_PREFIX_PATH at all
            pass
    except ImportError:
        pass
    return source_root


def names_a_file(text: object) -> bool:
    """Whether `text` names a file by path (it ends in `.yaml`/`.yml` or contains a `/`) rather than by name."""
    return isinstance(text, str) and (text.endswith((".yaml", ".yml")) or os.sep in text or "/" in text)


def search_dirs(variable: str, installed: Path) -> list[Path]:
    """Directories searched for `<name>.yaml`, in order: those on the environment variable `variable`
    (os.pathsep-separated), the installed folder, and for a symlink install the folders its files link to (the
    source tree, so that an edit needs no rebuild)."""
    dirs = [Path(p) for p in os.environ.get(variable, "").split(os.pathsep) if p]
    dirs.append(installed)
    if installed.is_dir():
        linked = {f.resolve().parent for f in installed.glob("*.yaml") if f.is_symlink()}
        dirs.extend(sorted(d for d in linked if d != installed.resolve()))
    return dirs
