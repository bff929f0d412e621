"""`ros2 launch legion_bringup sim.launch.py`: the simulated Centurion in MuJoCo (the hardware interface only).

The node list is shared with `legion launch sim` (legion_bringup/nodes.py); `--show-args` lists the arguments.
"""

from legion_bringup.ros_launch import generate


def generate_launch_description():
    return generate("sim")
