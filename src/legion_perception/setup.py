"""legion_perception: head RGB-D perception (objects, obstacles, people, privacy) and its ROS 2 node."""

from setuptools import find_packages, setup

PACKAGE = "legion_perception"

setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(exclude=["test"]),
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
    ],
    install_requires=["setuptools"],
    zip_safe=True,
    maintainer="Legion developers",
    description="Head RGB-D perception of a Legion humanoid: objects, obstacles, people, privacy.",
    license="Apache-2.0",
    tests_require=["pytest"],
    entry_points={"console_scripts": [f"perception = {PACKAGE}.perception_node:main"]},
)
