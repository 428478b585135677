"""The Heroku classic adapter end to end: build as one user, move the slug, serve as another."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import EXAMPLES, REPO, stylesheets, write
from tests.harness.heroku import Heroku, free_port

pytestmark = pytest.mark.integration


def assert_no_traceback(output: str) -> None:
    assert "Traceback (most recent call last)" not in output, output


@pytest.fixture(scope="module")
def django_slug(heroku: Heroku):
    slug = heroku.build(os.path.join(EXAMPLES, "django"))
    assert slug.compile.ok, slug.compile.output
    return slug


def test_django_example_serves_welcome_page_and_styled_admin(heroku: Heroku, django_slug):
    assert "Generated a Procfile: web" in django_slug.compile.output
    # The supplied STATIC_ROOT went into the slug, not into the user's settings.
    with open(os.path.join(django_slug.path, "mysite", "settings.py")) as handle:
        assert "STATIC_ROOT" not in handle.read()
    assert os.path.isfile(os.path.join(django_slug.path, ".launchpack-runtime", "static", "admin", "css", "base.css"))

    with heroku.start(django_slug, config={"MOD_WSGI_ACCESS_LOG": "1"}) as dyno:  # mod_wsgi's is off by default
        dyno.wait_until_serving()
        home = dyno.get("/")
        assert home.status == 200
        assert "The install worked successfully" in home.text

        login = dyno.get("/admin/login/")
        assert login.status == 200
        sheets = stylesheets(login.text)
        assert sheets, login.text
        for href in sheets:
            css = dyno.get(href)
            assert css.status == 200, href
            assert css.headers["content-type"].startswith("text/css"), (href, css.headers)
            assert len(css.body) > 100
        elapsed = dyno.terminate()
        assert elapsed < 30
        assert dyno.proc.returncode is not None
        log = dyno.log()
        assert "GET /admin/login/" in log  # access log goes to stdout


def test_slug_needs_nothing_from_the_build(django_slug):
    """No file in the slug refers to the build dir, /root or the pyenv interpreter."""
    offenders = []
    for root, _dirs, files in os.walk(django_slug.path):
        for name in files:
            path = os.path.join(root, name)
            if os.path.islink(path):
                target = os.readlink(path)
                if target.startswith(("/tmp/build_", "/root")):
                    offenders.append(f"{path} -> {target}")
                continue
            if name.endswith((".pyc", ".whl")):
                continue
            with open(path, "rb") as handle:
                head = handle.read(200_000)
            if django_slug.build_dir.encode() in head or b"/root/.pyenv" in head:
                offenders.append(path)
    # Only informational records (pip's RECORD/INSTALLER-style files) may mention it.
    offenders = [o for o in offenders if not o.endswith(("RECORD", "pyvenv.cfg"))]
    assert offenders == []


def test_plain_wsgi_app_with_static_files(heroku: Heroku):
    config = {"LAUNCHPACK_STATIC_URL": "/assets/", "LAUNCHPACK_STATIC_ROOT": "static"}
    slug = heroku.build(os.path.join(REPO, "tests", "fixtures", "wsgi_app"), config)
    assert slug.compile.ok, slug.compile.output
    assert "--url-alias /assets/" in slug.process_command("web")  # mod_wsgi, the default, serves them
    with heroku.start(slug, config=config) as dyno:
        dyno.wait_until_serving()
        page = dyno.get("/hello")
        assert page.status == 200 and page.text == "Hello from plain WSGI at /hello\n"
        css = dyno.get("/assets/site.css")
        assert css.status == 200 and css.headers["content-type"].startswith("text/css")
        assert b"rebeccapurple" in css.body
        assert dyno.terminate() < 30


def test_rebuild_with_same_cache_downloads_nothing(heroku: Heroku, warm_caches):
    # The app's first build (empty cache) downloads Django and compiles mod_wsgi, the default
    # server (the session's warm cache is exactly such a first build); the next build does neither.
    first = warm_caches["mod_wsgi"]
    assert "downloading django" in first.first_build_output.lower()
    # uv, the installer, reports a source build as "Building mod-wsgi==X" then "Built mod-wsgi==X".
    assert re.search(r"^\s*Built mod[-_]wsgi==", first.first_build_output, re.M | re.I), first.first_build_output
    cache = heroku.copy_cache(first.path)
    second = heroku.build(os.path.join(EXAMPLES, "django"), cache_dir=cache)
    assert second.compile.ok, second.compile.output
    assert "Downloading" not in second.compile.output
    assert not re.search(r"^\s*Buil(t|ding) mod[-_]wsgi", second.compile.output, re.M | re.I)
    assert "Reusing the app's Python environment: nothing it depends on changed" in second.compile.output
    with heroku.start(second) as dyno:
        dyno.wait_until_serving()
        assert dyno.get("/").status == 200


def test_changed_requirements_rebuild_the_environment_from_the_cache(heroku: Heroku, app_copy):
    app = app_copy("django")
    cache = heroku.new_cache()
    first = heroku.build(app, cache_dir=cache)
    assert first.compile.ok, first.compile.output
    with open(os.path.join(app, "requirements.txt"), "a") as handle:
        handle.write("six\n")
    again = heroku.build(app, cache_dir=cache)
    assert again.compile.ok, again.compile.output
    assert "Discarding cache since:\n       - requirements.txt changed\n" in again.compile.output
    assert "downloading django" not in again.compile.output.lower()  # uv's cache still has it
    # mod_wsgi, built from its sdist when the session's seed cache was made, is compiled by
    # neither build: the wheelhouse has it. (This machine's PyPI proxy sends no cache headers,
    # so uv's own cache would call the sdist stale and compile it in both.)
    for build in (first, again):
        assert not re.search(r"^\s*Buil(t|ding) mod[-_]wsgi", build.compile.output, re.M | re.I), build.compile.output
    assert os.path.isfile(os.path.join(again.path, ".launchpack-runtime/venv/lib/python3.11/site-packages/six.py"))
    with heroku.start(again) as dyno:
        dyno.wait_until_serving()
        assert dyno.get("/admin/login/").status == 200


def test_user_procfile_is_authoritative(heroku: Heroku, app_copy):
    app = app_copy("django")
    write(os.path.join(app, "Procfile"), "web: gunicorn --bind 0.0.0.0:$PORT mysite.wsgi\n")
    with open(os.path.join(app, "requirements.txt"), "a") as handle:  # launchpack adds no server then
        handle.write("gunicorn\n")
    slug = heroku.build(app)
    assert slug.compile.ok, slug.compile.output
    with open(os.path.join(slug.path, "Procfile")) as handle:
        assert handle.read() == "web: gunicorn --bind 0.0.0.0:$PORT mysite.wsgi\n"
    # bin/release still offers ours for types the Procfile lacks.
    assert "default_process_types:" in slug.release_yaml
    with heroku.start(slug) as dyno:  # PATH from .profile.d finds the app env's gunicorn
        dyno.wait_until_serving()
        assert dyno.get("/").status == 200


def test_config_vars_reach_hooks_but_values_are_never_printed(heroku: Heroku, app_copy):
    app = app_copy("wsgi_app")
    write(
        os.path.join(app, ".launchpack", "action_hooks", "build"),
        '#!/bin/bash\nset -eu\n[ "$API_TOKEN" = "s3cr3t-value-123" ] && echo "hook saw the token"\n'
        'echo "leaking: $API_TOKEN"\n[ -z "${LD_PRELOAD:-}" ] && echo "LD_PRELOAD not exported"\n',
        mode=0o755,
    )
    result = heroku.build(app, {"API_TOKEN": "s3cr3t-value-123", "LD_PRELOAD": "/nonexistent.so"})
    assert result.compile.ok, result.compile.output
    output = result.compile.output
    assert "hook saw the token" in output
    assert "LD_PRELOAD not exported" in output
    assert "s3cr3t-value-123" not in output
    assert "leaking: [hidden]" in output


def test_hooks_run_in_order_with_the_app_environment(heroku: Heroku, app_copy):
    app = app_copy("django")
    for hook, text in (
        ("bin/pre_compile", 'echo "pre_compile: $(command -v python)"; python -c "import django" 2>/dev/null || echo "no django yet"'),
        (".launchpack/action_hooks/build", 'python -c "import django; print(\'build: django\', django.__version__)"'),
        ("bin/post_compile", 'test -f .launchpack-runtime/static/admin/css/base.css && echo "post_compile: static collected"'),
    ):
        write(os.path.join(app, hook), f"#!/bin/bash\nset -e\n{text}\n", mode=0o755)
    result = heroku.build(app)
    assert result.compile.ok, result.compile.output
    out = result.compile.output
    assert re.search(r"pre_compile: /tmp/build_\w+/\.launchpack-runtime/venv/bin/python", out), out
    assert "no django yet" in out
    assert out.index("no django yet") < out.index("build: django") < out.index("post_compile: static collected")


def test_release_process_runs_migrate_hook_as_one_off(heroku: Heroku, app_copy):
    app = app_copy("django")
    write(os.path.join(app, ".launchpack", "action_hooks", "migrate"), "#!/bin/bash\nset -e\npython manage.py migrate --noinput\n", mode=0o755)
    slug = heroku.build(app)
    assert slug.compile.ok, slug.compile.output
    release = slug.process_command("release")
    assert release and ".launchpack/action_hooks/migrate" in release
    # Heroku's release phase: a one-off dyno running the release command to completion.
    result = heroku.run_one_off(slug, release)
    assert result.returncode == 0, result.output
    assert "Applying auth.0001_initial... OK" in result.output
    assert "waiting" not in result.output  # only honcho makes it wait


def test_honcho_start_in_the_built_app_serves_and_keeps_running_after_release(heroku: Heroku, app_copy):
    app = app_copy("django")
    write(os.path.join(app, ".launchpack", "action_hooks", "migrate"), "#!/bin/bash\nset -e\npython manage.py migrate --noinput\n", mode=0o755)
    slug = heroku.build(app)
    assert slug.compile.ok, slug.compile.output
    port = free_port()
    honcho = os.path.join(os.path.dirname(sys.executable), "honcho")
    env = {"PATH": "/usr/bin:/bin", "PORT": str(port), "HOME": slug.path}
    log_path = os.path.join(slug.path, "honcho.log")
    with open(log_path, "w") as log:
        proc = subprocess.Popen([honcho, "start"], cwd=slug.path, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        import urllib.request

        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and "release finished; waiting" not in open(log_path).read():
            assert proc.poll() is None, open(log_path).read()
            time.sleep(0.5)
        # The release process has run and is waiting: honcho must still be running the web process.
        assert proc.poll() is None, open(log_path).read()
        assert urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10).status == 200
        assert urllib.request.urlopen(f"http://127.0.0.1:{port}/admin/login/", timeout=10).status == 200
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    output = open(log_path).read()
    assert "Applying auth.0001_initial... OK" in output
    assert "release finished; waiting" in output


def test_the_slug_carries_its_own_python(heroku: Heroku, django_slug):
    """heroku-24's run image has no system Python: the dyno must not need the build machine's."""
    result = heroku.run_one_off(
        django_slug,
        '/usr/bin/python3 -c "" 2>/dev/null && echo "system python present" || echo "no system python"; '
        'python -c "import sys, ssl, sqlite3, decimal; print(sys.executable, sys.base_prefix)"',
    )
    assert result.returncode == 0, result.output
    assert "no system python" in result.output
    assert "/app/.launchpack-runtime/venv/bin/python /app/.launchpack-runtime/venv/interpreter" in result.output
