"""Django: which settings module an app uses, found without importing anything.

manage.py normally does ``os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")``,
so the settings module is the DJANGO_SETTINGS_MODULE config var if set, else that literal.
Reading manage.py with ``ast`` finds the literal the way manage.py itself would, without
running user code at inspection time.
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass

from runtime import errors


@dataclass(frozen=True)
class DjangoProject:
    manage_py: str  # relative to the app dir
    settings: str  # dotted module name
    settings_source: str  # "manage.py" or "config var DJANGO_SETTINGS_MODULE"

    @property
    def settings_package(self) -> str:
        return self.settings.rpartition(".")[0]


def settings_from_manage_py(source: str) -> str | None:
    """The literal default for DJANGO_SETTINGS_MODULE in manage.py, if there is one."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in ("setdefault", "__setitem__") or len(node.args) != 2:
            continue
        key, value = node.args
        if (
            isinstance(key, ast.Constant)
            and key.value == "DJANGO_SETTINGS_MODULE"
            and isinstance(value, ast.Constant)
            and isinstance(value.value, str)
        ):
            return value.value
    # os.environ["DJANGO_SETTINGS_MODULE"] = "x" is an assignment, not a call.
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if (
                    isinstance(target, ast.Subscript)
                    and isinstance(target.slice, ast.Constant)
                    and target.slice.value == "DJANGO_SETTINGS_MODULE"
                    and isinstance(node.value.value, str)
                ):
                    return node.value.value
    return None


def module_candidates(dotted: str) -> list[str]:
    base = dotted.replace(".", "/")
    return [base + ".py", base + "/__init__.py"]


def find_project(app_dir: str, config_settings: str | None) -> DjangoProject | None:
    """The Django project at the app root, or None if there is no manage.py."""
    manage = os.path.join(app_dir, "manage.py")
    if not os.path.isfile(manage):
        return None
    with open(manage, encoding="utf-8", errors="replace") as handle:
        from_file = settings_from_manage_py(handle.read())
    if config_settings:
        settings, source = config_settings.strip(), "the config var DJANGO_SETTINGS_MODULE"
    elif from_file:
        settings, source = from_file, "manage.py"
    else:
        raise errors.DjangoSettingsNotFound(reason="manage.py does not set a default DJANGO_SETTINGS_MODULE.")
    candidates = module_candidates(settings)
    if not any(os.path.isfile(os.path.join(app_dir, c)) for c in candidates):
        raise errors.DjangoSettingsModuleMissing(settings=settings, source=source, candidates=" or ".join(candidates))
    return DjangoProject("manage.py", settings, source)
