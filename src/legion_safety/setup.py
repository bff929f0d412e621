"""legion_safety: speed and separation monitoring (ISO/TS 15066) and the e-stop chain of a Legion humanoid."""

from setuptools import find_packages, setup

PACKAGE = "legion_safety"

setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(exclude=["test"]),
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
    ],
    install_requires=["setuptools"],  # plus pyyaml, numpy from pip / rosdep
    zip_safe=True,
    maintainer="Legion developers",
    description="Safety node of a Legion humanoid: speed and separation monitoring, zones, e-stop latch.",
    license="Apache-2.0",
    tests_require=["pytest"],
    entry_points={"console_scripts": [f"safety = {PACKAGE}.safety_node:main"]},
)
