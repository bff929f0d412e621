"""Pick and place with a Legion humanoid's hands.

Plain modules (no rclpy): `paths` (minimum-jerk gripper paths), `reach` (inverse kinematics of an arm on the robot's
Pinocchio model, standing poses), `verify` (grasp checks from the hand's joints), `grasps` (grasp choice from a
perceived part), `tasks` (the pick and place sequences as state machines). `manipulation_node` serves the `pick` and
`place` actions over ROS 2.
"""
