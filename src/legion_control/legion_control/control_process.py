"""`whole_body_control`: the 500 Hz control path in one process: the `state_estimator` node (legion_estimation) and
the `whole_body_controller` node, composed on one executor (ROS 2 composition; launch argument `composed:=true`, the
default).

Each control tick crosses two hops, hardware -> estimator (`joint_states`, `imu/data`, foot wrenches) -> controller
(`odom`); in one process both nodes share one executor and one DDS participant's intra-process delivery, so the
tick is not handed between two processes competing for the cores. The nodes are the same classes, with the same names,
topics and parameters as when they run as separate processes (`composed:=false`).
"""

from __future__ import annotations

import gc
import sys

from legion_common.node_main import make_executor, run_node


class ControlProcess:
    """The two nodes of the control path, built in order (estimator first: its `odom` feeds the controller)."""

    def __init__(self) -> None:
        from legion_control.whole_body_controller_node import WholeBodyControllerNode
        from legion_estimation.state_estimator_node import StateEstimator

        self.nodes = [StateEstimator()]
        self.nodes.append(WholeBodyControllerNode())

    def get_logger(self):
        return self.nodes[-1].get_logger()

    def destroy_node(self) -> None:
        for node in reversed(self.nodes):
            node.destroy_node()


def _spin(process: ControlProcess) -> None:
    executor = make_executor()
    for node in process.nodes:
        executor.add_node(node)
    gc.collect()
    gc.freeze()  # the models, the solver and rclpy's objects never need collecting: shorter collector pauses
    executor.spin()


def main(args: list[str] | None = None) -> int:
    # Any error building the nodes (a bad parameter, a broken robot file) ends the process with one line and exit 1.
    return run_node("whole_body_control", ControlProcess, args, run=_spin)


if __name__ == "__main__":
    sys.exit(main())
