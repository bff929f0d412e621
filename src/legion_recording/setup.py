"""legion_recording: record the robot's topics to ROS 2 MCAP bags, play them back, and keep recorded data within its
retention period."""

from setuptools import find_packages, setup

PACKAGE = "legion_recording"

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
    description="Recording (ROS 2 MCAP bags), replay and retention of a Legion robot's data.",
    license="Apache-2.0",
    tests_require=["pytest"],
)
