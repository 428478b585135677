"""Deciding the dependency source, the installer, and what the reuse key hashes (pure code)."""

import datetime

import pytest

from runtime import errors, pyproject, python_version
from runtime.appinfo import dependency_source
from runtime.installers import requirements, tools


def make(tmp_path, *names, **contents):
    for name in names:
        (tmp_path / name).write_text("")
    for name, text in contents.items():
        (tmp_path / name.replace("__", ".")).write_text(text)
    return str(tmp_path)


@pytest.mark.parametrize(
    "files, kind, listed",
    [
        (["requirements.txt"], "requirements", ("requirements.txt",)),
        (["requirements.txt", "requirements.in"], "requirements", ("requirements.txt",)),
        (["requirements.in"], "requirements-in", ("requirements.in",)),
        (["uv.lock", "pyproject.toml"], "uv", ("uv.lock", "pyproject.toml")),
        (["poetry.lock", "pyproject.toml"], "poetry", ("poetry.lock", "pyproject.toml")),
        (["Pipfile.lock", "Pipfile"], "pipenv", ("Pipfile.lock", "Pipfile")),
        (["setup.py"], "project", ("setup.py",)),
        (["requirements.txt", "setup.py"], "requirements", ("requirements.txt",)),  # `-e .` is common
        ([], "none", ()),
    ],
)
def test_dependency_source(tmp_path, files, kind, listed):
    source = dependency_source(make(tmp_path, *files))
    assert (source.kind, source.files) == (kind, listed)


def test_pyproject_with_project_dependencies_is_installed_as_a_project(tmp_path):
    app = make(tmp_path, pyproject__toml='[project]\nname = "a"\nversion = "1"\ndependencies = ["six"]\n')
    assert dependency_source(app, pyproject.read(app)).kind == "project"
    tooling_only = make(tmp_path, pyproject__toml="[tool.ruff]\nline-length = 100\n")
    assert dependency_source(tooling_only, pyproject.read(tooling_only)).kind == "none"


def test_more_than_one_source_lists_the_files(tmp_path):
    with pytest.raises(errors.MultipleDependencySources) as caught:
        dependency_source(make(tmp_path, "requirements.txt", "uv.lock", "Pipfile"))
    assert "requirements.txt, uv.lock, Pipfile" in caught.value.render()[0]


def test_pipfile_without_lock_and_poetry_without_lock(tmp_path):
    with pytest.raises(errors.PipfileWithoutLock):
        dependency_source(make(tmp_path, "Pipfile"))
    app = make(tmp_path / "..", pyproject__toml='[tool.poetry.dependencies]\npython = "^3.11"\n')
    with pytest.raises(errors.PoetryWithoutLock):
        dependency_source(app, pyproject.read(app))


def test_pyproject_fallback_reader_agrees_with_tomllib():
    text = '[project]\nname = "a"\nrequires-python = ">=3.11,<3.12"\ndependencies = [\n  "six",\n]\n[tool.poetry.dependencies]\nx = 1\n'
    assert (
        pyproject._fallback_parse(text)
        == pyproject.parse(text)
        == pyproject.Pyproject(True, True, ">=3.11,<3.12", True, "a")
    )


@pytest.mark.parametrize(
    "spec, pinned",
    [
        ("==3.12.*", "3.12"),
        ("~=3.12.1", "3.12"),
        (">=3.12,<3.13", "3.12"),
        ("==3.11.4", "3.11"),
        (">=3.11", None),
        ("~=3.11", None),
    ],
)
def test_requires_python_pins_a_version_only_when_it_admits_one(spec, pinned):
    assert python_version.pinned_by_requires_python(spec) == pinned


def test_requires_python_is_the_last_source(tmp_path):
    (tmp_path / "runtime.txt").write_text("python-3.11.2\n")
    winner, found = python_version.read_request(str(tmp_path), "==3.12.*")
    assert winner.source == "runtime.txt"
    assert [r.version for r in found] == ["3.11.2", "3.12"]


def test_end_of_life_and_unknown_versions():
    today = datetime.date(2026, 11, 22)
    python_version.check_supported(python_version.PythonRequest("3.11", ".python-version"), today)
    with pytest.raises(errors.PythonVersionEndOfLife) as caught:
        python_version.check_supported(python_version.PythonRequest("3.10.4", "runtime.txt"), today)
    assert "support ended on 2026-10-31" in "\n".join(caught.value.render())
    with pytest.raises(errors.UnknownPythonVersion):
        python_version.check_supported(python_version.PythonRequest("3.99", ".python-version"), today)


def test_nested_requirement_files_and_local_projects_are_followed(tmp_path):
    (tmp_path / "reqs").mkdir()
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "setup.py").write_text("")
    (tmp_path / "lib" / "code.py").write_text("")
    (tmp_path / "requirements.txt").write_text(
        "-r reqs/base.txt  # base\n--constraint=reqs/pins.txt\n-e .\n./lib\nhttps://example.invalid/x.whl\n"
    )
    (tmp_path / "reqs" / "base.txt").write_text("-r more.txt\nsix\n")
    (tmp_path / "reqs" / "more.txt").write_text("-r base.txt\n")  # a cycle is harmless
    found = {
        p.replace(str(tmp_path) + "/", "") for p in requirements.referenced_files(str(tmp_path), ["requirements.txt"])
    }
    assert {
        "requirements.txt",
        "reqs/base.txt",
        "reqs/more.txt",
        "reqs/pins.txt",
        "pyproject.toml",
        "setup.py",
        "lib/setup.py",
        "lib/code.py",
    } <= found


def test_pip_index_settings_reach_uv_unless_uv_ones_are_set():
    assert tools.indexes_for_uv(
        {"PIP_INDEX_URL": "https://a/simple", "PIP_EXTRA_INDEX_URL": "https://b/simple https://c/simple"}
    ) == {
        "UV_DEFAULT_INDEX": "https://a/simple",
        "UV_INDEX": "https://b/simple https://c/simple",
    }
    assert tools.indexes_for_uv({"PIP_INDEX_URL": "https://a/simple", "UV_DEFAULT_INDEX": "https://u/simple"}) == {}
