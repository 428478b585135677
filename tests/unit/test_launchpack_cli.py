"""The `launchpack` command's pure parts: arguments, config, ports, shell code, explain."""

import os
import subprocess

import pytest

from runtime import config, errors
from runtime.adapters import cli, explain, local_project, local_run, local_shell
from runtime.appinfo import inspect_app
from runtime.python_version import Interpreter
from tests.conftest import EXAMPLES, FIXTURES, write


@pytest.fixture(autouse=True)
def scratch_home(tmp_path, monkeypatch):
    """Never the real ~/.launchpack, even if a test goes further than it should."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LAUNCHPACK_HOME", str(tmp_path / "launchpack-home"))
    for name in ("LAUNCHPACK_PROJECT", "LAUNCHPACK_PROJECT_DIR", "LAUNCHPACK_PROJECT_ENV"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(
    "argv", [[], ["frobnicate"], ["exec"], ["exec", "--"], ["destroy"], ["start", "--server", "nginx"], ["build", "-x"]]
)
def test_usage_errors_exit_2(argv, capsys):
    assert cli.main(argv) == 2
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize("command", ["activate", "build", "start", "setup", "migrate", "exec", "explain", "destroy"])
def test_every_command_has_help(command, capsys):
    assert cli.main([command, "--help"]) == 0
    assert capsys.readouterr().out.startswith(f"usage: launchpack {command}")


def test_local_config_is_launchpack_settings_then_dotenv_then_overrides():
    environ = {
        "PATH": "/usr/bin",
        "HOME": "/root",
        "TERM": "xterm",
        "LAUNCHPACK_PROJECT": "mysite",
        "LAUNCHPACK_HOME": "/h",
        "LAUNCHPACK_WSGI_APP": "app:make",
        "LAUNCHPACK_SERVER": "gunicorn",
        "DJANGO_SETTINGS_MODULE": "mysite.dev",
    }
    dotenv = {"DJANGO_SETTINGS_MODULE": "mysite.local", "SECRET_KEY": "xyzzy-secret", "PATH": "/evil"}
    vars_ = cli.local_config(environ, dotenv, {"LAUNCHPACK_SERVER": "waitress"})
    assert dict(vars_.values) == {
        "LAUNCHPACK_WSGI_APP": "app:make",
        "LAUNCHPACK_SERVER": "waitress",
        "DJANGO_SETTINGS_MODULE": "mysite.local",
        "SECRET_KEY": "xyzzy-secret",
    }
    assert vars_.denied == ("PATH",)
    assert "xyzzy-secret" in vars_.secrets()


def test_reload_is_asked_for_by_the_flag_or_either_variable():
    assert cli.reload_requested(True, {}) == "--reload"
    assert cli.reload_requested(False, {"LAUNCHPACK_RELOAD": "1"}) == "LAUNCHPACK_RELOAD=1"
    assert cli.reload_requested(False, {"MOD_WSGI_RELOAD_ON_CHANGES": "true"}) == "MOD_WSGI_RELOAD_ON_CHANGES=true"
    assert cli.reload_requested(False, {"LAUNCHPACK_RELOAD": "0"}) is None


def test_port_follows_honcho_with_launchpack_default():
    assert local_run.choose_port({}, {}) == (8080, "launchpack's default")
    assert local_run.choose_port({"PORT": "5001"}, {}) == (5001, "the PORT environment variable")
    assert local_run.choose_port({"PORT": "5001"}, {"PORT": "5002"}) == (5002, ".env")
    with pytest.raises(errors.InvalidPort):
        local_run.choose_port({"PORT": "eighty"}, {})


def test_dotenv_is_read_by_honcho(tmp_path):
    write(str(tmp_path / ".env"), "A=1\nB='two words'\n# comment\nexport C=3\nD=\"x\\ny\"\n")
    values = local_run.read_dotenv(str(tmp_path), "build")
    assert values["A"] == "1" and values["B"] == "two words" and values["D"] == "x\ny"
    assert local_run.read_dotenv(str(tmp_path / "none"), "build") == {}


def shell(program: str, script: str) -> str:
    return subprocess.run([program, "-c", script], capture_output=True, text=True, check=True).stdout


@pytest.mark.parametrize("program", ["bash", "dash"])
def test_activation_and_deactivation_in_posix_shells(program, tmp_path):
    first = local_project.Project("one", "/src/one", "/h/envs/one", "/h")
    second = local_project.Project("two", "/src/two", "/h/envs/two", "/h")
    code_one = local_shell.activation(first, "/h/envs/one/venv")
    code_two = local_shell.activation(second, "/h/envs/two/venv")
    write(str(tmp_path / "one.sh"), code_one)
    write(str(tmp_path / "two.sh"), code_two)
    write(str(tmp_path / "off.sh"), local_shell.deactivation())
    script = f"""PS1='$ '; PATH=/usr/bin:/bin; VIRTUAL_ENV=/other/venv
eval "$(cat {tmp_path}/one.sh)"; echo "1 [$PS1] $PATH $VIRTUAL_ENV $LAUNCHPACK_PROJECT $LAUNCHPACK_PROJECT_DIR"
eval "$(cat {tmp_path}/two.sh)"; echo "2 [$PS1] $PATH $LAUNCHPACK_PROJECT"
deactivate; echo "3 [$PS1] $PATH $VIRTUAL_ENV ${{LAUNCHPACK_PROJECT:-none}}"
eval "$(cat {tmp_path}/one.sh)"; eval "$(cat {tmp_path}/off.sh)"; echo "4 [$PS1] $PATH ${{LAUNCHPACK_PROJECT:-none}}"
"""
    lines = shell(program, script).splitlines()
    assert lines[0] == "1 [(launchpack+one) $ ] /h/envs/one/venv/bin:/usr/bin:/bin /h/envs/one/venv one /src/one"
    assert lines[1] == "2 [(launchpack+two) $ ] /h/envs/two/venv/bin:/usr/bin:/bin two"
    assert lines[2] == "3 [$ ] /usr/bin:/bin /other/venv none"
    assert lines[3] == "4 [$ ] /usr/bin:/bin none"


def test_explain_a_wsgi_app_without_building_it(tmp_path):
    app = str(tmp_path / "app")
    subprocess.run(["cp", "-a", os.path.join(FIXTURES, "wsgi_app"), app], check=True)
    write(os.path.join(app, ".launchpack/action_hooks/deploy"), "#!/bin/sh\n", mode=0o755)
    write(os.path.join(app, ".python-version"), "3.11\n")
    config_vars = config.from_mapping({"LAUNCHPACK_STATIC_URL": "assets", "LAUNCHPACK_STATIC_ROOT": "static"})
    info = inspect_app(app, config_vars)
    project = local_project.Project("app", app, "/h/envs/app", "/h")
    found = explain.facts(project, info, config_vars, Interpreter("/usr/bin/python3.11", (3, 11, 2)), None, {})
    assert found["python"] == {"version": "3.11.2", "requested": "3.11", "source": ".python-version", "ignored": []}
    assert found["static"]["url"] == "/assets/" and found["static"]["root"] == "static"
    assert found["hooks"] == {
        "deploy": {"path": ".launchpack/action_hooks/deploy", "runs": "by launchpack start, before the server starts"}
    }
    web = found["processes"]["generated"]["web"]
    assert web.startswith(". /h/envs/app/runtime/env.sh && exec "), web
    assert "mod_wsgi-express start-server" in web and '--url-alias /assets/ "$LAUNCHPACK_APP_DIR/static/"' in web
    # mod_wsgi serves the static files itself (Apache), so the app is not wrapped in WhiteNoise.
    assert "launchpack_wsgi" not in web
    titles = [title for title, _ in explain.render(found)]
    assert "Python 3.11.2" in titles and "Entry point: wsgi:application" in titles


def test_explain_a_django_app_says_what_the_build_will_tell(tmp_path):
    info = inspect_app(os.path.join(EXAMPLES, "django"), config.ConfigVars())
    project = local_project.Project("django", info.app_dir, "/h/envs/django", "/h")
    found = explain.facts(project, info, config.ConfigVars(), Interpreter("/usr/bin/python3", (3, 11, 2)), None, {})
    assert found["entry_point"] == {"value": None, "source": f"WSGI_APPLICATION in mysite.settings: {explain.WHEN_BUILT}"}
    assert found["processes"] == {"generated": {}, "user_procfile": None, "complete": False}


def test_readme_shows_the_setup_hook_the_walkthrough_test_runs():
    from tests.integration.test_cli import SETUP_HOOK

    with open(os.path.join(EXAMPLES, "..", "README.md"), encoding="utf-8") as handle:
        assert "```bash\n" + SETUP_HOOK + "```" in handle.read()


@pytest.mark.parametrize(
    "fixture, kind, entry, why",
    [
        ("flask_app_py", "wsgi", "app:app", "app.py defines app"),
        ("flask_factory", "wsgi", "flaskr:create_app()", "the package flaskr defines Flask's app factory create_app"),
        ("tornado_app", "python", None, "runs it as a script (python app.py)"),
        ("pyramid_project", "paste", "production.ini", "production.ini defines the main app"),
    ],
)
def test_explain_says_which_app_type_was_chosen_and_why(fixture, kind, entry, why):
    info = inspect_app(os.path.join(FIXTURES, fixture), config.ConfigVars())
    project = local_project.Project(fixture, info.app_dir, f"/h/envs/{fixture}", "/h")
    found = explain.facts(project, info, config.ConfigVars(), Interpreter("/usr/bin/python3.11", (3, 11, 2)), None, {})
    assert found["app_type"]["kind"] == kind
    assert why in found["app_type"]["why"]
    assert found["entry_point"]["value"] == entry


def test_explain_after_the_build_found_app_py_is_not_wsgi(tmp_path):
    """The import check may turn an app.py's candidate down: explain then tells what the build decided."""
    info = inspect_app(os.path.join(FIXTURES, "flask_app_py"), config.ConfigVars())
    project = local_project.Project("x", info.app_dir, "/h/envs/x", "/h")
    launch = {"kind": "python", "wsgi_app": None, "processes": {"web": "exec python app.py"}, "python": "3.11.2"}
    found = explain.facts(project, info, config.ConfigVars(), Interpreter("/usr/bin/python3.11", (3, 11, 2)), launch, {})
    assert found["app_type"]["kind"] == "python" and "as a script" in found["app_type"]["why"]
    assert found["entry_point"] == {"value": None, "source": "app.py defines no WSGI callable: it runs as a script"}
