"""Inspection: everything launchpack decides about an app from its files and config vars.

Pure: reads files, never writes and never runs anything, so it is fast and unit-testable on
fixture directories. The build steps act on the AppInfo it returns.
"""

from __future__ import annotations

import configparser
import os
import shlex
from dataclasses import dataclass, field

import procfile_gen
from runtime import appfiles, entry_points, errors, pyproject, python_version, server_choice, servers, warpdrive
from runtime.config import ConfigVars
from runtime.frameworks import django

# Any of these at the app root makes it a Python app (bin/detect).
MARKERS = (
    "requirements.txt",
    "requirements.in",
    "setup.py",
    "setup.cfg",
    "pyproject.toml",
    "Pipfile",
    "Pipfile.lock",
    "poetry.lock",
    "uv.lock",
    ".python-version",
    "runtime.txt",
    "manage.py",
    "wsgi.py",
    "app.py",
    "app.sh",
    "paste.ini",
    "production.ini",
    "main.py",
)

# PasteDeploy configuration files, in the order they are looked for (Pyramid's cookiecutters
# ship production.ini and development.ini), and the sections that define the "main" app.
PASTE_FILES = ("production.ini", "paste.ini")
PASTE_MAIN_SECTIONS = ("app:main", "pipeline:main", "composite:main", "filter-app:main")
SERVER_ARGS = ".launchpack/server_args"

# Hooks the build runs, in order, with where they live in the app.
BUILD_HOOKS = {
    "pre_compile": "bin/pre_compile",
    "build": ".launchpack/action_hooks/build",
    "post_compile": "bin/post_compile",
}
# Hooks run later, by the platform or the CLI.
RUN_HOOKS = {
    "migrate": ".launchpack/action_hooks/migrate",
    "deploy": ".launchpack/action_hooks/deploy",
    "setup": ".launchpack/action_hooks/setup",
}


@dataclass(frozen=True)
class StaticMapping:
    url: str
    root: str  # relative to the app dir, or absolute


@dataclass(frozen=True)
class DependencySource:
    # "requirements" (pip/uv), "requirements-in" (pip-tools, then pip/uv), "uv" (uv.lock),
    # "poetry" (poetry.lock), "pipenv" (Pipfile.lock), "project" (pip install .), "none"
    kind: str
    files: tuple[str, ...] = ()  # relative to the app dir: the files that state the dependencies

    @property
    def label(self) -> str:
        return ", ".join(self.files) if self.files else "no dependency file"


# Files each naming a complete set of dependencies: an app must have at most one of these.
LOCKING_SOURCES = (
    ("requirements", "requirements.txt"),
    ("uv", "uv.lock"),
    ("poetry", "poetry.lock"),
    ("pipenv", "Pipfile.lock"),
)


@dataclass(frozen=True)
class AppInfo:
    app_dir: str
    markers: tuple[str, ...]
    python_request: python_version.PythonRequest | None
    python_requests: tuple[python_version.PythonRequest, ...]
    dependencies: DependencySource
    # What the web process runs, by precedence (a user Procfile's web: line overrides them all):
    # "shell" (app.sh) | "python" (app.py run as a script) | "paste" (production.ini, paste.ini)
    # | "django" | "wsgi" (a WSGI callable: LAUNCHPACK_WSGI_APP, app.py's app, wsgi.py, ...)
    # | "procfile" (nothing detected: only the user's Procfile says how to run it)
    kind: str
    django: django.DjangoProject | None = None
    wsgi_app: str | None = None  # "module:object" (gunicorn's syntax, factory calls allowed)
    entry: entry_points.Entry | None = None  # the WSGI entry point found and why (wsgi_app's source)
    paste_ini: str | None = None  # the PasteDeploy file a "paste" app is served from
    static: StaticMapping | None = None  # configured mapping for non-Django apps
    hooks: dict[str, str] = field(default_factory=dict)  # hook name -> relative path, present ones only
    procfile: procfile_gen.Procfile | None = None
    server_request: server_choice.ServerRequest = server_choice.ServerRequest(server_choice.AUTO, "the default")
    server: str = servers.DEFAULT  # the WSGI server the generated web process runs (decided by the build)
    server_mode: str = "auto"  # LAUNCHPACK_SERVER_MODE: "auto" | "minimal"
    server_args: str = ""  # .launchpack/server_args, shell words, appended to the server's command
    pyproject: pyproject.Pyproject | None = None

    @property
    def user_web(self) -> bool:
        """The user's Procfile says how to run the web process (so launchpack generates none)."""
        return bool(self.procfile and self.procfile.get("web"))

    @property
    def serves_wsgi(self) -> bool:
        """launchpack's generated web process runs a WSGI server."""
        return self.kind in servers.WSGI_KINDS and not self.user_web


def markers_present(app_dir: str) -> list[str]:
    return [m for m in MARKERS if os.path.exists(os.path.join(app_dir, m))]


def is_python_app(app_dir: str) -> bool:
    return bool(markers_present(app_dir))


def not_a_python_app(app_dir: str) -> errors.NotAPythonApp:
    try:
        entries = sorted(os.listdir(app_dir))
    except OSError:
        entries = []
    shown = ", ".join(entries[:30]) + (f", ... ({len(entries)} in all)" if len(entries) > 30 else "")
    return errors.NotAPythonApp(
        app_dir=app_dir,
        looked_for=", ".join(MARKERS),
        found=shown or "(an empty directory)",
    )


def read_procfile(app_dir: str) -> procfile_gen.Procfile | None:
    text = appfiles.read_text(app_dir, "Procfile")
    if text is None:
        return None
    try:
        return procfile_gen.parse(text)
    except procfile_gen.ProcfileError as exc:
        raise errors.ProcfileInvalid(problems="\n".join(f"Procfile {p}" for p in exc.problems)) from None


def dependency_source(app_dir: str, project: pyproject.Pyproject | None = None) -> DependencySource:
    """Exactly one source of dependencies, or a clear error.

    requirements.in counts only without requirements.txt (which is then its compiled form), and
    pyproject.toml/setup.py only without any lock or requirements file (uv.lock and poetry.lock
    come with a pyproject.toml, and requirements.txt often installs the project with `-e .`).
    """

    def has(name: str) -> bool:
        return os.path.isfile(os.path.join(app_dir, name))

    found = [(kind, name) for kind, name in LOCKING_SOURCES if has(name)]
    if has("Pipfile") and not has("Pipfile.lock"):
        found.append(("pipenv", "Pipfile"))
    if has("requirements.in") and not has("requirements.txt"):
        found.append(("requirements-in", "requirements.in"))
    if len(found) > 1:
        names = [name for _, name in found]
        raise errors.MultipleDependencySources(
            found=", ".join(names),
            hint="requirements.txt for pip or uv, uv.lock for uv, poetry.lock for Poetry, Pipfile.lock for Pipenv",
        )
    if found:
        kind, name = found[0]
        if name == "Pipfile":
            raise errors.PipfileWithoutLock()
        manifests = {"uv": ("pyproject.toml",), "poetry": ("pyproject.toml",), "pipenv": ("Pipfile",)}
        return DependencySource(kind, (name, *(m for m in manifests.get(kind, ()) if has(m))))
    if project and project.poetry_dependencies and not project.declares_dependencies:
        raise errors.PoetryWithoutLock()
    metadata = tuple(name for name in ("pyproject.toml", "setup.py", "setup.cfg") if has(name))
    if (project and project.declares_dependencies) or has("setup.py") or has("setup.cfg"):
        return DependencySource("project", metadata)
    return DependencySource("none")


def server_mode(config: ConfigVars) -> str:
    mode = (config.get("LAUNCHPACK_SERVER_MODE") or "auto").strip().lower() or "auto"
    if mode not in servers.MODES:
        raise errors.UnknownServerMode(mode=mode)
    return mode


def server_args(app_dir: str, path: str = SERVER_ARGS) -> str:
    """.launchpack/server_args (or the file at path) as shell words (comments and line breaks
    dropped). Kept as the user wrote them, so that $VARIABLES in them are expanded where the app runs."""
    lines = [line.strip() for line in (appfiles.read_text(app_dir, path) or "").splitlines()]
    text = " ".join(line for line in lines if line and not line.startswith("#"))
    try:
        shlex.split(text)
    except ValueError as exc:
        raise errors.ServerArgsInvalid(path=path, reason=str(exc)) from None
    return text


def paste_config(app_dir: str, names: tuple[str, ...] = PASTE_FILES) -> str | None:
    """production.ini, else paste.ini, if it defines the "main" app PasteDeploy loads."""
    for name in names:
        text = appfiles.read_text(app_dir, name)
        if text is None:
            continue
        parser = configparser.RawConfigParser(strict=False)
        try:
            parser.read_string(text, source=name)
        except configparser.Error as exc:
            raise errors.ConfigFileUnreadable(path=name, reason=f"it is not a valid .ini file: {exc}") from None
        if any(parser.has_section(section) for section in PASTE_MAIN_SECTIONS):
            return name
    return None


def development_ini_hint(app_dir: str) -> str:
    """What to do about an app whose only PasteDeploy file is development.ini."""
    try:
        has_main = paste_config(app_dir, ("development.ini",)) is not None
    except errors.ConfigFileUnreadable:
        has_main = False
    if not has_main:
        return ""
    return (
        "development.ini defines your app, but launchpack serves production.ini (or paste.ini) only:\n"
        "copy it to production.ini and turn its development settings off (pyramid.reload_templates,\n"
        "pyramid.includes = pyramid_debugtoolbar). Otherwise: "
    )


def detect_web(
    app_dir: str, config: ConfigVars, project: django.DjangoProject | None, metadata: pyproject.Pyproject | None
) -> tuple[str | None, entry_points.Entry | None, str | None]:
    """(app kind, WSGI entry point, PasteDeploy file), by precedence: LAUNCHPACK_WSGI_APP, app.sh,
    app.py, production.ini/paste.ini, Django, wsgi.py, main.py/asgi.py, a package with an app."""
    override = entry_points.from_config(config)
    if override:
        return ("django" if project else "wsgi"), override, None
    if os.path.isfile(os.path.join(app_dir, "app.sh")):
        return "shell", None, None
    if os.path.isfile(os.path.join(app_dir, "app.py")):
        entry = entry_points.from_app_py(app_dir)
        return ("wsgi" if entry else "python"), entry, None
    paste = paste_config(app_dir)
    if paste:
        return "paste", None, paste
    if project:
        return "django", None, None
    entry = entry_points.from_wsgi_py(app_dir) or entry_points.from_modules(app_dir, metadata and metadata.name)
    return ("wsgi" if entry else None), entry, None


def describe_web(info: AppInfo) -> str:
    """What the web process runs and why, in a line (the build output and `launchpack explain`)."""
    if info.user_web:
        return "your Procfile's web: line starts the app"
    if info.kind == "shell":
        return "app.sh at the app root: the web process runs it (it must exec a server that listens on $PORT)"
    if info.kind == "python":
        return (
            "app.py defines no WSGI callable (app, application, create_app, make_app) at module level:\n"
            "the web process runs it as a script (python app.py), which must listen on $PORT itself"
        )
    if info.kind == "paste":
        return f"{info.paste_ini} defines the main app: served from it with PasteDeploy"
    if info.entry:
        how = " (a factory: called once in each server process)" if info.entry.target.endswith(")") else ""
        fallback = "; if it is not a WSGI callable, app.py runs as a script" if info.entry.script_fallback else ""
        served = f"{info.entry.target}{how}{fallback}"
        if info.django:
            return f"Django ({info.django.manage_py}), serving {served}: {info.entry.source}"
        return f"a WSGI app, {served}: {info.entry.source}"
    if info.django:
        return f"Django ({info.django.manage_py}, settings {info.django.settings} from {info.django.settings_source})"
    return "LAUNCHPACK_SERVER_MODE=minimal: the server's own configuration names the app"


def static_mapping(config: ConfigVars) -> StaticMapping | None:
    url = (config.get("LAUNCHPACK_STATIC_URL") or "").strip()
    root = (config.get("LAUNCHPACK_STATIC_ROOT") or "").strip()
    if not (url and root):
        return None
    if not url.startswith("/"):
        url = "/" + url
    return StaticMapping(url if url.endswith("/") else url + "/", root)


def inspect_app(app_dir: str, config: ConfigVars) -> AppInfo:
    if not os.path.isdir(app_dir):
        raise errors.AppDirMissing(app_dir=app_dir)
    markers = markers_present(app_dir)
    if not markers:
        raise not_a_python_app(app_dir)
    metadata = pyproject.read(app_dir)
    request, requests = python_version.read_request(app_dir, metadata.requires_python if metadata else None)
    dependencies = dependency_source(app_dir, metadata)
    procfile = read_procfile(app_dir)
    project = django.find_project(app_dir, config.get("DJANGO_SETTINGS_MODULE"))
    user_web = bool(procfile and procfile.get("web"))
    try:
        kind, entry, paste_ini = detect_web(app_dir, config, project, metadata)
    except errors.SeveralWsgiApps:
        if not user_web:
            raise
        kind, entry, paste_ini = None, None, None  # the Procfile's web: line says which
    mode = server_mode(config)
    if kind is None:
        if user_web:
            kind = "procfile"
        elif mode == "minimal":  # the server's own config file names the app
            kind = "wsgi"
        else:
            raise errors.NoWebProcess(hint=development_ini_hint(app_dir))
    if kind == "shell" and not user_web and not os.access(os.path.join(app_dir, "app.sh"), os.X_OK):
        raise errors.AppShNotExecutable()
    hooks = warpdrive.hooks(app_dir, {**BUILD_HOOKS, **RUN_HOOKS})  # .warpdrive/action_hooks as fallbacks
    return AppInfo(
        app_dir=app_dir,
        markers=tuple(markers),
        python_request=request,
        python_requests=tuple(requests),
        dependencies=dependencies,
        kind=kind,
        django=project,
        # A Django app's comes from WSGI_APPLICATION, which only Django itself can tell (at build time).
        wsgi_app=entry.target if entry and kind in ("django", "wsgi") else None,
        entry=entry if kind in ("django", "wsgi") else None,
        paste_ini=paste_ini,
        static=None if kind == "django" else static_mapping(config),
        hooks=hooks,
        procfile=procfile,
        pyproject=metadata,
        server_request=server_choice.read_request(app_dir, config),
        server_mode=mode,
        server_args=server_args(app_dir),
    )
