import pytest

from runtime import errors
from runtime.python_version import (
    Interpreter,
    PythonRequest,
    choose,
    parse_python_version_file,
    parse_runtime_txt,
    read_request,
)

STACK = [Interpreter("/usr/bin/python3.11", (3, 11, 2)), Interpreter("/usr/bin/python3.12", (3, 12, 4))]


@pytest.mark.parametrize(
    "text, version",
    [("3.11\n", "3.11"), ("3.11.2", "3.11.2"), ("# team pin\n\n  3.12  # latest\n", "3.12"), ("\ufeff3.11\r\n", "3.11")],
)
def test_python_version_file(text, version):
    assert parse_python_version_file(text) == PythonRequest(version, ".python-version")


def test_empty_python_version_file_means_no_request():
    assert parse_python_version_file("# nothing\n\n") is None


@pytest.mark.parametrize("text", ["python-3.11\n", "3\n", "3.11.x\n", "v3.11\n", "3.1 1\n", "latest\n"])
def test_malformed_python_version_shows_the_raw_line(text):
    with pytest.raises(errors.MalformedPythonVersion) as caught:
        parse_python_version_file(text)
    assert repr(text.splitlines()[0]) in "\n".join(caught.value.render())


def test_python_prefix_gets_a_hint():
    with pytest.raises(errors.MalformedPythonVersion) as caught:
        parse_python_version_file("python-3.11\n")
    assert "without 'python-'" in "\n".join(caught.value.render())


def test_two_versions_in_python_version_is_an_error():
    with pytest.raises(errors.ConflictingPythonVersionLines):
        parse_python_version_file("3.11\n3.12\n")


@pytest.mark.parametrize("text, version", [("python-3.11.2", "3.11.2"), ("python-3.12\n", "3.12")])
def test_runtime_txt(text, version):
    assert parse_runtime_txt(text) == PythonRequest(version, "runtime.txt")


@pytest.mark.parametrize("text", ["3.11.2", "python 3.11", "python-3.11.2\npython-3.12.0"])
def test_malformed_runtime_txt(text):
    with pytest.raises(errors.MalformedPythonVersion):
        parse_runtime_txt(text)


def test_python_version_file_wins_over_runtime_txt(tmp_path):
    (tmp_path / ".python-version").write_text("3.12\n")
    (tmp_path / "runtime.txt").write_text("python-3.11.2\n")
    winner, found = read_request(str(tmp_path))
    assert winner == PythonRequest("3.12", ".python-version")
    assert [r.source for r in found] == [".python-version", "runtime.txt"]


def test_choose_matches_minor_or_exact_and_defaults():
    default = STACK[0]
    assert choose(None, STACK, default) is default
    assert choose(PythonRequest("3.12", ".python-version"), STACK, default).version == (3, 12, 4)
    assert choose(PythonRequest("3.11.2", "runtime.txt"), STACK, default).version == (3, 11, 2)


def test_unavailable_version_names_request_source_and_choices():
    with pytest.raises(errors.UnknownPythonVersion) as caught:
        choose(PythonRequest("3.11.9", "runtime.txt"), STACK, STACK[0])
    message = "\n".join(caught.value.render())
    assert "Python 3.11.9 is not available" in message
    assert "runtime.txt asks for Python 3.11.9" in message
    assert "3.11.2, 3.12.4" in message
