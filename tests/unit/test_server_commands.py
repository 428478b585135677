"""Server choice and the generated server commands (pure functions)."""

from __future__ import annotations

import optparse
import os
import shlex
import subprocess

import pytest

from runtime import appinfo, errors, processes, server_choice, servers
from runtime.config import ConfigVars
from runtime.server_choice import ServerRequest
from runtime.servers import WebApp
from tests.conftest import FIXTURES, write

DJANGO_WEB = WebApp("mysite.wsgi:application", "/static/", ".launchpack-runtime/static", serve_static=True)


def test_auto_is_mod_wsgi_when_it_can_be_built():
    choice = server_choice.decide(ServerRequest("auto", "the default"), None)
    assert (choice.server, choice.fell_back) == ("mod_wsgi", False)


def test_auto_falls_back_to_gunicorn_and_says_why():
    choice = server_choice.decide(ServerRequest("auto", "the default"), "a C compiler")
    assert (choice.server, choice.fell_back) == ("gunicorn", True)
    assert "lacks a C compiler" in choice.message


def test_explicit_mod_wsgi_that_cannot_be_built_is_an_error():
    with pytest.raises(errors.ModWsgiUnavailable):
        server_choice.decide(ServerRequest("mod_wsgi", "the config var LAUNCHPACK_SERVER"), "apxs")
    assert server_choice.decide(ServerRequest("uwsgi", "x"), "apxs").server == "uwsgi"


def test_mod_wsgi_problem_looks_for_apxs_and_a_compiler(tmp_path):
    assert "apache2-dev" in server_choice.mod_wsgi_problem(str(tmp_path))
    for name in ("apxs", "cc"):
        write(str(tmp_path / name), "#!/bin/sh\n", mode=0o755)
    assert server_choice.mod_wsgi_problem(str(tmp_path)) is None
    assert server_choice.mod_wsgi_problem("/nonexistent", bundled_apache=True) is None


def test_server_file_wins_over_the_config_var(tmp_path):
    config = ConfigVars({"LAUNCHPACK_SERVER": "waitress"})
    assert server_choice.read_request(str(tmp_path), config) == ServerRequest(
        "waitress", "the config var LAUNCHPACK_SERVER"
    )
    write(str(tmp_path / ".launchpack/server"), "# our choice\nuWSGI\n")
    assert server_choice.read_request(str(tmp_path), config) == ServerRequest("uwsgi", ".launchpack/server")
    assert server_choice.read_request(str(tmp_path / "none"), ConfigVars()).name == "auto"


def test_unknown_server_names_the_valid_ones(tmp_path):
    with pytest.raises(errors.UnknownServer) as caught:
        server_choice.read_request(str(tmp_path), ConfigVars({"LAUNCHPACK_SERVER": "nginx"}))
    assert "auto, mod_wsgi, gunicorn, uwsgi, waitress" in "\n".join(caught.value.render())


def test_app_type_precedence(tmp_path):
    app = str(tmp_path)
    write(app + "/wsgi.py", "application = None\n")
    assert appinfo.inspect_app(app, ConfigVars()).kind == "wsgi"
    write(app + "/manage.py", 'import os\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "site.settings")\n')
    write(app + "/site/settings.py", "")
    assert appinfo.inspect_app(app, ConfigVars()).kind == "django"
    write(app + "/paste.ini", "[app:main]\n")
    assert appinfo.inspect_app(app, ConfigVars()).kind == "paste"
    write(app + "/app.py", "")
    assert appinfo.inspect_app(app, ConfigVars()).kind == "python"
    write(app + "/app.sh", "#!/bin/sh\n", mode=0o755)
    info = appinfo.inspect_app(app, ConfigVars())
    assert info.kind == "shell" and servers.requirements(info.kind, "gunicorn") == {}
    write(app + "/Procfile", "web: gunicorn x:y\n")
    info = appinfo.inspect_app(app, ConfigVars())
    assert info.user_web and not info.serves_wsgi
    assert processes.web_command(info, None) is None


def test_paste_apps_get_pastedeploy():
    assert servers.requirements("paste", "waitress")["pastedeploy"] == "PasteDeploy"
    assert "pastedeploy" not in servers.requirements("wsgi", "waitress")


def test_server_args_are_kept_as_shell_words(tmp_path):
    write(str(tmp_path / "wsgi.py"), "")
    write(str(tmp_path / ".launchpack/server_args"), "# comment\n--timeout 60\n--env 'A=b c'\n")
    info = appinfo.inspect_app(str(tmp_path), ConfigVars())
    assert info.server_args == "--timeout 60 --env 'A=b c'"
    write(str(tmp_path / ".launchpack/server_args"), "--env 'unbalanced\n")
    with pytest.raises(errors.ServerArgsInvalid):
        appinfo.inspect_app(str(tmp_path), ConfigVars())


def test_unknown_server_mode(tmp_path):
    write(str(tmp_path / "wsgi.py"), "")
    with pytest.raises(errors.UnknownServerMode):
        appinfo.inspect_app(str(tmp_path), ConfigVars({"LAUNCHPACK_SERVER_MODE": "fast"}))


def words(command: str, **env: str) -> list[str]:
    """The command's words as the shell expands them (after `exec`)."""
    environment = {
        "PATH": os.environ["PATH"], "PORT": "5000", "WEB_CONCURRENCY": "3", "LAUNCHPACK_THREADS": "2",
        "LAUNCHPACK_APP_DIR": "/app", "LAUNCHPACK_RUNTIME_DIR": "/app/.launchpack-runtime", "LANG": "C.UTF-8",
        "VIRTUAL_ENV": "/app/.launchpack-runtime/venv", "LAUNCHPACK_RELOAD": "", "LAUNCHPACK_MOD_WSGI_ARGS": "",
        **env,
    }  # fmt: skip
    script = 'printf "%s\\n" ' + command.removeprefix("exec ")
    out = subprocess.run(["sh", "-c", script], env=environment, capture_output=True, text=True, check=True).stdout
    return out.splitlines()


@pytest.mark.parametrize("server", servers.NAMES)
def test_every_server_binds_port_on_all_interfaces_and_names_the_app(server):
    argv = words(servers.get(server).web_command(DJANGO_WEB))
    joined = " ".join(argv)
    assert "5000" in joined and "/tmp/build_" not in joined
    assert any(a in ("0.0.0.0:5000",) for a in argv) or server == "mod_wsgi" and "--port" in argv
    if server in ("mod_wsgi", "uwsgi"):  # the server serves the static files itself
        assert "/app/.launchpack-runtime/static" in joined
    if server == "mod_wsgi":
        assert "mysite.wsgi" in joined
    else:  # WhiteNoise or the request body limit (uWSGI's drops connections), through launchpack_wsgi
        assert argv[-1] == "launchpack_wsgi:application"


def test_mod_wsgi_command():
    argv = words(
        servers.get("mod_wsgi").web_command(DJANGO_WEB), LAUNCHPACK_MOD_WSGI_ARGS="--access-log --user lp --group lp"
    )
    assert argv[argv.index("--url-alias") + 1 : argv.index("--url-alias") + 3] == [
        "/static/",
        "/app/.launchpack-runtime/static/",
    ]
    assert argv[argv.index("--processes") + 1] == "3" and argv[argv.index("--threads") + 1] == "2"
    assert argv[argv.index("--user") + 1] == "lp" and "--access-log" in argv
    overridden = words(servers.get("mod_wsgi").web_command(DJANGO_WEB), MOD_WSGI_PROCESSES="7")
    assert overridden[overridden.index("--processes") + 1] == "7"
    assert argv[argv.index("--callable-object") + 1] == "application"


@pytest.mark.parametrize(
    "server, flag", [("gunicorn", "--reload"), ("uwsgi", "--py-autoreload"), ("mod_wsgi", "--reload-on-changes")]
)
def test_reload_flag(server, flag):
    command = servers.get(server).web_command(DJANGO_WEB)
    reload_args = "--reload-on-changes" if server == "mod_wsgi" else ""
    assert flag not in words(command)
    assert flag in words(command, LAUNCHPACK_RELOAD="1", LAUNCHPACK_MOD_WSGI_ARGS=reload_args)


@pytest.mark.parametrize("server", servers.NAMES)
def test_minimal_mode_passes_port_logging_and_server_args_only(server):
    web = WebApp("wsgi:application", "/static/", "static", True, mode="minimal", server_args="--my-option $PORT")
    argv = words(servers.get(server).web_command(web))
    assert "wsgi:application" not in argv and "wsgi" not in argv and "3" not in argv
    assert argv[-2:] == ["--my-option", "5000"]


def test_server_args_come_before_the_app_for_waitress():
    web = WebApp("wsgi:application", server_args="--url-scheme https")
    argv = words(servers.get("waitress").web_command(web))
    assert argv[-3:] == ["--url-scheme", "https", "wsgi:application"]
    assert argv[argv.index("--threads") + 1] == "6"


def test_mod_wsgi_server_args_come_last_so_that_yours_win():
    web = WebApp("wsgi:application", "/static/", "static", True, server_args="--entry-point other --threads 9")
    argv = words(servers.get("mod_wsgi").web_command(web))
    assert argv[-4:] == ["--entry-point", "other", "--threads", "9"]
    # mod_wsgi-express parses with optparse: the last of a repeated option is the one it uses.
    parser = optparse.OptionParser()
    for option in ("--entry-point", "--threads", "--callable-object", "--application-type", "--port"):
        parser.add_option(option)
    parsed, _ = parser.parse_args(_option_pairs(argv, ("--entry-point", "--threads", "--callable-object", "--port")))
    assert (parsed.entry_point, parsed.threads, parsed.callable_object) == ("other", "9", "application")


def _option_pairs(argv: list[str], names: tuple[str, ...]) -> list[str]:
    """The given options with their values, in order, from a command line."""
    pairs = []
    for index, word in enumerate(argv):
        if word in names:
            pairs += [word, argv[index + 1]]
    return pairs


def test_paths_with_spaces_stay_one_word():
    web = WebApp("wsgi:application", "/s/", "my static", True)
    argv = words(servers.get("uwsgi").web_command(web))
    assert argv[argv.index("--static-map") + 1] == "/s=/app/my static"
    assert shlex.split(servers.run_path("/abs/x y")) == ["/abs/x y"]


def test_fixture_app_is_a_wsgi_app():
    assert appinfo.inspect_app(os.path.join(FIXTURES, "server_app"), ConfigVars()).kind == "wsgi"
