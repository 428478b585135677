"""Finding the WSGI callable from the app's files (ast), and loading targets in gunicorn's syntax."""

from __future__ import annotations

import pytest

from runtime import appinfo, entry_points, errors
from runtime.config import ConfigVars
from runtime.slug import launchpack_target


def app(tmp_path, files: dict[str, str]) -> str:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return str(tmp_path)


def inspect(tmp_path, files, **config):
    return appinfo.inspect_app(app(tmp_path, {"requirements.txt": "", **files}), ConfigVars(dict(config)))


FLASK_APP_PY = "from flask import Flask\napp = Flask(__name__)\n"
TORNADO_APP_PY = (
    "import tornado.web\n\ndef main():\n    app = tornado.web.Application([])\n    app.listen(8080)\n\n"
    "if __name__ == '__main__':\n    app = None\n    main()\n"
)


def test_app_py_that_defines_app_is_served_as_wsgi(tmp_path):
    info = inspect(tmp_path, {"app.py": FLASK_APP_PY})
    assert (info.kind, info.wsgi_app) == ("wsgi", "app:app")
    assert info.entry.script_fallback  # the import check may still find it is not WSGI
    assert "app.py defines app" in appinfo.describe_web(info)


def test_app_py_with_no_module_level_app_runs_as_a_script(tmp_path):
    info = inspect(tmp_path, {"app.py": TORNADO_APP_PY})
    assert (info.kind, info.wsgi_app) == ("python", None)
    assert "runs it as a script" in appinfo.describe_web(info)


def test_app_py_candidates_in_flasks_order(tmp_path):
    source = "application = object()\ndef create_app():\n    pass\napp = 1\n"
    entry = entry_points.from_app_py(app(tmp_path, {"app.py": source}))
    assert entry.targets == ("app:app", "app:application")  # a factory only without an app attribute


def test_launchpack_wsgi_app_wins_over_app_py_and_app_sh(tmp_path):
    info = inspect(tmp_path, {"app.py": TORNADO_APP_PY, "app.sh": "#!/bin/sh\n"}, LAUNCHPACK_WSGI_APP="other:make()")
    assert (info.kind, info.wsgi_app) == ("wsgi", "other:make()")
    assert info.entry.source == "the config var LAUNCHPACK_WSGI_APP"


@pytest.mark.parametrize("value", ["flaskr:create_app(", "flaskr:create_app(os.environ)", "a b", "flaskr:f()()"])
def test_invalid_launchpack_wsgi_app_is_a_clear_error(tmp_path, value):
    with pytest.raises(errors.WsgiAppInvalid) as caught:
        inspect(tmp_path, {"wsgi.py": "application = None\n"}, LAUNCHPACK_WSGI_APP=value)
    assert "LAUNCHPACK_WSGI_APP" in "\n".join(caught.value.render())


def test_flask_tutorial_package_factory_is_found(tmp_path):
    files = {
        "pyproject.toml": '[project]\nname = "flaskr"\nversion = "1"\ndependencies = ["flask"]\n',
        "flaskr/__init__.py": "def create_app(test_config=None):\n    pass\n",
        "tests/__init__.py": "app = 1\n",
    }
    info = appinfo.inspect_app(app(tmp_path, files), ConfigVars({}))
    assert (info.kind, info.wsgi_app) == ("wsgi", "flaskr:create_app()")
    assert "factory" in info.entry.source


def test_several_packages_with_apps_need_a_setting(tmp_path):
    files = {"a/__init__.py": "app = 1\n", "b/__init__.py": "def make_app():\n    pass\n"}
    with pytest.raises(errors.SeveralWsgiApps) as caught:
        inspect(tmp_path, files)
    assert "LAUNCHPACK_WSGI_APP=a:app" in "\n".join(caught.value.render())
    assert inspect(tmp_path, {**files, "Procfile": "web: gunicorn a:app\n"}).kind == "procfile"


def test_wsgi_py_with_only_app_serves_app(tmp_path):
    assert inspect(tmp_path, {"wsgi.py": "from myapp import app\n"}).wsgi_app == "wsgi:app"
    assert inspect(tmp_path, {"wsgi.py": "from myapp import *\n"}).wsgi_app == "wsgi:application"


def test_main_py_is_a_candidate_module(tmp_path):
    assert inspect(tmp_path, {"main.py": "from fastapi import FastAPI\napp = FastAPI()\n"}).wsgi_app == "main:app"


@pytest.mark.parametrize(
    "files, expected",
    [
        ({"production.ini": "[app:main]\nuse = egg:x\n", "paste.ini": "[app:main]\n"}, "production.ini"),
        ({"production.ini": "[server:main]\n", "paste.ini": "[pipeline:main]\n"}, "paste.ini"),
    ],
)
def test_paste_files_in_order_with_a_main_app(tmp_path, files, expected):
    info = inspect(tmp_path, files)
    assert (info.kind, info.paste_ini) == ("paste", expected)


def test_production_ini_without_main_app_is_not_a_paste_app(tmp_path):
    assert inspect(tmp_path, {"production.ini": "[server:main]\n", "wsgi.py": "application = 1\n"}).kind == "wsgi"


@pytest.mark.parametrize(
    "source, found",
    [
        ("import mod_wsgi\n", "wsgi.py imports mod_wsgi"),
        ("from mod_wsgi import process_group\n", "wsgi.py imports mod_wsgi"),
        ("def f():\n    import apache\n", "wsgi.py imports apache"),
        ("from mod_wsgi import server\n", None),
        ("import os\n", None),
    ],
)
def test_apache_only_imports(tmp_path, source, found):
    result = entry_points.apache_only_import(app(tmp_path, {"wsgi.py": source}), "wsgi:application")
    assert (result and result.partition(",")[0]) == found


def test_targets_in_gunicorns_syntax():
    target = launchpack_target.parse("pkg.mod:create_app('prod', debug=True)")
    assert (target.module, target.attribute, target.args, target.kwargs) == ("pkg.mod", "create_app", ("prod",), {"debug": True})
    assert not target.plain
    assert launchpack_target.parse("wsgi:application").plain
    assert not launchpack_target.parse("wsgi:app.wsgi_app").plain
    assert launchpack_target.parse("wsgi").attribute == "application"


class Wsgi:
    def __call__(self, environ, start_response):
        return []


class Asgi:
    async def __call__(self, scope, receive, send):
        pass


class AsgiMiddleware:
    def __call__(self, scope, receive, send):
        return None


class TornadoLike:
    def __call__(self, request):
        pass


async def asgi_function(scope, receive, send):
    pass


@pytest.mark.parametrize(
    "obj, protocol",
    [
        (Wsgi(), "wsgi"),
        (lambda environ, start_response: [], "wsgi"),
        (Asgi(), "asgi"),
        (asgi_function, "asgi"),
        (AsgiMiddleware(), "asgi"),
        (TornadoLike(), "other"),
        (object(), "not-callable"),
        (len, "other"),
    ],
)
def test_protocol_of_loaded_objects(obj, protocol):
    assert launchpack_target.protocol(obj) == protocol


def test_only_development_ini_says_to_make_a_production_ini(tmp_path):
    with pytest.raises(errors.NoWebProcess) as caught:
        inspect(tmp_path, {"development.ini": "[app:main]\nuse = egg:tutorial\npyramid.reload_templates = true\n"})
    assert "copy it to production.ini" in "\n".join(caught.value.render())
    with pytest.raises(errors.NoWebProcess) as caught:
        inspect(tmp_path / "other", {})
    assert "development.ini" not in "\n".join(caught.value.render())
