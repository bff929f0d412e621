"""legion_sim: simulated Legion robot hardware (MuJoCo core without ROS, plus the sim_bridge node)."""

from setuptools import find_packages, setup

PACKAGE = "legion_sim"

setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(exclude=["test"]),
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
    ],
    install_requires=["setuptools"],  # plus mujoco, numpy, pyyaml from pip / rosdep (see package.xml)
    zip_safe=True,
    maintainer="Legion developers",
    description="Simulated Legion robot hardware in MuJoCo.",
    license="Apache-2.0",
    tests_require=["pytest"],
    entry_points={"console_scripts": [
        "sim_bridge = legion_sim.sim_bridge_node:main",
        "gazebo_joint_command_adapter = legion_sim.gazebo_adapter_node:main",
        "gazebo_world = legion_sim.gazebo_world:main",
        "gazebo_controllers = legion_sim.gazebo_controllers:main",
    ]},
)
