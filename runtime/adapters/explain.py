"""`launchpack explain`: what launchpack detected in a project and why (pure).

Built from the inspection every build starts with (AppInfo) and, once the project has been
built, from what the build recorded (launch.json): some facts, such as a Django app's
WSGI_APPLICATION and static files settings, are only known after the build has loaded the
app's settings in its environment.
"""

from __future__ import annotations

import dataclasses
import os

from runtime import installers, pipeline, processes, servers
from runtime.adapters.local_project import Project
from runtime.appinfo import BUILD_HOOKS, RUN_HOOKS, AppInfo, describe_web
from runtime.config import ConfigVars
from runtime.python_version import Interpreter
from runtime.servers import WebApp

HOOK_RUNS = {
    "pre_compile": "by launchpack build, before dependencies are installed",
    "build": "by launchpack build, after dependencies, before collectstatic",
    "post_compile": "by launchpack build, last",
    "deploy": "by launchpack start, before the server starts",
    "setup": "by launchpack setup",
    "migrate": "by launchpack migrate (and by the platform's release phase)",
}
WHEN_BUILT = "known once the app is built: run launchpack build"


def python_facts(info: AppInfo, interpreter: Interpreter, launch: dict | None) -> dict:
    request = info.python_request
    return {
        "version": (launch or {}).get("python") or interpreter.version_text,
        "requested": request.version if request else None,
        "source": request.source if request else "the stack's default (no .python-version or runtime.txt)",
        "ignored": [{"version": r.version, "source": r.source} for r in info.python_requests[1:]],
    }


def package_manager_facts(info: AppInfo, config: ConfigVars) -> dict:
    """The installer(s) the build runs, as the build names them (installers.plan)."""
    deps = info.dependencies
    if deps.kind == "none":
        return {"name": None, "files": [], "why": "no dependency file: only what the web server needs is installed"}
    plan = installers.plan(info, config)
    why = f"{deps.files[0]} at the app root" if deps.files else deps.kind
    if deps.kind in ("requirements", "project") and "LAUNCHPACK_INSTALLER" in config.values:
        why += f"; LAUNCHPACK_INSTALLER={config.get('LAUNCHPACK_INSTALLER')}"
    return {"name": plan.label, "files": list(deps.files), "why": why}


def app_type_facts(info: AppInfo, config: ConfigVars, launch: dict | None = None) -> dict:
    """The app type, as the build decided it (app.py's import check may have made it a script)."""
    if launch and launch.get("kind") and launch["kind"] != info.kind:
        info = dataclasses.replace(info, kind=launch["kind"], entry=None, wsgi_app=launch.get("wsgi_app"))
    if info.django:
        dj = info.django
        why = f"{dj.manage_py} at the app root; settings module {dj.settings} (from {dj.settings_source})"
        if info.entry:
            why += f"; serving {info.entry.target} ({info.entry.source})"
    else:
        why = describe_web(info)
    return {"kind": info.kind, "why": why}


def entry_point_facts(info: AppInfo, config: ConfigVars, launch: dict | None) -> dict:
    if info.django:
        where = info.entry.source if info.entry else f"WSGI_APPLICATION in {info.django.settings}"
        if launch and launch.get("wsgi_app"):
            return {"value": launch["wsgi_app"], "source": where}
        return {"value": None, "source": f"{where}: {WHEN_BUILT}"}
    if launch and launch.get("wsgi_app"):
        source = info.entry.source if info.entry else "the build"
        if info.entry and launch["wsgi_app"] != info.entry.target:
            source += f"; the build's import check chose {launch['wsgi_app']}"
        return {"value": launch["wsgi_app"], "source": source}
    if launch and launch.get("kind") == "python":
        return {"value": None, "source": "app.py defines no WSGI callable: it runs as a script"}
    if info.wsgi_app and info.entry:
        return {"value": info.wsgi_app, "source": info.entry.source}
    if info.kind == "paste":
        return {"value": info.paste_ini, "source": "PasteDeploy's main app"}
    return {"value": None, "source": "your Procfile's web: command"}


def static_facts(info: AppInfo, launch: dict | None) -> dict | None:
    if info.django:
        if launch is None:
            return {"url": None, "root": None, "served_by": None, "source": f"your Django settings: {WHEN_BUILT}"}
        static = launch.get("static")
        if not static:
            return None  # WhiteNoise middleware in the app, staticfiles not installed, or settings not loaded
        supplied = (launch.get("django") or {}).get("static_root_supplied")
        source = (
            "STATIC_URL from your settings; STATIC_ROOT supplied by launchpack (your settings set none)"
            if supplied
            else "STATIC_URL and STATIC_ROOT from your settings"
        )
        return {"url": static.get("url"), "root": static.get("root"), "served_by": served_by(launch), "source": source}
    if info.static:
        return {
            "url": info.static.url,
            "root": info.static.root,
            "served_by": served_by(launch) if launch else None,
            "source": "LAUNCHPACK_STATIC_URL and LAUNCHPACK_STATIC_ROOT",
        }
    return None


def served_by(launch: dict) -> str | None:
    if launch.get("serve_static") == "whitenoise":
        return "WhiteNoise, wrapped around your app by launchpack"
    return None


def server_facts(info: AppInfo, launch: dict | None, overrides: dict[str, str]) -> dict:
    """The server the build chose (or would choose), where the request came from, and the
    decision in the build's words (auto: mod_wsgi when it can be built here, else gunicorn)."""
    choice = pipeline.server_decision(info, os.environ)
    name = (launch or {}).get("server") or (choice.server if choice else None)
    if overrides.get("LAUNCHPACK_SERVER"):
        source = f"launchpack start --server {overrides['LAUNCHPACK_SERVER']} (the last build was for that run)"
    else:
        source = info.server_request.source
    return {"name": name, "source": source, "decision": choice.message if choice else None}


def server_settled(info: AppInfo, launch: dict | None) -> AppInfo:
    """The app with the server the build chose (or would choose) and that server's extra arguments."""
    choice = pipeline.server_decision(info, os.environ)
    if (launch or {}).get("server"):
        info = dataclasses.replace(info, server=launch["server"])
    elif choice is not None:  # what the build would decide, for a project not built yet
        info = dataclasses.replace(info, server=choice.server)
    return pipeline.with_server_args(info)


def warpdrive_note(path: str, ours: str) -> str:
    return f" (warpdrive's hook; {ours} is launchpack's)" if path != ours else ""


def warpdrive_facts(info: AppInfo, launch: dict | None) -> dict:
    used, ignored = pipeline.warpdrive_files(server_settled(info, launch))
    return {
        "used": [{"path": f.used, "instead_of": f.ours} for f in used],
        "ignored": [{"path": path, "instead": advice} for path, advice in ignored],
    }


def process_facts(info: AppInfo, launch: dict | None, env_prefix: str) -> dict:
    info = server_settled(info, launch)
    if launch is not None:
        generated = dict(launch.get("processes") or {})
    elif info.wsgi_app:  # known without building: nothing about the web process needs the app's env
        static = info.static
        web = WebApp(info.wsgi_app, static.url if static else None, static.root if static else None, bool(static))
        generated = {p.name: p.command for p in processes.generate(info, web, env_prefix)}
    else:
        generated = {p.name: p.command for p in processes.generate(info, None, env_prefix)}
    return {
        "generated": generated,
        "user_procfile": info.procfile.as_dict() if info.procfile else None,
        "complete": launch is not None or not info.django,
    }


def facts(
    project: Project,
    info: AppInfo,
    config: ConfigVars,
    interpreter: Interpreter,
    launch: dict | None,
    overrides: dict[str, str],
) -> dict:
    every_hook = {**BUILD_HOOKS, **RUN_HOOKS}
    return {
        "project": {
            "name": project.name,
            "dir": project.app_dir,
            "env_dir": project.env_dir,
            "active": project.active,
            "built": launch is not None,
        },
        "python": python_facts(info, interpreter, launch),
        "package_manager": package_manager_facts(info, config),
        "app_type": app_type_facts(info, config, launch),
        "entry_point": entry_point_facts(info, config, launch),
        "static": static_facts(info, launch),
        "server": server_facts(info, launch, overrides),
        "hooks": {
            name: {"path": path, "runs": HOOK_RUNS.get(name, "") + warpdrive_note(path, every_hook[name])}
            for name, path in info.hooks.items()
            if name in every_hook
        },
        "warpdrive": warpdrive_facts(info, launch),
        "processes": process_facts(info, launch, project.layout.env_prefix()),
        "servers_available": list(servers.NAMES),
    }


def render(found: dict) -> list[tuple[str, list[str]]]:
    """(header, detail lines) in the order a user reads them."""
    project, python, pm = found["project"], found["python"], found["package_manager"]
    sections = [
        (
            f"Project {project['name']}: {project['dir']}",
            [f"environment {project['env_dir']} ({'built' if project['built'] else 'not built yet'})"],
        ),
        (
            f"Python {python['version']}",
            [f"requested {python['requested']} in {python['source']}" if python["requested"] else python["source"]]
            + [f"ignored: {i['version']} in {i['source']}" for i in python["ignored"]],
        ),
        (f"Package manager: {pm['name'] or 'none'}", [pm["why"]]),
        (f"App type: {found['app_type']['kind']}", [found["app_type"]["why"]]),
    ]
    entry = found["entry_point"]
    sections.append((f"Entry point: {entry['value'] or '(not known yet)'}", [entry["source"]]))
    static = found["static"]
    if static is None:
        sections.append(("Static files: not served by launchpack", []))
    else:
        lines = [static["source"]]
        if static.get("served_by"):
            lines.append(f"served by {static['served_by']}")
        title = f"Static files: {static['url']} -> {static['root']}" if static.get("url") else "Static files"
        sections.append((title, lines))
    server = found["server"]
    sections.append((f"Server: {server['name']}", [f"chosen by {server['source']}"]))
    hooks = found["hooks"]
    sections.append(
        (
            "Hooks: " + (", ".join(h["path"] for h in hooks.values()) if hooks else "none"),
            [f"{h['path']}: run {h['runs']}" for h in hooks.values()],
        )
    )
    wd = found.get("warpdrive") or {}
    if wd.get("used") or wd.get("ignored"):
        sections.append(
            (
                "warpdrive files: " + (", ".join(u["path"] for u in wd["used"]) or "none used"),
                [f"{u['path']}: used, as launchpack's {u['instead_of']} is absent" for u in wd["used"]]
                + [f"{i['path']}: not used; {i['instead']}" for i in wd["ignored"]],
            )
        )
    procs = found["processes"]
    lines = [f"{name}: {command}" for name, command in procs["generated"].items()]
    if not procs["complete"]:
        lines.append(f"web: {WHEN_BUILT}")
    if procs["user_procfile"]:
        lines.append("your Procfile: " + ", ".join(procs["user_procfile"]) + " (yours win over launchpack's)")
    sections.append(("Process types", lines))
    return sections
