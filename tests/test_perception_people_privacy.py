"""People from faces and depth, and face anonymisation of every image that leaves the node."""

import math

import cv2
import numpy as np
import pytest

from legion_perception.config import PeopleConfig, PrivacyConfig
from legion_perception.people import FaceDetector, Person
from legion_perception.pipeline import Frame, PerceptionCore, PerceptionResult
from legion_perception.privacy import anonymise_faces, detail, grow_box
from legion_sim.errors import SimError
from legion_sim.model_builder import face_texture
from legion_sim.scene import parse_scene
from legion_testing.rendered_scene import Viewpoint, capture, look, make_sim

DETAIL_DROP = 10.0
"""Anonymising a face must divide the high-frequency detail (variance of the Laplacian) of its region by this."""


def person_scene(distance: float, height: float = 1.75, lateral: float = 0.0) -> dict:
    """An empty cell with one person `distance` m in front of the robot's start, facing it."""
    return {"name": f"person_{distance:.1f}", "people": [
        {"id": "worker", "position": [distance, lateral], "yaw": math.pi, "height": height,
         "shirt_colour": "safety_yellow"}]}


def face_centre(person: dict) -> np.ndarray:
    """True centre of a scene person's face plate in the world (model_builder: plate 0.103 m ahead, 0.27 m tall)."""
    x, y = person["position"]
    yaw = person["yaw"]
    return np.array([x + 0.103 * math.cos(yaw), y + 0.103 * math.sin(yaw), person["height"] - 0.135])


def frame_of(sim, view: Viewpoint, stamp: float = 0.0) -> Frame:
    look(sim, view)
    cap = capture(sim)
    return Frame(cap.rgb, cap.depth, cap.camera, cap.camera_to_odom, np.array([view.x, view.y]), stamp)


def test_the_procedural_face_is_a_face_to_the_cascade_and_noise_is_not():
    detector = FaceDetector(PeopleConfig())
    rng = np.random.default_rng(0)
    background = cv2.GaussianBlur(rng.integers(0, 256, (240, 320, 3), dtype=np.uint8), (5, 5), 0)
    assert detector.boxes(background) == []
    for size in (32, 64, 128):
        image = background.copy()
        image[60:60 + size, 100:100 + size] = cv2.resize(face_texture(), (size, size), interpolation=cv2.INTER_AREA)
        (box,) = detector.boxes(image)
        assert abs(box[0] + box[2] / 2 - (100 + size / 2)) < size / 4


@pytest.mark.parametrize("distance", [1.0, 2.0, 3.0])
def test_a_person_is_found_and_placed_at_1_to_3_m(tmp_path, distance):
    scene = person_scene(distance)
    sim = make_sim(scene, tmp_path)
    core = PerceptionCore()
    result = core.process(frame_of(sim, Viewpoint(neck_pitch=0.0)))
    sim.close()
    (face,) = result.faces
    assert face.position is not None
    assert np.linalg.norm(face.position - face_centre(scene["people"][0])) < 0.08 + 0.02 * distance
    (person,) = result.people
    assert 0.15 <= person.face_width <= 0.35


def test_no_person_in_the_sorting_cell_when_looking_at_the_table(tmp_path):
    sim = make_sim("sorting_cell")
    result = PerceptionCore().process(frame_of(sim, Viewpoint(neck_pitch=0.8)))
    sim.close()
    assert result.faces == [] and result.people == []


def test_debug_image_has_the_face_anonymised_and_the_raw_frame_is_untouched(tmp_path):
    sim = make_sim(person_scene(1.5), tmp_path)
    core = PerceptionCore()
    frame = frame_of(sim, Viewpoint(neck_pitch=0.0))
    sim.close()
    raw = frame.rgb.copy()
    result = core.process(frame)
    (face,) = result.faces
    for scale in (1.0, 0.5):
        # The face's detail is gone from the image the debug view draws on (its overlay frames and labels, drawn
        # where the person's depth puts them, are not face detail), and no face is left in the debug image.
        anonymised = core.anonymised_image(frame, result, scale)
        image = core.debug_image(frame, result, scale)
        box = tuple(round(q * scale) for q in face.box)
        before = detail(cv2.resize(frame.rgb, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_AREA), box)
        after = detail(anonymised, box)
        assert after * DETAIL_DROP < before, (scale, before, after)
        assert FaceDetector(PeopleConfig()).boxes(image) == [], "no face left for the detector to find"
    np.testing.assert_array_equal(frame.rgb, raw)


def test_anonymising_removes_detail_only_inside_the_grown_box():
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)
    box = (50, 30, 40, 40)
    out = anonymise_faces(image, [box], PrivacyConfig(face_margin=0.25))
    grown = grow_box(box, 0.25, 160, 120)
    assert grown == (40, 20, 60, 60)
    assert detail(out, grown) * 50 < detail(image, grown)
    outside = np.ones(image.shape[:2], bool)
    outside[20:80, 40:100] = False
    np.testing.assert_array_equal(out[outside], image[outside])
    assert anonymise_faces(image, [(150, 110, 40, 40)], PrivacyConfig()).shape == image.shape  # clipped at the border


def test_a_held_person_is_anonymised_where_the_face_should_be_even_if_not_detected(tmp_path):
    sim = make_sim(person_scene(2.0), tmp_path)
    core = PerceptionCore()
    frame = frame_of(sim, Viewpoint(neck_pitch=0.0))
    sim.close()
    seen = core.process(frame)
    (face,) = seen.faces
    # The same scene, with the face itself hidden from the detector (e.g. turned away): the person
    # held by the tracker still gets the region where the face projects anonymised.
    hidden = frame.rgb.copy()
    u, v, w, h = face.box
    hidden[v:v + h, u:u + w] = hidden[v:v + h, u:u + w].reshape(-1, 3).mean(axis=0).astype(np.uint8)
    later = Frame(hidden, frame.depth, frame.camera, frame.camera_to_odom, frame.robot_xy, 0.5)
    result = core.process(later, people=False)
    assert result.people and not result.faces
    boxes = core.privacy_boxes(later, result)
    assert len(boxes) == 1
    bu, bv, bw, bh = boxes[0]
    assert bu <= u + w / 2 <= bu + bw and bv <= v + h / 2 <= bv + bh
    # and once the hold time has passed without a sighting, the person is forgotten
    gone = core.process(Frame(hidden, frame.depth, frame.camera, frame.camera_to_odom, frame.robot_xy, 10.0))
    assert gone.people == []
    assert core.privacy_boxes(later, PerceptionResult(10.0, [], [], people=[Person(1, np.zeros(3), 0.2, 0)])) == []


def test_scene_people_are_validated():
    scene = parse_scene(person_scene(2.0))
    (person,) = scene.people
    assert person.height == 1.75 and person.shirt_colour[3] == 1.0
    assert parse_scene({"name": "default", "people": [{"id": "p", "position": [1, 2]}]}).people[0].height == 1.75
    for bad, fragment in [({"id": "p", "position": [1, 2], "height": 3.0}, "height"),
                          ({"id": "p", "position": [1, 2], "hat": "red"}, "unknown key"),
                          ({"position": [1, 2]}, "id"),
                          ({"id": "p", "position": [1, 2], "shirt_colour": "plaid"}, "unknown colour")]:
        with pytest.raises(SimError, match=fragment):
            parse_scene({"name": "bad", "people": [bad]})
    with pytest.raises(SimError, match="duplicates"):
        parse_scene({"name": "bad", "people": [{"id": "p", "position": [1, 2]}],
                     "obstacles": [{"name": "p", "shape": "box", "size": [1, 1, 1], "position": [3, 3]}]})
