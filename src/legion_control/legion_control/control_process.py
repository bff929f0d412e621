"""`whole_body_control`: the 500 Hz control path in one process: the `state_estimator` node (legion_estimation) and
the `whole_body_controller` node (ROS 2 composition; launch argument `composed:=true`, the default).

The two nodes keep their names, parameters, services and published topics (`odom`, `odom/decimated`,
`joint_states/decimated`, `joint_commands`, `diagnostics`), as when they run as separate processes
(`composed:=false`). What changes is how the state reaches the controller: instead of subscribing to `joint_states`
and `odom` through the middleware, the controller is handed both by the estimator in the same process
(`StateListener`, the counterpart of rclcpp's intra-process communication, which rclpy lacks):

- every `joint_states` message goes to the controller's tick as soon as the estimator receives it, before the
  estimator waits for the IMU and foot wrenches of the same stamp, so the command leaves after one middleware hop
  from the hardware instead of two;
- every `odom` message goes to the controller right after it is published (the controller propagates the base with
  leg kinematics between them, as it does with odom from another process).

The process's main thread runs the tick: it waits on the estimator's measurement subscriptions alone
(`legion_common.inbox.Inbox`) and hands each message over as it comes, without an executor's per-message cost;
references, services and parameters are served by an executor on a second thread (the controller's lock keeps the
two apart).

Both nodes run on the hardware's time (the controller answers and stamps with the state's stamp, the estimator stamps
its odom and diagnostics with the measurements'), so neither reads a clock: in this process `use_sim_time` is false
and no `clock` message wakes it. Its `realtime.*` parameters are the controller's (`realtime.priority`,
`realtime.cpus`, `realtime.lock_memory`, docs/realtime.md) and cover both nodes.
"""

from __future__ import annotations

import gc
import sys

import rclpy
from rclpy.parameter import Parameter

from legion_common.node_main import run_node, spin_in_background

NO_CLOCK = [Parameter("use_sim_time", Parameter.Type.BOOL, False)]
"""The control path runs on the hardware's stamps: no `clock` subscription (overrides the launch's use_sim_time)."""


class ControlProcess:
    """The two nodes of the control path: the controller, and the estimator that feeds it in-process."""

    def __init__(self) -> None:
        from legion_control.whole_body_controller_node import WholeBodyControllerNode
        from legion_estimation.state_estimator_node import StateEstimator, StateListener

        # The estimator first: its joint_states subscription must exist before the controller's joint_commands
        # publisher appears (a lockstep simulator waits for answers from then on). Nothing is handed over before the
        # process's loop takes the first measurements (`_spin`), so the listener is attached in time.
        estimator = StateEstimator(own_loop=True, parameter_overrides=NO_CLOCK)
        controller = WholeBodyControllerNode(subscribe_state=False, parameter_overrides=NO_CLOCK)
        estimator.listener = StateListener(joint_states=controller.on_joint_states, odom=controller.on_base_estimate)
        self.nodes = [estimator, controller]
        controller.get_logger().info("composed with state_estimator: joint_states and odom handed over in-process; "
                                     "running on the hardware's stamps (no clock subscription)")

    def get_logger(self):
        return self.nodes[-1].get_logger()

    def destroy_node(self) -> None:
        for node in reversed(self.nodes):
            node.destroy_node()


SWITCH_INTERVAL = 0.0005
"""[s] Python's thread switch interval in this process (default 5 ms): a tick arriving while the executor's thread runs
a reference callback waits at most this long for the interpreter."""


def _spin(process: ControlProcess) -> None:
    """The tick on this thread: wait for the hardware's measurements and hand them to the estimator (and through it
    to the controller) as they come; everything else (references, services, parameters) on an executor on a second
    thread."""
    estimator = process.nodes[0]
    gc.collect()
    gc.freeze()  # the models, the solver and rclpy's objects never need collecting: shorter collector pauses
    sys.setswitchinterval(SWITCH_INTERVAL)
    spin_in_background(*process.nodes)
    while rclpy.ok():
        estimator.inbox.wait(0.1)
        estimator.take_measurements()


def main(args: list[str] | None = None) -> int:
    # Any error building the nodes (a bad parameter, a broken robot file) ends the process with one line and exit 1.
    return run_node("whole_body_control", ControlProcess, args, run=_spin)


if __name__ == "__main__":
    sys.exit(main())
