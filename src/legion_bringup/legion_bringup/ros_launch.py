"""Build a ROS 2 LaunchDescription from the shared node list (only imported by launch/*.launch.py).

Needs `launch` and `launch_ros`, which exist on a ROS 2 install only; the pip environment uses `legion launch`.
"""

from __future__ import annotations

import os

from launch.actions import DeclareLaunchArgument, OpaqueFunction, SetEnvironmentVariable, Shutdown
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

from launch import LaunchDescription
from legion_bringup.launcher import bringup_share
from legion_bringup.nodes import (
    ARGUMENTS,
    LAUNCHES,
    middleware_environment,
    plan,
    resolve_arguments,
    stack_parameters_file,
)


def node_actions(name: str, context) -> list[Node]:
    """Launch actions for the nodes of launch `name`, with the launch arguments as given on the command line."""
    given = {arg: LaunchConfiguration(arg).perform(context) for arg in LAUNCHES[name]}
    arguments = resolve_arguments(name, given)
    share = bringup_share()
    actions = []
    for node in plan(name, arguments, share):
        actions.append(Node(
            package=node.package,
            executable=node.executable,
            name=None if node.composed else node.name,  # a composed process's nodes keep their own names
            namespace=node.full_namespace(arguments.get("namespace", "")),
            parameters=[str(stack_parameters_file(share)), dict(node.parameters)],
            remappings=list(node.remappings),
            arguments=list(node.arguments),
            output="screen",
            on_exit=Shutdown() if node.required and not node.respawn else None,
            respawn=node.respawn,
        ))
    return actions


def generate(name: str, extra_actions: list | None = None) -> LaunchDescription:
    """LaunchDescription for launch `name`: its declared arguments, then its nodes."""
    declared = [
        DeclareLaunchArgument(arg, default_value=ARGUMENTS[arg].default, description=ARGUMENTS[arg].description,
                              **({"choices": list(ARGUMENTS[arg].choices)} if ARGUMENTS[arg].choices else {}))
        for arg in LAUNCHES[name]
    ]
    environment = [SetEnvironmentVariable(key, value)
                   for key, value in middleware_environment(bringup_share(), dict(os.environ)).items()]
    return LaunchDescription([*declared, *environment, *(extra_actions or []),
                              OpaqueFunction(function=lambda context: node_actions(name, context))])
