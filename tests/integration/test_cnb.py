"""The Cloud Native Buildpacks adapter end to end, through the lifecycle stand-in
(tests/harness/cnb.py): detect, restore, build as the CNB user at /workspace, export, launch."""

from __future__ import annotations

import os

import pytest
import tomllib

from tests.conftest import EXAMPLES, FIXTURES, stylesheets, write
from tests.harness.cnb import FAILED, PASSED, Build, Cache, Image, Lifecycle, tree_digest, write_json

pytestmark = pytest.mark.integration
BP = "launchpack/python"
WSGI_CONFIG = {"LAUNCHPACK_STATIC_URL": "/assets/", "LAUNCHPACK_STATIC_ROOT": "static"}


def built(build: Build) -> Build:
    assert build.ok, build.output
    assert "Traceback (most recent call last)" not in build.output, build.output
    return build


def assert_serves_django(lifecycle: Lifecycle, build: Build) -> None:
    # The default process, as `docker run -e PORT=... -e MOD_WSGI_ACCESS_LOG=1`: mod_wsgi (the default
    # server) logs requests only when asked to, and reads that when the container starts.
    with lifecycle.start(build.image, env={"MOD_WSGI_ACCESS_LOG": "1"}) as container:
        container.wait_until_serving()
        home = container.get("/")
        assert home.status == 200 and "The install worked successfully" in home.text, container.log()
        login = container.get("/admin/login/")
        assert login.status == 200
        sheets = stylesheets(login.text)
        assert sheets, login.text
        for href in sheets:
            css = container.get(href)
            assert css.status == 200 and css.headers["content-type"].startswith("text/css"), href
            assert len(css.body) > 100
        assert container.terminate() < 30
        assert "GET /admin/login/" in container.log()


# --- detect ------------------------------------------------------------------------------


def test_detect_passes_python_apps_and_exits_100_never_1_otherwise(cnb: Lifecycle, tmp_path):
    phase, plan, error = cnb.detect_only(os.path.join(FIXTURES, "wsgi_app"))
    assert (phase.returncode, error) == (PASSED, None), phase.output
    assert plan["entries"] == []  # no plan: nothing to provide to or require from other buildpacks

    for app in (os.path.join(FIXTURES, "not_python"), str(tmp_path)):  # tmp_path: an empty app
        phase, _plan, _error = cnb.detect_only(app)
        assert phase.returncode == FAILED, phase.output  # 100, never 1 (an error to the lifecycle)
        assert "No Python app found" in phase.output
        assert "Traceback" not in phase.output

    # Detection looks at marker files only: a broken Procfile is the build's business.
    broken = tmp_path / "broken"
    broken.mkdir()
    write(str(broken / "requirements.txt"), "\n")
    write(str(broken / "Procfile"), "this is not a process\n")
    assert cnb.detect_only(str(broken))[0].returncode == PASSED


# --- the stand-in itself follows the spec's restore matrix ----------------------------------


def test_harness_restores_layers_by_the_spec_matrix(cnb: Lifecycle, tmp_path):
    """buildpack.md "Layer Types": what comes back before a rebuild, for every combination."""
    combos = {  # name: (build, cache, launch)
        "ttt": (True, True, True), "ttf": (True, True, False), "tft": (True, False, True), "tff": (True, False, False),
        "ftt": (False, True, True), "ftf": (False, True, False), "fft": (False, False, True), "fff": (False, False, False),
        "stale": (False, True, True),  # launch + cache, but the cache's copy is not the image's
    }  # fmt: skip
    layers = {}
    for name, (b, c, launch) in combos.items():
        sha = "other" if name == "stale" else f"sha-{name}"
        layers[name] = {"types": {"build": b, "cache": c, "launch": launch}, "metadata": {"name": name}, "sha": sha}
    image = Image(str(tmp_path / "image"))
    os.makedirs(os.path.join(image.layers, "config"))
    in_image = {n: {**layer, "sha": f"sha-{n}"} for n, layer in layers.items() if layer["types"]["launch"]}
    write_json(os.path.join(image.layers, "config", "metadata.json"), {"layers": {BP: in_image}})
    cache = Cache(str(tmp_path / "cache"))
    cached = {n: layer for n, layer in layers.items() if layer["types"]["cache"]}
    for name in cached:
        write(os.path.join(cache.layer_dir(BP, name), "content"), name)
    os.makedirs(cache.path, exist_ok=True)
    write_json(os.path.join(cache.path, "metadata.json"), {BP: cached})
    target = tmp_path / "layers"
    target.mkdir()

    restored = cnb._restore(str(target), image, cache)

    assert restored == {
        "ttt": "metadata and contents", "ttf": "metadata and contents",
        "ftt": "metadata and contents", "ftf": "metadata and contents",
        "fft": "metadata",  # launch-only: metadata from the previous image, no contents
    }  # fmt: skip
    for name in combos:
        toml_path = target / f"{name}.toml"
        assert toml_path.exists() == (name in restored), name
        if name in restored:
            data = tomllib.loads(toml_path.read_text())
            assert data == {"metadata": {"name": name}}  # never [types]
        assert (target / name / "content").exists() == (restored.get(name) == "metadata and contents"), name


# --- the Django example: first build, unchanged rebuild, changed requirements -------------


@pytest.fixture(scope="module")
def django_first(cnb: Lifecycle):
    cache = cnb.new_cache()
    return built(cnb.build(os.path.join(EXAMPLES, "django"), cache=cache)), cache


@pytest.mark.xdist_group("cnb-django")
def test_django_example_builds_layers_and_serves_with_static_files(cnb: Lifecycle, django_first):
    build, _cache = django_first
    assert build.restored == {}  # no cache, no previous image
    types = {name: layer["types"] for name, layer in build.layer_types.items()}
    assert types == {
        "venv": {"launch": True, "build": False, "cache": True},
        "cache": {"launch": False, "build": False, "cache": True},
        "runtime-env": {"launch": True, "build": False, "cache": False},
    }
    assert build.exported == {"venv": "added", "runtime-env": "added"}  # the cache layer is not in the image
    assert build.cached == {"venv": "added", "cache": "added"}
    venv = build.image.layer_dir(BP, "venv")
    assert os.path.isdir(os.path.join(venv, "lib", "python3.11", "site-packages", "django"))
    assert not os.path.exists(build.image.layer_dir(BP, "cache"))
    # Runtime environment: env files and an executable exec.d program, no .profile.d.
    runtime = build.image.layer_dir(BP, "runtime-env")
    assert open(os.path.join(runtime, "env.launch", "DJANGO_SETTINGS_MODULE.override")).read() == "launchpack_settings"
    assert os.access(os.path.join(runtime, "exec.d", "launchpack-concurrency"), os.X_OK)
    assert not os.path.exists(os.path.join(build.image.app, ".profile.d"))
    # launch.toml: web is the default, a bash -c command without env.sh (the layers provide it).
    web = build.image.process("web")
    assert build.image.default_process == "web" and web["default"] is True
    assert web["command"][:2] == ["bash", "-c"] and "mod_wsgi-express start-server" in web["command"][2]
    assert "env.sh" not in web["command"][2]
    assert_serves_django(cnb, build)


@pytest.mark.xdist_group("cnb-django")
def test_unchanged_rebuild_reuses_every_layer(cnb: Lifecycle, django_first, record_property):
    first, cache = django_first
    again = built(cnb.build(os.path.join(EXAMPLES, "django"), cache=cnb.copy_cache(cache), previous=first.image))
    # What the lifecycle restored: cache layers with contents, the launch-only layer as metadata only.
    assert again.restored == {"venv": "metadata and contents", "cache": "metadata and contents", "runtime-env": "metadata"}
    out = again.build.output
    assert "Reusing the app's Python environment: nothing it depends on changed" in out
    assert "Reusing the launch environment layer (runtime-env): unchanged" in out
    assert "Installing dependencies" not in out and "Downloading" not in out
    # Export: the venv layer is byte-for-byte the previous one; the launch-only layer was not
    # recreated (no directory), so the previous image's is kept.
    assert again.exported == {"venv": "reused", "runtime-env": "reused-previous"}
    assert again.cached == {"venv": "reused", "cache": "reused"}
    for name in ("venv", "runtime-env"):
        assert tree_digest(again.image.layer_dir(BP, name)) == tree_digest(first.image.layer_dir(BP, name))
    first_s, again_s = first.seconds["build"], again.seconds["build"]
    record_property(
        "build_seconds",
        f"examples/django bin/build: first {first_s:.1f}s, unchanged rebuild {again_s:.1f}s"
        f" ({again_s / first_s:.0%}); lifecycle total {first.seconds['total']:.1f}s -> {again.seconds['total']:.1f}s",
    )
    assert_serves_django(cnb, again)


@pytest.mark.xdist_group("cnb-django")
def test_changed_requirements_reinstall_and_keep_the_rest(cnb: Lifecycle, django_first, app_copy):
    first, cache = django_first
    app = app_copy("django")
    with open(os.path.join(app, "requirements.txt"), "a") as handle:
        handle.write("six\n")
    again = built(cnb.build(app, cache=cnb.copy_cache(cache), previous=first.image))
    out = again.build.output
    assert "Discarding cache since:\n       - requirements.txt changed" in out
    assert "downloading django" not in out.lower()  # the cache layer's wheelhouse still has it
    assert again.exported == {"venv": "added", "runtime-env": "reused-previous"}
    site = os.path.join(again.image.layer_dir(BP, "venv"), "lib", "python3.11", "site-packages")
    assert os.path.isfile(os.path.join(site, "six.py"))
    with cnb.start(again.image) as container:
        container.wait_until_serving()
        assert container.get("/admin/login/").status == 200


@pytest.mark.xdist_group("cnb-django")
def test_user_procfile_release_process_and_one_off_commands(cnb: Lifecycle, django_first, app_copy):
    first, cache = django_first
    app = app_copy("django")
    write(os.path.join(app, "Procfile"), "web: gunicorn --bind 0.0.0.0:$PORT mysite.wsgi\nworker: python -c 'print(42)'\n")
    # With the user's own web command launchpack installs no server: the app lists the one it runs.
    with open(os.path.join(app, "requirements.txt"), "a") as handle:
        handle.write("gunicorn\n")
    write(
        os.path.join(app, ".launchpack", "action_hooks", "migrate"),
        '#!/bin/bash\nset -e\necho "release hook: $(command -v python)"\npython manage.py check\n',
        mode=0o755,
    )
    build = built(cnb.build(app, cache=cnb.copy_cache(cache), previous=first.image))
    assert "Discarding cache since:\n       - requirements.txt changed" in build.build.output
    processes = {p["type"]: p for p in build.image.metadata()["processes"]}
    assert set(processes) == {"web", "worker", "release"}
    assert processes["web"]["command"] == ["bash", "-c", "gunicorn --bind 0.0.0.0:$PORT mysite.wsgi"]  # the user's
    assert processes["web"]["default"] is True
    assert processes["release"]["default"] is False
    assert processes["release"]["command"] == ["bash", "-c", "exec ./.launchpack/action_hooks/migrate"]

    release = cnb.run(build.image, process="release")  # docker run --entrypoint release
    assert release.returncode == 0, release.output
    assert "release hook: /layers/launchpack_python/venv/bin/python" in release.output
    assert "System check identified no issues" in release.output
    assert "42" in cnb.run(build.image, process="worker").output

    # `docker run --entrypoint launcher image -- <command>`: run directly, no shell, no env.sh: the layers' env alone.
    one_off = cnb.run(build.image, command=["python", "-c", "import django, os; print(django.__version__, os.environ['DJANGO_SETTINGS_MODULE'])"])
    assert one_off.returncode == 0 and "launchpack_settings" in one_off.output, one_off.output
    # exec.d computed the concurrency default at start; a value the user passes wins.
    probe = ["sh", "-c", 'echo "WC=$WEB_CONCURRENCY T=$LAUNCHPACK_THREADS"']
    assert "T=2" in cnb.run(build.image, command=probe).output
    assert "WC=3 T=2" in cnb.run(build.image, command=probe, env={"WEB_CONCURRENCY": "3"}).output

    with cnb.start(build.image) as container:
        container.wait_until_serving()
        assert container.get("/").status == 200


@pytest.mark.xdist_group("cnb-django")
def test_config_vars_reach_the_build_except_the_deny_list_and_are_never_printed(cnb: Lifecycle, django_first, app_copy):
    _first, cache = django_first
    app = app_copy("wsgi_app")
    write(
        os.path.join(app, ".launchpack", "action_hooks", "build"),
        '#!/bin/bash\nset -eu\n[ "$API_TOKEN" = "s3cr3t-value-123" ] && echo "hook saw the token"\n'
        'echo "leaking: $API_TOKEN"\n[ -z "${LD_PRELOAD:-}" ] && echo "LD_PRELOAD not exported"\n'
        'case ":$PATH:" in *:/evil/bin:*) echo "PATH has the user value" ;; *) echo "PATH is ours" ;; esac\n',
        mode=0o755,
    )
    config = {**WSGI_CONFIG, "API_TOKEN": "s3cr3t-value-123", "LD_PRELOAD": "/nonexistent.so", "PATH": "/evil/bin"}
    build = built(cnb.build(app, config, cache=cnb.copy_cache(cache)))
    out = build.build.output
    assert "hook saw the token" in out and "leaking: [hidden]" in out
    assert "s3cr3t-value-123" not in out
    assert "LD_PRELOAD not exported" in out and "PATH is ours" in out
    assert "Not exporting the config vars LD_PRELOAD, PATH" in out


@pytest.mark.xdist_group("cnb-django")
def test_a_failing_build_names_the_problem_and_exports_nothing(cnb: Lifecycle, django_first, app_copy):
    first, cache = django_first
    app = app_copy("django")
    write(os.path.join(app, ".launchpack/action_hooks/build"), "#!/bin/sh\necho 'hook ran'\nexit 3\n", mode=0o755)
    warm = cnb.copy_cache(cache)
    failed = cnb.build(app, cache=warm, previous=first.image)
    assert not failed.ok and failed.build.returncode == 1  # the lifecycle's builder then fails (51)
    assert "Traceback (most recent call last)" not in failed.output
    assert "hook ran" in failed.output
    assert " !     Error: The hook .launchpack/action_hooks/build failed with exit status 3" in failed.output
    # Nothing was exported, so the cache is as it was and serves the next build.
    again = built(cnb.build(os.path.join(EXAMPLES, "django"), cache=warm, previous=first.image))
    assert again.exported["venv"] == "reused"


# --- a plain WSGI app, from the checkout and from the packaged buildpack (make dist) --------


@pytest.fixture(params=["checkout", "dist"])
def lifecycle(request) -> Lifecycle:
    return request.getfixturevalue("cnb" if request.param == "checkout" else "cnb_dist")


def test_wsgi_app_serves_static_files_and_rebuilds_from_the_cache(lifecycle: Lifecycle):
    cache = lifecycle.new_cache()
    first = built(lifecycle.build(os.path.join(FIXTURES, "wsgi_app"), WSGI_CONFIG, cache=cache))
    assert '--url-alias /assets/ "$LAUNCHPACK_APP_DIR/static/"' in first.image.process("web")["command"][2]
    again = built(lifecycle.build(os.path.join(FIXTURES, "wsgi_app"), WSGI_CONFIG, cache=cache, previous=first.image))
    assert again.exported == {"venv": "reused", "runtime-env": "reused-previous"}
    with lifecycle.start(again.image) as container:
        container.wait_until_serving()
        page = container.get("/hello")
        assert page.status == 200 and page.text == "Hello from plain WSGI at /hello\n"
        css = container.get("/assets/site.css")
        assert css.status == 200 and css.headers["content-type"].startswith("text/css")
        assert b"rebeccapurple" in css.body
        assert container.terminate() < 30
