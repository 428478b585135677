"""Real apps' shapes (issue 15), built through the Heroku harness and served with real requests.

Each fixture is written in the shape public projects have, not the shape our code expects: a
Flask app.py with no __main__ block, Flask's tutorial (an app factory in a package, installed
from pyproject.toml), a Pyramid project with production.ini and setup.py, a Django project whose
URLconf no longer imports, a wsgi.py written for mod_wsgi, an ASGI app in main.py.
"""

from __future__ import annotations

import json
import os
import re

import pytest

from tests.conftest import FIXTURES, write
from tests.harness.heroku import Heroku

pytestmark = pytest.mark.integration

SERVERS = ("mod_wsgi", "gunicorn", "uwsgi", "waitress")


def assert_clean_failure(slug, *expected: str) -> None:
    output = slug.compile.output
    assert not slug.compile.ok, output
    assert "Traceback (most recent call last)" not in output, output
    assert 'File ".launchpack-runtime' not in output, output  # launchpack's files are not the user's
    for text in expected:
        assert text in output, output


def cache_for(heroku: Heroku, warm_caches, server: str) -> str:
    """A copy of a cache in which the server was already compiled (uWSGI; mod_wsgi is in every seed)."""
    return heroku.copy_cache(warm_caches[server].path) if server == "uwsgi" else heroku.new_cache()


def serve(heroku: Heroku, slug, path: str, config: dict[str, str] | None = None):
    with heroku.start(slug, config=config) as dyno:
        dyno.wait_until_serving()
        response = dyno.get(path)
        assert dyno.terminate() < 30
    return response, dyno.log()


# --- point 2: app.py ------------------------------------------------------------------------


def test_flask_app_py_is_served_by_the_production_server(heroku: Heroku):
    slug = heroku.build(os.path.join(FIXTURES, "flask_app_py"))
    assert slug.compile.ok, slug.compile.output
    assert "App: a WSGI app, app:app; if it is not a WSGI callable, app.py runs as a script: app.py defines app" in (
        slug.compile.output
    )
    assert "Importing the WSGI entry point app:app" in slug.compile.output
    web = slug.process_command("web")
    assert "mod_wsgi-express start-server" in web and "--entry-point app --callable-object app" in web
    response, log = serve(heroku, slug, "/")
    assert response.status == 200 and response.text.startswith("Hello from Flask's app.py"), log


def test_app_py_whose_app_is_not_wsgi_runs_as_a_script(heroku: Heroku, app_copy):
    app = app_copy("tornado_app")
    write(
        os.path.join(app, "app.py"),
        "import asyncio, os\nimport tornado.web\n\n"
        "class Main(tornado.web.RequestHandler):\n    def get(self):\n        self.write('Hello from Tornado')\n\n"
        "app = tornado.web.Application([(r'/', Main)])\n\n"
        "async def main():\n    app.listen(int(os.environ['PORT']))\n    await asyncio.Event().wait()\n\n"
        "if __name__ == '__main__':\n    asyncio.run(main())\n",
    )
    slug = heroku.build(app, {"LAUNCHPACK_SERVER": "gunicorn"})
    assert slug.compile.ok, slug.compile.output
    assert "app:app is a tornado.web.Application, not a WSGI callable." in slug.compile.output
    assert "app.py defines no WSGI callable: the web process runs it as a script (python app.py)" in slug.compile.output
    assert slug.process_command("web") == ". ./.launchpack-runtime/env.sh && exec python app.py"
    response, log = serve(heroku, slug, "/")
    assert response.text == "Hello from Tornado", log


def test_launchpack_wsgi_app_is_honoured_for_an_app_py_app(heroku: Heroku, app_copy):
    app = app_copy("tornado_app")
    write(
        os.path.join(app, "other.py"),
        "def application(environ, start_response):\n"
        "    start_response('200 OK', [('Content-Type', 'text/plain')])\n    return [b'Hello from other.py']\n",
    )
    slug = heroku.build(app, {"LAUNCHPACK_WSGI_APP": "other:application", "LAUNCHPACK_SERVER": "gunicorn"})
    assert slug.compile.ok, slug.compile.output
    assert "App: a WSGI app, other:application: the config var LAUNCHPACK_WSGI_APP" in slug.compile.output
    with open(os.path.join(slug.path, ".launchpack-runtime", "launch.json"), encoding="utf-8") as handle:
        assert json.load(handle)["wsgi_app"] == "other:application"  # what launchpack_wsgi loads
    response, log = serve(heroku, slug, "/")
    assert response.text == "Hello from other.py", log


# --- point 3: app factories ----------------------------------------------------------------


@pytest.mark.parametrize("server", [pytest.param(s, marks=pytest.mark.xdist_group(f"server-{s}")) for s in SERVERS])
def test_flask_tutorial_factory_is_found_and_served_by_every_server(heroku: Heroku, warm_caches, server):
    slug = heroku.build(
        os.path.join(FIXTURES, "flask_factory"), {"LAUNCHPACK_SERVER": server}, cache_for(heroku, warm_caches, server)
    )
    assert slug.compile.ok, slug.compile.output
    assert "the package flaskr defines Flask's app factory create_app" in slug.compile.output
    assert "Importing the WSGI entry point flaskr:create_app()" in slug.compile.output
    web = slug.process_command("web")
    assert "launchpack_wsgi" in web, web  # launchpack's loader calls the factory, for every server
    response, log = serve(heroku, slug, "/hello")
    assert (response.status, response.text) == (200, "Hello, World! (testing=False)"), log


def test_factory_with_arguments_in_launchpack_wsgi_app(heroku: Heroku):
    config = {"LAUNCHPACK_WSGI_APP": 'flaskr:create_app({"TESTING": True})', "LAUNCHPACK_SERVER": "waitress"}
    slug = heroku.build(os.path.join(FIXTURES, "flask_factory"), config)
    assert slug.compile.ok, slug.compile.output
    response, log = serve(heroku, slug, "/hello")
    assert response.text == "Hello, World! (testing=True)", log


def test_a_factory_that_is_not_there_is_named(heroku: Heroku):
    slug = heroku.build(os.path.join(FIXTURES, "flask_factory"), {"LAUNCHPACK_WSGI_APP": "flaskr:make_app()"})
    assert_clean_failure(slug, "Your app's WSGI entry point flaskr:make_app() could not be loaded", "make_app")


# --- point 4: Pyramid and PasteDeploy --------------------------------------------------------


@pytest.mark.parametrize("server", [pytest.param(s, marks=pytest.mark.xdist_group(f"server-{s}")) for s in ("mod_wsgi", "waitress")])
def test_pyramid_project_with_production_ini(heroku: Heroku, server):
    slug = heroku.build(os.path.join(FIXTURES, "pyramid_project"), {"LAUNCHPACK_SERVER": server})
    assert slug.compile.ok, slug.compile.output
    assert "App: production.ini defines the main app: served from it with PasteDeploy" in slug.compile.output
    assert "Importing the WSGI entry point production.ini" in slug.compile.output
    response, log = serve(heroku, slug, "/")
    assert (response.status, response.text) == (200, "Hello from Pyramid (production.ini)\n"), log


PLAIN_PASTE_APP = """def main(global_config, **settings):
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [settings["greeting"].encode() + b" via PasteDeploy 2"]
    return app
"""


def test_pastedeploy_that_needs_pkg_resources_gets_it(heroku: Heroku, app_copy):
    app = app_copy("pyramid_app")
    write(os.path.join(app, "hello", "__init__.py"), PLAIN_PASTE_APP)
    write(os.path.join(app, "requirements.txt"), "PasteDeploy==2.1.1\n")  # it imports pkg_resources
    slug = heroku.build(app, {"LAUNCHPACK_SERVER": "gunicorn"})
    assert slug.compile.ok, slug.compile.output
    installed = re.search(r"\+ setuptools==(\d+)\.", slug.compile.output)  # resolved with the app's own
    assert installed and int(installed.group(1)) < 82, slug.compile.output
    response, log = serve(heroku, slug, "/")
    assert response.text == "Hello from Pyramid via PasteDeploy 2", log


def test_pkg_resources_missing_names_the_package_to_add(heroku: Heroku, app_copy):
    app = app_copy("pyramid_app")
    write(os.path.join(app, "hello", "__init__.py"), PLAIN_PASTE_APP)
    write(os.path.join(app, "requirements.txt"), "PasteDeploy==2.1.1\nsetuptools>=82\n")
    slug = heroku.build(app, {"LAUNCHPACK_SERVER": "gunicorn"})
    assert_clean_failure(
        slug,
        "Your app needs pkg_resources, which your environment does not have",
        "Add 'setuptools<82' to requirements.txt",
    )


# --- point 5: Django's system checks ---------------------------------------------------------


def django_app(app_copy, path: str, change) -> str:
    """A copy of the example Django project with one of its files changed: change(text) -> text."""
    app = app_copy("django")
    with open(os.path.join(app, path), encoding="utf-8") as handle:
        text = handle.read()
    write(os.path.join(app, path), change(text))
    return app


OLD_URLCONF = "from django.conf.urls import url  # Django < 4\n"  # as 2016's projects have it


def test_django_urlconf_that_no_longer_imports_fails_the_build(heroku: Heroku, app_copy):
    app = django_app(app_copy, "mysite/urls.py", lambda text: OLD_URLCONF + text)
    slug = heroku.build(app)
    assert_clean_failure(
        slug,
        "Django's system checks found errors in your app",
        "ImportError: cannot import name 'url' from 'django.conf.urls'",
        "Fix them in mysite/urls.py, line 1",
        "LAUNCHPACK_SKIP_DJANGO_CHECKS=1",
    )


def test_django_check_errors_fail_the_build_and_can_be_skipped(heroku: Heroku, app_copy):
    session = "'django.contrib.sessions.middleware.SessionMiddleware',"
    app = django_app(app_copy, "mysite/settings.py", lambda text: text.replace(session, ""))
    failed = heroku.build(app)
    assert_clean_failure(failed, "admin.E410", "SessionMiddleware")
    skipped = heroku.build(app, {"LAUNCHPACK_SKIP_DJANGO_CHECKS": "1"})
    assert skipped.compile.ok, skipped.compile.output
    assert "Skipping Django's system checks: LAUNCHPACK_SKIP_DJANGO_CHECKS is set." in skipped.compile.output


def test_django_check_warnings_are_shown(heroku: Heroku, app_copy):
    app = django_app(app_copy, "mysite/settings.py", lambda text: text + '\nSTATICFILES_DIRS = ["assets"]\n')
    slug = heroku.build(app)
    assert slug.compile.ok, slug.compile.output
    assert "Django's system checks found issues that do not stop the build:" in slug.compile.output
    assert "staticfiles.W004" in slug.compile.output
    response, log = serve(heroku, slug, "/admin/login/")
    assert response.status == 200, log


# --- point 7: a wsgi.py written for mod_wsgi -------------------------------------------------


def test_wsgi_py_importing_mod_wsgi_is_checked_the_way_it_runs(heroku: Heroku):
    slug = heroku.build(os.path.join(FIXTURES, "wsgi_mod_wsgi"))
    assert slug.compile.ok, slug.compile.output
    assert "in the build: wsgi.py imports mod_wsgi, which exists only inside Apache (mod_wsgi)" in slug.compile.output
    response, log = serve(heroku, slug, "/")
    # Daemon mode (the default): the app runs in mod_wsgi's process group, named by mod_wsgi-express.
    assert response.status == 200 and response.text.startswith("Hello from mod_wsgi, process group 'localhost:"), log


def test_wsgi_py_importing_mod_wsgi_fails_under_another_server(heroku: Heroku):
    slug = heroku.build(os.path.join(FIXTURES, "wsgi_mod_wsgi"), {"LAUNCHPACK_SERVER": "gunicorn"})
    assert_clean_failure(slug, "No module named 'mod_wsgi'", "Fix the error in wsgi.py, line 3")


# --- point 8: ASGI apps -------------------------------------------------------------------


@pytest.mark.parametrize("config", [{}, {"LAUNCHPACK_WSGI_APP": "main:app"}], ids=["found", "named"])
def test_asgi_app_fails_the_build_with_what_to_do(heroku: Heroku, config):
    slug = heroku.build(os.path.join(FIXTURES, "asgi_app"), {"LAUNCHPACK_SERVER": "gunicorn", **config})
    assert_clean_failure(
        slug,
        "Your app's entry point main:app is an ASGI application (a starlette.applications.Starlette), not a WSGI one",
        'web: uvicorn main:app --host 0.0.0.0 --port "$PORT"',
    )
    assert "set LAUNCHPACK_WSGI_APP=" not in slug.compile.output


# --- the same shapes through the CNB lifecycle and the launchpack command --------------------

# (fixture, path, expected body): each built and served through every adapter.
SERVED = [
    ("flask_app_py", "/", "Hello from Flask's app.py"),
    ("flask_factory", "/hello", "Hello, World! (testing=False)"),
    ("pyramid_project", "/", "Hello from Pyramid (production.ini)\n"),
]


@pytest.mark.parametrize("fixture, path, expected", SERVED, ids=[s[0] for s in SERVED])
def test_shapes_through_cnb(cnb, fixture, path, expected):
    build = cnb.build(os.path.join(FIXTURES, fixture), {"LAUNCHPACK_SERVER": "gunicorn"})
    assert build.ok, build.output
    assert "Traceback (most recent call last)" not in build.output
    with cnb.start(build.image) as container:
        container.wait_until_serving()
        response = container.get(path)
        assert response.status == 200 and response.text.startswith(expected), container.log()
        assert container.terminate() < 30


def test_asgi_app_fails_the_cnb_build(cnb):
    build = cnb.build(os.path.join(FIXTURES, "asgi_app"), {"LAUNCHPACK_SERVER": "gunicorn"})
    assert not build.ok and build.image is None
    assert "is an ASGI application" in build.output and "Traceback" not in build.output


@pytest.mark.parametrize("fixture, path, expected", SERVED, ids=[s[0] for s in SERVED])
def test_shapes_through_the_launchpack_command(cli, app_copy, fixture, path, expected):
    app = app_copy(fixture)
    build = cli.run(["build"], cwd=app, env=cli.env(LAUNCHPACK_SERVER="gunicorn"))
    assert build.returncode == 0, build.output
    explained = cli.run(["explain"], cwd=app).stdout
    assert "App type: " in explained
    with cli.start(app, env=cli.env(LAUNCHPACK_SERVER="gunicorn")) as server:
        server.wait_until_serving()
        response = server.get(path)
        assert response.status == 200 and response.text.startswith(expected), server.log()
        assert server.stop() < 10


def test_django_check_failure_through_the_launchpack_command(cli, app_copy):
    app = django_app(app_copy, "mysite/urls.py", lambda text: OLD_URLCONF + text)
    build = cli.run(["build"], cwd=app)
    assert build.returncode == 1, build.output
    assert "Django's system checks found errors in your app" in build.output
    assert "mysite/urls.py, line 1" in build.output and "Traceback" not in build.output
