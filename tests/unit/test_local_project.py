"""The local workflow's decisions: which project and environment, the local Layout, the env store."""

import json
import os
import subprocess

import pytest

from runtime import envcache, errors, layout, pythonenv
from runtime.adapters import local_project
from runtime.output import Output
from runtime.python_version import Interpreter


def record(home, name, project_dir):
    env_dir = os.path.join(home, "envs", name)
    os.makedirs(env_dir)
    with open(os.path.join(env_dir, "project.json"), "w") as handle:
        json.dump({"name": name, "project_dir": project_dir}, handle)


def test_default_names_are_safe_directory_names():
    assert local_project.default_name("/home/me/mysite") == "mysite"
    assert local_project.default_name("/home/me/my site (copy)/") == "my-site-copy"
    assert local_project.default_name("/home/me/.hidden") == "hidden"
    assert local_project.default_name("/") == "project"


@pytest.mark.parametrize("bad", ["", "../x", "a/b", ".x", "-x", "x" * 101, "a b"])
def test_invalid_names_are_usage_errors(bad):
    with pytest.raises(errors.UsageError):
        local_project.check_name(bad)


def test_the_current_directory_uses_its_own_environment_or_its_name(tmp_path):
    home, app = str(tmp_path / "lp"), str(tmp_path / "src" / "mysite")
    os.makedirs(app)
    project = local_project.for_directory(home, app)
    assert (project.name, project.env_dir, project.active) == ("mysite", f"{home}/envs/mysite", False)
    record(home, "custom", app)  # activated earlier as `launchpack activate custom`
    assert local_project.for_directory(home, app).name == "custom"


def test_an_environment_of_another_project_is_not_taken(tmp_path):
    home, mine, theirs = str(tmp_path / "lp"), str(tmp_path / "a" / "app"), str(tmp_path / "b" / "app")
    os.makedirs(mine)
    os.makedirs(theirs)
    record(home, "app", theirs)
    with pytest.raises(errors.EnvBelongsToAnotherProject) as raised:
        local_project.for_directory(home, mine)
    assert "launchpack destroy app" in "\n".join(raised.value.render())


def test_an_environment_whose_project_moved_is_taken_over(tmp_path):
    home, app = str(tmp_path / "lp"), str(tmp_path / "new" / "app")
    os.makedirs(app)
    record(home, "app", str(tmp_path / "old" / "app"))
    project = local_project.for_directory(home, app)
    assert project.moved_from == str(tmp_path / "old" / "app")


def test_an_activated_shell_names_the_project_wherever_it_is(tmp_path):
    app = str(tmp_path / "mysite")
    os.makedirs(app)
    environ = {"LAUNCHPACK_HOME": str(tmp_path / "lp"), "LAUNCHPACK_PROJECT": "mysite", "LAUNCHPACK_PROJECT_DIR": app}
    project = local_project.resolve(environ, "/")
    assert (project.name, project.app_dir, project.active) == ("mysite", app, True)
    assert "Project mysite" in local_project.describe(project)
    with pytest.raises(errors.ProjectDirMissing):
        local_project.resolve({**environ, "LAUNCHPACK_PROJECT_DIR": str(tmp_path / "gone")}, "/")


def test_home_defaults_to_dot_launchpack():
    assert local_project.home_dir({}) == os.path.join(os.path.expanduser("~"), ".launchpack")
    assert local_project.home_dir({"LAUNCHPACK_HOME": "/x/y"}) == "/x/y"


def test_local_layout_keeps_everything_out_of_the_source_tree():
    where = layout.local("/src/mysite", "/h/envs/mysite", "/h/cache")
    assert where.venv_dir == "/h/envs/mysite/venv"
    assert where.runtime_dir == "/h/envs/mysite/runtime"
    assert where.static_dir == "/h/envs/mysite/runtime/static"
    assert where.cache("wheels") == "/h/cache/wheels"
    assert where.env_prefix() == ". /h/envs/mysite/runtime/env.sh && "
    assert where.shell_paths() == {
        "APP_DIR": "/src/mysite",
        "RUNTIME_DIR": "/h/envs/mysite/runtime",
        "VENV_DIR": "/h/envs/mysite/venv",
    }


def test_in_place_store_forgets_the_key_when_the_environment_is_replaced(tmp_path):
    """A build that replaces the venv and then fails must not leave the old key behind."""
    venv = str(tmp_path / "venv")
    store = envcache.InPlaceStore()
    assert store.load(venv) is None
    stack = Interpreter("/usr/bin/python3", (3, 0, 0))
    pythonenv.create(stack, venv, Output(open(os.devnull, "w")))
    assert store.load(venv) is None  # a venv without a key (e.g. just made by activate) is not trusted
    key = {"python": "3.11.2", "dependencies": "abc"}
    store.save(venv, key)
    assert store.load(venv) == key
    assert not os.path.exists(os.path.join(venv, envcache.InPlaceStore.KEY_FILE + ".new"))
    pythonenv.create(stack, venv, Output(open(os.devnull, "w")))  # what a rebuild does first
    assert store.load(venv) is None
    subprocess.run([pythonenv.python_of(venv), "-c", "pass"], check=True)


def test_an_unwritable_launchpack_home_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    project = local_project.Project("app", str(tmp_path), str(blocker / "envs" / "app"), str(blocker))
    with pytest.raises(errors.LaunchpackHomeUnusable) as raised:
        local_project.write_record(project)
    assert "LAUNCHPACK_HOME" in "\n".join(raised.value.render())
