"""`run_node`: the shared main of the node executables."""

import pytest

from legion_common.node_main import run_node

rclpy = pytest.importorskip("rclpy")


class BrokenFileError(ValueError):
    pass


def test_a_fatal_error_is_one_line_and_exit_1(capsys):
    def make():
        raise BrokenFileError("config/robots/x.yaml: no such joint 'knee'")

    assert run_node("demo", make, [], fatal=(BrokenFileError,)) == 1
    assert "demo: config/robots/x.yaml: no such joint 'knee'" in capsys.readouterr().err
    assert not rclpy.ok()


def test_the_node_runs_closes_and_is_destroyed():
    events = []

    class Node:
        def __init__(self) -> None:
            self.node = rclpy.create_node("run_node_test")

        def get_logger(self):
            return self.node.get_logger()

        def close(self) -> None:
            events.append("close")

        def destroy_node(self) -> None:
            events.append("destroy")
            self.node.destroy_node()

    assert run_node("demo", Node, [], run=lambda node: events.append("run")) == 0
    assert events == ["run", "close", "destroy"] and not rclpy.ok()
