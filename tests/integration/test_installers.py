"""Installers: uv and pip install the same set; private indexes and VCS URLs; uv-managed Python."""

from __future__ import annotations

import base64
import functools
import hashlib
import http.server
import io
import os
import subprocess
import threading
import zipfile

import pytest

from tests.conftest import EXAMPLES, FIXTURES, write
from tests.harness import pbs_mirror
from tests.harness.heroku import BUILD_USER, Heroku, chown_tree
from tests.integration.test_dependencies import distributions

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("app", [os.path.join(EXAMPLES, "django"), os.path.join(FIXTURES, "wsgi_app")])
def test_uv_installs_the_same_distributions_as_pip(heroku: Heroku, warm_cache_copy, app):
    with_uv = heroku.build(app, cache_dir=warm_cache_copy())
    with_pip = heroku.build(app, {"LAUNCHPACK_INSTALLER": "pip"}, cache_dir=warm_cache_copy())
    assert with_uv.compile.ok, with_uv.compile.output
    assert with_pip.compile.ok, with_pip.compile.output
    assert "with uv 0.13.9" in with_uv.compile.output and "with pip 26.3" in with_pip.compile.output
    assert distributions(with_uv) == distributions(with_pip)
    assert "mod_wsgi" in distributions(with_uv)  # the web server launchpack added (auto: mod_wsgi)


def make_wheel(name: str, version: str) -> tuple[str, bytes]:
    """A minimal pure-Python wheel (the private package a company index would serve)."""
    module = name.replace("-", "_")
    dist_info = f"{module}-{version}.dist-info"
    files = {
        f"{module}/__init__.py": f'VERSION = "{version}"\n',
        f"{dist_info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{dist_info}/WHEEL": "Wheel-Version: 1.0\nGenerator: launchpack-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    files[f"{dist_info}/RECORD"] = "\n".join(record + [f"{dist_info}/RECORD,,"]) + "\n"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return f"{module}-{version}-py3-none-any.whl", buffer.getvalue()


@pytest.fixture
def private_index(tmp_path):
    """A PEP 503 index on 127.0.0.1 serving one package that is not on PyPI."""
    name = "launchpack-private-demo"
    filename, data = make_wheel(name, "1.0")
    project = tmp_path / "index" / "simple" / name
    project.mkdir(parents=True)
    (project / filename).write_bytes(data)
    sha = hashlib.sha256(data).hexdigest()
    (project / "index.html").write_text(f'<html><body><a href="{filename}#sha256={sha}">{filename}</a></body></html>\n')
    requests: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format, *args):  # noqa: A002
            requests.append(self.path)

    http.server.ThreadingHTTPServer.block_on_close = False  # do not wait for idle keep-alive clients
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(tmp_path / "index"))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/simple/", requests
    server.shutdown()
    server.server_close()


@pytest.fixture
def git_package(heroku: Heroku):
    """A package in a local git repository (a VCS requirement), tagged v1, readable by the builder."""
    repo = heroku._mkdtemp("vcs_", owner=None)
    write(
        os.path.join(repo, "pyproject.toml"),
        '[project]\nname = "vcsdemo"\nversion = "1.0"\n\n[build-system]\nrequires = ["setuptools>=68"]\nbuild-backend = "setuptools.build_meta"\n',
    )
    write(os.path.join(repo, "vcsdemo.py"), 'WHERE = "from git"\n')
    git = ["git", "-C", repo, "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run(["git", "-C", repo, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "v1"], check=True)
    subprocess.run([*git, "tag", "v1"], check=True)
    chown_tree(repo, BUILD_USER)  # git refuses repositories owned by another user
    return f"vcsdemo @ git+file://{repo}@v1"


def test_private_index_config_var_and_vcs_url_with_uv(
    heroku: Heroku, app_copy, warm_cache_copy, private_index, git_package
):
    url, requests = private_index
    app = app_copy("deps_none")
    write(os.path.join(app, "requirements.txt"), f"launchpack-private-demo==1.0\n{git_package}\nsix==1.16.0\n")
    slug = heroku.build(app, {"PIP_EXTRA_INDEX_URL": url}, cache_dir=warm_cache_copy())
    assert slug.compile.ok, slug.compile.output
    assert any("launchpack-private-demo" in path for path in requests), requests  # uv asked our index
    installed = distributions(slug)
    assert installed["launchpack_private_demo"] == "1.0" and installed["vcsdemo"] == "1.0"
    with heroku.start(slug) as dyno:
        dyno.wait_until_serving()
        text = dyno.get("/import?launchpack_private_demo,vcsdemo").text
        assert "launchpack_private_demo imported\nvcsdemo imported" in text, text
        dyno.terminate()


def test_extra_index_url_in_requirements_with_pip(heroku: Heroku, app_copy, warm_cache_copy, private_index):
    url, requests = private_index
    app = app_copy("deps_none")
    write(os.path.join(app, "requirements.txt"), f"--extra-index-url {url}\nlaunchpack-private-demo==1.0\n")
    slug = heroku.build(app, {"LAUNCHPACK_INSTALLER": "pip"}, cache_dir=warm_cache_copy())
    assert slug.compile.ok, slug.compile.output
    assert distributions(slug)["launchpack_private_demo"] == "1.0"
    assert any("launchpack-private-demo" in path for path in requests), requests


@pytest.fixture
def python_mirror(heroku: Heroku):
    if not pbs_mirror.find_source():
        pytest.skip(
            f"no CPython 3.12 build under {pbs_mirror.SOURCES} to assemble a python-build-standalone archive from"
        )
    work = heroku._mkdtemp("pbs_", owner=None)  # readable by the build user
    mirror = pbs_mirror.make_mirror(work)
    mirror.start()
    yield mirror
    mirror.stop()


def test_uv_managed_python_from_a_mirror_runs_in_the_slug_as_another_user(
    heroku: Heroku, app_copy, warm_cache_copy, python_mirror
):
    """A Python the stack lacks, downloaded through UV_PYTHON_INSTALL_MIRROR, travels in the slug."""
    version = ".".join(map(str, python_mirror.version))
    config = {
        "UV_PYTHON_INSTALL_MIRROR": python_mirror.url,
        "UV_PYTHON_DOWNLOADS_JSON_URL": python_mirror.downloads_json,
        # This test is about the interpreter: a pure-Python server, not one compiled against it.
        "LAUNCHPACK_SERVER": "gunicorn",
    }
    app = app_copy("deps_none")
    write(os.path.join(app, ".python-version"), "3.12\n")
    cache = warm_cache_copy()
    slug = heroku.build(app, config, cache_dir=cache)
    assert slug.compile.ok, slug.compile.output
    assert f"Using Python {version} (.python-version, uv-managed)" in slug.compile.output
    assert any(path.endswith("install_only.tar.gz") for path in python_mirror.requests), python_mirror.requests

    venv = os.path.join(slug.path, ".launchpack-runtime", "venv")
    for root, dirs, files in os.walk(venv):
        for name in dirs + files:
            path = os.path.join(root, name)
            if os.path.islink(path):  # every link stays inside the slug
                assert not os.path.isabs(os.readlink(path)), (path, os.readlink(path))
                assert os.path.realpath(path).startswith(slug.path + os.sep), path
    with open(os.path.join(venv, "pyvenv.cfg")) as handle:
        cfg = handle.read()
    assert "home = /app/.launchpack-runtime/venv/interpreter/bin" in cfg and "/root" not in cfg and "/tmp/" not in cfg

    # The dyno user cannot read /root (where the archive's CPython came from) nor the cache.
    with heroku.start(slug) as dyno:
        dyno.wait_until_serving()
        assert dyno.get("/?gunicorn").text.startswith(f"python {version}\ngunicorn ")
        dyno.terminate()

    # Downloaded once: with the mirror gone the next build reuses the cached interpreter and env.
    python_mirror.requests.clear()
    again = heroku.build(app, {**config, "UV_PYTHON_INSTALL_MIRROR": "http://127.0.0.1:9/unreachable"}, cache_dir=cache)
    assert again.compile.ok, again.compile.output
    assert "Reusing the app's Python environment" in again.compile.output
    assert python_mirror.requests == []

    # Back to the stack's Python: the reason is named.
    write(os.path.join(app, ".python-version"), "3.11\n")
    back = heroku.build(app, cache_dir=cache)
    assert back.compile.ok, back.compile.output
    assert f"- the Python version changed ({version} (uv-managed) -> 3.11.2)" in back.compile.output
