"""legion_bringup: the top-level launch/ and config/ installed into this package's share directory."""

from pathlib import Path

from setuptools import find_packages, setup

PACKAGE = "legion_bringup"
HERE = Path(__file__).resolve().parent


def tree(folder: str) -> list[tuple[str, list[str]]]:
    """data_files entries that install `folder` (a link to the workspace's top-level folder) under share/."""
    entries = []
    for directory in [HERE / folder, *sorted(p for p in (HERE / folder).rglob("*") if p.is_dir())]:
        files = [str(f.relative_to(HERE)) for f in sorted(directory.iterdir()) if f.is_file()]
        if files:
            entries.append((f"share/{PACKAGE}/{directory.relative_to(HERE)}", files))
    return entries


setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(exclude=["test"]),
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
        *tree("launch"),
        *tree("config"),
    ],
    install_requires=["setuptools"],
    zip_safe=True,
    maintainer="Legion developers",
    description="Launch files, stack configuration and the legion command.",
    license="Apache-2.0",
    tests_require=["pytest"],
    entry_points={"console_scripts": ["legion = legion_bringup.cli:main"]},
)
