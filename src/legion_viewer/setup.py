"""legion_viewer: a live browser view of a Legion robot and its cell (viser); the browser needs no ROS."""

from setuptools import find_packages, setup

PACKAGE = "legion_viewer"

setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(exclude=["test"]),
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
    ],
    install_requires=["setuptools"],  # plus viser, yourdfpy, numpy from pip
    zip_safe=True,
    maintainer="Legion developers",
    description="Live browser viewer of a Legion humanoid: robot, cell, parts, footsteps, people, camera, status.",
    license="Apache-2.0",
    tests_require=["pytest"],
    entry_points={"console_scripts": [f"viewer = {PACKAGE}.viewer_node:main"]},
)
