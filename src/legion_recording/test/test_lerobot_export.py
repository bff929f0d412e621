"""Export of recordings to the LeRobot dataset format v3.0: consent required, only anonymised images, the dataset's
tables, info.json, stats and video read back (pyarrow, ffmpeg)."""

import json

import numpy as np
import pytest

from legion_recording.config import load_data_config
from legion_recording.errors import RecordingError
from legion_recording.lerobot import IMAGE_KEY, export
from legion_testing.recordings import write_episode_bag

CONFIG = load_data_config()


@pytest.fixture(scope="module")
def bags(tmp_path_factory):
    folder = tmp_path_factory.mktemp("episodes")
    return [write_episode_bag(folder / "episode_a", 2.0), write_episode_bag(folder / "episode_b", 1.0)]


def test_export_needs_consent_and_anonymised_images(bags, tmp_path):
    with pytest.raises(RecordingError, match="--i-consent"):
        export(bags, tmp_path / "d", task="stand", fps=10, consent=False, config=CONFIG)
    with pytest.raises(RecordingError, match="raw camera topic"):
        export(bags, tmp_path / "d", task="stand", fps=10, consent=True, config=CONFIG,
               image_topic="head_camera/color/image_raw")
    with pytest.raises(RecordingError, match="no messages on /imu/data"):
        export(bags, tmp_path / "d", task="stand", fps=10, consent=True, config=CONFIG, state_topic="imu/data")
    assert not (tmp_path / "d").exists()


def test_export_writes_a_lerobot_v3_dataset(bags, tmp_path):
    import imageio_ffmpeg
    import pyarrow.parquet as pq

    dataset = export(bags, tmp_path / "dataset", task="stand still", fps=10, consent=True, config=CONFIG)
    info = json.loads((dataset / "meta/info.json").read_text())
    assert info["codebase_version"] == "v3.0" and info["robot_type"] == "centurion"
    assert info["total_episodes"] == 2 and info["total_frames"] == 21 + 11
    assert info["features"]["observation.state"]["names"] == ["hip", "knee"]
    assert info["features"][IMAGE_KEY]["shape"] == [24, 32, 3]
    data = pq.read_table(dataset / "data/chunk-000/file-000.parquet").to_pydict()
    assert data["index"] == list(range(32)) and data["episode_index"] == [0] * 21 + [1] * 11
    state = np.array(data["observation.state"])
    assert state[10] == pytest.approx([0.1, -0.2], abs=1e-6)  # 1 s into episode a: 0.1 t, -0.2 t
    action = np.array(data["action"])
    assert action[10] == pytest.approx([0.5, -0.0], abs=1e-6), "commanded first joint, the second holds its start"
    assert data["timestamp"][:3] == pytest.approx([0.0, 0.1, 0.2])
    episodes = pq.read_table(dataset / "meta/episodes/chunk-000/file-000.parquet").to_pylist()
    assert [e["length"] for e in episodes] == [21, 11] and episodes[1]["dataset_from_index"] == 21
    assert episodes[1][f"videos/{IMAGE_KEY}/from_timestamp"] == pytest.approx(2.1)
    tasks = pq.read_table(dataset / "meta/tasks.parquet").to_pydict()
    assert tasks == {"task_index": [0], "task": ["stand still"]}
    stats = json.loads((dataset / "meta/stats.json").read_text())
    assert stats["observation.state"]["max"][0] == pytest.approx(0.2, abs=1e-6)
    reader = imageio_ffmpeg.read_frames(str(dataset / f"videos/{IMAGE_KEY}/chunk-000/file-000.mp4"))
    meta = next(reader)
    frames = [np.frombuffer(f, np.uint8).reshape(24, 32, 3) for f in reader]
    assert meta["size"] == (32, 24) and len(frames) == 32
    # Images every 0.5 s, red 0, 40, 80, ...: at 1.4 s into episode a the one of 1.0 s (red 80) is held.
    assert abs(int(frames[0][..., 0].mean()) - 0) < 10 and abs(int(frames[14][..., 0].mean()) - 80) < 10
    with pytest.raises(RecordingError, match="exists already"):
        export(bags, dataset, task="stand still", fps=10, consent=True, config=CONFIG)
