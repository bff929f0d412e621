"""Start the nodes of a launch as processes, without ROS 2 launch: the engine behind `legion launch`.

Each node runs as its installed executable (`<prefix>/lib/<package>/<executable>`) with
`--ros-args -r __node:=<name> --params-file config/stack.yaml -p <launch parameters>`, exactly the parameters that
`launch/<name>.launch.py` gives it. Output lines are prefixed with the node name. When a required node exits, or on
SIGINT/SIGTERM, every node is asked to stop (SIGINT), then terminated, then killed.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from legion_bringup.nodes import (
    LaunchError,
    NodeSpec,
    middleware_environment,
    plan,
    resolve_arguments,
    stack_parameters_file,
)


def bringup_share() -> Path:
    """The legion_bringup share directory (installed), or the source workspace root."""
    try:
        from ament_index_python.packages import PackageNotFoundError, get_package_share_directory

        try:
            share = Path(get_package_share_directory("legion_bringup"))
            if (share / "config" / "stack.yaml").is_file():
                return share
        except (PackageNotFoundError, OSError):
            pass
    except ImportError:
        pass
    return Path(__file__).resolve().parents[3]


def find_executable(node: NodeSpec) -> Path | None:
    """Installed executable of a node, or None if its package is not installed."""
    try:
        from ament_index_python.packages import PackageNotFoundError, get_package_prefix

        try:
            candidate = Path(get_package_prefix(node.package)) / "lib" / node.package / node.executable
            if candidate.is_file():
                return candidate
        except (PackageNotFoundError, OSError):
            pass
    except ImportError:
        pass
    found = shutil.which(node.executable) if node.ros_only else None
    return Path(found) if found else None


def _parameter_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def command_line(node: NodeSpec, executable: Path, params_file: Path, namespace: str) -> list[str]:
    """The full command that starts one node."""
    command = [str(executable), *node.arguments, "--ros-args"]
    if not node.composed:  # a composed process's nodes keep their own names
        command += ["-r", f"__node:={node.name}"]
    if namespace:
        command += ["-r", f"__ns:=/{namespace.strip('/')}"]
    if params_file.is_file():
        command += ["--params-file", str(params_file)]
    long_values = {k: v for k, v in node.parameters.items() if isinstance(v, str) and ("\n" in v or len(v) > 256)}
    if long_values:  # e.g. robot_description: a parameters file, not a command-line word
        import tempfile

        import yaml

        with tempfile.NamedTemporaryFile("w", suffix=".yaml", prefix=f"{node.name}_", delete=False) as handle:
            yaml.safe_dump({f"/**/{name}": {"ros__parameters": long_values} for name in node.composed or (node.name,)},
                           handle, width=1 << 20)
        command += ["--params-file", handle.name]
    for key, value in node.parameters.items():
        if key not in long_values:
            command += ["-p", f"{key}:={_parameter_value(value)}"]
    for source, target in node.remappings:
        command += ["-r", f"{source}:={target}"]
    return command


class LaunchedNodes:
    """The running processes of one launch. Use as a context manager or call `shutdown()`."""

    def __init__(self, name: str, arguments: dict[str, str], *, echo: bool = True,
                 extra_parameters: dict[str, dict[str, object]] | None = None) -> None:
        """Start launch `name` with `arguments` (`{"scene": "empty", ...}`).

        Args:
            extra_parameters: node name -> parameters added on top of the launch's (used by tests and the job);
                in a multi-robot launch `gait_planner` applies to every robot's, `robot_1/gait_planner` to one.
            echo: print the nodes' output with a `[name]` prefix; otherwise it is kept in `output`.
        """
        self.arguments = resolve_arguments(name, arguments)
        share = bringup_share()
        params_file = stack_parameters_file(share)
        self.output: list[str] = []
        self._echo = echo
        self._lock = threading.Lock()
        self.processes: dict[str, subprocess.Popen] = {}
        self.skipped: list[str] = []
        self.required: set[str] = set()
        self.respawn: set[str] = set()
        self.commands: dict[str, list[str]] = {}
        environment = os.environ | middleware_environment(share, dict(os.environ))
        self._environment = environment
        for node in plan(name, self.arguments, share):
            executable = find_executable(node)
            if executable is None:
                if node.ros_only:
                    self.skipped.append(node.key)
                    continue
                self.shutdown()
                raise LaunchError(f"node '{node.name}': executable '{node.executable}' of package "
                                  f"'{node.package}' is not installed (run scripts/setup.sh)")
            parameters = dict(node.parameters)
            # A composed process takes its nodes' extra parameters; a robot's node (robot_1/gait_planner) takes
            # those given for every robot's (gait_planner), then its own.
            targets = (node.name, *node.composed)
            for target in (*targets, *(f"{node.namespace}/{t}" for t in targets if node.namespace)):
                parameters |= (extra_parameters or {}).get(target, {})
            node = dataclasses.replace(node, parameters=parameters)
            command = command_line(node, executable, params_file,
                                   node.full_namespace(self.arguments.get("namespace", "")))
            self.commands[node.key] = command
            self._start(node.key)
            if node.required and not node.respawn:
                self.required.add(node.key)
            if node.respawn:
                self.respawn.add(node.key)

    def _start(self, name: str) -> None:
        process = subprocess.Popen(self.commands[name], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                   bufsize=1, env=self._environment)
        self.processes[name] = process
        threading.Thread(target=self._pump, args=(name, process), daemon=True).start()

    def kill(self, name: str, sig: int = signal.SIGKILL, timeout: float = 10.0) -> int | None:
        """Send `sig` to the process of node `name` (SIGKILL: a crash) and wait up to `timeout` [s] for it to
        exit; its exit code (None if it is still running)."""
        process = self.processes[name]
        process.send_signal(sig)
        try:
            return process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def restart(self, name: str) -> None:
        """Start the process of node `name` again with the same command (it must have exited)."""
        if self.processes[name].poll() is None:
            raise LaunchError(f"node '{name}' is still running")
        self._start(name)

    def respawn_exited(self) -> list[str]:
        """Restart every exited node of the launch marked `respawn`; their names."""
        exited = [name for name in self.respawn if self.processes[name].poll() is not None]
        for name in exited:
            self._start(name)
        return exited

    def _pump(self, name: str, process: subprocess.Popen) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            text = f"[{name}] {line.rstrip()}"
            with self._lock:
                self.output.append(text)
            if self._echo:
                print(text, flush=True)

    def exited_required(self) -> tuple[str, int] | None:
        """(name, return code) of a required node that has exited, if any."""
        for name in self.required:
            code = self.processes[name].poll()
            if code is not None:
                return name, code
        return None

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop every node: SIGINT, then SIGTERM, then SIGKILL."""
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
            alive = [p for p in self.processes.values() if p.poll() is None]
            if not alive:
                return
            for process in alive:
                process.send_signal(sig)
            deadline = time.monotonic() + timeout / 2
            while time.monotonic() < deadline and any(p.poll() is None for p in alive):
                time.sleep(0.05)

    def __enter__(self) -> LaunchedNodes:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()


def run(name: str, arguments: dict[str, str]) -> int:
    """Run a launch in the foreground until a required node exits or SIGINT/SIGTERM; returns the exit code."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    launched = LaunchedNodes(name, arguments)
    for skipped in launched.skipped:
        print(f"[legion] skipping '{skipped}': it needs a ROS 2 install", flush=True)
    code = 0
    try:
        while not stop.wait(0.2):
            for name in launched.respawn_exited():
                print(f"[legion] node '{name}' exited; respawned", flush=True)
            exited = launched.exited_required()
            if exited is not None:
                print(f"[legion] required node '{exited[0]}' exited with code {exited[1]}; shutting down", flush=True)
                code = exited[1] or 1
                break
    finally:
        launched.shutdown()
    return code


def parse_launch_arguments(words: list[str]) -> dict[str, str]:
    """`["scene:=empty", "headless:=true"]` -> `{"scene": "empty", "headless": "true"}`."""
    arguments = {}
    for word in words:
        key, sep, value = word.partition(":=")
        if not sep or not key:
            raise LaunchError(f"launch arguments are written name:=value, got '{word}'")
        arguments[key] = value
    return arguments


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run(sys.argv[1], parse_launch_arguments(sys.argv[2:])))
