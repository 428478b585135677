"""Issue 10 (points 6 and 9), unit by unit: start-time settings (launchpack_env), hook checks,
the Python versions offered. The integration tests try the same through the Heroku harness."""

from __future__ import annotations

import datetime
import os
import re
import subprocess
import sys

import pytest

from runtime import errors, hooks, python_version, runtime_files
from runtime.layout import Layout
from runtime.slug import launchpack_env as env

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.parametrize("raw, expected", [("3", "3"), (" 4 ", "4"), ("012", "12"), ("1", "1")])
def test_whole_numbers_are_accepted(raw, expected):
    assert env.whole_number(raw) == expected


@pytest.mark.parametrize("raw", ["abc", "0", "-1", "2.5", "+3", "3 processes", "", None, "٣"])
def test_anything_else_is_not(raw):
    assert env.whole_number(raw) is None


def test_unusable_counts_get_the_default_and_are_reported(tmp_path):
    result = env.compute({"WEB_CONCURRENCY": "abc", "LAUNCHPACK_THREADS": "-2"}, root=str(tmp_path))
    assert result["invalid"] == {"WEB_CONCURRENCY": "abc", "LAUNCHPACK_THREADS": "-2"}
    assert result["set_by_user"] == []
    assert result["values"] == {k: str(v) for k, v in result["recommended"].items()}


def test_usable_counts_win_as_before(tmp_path):
    result = env.compute({"WEB_CONCURRENCY": " 5 ", "LAUNCHPACK_THREADS": "8"}, root=str(tmp_path))
    assert (result["values"], result["invalid"]) == ({"WEB_CONCURRENCY": "5", "LAUNCHPACK_THREADS": "8"}, {})


def test_unusable_mod_wsgi_overrides_are_exported_empty():
    environ = {"MOD_WSGI_PROCESSES": "many", "MOD_WSGI_THREADS": "4"}
    assert env.unusable_overrides(environ) == {"MOD_WSGI_PROCESSES": ""}
    lines = env.invalid_count_warnings(environ, {"WEB_CONCURRENCY": "3", "LAUNCHPACK_THREADS": "2"}, {})
    assert lines == [
        "ignoring the config var MOD_WSGI_PROCESSES='many': the number of server processes must be a whole"
        " number, 1 or more; using 3 (WEB_CONCURRENCY, as when MOD_WSGI_PROCESSES is not set)."
        " Set MOD_WSGI_PROCESSES to a whole number such as 3, or unset it."
    ]


def test_pythonpath_keeps_entries_inside_the_app():
    environ = {
        "LAUNCHPACK_APP_DIR": "/app",
        "LAUNCHPACK_RUNTIME_DIR": "/layers/x/runtime",
        "PYTHONPATH": "/app:/layers/x/runtime/python:src:/app/lib/:/nonexistent:../elsewhere:/application::/usr/lib/python3",
    }
    path, dropped = env.python_path(environ)
    assert path == "/app:/layers/x/runtime/python:src:/app/lib/"
    assert dropped == ["/nonexistent", "../elsewhere", "/application", "/usr/lib/python3"]


def test_python_settings_unset_pythonhome_and_drop_outside_entries():
    environ = {"LAUNCHPACK_APP_DIR": "/app", "PYTHONHOME": "/usr", "PYTHONPATH": "/app:/opt/lib"}
    changes, lines = env.python_settings(environ)
    assert changes == {"PYTHONHOME": None, "PYTHONPATH": "/app"}
    assert len(lines) == 2 and all("\n" not in line for line in lines)
    assert lines[0].startswith("ignoring the config var PYTHONHOME='/usr': ")
    assert lines[1].startswith("ignoring /opt/lib in the config var PYTHONPATH: outside the app (/app)")
    assert env.python_settings({"LAUNCHPACK_APP_DIR": "/app", "PYTHONPATH": "/app:src"}) == ({}, [])


def run_env_script(python_dir: str, mode: str, extra: dict[str, str]) -> subprocess.CompletedProcess:
    environ = {"PATH": "/usr/bin:/bin", "LAUNCHPACK_APP_DIR": "/app", "DYNO": "web.1", **extra}
    script = os.path.join(python_dir, "launchpack_env.py")
    command = [sys.executable, "-I", script, mode]
    if mode == "execd":  # TOML on fd 3: send it to stdout
        command = ["sh", "-c", 'exec "$@" 3>&1', "sh", *command]
    return subprocess.run(command, env=environ, capture_output=True, text=True, cwd="/")


@pytest.fixture
def runtime_python_dir(tmp_path) -> str:
    """The runtime modules as a build writes them into the app (with the catalogue's copy)."""
    layout = Layout(
        app_dir=str(tmp_path), runtime_dir=str(tmp_path / "rt"), venv_dir=str(tmp_path / "venv"), cache_dir=None
    )
    runtime_files.copy_runtime_modules(layout)
    return layout.python_dir


def test_the_script_in_the_app_exports_defaults_and_warns_one_line_each(runtime_python_dir):
    assert os.path.isfile(os.path.join(runtime_python_dir, "launchpack_errors.py"))
    extra = {"WEB_CONCURRENCY": "abc", "LAUNCHPACK_THREADS": "0", "PYTHONHOME": "/x", "PYTHONPATH": "/app:/x"}
    result = run_env_script(runtime_python_dir, "sh", extra)
    assert result.returncode == 0, result.stderr
    exports = result.stdout.splitlines()
    assert "export LAUNCHPACK_THREADS=2" in exports
    assert any(line.startswith("export WEB_CONCURRENCY=") for line in exports)
    assert "unset PYTHONHOME" in exports and "export PYTHONPATH=/app" in exports
    warnings = [line for line in result.stderr.splitlines() if "ignoring" in line]
    assert [w.split("=")[0] for w in warnings] == [
        "launchpack: ignoring the config var WEB_CONCURRENCY",
        "launchpack: ignoring the config var LAUNCHPACK_THREADS",
        "launchpack: ignoring the config var PYTHONHOME",
        "launchpack: ignoring /x in the config var PYTHONPATH: outside the app (/app), where nothing was built for it (another Python's modules there would break it); entries inside the app are kept: put those modules in the app and name them relative to it (PYTHONPATH",  # noqa: E501
    ]
    assert "Traceback" not in result.stderr


def test_execd_sets_an_empty_pythonhome(runtime_python_dir):
    # exec.d (Cloud Native Buildpacks) cannot unset a variable; Python ignores an empty PYTHONHOME.
    result = run_env_script(runtime_python_dir, "execd", {"PYTHONHOME": "/x", "WEB_CONCURRENCY": "-3"})
    assert result.returncode == 0, result.stderr
    assert 'PYTHONHOME = ""' in result.stdout.splitlines()
    assert "WEB_CONCURRENCY = " in result.stdout
    assert "WEB_CONCURRENCY='-3'" in result.stderr


def test_every_server_reads_the_counts_env_sh_checked():
    """The one check (launchpack_env, run by env.sh and exec.d) covers every server: their commands
    read the counts from WEB_CONCURRENCY and LAUNCHPACK_THREADS (mod_wsgi: with its overrides)."""
    from runtime import servers

    web = servers.WebApp(wsgi_app="wsgi:application")
    for name in servers.NAMES:
        command = servers.get(name).web_command(web)
        assert re.search(r"\bWEB_CONCURRENCY\b", command) and re.search(r"\bLAUNCHPACK_THREADS\b", command), command


# --- hooks -------------------------------------------------------------------------------


def hook(tmp_path, text: bytes, mode: int = 0o755) -> str:
    (tmp_path / "bin").mkdir(exist_ok=True)
    path = tmp_path / "bin" / "post_compile"
    path.write_bytes(text)
    path.chmod(mode)
    return "bin/post_compile"


@pytest.mark.parametrize(
    "first, word",
    [
        (b"#!/bin/sh\r\n", "/bin/sh"),
        (b"#!/usr/bin/env bash\r\n", "bash"),
        (b"#!/bin/bash -e\r\n", "-e"),
        (b"#!/bin/sh\recho old Mac line endings\r", "/bin/sh"),
    ],
)
def test_a_crlf_shebang_names_the_carriage_return(tmp_path, first, word):
    name = hook(tmp_path, first + b"echo hi\r\n")
    with pytest.raises(errors.HookCarriageReturn) as caught:
        hooks.check_runnable(str(tmp_path), name)
    text = "\n".join(caught.value.render())
    assert r"the first line ends with a carriage return (\r)" in text
    interpreter_line = first.split(b"\r")[0].decode()
    assert f"Its first line is '{interpreter_line}\\r'." in text
    assert f"'{word}' is read as '{word}\\r'" in text
    assert "Save the file with Unix line endings (LF)" in text


def test_crlf_after_the_first_line_or_without_a_shebang_is_left_to_the_hook(tmp_path):
    assert hooks.check_runnable(str(tmp_path), hook(tmp_path, b"#!/bin/sh\necho hi\r\n")).endswith("bin/post_compile")


def test_a_dangling_symlink_names_its_target(tmp_path):
    (tmp_path / "bin").mkdir()
    os.symlink("../scripts/missing.sh", tmp_path / "bin" / "post_compile")
    with pytest.raises(errors.HookDanglingSymlink) as caught:
        hooks.check_runnable(str(tmp_path), "bin/post_compile")
    assert caught.value.render_title() == (
        "The hook bin/post_compile is a symlink to ../scripts/missing.sh, which does not exist"
    )
    assert "bin/post_compile points at scripts/missing.sh" in "\n".join(caught.value.render())


def test_a_symlink_to_an_executable_still_runs(tmp_path):
    hook(tmp_path, b"#!/bin/sh\necho hi\n")
    os.rename(tmp_path / "bin" / "post_compile", tmp_path / "real")
    os.symlink("../real", tmp_path / "bin" / "post_compile")
    assert hooks.check_runnable(str(tmp_path), "bin/post_compile")


def test_a_non_executable_hook_is_still_reported_as_such(tmp_path):
    with pytest.raises(errors.HookNotExecutable):
        hooks.check_runnable(str(tmp_path), hook(tmp_path, b"#!/bin/sh\r\n", mode=0o644))


# --- the versions offered ----------------------------------------------------------------


def test_offered_versions_are_in_version_order_without_end_of_life_ones():
    today = datetime.date(2026, 12, 3)
    versions = [(3, 9, 20), (3, 13, 1), (3, 10, 15), (3, 12, 7), (3, 11, 2), (3, 8, 1), (3, 99, 0), (3, 12, 7)]
    assert python_version.offered(versions, today) == ["3.11.2", "3.12.7", "3.13.1"]


def test_choose_lists_the_stack_versions_that_way():
    stack = [
        python_version.Interpreter(f"/usr/bin/python{v[0]}.{v[1]}", v) for v in [(3, 13, 1), (3, 9, 2), (3, 11, 9)]
    ]
    request = python_version.PythonRequest("3.12", ".python-version")
    with pytest.raises(errors.UnknownPythonVersion) as caught:
        python_version.choose(request, stack, stack[-1])
    assert "launchpack can only provide: 3.11.9, 3.13.1." in "\n".join(caught.value.render())
