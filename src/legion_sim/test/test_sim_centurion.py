"""Centurion in the sorting cell: stands under the default hold, carries its weight on the soles, holds in an e-stop,
can be pushed, and its head camera sees the table where the geometry says it is. Skipped without Centurion's URDF."""

from __future__ import annotations

import math

import numpy as np
import pytest

from legion_description.robot_config import SIDES
from legion_sim.simulation import Simulation


def _tilt_deg(orientation_xyzw: np.ndarray) -> float:
    """Angle between the base's z axis and the world's z axis [deg]."""
    x, y, _, _ = orientation_xyzw
    return math.degrees(math.acos(np.clip(1.0 - 2.0 * (x * x + y * y), -1.0, 1.0)))


def _yaw(orientation_xyzw: np.ndarray) -> float:
    x, y, z, w = orientation_xyzw
    return math.atan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))


def _hold_neck(sim: Simulation, neck_pitch: float, seconds: float, period: float = 0.02) -> None:
    """Act as a controller that commands only the neck pitch, every `period` (inside the watchdog)."""
    name = sim.config.joints("neck")[-1]
    gains = sim.config.gains[name]
    for _ in range(round(seconds / period)):
        accepted, reason = sim.set_command([name], [neck_pitch], [0.0], [0.0], [gains.stiffness], [gains.damping])
        assert accepted, reason
        sim.step(round(period / sim.timestep))


def test_model_has_every_frame_joint_and_sensor(centurion):
    sim = centurion
    model = sim.model
    assert model.nu == len(sim.config.all_joints) == 74
    frames = [n for role, n in sim.config.frames.items() if role != "odom"]
    frames += [getattr(sim.config.sides[s], k) for s in SIDES for k in ("ankle", "sole", "wrist", "gripper")]
    for frame in frames:
        assert model.site(frame).id >= 0
    assert 55.0 < sim.robot_mass < 80.0
    assert all(limit > 0 for limit in sim.effort_limits.values())


def test_stands_still_for_ten_seconds_under_the_default_hold(centurion):
    sim = centurion
    start = sim.ground_truth_base()
    sim.step(round(10.0 / sim.timestep))
    end = sim.ground_truth_base()
    drift = np.linalg.norm(end.position - start.position)
    assert drift < 0.01, (
        f"base drifted {drift:.3f} m in 10 s (tilt {_tilt_deg(end.orientation):.1f} deg): the standing hold with the "
        f"robot config's leg gains does not keep Centurion up")
    assert _tilt_deg(end.orientation) < 2.0
    assert abs(_yaw(end.orientation) - _yaw(start.orientation)) < math.radians(2.0)
    assert sim.status()["protective_stop"] is False


def test_foot_forces_carry_the_robot_weight(centurion):
    sim = centurion
    sim.step(1000)
    wrenches, contacts = sim.foot_wrenches(), sim.contact_wrenches()
    weight = sim.robot_mass * 9.81
    assert sum(w.force[2] for w in wrenches.values()) == pytest.approx(weight, rel=0.01)
    for side in SIDES:
        assert wrenches[side].force[2] == pytest.approx(weight / 2, rel=0.1), "symmetric stance, symmetric load"
        np.testing.assert_allclose(wrenches[side].force, contacts[side].force, atol=0.02 * weight)
        np.testing.assert_allclose(wrenches[side].torque, contacts[side].torque, atol=1.0)
        # the centre of pressure is under the sole
        cop_x = -wrenches[side].torque[1] / wrenches[side].force[2]
        assert abs(cop_x) < sim.config.sole_length / 2


def test_emergency_stop_holds_the_robot_up_and_reset_clears(centurion):
    sim = centurion
    sim.step(200)
    height = sim.ground_truth_base().position[2]
    sim.set_emergency_stop(True)
    latched = sim.joint_state().position
    name = sim.config.joints("arms", "left")[0]
    assert not sim.set_command([name], [1.0], [0.0], [0.0], [100.0], [2.0])[0]
    sim.step(2000)
    assert sim.status()["emergency_stop"]
    assert abs(sim.ground_truth_base().position[2] - height) < 0.03, "does not collapse"
    assert np.max(np.abs(sim.joint_state().position - latched)) < 0.05, "holds the latched joint positions"
    assert sim.reset_emergency_stop()
    assert sim.set_command([name], [0.3], [0.0], [0.0], [100.0], [2.0])[0]


def test_a_push_moves_the_robot_and_a_part(centurion):
    sim = centurion
    sim.step(100)
    base = sim.ground_truth_base().position.copy()
    sim.apply_wrench(sim.config.frames["base"], [0.0, 200.0, 0.0], [0.0, 0.0, 0.0], 0.1)
    sim.step(300)
    assert sim.ground_truth_base().position[1] - base[1] > 0.01
    cube = next(o for o in sim.ground_truth_objects() if o.label == "red_cube")
    sim.apply_wrench(cube.id, [0.0, 0.0, 3.0], [0.0, 0.0, 0.0], 0.1)  # 3 N up on a 0.1 kg cube: lifts it
    sim.step(100)
    moved = next(o for o in sim.ground_truth_objects() if o.id == cube.id)
    assert moved.position[2] - cube.position[2] > 0.01


def test_ground_truth_objects_match_the_scene(centurion):
    sim = centurion
    sim.step(200)
    objects = sim.ground_truth_objects()
    assert [o.id for o in objects] == [p.id for p in sim.scene.parts]
    for obj, part in zip(objects, sim.scene.parts, strict=True):
        assert obj.label == part.label and obj.size == part.bounding_size
        np.testing.assert_allclose(obj.position, part.position, atol=0.003)  # resting where the scene put it


def test_camera_sees_the_table_top_at_the_right_depth(centurion):
    sim = centurion
    _hold_neck(sim, 0.7, 0.6)  # look down at the table
    frame = sim.render_camera()
    k = frame.intrinsics
    assert frame.rgb.shape == (k.height, k.width, 3) and frame.rgb.dtype == np.uint8
    assert frame.depth.shape == (k.height, k.width) and frame.depth.dtype == np.float32
    assert frame.rgb.std() > 10.0, "not a blank image"
    assert np.isfinite(frame.depth).mean() > 0.5
    assert 60.0 <= math.degrees(2 * math.atan(k.height / 2 / k.fy)) <= 70.0

    optical = sim.data.site(sim.config.frames["camera_color_optical"])
    origin, rotation = optical.xpos, optical.xmat.reshape(3, 3)  # optical frame in the world
    (table,) = sim.scene.tables
    parts = np.array([o.position[:2] for o in sim.ground_truth_objects()])
    errors = []
    for v in range(5, k.height - 5, 15):
        for u in range(5, k.width - 5, 15):
            ray = rotation @ np.array([(u - k.cx) / k.fx, (v - k.cy) / k.fy, 1.0])  # z-depth 1 along the pixel
            if ray[2] >= -1e-6:
                continue
            depth = (table.top_height - origin[2]) / ray[2]
            point = origin + depth * ray
            local = point[:2] - np.array(table.position)  # table yaw is 0 in this scene
            inside = abs(local[0]) < table.size[0] / 2 - 0.02 and abs(local[1]) < table.size[1] / 2 - 0.02
            if inside and np.min(np.linalg.norm(parts - point[:2], axis=1)) > 0.08:
                errors.append(frame.depth[v, u] - depth)
    assert len(errors) > 50, "the table top fills part of the image"
    errors = np.abs(np.array(errors))
    # exact up to float32 here; a 1 px error in the principal point would already give ~2 mm
    assert np.median(errors) < 0.002 and np.max(errors) < 0.01, (np.median(errors), np.max(errors))

    # the far edge of the table top projects (with the intrinsics) onto the row where the depth jumps to the floor
    far_edge = np.array([table.position[0] + table.size[0] / 2, table.position[1], table.top_height])
    x, y, z = rotation.T @ (far_edge - origin)
    u, v = k.fx * x / z + k.cx, k.fy * y / z + k.cy
    column = frame.depth[:, round(u)]
    jump_rows = np.flatnonzero(np.abs(np.diff(column[: int(v) + 5])) > 0.1)
    assert jump_rows.size and abs(jump_rows[-1] + 0.5 - v) < 1.5, (jump_rows, v)
