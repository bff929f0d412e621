"""`ros2 launch legion_bringup stack.launch.py`: the simulated robot in MuJoCo plus the Legion robot software stack.

The node list is shared with `legion launch stack` (legion_bringup/nodes.py); `--show-args` lists the arguments.
"""

from legion_bringup.ros_launch import generate


def generate_launch_description():
    return generate("stack")
