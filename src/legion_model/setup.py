"""legion_model: the humanoid's rigid-body model over Pinocchio (pure Python, no rclpy)."""

from setuptools import find_packages, setup

PACKAGE = "legion_model"

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
    description="Rigid-body model of a Legion humanoid over Pinocchio.",
    license="Apache-2.0",
    tests_require=["pytest"],
)
