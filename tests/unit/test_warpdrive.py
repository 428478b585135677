"""warpdrive's .warpdrive/ files as fallbacks for launchpack's own (runtime/warpdrive.py)."""

from __future__ import annotations

import dataclasses
import os

from runtime import appinfo, pipeline, processes, server_choice, warpdrive
from runtime.config import ConfigVars
from runtime.slug import launchpack_env
from tests.conftest import FIXTURES, write

EXE = 0o755


def wsgi_app(tmp_path) -> str:
    app = str(tmp_path)
    write(app + "/wsgi.py", "application = None\n")
    return app


def test_warpdrive_hooks_stand_in_for_missing_launchpack_hooks(tmp_path):
    app = wsgi_app(tmp_path)
    for name in ("pre-build", "build", "setup", "migrate", "deploy"):
        write(f"{app}/.warpdrive/action_hooks/{name}", "#!/bin/sh\n", mode=EXE)
    info = appinfo.inspect_app(app, ConfigVars())
    assert info.hooks == {
        "pre_compile": ".warpdrive/action_hooks/pre-build",
        "build": ".warpdrive/action_hooks/build",
        "migrate": ".warpdrive/action_hooks/migrate",
        "deploy": ".warpdrive/action_hooks/deploy",
        "setup": ".warpdrive/action_hooks/setup",
    }
    release = processes.generate(info, None, "")[-1]
    assert release.name == "release" and release.command == "exec ./.warpdrive/action_hooks/migrate"


def test_launchpack_hooks_win_over_warpdrive_ones(tmp_path):
    app = wsgi_app(tmp_path)
    write(app + "/.warpdrive/action_hooks/build", "#!/bin/sh\n", mode=EXE)
    write(app + "/.launchpack/action_hooks/build", "#!/bin/sh\n", mode=EXE)
    write(app + "/.warpdrive/action_hooks/pre_build", "#!/bin/sh\n", mode=EXE)
    write(app + "/bin/pre_compile", "#!/bin/sh\n", mode=EXE)
    info = appinfo.inspect_app(app, ConfigVars())
    assert info.hooks == {"build": ".launchpack/action_hooks/build", "pre_compile": "bin/pre_compile"}
    assert pipeline.warpdrive_files(info) == ([], [])


def test_pre_build_spelt_with_an_underscore(tmp_path):
    app = wsgi_app(tmp_path)
    write(app + "/.warpdrive/action_hooks/pre_build", "#!/bin/sh\n", mode=EXE)
    assert appinfo.inspect_app(app, ConfigVars()).hooks == {"pre_compile": ".warpdrive/action_hooks/pre_build"}


def test_server_type_is_the_fallback_for_the_server_file(tmp_path):
    app = wsgi_app(tmp_path)
    write(app + "/.warpdrive/server_type", "waitress\n")
    request = server_choice.read_request(app, ConfigVars({"LAUNCHPACK_SERVER": "uwsgi"}))
    assert request == server_choice.ServerRequest("waitress", ".warpdrive/server_type")
    write(app + "/.launchpack/server", "gunicorn\n")
    assert server_choice.read_request(app, ConfigVars()).source == ".launchpack/server"


def test_server_args_file_or_directory_of_per_server_files(tmp_path):
    app = wsgi_app(tmp_path)
    info = dataclasses.replace(appinfo.inspect_app(app, ConfigVars()), server="gunicorn")
    write(app + "/.warpdrive/server_args", "# comment\n--timeout 60\n")
    assert pipeline.with_server_args(info).server_args == "--timeout 60"
    os.remove(app + "/.warpdrive/server_args")
    write(app + "/.warpdrive/server_args/gunicorn", "--workers 3\n")
    write(app + "/.warpdrive/server_args/waitress", "--threads 9\n")
    assert pipeline.with_server_args(info).server_args == "--workers 3"
    assert pipeline.with_server_args(dataclasses.replace(info, server="waitress")).server_args == "--threads 9"
    assert pipeline.with_server_args(dataclasses.replace(info, server="uwsgi")).server_args == ""
    used, _ = pipeline.warpdrive_files(info)
    assert [f.message for f in used] == [
        "Using .warpdrive/server_args/gunicorn (warpdrive's file; .launchpack/server_args is launchpack's)"
    ]
    write(app + "/.launchpack/server_args", "--mine\n")
    assert pipeline.with_server_args(info).server_args == "--mine"


def test_server_args_for_app_py_use_the_python_file(tmp_path):
    app = str(tmp_path)
    write(app + "/app.py", "")
    write(app + "/.warpdrive/server_args/python", "--verbose\n")
    info = pipeline.with_server_args(appinfo.inspect_app(app, ConfigVars()))
    assert processes.web_command(info, None) == "exec python app.py --verbose"


def test_files_without_an_equivalent_are_named_with_what_to_do(tmp_path):
    app = wsgi_app(tmp_path)
    for path in ("environment", "deploy_mode", "home", "action_hooks/deploy-cfg", "action_hooks/alive"):
        write(f"{app}/.warpdrive/{path}", "x\n")
    os.makedirs(app + "/.warpdrive/wheelhouse")
    ignored = dict(warpdrive.unsupported(app))
    assert sorted(ignored) == sorted(
        ".warpdrive/" + p
        for p in ("environment", "deploy_mode", "home", "action_hooks/deploy-cfg", "action_hooks/alive", "wheelhouse")
    )
    assert "config vars" in ignored[".warpdrive/environment"]
    assert ".launchpack/action_hooks/deploy" in ignored[".warpdrive/action_hooks/deploy-cfg"]


def test_fixture_app_uses_its_warpdrive_files():
    info = appinfo.inspect_app(os.path.join(FIXTURES, "warpdrive_app"), ConfigVars())
    info = pipeline.with_server_args(dataclasses.replace(info, server="gunicorn"))
    used, ignored = pipeline.warpdrive_files(info)
    assert [f.used for f in used] == [
        ".warpdrive/action_hooks/build",
        ".warpdrive/action_hooks/setup",
        ".warpdrive/server_type",
        ".warpdrive/server_args",
    ]
    assert used[2].message == "Using .warpdrive/server_type (warpdrive's file; .launchpack/server is launchpack's)"
    assert [path for path, _ in ignored] == [".warpdrive/environment"]


def test_warpdrive_http_port_is_the_platform_port():
    assert launchpack_env.server_settings({"PORT": "5000"})["WARPDRIVE_HTTP_PORT"] == "5000"
    assert launchpack_env.server_settings({})["WARPDRIVE_HTTP_PORT"] == "8080"
