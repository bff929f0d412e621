"""legion_recording: ROS 2 MCAP recording, playback and data retention for Legion robots."""
