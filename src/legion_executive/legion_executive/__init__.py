"""The task executive of a Legion humanoid: a sorting shift as a py_trees behaviour tree.

Plain modules (no rclpy): `cell` (the cell file: stations, tables, bins, keep-out areas, policy), `clients` (the
robot as the behaviours see it: perception, walking, pick and place, posture, robot state, clock), `shift` (the
shift's shared record), `behaviours` (the tree's leaves), `tree` (the tree and `SortingExecutive`, which ticks it),
`cell_map` (the cell as an occupancy grid), `mock` (a mock robot and cell for tests). `executive_node` serves the
`run_job` action over ROS 2.
"""
