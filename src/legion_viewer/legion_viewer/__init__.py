"""A live browser view of a Legion humanoid and its cell, served by viser on localhost.

Plain modules (no rclpy): `errors` (ViewerError), `kinematics` (the robot description's link frames from joint
positions), `conversions` (messages -> plain data), `scene` (`SceneState`: the newest of everything shown;
`ViserScene`: draws a SceneState with viser). `viewer_node` is the thin ROS 2 node `viewer`.
"""
