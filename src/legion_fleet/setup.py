"""legion_fleet: the reservation of shared areas and bins between the robots of one cell (`fleet_coordinator`)."""

from setuptools import find_packages, setup

PACKAGE = "legion_fleet"

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
    description="Fleet coordination of Legion humanoids sharing a cell: leased, all-or-nothing reservations of areas "
                "and bins, first come first served, with deadlock refusal.",
    license="Apache-2.0",
    tests_require=["pytest"],
    entry_points={"console_scripts": [f"fleet_coordinator = {PACKAGE}.fleet_node:main"]},
)
