"""legion_teleop: drive a Legion humanoid by hand from a terminal or a gamepad (sensor_msgs/Joy)."""

from setuptools import find_packages, setup

PACKAGE = "legion_teleop"

setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(exclude=["test"]),
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
    ],
    install_requires=["setuptools"],  # plus pyyaml, numpy, pinocchio from pip / rosdep
    zip_safe=True,
    maintainer="Legion developers",
    description="Teleoperation of a Legion humanoid: walk, turn, head, hands, arm jog and e-stop from a terminal or a "
                "gamepad, with a dead-man rule and rate limits.",
    license="Apache-2.0",
    tests_require=["pytest"],
    entry_points={"console_scripts": [
        f"teleop = {PACKAGE}.teleop_node:main",
        f"legion_teleop = {PACKAGE}.terminal:main",
    ]},
)
