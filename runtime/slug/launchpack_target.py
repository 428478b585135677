"""Entry point targets: "module:object" in gunicorn's syntax, loaded and told apart (WSGI or ASGI).

A target is ``module``, ``module:name``, ``module:name.attribute`` or a factory call with literal
arguments, ``module:create_app()`` / ``module:create_app("production", debug=False)``, as
gunicorn accepts them. Without ``:object`` the object is ``application``.

This file is used at build time (the entry point probe and launchpack's own parsing) and at run
time (launchpack_wsgi, for the targets a server cannot load by itself: mod_wsgi and uWSGI take
a plain attribute name only), so it is standard library only and runs on any Python 3.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re

DEFAULT_OBJECT = "application"
DOTTED = r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*"
TARGET = re.compile(rf"^(?P<module>{DOTTED})(?::(?P<object>{DOTTED})(?P<call>\(.*\))?)?$", re.S)


class TargetError(ValueError):
    """The text is not a target launchpack (and gunicorn) understand."""


class Target:
    def __init__(self, module: str, attribute: str, args: tuple = (), kwargs: dict | None = None, call: bool = False):
        self.module = module
        self.attribute = attribute
        self.args = args
        self.kwargs = kwargs or {}
        self.call = call

    @property
    def plain(self) -> bool:
        """module:name, which every server can load by itself."""
        return not self.call and "." not in self.attribute


def _literal(node: ast.AST, text: str):
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, MemoryError, RecursionError):
        raise TargetError(
            f"{text}: the arguments of the call must be literals (strings, numbers, True/False/None)"
        ) from None


def parse(text: str) -> Target:
    text = text.strip()
    match = TARGET.match(text)
    if not match:
        raise TargetError(f"{text!r} is not of the form module:name or module:factory()")
    module, attribute = match.group("module"), match.group("object") or DEFAULT_OBJECT
    call = match.group("call")
    if not call:
        return Target(module, attribute)
    try:
        node = ast.parse(attribute + call, mode="eval").body
    except SyntaxError:
        raise TargetError(f"{text!r}: the call {attribute}{call} is not valid Python") from None
    if (
        not isinstance(node, ast.Call)
        or not isinstance(node.func, (ast.Name, ast.Attribute))
        or any(isinstance(a, ast.Starred) for a in node.args)
    ):
        raise TargetError(f"{text!r}: only one call, with literal arguments, may follow the name")
    if any(k.arg is None for k in node.keywords):
        raise TargetError(f"{text!r}: **keyword arguments are not supported")
    args = tuple(_literal(a, text) for a in node.args)
    kwargs = {k.arg: _literal(k.value, text) for k in node.keywords}
    return Target(module, attribute, args, kwargs, call=True)


def load(text: str):
    """The object the target names (calling the factory, if it is a call)."""
    target = parse(text)
    obj = importlib.import_module(target.module)
    for part in target.attribute.split("."):
        obj = getattr(obj, part)
    if target.call:
        obj = obj(*target.args, **target.kwargs)
    return obj


def _binds(function, count: int) -> bool:
    try:
        inspect.signature(function).bind(*([None] * count))
        return True
    except TypeError:
        return False


def protocol(obj) -> str:
    """"wsgi", "asgi", "not-callable" or "other" (callable, but neither calling convention).

    WSGI calls app(environ, start_response); ASGI awaits app(scope, receive, send). A callable
    whose signature cannot be read (a C extension type) is taken to be WSGI.
    """
    if not callable(obj):
        return "not-callable"
    if inspect.iscoroutinefunction(obj) or inspect.iscoroutinefunction(type(obj).__call__):
        return "asgi"
    try:
        inspect.signature(obj)
    except (TypeError, ValueError):
        return "wsgi"
    if _binds(obj, 2):
        return "wsgi"
    if _binds(obj, 3):
        return "asgi"  # three arguments and not two: (scope, receive, send), e.g. ASGI middleware
    return "other"


def describe(obj) -> str:
    kind = type(obj)
    if inspect.isfunction(obj):
        return f"the function {obj.__module__}.{obj.__qualname__}"
    return f"a {kind.__module__}.{kind.__qualname__}" if kind.__module__ != "builtins" else f"a {kind.__qualname__}"
