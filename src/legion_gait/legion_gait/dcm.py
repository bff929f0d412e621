"""The walking pattern generator: divergent-component-of-motion (DCM) planning over a continuous, piecewise-linear ZMP.

Model: the linear inverted pendulum (LIPM, Kajita 2001) at constant CoM height h above the floor, omega = sqrt(g / h):

    com_acc = omega^2 (com - zmp)                         (horizontal, [m/s^2])

Split into the divergent component of motion xi = com + com_vel / omega (the capture point, Englsberger et al.,
"Three-dimensional bipedal walking control based on divergent component of motion", IEEE T-RO 2015) and the CoM:

    d/dt xi  =  omega (xi - zmp)          unstable: integrated backward from the end of the plan
    d/dt com = -omega (com - xi)          stable: integrated forward from the current CoM

Why this generator rather than ZMP preview control (Kajita 2003): with the ZMP reference piecewise linear in time
(constant on the stance sole's heel-to-toe line in single support, sliding from one sole to the next in double
support, so that it is continuous and the CoM acceleration has no jumps), both equations have an exact closed form per
segment. A replan therefore costs a few exponentials per knot instead of a preview gain over a 1-2 s horizon; the plan
is exactly LIPM-consistent (no preview truncation or tracking error in the reference itself); the ZMP is inside the
support polygon by construction; it ends at rest (xi = zmp at the last knot, the robot standing); and the DCM at the
current time is a *linear* function of the ZMP knots (`dcm_weights`), which gives the capture-point feedback its exact
answer: how far the current ZMP or the next footstep must move to absorb a measured DCM error.

Closed form on a segment k from t_k to t_{k+1} (duration T, slope s = (p_{k+1} - p_k) / T, tau = t - t_k):

    zmp(t) = p_k + s tau
    xi(t)  = zmp(t) + s / omega + c_k exp(omega (tau - T)),      c_k = xi_{k+1} - p_{k+1} - s / omega
    com(t) = zmp(t) + c_k / 2 exp(omega (tau - T)) + E_k exp(-omega tau),   E_k = com_k - p_k - c_k / 2 exp(-omega T)

and after the last knot zmp = xi = p_K while the CoM converges to it as exp(-omega (t - t_K)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from legion_gait.errors import GaitError

MIN_SEGMENT = 1e-4
"""[s] shortest ZMP segment; knots closer than this are invalid."""


def dcm_weights(times: np.ndarray, omega: float) -> np.ndarray:
    """Weights w (K+1,) of the ZMP knots in the DCM at the first knot: xi(t_0) = sum_k w_k p_k, sum_k w_k = 1.

    Args:
        times: knot times [s], strictly increasing.  # (K+1,)
        omega: LIPM natural frequency [1/s].
    """
    n = len(times)
    weights = np.zeros(n)
    weights[-1] = 1.0  # xi at the last knot is the last ZMP (at rest)
    for k in range(n - 2, -1, -1):
        T = times[k + 1] - times[k]
        decay = math.exp(-omega * T)
        ramp = 1.0 / (omega * T)
        # xi_k = p_k (1 - ramp + decay ramp) + p_{k+1} (ramp - decay - decay ramp) + decay xi_{k+1}
        weights = decay * weights
        weights[k] += 1.0 - ramp + decay * ramp
        weights[k + 1] += ramp - decay - decay * ramp
    return weights


@dataclass(frozen=True)
class LipmSamples:
    """CoM, DCM and ZMP of the plan at some times (horizontal components)."""

    com: np.ndarray
    """[m]  # (m, 2)"""
    com_velocity: np.ndarray
    """[m/s]  # (m, 2)"""
    com_acceleration: np.ndarray
    """[m/s^2]  # (m, 2)"""
    dcm: np.ndarray
    """[m]  # (m, 2)"""
    zmp: np.ndarray
    """[m]  # (m, 2)"""


class DcmTrajectory:
    """CoM and DCM of the LIPM driven by a piecewise-linear ZMP (see the module docstring).

    Args:
        times: ZMP knot times [s], strictly increasing; the plan starts at times[0] and stands still after times[-1].
            # (K+1,)
        zmp: ZMP knots in odom xy [m].  # (K+1, 2)
        omega: natural frequency [1/s].
        com_start: CoM xy at times[0] [m]; its velocity follows from the DCM there.  # (2,)

    Raises:
        GaitError: fewer than one knot, times not strictly increasing, or non-finite values.
    """

    def __init__(self, times: np.ndarray, zmp: np.ndarray, omega: float, com_start: np.ndarray) -> None:
        times = np.asarray(times, dtype=float)
        zmp = np.asarray(zmp, dtype=float)
        com_start = np.asarray(com_start, dtype=float)
        if times.ndim != 1 or len(times) < 1 or zmp.shape != (len(times), 2) or com_start.shape != (2,):
            raise GaitError(f"ZMP knots need (K+1,) times and (K+1, 2) points, got {times.shape} and {zmp.shape}")
        if np.any(np.diff(times) < MIN_SEGMENT):
            raise GaitError("ZMP knot times must increase strictly")
        if not (np.all(np.isfinite(times)) and np.all(np.isfinite(zmp)) and np.all(np.isfinite(com_start))
                and math.isfinite(omega) and omega > 0.0):
            raise GaitError("ZMP knots, CoM and omega must be finite")
        self.times, self.zmp, self.omega = times, zmp, float(omega)
        n = len(times)
        durations = np.diff(times)  # (K,)
        slopes = np.diff(zmp, axis=0) / durations[:, None] if n > 1 else np.zeros((0, 2))  # (K, 2)
        dcm = np.zeros_like(zmp)
        dcm[-1] = zmp[-1]
        c = np.zeros((n - 1, 2))
        for k in range(n - 2, -1, -1):
            c[k] = dcm[k + 1] - zmp[k + 1] - slopes[k] / omega
            dcm[k] = zmp[k] + slopes[k] / omega + math.exp(-omega * durations[k]) * c[k]
        com = np.zeros_like(zmp)
        com[0] = com_start
        e = np.zeros((n - 1, 2))
        for k in range(n - 1):
            decay = math.exp(-omega * durations[k])
            e[k] = com[k] - zmp[k] - 0.5 * c[k] * decay
            com[k + 1] = zmp[k + 1] + 0.5 * c[k] + e[k] * decay
        self.durations, self.slopes, self.knot_dcm, self.knot_com = durations, slopes, dcm, com
        self._c, self._e = c, e

    @property
    def start_time(self) -> float:
        return float(self.times[0])

    @property
    def end_time(self) -> float:
        """[s] time of the last knot: from then on the ZMP and DCM stand still."""
        return float(self.times[-1])

    def evaluate(self, times: np.ndarray) -> LipmSamples:
        """CoM, DCM and ZMP at `times` [s]; before the first knot the first segment is extrapolated."""
        t = np.asarray(times, dtype=float)
        omega = self.omega
        m = len(t)
        com, vel, acc = np.zeros((m, 2)), np.zeros((m, 2)), np.zeros((m, 2))
        dcm, zmp = np.zeros((m, 2)), np.zeros((m, 2))
        last = t >= self.times[-1] if len(self.durations) else np.ones(m, dtype=bool)
        if np.any(last):  # standing still at the last ZMP, the CoM converging to it
            tau = np.maximum(t[last] - self.times[-1], 0.0)[:, None]
            offset = (self.knot_com[-1] - self.zmp[-1]) * np.exp(-omega * tau)
            com[last] = self.zmp[-1] + offset
            vel[last] = -omega * offset
            acc[last] = omega * omega * offset
            dcm[last] = self.zmp[-1]
            zmp[last] = self.zmp[-1]
        inside = ~last
        if np.any(inside):
            k = np.clip(np.searchsorted(self.times, t[inside], side="right") - 1, 0, len(self.durations) - 1)
            tau = (t[inside] - self.times[k])[:, None]
            T = self.durations[k][:, None]
            slope = self.slopes[k]
            growth = np.exp(omega * (tau - T))
            decay = np.exp(-omega * tau)
            p = self.zmp[k] + slope * tau
            c, e = self._c[k], self._e[k]
            zmp[inside] = p
            dcm[inside] = p + slope / omega + c * growth
            com[inside] = p + 0.5 * c * growth + e * decay
            vel[inside] = slope + 0.5 * omega * c * growth - omega * e * decay
            acc[inside] = omega * omega * (0.5 * c * growth + e * decay)
        return LipmSamples(com, vel, acc, dcm, zmp)
