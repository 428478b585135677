"""A Python the stack lacks (uv's managed 3.12 on the 3.11 stack) with every server, the build
cache out of reach when the app runs (issue 15, point 1).

mod_wsgi and uWSGI are compiled at build time against the managed interpreter, whose libpython
lives in the build cache; the built objects must find it in the environment's own copy of the
interpreter, since a slug or image has no cache. gunicorn and waitress check the interpreter
itself. One cache per platform is shared by its builds, so each server compiles once; all the
tests are one xdist group, so they run on one worker and share the builds.
"""

from __future__ import annotations

import glob
import os
import subprocess

import pytest

from tests.conftest import EXAMPLES, FIXTURES, stylesheets, write
from tests.harness import pbs_mirror
from tests.harness.heroku import BUILD_USER, Heroku, chown_tree

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("managed-python-servers")]

SERVERS = ("mod_wsgi", "uwsgi", "gunicorn", "waitress")
BP = "launchpack/python"


@pytest.fixture(scope="module")
def python_mirror(heroku: Heroku):
    if not pbs_mirror.find_source():
        pytest.skip(f"no CPython 3.12 build under {pbs_mirror.SOURCES} to assemble a python-build-standalone archive from")
    work = heroku._mkdtemp("pbs_", owner=None)  # readable by the build user
    mirror = pbs_mirror.make_mirror(work)
    mirror.start()
    yield mirror
    mirror.stop()


@pytest.fixture(scope="module")
def app_312(tmp_path_factory) -> str:
    app = str(tmp_path_factory.mktemp("app") / "deps_none")
    subprocess.run(["cp", "-a", os.path.join(FIXTURES, "deps_none"), app], check=True)
    write(os.path.join(app, ".python-version"), "3.12\n")
    return app


def mirror_config(mirror) -> dict[str, str]:
    return {"UV_PYTHON_INSTALL_MIRROR": mirror.url, "UV_PYTHON_DOWNLOADS_JSON_URL": mirror.downloads_json}


class CacheOutOfReach:
    """The cache dir unreadable (mode 000) while the app runs, as on a dyno, which has none."""

    def __init__(self, path: str):
        self.path = path

    def __enter__(self):
        os.chmod(self.path, 0o000)
        return self

    def __exit__(self, *exc):
        os.chmod(self.path, 0o755)
        chown_tree(self.path, BUILD_USER)


def assert_serves_python(process, version: str) -> None:
    """The started web process (a dyno or a container) answers with the app's Python version."""
    try:
        process.wait_until_serving()
    except AssertionError:
        raise AssertionError(process.log()) from None
    response = process.get("/")
    assert response.status == 200, process.log()
    assert response.text.startswith(f"python {version}\n"), response.text
    process.terminate()


@pytest.fixture(scope="module")
def heroku_slugs(heroku: Heroku, python_mirror, app_312):
    """server -> Slug, built on first use, all with one cache (each server compiles once)."""
    cache = heroku.empty_cache()
    built = {}

    def get(server: str):
        if server not in built:
            slug = heroku.build(app_312, {**mirror_config(python_mirror), "LAUNCHPACK_SERVER": server}, cache_dir=cache)
            assert slug.compile.ok, slug.compile.output
            built[server] = slug
        return built[server]

    get.cache = cache
    return get


@pytest.mark.parametrize("server", SERVERS)
def test_heroku_managed_python_serves_with_the_cache_gone(heroku: Heroku, heroku_slugs, python_mirror, server):
    slug = heroku_slugs(server)
    version = ".".join(map(str, python_mirror.version))
    assert f"Using Python {version} (.python-version, uv-managed)" in slug.compile.output
    with CacheOutOfReach(heroku_slugs.cache), heroku.start(slug) as dyno:
        assert_serves_python(dyno, version)
    assert "cannot open shared object file" not in dyno.log()


def test_heroku_django_6_on_python_3_12_with_mod_wsgi(heroku: Heroku, heroku_slugs, python_mirror, tmp_path_factory):
    """A new Django project today: Django 6 requires Python 3.12, which this stack lacks."""
    app = str(tmp_path_factory.mktemp("django6") / "django")
    subprocess.run(["cp", "-a", os.path.join(EXAMPLES, "django"), app], check=True)
    write(os.path.join(app, ".python-version"), "3.12\n")
    write(os.path.join(app, "requirements.txt"), "Django>=6.0,<6.1\n")
    heroku_slugs("mod_wsgi")  # the shared cache holds mod_wsgi compiled against 3.12
    slug = heroku.build(app, mirror_config(python_mirror), cache_dir=heroku_slugs.cache)
    assert slug.compile.ok, slug.compile.output
    assert "+ django==6.0." in slug.compile.output and "Django's system checks (manage.py check) passed." in (
        slug.compile.output
    )
    with CacheOutOfReach(heroku_slugs.cache), heroku.start(slug) as dyno:
        dyno.wait_until_serving()
        login = dyno.get("/admin/login/")
        assert login.status == 200, dyno.log()
        for href in stylesheets(login.text):
            css = dyno.get(href)
            assert css.status == 200 and css.headers["content-type"].startswith("text/css"), href
        dyno.terminate()


def runpaths(path: str) -> list[str]:
    """The RUNPATH and RPATH entries `readelf -d` shows for an ELF file."""
    shown = subprocess.run(["readelf", "-d", path], capture_output=True, text=True, check=True).stdout
    found = []
    for line in shown.splitlines():
        if "(RUNPATH)" in line or "(RPATH)" in line:
            found.extend(line.split("[", 1)[1].rstrip("]").split(":"))
    return found


def test_heroku_compiled_servers_have_no_runpath_into_the_cache(heroku_slugs):
    for server, pattern in (
        ("mod_wsgi", "lib/python3.12/site-packages/mod_wsgi/server/mod_wsgi-*.so"),
        ("uwsgi", "bin/uwsgi"),
    ):
        slug = heroku_slugs(server)
        venv = os.path.join(slug.path, ".launchpack-runtime", "venv")
        (binary,) = glob.glob(os.path.join(venv, pattern))
        entries = runpaths(binary)
        for entry in entries:
            assert heroku_slugs.cache not in entry and slug.build_dir not in entry, (binary, entries)
        # One names the interpreter copy inside the environment, which has libpython. (Others
        # may stay, e.g. python-build-standalone's build prefix /install/lib: not the cache's.)
        relative = [e for e in entries if e.startswith("$ORIGIN/")]
        assert len(relative) == 1, (binary, entries)
        directory = os.path.normpath(relative[0].replace("$ORIGIN", os.path.dirname(binary)))
        assert directory == os.path.join(venv, "interpreter", "lib"), (binary, entries)
        assert glob.glob(os.path.join(directory, "libpython3.12.so.1.0")), (binary, entries)
        # The in-slug interpreter finds its own libpython too.
        python = os.path.join(venv, "interpreter", "bin", "python3.12")
        assert [e for e in runpaths(python) if e.startswith("/")] == [], runpaths(python)


# --- CNB -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cnb_images(cnb, python_mirror, app_312):
    cache = cnb.new_cache()
    built = {}

    def get(server: str):
        if server not in built:
            build = cnb.build(app_312, {**mirror_config(python_mirror), "LAUNCHPACK_SERVER": server}, cache=cache)
            assert build.ok, build.output
            built[server] = build
        return built[server]

    return get


@pytest.mark.parametrize("server", SERVERS)
def test_cnb_managed_python_serves_without_the_cache_layer(cnb, cnb_images, python_mirror, server):
    build = cnb_images(server)
    version = ".".join(map(str, python_mirror.version))
    # The cache layer (uv's managed Pythons) is not in the image: the container cannot reach it.
    assert not os.path.exists(build.image.layer_dir(BP, "cache"))
    assert os.path.isdir(os.path.join(build.image.layer_dir(BP, "venv"), "interpreter"))
    with cnb.start(build.image) as container:
        assert_serves_python(container, version)
