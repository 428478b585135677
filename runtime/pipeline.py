"""The core build, the same for every platform: adapters differ only in the Layout they pass
and in how they publish the resulting process types.

    inspect -> Python -> environment -> pre_compile -> dependencies -> build hook
            -> framework steps (collectstatic) -> post_compile -> runtime files
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass

import procfile_gen
from runtime import (
    appinfo,
    entry_check,
    envcache,
    hooks,
    processes,
    python_version,
    pythonenv,
    runtime_files,
    server_choice,
    servers,
)
from runtime.appinfo import BUILD_HOOKS, AppInfo
from runtime.buildenv import build_environment
from runtime.config import ConfigVars
from runtime.frameworks import django_build
from runtime.installers import pip
from runtime.layout import Layout
from runtime.output import Output
from runtime.servers import WebApp


@dataclass
class BuildResult:
    info: AppInfo
    interpreter: python_version.Interpreter
    processes: list[procfile_gen.ProcessType]
    launch: dict


def choose_python(info: AppInfo, out: Output) -> python_version.Interpreter:
    available = python_version.stack_interpreters()
    default = python_version.default_interpreter(available)
    if len({r.version for r in info.python_requests}) > 1:
        winner, *others = info.python_requests
        out.warn(
            f"{winner.source} asks for Python {winner.version} and "
            + ", ".join(f"{o.source} for {o.version}" for o in others)
            + f": {winner.source} wins. Delete the others to avoid confusion."
        )
    chosen = python_version.choose(info.python_request, available, default)
    source = info.python_request.source if info.python_request else "the stack's default; pin it in .python-version"
    out.header(f"Using Python {chosen.version_text} ({source})")
    return chosen


def report_config(config: ConfigVars, out: Output) -> None:
    if config.values:
        out.info("Config vars available to the build: " + ", ".join(sorted(config.values)) + " (values not shown)")
    if config.denied:
        out.warn(
            "Not exporting the config vars " + ", ".join(config.denied) + " to the build:\n"
            "they would change how the build itself runs (see README: config vars)."
        )


def run_build_hook(name: str, info: AppInfo, env: Mapping[str, str], out: Output) -> None:
    path = BUILD_HOOKS[name]
    if name not in info.hooks:
        return
    with out.step(f"Running hook {path}"):
        hooks.run_hook(info.app_dir, path, env, out)


def dependency_files(info: AppInfo) -> list[str]:
    return [os.path.join(info.app_dir, name) for name in info.dependencies.files]


def install_dependencies(
    info: AppInfo, interpreter, layout: Layout, env: Mapping[str, str], out: Output
) -> None:
    deps = info.dependencies
    label = ", ".join(deps.files) if deps.files else "no dependency file"
    with out.step(f"Installing dependencies ({label}) with pip"):
        tools = pip.tools_env(interpreter, layout, out)
        if deps.kind == "requirements":
            pip.install_requirements(tools, layout.venv_dir, deps.files, layout, env, out)
        needed = servers.requirements(info.kind, info.server, info.serves_wsgi)
        missing = [req for dist, req in needed.items() if not pythonenv.installed(layout.venv_dir, dist)]
        if missing:
            out.info("Adding what the web server needs: " + ", ".join(missing))
            pip.install_packages(tools, layout.venv_dir, missing, layout, env, out)


def prepare_environment(
    info: AppInfo,
    interpreter,
    layout: Layout,
    store: envcache.Remembering,
    env: Mapping[str, str],
    out: Output,
) -> None:
    """Reuse the previous build's environment if nothing it depends on changed, else rebuild it.

    Runs after bin/pre_compile, which may generate dependency files.
    """
    key = envcache.reuse_key(
        interpreter.version_text,
        "pip",
        dependency_files(info),
        servers.requirements(info.kind, info.server, info.serves_wsgi).values(),
    )
    reasons = envcache.reasons_to_rebuild(store.previous_key, key)
    if not reasons:
        out.header("Reusing the app's Python environment: nothing it depends on changed")
        return
    if store.previous_key:
        out.header("Discarding the cached Python environment since: " + "; ".join(reasons))
        pythonenv.create(interpreter, layout.venv_dir, out)
    install_dependencies(info, interpreter, layout, env, out)
    pythonenv.make_relocatable(layout.venv_dir)  # the saved copy must not depend on this build dir
    store.save(layout.venv_dir, key)


def app_relative(path: str | None, layout: Layout) -> str | None:
    """Paths recorded for run time are relative to the app dir when inside it (the app moves)."""
    if path and os.path.isabs(path) and (path + os.sep).startswith(layout.app_dir + os.sep):
        return os.path.relpath(path, layout.app_dir)
    return path


def decide_server(info: AppInfo, platform_env: Mapping[str, str], out: Output) -> AppInfo:
    """Which WSGI server the web process runs (see runtime/server_choice.py)."""
    if not info.serves_wsgi:
        return info
    problem = None
    if info.server_request.name in (server_choice.AUTO, "mod_wsgi"):
        bundled = server_choice.wants_bundled_apache(info.app_dir, info.dependencies.files)
        problem = server_choice.mod_wsgi_problem(platform_env.get("PATH") or os.defpath, bundled)
    choice = server_choice.decide(info.server_request, problem)
    out.header("Web server: " + choice.message)
    if choice.fell_back:
        out.warn(
            f"Using {choice.server} instead of mod_wsgi. To get mod_wsgi, build on a stack with apache2-dev;\n"
            f"to silence this, set LAUNCHPACK_SERVER={choice.server}."
        )
    return dataclasses.replace(info, server=choice.server)


def web_app(info: AppInfo, layout: Layout, wsgi_app: str | None, static_url, static_root, serve_static) -> WebApp:
    return WebApp(
        wsgi_app,
        static_url,
        app_relative(static_root, layout),
        # A STATIC_URL on another host (a CDN) is not ours to serve.
        serve_static=bool(serve_static and static_root and static_url and static_url.startswith("/"))
        and not static_url.startswith("//"),
        paste_ini=appinfo.PASTE_INI if info.kind == "paste" else None,
        mode=info.server_mode,
        server_args=info.server_args,
    )


def static_serving(info: AppInfo, web: WebApp | None) -> str | None:
    """Who serves the static files: "server" (Apache, uWSGI), "whitenoise" (launchpack_wsgi)."""
    if web is None or not web.has_static or web.minimal:
        return None
    return "server" if servers.get(info.server).SERVES_STATIC else "whitenoise"


def framework_steps(
    info: AppInfo, layout: Layout, config: ConfigVars, env: dict[str, str], out: Output
) -> tuple[WebApp | None, dict, dict[str, str]]:
    """(what the web process serves, launch.json facts, env.sh exports)."""
    if info.django:
        with out.step("Django: collecting static files"):
            result = django_build.build(info.django, layout, config, env, out)
        env["DJANGO_SETTINGS_MODULE"] = result.settings_module
        web = None
        if info.kind == "django":
            target = info.wsgi_app or result.wsgi_app
            web = web_app(info, layout, target, result.static_url, result.static_root, result.serve_static)
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
    info: AppInfo, web: WebApp | None, layout: Layout, config: ConfigVars, env: Mapping[str, str], out: Output
) -> None:
    """Import the WSGI entry point once, so that an app that cannot start fails its build."""
    if web is None or not info.serves_wsgi or not (web.wsgi_app or web.paste_ini):
        return
    if config.flag("LAUNCHPACK_SKIP_IMPORT_CHECK"):
        out.header("Not importing the WSGI entry point: LAUNCHPACK_SKIP_IMPORT_CHECK is set")
        return
    target = web.paste_ini or web.wsgi_app
    with out.step(f"Importing the WSGI entry point {target}"):
        entry_check.check(web, layout, env)


def build(
    layout: Layout,
    config: ConfigVars,
    platform_env: Mapping[str, str],
    out: Output,
    store: envcache.EnvStore | None = None,
) -> BuildResult:
    info = appinfo.inspect_app(layout.app_dir, config)
    info = decide_server(info, platform_env, out)
    for name in BUILD_HOOKS:  # fail before the slow steps, not after them
        if name in info.hooks:
            hooks.check_runnable(info.app_dir, info.hooks[name])
    out.add_secrets(config.secrets())
    report_config(config, out)
    interpreter = choose_python(info, out)

    store = envcache.Remembering(store or envcache.NoStore())
    if store.load(layout.venv_dir) is None or pythonenv.venv_version(layout.venv_dir) != interpreter.version_text:
        with out.step("Creating the app's Python environment"):
            pythonenv.create(interpreter, layout.venv_dir, out)
            store.previous_key = None
    os.makedirs(layout.python_dir, exist_ok=True)
    runtime_files.copy_runtime_modules(layout)
    env = build_environment(platform_env, config, layout)

    run_build_hook("pre_compile", info, env, out)
    prepare_environment(info, interpreter, layout, store, env, out)
    run_build_hook("build", info, env, out)
    web, launch_facts, exports = framework_steps(info, layout, config, env, out)
    run_build_hook("post_compile", info, env, out)
    check_entry_point(info, web, layout, config, env, out)

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
    pythonenv.make_relocatable(layout.venv_dir, layout.app_dir, layout.run_app_dir)
    return BuildResult(info, interpreter, generated, launch)
