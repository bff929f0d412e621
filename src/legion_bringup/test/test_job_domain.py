"""`legion job` refuses to start a stack on a ROS domain where another stack runs (their topics would mix)."""

from __future__ import annotations

import random

import rclpy

from legion_bringup.job import stack_nodes_on_domain


def test_a_stack_node_on_the_domain_is_found_and_an_empty_domain_is_free(monkeypatch):
    # A domain of its own: node tests run earlier in this worker may have left nodes on the session's domain
    monkeypatch.setenv("ROS_DOMAIN_ID", str(random.SystemRandom().randint(150, 230)))
    assert stack_nodes_on_domain(discovery=1.0) == []
    context = rclpy.Context()
    rclpy.init(context=context)
    try:
        node = rclpy.create_node("sim_bridge", context=context)  # as another stack's simulated hardware
        bystander = rclpy.create_node("rviz_like_viewer", context=context)
        assert stack_nodes_on_domain(discovery=3.0) == ["sim_bridge"]
        node.destroy_node()
        bystander.destroy_node()
    finally:
        context.try_shutdown()
