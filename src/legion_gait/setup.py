"""legion_gait: footstep and centre-of-mass trajectory planning (DCM walking pattern generator) and its ROS 2 node."""

from setuptools import find_packages, setup

PACKAGE = "legion_gait"

setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(exclude=["test"]),
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
    ],
    install_requires=["setuptools"],  # plus numpy, pinocchio (through legion_model) from pip / rosdep
    zip_safe=True,
    maintainer="Legion developers",
    description="Gait planning of a Legion humanoid: footsteps, DCM-based CoM trajectories, swing feet.",
    license="Apache-2.0",
    tests_require=["pytest"],
    entry_points={"console_scripts": [f"gait_planner = {PACKAGE}.gait_planner_node:main"]},
)
