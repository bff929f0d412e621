from setuptools import find_packages, setup

PACKAGE = "legion_estimation"
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
    description="Legion state estimation: base pose and twist from IMU, encoders and foot force sensors.",
    license="Apache-2.0",
    tests_require=["pytest"],
    entry_points={"console_scripts": ["state_estimator = legion_estimation.state_estimator_node:main"]},
)
