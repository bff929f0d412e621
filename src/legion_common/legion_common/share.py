"""Where a package's installed files are: its ament share directory, or the source workspace for a checkout."""

from __future__ import annotations

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
