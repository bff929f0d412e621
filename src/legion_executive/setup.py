"""legion_executive: the sorting shift's behaviour-tree executive (cell files, behaviours, tree) and its node."""

from setuptools import find_packages, setup

PACKAGE = "legion_executive"

setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(exclude=["test"]),
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
    ],
    install_requires=["setuptools"],  # plus py_trees, pyyaml, numpy from pip / rosdep
    zip_safe=True,
    maintainer="Legion developers",
    description="Task executive of a Legion humanoid: a py_trees behaviour tree that runs a sorting shift.",
    license="Apache-2.0",
    tests_require=["pytest"],
    entry_points={"console_scripts": [f"executive = {PACKAGE}.executive_node:main"]},
)
