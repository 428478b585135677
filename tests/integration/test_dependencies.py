"""Dependency sources, installers and what the slug contains, end to end through the Heroku harness.

One fixture app per dependency source (tests/fixtures/deps_*): each is built as the build user,
its slug unpacked and served as the dyno user, and asked over HTTP which distributions its
environment has. Builds start from a copy of a pre-warmed cache (the build tools installed, as
after a first build), so each test pays for its own app only.
"""

from __future__ import annotations

import glob
import os
import re

import pytest

from tests.conftest import FIXTURES, write
from tests.harness.heroku import Heroku, Slug

pytestmark = pytest.mark.integration

BUILD_TOOLS = {"pip", "uv", "poetry", "pipenv", "pip_tools", "virtualenv", "pip-tools"}
CACHE_NAMES = {"uv-cache", "poetry-cache", "pipenv-cache", "pip-cache", "wheels", ".cache", "xdg"}


def site_packages(slug: Slug) -> str:
    found = glob.glob(os.path.join(slug.path, ".launchpack-runtime/venv/lib/python3.*/site-packages"))
    assert len(found) == 1, found
    return found[0]


def distributions(slug: Slug) -> dict[str, str]:
    """name -> version of every distribution installed in the slug's environment."""
    result = {}
    for entry in os.listdir(site_packages(slug)):
        if entry.endswith(".dist-info"):
            name, version = entry[: -len(".dist-info")].rsplit("-", 1)
            result[name.lower().replace("-", "_")] = version
    return result


def assert_slug_has_no_build_tools_or_caches(slug: Slug) -> None:
    installed = distributions(slug)
    assert not BUILD_TOOLS & set(installed), installed
    for root, dirs, _files in os.walk(slug.path):
        assert not CACHE_NAMES & set(dirs), (root, CACHE_NAMES & set(dirs))
    assert not glob.glob(os.path.join(slug.path, ".launchpack-runtime/venv/bin/pip*"))


def serve_and_ask(heroku: Heroku, slug: Slug, query: str, path: str = "/") -> str:
    with heroku.start(slug) as dyno:
        dyno.wait_until_serving()
        response = dyno.get(f"{path}?{query}")
        assert response.status == 200, response.text
        assert dyno.terminate() < 30
        return response.text


SOURCES = {
    # fixture: (what the log says installs it, expected lines from GET /?six,idna)
    "deps_requirements": ("with uv 0.13.9", "six 1.16.0\nidna missing"),
    "deps_requirements_in": ("with pip-tools 7.6.2 + uv 0.13.9", "six 1.16.0\nidna missing"),
    "deps_uv": ("with uv 0.13.9", "six 1.16.0\nidna missing"),
    "deps_poetry": ("with poetry 2.5.1 + uv 0.13.9", "six 1.16.0\nidna missing"),
    "deps_pipenv": ("with pipenv 2026.10.3 + uv 0.13.9", "six 1.16.0\nidna missing"),
    "deps_pyproject": ("with uv 0.13.9", "six 1.16.0\nidna missing"),
    "deps_setup_py": ("with uv 0.13.9", "six 1.16.0\nidna missing"),
    "deps_none": ("(no dependency file) with uv 0.13.9", "six missing\nidna missing"),
}


@pytest.mark.parametrize("fixture", sorted(SOURCES))
def test_each_dependency_source_builds_and_serves(heroku: Heroku, warm_cache_copy, fixture):
    how, expected = SOURCES[fixture]
    slug = heroku.build(os.path.join(FIXTURES, fixture), cache_dir=warm_cache_copy())
    assert slug.compile.ok, slug.compile.output
    output = slug.compile.output
    assert how in output, output
    answer = serve_and_ask(heroku, slug, "six,idna,mod_wsgi")
    assert answer.startswith("python 3.11."), answer
    assert expected in answer, answer  # the lock's version, and no dev dependencies
    assert "mod_wsgi missing" not in answer  # the web server launchpack added (auto: mod_wsgi)
    assert_slug_has_no_build_tools_or_caches(slug)
    # Precompiled: the dyno never has to write bytecode for the environment.
    assert glob.glob(os.path.join(site_packages(slug), "mod_wsgi", "**", "__pycache__", "*.pyc"), recursive=True)
    assert re.search(r"the app is \d+\.\d MB", output)
    if fixture == "deps_requirements":  # -r, -c and -e ./localpkg; the editable install works at /app
        assert "localpkg imported" in serve_and_ask(heroku, slug, "localpkg", "/import")
    if fixture == "deps_requirements_in":  # the resolved pins are shown
        assert "Resolved requirements.in to 1 pinned requirement(s):\n         six==1.16.0" in output


def failed(heroku: Heroku, app: str, cache: str, config: dict[str, str] | None = None) -> str:
    result = heroku.compile(heroku.stage_app(app), cache, config)
    assert result.returncode == 1, result.output
    assert "Traceback (most recent call last)" not in result.output, result.output
    assert " !     Error: " in result.output
    return result.output


def test_dependency_source_errors_are_clear(heroku: Heroku, app_copy, warm_cache_copy):
    cache = warm_cache_copy()
    app = app_copy("deps_poetry")
    write(os.path.join(app, "requirements.txt"), "six\n")
    output = failed(heroku, app, cache)
    assert "Your app has more than one dependency file: requirements.txt, poetry.lock" in output

    app = app_copy("deps_pipenv")
    os.unlink(os.path.join(app, "Pipfile.lock"))
    output = failed(heroku, app, cache)
    assert "Your app has a Pipfile but no Pipfile.lock" in output
    assert "Run `pipenv lock` and commit Pipfile.lock." in output

    app = app_copy("deps_none")
    write(os.path.join(app, "requirements.txt"), "six\n")
    output = failed(heroku, app, cache, {"LAUNCHPACK_INSTALLER": "conda"})
    assert "LAUNCHPACK_INSTALLER=conda is not an installer launchpack knows" in output


@pytest.mark.parametrize(
    "fixture, manifest, edit, message, command",
    [
        (
            "deps_uv",
            "pyproject.toml",
            ('"six>=1.15"', '"six>=1.15", "idna"'),
            "uv.lock is out of date with pyproject.toml",
            "uv lock",
        ),
        (
            "deps_poetry",
            "pyproject.toml",
            ('"six>=1.15"', '"six>=1.15", "idna"'),
            "poetry.lock is out of date with pyproject.toml",
            "poetry lock",
        ),
        (
            "deps_pipenv",
            "Pipfile",
            ('six = "==1.16.0"', 'six = "==1.16.0"\nidna = "*"'),
            "Pipfile.lock is out of date with Pipfile",
            "pipenv lock",
        ),
    ],
)
def test_out_of_date_lock_fails_and_says_how_to_fix_it(
    heroku, app_copy, warm_cache_copy, fixture, manifest, edit, message, command
):
    app = app_copy(fixture)
    path = os.path.join(app, manifest)
    with open(path) as handle:
        text = handle.read()
    assert edit[0] in text
    write(path, text.replace(edit[0], edit[1]))
    cache = warm_cache_copy()
    output = failed(heroku, app, cache)
    assert message in output
    assert f"Run `{command}` and commit" in output
    # The cache stays usable: with the manifest restored the next build succeeds.
    write(path, text)
    again = heroku.build(app, cache_dir=cache)
    assert again.compile.ok, again.compile.output


def test_python_version_errors(heroku: Heroku, app_copy, warm_cache_copy):
    cache = warm_cache_copy()
    app = app_copy("deps_none")
    write(os.path.join(app, ".python-version"), "3.9\n")
    output = failed(heroku, app, cache)
    assert "Python 3.9 has reached its end of life" in output
    assert ".python-version asks for Python 3.9; its support ended on 2025-10-31" in output

    write(os.path.join(app, ".python-version"), "3.11.99\n")
    output = failed(heroku, app, cache)  # neither the stack nor uv has it
    assert "Python 3.11.99 is not available" in output
    assert "3.11.2" in output and "3.12." in output  # what is available instead

    os.unlink(os.path.join(app, ".python-version"))
    write(os.path.join(app, "pyproject.toml"), '[project]\nname = "x"\nversion = "1"\nrequires-python = ">=3.13"\n')
    output = failed(heroku, app, cache)
    assert "pyproject.toml's requires-python (>=3.13) excludes the default Python 3.11.2" in output
    assert "Pin the version you want in a .python-version file, e.g. '3.15'" in output

    write(os.path.join(app, ".python-version"), "3.11\n")
    write(os.path.join(app, "pyproject.toml"), '[project]\nname = "x"\nversion = "1"\nrequires-python = "==3.12.*"\n')
    output = failed(heroku, app, cache)
    assert "Python 3.11 and pyproject.toml (requires-python) for 3.12: .python-version wins" in output
    assert ".python-version asks for Python 3.11, which pyproject.toml's requires-python (==3.12.*) excludes" in output
