"""The `launchpack` command: warpdrive's local workflow, run by the buildpack's own core.

    eval "$(launchpack activate)"   a dedicated environment for the project, outside the checkout
    launchpack build                the buildpack's build (runtime.pipeline.build), locally
    launchpack setup | migrate      the app's setup / migrate hooks, in its environment
    launchpack start                the generated web: process, under honcho

This is an adapter like runtime/adapters/heroku.py: it decides where things go (a local
Layout: the project's env dir under $LAUNCHPACK_HOME) and how config arrives (the developer's
environment and the project's .env), and runs the same core steps. It is installed as the
`launchpack` console script (pyproject.toml) and may use honcho, which the buildpack core never
imports.

Exit status: 0 on success; a hook's or the server's own status when it fails; 1 for a failure
the user can fix (the message says how); 2 for usage errors; 70 for a bug in launchpack.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import shutil
import sys
import time
import traceback
from collections.abc import Iterator, Mapping

from runtime import (
    appinfo,
    config,
    envcache,
    errors,
    hooks,
    installers,
    pipeline,
    python_version,
    pythonenv,
    redaction,
    runtime_files,
    server_choice,
    servers,
    warpdrive,
)
from runtime.adapters import explain as explaining
from runtime.adapters import local_project, local_run, local_shell
from runtime.adapters.local_project import Project
from runtime.buildenv import build_environment
from runtime.output import Output

USAGE_EXIT = 2
BUG_EXIT = 70
BUILD_RECORD = "build.json"  # in the env dir: what the last build was asked for (e.g. --server)
# Environment variables that configure launchpack or the app's server: config vars of a local
# build (together with .env). The rest of the developer's environment still reaches every
# process of the build, but is not listed as config.
CONFIG_PREFIXES = ("LAUNCHPACK_", "MOD_WSGI_")
CONFIG_NAMES = frozenset({"DJANGO_SETTINGS_MODULE", "DISABLE_COLLECTSTATIC", "WEB_CONCURRENCY"})
SESSION_NAMES = frozenset(
    {"LAUNCHPACK_HOME", local_project.ACTIVE_NAME, local_project.ACTIVE_DIR, local_project.ACTIVE_ENV}
)
RELOAD_SWITCHES = ("LAUNCHPACK_RELOAD", "MOD_WSGI_RELOAD_ON_CHANGES")
# What a missing hook could hold, by app type: Django's commands only for Django apps.
HOOK_EXAMPLES = {
    ("setup", "django"): "python manage.py migrate --noinput && python manage.py createsuperuser",
    ("migrate", "django"): "python manage.py migrate --noinput",
    ("setup", "other"): "python -m myapp.init_db  # your app's one-off setup commands",
    ("migrate", "other"): "alembic upgrade head  # your app's database migrations",
}


# --- deciding ----------------------------------------------------------------------------


def local_config(
    environ: Mapping[str, str], dotenv: Mapping[str, str], overrides: Mapping[str, str]
) -> config.ConfigVars:
    """A local build's config vars: launchpack's settings from the environment, then .env
    (which wins, as in honcho), then this run's command-line overrides."""
    selected = {
        name: value
        for name, value in environ.items()
        if (name.startswith(CONFIG_PREFIXES) or name in CONFIG_NAMES) and name not in SESSION_NAMES
    }
    return config.from_mapping({**selected, **dotenv, **overrides})


def reload_requested(flag: bool, env: Mapping[str, str]) -> str | None:
    """What asked for reload on change, if anything."""
    if flag:
        return "--reload"
    for name in RELOAD_SWITCHES:
        if config.ConfigVars(env).flag(name):
            return f"{name}={env[name]}"
    return None


def web_command(project: Project, launch: dict, user_procfile) -> tuple[str, str]:
    """(the web command start runs, where it comes from): a user Procfile wins, as on the platform,
    with the app's environment sourced first (on the platform .profile.d does that)."""
    user_web = user_procfile.get("web") if user_procfile else None
    if user_web is not None:
        return project.layout.env_prefix() + user_web.command, "your Procfile's web process"
    generated = (launch.get("processes") or {}).get("web")
    if not generated:
        raise errors.NoWebProcess()
    return generated, "the web process launchpack build generated"


# --- acting ------------------------------------------------------------------------------


def require_python_app(app_dir: str) -> None:
    if not appinfo.is_python_app(app_dir):
        raise appinfo.not_a_python_app(app_dir)


def current_project() -> Project:
    project = local_project.resolve(os.environ, os.getcwd())
    require_python_app(project.app_dir)
    return project


def announce(project: Project, out: Output, always: bool = True) -> None:
    """Say which project and environment the command uses (commands printing data for other
    programs say it only when no project is active, the case a user could be surprised by)."""
    if project.active and not always:
        return
    first, *rest = local_project.describe(project).splitlines()
    out.header(first)
    for line in rest:
        out.info(line)
    if project.moved_from:
        out.warn(
            f"The environment {project.name} was made for {project.moved_from}, which no longer exists: using it here."
        )


def read_launch(project: Project) -> dict | None:
    if not os.path.isfile(project.layout.env_script):
        return None
    return runtime_files.read_launch(project.layout.runtime_dir)


def require_built(project: Project) -> dict:
    launch = read_launch(project)
    if launch is None:
        raise errors.NotBuiltYet(name=project.name, env_dir=project.env_dir)
    return launch


def read_build_record(project: Project) -> dict:
    try:
        with open(os.path.join(project.env_dir, BUILD_RECORD), encoding="utf-8") as handle:
            record = json.load(handle)
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def write_build_record(project: Project, overrides: Mapping[str, str]) -> None:
    with open(os.path.join(project.env_dir, BUILD_RECORD), "w", encoding="utf-8") as handle:
        json.dump({"overrides": dict(overrides), "built_at": time.time()}, handle)


@contextlib.contextmanager
def build_lock(project: Project, out: Output) -> Iterator[None]:
    """One build of an environment at a time (two would install into the same venv)."""
    with open(os.path.join(project.env_dir, ".build.lock"), "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            out.header(f"Waiting for another launchpack build of {project.name} to finish")
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def run_build(project: Project, overrides: Mapping[str, str], out: Output) -> pipeline.BuildResult:
    started = time.monotonic()
    dotenv = local_run.read_dotenv(project.app_dir, "build")
    where = project.layout
    local_project.write_record(project)
    with build_lock(project, out):
        # --server names the server for this run over the app's .launchpack/server and config var.
        server = overrides.get("LAUNCHPACK_SERVER")
        request = server_choice.ServerRequest(server, "launchpack start --server") if server else None
        result = pipeline.build(
            where, local_config(os.environ, dotenv, overrides), os.environ, out, envcache.InPlaceStore(), request
        )
        launch = result.launch
        detail = f"web serves {launch['wsgi_app']} with {launch['server']}" if launch.get("server") else "process types"
        runtime_files.write_procfile(where.runtime_dir, result.processes, detail)
        write_build_record(project, overrides)
    if result.processes:
        out.header(
            "Process types: " + ", ".join(p.name for p in result.processes) + " (launchpack procfile shows them)"
        )
        for process in result.processes:
            out.info(f"{process.name}: {process.command}")
    if result.info.procfile is not None:
        out.info("Your Procfile's " + ", ".join(result.info.procfile.names) + " win over these.")
    out.header(f"Build finished in {time.monotonic() - started:.1f}s")
    return result


def app_environment(project: Project, command: str) -> dict[str, str]:
    return local_run.app_environment(os.environ, local_run.read_dotenv(project.app_dir, command))


def warn_if_stale(project: Project, out: Output) -> None:
    """Dependency files edited since the build: the environment does not have them yet."""
    key = envcache.InPlaceStore().load(project.layout.venv_dir)
    deps = appinfo.dependency_source(project.app_dir)
    files = [os.path.join(project.app_dir, name) for name in deps.files]
    if key and key.get("dependencies") != envcache.file_digest(files):
        out.warn(
            f"{', '.join(deps.files) or 'Your dependency files'} changed since the last build: run launchpack build."
        )


def hook_path(project: Project, name: str) -> str:
    """The file run as hook `name`: launchpack's, else warpdrive's (launchpack's when neither exists)."""
    return warpdrive.hook_path(project.app_dir, name, appinfo.RUN_HOOKS[name])


def hook_example(project: Project, name: str) -> str:
    django_app = os.path.isfile(os.path.join(project.app_dir, "manage.py"))
    return HOOK_EXAMPLES.get((name, "django" if django_app else "other"), "...")


def run_hook(project: Project, name: str, command: str, env: Mapping[str, str], out: Output) -> None:
    path = hook_path(project, name)
    if not os.path.lexists(os.path.join(project.app_dir, path)):
        raise errors.RunHookMissing(hook=path, command=command, example=hook_example(project, name))
    full = hooks.check_runnable(project.app_dir, path)
    if path != appinfo.RUN_HOOKS[name]:
        out.header(warpdrive.Fallback(path, appinfo.RUN_HOOKS[name]).message)
    out.header(f"Running {path}")
    argv = local_run.in_env_command(project.layout.env_script, [full])
    code = local_run.run_foreground(argv, env, project.app_dir)
    if code != 0:
        raise errors.RunHookFailed(hook=path, code=code, command=command)


# --- commands ----------------------------------------------------------------------------


def cmd_activate(args: argparse.Namespace) -> int:
    out = Output(sys.stderr)  # stdout is the shell code
    home = local_project.home_dir(os.environ)
    cwd = os.path.realpath(os.getcwd())
    project = None
    if args.name:
        existing = local_project.named(home, args.name)
        # `launchpack activate NAME` from outside any app: that project, wherever it is (workon).
        if existing and existing.app_dir != cwd and os.path.isdir(existing.app_dir) and not appinfo.is_python_app(cwd):
            project = existing
    if project is None:
        require_python_app(cwd)
        project = local_project.for_directory(home, cwd, args.name)
    venv_dir = project.layout.venv_dir
    local_project.write_record(project)
    if os.path.isfile(pythonenv.python_of(venv_dir)):
        out.header(f"Activating {project.name}: {project.app_dir}")
        out.info(f"environment {project.env_dir}")
    else:
        request, _ = python_version.read_request(project.app_dir)
        available = python_version.stack_interpreters()
        interpreter = python_version.choose(request, available, python_version.default_interpreter(available))
        with out.step(f"Creating the environment {project.env_dir} (Python {interpreter.version_text})"):
            pythonenv.create(interpreter, venv_dir, out)
        out.info("Next: launchpack build")
    if sys.stdout.isatty():
        out.warn('This prints shell code to activate the project: run eval "$(launchpack activate)"')
    sys.stdout.write(local_shell.activation(project, venv_dir))
    return 0


def cmd_deactivate(args: argparse.Namespace) -> int:
    if not os.environ.get(local_project.ACTIVE_NAME):
        Output(sys.stderr).info("(no launchpack project is active in this shell)")
    sys.stdout.write(local_shell.deactivation())
    return 0


def cmd_destroy(args: argparse.Namespace) -> int:
    out = Output(sys.stdout)
    home = local_project.home_dir(os.environ)
    name = local_project.check_name(args.name)
    if os.environ.get(local_project.ACTIVE_NAME) == name:
        raise errors.EnvIsActive(name=name)
    env_dir = os.path.join(local_project.envs_dir(home), name)
    if not os.path.isdir(env_dir):
        names = local_project.list_envs(home)
        raise errors.NoSuchEnv(name=name, envs_dir=local_project.envs_dir(home), names=", ".join(names) or "(none)")
    record = local_project.read_record(env_dir)
    shutil.rmtree(env_dir)
    out.header(f"Removed the environment {name} ({env_dir})")
    if record:
        out.info(f"The project's own files in {record['project_dir']} were not touched.")
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    out = Output(sys.stdout, quiet=args.quiet)
    project = current_project()
    announce(project, out)
    result = run_build(project, {}, out)
    if "setup" in result.info.hooks:
        out.info(f"Next: launchpack setup (first time: runs {result.info.hooks['setup']}), launchpack start")
    else:
        out.info("Next: launchpack start")
    return 0


def cmd_start(args: argparse.Namespace) -> int:
    out = Output(sys.stdout, quiet=args.quiet)
    if args.server and args.server not in servers.NAMES:
        raise errors.UsageError(
            message=f"launchpack start --server {args.server}: no such server",
            usage="Choose one of: " + ", ".join(servers.NAMES),
        )
    project = current_project()
    announce(project, out)
    launch = require_built(project)
    overrides = {"LAUNCHPACK_SERVER": args.server} if args.server else {}
    previous = read_build_record(project).get("overrides") or {}
    if previous != overrides:
        reason = (
            f"for --server {args.server} (this run only)"
            if args.server
            else f"with the app's own settings (the last build was for --server {previous.get('LAUNCHPACK_SERVER')})"
        )
        out.header(f"Rebuilding {reason}")
        launch = run_build(project, overrides, out).launch
    else:
        warn_if_stale(project, out)

    dotenv = local_run.read_dotenv(project.app_dir, "start")
    env = local_run.app_environment(os.environ, dotenv)
    run_env = dict(os.environ)
    if args.reload:
        run_env["LAUNCHPACK_RELOAD"] = "1"
    command, source = web_command(project, launch, appinfo.read_procfile(project.app_dir))
    port, port_source = local_run.choose_port(os.environ, dotenv)
    if local_run.port_in_use(port):  # before the deploy hook: fail with the port, not Apache's bind error
        raise errors.PortInUse(port=port, source=port_source, other=port + 1 if port < 65535 else 8081)

    if os.path.lexists(os.path.join(project.app_dir, hook_path(project, "deploy"))):
        run_hook(project, "deploy", "start", env, out)

    where = project.layout
    shown = local_run.expanded_server_command(
        command, where.env_prefix(), where.env_script, {**run_env, **dotenv, "PORT": str(port)}
    )
    out.header(f"Starting web on http://127.0.0.1:{port}/ with honcho (Ctrl-C stops it)")
    out.info(f"web: {command}")
    out.info(f"({source}; PORT {port} from {port_source})")
    reload_by = reload_requested(args.reload, {**run_env, **dotenv})
    if reload_by:
        out.info(f"Reload on change: on ({reload_by})")
    out.header(f"Server command: {shown or command}")
    return local_run.serve_with_honcho({"web": command}, dotenv, port, project.app_dir, run_env)


def cmd_setup(args: argparse.Namespace) -> int:
    return run_hook_command(args, "setup")


def cmd_migrate(args: argparse.Namespace) -> int:
    return run_hook_command(args, "migrate")


def run_hook_command(args: argparse.Namespace, name: str) -> int:
    out = Output(sys.stdout, quiet=args.quiet)
    project = current_project()
    announce(project, out)
    require_built(project)
    warn_if_stale(project, out)
    run_hook(project, name, name, app_environment(project, name), out)
    out.header(f"{hook_path(project, name)} finished")
    return 0


def cmd_exec(args: argparse.Namespace) -> int:
    command = list(args.command)
    if command[:1] == ["--"]:
        command = command[1:]
    if not command:
        raise errors.UsageError(
            message="launchpack exec needs a command", usage="e.g. launchpack exec python manage.py check"
        )
    project = current_project()
    announce(project, Output(sys.stderr), always=False)
    require_built(project)
    local_run.exec_in_env(project.layout.env_script, command, app_environment(project, "exec"))
    return 0  # not reached


def cmd_shell(args: argparse.Namespace) -> int:
    out = Output(sys.stderr)
    project = current_project()
    announce(project, out, always=False)
    require_built(project)
    shell = os.environ.get("SHELL") or "/bin/sh"
    out.header(f"{shell} in {project.name}'s environment (exit leaves it)")
    local_run.exec_in_env(project.layout.env_script, [shell], app_environment(project, "shell"))
    return 0  # not reached


def cmd_env(args: argparse.Namespace) -> int:
    project = current_project()
    announce(project, Output(sys.stderr), always=False)
    require_built(project)
    lines = local_run.exports(project.layout.env_script, app_environment(project, "env"), os.environ)
    sys.stdout.write("".join(line + "\n" for line in lines))
    return 0


def cmd_lock(args: argparse.Namespace) -> int:
    """requirements.in -> requirements.txt with pip-tools, as the build would resolve it."""
    out = Output(sys.stdout, quiet=args.quiet)
    project = current_project()
    announce(project, out)
    if not os.path.isfile(os.path.join(project.app_dir, "requirements.in")):
        raise errors.NothingToLock(app_dir=project.app_dir)
    dotenv = local_run.read_dotenv(project.app_dir, "lock")
    config_vars = local_config(os.environ, dotenv, {})
    info = appinfo.inspect_app(project.app_dir, config_vars)
    layout = project.layout
    env = build_environment(os.environ, config_vars, layout)
    interpreter = pipeline.choose_python(info, layout, env, out)
    target = os.path.join(project.app_dir, "requirements.txt")
    with out.step("Compiling requirements.in with pip-tools"):
        installers.compile_requirements_in(interpreter, layout, env, out, output_file=target)
    out.header("Wrote requirements.txt: commit it, and builds install exactly these versions")
    return 0


def cmd_procfile(args: argparse.Namespace) -> int:
    project = current_project()
    announce(project, Output(sys.stderr), always=False)
    require_built(project)
    try:
        with open(os.path.join(project.layout.runtime_dir, "Procfile"), encoding="utf-8") as handle:
            sys.stdout.write(handle.read())
    except FileNotFoundError:
        raise errors.NotBuiltYet(name=project.name, env_dir=project.env_dir) from None
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    out = Output(sys.stderr)
    project = current_project()
    announce(project, out, always=False)
    dotenv = local_run.read_dotenv(project.app_dir, "explain")
    overrides = read_build_record(project).get("overrides") or {}
    config_vars = local_config(os.environ, dotenv, {})
    info = appinfo.inspect_app(project.app_dir, config_vars)
    available = python_version.stack_interpreters()
    interpreter = python_version.choose(info.python_request, available, python_version.default_interpreter(available))
    launch = read_launch(project)
    found = explaining.facts(project, info, config_vars, interpreter, launch, overrides)
    if args.verbose:
        found["launch"] = launch
    if args.json:
        sys.stdout.write(json.dumps(found, indent=2) + "\n")
        return 0
    text = Output(sys.stdout)
    for title, lines in explaining.render(found):
        text.header(title)
        for line in lines:
            text.info(line)
    if args.verbose and launch:
        text.header("launch.json (what the build recorded)")
        text.info(json.dumps(launch, indent=2, sort_keys=True))
    return 0


# --- arguments ---------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="launchpack",
        description="Build and run a Python web app locally exactly as the launchpack buildpack does on the platform.",
        epilog='Start with: cd your-project && eval "$(launchpack activate)" && launchpack build',
    )
    top.add_argument("--version", action="version", version="launchpack " + version())
    sub = top.add_subparsers(title="commands", dest="command", metavar="COMMAND")

    def add(name: str, func, summary: str, description: str | None = None) -> argparse.ArgumentParser:
        command = sub.add_parser(name, help=summary, description=description or summary)
        command.set_defaults(func=func)
        return command

    def quiet(command: argparse.ArgumentParser) -> None:
        command.add_argument("-q", "--quiet", action="store_true", help="only the step headers, not their detail")

    p = add(
        "activate",
        cmd_activate,
        "create (if needed) the project's environment and print shell code that activates it",
        "Create the project's own environment ($LAUNCHPACK_HOME/envs/NAME, default ~/.launchpack) and print "
        'shell code that activates it: eval "$(launchpack activate)". The prompt then shows (launchpack+NAME), '
        "and launchpack commands work on this project from any directory.",
    )
    p.add_argument("name", nargs="?", metavar="NAME", help="the environment's name (default: the directory's name)")
    add(
        "deactivate", cmd_deactivate, 'print shell code that leaves the active project: eval "$(launchpack deactivate)"'
    )
    p = add("destroy", cmd_destroy, "delete a project's environment (never the project's own files)")
    p.add_argument("name", metavar="NAME")
    p = add(
        "build",
        cmd_build,
        "build the project the way the buildpack does: Python, dependencies, server, collectstatic, build hooks",
        "Run the buildpack's build steps against the project and its environment. Run it again after "
        "changing requirements.txt or static files: unchanged dependencies are reused as they are.",
    )
    quiet(p)
    p = add(
        "start",
        cmd_start,
        "run .launchpack/action_hooks/deploy (if present), then serve the web process with honcho",
    )
    quiet(p)
    p.add_argument(
        "--server", metavar="NAME", help="use this WSGI server for this run (rebuilds; the next plain start goes back)"
    )
    p.add_argument("--reload", action="store_true", help="restart the app when its code changes (LAUNCHPACK_RELOAD=1)")
    quiet(add("setup", cmd_setup, "run .launchpack/action_hooks/setup in the project's environment"))
    quiet(add("migrate", cmd_migrate, "run .launchpack/action_hooks/migrate in the project's environment"))
    p = add("exec", cmd_exec, "run a command in the project's environment")
    p.add_argument("command", nargs=argparse.REMAINDER, metavar="CMD ...")
    add("shell", cmd_shell, "start $SHELL in the project's environment")
    add("env", cmd_env, "print the project's environment as export lines")
    quiet(add("lock", cmd_lock, "compile requirements.in into a pinned requirements.txt (pip-tools)"))
    add("procfile", cmd_procfile, "print the Procfile the build generated")
    p = add("explain", cmd_explain, "what launchpack detected in the project, and why")
    p.add_argument("--json", action="store_true", help="as JSON, for programs")
    p.add_argument("-v", "--verbose", action="store_true", help="also what the build recorded (launch.json)")
    return top


def version() -> str:
    try:
        from importlib.metadata import version as dist_version

        return dist_version("launchpack")
    except Exception:  # noqa: BLE001 - run from a checkout, not installed
        return "(not installed)"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # stderr carries messages and tracebacks; stdout carries data the user asked for (`env`,
    # `activate`), and what launchpack prints there goes through Output, which redacts.
    redaction.install(["stderr"])
    top = parser()
    try:
        args = top.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2, argparse's message printed)
        return exc.code if isinstance(exc.code, int) else USAGE_EXIT
    if not getattr(args, "func", None):
        top.print_help(sys.stderr)
        return USAGE_EXIT
    errors_out = Output(sys.stderr)
    try:
        return args.func(args)
    except errors.UsageError as exc:
        errors_out.error(exc.render())
        return USAGE_EXIT
    except errors.RunHookFailed as exc:
        errors_out.error(exc.render())
        return int(exc.facts["code"]) or 1
    except errors.LaunchpackError as exc:
        errors_out.error(exc.render())
        return 1
    except KeyboardInterrupt:
        errors_out.error(["Interrupted"])
        return 130
    except Exception:  # noqa: BLE001 - the one place a bug becomes a report
        errors_out.error(["Internal error in launchpack: this is a bug, please report it with the traceback below."])
        traceback.print_exc()
        return BUG_EXIT


if __name__ == "__main__":
    sys.exit(main())
