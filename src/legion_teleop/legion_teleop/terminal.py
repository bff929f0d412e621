"""`legion teleop`: drive the robot from a terminal.

    legion teleop [--config teleop] [--robot centurion] [--namespace robot_1] [--no-arm]

Reads single keys (the terminal in cbreak mode through termios/tty: no echo, no line buffering, Ctrl-C still
interrupts), hands them to the `teleop` node (legion_teleop.teleop_node) spinning in the same process, and redraws one
status line. Motion keys move the robot while held (their auto-repeat is the dead-man); the space bar is the e-stop;
`R` resets it after a y/N confirmation. A gamepad on `joy` drives the same node meanwhile. On exit (Ctrl-C, Ctrl-D)
teleop sends a zero cmd_vel if it was driving and releases its arm jog.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import select
import sys
import termios
import threading
import time
import tty

from legion_teleop.keys import HELP_LINE, decode, help_text

STATUS_PERIOD = 0.2
"""[s] status line redraw."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", default="teleop", help="teleop file: a name in config/ or a path")
    parser.add_argument("--robot", default="centurion", help="robot name or robot file")
    parser.add_argument("--namespace", default="", help="the robot's namespace (e.g. robot_1)")
    parser.add_argument("--no-arm", action="store_true", help="no arm jog (skips loading the robot's kinematics)")
    parser.add_argument("--quiet", action="store_true", help="no status line (for scripts)")


def ros_arguments(options: argparse.Namespace) -> list[str]:
    """The node's ROS arguments: parameters, the namespace, and the estimator's decimated state for the arm jog."""
    args = ["--ros-args", "-p", f"config:={options.config}", "-p", f"robot:={options.robot}",
            "-p", f"arm_jog:={'false' if options.no_arm else 'true'}",
            "-r", "joint_states:=joint_states/decimated", "-r", "odom:=odom/decimated"]
    if options.namespace:
        args += ["-r", f"__ns:=/{options.namespace.strip('/')}"]
    return args


class _Terminal:
    """stdin in cbreak mode while inside (restored on exit, whatever happens); a no-op when stdin is not a tty."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.saved = termios.tcgetattr(fd) if os.isatty(fd) else None

    def __enter__(self) -> _Terminal:
        if self.saved is not None:
            tty.setcbreak(self.fd)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.saved is not None:
            termios.tcsetattr(self.fd, termios.TCSADRAIN, self.saved)


def _spin(executor) -> None:
    from rclpy.executors import ExternalShutdownException

    with contextlib.suppress(ExternalShutdownException):
        executor.spin()


def run(options: argparse.Namespace) -> int:
    import rclpy
    from rclpy.signals import SignalHandlerOptions

    from legion_common.discovery import discovery_environment
    from legion_common.node_main import make_executor
    from legion_common.parameters import ParameterError
    from legion_description import DescriptionError
    from legion_model import ModelError
    from legion_teleop.errors import TeleopError
    from legion_teleop.teleop_node import TeleopNode

    os.environ.update(discovery_environment(os.environ))  # discovery on this machine, as the launches (security.md)
    # Ctrl-C must reach the loop below as KeyboardInterrupt, with the context still valid for the last zero cmd_vel
    # and the arm release: rclpy's own SIGINT handler would shut the context down first.
    rclpy.init(args=["legion_teleop", *ros_arguments(options)], signal_handler_options=SignalHandlerOptions.NO)
    node = None
    try:
        node = TeleopNode()
    except (ParameterError, TeleopError, DescriptionError, ModelError) as error:
        print(f"legion teleop: {error}", file=sys.stderr)
        rclpy.try_shutdown()
        return 2
    executor = make_executor()
    executor.add_node(node)
    spinner = threading.Thread(target=_spin, args=(executor,), daemon=True)
    spinner.start()
    out = sys.stdout
    fd = sys.stdin.fileno()
    confirming = False
    note = ""

    def reset_done(success: bool, message: str) -> None:
        nonlocal note
        note = f"e-stop reset: {'done' if success else 'FAILED'} ({message})"

    print(HELP_LINE, file=out, flush=True)
    last_draw = 0.0
    try:
        with _Terminal(fd):
            while True:
                ready, _, _ = select.select([fd], [], [], 0.05)
                if ready:
                    data = os.read(fd, 64)
                    if not data:  # end of input
                        break
                    quit_now = False
                    for key in decode(data):
                        if confirming:
                            confirming = False
                            if key in ("y", "Y"):
                                note = "e-stop reset: calling safety/reset (or emergency_stop/reset) ..."
                                node.request_reset(reset_done)
                            else:
                                note = "e-stop reset: cancelled"
                            continue
                        action = node.on_key(key)
                        if action == "quit":
                            quit_now = True
                        elif action == "reset":
                            confirming = True
                            note = "Reset the emergency stop? The robot may move. [y/N]"
                        elif action == "help":
                            print("\n" + help_text(), file=out, flush=True)
                    if quit_now:
                        break
                now = time.monotonic()
                if not options.quiet and now - last_draw >= STATUS_PERIOD:
                    last_draw = now
                    status = node.core.status()
                    line = (f"[{status.state.upper():7}] fwd {status.twist[0]:+.2f} m/s  left {status.twist[1]:+.2f} "
                            f"m/s  yaw {status.twist[2]:+.2f} rad/s  side {status.side}  keys x{status.speed:.1f}  "
                            f"{status.reason}  {note}")
                    out.write("\r\x1b[K" + line[:200])
                    out.flush()
    except KeyboardInterrupt:
        pass
    finally:
        node.stop()
        time.sleep(0.1)  # let the last messages go out
        rclpy.try_shutdown()  # ends the spin
        spinner.join(timeout=2.0)
        with contextlib.suppress(Exception):
            node.destroy_node()
        if not options.quiet:
            print("\nteleop: stopped", file=out, flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="legion teleop", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
