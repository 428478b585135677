import os

import pytest

from runtime import appinfo, errors
from runtime.config import ConfigVars
from runtime.frameworks.django import find_project, settings_from_manage_py
from tests.conftest import EXAMPLES, FIXTURES, write

STARTPROJECT_MANAGE = '''#!/usr/bin/env python
import os
import sys


def main():
    os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'mysite.settings')
    from django.core.management import execute_from_command_line
    execute_from_command_line(sys.argv)
'''


def test_settings_found_the_way_manage_py_sets_them():
    assert settings_from_manage_py(STARTPROJECT_MANAGE) == "mysite.settings"
    assert settings_from_manage_py('import os\nos.environ["DJANGO_SETTINGS_MODULE"] = "a.b"\n') == "a.b"
    assert settings_from_manage_py("import os\nx = 1\n") is None
    assert settings_from_manage_py("this is not python") is None


def test_config_var_overrides_manage_py(tmp_path):
    write(str(tmp_path / "manage.py"), STARTPROJECT_MANAGE)
    write(str(tmp_path / "mysite/settings.py"), "")
    write(str(tmp_path / "mysite/production.py"), "")
    assert find_project(str(tmp_path), None).settings == "mysite.settings"
    project = find_project(str(tmp_path), "mysite.production")
    assert (project.settings, project.settings_source) == ("mysite.production", "the config var DJANGO_SETTINGS_MODULE")


def test_settings_package_counts(tmp_path):
    write(str(tmp_path / "manage.py"), STARTPROJECT_MANAGE)
    write(str(tmp_path / "mysite/settings/__init__.py"), "")
    assert find_project(str(tmp_path), None).settings == "mysite.settings"


def test_misspelled_settings_module_is_a_clear_error(tmp_path):
    write(str(tmp_path / "manage.py"), STARTPROJECT_MANAGE)
    write(str(tmp_path / "mysite/settings.py"), "")
    with pytest.raises(errors.DjangoSettingsModuleMissing) as caught:
        find_project(str(tmp_path), "mysite.setings")
    assert "mysite/setings.py" in "\n".join(caught.value.render())


def test_manage_py_without_a_default_needs_the_config_var(tmp_path):
    write(str(tmp_path / "manage.py"), "print('hi')\n")
    with pytest.raises(errors.DjangoSettingsNotFound):
        find_project(str(tmp_path), None)


def test_django_example_inspection():
    info = appinfo.inspect_app(os.path.join(EXAMPLES, "django"), ConfigVars())
    assert info.kind == "django"
    assert info.django.settings == "mysite.settings"
    assert info.dependencies == appinfo.DependencySource("requirements", ("requirements.txt",))
    assert info.procfile is None and info.python_request is None


def test_wsgi_app_and_static_config():
    config = ConfigVars({"LAUNCHPACK_STATIC_URL": "assets", "LAUNCHPACK_STATIC_ROOT": "static"})
    info = appinfo.inspect_app(os.path.join(FIXTURES, "wsgi_app"), config)
    assert (info.kind, info.wsgi_app) == ("wsgi", "wsgi:application")
    assert info.static == appinfo.StaticMapping("/assets/", "static")


def test_wsgi_app_override(tmp_path):
    write(str(tmp_path / "requirements.txt"), "flask\n")
    info = appinfo.inspect_app(str(tmp_path), ConfigVars({"LAUNCHPACK_WSGI_APP": "hello"}))
    assert info.wsgi_app == "hello:application"


def test_hooks_found(tmp_path):
    write(str(tmp_path / "wsgi.py"), "")
    write(str(tmp_path / "bin/post_compile"), "")
    write(str(tmp_path / ".launchpack/action_hooks/migrate"), "")
    info = appinfo.inspect_app(str(tmp_path), ConfigVars())
    assert info.hooks == {"post_compile": "bin/post_compile", "migrate": ".launchpack/action_hooks/migrate"}


def test_not_a_python_app_lists_what_was_looked_for_and_found():
    with pytest.raises(errors.NotAPythonApp) as caught:
        appinfo.inspect_app(os.path.join(FIXTURES, "not_python"), ConfigVars())
    message = "\n".join(caught.value.render())
    assert "index.html, package.json" in message and "Pipfile.lock" in message


def test_python_app_without_a_way_to_run_it(tmp_path):
    write(str(tmp_path / "requirements.txt"), "requests\n")
    with pytest.raises(errors.NoWebProcess):
        appinfo.inspect_app(str(tmp_path), ConfigVars())
    write(str(tmp_path / "Procfile"), "web: python server.py\n")
    assert appinfo.inspect_app(str(tmp_path), ConfigVars()).kind == "procfile"
