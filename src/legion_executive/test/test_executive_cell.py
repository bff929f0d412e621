"""Cell files: the sorting cell loads; every kind of error names the file and the key path; files are found by
name on LEGION_CELL_PATH and in the installed config/cells."""

from __future__ import annotations

import copy
import math
from pathlib import Path

import pytest
import yaml

from legion_executive.cell import CELL_PATH_VARIABLE, CellError, load_cell, parse_cell

SOURCE = Path(__file__).resolve().parents[3] / "config" / "cells" / "sorting_cell.yaml"
BASE = yaml.safe_load(SOURCE.read_text())


def broken(edit) -> str:
    """The CellError message of the sorting cell after `edit(data)`."""
    data = copy.deepcopy(BASE)
    edit(data)
    with pytest.raises(CellError) as error:
        parse_cell(data, "sorting_cell.yaml")
    return str(error.value)


def test_the_sorting_cell_loads_by_name_with_its_values() -> None:
    cell = load_cell("sorting_cell")
    assert cell.name == "sorting_cell"
    assert [s.name for s in cell.stations] == ["table", "red_drop", "green_drop", "blue_drop", "yellow_drop"]
    assert cell.station("table").faces == ("work_table",)  # a name
    assert cell.station("red_drop").faces == ("red_bin",)
    assert cell.station("red_drop").pose == pytest.approx((0.35, 1.21, -1.5708))
    assert cell.station("red_drop").look == "inspect_bin"
    assert cell.bin_for("blue_cylinder").name == "blue_bin" and cell.bin_for("orange_cube") is None
    assert [s.name for s in cell.work_stations] == ["table"]
    assert cell.keep_out[0].shape == "circle" and cell.keep_out[1].size == (0.60, 0.40)
    assert cell.policy.max_attempts == 3 and cell.policy.other_hand is True
    assert cell.policy.protective_zone == 1.5 and cell.policy.walk_attempts == 2  # a default
    assert cell.table_at(0.6, 0.2) is not None and cell.table_at(0.35, 0.72) is None  # on the table, in a bin


def test_a_cell_file_is_found_on_the_cell_path_and_by_path(tmp_path, monkeypatch) -> None:
    data = copy.deepcopy(BASE)
    data["name"] = "my_cell"
    (tmp_path / "my_cell.yaml").write_text(yaml.safe_dump(data))
    monkeypatch.setenv(CELL_PATH_VARIABLE, str(tmp_path))
    assert load_cell("my_cell").name == "my_cell"
    assert load_cell(str(tmp_path / "my_cell.yaml")).name == "my_cell"
    with pytest.raises(CellError, match=r"no cell file for cell 'nowhere'.*LEGION_CELL_PATH"):
        load_cell("nowhere")
    with pytest.raises(CellError, match="does not exist"):
        load_cell(str(tmp_path / "missing.yaml"))


def test_a_file_that_is_not_yaml_is_reported(tmp_path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("tables: [\n")
    with pytest.raises(CellError, match=r"bad\.yaml: cannot read"):
        load_cell(str(path))
    path.write_text("")
    with pytest.raises(CellError, match=r"bad\.yaml: the file is empty"):
        load_cell(str(path))


@pytest.mark.parametrize(("edit", "expected"), [
    (lambda d: d["bins"][0].pop("accepts"), "sorting_cell.yaml: bins[0].accepts: missing"),
    (lambda d: d.pop("stations"), "sorting_cell.yaml: stations: missing"),
    (lambda d: d["tables"][0].update(height="high"), "tables[0].height: must be a number, got 'high'"),
    (lambda d: d["stations"][0].update(pose=[0.0, 0.0]), "stations[0].pose: must be a list of 3 numbers"),
    (lambda d: d["bins"][1].update(position=[0.7, math.nan]), "bins[1].position[1]: must be finite"),
    (lambda d: d["tables"][0].update(size=[0.5, -1.0]), "tables[0].size[1]: must be positive"),
    (lambda d: d["bins"][2].update(station="x"), "sorting_cell.yaml: bins[2].station: unknown station 'x'"),
    (lambda d: d["stations"][1].update(faces=["red_bin", "nothing"]),
     "stations[1].faces[1]: unknown table or bin 'nothing'"),
    (lambda d: d["bins"][1].update(accepts=["green_cube", "red_cube"]),
     "bins[1].accepts[1]: class 'red_cube' is already accepted by bin 'red_bin'"),
    (lambda d: d["bins"][1].update(name="red_bin"), "bins[1].name: duplicate table, bin or keep-out name 'red_bin'"),
    (lambda d: d["stations"][2].update(name="table"), "stations[2].name: duplicate station name 'table'"),
    (lambda d: d["stations"][0].update(pose=[0.6, 0.1, 0.0]),
     "stations[0].pose: station 'table' stands inside 'work_table'"),
    (lambda d: d["stations"][0].update(pose=[1.6, 1.25, 0.0]),
     "stations[0].pose: station 'table' stands inside 'pillar'"),
    (lambda d: d["policy"].update(speed=2.0), "policy.speed: unknown key"),
    (lambda d: d["policy"].update(max_attempts=0), "policy.max_attempts: must be at least 1"),
    (lambda d: d["policy"].update(other_hand="yes"), "policy.other_hand: must be true or false"),
    (lambda d: d["policy"].update(order="random"), "policy.order: must be one of closest_first"),
    (lambda d: d["policy"].update(bin_tolerance=-0.1), "policy.bin_tolerance: must be at least 0"),
    (lambda d: d.update(extra=1), "sorting_cell.yaml: extra: unknown key"),
    (lambda d: d["keep_out"][0].update(shape="triangle"), "keep_out[0].shape: must be circle or box"),
    (lambda d: d["keep_out"][0].pop("radius"), "keep_out[0].radius: missing"),
    (lambda d: d["stations"][0].update(faces="red_bin"), "stations: no station faces a table"),
    (lambda d: d.update(bins={"red_bin": {}}), "bins: must be a list"),
])
def test_every_error_names_the_file_and_the_key(edit, expected) -> None:
    assert expected in broken(edit)
