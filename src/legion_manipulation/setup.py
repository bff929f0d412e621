"""legion_manipulation: pick and place with the robot's hands (grasp choice, reach, paths, verification), its node."""

from setuptools import find_packages, setup

PACKAGE = "legion_manipulation"

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
    description="Pick and place of a Legion humanoid: grasp planning, reach, gripper paths, grasp verification.",
    license="Apache-2.0",
    tests_require=["pytest"],
    entry_points={"console_scripts": [f"manipulation = {PACKAGE}.manipulation_node:main"]},
)
