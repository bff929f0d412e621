"""A held mass and the balance: Centurion stands, then walks 10 s at 0.3 m/s, with a mass hanging from its right
gripper (its weight applied at the gripper frame by the simulator), the hand held in front at a carry pose relative to
base_footprint; with the whole-body controller told the payload (`set_payload`, as `<side>_hand/payload` does) and
without. In-process closed loop of the gait planner, controller and simulator cores, lockstep, estimated state (leg
odometry over the robot's sensors).

    python bench/bench_payload.py tell 1.0      # told: the arm's torques and the balance carry the weight
    python bench/bench_payload.py no 1.0        # not told: the hand's servo stiffness alone holds it

Prints: fall, distance walked, how far the hand sagged below its target standing and at most while walking.
"""
import sys

import numpy as np
import pinocchio as pin

from legion_common.transforms import matrix_to_quaternion
from legion_control import HandTarget
from legion_testing.walking_loop import WalkingLoop

tell = sys.argv[1] == "tell"
mass = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
w = WalkingLoop(scene="empty", odometry="leg")
ctl, sim = w.loop.controller, w.loop.sim
w.run(1.0)
grip = ctl.robot.config.sides["right"].gripper
fp = ctl._footprint()
g = ctl.data.oMf[ctl._gripper_ids["right"]]
local = fp.actInv(pin.SE3(g.rotation, g.translation + np.array([0.25, 0.05, 0.15])))
q = matrix_to_quaternion(local.rotation)
def hold(loop):
    ctl.set_hand_target("right", HandTarget(sim.time, local.translation, q, in_base_footprint=True))
hold(w)
w.run(1.5, on_tick=hold)
if tell:
    ctl.set_payload("right", mass)
sim.apply_wrench(grip, (0.0, 0.0, -9.81 * mass), (0.0, 0.0, 0.0), 60.0)
heights = []
def tick(loop):
    hold(loop)
    heights.append(ctl.robot.frame_position(grip)[2])
ok = w.run(3.0, on_tick=tick)
stand_sag = fp.act(local.translation)[2] - np.mean(heights[-10:])
start = w.base_pose().copy()
w.command(0.3, 0.0, 0.0)
ok = w.run(10.0, on_tick=tick) and ok
w.stop_command()
ok = w.run(3.0, on_tick=tick) and ok
end = w.base_pose()
walked = np.linalg.norm(end[:2] - start[:2])
walking_sag = fp.act(local.translation)[2] - min(heights)
print(f"payload told: {tell}, {mass} kg: fell {w.fallen()}, walked {walked:.2f} m, hand sag standing "
      f"{stand_sag * 100:.1f} cm, walking max {walking_sag * 100:.1f} cm")
