"""Every WSGI server, every app type, through the Heroku harness with real HTTP requests.

Each server's tests form an xdist group, so that its slugs are built once (on one worker) and
shared by its tests; every build starts from a copy of a warm cache, in which that server was
compiled (mod_wsgi, uWSGI) by an earlier build, as Heroku restores the previous build's cache.
"""

from __future__ import annotations

import os
import re
import threading
import time

import pytest

from tests.conftest import EXAMPLES, FIXTURES, stylesheets, write
from tests.harness.heroku import DYNO_USER, Dyno, Heroku, Response, chown_tree

pytestmark = pytest.mark.integration

SERVERS = ("mod_wsgi", "gunicorn", "uwsgi", "waitress")
STATIC = {"LAUNCHPACK_STATIC_URL": "/assets/", "LAUNCHPACK_STATIC_ROOT": "static"}
SERVER_APP = os.path.join(FIXTURES, "server_app")
# How each server shows that it runs WEB_CONCURRENCY=3 processes of LAUNCHPACK_THREADS=2 threads.
CAPACITY = {
    "mod_wsgi": lambda log: "Request Capacity   : 6 (3 processes * 2 threads)" in log,
    "gunicorn": lambda log: log.count("Booting worker") == 3 and "Using worker: gthread" in log,
    "uwsgi": lambda log: len(re.findall(r"spawned uWSGI worker \d+ \(pid: \d+, cores: 2\)", log)) == 3,
    "waitress": lambda log: "waitress serving with 6 threads" in log,
}


def per_server(*servers: str):
    return [pytest.param(s, marks=pytest.mark.xdist_group(f"server-{s}")) for s in servers or SERVERS]


def cache_for(heroku: Heroku, warm_caches, server: str) -> str:
    """A copy of a cache in which the server was already built (only mod_wsgi and uWSGI compile)."""
    return heroku.copy_cache(warm_caches[server].path) if server == "uwsgi" else heroku.new_cache()


@pytest.fixture(scope="session")
def slugs(heroku: Heroku, warm_caches):
    """(server, app name) -> Slug, built once per worker."""
    built = {}

    def get(server: str, app: str):
        if (server, app) not in built:
            source = os.path.join(EXAMPLES, "django") if app == "django" else SERVER_APP
            config = {"LAUNCHPACK_SERVER": server, **(STATIC if app == "server_app" else {})}
            slug = heroku.build(source, config, cache_dir=cache_for(heroku, warm_caches, server))
            assert slug.compile.ok, slug.compile.output
            built[server, app] = slug
        return built[server, app]

    return get


def in_background(dyno: Dyno, path: str) -> tuple[threading.Thread, dict]:
    outcome: dict[str, Response | BaseException] = {}

    def run():
        try:
            outcome["response"] = dyno.get(path, timeout=40)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            outcome["response"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def wait_for(dyno: Dyno, path: str, expected: str, timeout: float = 30) -> str:
    deadline, text = time.monotonic() + timeout, ""
    while time.monotonic() < deadline:
        try:
            text = dyno.get(path, timeout=5).text
        except OSError:
            text = "<no answer>"
        if expected in text:
            return text
        time.sleep(0.3)
    raise AssertionError(f"{path} still answers {text!r}, not {expected!r}:\n{dyno.log()}")


@pytest.mark.parametrize("server", per_server())
def test_django_example(heroku: Heroku, slugs, server):
    slug = slugs(server, "django")
    assert f"Web server: {server}" in slug.compile.output
    with heroku.start(slug) as dyno:
        dyno.wait_until_serving()
        home = dyno.get("/")
        assert home.status == 200 and "The install worked successfully" in home.text
        login = dyno.get("/admin/login/")
        assert login.status == 200
        sheets = stylesheets(login.text)
        assert sheets, login.text
        for href in sheets:
            css = dyno.get(href)
            assert css.status == 200, (href, dyno.log())
            assert css.headers["content-type"].startswith("text/css"), (href, css.headers)
            assert b"{" in css.body
        assert dyno.terminate() < 30


@pytest.mark.parametrize("server", per_server())
def test_wsgi_app_static_files_concurrency_and_graceful_shutdown(heroku: Heroku, slugs, server):
    slug = slugs(server, "server_app")
    assert "Building wheel" not in slug.compile.output  # the cache's compiled server is reused
    web = slug.process_command("web")
    assert "/tmp/build_" not in web
    config = {"WEB_CONCURRENCY": "3", "LAUNCHPACK_THREADS": "2", "MOD_WSGI_ACCESS_LOG": "1"}
    with heroku.start(slug, config=config) as dyno:
        dyno.wait_until_serving()
        page = dyno.get("/hello")
        assert (page.status, page.text) == (200, "Hello from version 1 at /hello\n")
        css = dyno.get("/assets/site.css")
        assert css.status == 200 and css.headers["content-type"].startswith("text/css")
        assert css.body == b"body { color: teal; }\n"
        # SIGTERM with a request in flight: it completes, then the server exits.
        thread, outcome = in_background(dyno, "/slow?seconds=4")
        time.sleep(1)
        elapsed = dyno.terminate()
        thread.join()
        response = outcome["response"]
        assert isinstance(response, Response), (response, dyno.log())
        assert (response.status, response.text) == (200, "slow request finished\n")
        assert 2 < elapsed < 30
        log = dyno.log()
        assert CAPACITY[server](log), log
        assert "GET /hello" in log or server == "waitress"  # access log on stdout/stderr


@pytest.mark.parametrize("server", per_server())
def test_reload_on_code_change(heroku: Heroku, slugs, server):
    slug = slugs(server, "server_app")
    module = os.path.join(slug.path, "greeting.py")
    with open(module) as handle:
        original = handle.read()
    switch = {"MOD_WSGI_RELOAD_ON_CHANGES": "1"} if server == "mod_wsgi" else {"LAUNCHPACK_RELOAD": "1"}
    try:
        with heroku.start(slug, config=switch) as dyno:
            dyno.wait_until_serving()
            wait_for(dyno, "/hello", "version 1")
            time.sleep(2.5)  # the reloaders poll: let them see the file as it was first
            write(module, 'GREETING = "Hello from version 2"\n')
            chown_tree(module, DYNO_USER)
            wait_for(dyno, "/hello", "version 2")
            time.sleep(2)  # the restarted server has started all its processes
            assert dyno.terminate() < 30
    finally:
        write(module, original)
        chown_tree(module, DYNO_USER)


@pytest.mark.parametrize("server", per_server("mod_wsgi", "gunicorn"))
def test_paste_ini_pyramid_app(heroku: Heroku, warm_caches, server):
    config = {"LAUNCHPACK_SERVER": server}
    slug = heroku.build(os.path.join(FIXTURES, "pyramid_app"), config, cache_for(heroku, warm_caches, server))
    assert slug.compile.ok, slug.compile.output
    assert "Importing the WSGI entry point paste.ini" in slug.compile.output
    web = slug.process_command("web")
    assert ("--application-type paste" in web) if server == "mod_wsgi" else ("launchpack_wsgi:application" in web)
    with heroku.start(slug) as dyno:
        dyno.wait_until_serving()
        page = dyno.get("/")
        assert (page.status, page.text) == (200, "Hello from Pyramid via /"), dyno.log()
        assert dyno.terminate() < 30


@pytest.mark.xdist_group("server-mod_wsgi")
def test_mod_wsgi_started_as_root(heroku: Heroku, slugs):
    """Containers often run as root; Apache refuses to serve as root, so its processes switch."""
    slug = slugs("mod_wsgi", "django")
    with heroku.start(slug, user="root") as dyno:
        dyno.wait_until_serving()
        assert dyno.get("/").status == 200, dyno.log()
        assert dyno.get("/static/admin/css/base.css").status == 200
        assert dyno.terminate() < 30
    assert "WARNING: When running as the 'root' user" not in dyno.log()


@pytest.mark.xdist_group("server-mod_wsgi")
def test_auto_falls_back_to_gunicorn_without_apache_development_files(heroku: Heroku):
    slug = heroku.build(SERVER_APP, STATIC, hide=("/usr/bin/apxs", "/usr/bin/apxs2"))
    assert slug.compile.ok, slug.compile.output
    assert "Web server: gunicorn: auto prefers mod_wsgi, but this stack lacks Apache's development files" in (
        slug.compile.output
    )
    assert slug.process_command("web").split("&& ")[1].startswith("exec gunicorn")
    with heroku.start(slug) as dyno:
        dyno.wait_until_serving()
        assert dyno.get("/assets/site.css").headers["content-type"].startswith("text/css")
        assert dyno.terminate() < 30


@pytest.mark.xdist_group("server-gunicorn")
def test_app_sh_is_executed(heroku: Heroku):
    slug = heroku.build(os.path.join(FIXTURES, "app_sh"))
    assert slug.compile.ok, slug.compile.output
    assert slug.process_command("web") == ". ./.launchpack-runtime/env.sh && exec ./app.sh"
    assert "Adding what the web server needs" not in slug.compile.output
    with heroku.start(slug) as dyno:
        dyno.wait_until_serving()
        assert "Hello from app.sh" in dyno.get("/index.html").text
        assert dyno.terminate() < 30


@pytest.mark.xdist_group("server-gunicorn")
def test_app_py_tornado(heroku: Heroku):
    slug = heroku.build(os.path.join(FIXTURES, "tornado_app"))
    assert slug.compile.ok, slug.compile.output
    assert slug.process_command("web") == ". ./.launchpack-runtime/env.sh && exec python app.py"
    with heroku.start(slug) as dyno:
        dyno.wait_until_serving()
        assert dyno.get("/").text == "Hello from Tornado"
        assert dyno.terminate() < 30


@pytest.mark.xdist_group("server-gunicorn")
def test_minimal_mode_leaves_the_rest_to_gunicorn_conf_py(heroku: Heroku, app_copy):
    app = app_copy("server_app")
    write(
        os.path.join(app, "gunicorn.conf.py"),
        'wsgi_app = "wsgi:application"\nworkers = 2\nraw_env = ["FROM_CONF=yes"]\n',
    )
    slug = heroku.build(app, {"LAUNCHPACK_SERVER": "gunicorn", "LAUNCHPACK_SERVER_MODE": "minimal"})
    assert slug.compile.ok, slug.compile.output
    web = slug.process_command("web")
    assert "--workers" not in web and "wsgi:application" not in web and '--bind "0.0.0.0:$PORT"' in web
    with heroku.start(slug) as dyno:
        dyno.wait_until_serving()
        assert dyno.get("/env?name=FROM_CONF").text == "yes\n"
        assert dyno.terminate() < 30
        assert dyno.log().count("Booting worker") == 2


@pytest.mark.xdist_group("server-gunicorn")
def test_server_file_wins_and_server_args_are_appended(heroku: Heroku, app_copy):
    app = app_copy("server_app")
    write(os.path.join(app, ".launchpack", "server"), "gunicorn\n")
    write(os.path.join(app, ".launchpack", "server_args"), "# extra arguments\n--env FROM_ARGS=port-$PORT\n")
    slug = heroku.build(app, {"LAUNCHPACK_SERVER": "waitress"})
    assert slug.compile.ok, slug.compile.output
    assert "Web server: gunicorn (from .launchpack/server)" in slug.compile.output
    with heroku.start(slug) as dyno:
        dyno.wait_until_serving()
        assert dyno.get("/env?name=FROM_ARGS").text == f"port-{dyno.port}\n"  # expanded at start
        assert dyno.terminate() < 30


def test_mod_wsgi_server_args_win_over_launchpack_options(heroku: Heroku, app_copy):
    """README: "yours win". mod_wsgi-express keeps the last of a repeated option, and the user's
    .launchpack/server_args come after launchpack's --entry-point."""
    app = app_copy("server_app")
    write(
        os.path.join(app, "other.py"),
        "def application(environ, start_response):\n"
        "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
        "    return [b'served by other.py\\n']\n",
    )
    write(os.path.join(app, ".launchpack", "server_args"), "--entry-point other\n")
    slug = heroku.build(app)
    assert slug.compile.ok, slug.compile.output
    web = slug.process_command("web")
    assert "mod_wsgi-express" in web and web.endswith("--entry-point other"), web
    with heroku.start(slug) as dyno:
        dyno.wait_until_serving()
        assert dyno.get("/").text == "served by other.py\n"
        assert dyno.terminate() < 30
