"""`ros2 launch legion_bringup view.launch.py`: the browser view of an already running robot or stack (legion_viewer).

The node list is shared with `legion view` (legion_bringup/nodes.py); `--show-args` lists the arguments.
"""

from legion_bringup.ros_launch import generate


def generate_launch_description():
    return generate("view")
