"""Resource URIs of a description: package:// through the ament index or the search path, file://, and the errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from legion_description.package_uris import (
    PACKAGE_PATH_VARIABLE,
    package_directory,
    package_search_path,
    resolve_mesh_uris,
    resolve_uri,
)
from legion_description.robot_files import DescriptionError


@pytest.fixture
def no_search_path(monkeypatch):
    monkeypatch.delenv(PACKAGE_PATH_VARIABLE, raising=False)
    monkeypatch.delenv("ROS_PACKAGE_PATH", raising=False)


def _mesh(folder: Path, name: str = "box.stl") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(b"\0" * 84)
    return path


def test_package_found_through_the_ament_index(tmp_path, monkeypatch, no_search_path):
    pytest.importorskip("ament_index_python")
    prefix = tmp_path / "prefix"
    marker = prefix / "share" / "ament_index" / "resource_index" / "packages" / "fake_meshes"
    marker.parent.mkdir(parents=True)
    marker.write_text("")
    mesh = _mesh(prefix / "share" / "fake_meshes" / "meshes")
    monkeypatch.setenv("AMENT_PREFIX_PATH", f"{prefix}{os.pathsep}{os.environ.get('AMENT_PREFIX_PATH', '')}")
    assert package_directory("fake_meshes") == prefix / "share" / "fake_meshes"
    assert resolve_uri("package://fake_meshes/meshes/box.stl") == str(mesh.resolve())


def test_package_found_on_the_search_path(tmp_path, monkeypatch, no_search_path):
    first, second = tmp_path / "a", tmp_path / "b"
    mesh = _mesh(second / "legion_fake_meshes" / "meshes")
    (first / "other").mkdir(parents=True)
    monkeypatch.setenv(PACKAGE_PATH_VARIABLE, f"{first}{os.pathsep}{second}")
    assert package_search_path() == [first, second]
    assert resolve_uri("package://legion_fake_meshes/meshes/box.stl") == str(mesh.resolve())
    # an entry may be the package directory itself, and ROS_PACKAGE_PATH is searched too
    monkeypatch.delenv(PACKAGE_PATH_VARIABLE)
    monkeypatch.setenv("ROS_PACKAGE_PATH", str(second / "legion_fake_meshes"))
    assert package_directory("legion_fake_meshes") == second / "legion_fake_meshes"


def test_file_uris_and_plain_paths(tmp_path):
    mesh = _mesh(tmp_path / "with space")
    assert resolve_uri(mesh.as_uri()) == str(mesh)
    assert resolve_uri(f"file://{mesh}") == str(mesh)
    assert resolve_uri("meshes/relative.stl") == "meshes/relative.stl"
    assert resolve_uri(str(mesh)) == str(mesh)


def test_unresolvable_uris_name_the_uri_and_the_package(tmp_path, monkeypatch, no_search_path):
    monkeypatch.setenv(PACKAGE_PATH_VARIABLE, str(tmp_path))
    with pytest.raises(
        DescriptionError,
        match=r"'package://legion_no_such_pkg/m\.stl'.*package 'legion_no_such_pkg'"
        r".*LEGION_PACKAGE_PATH",
    ):
        resolve_uri("package://legion_no_such_pkg/m.stl")
    (tmp_path / "legion_fake_meshes").mkdir()
    with pytest.raises(DescriptionError, match=r"'package://legion_fake_meshes/gone\.stl'.*does not exist"):
        resolve_uri("package://legion_fake_meshes/gone.stl")
    with pytest.raises(DescriptionError, match="names no file"):
        resolve_uri("package://legion_fake_meshes")
    with pytest.raises(DescriptionError, match="scheme 'http'"):
        resolve_uri("http://example.com/m.stl")
    with pytest.raises(DescriptionError, match="remote host"):
        resolve_uri("file://server/m.stl")
    with pytest.raises(DescriptionError, match="does not exist"):
        resolve_uri(f"file://{tmp_path}/gone.stl")


def test_resolve_mesh_uris_rewrites_only_mesh_filenames(tmp_path, monkeypatch, no_search_path):
    mesh = _mesh(tmp_path / "legion_fake_meshes" / "meshes")
    monkeypatch.setenv(PACKAGE_PATH_VARIABLE, str(tmp_path))
    urdf = (
        '<robot name="r"><link name="a"><visual><geometry>\n'
        "<mesh scale=\"1 1 1\"\n filename='package://legion_fake_meshes/meshes/box.stl'/></geometry></visual>"
        '<collision><geometry><mesh filename="package://legion_fake_meshes/meshes/box.stl"/></geometry>'
        '</collision></link><!-- filename="package://not/a/mesh" --></robot>'
    )
    resolved = resolve_mesh_uris(urdf)
    assert resolved.count(f"filename='{mesh.resolve()}'") == 1
    assert resolved.count(f'filename="{mesh.resolve()}"') == 1
    assert 'scale="1 1 1"' in resolved and 'filename="package://not/a/mesh"' in resolved
    assert resolve_mesh_uris('<robot name="r"><link name="a"/></robot>') == '<robot name="r"><link name="a"/></robot>'
