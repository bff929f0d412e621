"""A gait plan: footsteps with their swing trajectories and the CoM/DCM/ZMP trajectory, evaluated into samples."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from legion_common.transforms import wrap_angle
from legion_gait.dcm import DcmTrajectory
from legion_gait.footsteps import Footstep
from legion_gait.swing import SwingTrajectory


@dataclass(frozen=True)
class SoleSamples:
    """One sole's reference at the sample times."""

    in_contact: np.ndarray
    """True: the sole stands (from this sample to the next); False: it swings.  # (m,)"""
    pose: np.ndarray
    """Sole (x [m], y [m], yaw [rad]) in odom.  # (m, 3)"""
    height: np.ndarray
    """Sole z [m] in odom.  # (m,)"""
    velocity: np.ndarray
    """Linear then angular velocity of the sole origin, odom axes [m/s, rad/s].  # (m, 6)"""
    acceleration: np.ndarray
    """Linear then angular acceleration, odom axes [m/s^2, rad/s^2].  # (m, 6)"""


@dataclass(frozen=True)
class GaitSamples:
    """The gait reference at sample times (what `gait/reference` carries)."""

    time: np.ndarray
    """[s] strictly increasing.  # (m,)"""
    com_position: np.ndarray
    """[m] odom.  # (m, 3)"""
    com_velocity: np.ndarray
    """[m/s]  # (m, 3)"""
    com_acceleration: np.ndarray
    """[m/s^2]  # (m, 3)"""
    dcm: np.ndarray
    """Divergent component of motion (x, y) with the CoM height as z [m].  # (m, 3)"""
    zmp: np.ndarray
    """ZMP on the floor [m].  # (m, 3)"""
    base_yaw: np.ndarray
    """[rad] heading of a level base: the mean of the sole headings.  # (m,)"""
    base_yaw_rate: np.ndarray
    """[rad/s]  # (m,)"""
    soles: dict[str, SoleSamples]
    """side -> that sole's reference."""

    def __len__(self) -> int:
        return len(self.time)


@dataclass(frozen=True)
class HeightProfile:
    """CoM height above the floor: a quintic from `start_height` at `start_time` to `end_height` at `end_time`,
    constant outside."""

    start_time: float
    """[s]"""
    start_height: float
    """[m]"""
    end_time: float
    """[s]"""
    end_height: float
    """[m]"""

    def evaluate(self, times: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Height [m], its rate [m/s] and acceleration [m/s^2] at `times` [s].  # each (m,)"""
        duration = max(self.end_time - self.start_time, 1e-9)
        s = np.clip((np.asarray(times, dtype=float) - self.start_time) / duration, 0.0, 1.0)
        change = self.end_height - self.start_height
        height = self.start_height + change * (10 * s**3 - 15 * s**4 + 6 * s**5)
        rate = change * (30 * s**2 - 60 * s**3 + 30 * s**4) / duration
        acceleration = change * (60 * s - 180 * s**2 + 120 * s**3) / duration**2
        return height, rate, acceleration


@dataclass(frozen=True)
class GaitPlan:
    """Everything planned from `start_time` on; it ends standing on both feet at `end_time`."""

    start_time: float
    """[s]"""
    floor_height: float
    """[m] z of the floor (flat)."""
    soles_at_start: dict[str, np.ndarray]
    """side -> sole (x, y, yaw) in odom before its first footstep of the plan (for a swinging sole, where it lifted
    off).  # (3,)"""
    footsteps: tuple[Footstep, ...]
    """In time order; the first may be in flight at `start_time`."""
    swings: tuple[SwingTrajectory, ...]
    """One per footstep."""
    lipm: DcmTrajectory
    height: HeightProfile

    @property
    def end_time(self) -> float:
        """[s] from then on the robot stands still."""
        return self.lipm.end_time

    def in_flight(self, time: float) -> int | None:
        """Index of the footstep swinging at `time`, or None."""
        for i, step in enumerate(self.footsteps):
            if step.lift_off <= time < step.touch_down:
                return i
        return None

    def soles_at(self, time: float) -> dict[str, np.ndarray]:
        """Planned sole poses (x, y, yaw) at `time` (the last landing at or before it, else the start pose)."""
        soles = {side: pose.copy() for side, pose in self.soles_at_start.items()}
        for step in self.footsteps:
            if step.touch_down <= time:
                soles[step.side] = step.pose.copy()
        return soles

    def sample(self, times: np.ndarray) -> GaitSamples:
        """The reference at `times` [s] (see GaitSamples)."""
        t = np.asarray(times, dtype=float)
        m = len(t)
        lipm = self.lipm.evaluate(t)
        z, zd, zdd = self.height.evaluate(t)
        floor = np.full(m, self.floor_height)
        com = np.column_stack([lipm.com, floor + z])
        soles: dict[str, SoleSamples] = {}
        for side, start in self.soles_at_start.items():
            in_contact = np.ones(m, dtype=bool)
            pose = np.tile(start, (m, 1))
            height = floor.copy()
            velocity, acceleration = np.zeros((m, 6)), np.zeros((m, 6))
            for step, swing in zip(self.footsteps, self.swings, strict=True):
                if step.side != side:
                    continue
                flying = (t >= step.lift_off) & (t < step.touch_down)
                if np.any(flying):
                    state = swing.evaluate(t[flying])
                    in_contact[flying] = False
                    pose[flying] = state.pose
                    height[flying] = state.height[:, 0]
                    velocity[flying] = np.column_stack([state.velocity[:, :2], state.height[:, 1],
                                                        np.zeros((len(state.pose), 2)), state.velocity[:, 2]])
                    acceleration[flying] = np.column_stack([state.acceleration[:, :2], state.height[:, 2],
                                                            np.zeros((len(state.pose), 2)), state.acceleration[:, 2]])
                landed = t >= step.touch_down
                pose[landed] = step.pose
                height[landed] = step.height
            pose[:, 2] = (pose[:, 2] + np.pi) % (2.0 * np.pi) - np.pi
            soles[side] = SoleSamples(in_contact, pose, height, velocity, acceleration)
        first, second = (soles[side] for side in self.soles_at_start)
        turn = (second.pose[:, 2] - first.pose[:, 2] + np.pi) % (2.0 * np.pi) - np.pi
        base_yaw = np.array([wrap_angle(a + 0.5 * d) for a, d in zip(first.pose[:, 2], turn, strict=True)])
        base_yaw_rate = 0.5 * (first.velocity[:, 5] + second.velocity[:, 5])
        return GaitSamples(
            time=t, com_position=com, com_velocity=np.column_stack([lipm.com_velocity, zd]),
            com_acceleration=np.column_stack([lipm.com_acceleration, zdd]),
            dcm=np.column_stack([lipm.dcm, floor + z]), zmp=np.column_stack([lipm.zmp, floor]),
            base_yaw=base_yaw, base_yaw_rate=base_yaw_rate, soles=soles)
