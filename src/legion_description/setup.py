"""legion_description: the top-level urdf/ and config/robots/ installed into this package's share directory."""

from pathlib import Path

from setuptools import find_packages, setup

PACKAGE = "legion_description"
HERE = Path(__file__).resolve().parent


def tree(folder: str) -> list[tuple[str, list[str]]]:
    """data_files entries that install `folder` (a link to the workspace's top-level folder) under share/."""
    entries = []
    for directory in [*sorted(p for p in (HERE / folder).rglob("*") if p.is_dir()), HERE / folder]:
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
        *tree("urdf"),
        *tree("config/robots"),
    ],
    install_requires=["setuptools"],
    zip_safe=True,
    maintainer="Legion developers",
    description="Legion robot descriptions and robot configuration loaders.",
    license="Apache-2.0",
    tests_require=["pytest"],
    entry_points={"console_scripts": ["link_state_publisher = legion_description.link_state_publisher_node:main"]},
)
