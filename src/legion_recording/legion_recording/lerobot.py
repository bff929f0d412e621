"""Export of recorded episodes to the LeRobot dataset format v3.0 (Parquet + MP4 + meta/info.json), for training
robot-learning policies. Each bag is one episode, resampled at `fps` (zero-order hold of the newest message):

- `observation.state`: joint positions from `joint_states` [rad] (float32, the first message's joint order);
- `action`: the commanded joint positions from `joint_commands` [rad] (joints not yet commanded hold the measured
  position at the episode's start);
- `observation.images.head`: the anonymised head camera image (`perception/debug_image`), as H.264 MP4;
- `timestamp` [s from the episode's start], `frame_index`, `episode_index`, `index`, `task_index`.

Exporting copies recorded data, which may contain personal data, into files meant to leave the robot: it needs the
operator's explicit consent (`consent=True`, `--i-consent` on the command line), and it only takes images from
topics the data configuration lists as anonymised, and no recording that holds raw camera images.

Layout: `meta/info.json`, `meta/stats.json`, `meta/tasks.parquet`, `meta/episodes/chunk-000/file-000.parquet`,
`data/chunk-000/file-000.parquet`, `videos/observation.images.head/chunk-000/file-000.mp4` (all episodes in one file
each, as v3.0 packs them; the episodes table gives each one's rows and video time span).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from legion_recording.bag import read_info, read_messages
from legion_recording.config import DataConfig
from legion_recording.errors import RecordingError
from legion_recording.selection import is_raw_image

CODEBASE_VERSION = "v3.0"
IMAGE_KEY = "observation.images.head"
CHUNKS_SIZE = 1000


@dataclass(frozen=True)
class Episode:
    """One resampled episode."""

    state: np.ndarray
    """(n, joints) float32 [rad]"""
    action: np.ndarray
    """(n, joints) float32 [rad]"""
    frames: list[np.ndarray]
    """n images (h, w, 3) uint8 RGB."""
    joint_names: list[str]


def _image_array(msg) -> np.ndarray:
    if msg.encoding != "rgb8":
        raise RecordingError(f"image encoding {msg.encoding!r}: only rgb8 is exported")
    rows = np.frombuffer(bytes(msg.data), np.uint8).reshape(msg.height, msg.step)
    return rows[:, :msg.width * 3].reshape(msg.height, msg.width, 3).copy()


def read_episode(bag: Path, fps: float, image_topic: str, state_topic: str, action_topic: str) -> Episode:
    """Resample one bag at `fps` from the first time every stream has a message to the last message."""
    from rclpy.serialization import deserialize_message
    from sensor_msgs.msg import Image, JointState

    from legion_interfaces.msg import JointCommand

    kinds = {"/" + state_topic.lstrip("/"): JointState, "/" + action_topic.lstrip("/"): JointCommand,
             "/" + image_topic.lstrip("/"): Image}
    streams: dict[str, list[tuple[int, object]]] = {topic: [] for topic in kinds}
    for message in read_messages(bag, list(kinds)):
        streams[message.topic].append((message.log_time_ns, deserialize_message(message.data, kinds[message.topic])))
    empty = [topic for topic, items in streams.items() if not items]
    if empty:
        raise RecordingError(f"{bag}: no messages on {', '.join(empty)}; an episode needs all of "
                             f"{', '.join(kinds)}")
    state_topic, action_topic, image_topic = list(kinds)
    start = max(items[0][0] for items in streams.values())
    end = max(items[-1][0] for items in streams.values())
    times = np.arange(start, end + 1, round(1e9 / fps), dtype=np.int64)
    names = list(streams[state_topic][0][1].name)
    index = {name: i for i, name in enumerate(names)}

    def hold(topic: str) -> list:
        stamps = np.array([t for t, _ in streams[topic]])
        return [streams[topic][int(i)][1] for i in np.searchsorted(stamps, times, side="right") - 1]

    states = hold(state_topic)
    state = np.array([[float(m.position[index[n]]) for n in names] for m in states], np.float32)
    commanded = state[0].astype(np.float64).copy()
    commands = streams[action_topic]
    action = np.empty_like(state)
    k = 0
    for row, t in enumerate(times):
        while k < len(commands) and commands[k][0] <= t:
            for name, position in zip(commands[k][1].name, commands[k][1].position, strict=False):
                if name in index:
                    commanded[index[name]] = position
            k += 1
        action[row] = commanded
    frames = [_image_array(m) for m in hold(image_topic)]
    return Episode(state, action, frames, names)


def _stats(values: np.ndarray) -> dict:
    values = np.asarray(values, np.float64).reshape(len(values), -1)
    return {"min": values.min(0).tolist(), "max": values.max(0).tolist(), "mean": values.mean(0).tolist(),
            "std": values.std(0).tolist(), "count": [len(values)]}


def export(bags: Sequence[Path], output: Path, *, task: str, fps: float, consent: bool, config: DataConfig,
           image_topic: str = "perception/debug_image", state_topic: str = "joint_states",
           action_topic: str = "joint_commands") -> Path:
    """Write the LeRobot v3.0 dataset of `bags` (one episode each) into `output` (a new folder); the folder."""
    if not consent:
        raise RecordingError("exporting copies recorded data, which may contain personal data, out of the robot's "
                             "retention: give --i-consent to confirm the people recorded agreed to this use")
    if not bags:
        raise RecordingError("no recording to export")
    if fps <= 0 or fps > 1000:
        raise RecordingError(f"fps must be in (0, 1000], got {fps}")
    if not task.strip():
        raise RecordingError("say what the episodes show: --task \"...\"")
    if is_raw_image(image_topic, ["sensor_msgs/msg/Image"], config):
        raise RecordingError(f"{image_topic} is a raw camera topic: only anonymised images are exported")
    output = Path(output)
    if output.exists():
        raise RecordingError(f"{output} exists already; an export never overwrites one")
    infos = [read_info(bag) for bag in bags]
    for bag, info in zip(bags, infos, strict=True):
        if info is not None and info.raw_images:
            raise RecordingError(f"{bag} holds raw camera images: it is not exported")
    episodes = [read_episode(Path(bag), fps, image_topic, state_topic, action_topic) for bag in bags]
    names = episodes[0].joint_names
    if any(e.joint_names != names for e in episodes):
        raise RecordingError("the episodes' joint_states name different joints")
    shape = episodes[0].frames[0].shape
    if any(f.shape != shape for e in episodes for f in e.frames):
        raise RecordingError("the episodes' images differ in size")

    import imageio_ffmpeg
    import pyarrow as pa
    import pyarrow.parquet as pq

    for folder in ("meta/episodes/chunk-000", "data/chunk-000", f"videos/{IMAGE_KEY}/chunk-000"):
        (output / folder).mkdir(parents=True)
    rows: dict[str, list] = {k: [] for k in ("observation.state", "action", "timestamp", "frame_index",
                                             "episode_index", "index", "task_index")}
    episode_rows = []
    video = imageio_ffmpeg.write_frames(str(output / f"videos/{IMAGE_KEY}/chunk-000/file-000.mp4"),
                                        (shape[1], shape[0]), pix_fmt_in="rgb24", pix_fmt_out="yuv420p", fps=fps,
                                        codec="libx264", macro_block_size=1)
    video.send(None)
    total, video_time = 0, 0.0
    for number, episode in enumerate(episodes):
        n = len(episode.state)
        rows["observation.state"].extend(episode.state.tolist())
        rows["action"].extend(episode.action.tolist())
        rows["timestamp"].extend((np.arange(n) / fps).astype(np.float32).tolist())
        rows["frame_index"].extend(range(n))
        rows["episode_index"].extend([number] * n)
        rows["index"].extend(range(total, total + n))
        rows["task_index"].extend([0] * n)
        for frame in episode.frames:
            video.send(np.ascontiguousarray(frame))
        episode_rows.append({
            "episode_index": number, "tasks": [task], "length": n,
            "data/chunk_index": 0, "data/file_index": 0, "dataset_from_index": total, "dataset_to_index": total + n,
            f"videos/{IMAGE_KEY}/chunk_index": 0, f"videos/{IMAGE_KEY}/file_index": 0,
            f"videos/{IMAGE_KEY}/from_timestamp": video_time, f"videos/{IMAGE_KEY}/to_timestamp": video_time + n / fps,
            "meta/episodes/chunk_index": 0, "meta/episodes/file_index": 0,
        })
        total += n
        video_time += n / fps
    video.close()
    joints = len(names)
    table = pa.table({
        "observation.state": pa.array(rows["observation.state"], pa.list_(pa.float32(), joints)),
        "action": pa.array(rows["action"], pa.list_(pa.float32(), joints)),
        "timestamp": pa.array(rows["timestamp"], pa.float32()),
        **{k: pa.array(rows[k], pa.int64()) for k in ("frame_index", "episode_index", "index", "task_index")},
    })
    pq.write_table(table, output / "data/chunk-000/file-000.parquet")
    pq.write_table(pa.Table.from_pylist(episode_rows), output / "meta/episodes/chunk-000/file-000.parquet")
    pq.write_table(pa.table({"task_index": pa.array([0], pa.int64()), "task": [task]}), output / "meta/tasks.parquet")
    scalar = {"dtype": "int64", "shape": [1], "names": None}
    info = {
        "codebase_version": CODEBASE_VERSION, "robot_type": (infos[0].robot if infos[0] else "unknown"),
        "total_episodes": len(episodes), "total_frames": total, "total_tasks": 1, "chunks_size": CHUNKS_SIZE,
        "data_files_size_in_mb": 100, "video_files_size_in_mb": 500, "fps": fps,
        "splits": {"train": f"0:{len(episodes)}"},
        "data_path": "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet",
        "video_path": "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4",
        "features": {
            "observation.state": {"dtype": "float32", "shape": [joints], "names": names},
            "action": {"dtype": "float32", "shape": [joints], "names": names},
            IMAGE_KEY: {"dtype": "video", "shape": list(shape), "names": ["height", "width", "channels"],
                        "info": {"video.height": shape[0], "video.width": shape[1], "video.codec": "h264",
                                 "video.pix_fmt": "yuv420p", "video.is_depth_map": False, "video.fps": fps,
                                 "video.channels": 3, "has_audio": False}},
            "timestamp": {"dtype": "float32", "shape": [1], "names": None},
            "frame_index": scalar, "episode_index": scalar, "index": scalar, "task_index": scalar,
        },
        "legion": {"source_recordings": [str(b) for b in bags], "image_topic": image_topic,
                   "personal_data": sorted({k for i in infos if i for k in i.personal_data}),
                   "purposes": sorted({i.purpose for i in infos if i})},
    }
    (output / "meta/info.json").write_text(json.dumps(info, indent=2) + "\n")
    stats = {"observation.state": _stats(np.concatenate([e.state for e in episodes])),
             "action": _stats(np.concatenate([e.action for e in episodes]))}
    (output / "meta/stats.json").write_text(json.dumps(stats, indent=2) + "\n")
    return output
