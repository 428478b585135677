"""The core build, the same for every platform: adapters differ only in the Layout they pass
and in how they publish the resulting process types.

    inspect -> Python -> environment -> pre_compile -> dependencies -> build hook
            -> framework steps (collectstatic) -> post_compile -> runtime files
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

import procfile_gen
from runtime import (
    appinfo,
    apptree,
    elf_runpath,
    entry_check,
    entry_points,
    envcache,
    errors,
    faults,
    hooks,
    installers,
    managed_python,
    processes,
    python_version,
    pythonenv,
    redaction,
    runtime_files,
    server_choice,
    servers,
    warpdrive,
)
from runtime.appinfo import BUILD_HOOKS, RUN_HOOKS, AppInfo
from runtime.buildenv import build_environment
from runtime.config import ConfigVars
from runtime.frameworks import django_build, django_cached
from runtime.layout import Layout
from runtime.output import Output
from runtime.servers import WebApp


@dataclass
class BuildResult:
    info: AppInfo
    interpreter: python_version.Interpreter
    processes: list[procfile_gen.ProcessType]
    launch: dict
    # Variables the app's processes need beyond the environment itself (DJANGO_SETTINGS_MODULE),
    # as env.sh exports them: platforms that set up the environment themselves (CNB) need them.
    exports: dict[str, str] = field(default_factory=dict)


def choose_python(info: AppInfo, layout: Layout, env: Mapping[str, str], out: Output) -> python_version.Interpreter:
    """The stack's interpreter for the request (or its default), else a uv-managed download."""
    available = python_version.stack_interpreters()
    default = python_version.default_interpreter(available)
    request = info.python_request
    requires = info.pyproject.requires_python if info.pyproject else None
    if len({r.version for r in info.python_requests}) > 1:
        winner, *others = info.python_requests
        out.warn(
            f"{winner.source} asks for Python {winner.version} and "
            + ", ".join(f"{o.source} for {o.version}" for o in others)
            + f": {winner.source} wins. Delete the others to avoid confusion."
        )
    if request is not None:
        python_version.check_supported(request)
    chosen = python_version.on_stack(request, available, default)
    if chosen is None:
        chosen = managed_python.provide(request, available, layout, env, out)  # type: ignore[arg-type]
    if requires and python_version.satisfies_requires_python(requires, chosen.version) is False:
        if request is None:
            raise errors.RequiresPythonExcludesDefault(
                spec=requires, default=chosen.version_text, suggestion=_suggest(requires) or "3.12"
            )
        raise errors.PythonSourcesDisagree(winner_source=request.source, winner=request.version, spec=requires)
    source = request.source if request else "the stack's default; pin it in .python-version"
    out.header(f"Using Python {chosen.version_text} ({source}{', uv-managed' if chosen.managed else ''})")
    return chosen


def _suggest(requires: str) -> str | None:
    for minor in sorted(python_version.END_OF_LIFE, reverse=True):
        if python_version.satisfies_requires_python(requires, (*minor, 0)):
            return f"{minor[0]}.{minor[1]}"
    return None


def report_config(config: ConfigVars, out: Output) -> None:
    if config.values:
        out.info("Config vars available to the build: " + ", ".join(sorted(config.values)) + " (values not shown)")
    if config.denied:
        out.warn(
            "Not exporting the config vars " + ", ".join(config.denied) + " to the build:\n"
            "they would change how the build itself runs (see README: config vars)."
        )


def app_guard(layout: Layout, out: Output) -> apptree.Guard:
    """The app scan, leaving out launchpack's own directories inside the app."""
    own = {layout.runtime_dir, layout.venv_dir}
    skip = tuple(os.path.relpath(d, layout.app_dir) for d in own if d.startswith(layout.app_dir.rstrip("/") + "/"))
    return apptree.Guard(layout.app_dir, tuple(p.split(os.sep)[0] for p in skip), out)


def run_build_hook(
    name: str, info: AppInfo, env: Mapping[str, str], out: Output, guard: apptree.Guard | None = None
) -> None:
    if name not in info.hooks:
        return
    path = info.hooks[name]  # launchpack's hook, or warpdrive's that stands for it
    with out.step(f"Running hook {path}"):
        hooks.run_hook(info.app_dir, path, env, out)
    if guard is not None:  # a hook may have made links or special files, before anything reads them
        guard.check(f"after the hook {path}")


def dependency_files(info: AppInfo) -> list[str]:
    return installers.dependency_files(info)


def environment_key(info: AppInfo, interpreter, config: ConfigVars) -> dict[str, str]:
    """The reuse key of the app's environment (see envcache.reuse_key)."""
    plan = installers.plan(info, config)
    return envcache.reuse_key(
        interpreter.description,
        plan.label,
        dependency_files(info),
        web_requirements(info).values(),
        app_dir=info.app_dir,
        source=info.dependencies.kind,
        server=info.server,
    )


def install_dependencies(
    info: AppInfo, interpreter, layout: Layout, config: ConfigVars, env: Mapping[str, str], out: Output
) -> None:
    plan = installers.plan(info, config)
    with out.step(f"Installing dependencies ({info.dependencies.label}) with {plan.label}"):
        needed = web_requirements(info)
        installers.install(plan, info, interpreter, layout, env, out, list(needed.values()))
        installers.add_missing(plan, needed, interpreter, layout, env, out)


def web_requirements(info: AppInfo) -> dict[str, str]:
    """What the web process needs installed (dist -> requirement): the server's requirements, and
    the fallbacks (servers.fallbacks) for the distributions the app's dependency files do not name,
    so that a version the app asks for is never contradicted."""
    needed = servers.requirements(info.kind, info.server, info.serves_wsgi)
    fallbacks = servers.fallbacks(info.kind, info.serves_wsgi)
    if fallbacks:
        named = installers.named_distributions(dependency_files(info))
        needed.update({dist: req for dist, req in fallbacks.items() if dist not in named})
    return needed


def prepare_environment(
    info: AppInfo,
    interpreter,
    layout: Layout,
    store: envcache.Remembering,
    env: Mapping[str, str],
    out: Output,
    config: ConfigVars | None = None,
) -> dict[str, str]:
    """Reuse the previous build's environment if nothing it depends on changed, else rebuild it.

    Runs after bin/pre_compile, which may generate dependency files. Returns the key.
    """
    config = config or ConfigVars()
    key = environment_key(info, interpreter, config)
    reasons = envcache.reasons_to_rebuild(store.previous_key, key)
    if not reasons and store.restored:
        out.header("Reusing the app's Python environment: nothing it depends on changed")
        return key
    if not reasons:
        reasons = [store.problem or "the cached environment did not match its record"]
    if store.previous_key:
        out.header("Discarding cache since:")
        for reason in reasons:
            out.info("- " + reason)
    if store.restored:  # install into a fresh environment, never on top of the old one
        pythonenv.create(interpreter, layout.venv_dir, out, embed=layout.embed_python)
    embedded = os.path.isdir(os.path.join(layout.venv_dir, pythonenv.EMBEDDED_INTERPRETER))
    install_dependencies(info, interpreter, layout, config, env, out)
    # The saved copy must not depend on this build dir, nor its compiled files on the cache.
    pythonenv.make_relocatable(layout.venv_dir, libraries=library_relocation(interpreter, layout))
    # An installer may replace the environment it is given (`uv sync` recreates a project
    # environment it judges unusable, without the embedded interpreter): never keep one whose
    # interpreter would not start, for this build or, from the cache, for the next.
    pythonenv.check_interpreter(layout.venv_dir, embedded, after=" after installing the dependencies")
    store.save(layout.venv_dir, key)
    return key


def library_relocation(interpreter, layout: Layout) -> elf_runpath.Relocation | None:
    """Where the compiled files of an environment that travels must find their libraries (see
    runtime/elf_runpath.py); None for a local environment, which stays on this machine and uses
    the interpreter where it is (a uv-managed one in the cache)."""
    if not layout.embed_python:
        return None
    moves = bool(layout.run_app_dir) and layout.run_app_dir != layout.app_dir
    return elf_runpath.for_environment(
        layout.venv_dir, interpreter.managed_root, layout.app_dir, layout.cache_dir, app_moves=moves
    )


def app_relative(path: str | None, layout: Layout) -> str | None:
    """Paths recorded for run time are relative to the app dir when inside it (the app moves)."""
    if path and os.path.isabs(path) and (path + os.sep).startswith(layout.app_dir + os.sep):
        return os.path.relpath(path, layout.app_dir)
    return path


def server_decision(info: AppInfo, platform_env: Mapping[str, str]) -> server_choice.Choice | None:
    """Which WSGI server the web process runs (see runtime/server_choice.py); None when launchpack
    generates no WSGI web process."""
    if not info.serves_wsgi:
        return None
    problem = None
    if info.server_request.name in (server_choice.AUTO, "mod_wsgi"):
        bundled = server_choice.wants_bundled_apache(info.app_dir, info.dependencies.files)
        problem = server_choice.mod_wsgi_problem(platform_env.get("PATH") or os.defpath, bundled)
    return server_choice.decide(info.server_request, problem)


def decide_server(info: AppInfo, platform_env: Mapping[str, str], out: Output) -> AppInfo:
    choice = server_decision(info, platform_env)
    if choice is None:
        return info
    out.header("Web server: " + choice.message)
    if choice.fell_back:
        out.warn(
            f"Using {choice.server} instead of mod_wsgi. To get mod_wsgi, build on a stack with apache2-dev;\n"
            f"to silence this, set LAUNCHPACK_SERVER={choice.server}."
        )
    return dataclasses.replace(info, server=choice.server)


def with_server_args(info: AppInfo) -> AppInfo:
    """The server's extra arguments once the server is known: .launchpack/server_args, else
    warpdrive's .warpdrive/server_args, a file or a directory of per-server files."""
    target = warpdrive.server_args_target(info.kind, info.server, info.serves_wsgi)
    path = warpdrive.server_args_file(info.app_dir, appinfo.SERVER_ARGS, target)
    return dataclasses.replace(info, server_args=appinfo.server_args(info.app_dir, path) if path else "")


def warpdrive_files(info: AppInfo) -> tuple[list[warpdrive.Fallback], list[tuple[str, str]]]:
    """(the warpdrive files this build uses, those it does not use with what to do instead)."""
    target = warpdrive.server_args_target(info.kind, info.server, info.serves_wsgi)
    used = warpdrive.fallbacks(
        info.hooks,
        {**BUILD_HOOKS, **RUN_HOOKS},
        info.server_request.source,
        server_choice.SERVER_FILE,
        warpdrive.server_args_file(info.app_dir, appinfo.SERVER_ARGS, target),
        appinfo.SERVER_ARGS,
    )
    return used, warpdrive.unsupported(info.app_dir)


def report_warpdrive_files(info: AppInfo, out: Output) -> None:
    used, ignored = warpdrive_files(info)
    for fallback in used:
        out.header(fallback.message)
    if ignored:
        out.warn(
            "launchpack has no equivalent for these warpdrive files, and does not use them:\n"
            + "\n".join(f"{path}: {advice}" for path, advice in ignored)
        )


def web_app(info: AppInfo, layout: Layout, wsgi_app: str | None, static_url, static_root, serve_static) -> WebApp:
    return WebApp(
        wsgi_app,
        static_url,
        app_relative(static_root, layout),
        # A STATIC_URL on another host (a CDN) is not ours to serve.
        serve_static=bool(serve_static and static_root and static_url and static_url.startswith("/"))
        and not static_url.startswith("//"),
        paste_ini=info.paste_ini if info.kind == "paste" else None,
        mode=info.server_mode,
        server_args=info.server_args,
    )


def static_serving(info: AppInfo, web: WebApp | None) -> str | None:
    """Who serves the static files: "server" (Apache, uWSGI), "whitenoise" (launchpack_wsgi)."""
    if web is None or not web.has_static or web.minimal:
        return None
    return "server" if servers.get(info.server).SERVES_STATIC else "whitenoise"


def check_served_app(
    info: AppInfo,
    web: WebApp | None,
    launch: Mapping,
    layout: Layout,
    config: ConfigVars,
    env: Mapping[str, str],
    out: Output,
) -> None:
    """Load what the web process will serve when that is more than the app the import check
    loaded: the app wrapped in WhiteNoise, which reads the static root when it is created (a
    dangling link or an unreadable directory there would crash every worker, after a green build)."""
    if launch.get("serve_static") != "whitenoise" or config.flag("LAUNCHPACK_SKIP_IMPORT_CHECK"):
        return
    dependency_file = info.dependencies.files[0] if info.dependencies.files else "requirements.txt"
    request = entry_check.Request("module", (servers.LOADER,), dependency_file)
    with out.step("Loading the app as the web process serves it (with its static files, by WhiteNoise)"):
        try:
            entry_check.check(request, layout, {**env, "LAUNCHPACK_APP_DIR": layout.app_dir})
        except errors.EntryPointImportFailed as exc:
            raise errors.ServedAppFailed(error=exc.facts["error"], root=web.static_root if web else "") from None


def framework_steps(
    info: AppInfo,
    layout: Layout,
    config: ConfigVars,
    env: dict[str, str],
    out: Output,
    env_key: Mapping[str, str] | None = None,
) -> tuple[WebApp | None, dict, dict[str, str]]:
    """(what the web process serves, launch.json facts, env.sh exports)."""
    if info.django:
        with out.step("Django: collecting static files, running the system checks"):
            if env_key is None:
                result = django_build.build(info.django, layout, config, env, out)
            else:
                result = django_cached.build(info.django, layout, config, env, out, env_key)
        env["DJANGO_SETTINGS_MODULE"] = result.settings_module
        web = None
        if info.kind == "django":
            target = info.wsgi_app or result.wsgi_app
            web = web_app(info, layout, target, result.static_url, result.static_root, result.serve_static)
        elif info.kind in ("wsgi", "paste"):  # an app.py or production.ini beside manage.py wins
            static = info.static
            web = web_app(info, layout, info.wsgi_app, static and static.url, static and static.root, bool(static))
        launch = {
            "django": {
                "settings_module": info.django.settings,
                "runtime_settings_module": result.settings_module,
                "settings_source": info.django.settings_source,
                "static_root_supplied": result.static_root_supplied,
            },
            "static": {"source": "django", "url": result.static_url, "root": app_relative(result.static_root, layout)}
            if result.serve_static
            else None,
        }
        return web, launch, {"DJANGO_SETTINGS_MODULE": result.settings_module}
    if info.kind in ("wsgi", "paste"):
        static = info.static
        web = web_app(info, layout, info.wsgi_app, static and static.url, static and static.root, bool(static))
        return web, {"static": {"url": static.url, "root": static.root} if static else None}, {}
    return None, {"static": None}, {}


def check_entry_point(
    info: AppInfo,
    web: WebApp | None,
    layout: Layout,
    config: ConfigVars,
    env: Mapping[str, str],
    out: Output,
    env_key: Mapping[str, str] | None = None,
) -> tuple[AppInfo, WebApp | None]:
    """Load the WSGI entry point once, so that an app that cannot start fails its build.

    Returns the app and its web process as the check found them: the entry point is the
    candidate that proved to be a WSGI callable, and an app.py with none runs as a script."""
    if web is None or not info.serves_wsgi or not (web.wsgi_app or web.paste_ini):
        return info, web
    entry = info.entry if info.entry and info.entry.target == web.wsgi_app else None
    request = entry_request(info, web, entry)
    shown = " or ".join(request.targets)
    if config.flag("LAUNCHPACK_SKIP_IMPORT_CHECK"):
        out.header("Not importing the WSGI entry point: LAUNCHPACK_SKIP_IMPORT_CHECK is set")
        out.info(f"The web process serves {web.paste_ini or web.wsgi_app} unchecked.")
        return info, web
    apache_only = entry_points.apache_only_import(info.app_dir, web.wsgi_app) if info.server == "mod_wsgi" else None
    if apache_only:
        out.header(f"Not importing the WSGI entry point {shown} in the build: {apache_only}")
        out.info("mod_wsgi, the server that runs it, loads it when the web process starts.")
        return info, web
    with out.step(f"Importing the WSGI entry point {shown}"):
        if env_key is None:
            outcome, skipped = entry_check.check(request, layout, env), False
        else:
            outcome, skipped = entry_check.check_unless_unchanged(request, layout, config, env, env_key)
        if skipped:
            out.info("Nothing it depends on changed (environment, app files, config vars) since it last imported.")
        for rejected in outcome.rejected:
            out.info(f"{rejected['target']} is {rejected['what']}, not a WSGI callable.")
    if request.kind == "candidates" and outcome.target is None:
        out.header("app.py defines no WSGI callable: the web process runs it as a script (python app.py)")
        out.info("It must listen on $PORT itself.")
        return dataclasses.replace(info, kind="python", wsgi_app=None, entry=None), None
    if request.kind != "paste" and outcome.target != web.wsgi_app:
        out.info(f"Serving {outcome.target}.")
        web = dataclasses.replace(web, wsgi_app=outcome.target)
        info = dataclasses.replace(info, wsgi_app=outcome.target)
    return info, web


def entry_request(info: AppInfo, web: WebApp, entry) -> entry_check.Request:
    dependency_file = info.dependencies.files[0] if info.dependencies.files else "requirements.txt"
    if web.paste_ini:
        return entry_check.Request("paste", (web.paste_ini,), dependency_file)
    if entry is not None and entry.script_fallback:
        return entry_check.Request("candidates", entry.targets, dependency_file, asgi_script=entry.runs_itself)
    return entry_check.Request("module", (web.wsgi_app,), dependency_file)


def build(
    layout: Layout,
    config: ConfigVars,
    platform_env: Mapping[str, str],
    out: Output,
    store: envcache.EnvStore | None = None,
    server_request: server_choice.ServerRequest | None = None,
) -> BuildResult:
    """server_request: an adapter's own choice of server, over the app's (`launchpack start --server`)."""
    redaction.REDACT.add_config(config.values)  # config.from_* registered it too; a caller's own ConfigVars
    info = appinfo.inspect_app(layout.app_dir, config)
    if server_request is not None:
        info = dataclasses.replace(info, server_request=server_request)
    out.header("App: " + appinfo.describe_web(info))
    info = with_server_args(decide_server(info, platform_env, out))
    report_warpdrive_files(info, out)
    for name in BUILD_HOOKS:  # fail before the slow steps, not after them
        if name in info.hooks:
            hooks.check_runnable(info.app_dir, info.hooks[name])
    report_config(config, out)
    guard = app_guard(layout, out)
    guard.check("as pushed")
    env = build_environment(platform_env, config, layout)
    installers.plan(info, config)  # an unknown LAUNCHPACK_INSTALLER fails here, before the slow steps
    interpreter = choose_python(info, layout, env, out)

    store = envcache.Remembering(store or envcache.NoStore())
    if "pre_compile" not in info.hooks and store.can_peek:
        # The key can be computed now: restore the saved environment only if it will be reused.
        previous = store.peek()
        reuse = previous and not envcache.reasons_to_rebuild(previous, environment_key(info, interpreter, config))
        if not (reuse and store.load(layout.venv_dir)):
            with out.step("Creating the app's Python environment"):
                pythonenv.create(interpreter, layout.venv_dir, out, embed=layout.embed_python)
    elif store.load(layout.venv_dir) is None or pythonenv.venv_version(layout.venv_dir) != interpreter.version_text:
        with out.step("Creating the app's Python environment"):
            pythonenv.create(interpreter, layout.venv_dir, out, embed=layout.embed_python)
            store.restored = False  # the previous key still explains, below, why it was not reused
    os.makedirs(layout.python_dir, exist_ok=True)
    runtime_files.copy_runtime_modules(layout)

    run_build_hook("pre_compile", info, env, out, guard)
    if "pre_compile" in info.hooks:  # it may have written or changed the dependency files
        info = dataclasses.replace(info, dependencies=appinfo.dependency_source(info.app_dir, info.pyproject))
    env_key = prepare_environment(info, interpreter, layout, store, env, out, config)
    run_build_hook("build", info, env, out, guard)
    web, launch_facts, exports = framework_steps(info, layout, config, env, out, env_key)
    run_build_hook("post_compile", info, env, out, guard)
    info, web = check_entry_point(info, web, layout, config, env, out, env_key)

    generated = processes.generate(info, web, layout.env_prefix())
    launch = {
        "version": 1,
        "python": interpreter.version_text,
        "kind": info.kind,
        "server": info.server if web and info.serves_wsgi else None,
        "server_mode": info.server_mode,
        "server_args": info.server_args,
        "wsgi_app": web.wsgi_app if web else None,
        "paste_ini": web.paste_ini if web else None,
        "serve_static": static_serving(info, web),
        "processes": {p.name: p.command for p in generated},
        "user_procfile": info.procfile.as_dict() if info.procfile else None,
        **launch_facts,
    }
    runtime_files.write_env_script(layout, {k: f'"{v}"' for k, v in exports.items()})
    runtime_files.write_launch(layout, launch)
    check_served_app(info, web, launch, layout, config, {**env, **exports}, out)
    pythonenv.make_relocatable(
        layout.venv_dir, layout.app_dir, layout.run_app_dir, libraries=library_relocation(interpreter, layout)
    )
    # The last word on the environment as it ships: `python` resolves, inside it, by no path of
    # the build dir (gone at run time). A green build must mean a web process that starts.
    moved_from = layout.app_dir if layout.run_app_dir and layout.run_app_dir != layout.app_dir else None
    pythonenv.check_interpreter(layout.venv_dir, build_dir=moved_from)
    report_unsaved(out)
    return BuildResult(info, interpreter, generated, launch, dict(exports))


def report_unsaved(out: Output) -> None:
    """One warning for everything the cache could not keep (envcache.note_unsaved)."""
    unsaved = envcache.take_unsaved()
    if not unsaved:
        return
    first = unsaved[0][1]
    what = ", ".join(dict.fromkeys(name for name, _exc in unsaved))
    warning = errors.CacheNotSaved(
        what=what,
        path=first.filename or "the cache directory",
        reason=first.strerror or str(first),
        fix=faults.cache_fix(first.errno),
    )
    out.warn("\n".join(warning.render()))
