"""legion_control: the whole-body controller (Pinocchio task-space inverse-dynamics QP) and its ROS node."""

from setuptools import find_packages, setup

PACKAGE = "legion_control"

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
    description="Whole-body controller of a Legion humanoid: task-space inverse dynamics over Pinocchio.",
    license="Apache-2.0",
    tests_require=["pytest"],
    entry_points={
        "console_scripts": [
            "whole_body_controller = legion_control.whole_body_controller_node:main",
            "whole_body_control = legion_control.control_process:main",
        ],
    },
)
