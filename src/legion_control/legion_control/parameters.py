"""Typed, range-checked parameters of the whole-body controller (legion_common.parameters).

Every tunable has a default, a description, a unit and a range. Nested groups become dotted names, as ROS 2
parameters and `config/stack.yaml` spell them (`com.stiffness`, `contact.friction`, ...):

    params = from_flat(WbcParameters, {"com.stiffness": 80.0})   # the others keep their defaults
    params = declare_parameters(node, WbcParameters)             # in the node

Gains follow task-space inverse dynamics: a task with error e and error rate e_dot asks for the acceleration
`a_ref + stiffness * e + damping * e_dot` [1/s^2, 1/s], weighted by `weight` in the QP cost.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from legion_common.frames import frame_prefix_param
from legion_common.parameters import param
from legion_common.realtime import RealtimeParameters


@dataclass(frozen=True)
class TaskGains:
    """Weight and PD gains of a task."""

    weight: float = param(1.0, "Cost weight of the task.", low=0.0, high=1e6)
    stiffness: float = param(100.0, "Proportional gain.", unit="1/s^2", low=0.0, high=1e4)
    damping: float = param(20.0, "Derivative gain.", unit="1/s", low=0.0, high=1e3)


@dataclass(frozen=True)
class PostureWeights:
    """Per joint group factor on the posture task's weight. The legs' posture is fixed by the soles, the CoM and
    the base orientation, so a strong leg posture task only fights them (e.g. in a squat)."""

    legs: float = param(0.01, "Posture weight factor of the leg joints.", low=0.0, high=1e3)
    waist: float = param(0.5, "Posture weight factor of the waist joints.", low=0.0, high=1e3)
    arms: float = param(0.1, "Posture weight factor of the arm joints.", low=0.0, high=1e3)
    neck: float = param(1.0, "Posture weight factor of the neck joints.", low=0.0, high=1e3)


@dataclass(frozen=True)
class HandTaskParameters:
    """The hand pose tasks (gripper frame pose in odom)."""

    position_weight: float = param(300.0, "Cost weight of the gripper position task.", low=0.0, high=1e6)
    orientation_weight: float = param(10.0, "Cost weight of the gripper orientation task.", low=0.0, high=1e6)
    stiffness: float = param(100.0, "Proportional gain of the hand tasks.", unit="1/s^2", low=0.0, high=1e4)
    damping: float = param(20.0, "Derivative gain of the hand tasks.", unit="1/s", low=0.0, high=1e3)
    max_speed: float = param(1.0, "Speed at which the hand reference moves towards a new target.", unit="m/s",
                             low=0.01, high=5.0)
    max_angular_speed: float = param(1.0, "Angular speed of the hand reference towards a target.", unit="rad/s",
                                     low=0.01, high=20.0)
    target_timeout: float = param(1.0, "A hand target older than this is stale and releases the task.", unit="s",
                                  low=0.01, high=1e6)
    reach_margin: float = param(0.03, "Targets farther from the waist than the waist and arm links' length minus "
                                      "this are unreachable and rejected.", unit="m", low=0.0, high=0.5)
    max_payload: float = param(5.0, "Heaviest mass a hand may be told it holds (`<side>_hand/payload`).", unit="kg",
                               low=0.0, high=100.0)
    free_weight: float = param(100.0, "Cost weight of the task that holds a free gripper (no target) where the "
                                      "standing posture has it relative to the torso while the other hand has a "
                                      "target, so the free arm stays clear of the work (0: off).", low=0.0, high=1e6)


@dataclass(frozen=True)
class AngularMomentumParameters:
    """Centroidal angular momentum damping task: d/dt L = -damping * L."""

    weight: float = param(0.0, "Cost weight of the angular momentum task (0: off; damping angular momentum works "
                               "against the hip strategy that rejects pushes).", low=0.0, high=1e6)
    damping: float = param(10.0, "Rate at which angular momentum about the CoM is damped.", unit="1/s", low=0.0,
                           high=1e3)


@dataclass(frozen=True)
class ContactParameters:
    """Sole contacts: wrench cone and contact constraint."""

    friction: float = param(0.7, "Friction coefficient assumed between sole and ground (the linearised cone is the "
                                 "pyramid inscribed in it).", low=0.05, high=2.0)
    min_normal_force_ratio: float = param(0.024, "Least normal force of a sole in contact, as a fraction of the "
                                                 "robot's weight.", low=0.0, high=0.5)
    cop_margin: float = param(0.01, "The centre of pressure keeps this far inside the sole rectangle.", unit="m",
                              low=0.0, high=0.05)
    stiffness: float = param(100.0, "Proportional gain pulling a stance sole back to where it landed, along the "
                                    "ground and in yaw (slip).", unit="1/s^2", low=0.0, high=1e4)
    damping: float = param(20.0, "Derivative gain on a stance sole's velocity.", unit="1/s", low=0.0, high=1e3)
    force_weight: float = param(1e-4, "Regularisation weight of contact forces towards an even split.",
                                unit="1/N^2", low=0.0, high=1e3)
    torque_weight: float = param(1e-3, "Regularisation weight of contact torques.", unit="1/(N m)^2", low=0.0,
                                 high=1e3)


@dataclass(frozen=True)
class LimitParameters:
    """Hard limits of the QP."""

    torque_scale: float = param(0.95, "Fraction of each joint's effort limit the QP may use.", low=0.1, high=1.0)
    position_margin: float = param(0.03, "Joint positions keep this far inside their limits.", unit="rad", low=0.0,
                                   high=0.5)
    position_horizon: float = param(0.05, "Look-ahead over which a joint must be able to stop before its position "
                                          "limit.", unit="s", low=0.002, high=1.0)
    velocity_scale: float = param(0.9, "Fraction of each joint's velocity limit the QP may reach.", low=0.1,
                                  high=1.0)
    velocity_horizon: float = param(0.02, "Time over which a velocity limit is approached.", unit="s", low=0.002,
                                    high=1.0)
    max_joint_acceleration: float = param(400.0, "Largest joint acceleration the QP may ask for.", unit="rad/s^2",
                                          low=1.0, high=1e5)
    regularization: float = param(1e-5, "Regularisation weight of joint accelerations.", low=1e-9, high=1.0)


@dataclass(frozen=True)
class CommandParameters:
    """The joint command: feed-forward torque plus integrated targets with moderate gains."""

    stiffness_scale: float = param(0.2, "Joint stiffness, as a fraction of the robot's position-hold stiffness.",
                                   low=0.0, high=2.0)
    damping_scale: float = param(0.5, "Joint damping, as a fraction of the robot's position-hold damping.", low=0.0,
                                 high=4.0)
    leak_time: float = param(0.05, "Time constant with which the integrated joint targets are pulled back to the "
                                   "measured state; 0 integrates from the measured state every cycle.", unit="s",
                             low=0.0, high=10.0)
    friction_compensation: float = param(1.0, "Fraction of the model's viscous joint friction added to the "
                                              "feed-forward torque.", low=0.0, high=1.5)


@dataclass(frozen=True)
class FallParameters:
    """Fall detection (`fall_monitor`) and the response: the robot file's protective fall posture (`fall:` block),
    else joint damping only."""

    max_tilt: float = param(0.6, "Base tilt from upright beyond which the robot has fallen.", unit="rad", low=0.05,
                            high=1.5)
    com_margin_ratio: float = param(0.26, "Ground distance of the CoM outside the support polygon beyond which the "
                                          "robot has fallen, as a fraction of the standing CoM height.", low=0.0,
                                    high=1.0)
    min_com_height_ratio: float = param(0.55, "CoM height below this fraction of the standing one means fallen.",
                                        low=0.05, high=1.0)
    capture_point: bool = param(True, "Declare a fall as soon as it is unavoidable: the capture point beyond a "
                                      "step's reach outside the support polygon (see capture_reach_scale).")
    capture_reach_scale: float = param(1.0, "The capture point may be this many times the robot's longest step in "
                                            "its direction (walking dimensions) outside the support polygon before "
                                            "a fall is unavoidable.", low=0.1, high=10.0)
    capture_time: float = param(0.05, "The capture point must stay beyond the reach this long (a short push the "
                                      "gait planner steps out of, or noise in the velocity, does not).", unit="s",
                                low=0.0, high=1.0)
    capture_min_tilt: float = param(0.03, "The capture-point criterion also needs the base tilted this much (the IMU's "
                                           "attitude, not the joint encoders): a robot that truly falls is already "
                                           "tipping, while wrong joint states alone give a wrong CoM velocity and "
                                           "must not fold a standing robot.", unit="rad", low=0.0, high=1.0)
    damping_scale: float = param(1.0, "Joint damping while fallen, as a fraction of the position-hold damping, for a "
                                      "robot whose file gives no fall posture.", low=0.0, high=10.0)
    recovery_time: float = param(0.05, "Standing upright on both soles for this long ends the fall state.", unit="s",
                                 low=0.0, high=60.0)


@dataclass(frozen=True)
class ReferenceParameters:
    """Checks and shaping of the references the controller takes."""

    min_com_height_ratio: float = param(0.6, "Lowest CoM reference, as a fraction of the standing CoM height.",
                                        low=0.1, high=1.0)
    max_com_height_ratio: float = param(1.03, "Highest CoM reference, as a fraction of the standing CoM height.",
                                        low=1.0, high=1.5)
    max_com_distance_ratio: float = param(0.37, "Largest ground distance of a CoM reference from the stance soles' "
                                                "midpoint (farther is unreachable), as a fraction of the standing CoM "
                                                "height.", low=0.01, high=2.0)
    max_com_offset_ratio: float = param(0.126, "Largest horizontal balance offset of the CoM, as a fraction of the "
                                               "standing CoM height.", low=0.0, high=1.0)
    max_com_lowering_ratio: float = param(0.26, "Largest downward balance offset of the CoM, as a fraction of the "
                                                "standing CoM height.", low=0.0, high=1.0)
    max_com_raising_ratio: float = param(0.03, "Largest upward balance offset of the CoM, as a fraction of the "
                                               "standing CoM height.", low=0.0, high=0.5)
    max_com_offset_speed: float = param(0.3, "The applied balance offset moves to a new one at most this fast (a step, "
                                             "or a stream of jumping offsets, cannot jolt the robot); a larger "
                                             "feed-forward velocity is refused.", unit="m/s", low=0.001, high=10.0)
    max_com_offset_acceleration: float = param(3.0, "A balance offset with a larger feed-forward acceleration is "
                                                    "refused.", unit="m/s^2", low=0.0, high=100.0)
    offset_timeout: float = param(0.2, "A balance offset's velocity and acceleration feed-forward are dropped when "
                                       "it is older than this (the offset itself is held).", unit="s", low=0.0,
                                  high=1e6)
    transition_time: float = param(0.5, "Blend time when the CoM reference source changes.", unit="s", low=0.0,
                                   high=10.0)
    max_sole_distance_ratio: float = param(0.63, "A swing-foot reference farther than this from the stance sole is "
                                                 "unreachable, as a fraction of the standing CoM height.", low=0.05,
                                           high=2.0)


@dataclass(frozen=True)
class OdomBlendParameters:
    """How odometry corrects the kinematic base estimate between odometry messages (see `base_estimator`)."""

    blend_time: float = param(0.02, "Time constant with which a low-rate odometry's correction of the kinematic "
                                    "base estimate is blended in; 0 applies it at once.", unit="s", low=0.0, high=1.0)


@dataclass(frozen=True)
class GraspParameters:
    """The joint-space grasp controller. The hand postures are the robot file's synergies (`hands.<side>`)."""

    speed: float = param(2.0, "Largest speed of a hand joint target.", unit="rad/s", low=0.01, high=100.0)
    stiffness_scale: float = param(3.0, "Hand joint stiffness, as a fraction of the robot's hand gains (the grip "
                                        "force: stiffness x the fingers' position error on the part).", low=0.0,
                                   high=10.0)
    damping_scale: float = param(1.0, "Hand joint damping, as a fraction of the robot's hand gains.", low=0.0,
                                 high=10.0)


@dataclass(frozen=True)
class WbcParameters:
    """Every tunable of the whole-body controller core (see `config/stack.yaml`, `whole_body_controller`)."""

    control_rate: float = param(500.0, "Nominal control rate: the period used on the first cycle and to bound the "
                                       "measured period.", unit="Hz", low=10.0, high=5000.0)
    com: TaskGains = field(default_factory=lambda: TaskGains(1000.0, 50.0, 14.0))
    base_orientation: TaskGains = field(default_factory=lambda: TaskGains(10.0, 150.0, 25.0))
    swing_foot: TaskGains = field(default_factory=lambda: TaskGains(1000.0, 400.0, 40.0))
    posture: TaskGains = field(default_factory=lambda: TaskGains(1.0, 40.0, 12.0))
    posture_weights: PostureWeights = field(default_factory=PostureWeights)
    hand: HandTaskParameters = field(default_factory=HandTaskParameters)
    angular_momentum: AngularMomentumParameters = field(default_factory=AngularMomentumParameters)
    contact: ContactParameters = field(default_factory=ContactParameters)
    limits: LimitParameters = field(default_factory=LimitParameters)
    command: CommandParameters = field(default_factory=CommandParameters)
    fall: FallParameters = field(default_factory=FallParameters)
    references: ReferenceParameters = field(default_factory=ReferenceParameters)
    estimator: OdomBlendParameters = field(default_factory=OdomBlendParameters)
    grasp: GraspParameters = field(default_factory=GraspParameters)


@dataclass(frozen=True)
class WbcNodeParameters:
    """The node's own parameters (next to those of `WbcParameters`)."""

    robot: str = param("centurion", "Robot name (config/robots/<robot>.yaml, urdf/<robot>.urdf.xacro).")
    frame_prefix: str = frame_prefix_param()
    solver: str = param("daqp", "QP solver: daqp (default), proxsuite, or any qpsolvers name that is installed.")
    diagnostics_rate: float = param(2.0, "Rate of `diagnostics`.", unit="Hz", low=0.1, high=50.0)
    realtime: RealtimeParameters = field(default_factory=RealtimeParameters)
    """SCHED_FIFO priority, CPUs and locked memory of the control path's process (docs/realtime.md); off by
    default. In the composed process (`composed:=true`) it covers the state estimator too."""
