"""legion_recording's core without a ROS graph: topic selection and privacy rules, the data configuration, recording
metadata, message definitions, bag writing (read back with the mcap reader and with rosbags), retention with fake file
times, and playback timing."""

import os
import time
from pathlib import Path

import pytest
import yaml

from legion_recording.bag import BagMessage, BagWriter, read_info, read_messages, read_offered_qos, read_topics
from legion_recording.config import DataConfig, load_data_config, parse_data_config
from legion_recording.conversions import qos_to_dict, subscription_policies
from legion_recording.errors import RecordingError
from legion_recording.metadata import RecordingInfo
from legion_recording.msgdefs import DELIMITER, field_types, message_definition
from legion_recording.playback import due_wall_time, with_clock
from legion_recording.recording import Recording, RecordingSettings
from legion_recording.retention import SECONDS_PER_DAY, expired, list_recordings, prune
from legion_recording.selection import Request, decide, matches, personal_data_kinds, refusals, select
from legion_testing.recordings import info, write_bag

CONFIG = load_data_config()  # the shipped config/data.yaml
GRAPH = {
    "/clock": ["rosgraph_msgs/msg/Clock"],
    "/joint_states": ["sensor_msgs/msg/JointState"],
    "/odom": ["nav_msgs/msg/Odometry"],
    "/head_camera/color/image_raw": ["sensor_msgs/msg/Image"],
    "/head_camera/depth/image_raw": ["sensor_msgs/msg/Image"],
    "/head_camera/color/camera_info": ["sensor_msgs/msg/CameraInfo"],
    "/perception/debug_image": ["sensor_msgs/msg/Image"],
    "/some/other_camera": ["sensor_msgs/msg/Image"],
    "/ground_truth/odom": ["nav_msgs/msg/Odometry"],
    "/ground_truth/objects": ["legion_interfaces/msg/DetectedObjectArray"],
    "/walk_to/_action/feedback": ["legion_interfaces/action/WalkTo_FeedbackMessage"],
    "/perception/people": ["geometry_msgs/msg/PoseArray"],
    "/cmd_vel": ["geometry_msgs/msg/Twist"],
}
ALLOWING = DataConfig(**{**CONFIG.__dict__, "allow_raw_images": True})


def test_the_shipped_configuration_keeps_30_days_and_refuses_raw_images():
    assert CONFIG.retention_days == 30 and CONFIG.allow_raw_images is False
    assert dict(CONFIG.personal_data)["images_of_people_anonymised"] == ("perception/debug_image",)


def test_default_set_is_everything_but_raw_images_ground_truth_and_hidden_topics():
    chosen, skipped = select(GRAPH, Request(), CONFIG)
    assert set(chosen) == {"/clock", "/joint_states", "/odom", "/head_camera/color/camera_info",
                           "/perception/debug_image", "/perception/people", "/cmd_vel"}
    assert chosen["/perception/debug_image"] == "sensor_msgs/msg/Image"
    # An Image topic not listed as anonymised counts as raw, whatever its name.
    assert "allow_raw_images: false" in skipped["/some/other_camera"].reason
    assert "excluded" in skipped["/ground_truth/odom"].reason
    assert not skipped["/ground_truth/odom"].refused  # the default set just leaves it out, no complaint
    assert skipped["/walk_to/_action/feedback"].reason == "hidden topic"


def test_all_takes_ground_truth_but_raw_images_only_when_asked_and_allowed():
    chosen, skipped = select(GRAPH, Request(record_all=True), CONFIG)
    assert "/ground_truth/odom" in chosen and "/head_camera/color/image_raw" not in chosen
    assert skipped["/head_camera/color/image_raw"].refused
    chosen, skipped = select(GRAPH, Request(record_all=True, allow_raw_images=True), CONFIG)
    assert "/head_camera/color/image_raw" not in chosen, "the configuration does not allow them"
    chosen, skipped = select(GRAPH, Request(record_all=True), ALLOWING)
    assert "/head_camera/color/image_raw" not in chosen, "allowed, but this recording did not ask"
    assert "--allow-raw-images" in skipped["/head_camera/color/image_raw"].reason
    chosen, _ = select(GRAPH, Request(record_all=True, allow_raw_images=True), ALLOWING)
    assert {"/head_camera/color/image_raw", "/head_camera/depth/image_raw", "/some/other_camera"} <= set(chosen)


def test_named_topics_only_and_a_named_raw_camera_is_refused_with_a_clear_message():
    chosen, _ = select(GRAPH, Request(topics=("joint_states", "/ground_truth/odom")), CONFIG)
    assert set(chosen) == {"/joint_states", "/ground_truth/odom"}
    (message,) = refusals(Request(topics=("head_camera/color/image_raw", "odom")), CONFIG)
    assert message.startswith("head_camera/color/image_raw: refused") and "allow_raw_images" in message
    assert refusals(Request(topics=("head_camera/color/image_raw",), allow_raw_images=True), ALLOWING) == []
    assert refusals(Request(topics=("perception/debug_image",)), CONFIG) == []


def test_patterns_match_under_a_namespace():
    assert matches("/robot_1/ground_truth/odom", ["ground_truth/*"])
    assert matches("/robot_1/head_camera/color/image_raw", ["*/image_raw"])
    assert not matches("/odom", ["ground_truth/*"])
    decision = decide("/robot_1/ground_truth/odom", ["nav_msgs/msg/Odometry"], Request(), CONFIG)
    assert not decision.record


def test_personal_data_kinds_follow_the_topics():
    assert personal_data_kinds(["/joint_states", "/perception/debug_image"], CONFIG) == [
        "images_of_people_anonymised", "motion"]
    assert "teleoperation" in personal_data_kinds(["/cmd_vel"], CONFIG)
    assert personal_data_kinds(["/clock"], CONFIG) == []


@pytest.mark.parametrize("block, field", [
    ({"retention_days": 0}, "retention_days"), ({"retention_days": "30"}, "retention_days"),
    ({"allow_raw_images": "yes"}, "allow_raw_images"), ({"excluded_topics": "ground_truth/*"}, "excluded_topics"),
    ({"directory": ""}, "directory"), ({"retension_days": 3}, "unknown"), ({"personal_data": ["motion"]}, "personal"),
])
def test_a_bad_data_configuration_names_the_field(block, field):
    with pytest.raises(RecordingError, match=field):
        parse_data_config({"data": block})


def test_bad_configuration_file_is_a_clear_error(tmp_path):
    path = tmp_path / "data.yaml"
    path.write_text("data: [unclosed")
    with pytest.raises(RecordingError, match="not valid YAML"):
        load_data_config(path)
    with pytest.raises(RecordingError, match="cannot read"):
        load_data_config(tmp_path / "missing.yaml")


def test_recordings_dir_is_overridden_by_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("LEGION_DATA_DIR", str(tmp_path))
    assert CONFIG.recordings_dir() == tmp_path
    monkeypatch.delenv("LEGION_DATA_DIR")
    assert CONFIG.recordings_dir() == Path("~/legion_data/recordings").expanduser()


def test_recording_info_round_trips_through_strings_and_needs_a_purpose():
    original = info()
    strings = original.to_strings()
    assert all(isinstance(v, str) for v in strings.values())
    assert RecordingInfo.from_strings(strings) == original
    with pytest.raises(RecordingError, match="purpose"):
        info(purpose="  ")
    with pytest.raises(RecordingError, match="missing field robot"):
        RecordingInfo.from_strings({k: v for k, v in strings.items() if k != "robot"})


def test_message_definitions_are_complete_and_hashed():
    image = message_definition("sensor_msgs/msg/Image")
    assert image.type_hash.startswith("RIHS01_")
    assert image.text.startswith("# This message contains an uncompressed image")
    assert f"{DELIMITER}\nMSG: std_msgs/msg/Header\n" in image.text
    assert f"{DELIMITER}\nMSG: builtin_interfaces/msg/Time\n" in image.text
    objects = message_definition("legion_interfaces/msg/DetectedObjectArray")
    assert "MSG: legion_interfaces/msg/DetectedObject\n" in objects.text
    assert "MSG: geometry_msgs/msg/Pose\n" in objects.text
    with pytest.raises(RecordingError, match="no message definition"):
        message_definition("no_such_msgs/msg/Thing")
    assert field_types("Header header\nfloat64[3] x\nPose[] poses # c\nint32 A=1\nstring<=5 s", "geometry_msgs") == [
        "std_msgs/msg/Header", "geometry_msgs/msg/Pose"]


def test_rclpy_reads_what_rosbags_serialised(tmp_path):
    from rclpy.serialization import deserialize_message
    from sensor_msgs.msg import JointState

    bag = write_bag(tmp_path / "bag", 2)
    (first, second) = [deserialize_message(m.data, JointState) for m in read_messages(bag, ["joint_states"])]
    assert second.position.tolist() == pytest.approx([0.1, -0.2]) and list(first.name) == ["a", "b"]


def test_a_bag_is_a_rosbag2_folder_that_mcap_and_rosbags_read(tmp_path):
    from rosbags.highlevel import AnyReader

    bag = write_bag(tmp_path / "bag_a")
    meta = yaml.safe_load((bag / "metadata.yaml").read_text())["rosbag2_bagfile_information"]
    assert meta["version"] == 9 and meta["storage_identifier"] == "mcap" and meta["message_count"] == 6
    assert meta["relative_file_paths"] == ["bag_a_0.mcap"]
    assert meta["starting_time"]["nanoseconds_since_epoch"] == 1_000_000_000
    assert meta["duration"]["nanoseconds"] == 4_000_000_000
    counts = {t["topic_metadata"]["name"]: t["message_count"] for t in meta["topics_with_message_count"]}
    assert counts == {"/joint_states": 5, "/perception/objects": 1}
    assert meta["custom_data"]["purpose"] == "test"
    stored = read_info(bag)
    assert stored.start_ns == 1_000_000_000 and stored.end_ns == 5_000_000_000
    assert stored.topics == ("/joint_states", "/perception/objects")
    assert read_topics(bag) == {"/joint_states": "sensor_msgs/msg/JointState",
                                "/perception/objects": "legion_interfaces/msg/DetectedObjectArray"}
    assert read_offered_qos(bag)["/joint_states"][0]["reliability"] == "reliable"
    assert [m.log_time_ns for m in read_messages(bag)] == [1e9, 2e9, 2.5e9, 3e9, 4e9, 5e9]
    with AnyReader([bag]) as reader:  # rosbags: its own CDR decoder, types from the bag's schemas
        decoded = [(c.topic, reader.deserialize(raw, c.msgtype)) for c, _, raw in reader.messages()]
    positions = [m.position.tolist() for topic, m in decoded if topic == "/joint_states"]
    assert positions[3] == pytest.approx([0.3, -0.2])
    (objects,) = [m for topic, m in decoded if topic == "/perception/objects"]
    assert objects.objects[0].label == "red_cube"


def test_a_bag_never_overwrites_and_bad_files_are_clear_errors(tmp_path):
    bag = write_bag(tmp_path / "bag_b")
    assert bag.stat().st_mode & 0o777 == 0o700, "only the recording user may read it"
    assert all(f.stat().st_mode & 0o077 == 0 for f in bag.iterdir())
    with pytest.raises(RecordingError, match="exists already"):
        BagWriter(bag)
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "junk.mcap").write_bytes(b"not an mcap file")
    with pytest.raises(RecordingError):
        read_topics(tmp_path / "junk")
    with pytest.raises(RecordingError, match="not a bag"):
        read_topics(tmp_path / "nothing_here")


def test_the_recording_core_subscribes_once_and_writes_what_it_receives(tmp_path):
    from rclpy.serialization import serialize_message
    from sensor_msgs.msg import JointState

    settings = RecordingSettings(tmp_path / "rec", "centurion", "sorting_cell", "core test")
    recording = Recording(settings, CONFIG)
    new = recording.update_graph(GRAPH, {"/joint_states": []})
    assert ("/joint_states", "sensor_msgs/msg/JointState") in new
    assert "/head_camera/color/image_raw" not in recording.topics
    assert recording.update_graph(GRAPH, {}) == []  # nothing twice
    for i in range(3):
        recording.receive("/joint_states", (i + 1) * 10**9, serialize_message(JointState(name=["a"])))
    assert recording.flush() == 3
    result = recording.close(end_ns=4 * 10**9)
    assert result.personal_data == ("images_of_people_anonymised", "motion", "positions_of_people", "teleoperation")
    assert not result.raw_images
    assert read_info(tmp_path / "rec").scene == "sorting_cell"
    with pytest.raises(RecordingError, match="purpose"):
        Recording(RecordingSettings(tmp_path / "rec2", "r", "s", ""), CONFIG)


def test_retention_prunes_only_recordings_older_than_the_period(tmp_path):
    now = time.time()
    for name, age_days in (("old", 45.0), ("recent", 3.0), ("edge", 29.9)):
        bag = write_bag(tmp_path / name, count=1)
        for f in bag.iterdir():
            os.utime(f, (now - age_days * SECONDS_PER_DAY, now - age_days * SECONDS_PER_DAY))
    (tmp_path / "notes.txt").write_text("not a recording")
    (tmp_path / "other_folder").mkdir()
    listed = list_recordings(tmp_path)
    assert [r.path.name for r in listed] == ["old", "edge", "recent"]
    assert listed[0].info.purpose == "test"
    assert [r.path.name for r in expired(listed, 30, now)] == ["old"]
    assert [r.path.name for r in prune(tmp_path, 30, now, dry_run=True)] == ["old"]
    assert (tmp_path / "old").exists()
    assert [r.path.name for r in prune(tmp_path, 30, now)] == ["old"]
    assert not (tmp_path / "old").exists() and (tmp_path / "edge").exists() and (tmp_path / "notes.txt").exists()
    assert [r.path.name for r in prune(tmp_path, 1, now + 0)] == ["edge", "recent"]
    with pytest.raises(RecordingError):
        expired([], 0, now)
    assert list_recordings(tmp_path / "missing") == []


def test_playback_interleaves_clock_ticks_and_skips_the_recorded_clock():
    messages = [BagMessage("/clock", "rosgraph_msgs/msg/Clock", 0, b""),
                BagMessage("/a", "t", 100, b"1"), BagMessage("/a", "t", 130, b"2"), BagMessage("/b", "t", 250, b"3")]
    events = [(e.time_ns, e.message.data if e.message else None) for e in with_clock(messages, 100)]
    assert events == [(100, None), (100, b"1"), (130, b"2"), (200, None), (250, b"3")]
    assert due_wall_time(3_000_000_000, 1_000_000_000, 10.0, 2.0) == pytest.approx(11.0)
    with pytest.raises(RecordingError):
        due_wall_time(0, 0, 0.0, 0.0)
    with pytest.raises(RecordingError):
        list(with_clock(messages, 0))


def test_qos_conversion_and_the_recorders_subscription_policies():
    from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy

    latched = qos_to_dict(QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                                     durability=DurabilityPolicy.TRANSIENT_LOCAL))
    assert latched["reliability"] == "reliable" and latched["durability"] == "transient_local"
    assert latched["history"] == "keep_last" and latched["depth"] == 1
    assert set(latched["deadline"]) == {"sec", "nsec"}
    sensor = qos_to_dict(QoSProfile(depth=5, reliability=ReliabilityPolicy.BEST_EFFORT))
    assert subscription_policies([latched]) == ("reliable", "transient_local")
    assert subscription_policies([latched, sensor]) == ("best_effort", "volatile")
    assert subscription_policies([]) == ("reliable", "volatile")
