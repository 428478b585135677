"""Running things in a built project's environment: hooks, commands, shells, the web process.

Every process gets the environment the platform would give it: the developer's environment,
then the project's `.env` (parsed by honcho, with honcho's precedence: `.env` wins), then the
build's env.sh sourced in the process's own shell (the app's venv first on PATH, PYTHONPATH,
DJANGO_SETTINGS_MODULE, PORT, WEB_CONCURRENCY...), exactly as the generated Procfile does.

honcho is a dependency of the `launchpack` distribution, not of the buildpack core: it is
imported here, only by the commands that need it.
"""

from __future__ import annotations

import errno
import os
import shlex
import signal
import socket
import subprocess
import sys
from collections.abc import Mapping, Sequence

from runtime import errors

DEFAULT_PORT = 8080
# Never shown by `launchpack env`: they belong to the shell that runs the command.
SHELL_OWN = frozenset({"PWD", "OLDPWD", "SHLVL", "_"})
# Runs a command with env.sh sourced: sh -c SOURCE_AND_EXEC env.sh command args...
SOURCE_AND_EXEC = '. "$0" && exec "$@"'


def _honcho(command: str):
    try:
        import honcho.environ  # noqa: F401  (the CLI's own environment, never the buildpack's)
    except ImportError:
        raise errors.HonchoMissing(command=command, python=sys.executable) from None
    return honcho


def read_dotenv(app_dir: str, command: str) -> dict[str, str]:
    """The project's .env, read by honcho's own parser (a missing file means no values)."""
    path = os.path.join(app_dir, ".env")
    try:
        with open(path, encoding="utf-8") as handle:
            content = handle.read()
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise errors.ConfigFileUnreadable(path=path, reason=str(exc)) from None
    return _honcho(command).environ.parse(content)


def app_environment(environ: Mapping[str, str], dotenv: Mapping[str, str]) -> dict[str, str]:
    """What a process started by honcho sees before env.sh: os.environ, then .env (honcho's order)."""
    return {**environ, **dotenv}


def in_env_command(env_script: str, command: Sequence[str]) -> list[str]:
    return ["/bin/sh", "-c", SOURCE_AND_EXEC, env_script, *command]


def exec_in_env(env_script: str, command: Sequence[str], env: Mapping[str, str]) -> None:
    """Replace this process with the command, in the app's environment (its exit code is ours)."""
    sys.stdout.flush()
    sys.stderr.flush()
    argv = in_env_command(env_script, command)
    os.execve(argv[0], argv, dict(env))


def run_foreground(argv: Sequence[str], env: Mapping[str, str], cwd: str) -> int:
    """Run a child with our stdin/stdout/stderr (so prompts work on a tty) and return its exit
    status (128 + N if a signal N ended it, as shells report it).

    Ctrl-C reaches the child from the terminal by itself; we ignore it meanwhile, and forward
    SIGTERM, so that the child decides how to stop and we report how it did.
    """
    process = subprocess.Popen(list(argv), env=dict(env), cwd=cwd)
    previous = {
        signal.SIGINT: signal.signal(signal.SIGINT, signal.SIG_IGN),
        signal.SIGTERM: signal.signal(signal.SIGTERM, lambda signum, _frame: process.send_signal(signum)),
    }
    try:
        code = process.wait()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 128 - code if code < 0 else code


def exports(env_script: str, env: Mapping[str, str], baseline: Mapping[str, str]) -> list[str]:
    """`export` lines for what the app's environment adds to or changes in `baseline`."""
    completed = subprocess.run(
        in_env_command(env_script, ["env", "-0"]), env=dict(env), capture_output=True, check=False
    )
    if completed.returncode != 0:
        output = completed.stderr.decode(errors="replace").strip()[-2000:]
        raise errors.EnvScriptFailed(path=env_script, code=completed.returncode, output=output)
    lines = []
    for item in completed.stdout.decode(errors="surrogateescape").split("\0"):
        name, sep, value = item.partition("=")
        if not sep or name in SHELL_OWN or baseline.get(name) == value:
            continue
        lines.append(f"export {name}={shlex.quote(value)}")
    return sorted(lines)


def expanded_server_command(command: str, env_prefix: str, env_script: str, env: Mapping[str, str]) -> str | None:
    """The server command line a generated `web:` command runs, with $PORT & co. expanded the
    way the process's own shell will expand them (env.sh sourced first); None when the command
    is not of the generated form (`<env prefix>exec server args...`)."""
    rest = command[len(env_prefix) :] if command.startswith(env_prefix) else None
    if rest is None or not rest.startswith("exec "):
        return None
    script = '. "$0" && eval "set -- $1" && printf "%s\\0" "$@"'
    completed = subprocess.run(
        ["/bin/sh", "-c", script, env_script, rest[len("exec ") :]], env=dict(env), capture_output=True, check=False
    )
    if completed.returncode != 0:
        return None
    argv = completed.stdout.decode(errors="replace").split("\0")[:-1]
    return shlex.join(argv) if argv else None


def choose_port(environ: Mapping[str, str], dotenv: Mapping[str, str]) -> tuple[int, str]:
    """honcho's precedence (.env, then the environment), with launchpack's default 8080."""
    for source, values in ((".env", dotenv), ("the PORT environment variable", environ)):
        value = (values.get("PORT") or "").strip()
        if value:
            try:
                return int(value), source
            except ValueError:
                raise errors.InvalidPort(value=value, source=source) from None
    return DEFAULT_PORT, "launchpack's default"


def port_in_use(port: int) -> bool:
    """Whether the web server could not bind the port: every server binds all interfaces, so
    try those (IPv4, and IPv6 where the machine has it), with SO_REUSEADDR as servers set it."""
    for family, address in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
        try:
            sock = socket.socket(family, socket.SOCK_STREAM)
        except OSError:  # no IPv6 here
            continue
        with sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                sock.bind((address, port))
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    return True
    return False


def serve_with_honcho(
    processes: Mapping[str, str], dotenv: Mapping[str, str], port: int, cwd: str, env: Mapping[str, str]
) -> int:
    """Run process types under honcho's manager (as `honcho start` would: honcho expands them
    with the .env values and PORT, prefixes and colours their output, and on Ctrl-C or SIGTERM
    stops them all, killing what is still running after 5 s). Returns our exit status:
    0 when the user stopped them and they stopped in time, else the first exit status."""
    _honcho("start")
    from honcho import environ as honcho_environ
    from honcho.manager import SIGNALS, Manager
    from honcho.printer import Printer

    class StopTracking(Manager):
        forced = False

        def kill(self):  # honcho calls this once processes ignored SIGTERM for 5 s
            self.forced = True
            super().kill()

    manager = StopTracking(Printer(sys.stdout, colour=sys.stdout.isatty(), prefix=True))
    for params in honcho_environ.expand_processes(processes, env=dict(dotenv), port=port):
        process_env = dict(env)
        process_env.update(params.env)
        manager.add_process(params.name, params.cmd, quiet=params.quiet, env=process_env, cwd=cwd)
    sys.stdout.flush()
    manager.loop()
    code = manager.returncode if manager.returncode is not None else 1
    if code in {s["rc"] for s in SIGNALS.values()}:
        return 128 + signal.SIGKILL if manager.forced else 0
    return code
