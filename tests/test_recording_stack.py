"""Recording the whole stack over DDS in lockstep simulation with `legion record` (a separate process, as an operator
runs it), read back with the rosbags library: the default topic set (no raw camera image, no ground truth), message
counts at the publishers' rates, the recording's metadata in the MCAP file and in metadata.yaml; and the privacy
check: in a scene with a person facing the robot, the face detector of legion_perception finds the face in the raw
camera frames (recorded here only because the test's data configuration allows it and the recording asks for them)
and finds no face in any recorded `perception/debug_image` frame.

One launch serves the module: the scene has one person 1.5 m in front of the robot, facing it; the head looks
straight ahead (posture/reference neck_pitch 0)."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from legion_bringup.launcher import LaunchedNodes
from legion_common.diagnostics import diagnostic_values
from legion_perception.config import PeopleConfig
from legion_perception.people import FaceDetector
from legion_recording.bag import read_info
from legion_recording.config import config_path
from legion_testing.probe import Probe

pytestmark = pytest.mark.stack

STARTUP = 180.0
"""[s] wall: model builds, DDS discovery, first balanced cycles."""
RECORD_TIMEOUT = 300.0
"""[s] wall allowed for one `legion record` run (lockstep runs at 0.1-0.3x real time here)."""
SECONDS = 3.0
"""[s] simulated time recorded."""
PERSON_SCENE = {
    "name": "person_ahead", "robot_start": {"x": 0.0, "y": 0.0, "yaw": 0.0}, "floor": {"friction": 0.9},
    "people": [{"id": "worker", "position": [1.5, 0.0], "yaw": math.pi, "height": 1.75,
                "shirt_colour": "safety_yellow"}],
}
_STACK = yaml.safe_load((Path(__file__).parents[1] / "config" / "stack.yaml").read_text())
_BRIDGE = _STACK["/**/sim_bridge"]["ros__parameters"]
RATES = {topic: _BRIDGE["control_rate"] for topic in ("/joint_states", "/imu/data", "/odom")} | {
    "/clock": _BRIDGE["clock_rate"]}
"""[Hz] of simulated time, as config/stack.yaml sets them."""


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    folder = tmp_path_factory.mktemp("recording_stack")
    scene = folder / "person_ahead.yaml"
    scene.write_text(yaml.safe_dump(PERSON_SCENE, sort_keys=False))
    with LaunchedNodes("stack", {"scene": str(scene), "lockstep": "true"}, echo=False) as launched:
        probe = Probe("recording_test_probe")
        from diagnostic_msgs.msg import DiagnosticArray
        from sensor_msgs.msg import JointState

        try:
            probe.record("hardware/status", DiagnosticArray)
            probe.wait_until(lambda: any(float(diagnostic_values(m).get("commands_accepted", "0")) > 0
                                         for m in probe.received("hardware/status")), STARTUP,
                             "the controller's first commands")
            posture = probe.publisher(JointState, "posture/reference")
            probe.wait_until(lambda: posture.get_subscription_count() > 0, STARTUP, "the controller's posture input")
            posture.publish(JointState(name=["neck_pitch"], position=[0.0]))
            yield launched, probe, folder
        finally:
            probe.close()


def legion(*arguments: str, environment: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "legion_bringup.cli", *arguments], capture_output=True, text=True,
                          timeout=RECORD_TIMEOUT, env=os.environ | (environment or {}), check=False)


def read_all(bag: Path):
    from rosbags.highlevel import AnyReader

    with AnyReader([bag]) as reader:
        topics = {c.topic: c.msgtype for c in reader.connections}
        messages = [(c.topic, t, reader.deserialize(raw, c.msgtype)) for c, t, raw in reader.messages()]
    return topics, messages


def test_default_recording_of_the_stack(stack):
    launched, _, folder = stack
    bag = folder / "default"
    done = legion("record", "--purpose", "regression data of the stack test", "-o", str(bag), "--duration",
                  str(SECONDS))
    assert done.returncode == 0, done.stdout + done.stderr
    topics, messages = read_all(bag)
    # No raw camera image, no ground truth; the anonymised debug image and the robot's own topics are in.
    assert not [t for t in topics if t.endswith("image_raw") or t.startswith("/ground_truth")], sorted(topics)
    assert [t for t, kind in topics.items() if kind == "sensor_msgs/msg/Image"] == ["/perception/debug_image"]
    for topic in ("/joint_states", "/imu/data", "/odom", "/clock", "/joint_commands", "/hardware/status",
                  "/diagnostics", "/perception/objects", "/head_camera/color/camera_info", "/perception/debug_image"):
        assert topic in topics, (topic, sorted(topics))
    # Counts: the recorder keeps up with the 500 Hz control topics over the span it recorded them.
    for topic, rate in RATES.items():
        times = [t for name, t, _ in messages if name == topic]
        span = (max(times) - min(times)) * 1e-9
        assert span > 0.6 * SECONDS, (topic, span)
        assert len(times) >= 0.9 * rate * span, (topic, len(times), span)
    stamps = [m.header.stamp.sec + 1e-9 * m.header.stamp.nanosec for name, _, m in messages
              if name == "/joint_states"]
    assert np.all(np.diff(stamps) > 0), "joint_states in the order of their stamps"
    # Metadata: in the MCAP file and in metadata.yaml.
    info = read_info(bag)
    assert info.robot == "centurion" and info.scene.endswith("person_ahead.yaml")
    assert info.purpose == "regression data of the stack test" and info.clock == "simulated"
    assert {"motion", "images_of_people_anonymised", "logs"} <= set(info.personal_data)
    assert "images_of_people_raw" not in info.personal_data and not info.raw_images
    assert (info.end_ns - info.start_ns) * 1e-9 == pytest.approx(SECONDS, abs=0.5)
    meta = yaml.safe_load((bag / "metadata.yaml").read_text())["rosbag2_bagfile_information"]
    assert meta["custom_data"] == info.to_strings()
    assert meta["message_count"] == len(messages)
    assert launched.processes["sim_bridge"].poll() is None, "the stack still runs"


def test_recorded_debug_images_show_no_face_where_the_raw_camera_does(stack, tmp_path):
    _, _, folder = stack
    config = yaml.safe_load(config_path().read_text())  # the data configuration in force, raw images allowed
    config["data"]["allow_raw_images"] = True
    allowing = tmp_path / "data.yaml"
    allowing.write_text(yaml.safe_dump(config))
    bag = folder / "faces"
    done = legion("record", "--purpose", "privacy test: raw against anonymised frames", "--allow-raw-images",
                  "--topics", "perception/debug_image", "head_camera/color/image_raw", "-o", str(bag),
                  "--duration", "2.0", environment={"LEGION_DATA_CONFIG": str(allowing)})
    assert done.returncode == 0, done.stdout + done.stderr
    topics, messages = read_all(bag)
    assert set(topics) == {"/perception/debug_image", "/head_camera/color/image_raw"}
    assert read_info(bag).raw_images and "images_of_people_raw" in read_info(bag).personal_data
    detector = FaceDetector(PeopleConfig())
    frames: dict[str, list[np.ndarray]] = {topic: [] for topic in topics}
    for topic, _, msg in messages:
        assert msg.encoding == "rgb8"
        frames[topic].append(np.asarray(msg.data, np.uint8).reshape(msg.height, msg.step)[:, :msg.width * 3]
                             .reshape(msg.height, msg.width, 3))
    assert len(frames["/head_camera/color/image_raw"]) >= 5 and len(frames["/perception/debug_image"]) >= 2
    raw_faces = [len(detector.boxes(rgb)) for rgb in frames["/head_camera/color/image_raw"]]
    assert sum(n > 0 for n in raw_faces) >= 0.8 * len(raw_faces), f"the raw camera sees the face: {raw_faces}"
    debug_faces = [detector.boxes(rgb) for rgb in frames["/perception/debug_image"]]
    assert all(boxes == [] for boxes in debug_faces), debug_faces

