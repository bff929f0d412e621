"""Speed and separation monitoring (ISO/TS 15066) and the e-stop chain of a Legion humanoid."""
