from setuptools import find_packages, setup

PACKAGE = "legion_testing"
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
    description="Test support of the Legion workspace (probe node, closed loops, rendered scenes).",
    license="Apache-2.0",
    tests_require=["pytest"],
)
