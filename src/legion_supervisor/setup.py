"""legion_supervisor: liveness of the nodes of a launch (graph presence, diagnostics freshness) and the pause."""

from setuptools import find_packages, setup

PACKAGE = "legion_supervisor"

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
    description="Node supervisor of a Legion humanoid: watches every node of the launch and pauses work when a node "
                "it depends on is gone.",
    license="Apache-2.0",
    tests_require=["pytest"],
    entry_points={"console_scripts": [f"supervisor = {PACKAGE}.supervisor_node:main"]},
)
