"""`legion`: start Legion without ROS 2 launch.

    legion launch <name> [arg:=value ...]   start a launch (sim, stack, gazebo) from the shared node list
    legion launch <name> --show-args        list a launch's arguments
    legion job [--stand S] [--walk M] [--scene S]   the main job: the stack in MuJoCo, headless, with a report
    legion record --purpose "..." [--topics T ...] [--all] [--allow-raw-images] [-o DIR]   record to a ROS 2 bag
    legion play BAG [--rate R] [--topics T ...]   publish a recording back, with its clock
    legion data list | prune [--dry-run]   the recordings kept and the retention period (config/data.yaml)
    legion view [--port P] [--namespace NS]      serve a browser view of an already running stack (docs/viewer.md)
    legion teleop [--config F] [--robot R] [--namespace N]   drive the robot from this terminal (keys, gamepad)
    legion evaluate --episodes N [--workers W] [--address ray://HOST:PORT] [--seed S]   randomised sorting episodes
        as Ray tasks, resumable, with a Parquet of the episodes and an aggregate report (docs/evaluation.md)
"""

from __future__ import annotations

import argparse
import sys

from legion_bringup.nodes import ARGUMENTS, LAUNCHES, LaunchError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="legion", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    launch = commands.add_parser("launch", help="start a launch: sim, stack or gazebo")
    launch.add_argument("name", choices=sorted(LAUNCHES))
    launch.add_argument("arguments", nargs="*", help="launch arguments, name:=value")
    launch.add_argument("--show-args", action="store_true", help="list the launch's arguments and exit")
    view = commands.add_parser("view", help="serve a live browser view of a running stack on 127.0.0.1")
    view.add_argument("--port", default=ARGUMENTS["viewer_port"].default, help="TCP port (default %(default)s)")
    view.add_argument("--namespace", default="", help="the robot's namespace (e.g. robot_1)")
    view.add_argument("--robot", default=ARGUMENTS["robot"].default, help="robot name or file (default %(default)s)")
    job = commands.add_parser("job", help="run the main job headless in MuJoCo and write a report")
    from legion_bringup import job as job_module

    job_module.add_arguments(job)
    from legion_recording import commands as recording_commands
    from legion_recording.errors import RecordingError

    recording_commands.add_record_arguments(commands.add_parser("record", help="record topics to a ROS 2 MCAP bag"))
    recording_commands.add_play_arguments(commands.add_parser("play", help="publish a recording back"))
    recording_commands.add_data_arguments(commands.add_parser("data", help="list or prune the recordings kept"))
    teleop = commands.add_parser("teleop", help="drive the robot from this terminal (and a gamepad on joy)")
    from legion_teleop import terminal as teleop_terminal

    teleop_terminal.add_arguments(teleop)
    from legion_bringup import evaluate as evaluate_module

    evaluate_module.add_arguments(commands.add_parser(
        "evaluate", help="randomised sorting episodes as Ray tasks (local Ray or a cluster), with an aggregate report"))
    options = parser.parse_args(argv)
    if options.command in ("record", "play", "data"):
        try:
            return getattr(recording_commands, options.command)(options)
        except RecordingError as error:
            print(f"legion {options.command}: {error}", file=sys.stderr)
            return 2
    if options.command == "teleop":
        return teleop_terminal.run(options)
    if options.command == "evaluate":
        return evaluate_module.run(options)

    try:
        if options.command == "launch":
            if options.show_args:
                for name in LAUNCHES[options.name]:
                    argument = ARGUMENTS[name]
                    choices = f" ({'|'.join(argument.choices)})" if argument.choices else ""
                    print(f"{name}:={argument.default!r}{choices}\n    {argument.description}")
                return 0
            from legion_bringup.launcher import parse_launch_arguments, run

            return run(options.name, parse_launch_arguments(options.arguments))
        if options.command == "view":
            from legion_bringup.launcher import run

            return run("view", {"viewer_port": str(options.port), "namespace": options.namespace,
                                "robot": options.robot})
        return job_module.run(options)
    except LaunchError as error:
        print(f"legion: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
