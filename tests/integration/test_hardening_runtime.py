"""Issue 10 (points 6 and 9): settings read when a process starts, hook messages, the versions
offered, waitress's stop. Each is tried as a user would: the app built as Heroku builds it, its
web process started with the setting, HTTP requests, and the one-line message in its output."""

from __future__ import annotations

import concurrent.futures
import os
import re
import shutil
import signal
import subprocess
import time

import pytest

from tests.conftest import FIXTURES, write
from tests.harness.heroku import Dyno, Heroku
from tests.integration.test_heroku_errors import failed_build

pytestmark = pytest.mark.integration

SERVERS = ("mod_wsgi", "gunicorn", "uwsgi", "waitress")
SERVER_APP = os.path.join(FIXTURES, "server_app")


@pytest.fixture(scope="module")
def server_slugs(heroku: Heroku, warm_caches):
    """server -> the server_app fixture built for it (once per module)."""
    built = {}

    def get(server: str):
        if server not in built:
            # uWSGI compiles on its first build: start from a cache that has its wheel.
            cache = heroku.copy_cache(warm_caches[server].path) if server == "uwsgi" else heroku.new_cache()
            slug = heroku.build(SERVER_APP, {"LAUNCHPACK_SERVER": server}, cache_dir=cache)
            assert slug.compile.ok, slug.compile.output
            built[server] = slug
        return built[server]

    return get


def assert_no_traceback(output: str) -> None:
    for sign in ("Traceback (most recent call last)", "Fatal Python error:", "Bad file descriptor"):
        assert sign not in output, output


def wait_for_log(dyno: Dyno, text: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = dyno.log()
        if text in log:
            return log
        time.sleep(0.2)
    raise AssertionError(f"{text!r} not in the web process's output:\n{dyno.log()}")


# --- A: WEB_CONCURRENCY and LAUNCHPACK_THREADS ---------------------------------------------------


@pytest.mark.parametrize("server", SERVERS)
def test_unusable_concurrency_is_ignored_with_one_line_naming_it(heroku: Heroku, server_slugs, server):
    slug = server_slugs(server)
    config = {"WEB_CONCURRENCY": "abc", "LAUNCHPACK_THREADS": "0"}
    with heroku.start(slug, config=config) as dyno:
        dyno.wait_until_serving()
        page = dyno.get("/hello")
        assert (page.status, page.text) == (200, "Hello from version 1 at /hello\n"), dyno.log()
        log = dyno.log()
        lines = [line for line in log.splitlines() if "ignoring the config var" in line]
        assert len(lines) == 2, log  # once each, though env.sh is sourced twice (.profile.d, Procfile)
        processes = re.search(r"WEB_CONCURRENCY='abc': .*; using (\d+) \(launchpack's default", lines[0])
        assert processes and int(processes.group(1)) >= 1, lines
        assert "the number of server processes must be a whole number, 1 or more" in lines[0]
        assert f"Set WEB_CONCURRENCY to a whole number such as {processes.group(1)}, or unset it." in lines[0]
        assert "LAUNCHPACK_THREADS='0': the number of threads in each server process must be a whole number" in lines[1]
        assert "using 2 (launchpack's default)" in lines[1]
        # The server runs with the defaults it was given instead.
        assert f"WEB_CONCURRENCY={processes.group(1)} LAUNCHPACK_THREADS=2" in log
        assert dyno.terminate() < 30
        assert_no_traceback(dyno.log())


def test_unusable_mod_wsgi_override_falls_back_to_the_count(heroku: Heroku, server_slugs):
    config = {"WEB_CONCURRENCY": "2", "LAUNCHPACK_THREADS": "3", "MOD_WSGI_PROCESSES": "-1"}
    with heroku.start(server_slugs("mod_wsgi"), config=config) as dyno:
        dyno.wait_until_serving()
        assert dyno.get("/hello").status == 200, dyno.log()
        log = wait_for_log(dyno, "Request Capacity")
        assert "ignoring the config var MOD_WSGI_PROCESSES='-1'" in log
        assert "using 2 (WEB_CONCURRENCY, as when MOD_WSGI_PROCESSES is not set)" in log
        assert "Request Capacity   : 6 (2 processes * 3 threads)" in log
        assert_no_traceback(log)


# --- B: PYTHONHOME and PYTHONPATH as config vars ---------------------------------------------


@pytest.fixture(scope="module")
def lib_slug(heroku: Heroku, tmp_path_factory):
    """server_app with its greeting module in lib/, which PYTHONPATH=lib makes importable (the
    build does not see PYTHONPATH, a config var that would change how the build runs: no import check)."""
    app = str(tmp_path_factory.mktemp("lib") / "server_app")
    shutil.copytree(SERVER_APP, app)
    os.makedirs(os.path.join(app, "lib"))
    os.rename(os.path.join(app, "greeting.py"), os.path.join(app, "lib", "greeting.py"))
    slug = heroku.build(app, {"LAUNCHPACK_SKIP_IMPORT_CHECK": "1"})
    assert slug.compile.ok, slug.compile.output
    assert "Web server: mod_wsgi" in slug.compile.output  # the default server
    return slug


PYTHON_VARS = {"PYTHONHOME": "/nonexistent", "PYTHONPATH": "lib:/nonexistent"}


def assert_python_vars_ignored(output: str) -> None:
    home = [line for line in output.splitlines() if "PYTHONHOME" in line]
    assert len(home) == 1, output
    assert home[0].startswith("launchpack: ignoring the config var PYTHONHOME='/nonexistent': "), home
    assert "Unset it (heroku config:unset PYTHONHOME" in home[0]
    path = [line for line in output.splitlines() if "in the config var PYTHONPATH" in line]
    assert len(path) == 1, output
    assert path[0].startswith("launchpack: ignoring /nonexistent in the config var PYTHONPATH: outside the app (/app)")
    assert "entries inside the app are kept" in path[0]
    assert_no_traceback(output)


def test_pythonhome_and_pythonpath_config_vars_do_not_break_the_web_process(heroku: Heroku, lib_slug):
    with heroku.start(lib_slug, config=PYTHON_VARS) as dyno:
        dyno.wait_until_serving()
        page = dyno.get("/hello")
        # 200 from the greeting in lib/: PYTHONPATH's entry inside the app still works.
        assert (page.status, page.text) == (200, "Hello from version 1 at /hello\n"), dyno.log()
        assert dyno.terminate() < 30
        assert_python_vars_ignored(dyno.log())


def test_pythonhome_and_pythonpath_config_vars_do_not_break_one_off_processes(heroku: Heroku, lib_slug):
    command = "python -c 'import os, greeting; print(greeting.GREETING, os.environ.get(\"PYTHONHOME\"))'"
    result = heroku.run_one_off(lib_slug, command, config=PYTHON_VARS)
    assert result.ok, result.output
    assert "Hello from version 1 None" in result.output
    assert_python_vars_ignored(result.output)


def test_under_pack_build_exec_d_neutralises_the_same_settings(cnb):
    """docker run -e PYTHONHOME=... -e WEB_CONCURRENCY=abc: exec.d (not env.sh) makes the same check."""
    build = cnb.build(os.path.join(FIXTURES, "wsgi_app"), cache=cnb.new_cache())
    assert build.ok, build.output
    env = {"PYTHONHOME": "/nonexistent", "PYTHONPATH": "/nonexistent", "WEB_CONCURRENCY": "abc"}
    with cnb.start(build.image, env=env) as container:
        container.wait_until_serving()
        page = container.get("/hello")
        assert (page.status, page.text) == (200, "Hello from plain WSGI at /hello\n"), container.log()
        log = container.log()
        assert "launchpack: ignoring the config var WEB_CONCURRENCY='abc'" in log, log
        assert "launchpack: ignoring the config var PYTHONHOME='/nonexistent'" in log, log
        assert "launchpack: ignoring /nonexistent in the config var PYTHONPATH: outside the app (/workspace)" in log
        assert_no_traceback(log)


# --- C: hook messages ------------------------------------------------------------------------


def test_hook_with_a_crlf_shebang_names_the_carriage_return(heroku: Heroku, app_copy):
    app = app_copy("wsgi_app")
    write(os.path.join(app, "bin", "post_compile"), "#!/bin/sh\r\necho hi\r\n", mode=0o755)
    output = failed_build(heroku, app)
    assert r"The hook bin/post_compile cannot run: the first line ends with a carriage return (\r)" in output
    assert r"Its first line is '#!/bin/sh\r'." in output
    assert "Save the file with Unix line endings (LF)" in output
    assert "could not be started" not in output  # the old message, which named only ENOENT


def test_hook_that_is_a_dangling_symlink_names_its_target(heroku: Heroku, app_copy):
    app = app_copy("wsgi_app")
    os.makedirs(os.path.join(app, "bin"))
    os.symlink("../scripts/post_compile.sh", os.path.join(app, "bin", "post_compile"))
    output = failed_build(heroku, app)
    assert "The hook bin/post_compile is a symlink to ../scripts/post_compile.sh, which does not exist" in output
    assert "bin/post_compile points at scripts/post_compile.sh" in output
    assert "is not executable" not in output


# --- D: the versions offered for an unavailable Python -----------------------------------------


def test_unavailable_python_lists_supported_versions_in_order(heroku: Heroku, app_copy):
    app = app_copy("wsgi_app")
    write(os.path.join(app, ".python-version"), "3.12.99\n")
    output = failed_build(heroku, app)
    assert "Python 3.12.99 is not available" in output
    listed = re.search(r"launchpack can only provide: (.*?) \(or any older", output.replace("\n", " "))
    assert listed, output
    versions = [tuple(int(p) for p in v.split(".")) for v in listed.group(1).split(", ")]
    assert versions == sorted(versions), listed.group(1)
    assert len(set(versions)) == len(versions), listed.group(1)
    # End-of-life feature versions (3.9 and older; 3.10 since 2026-10-31) are not offered.
    assert all(v[:2] >= (3, 11) for v in versions), listed.group(1)
    assert (3, 12) in {v[:2] for v in versions}, listed.group(1)


# --- E: waitress stops quietly on SIGTERM ------------------------------------------------------

HELD_APP = """
import os, time

def application(environ, start_response):
    # /held?n=N: says it started (a file beside the app), then holds until the test releases it.
    if environ["PATH_INFO"] == "/held":
        n = environ["QUERY_STRING"].partition("=")[2]
        open(os.path.join(os.environ["HOME"], "started-" + n), "w").close()
        deadline = time.monotonic() + 20
        while not os.path.exists(os.path.join(os.environ["HOME"], "release")) and time.monotonic() < deadline:
            time.sleep(0.05)
    body = ("done " + environ["PATH_INFO"] + "\\n").encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
"""


def test_waitress_stops_quietly_on_sigterm_with_requests_in_flight(heroku: Heroku, tmp_path_factory):
    app = tmp_path_factory.mktemp("held")
    (app / "wsgi.py").write_text(HELD_APP)
    (app / "requirements.txt").write_text("")
    slug = heroku.build(str(app), {"LAUNCHPACK_SERVER": "waitress"})
    assert slug.compile.ok, slug.compile.output
    held = 4  # fewer than waitress's threads (WEB_CONCURRENCY x LAUNCHPACK_THREADS, at least 2)
    with heroku.start(slug, config={"WEB_CONCURRENCY": "3", "LAUNCHPACK_THREADS": "2"}) as dyno:
        dyno.wait_until_serving()
        assert dyno.get("/").text == "done /\n", dyno.log()
        with concurrent.futures.ThreadPoolExecutor(held) as pool:
            responses = [pool.submit(dyno.get, f"/held?n={n}", 60) for n in range(held)]
            # Every request is being served (none is merely queued in the listen backlog).
            deadline = time.monotonic() + 60
            while not all(os.path.exists(os.path.join(slug.path, f"started-{n}")) for n in range(held)):
                assert time.monotonic() < deadline, dyno.log()
                time.sleep(0.1)
            os.killpg(dyno.proc.pid, signal.SIGTERM)
            wait_for_log(dyno, "SIGTERM received; finishing requests in flight")
            open(os.path.join(slug.path, "release"), "w").close()
            # The requests in flight finish: each worker thread then wakes waitress's main loop.
            assert [r.result().text for r in responses] == ["done /held\n"] * held, dyno.log()
        try:
            dyno.proc.wait(timeout=25)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"waitress still running 25 s after SIGTERM:\n{dyno.log()}") from None
        log = dyno.log()
        assert dyno.proc.returncode == 0, log
        assert_no_traceback(log)
        assert "OSError" not in log, log
