"""Which WSGI callable an app exposes, found by reading its files (ast), never by running them.

Real apps name their callable in a few conventional ways: ``application`` in wsgi.py (Django,
mod_wsgi), ``app`` in app.py or main.py (Flask, Bottle, Falcon tutorials and most hosting
guides), a package whose ``__init__.py`` defines ``app`` or the factory ``create_app`` /
``make_app`` (Flask's tutorial, installed from its pyproject.toml). Inspection only proposes
candidates; the build's import check then loads them and tells WSGI from ASGI (entry_check).
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass

from runtime import errors
from runtime.config import ConfigVars
from runtime.slug import launchpack_target

ATTRIBUTES = ("app", "application")  # Flask's discovery order
FACTORIES = ("create_app", "make_app")
# Root modules, besides wsgi.py, that conventionally hold the app (main.py: FastAPI, App Engine).
ROOT_MODULES = ("main.py", "asgi.py")
NOT_APP_PACKAGES = {"tests", "test", "docs", "doc", "migrations", "scripts", "node_modules", "venv", "env"}


@dataclass(frozen=True)
class Entry:
    """A WSGI entry point and why launchpack chose it."""

    target: str  # "module:object", possibly a factory call
    source: str  # for the build output and `launchpack explain`
    # Further targets for the import check to try, in order, when the first is not a WSGI callable.
    candidates: tuple[str, ...] = ()
    # app.py: when no candidate is a WSGI callable, run it as a script (it listens on $PORT itself).
    script_fallback: bool = False
    # app.py has an `if __name__ == "__main__":` block: as a script it starts its own server (an
    # ASGI app.py that runs uvicorn there keeps working as a script).
    runs_itself: bool = False

    @property
    def targets(self) -> tuple[str, ...]:
        return (self.target, *self.candidates)


def _is_main_guard(node: ast.stmt) -> bool:
    test = getattr(node, "test", None)
    return (
        isinstance(node, ast.If)
        and isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and any(isinstance(c, ast.Constant) and c.value == "__main__" for c in test.comparators)
    )


def _names(target: ast.expr) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [n for element in target.elts for n in _names(element)]
    return []


# Calls that start a server when made at module level: a module that makes one runs itself (its
# import would block), e.g. `app.run()`, `web.run_app(app)`, `IOLoop.current().start()`.
SERVING_CALLS = {"run", "run_app", "listen", "serve", "serve_forever", "start", "run_forever", "run_until_complete"}


@dataclass(frozen=True)
class Module:
    names: frozenset[str]  # bound at module level, outside `if __name__ == "__main__":`
    functions: frozenset[str]  # functions defined there
    has_main: bool  # an `if __name__ == "__main__":` block: the file also runs as a script
    serves_at_import: bool  # a module-level call that starts a server (importing it would block)


def read_source(app_dir: str, path: str) -> bytes | None:
    """The file's bytes, or None when it cannot be read: candidates are only sniffed, so an
    unreadable one is passed over (what the web process runs is checked later)."""
    try:
        with open(os.path.join(app_dir, path), "rb") as handle:
            return handle.read()
    except OSError:
        return None


def _call_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Call):
        func = node.func
        return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    return None


def parse_module(source: bytes | str) -> Module | None:
    """What a module binds at module level; None when it is not valid Python. Bytes are parsed as
    Python reads files (a coding line, a BOM)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    names: set[str] = set()
    functions: set[str] = set()
    found = {"main": False, "serves": False}

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if _is_main_guard(node):
                found["main"] = True
                visit(node.orelse)
                continue
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    names.update(_names(target))
            elif isinstance(node, (ast.AnnAssign, ast.AugAssign)) and isinstance(node.target, ast.Name):
                names.add(node.target.id)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                names.add(node.name)
                functions.add(node.name)
            elif isinstance(node, ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                for alias in node.names:
                    if alias.name != "*":
                        names.add(alias.asname or alias.name.split(".")[0])
            elif isinstance(node, ast.Expr) and _call_name(node.value) in SERVING_CALLS:
                found["serves"] = True
            elif isinstance(node, (ast.If, ast.Try, ast.With)):
                visit(node.body)
                visit(getattr(node, "orelse", []))
                for handler in getattr(node, "handlers", []):
                    visit(handler.body)
                visit(getattr(node, "finalbody", []))

    visit(tree.body)
    return Module(frozenset(names), frozenset(functions), found["main"], found["serves"])


def offered(module: str, parsed: Module, attributes: tuple[str, ...] = ATTRIBUTES) -> list[str]:
    """The targets a module offers: its app attributes, then its factory functions."""
    return [f"{module}:{a}" for a in attributes if a in parsed.names] + [
        f"{module}:{f}()" for f in FACTORIES if f in parsed.functions and not any(a in parsed.names for a in attributes)
    ]


def candidates(app_dir: str, path: str, module: str, attributes: tuple[str, ...] = ATTRIBUTES) -> list[str]:
    """The targets a module file offers: its app attributes, then its factory functions."""
    source = read_source(app_dir, path)
    parsed = parse_module(source) if source is not None else None
    return offered(module, parsed, attributes) if parsed else []


def from_config(config: ConfigVars) -> Entry | None:
    text = (config.get("LAUNCHPACK_WSGI_APP") or "").strip()
    if not text:
        return None
    try:
        launchpack_target.parse(text)
    except launchpack_target.TargetError as exc:
        raise errors.WsgiAppInvalid(value=text, reason=str(exc)) from None
    target = text if ":" in text else text + ":" + launchpack_target.DEFAULT_OBJECT
    return Entry(target, "the config var LAUNCHPACK_WSGI_APP")


def from_app_py(app_dir: str) -> Entry | None:
    """app.py's WSGI callable, if it binds one at module level (else it is run as a script).

    An app.py that starts its server when imported (a module-level app.run()) is a script: the
    import check would block on it, and `python app.py` is what it was written for."""
    source = read_source(app_dir, "app.py")
    parsed = parse_module(source) if source is not None else None
    found = offered("app", parsed) if parsed and not parsed.serves_at_import else []
    if not found:
        return None
    return Entry(
        found[0],
        f"app.py defines {found[0].partition(':')[2]}",
        tuple(found[1:]),
        script_fallback=True,
        runs_itself=parsed.has_main,
    )


def from_wsgi_py(app_dir: str) -> Entry | None:
    if os.path.isfile(os.path.join(app_dir, "wsgi.py")):
        path = "wsgi.py"
    elif os.path.isfile(os.path.join(app_dir, "wsgi", "__init__.py")):
        path = os.path.join("wsgi", "__init__.py")
    else:
        return None
    found = candidates(app_dir, path, "wsgi", ("application", "app"))
    target = found[0] if found else "wsgi:application"  # e.g. `from myapp import *`: the import check tells
    return Entry(target, f"{path} defines {target.partition(':')[2]}")


def _packages(app_dir: str) -> list[tuple[str, str]]:
    """(module name, path of its __init__.py) for the app's top-level packages (root and src/)."""
    found = []
    for base in ("", "src"):
        directory = os.path.join(app_dir, base)
        try:
            names = sorted(os.listdir(directory))
        except OSError:
            continue
        for name in names:
            init = os.path.join(base, name, "__init__.py")
            if name.isidentifier() and name not in NOT_APP_PACKAGES and os.path.isfile(os.path.join(app_dir, init)):
                found.append((name, init))
    return found


def from_modules(app_dir: str, project_name: str | None) -> Entry | None:
    """main.py or asgi.py at the root, else the one package that defines an app or a factory."""
    for path in ROOT_MODULES:
        found = candidates(app_dir, path, path[:-3]) if os.path.isfile(os.path.join(app_dir, path)) else []
        if found:
            return Entry(found[0], f"{path} defines {found[0].partition(':')[2]}")
    offered = {name: found for name, init in _packages(app_dir) if (found := candidates(app_dir, init, name))}
    if not offered:
        return None
    wanted = (project_name or "").lower().replace("-", "_").replace(".", "_")
    if len(offered) > 1 and wanted not in offered:
        raise errors.SeveralWsgiApps(
            found=", ".join(targets[0] for targets in offered.values()),
        )
    name = wanted if wanted in offered else next(iter(offered))
    target = offered[name][0]
    what = target.partition(":")[2]
    kind = "Flask's app factory " if what.endswith("()") else ""
    return Entry(target, f"the package {name} defines {kind}{what.rstrip('()')}")


# Modules that exist only inside Apache's mod_wsgi (the pip package mod_wsgi has only .server).
APACHE_ONLY = ("apache", "mod_wsgi")


def module_file(app_dir: str, module: str) -> str | None:
    """The app's own file for a dotted module name (at the root or under src/), relative."""
    base = module.replace(".", os.sep)
    for root in ("", "src"):
        for path in (base + ".py", os.path.join(base, "__init__.py")):
            if os.path.isfile(os.path.join(app_dir, root, path)):
                return os.path.join(root, path)
    return None


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    caught = handler.type
    names = caught.elts if isinstance(caught, ast.Tuple) else [caught]
    return caught is None or any(
        isinstance(n, ast.Name) and n.id in ("ImportError", "ModuleNotFoundError", "Exception") for n in names
    )


def apache_only_import(app_dir: str, target: str | None) -> str | None:
    """'wsgi.py imports mod_wsgi' when the target's module imports what only mod_wsgi provides."""
    path = module_file(app_dir, (target or "").partition(":")[0]) if target else None
    source = read_source(app_dir, path) if path else None
    try:
        tree = ast.parse(source) if source else None
    except (SyntaxError, ValueError):
        return None  # the import check reports it
    guarded = {
        id(inner)
        for node in (ast.walk(tree) if tree else ())
        if isinstance(node, ast.Try) and any(_catches_import_error(h) for h in node.handlers)
        for statement in node.body
        for inner in ast.walk(statement)
    }
    for node in ast.walk(tree) if tree else ():
        if id(node) in guarded:  # try: import mod_wsgi / except ImportError: importable anywhere
            continue
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module in APACHE_ONLY:
            if node.module == "mod_wsgi" and all(alias.name == "server" for alias in node.names):
                continue
            names = [node.module]
        else:
            continue
        for name in names:
            if name in APACHE_ONLY:
                return f"{path} imports {name}, which exists only inside Apache (mod_wsgi)"
    return None
