"""Start-time settings of the web server: how many processes and threads, reload, mod_wsgi.

Copied into every built app and run when a process starts (not at build time), because the
limits that matter are those of the container the app runs in, which the build cannot know,
and because config vars such as LAUNCHPACK_RELOAD or MOD_WSGI_* may change without a rebuild.

    cpus   = the cgroup CPU quota (v2 cpu.max, v1 cpu.cfs_quota_us / cpu.cfs_period_us), rounded
             up; without a quota, the CPUs this process may run on
    memory = the cgroup memory limit (v2 memory.max, v1 memory.limit_in_bytes); without a
             limit, the machine's MemTotal
    WEB_CONCURRENCY    = max(1, min(cpus + 1, memory_mib // 256, 16))
    LAUNCHPACK_THREADS = 2

Each process of a typical Django app needs well under 256 MiB. cpus + 1 processes of 2 threads
keep every CPU busy while some requests wait on I/O, without the context switching of more: on
2 CPUs, with the app and load of bench/serve_bench.py, 3 x 2 served 10-20 % more requests/s
than 5 x 4 (gunicorn's 2 * cpus + 1 rule with 4 threads) under mod_wsgi, and about as many
under gunicorn. A value the user sets for either variable always wins.

Besides those two it sets, for the generated server commands:
    LAUNCHPACK_RELOAD          "1" when LAUNCHPACK_RELOAD or MOD_WSGI_RELOAD_ON_CHANGES is on, else ""
    LAUNCHPACK_MOD_WSGI_ARGS   mod_wsgi-express options from the MOD_WSGI_* variables (the access
                               log only with MOD_WSGI_ACCESS_LOG=1), the mode (daemon, with
                               --reload-on-changes when reloading; embedded with
                               MOD_WSGI_EMBEDDED_MODE=1), --max-clients 512 unless
                               MOD_WSGI_MAX_CLIENTS is set, --user/--group when run as root
    WARPDRIVE_HTTP_PORT        $PORT, for apps written for warpdrive (which read only that)

A value the servers cannot use is ignored with a one-line warning, in this one place that every
server's command goes through: WEB_CONCURRENCY or LAUNCHPACK_THREADS that is not a whole number
of 1 or more gets launchpack's default (gunicorn would stop with a traceback, waitress's $((...))
with a shell error); such a MOD_WSGI_PROCESSES/MOD_WSGI_THREADS is exported empty, so that the
command's ${MOD_WSGI_PROCESSES:-$WEB_CONCURRENCY} falls back. Ignoring rather than exiting keeps
the app serving (a config var change restarts every dyno) and keeps one-off processes such as
`heroku run bash`, which source this through .profile.d, usable to fix it.

Python's own variables are neutralised for the same reason: PYTHONHOME (set as a config var, it
makes every Python of the app stop with "Fatal Python error") is unset; PYTHONPATH keeps its
entries inside the app (PYTHONPATH=src works, as on Heroku) and loses the others, each with a
one-line warning.

Standard library only; runs on the app's Python. Usage:
    python launchpack_env.py sh      export lines for the variables the user has not set
    python launchpack_env.py execd   the same as TOML on fd 3 (Cloud Native Buildpacks exec.d)
    python launchpack_env.py json    the computation, for `launchpack explain`
"""

from __future__ import annotations

import json
import math
import os
import re
import shlex
import sys

MIB = 1024 * 1024
PER_PROCESS_MIB = 256
MAX_PROCESSES = 16
DEFAULT_THREADS = 2
UNLIMITED = 1 << 60  # cgroup v1 reports "no limit" as a huge page-aligned number
WHOLE_NUMBER = re.compile(r"^[0-9]+$")
# The counts the servers' commands read, and what each one counts (for the warning).
COUNTS = {"WEB_CONCURRENCY": "server processes", "LAUNCHPACK_THREADS": "threads in each server process"}
# mod_wsgi's own overrides of those counts: when unusable, the command falls back to the count.
COUNT_OVERRIDES = {"MOD_WSGI_PROCESSES": "WEB_CONCURRENCY", "MOD_WSGI_THREADS": "LAUNCHPACK_THREADS"}


# MOD_WSGI_<NAME>=value -> --<name> value (warpdrive's variables; PROCESSES and THREADS are
# read by the command itself, RELOAD_ON_CHANGES through LAUNCHPACK_RELOAD).
MOD_WSGI_VALUES = (
    "LOG_LEVEL", "MAX_CLIENTS", "INITIAL_WORKERS", "MINIMUM_SPARE_WORKERS", "MAXIMUM_SPARE_WORKERS",
    "LIMIT_REQUEST_BODY", "MAXIMUM_REQUESTS", "INACTIVITY_TIMEOUT", "REQUEST_TIMEOUT", "CONNECT_TIMEOUT",
    "SOCKET_TIMEOUT", "QUEUE_TIMEOUT", "HEADER_TIMEOUT", "HEADER_MAX_TIMEOUT", "HEADER_MIN_RATE",
    "BODY_TIMEOUT", "BODY_MAX_TIMEOUT", "BODY_MIN_RATE", "SERVER_BACKLOG", "DAEMON_BACKLOG", "SERVER_MPM",
    "WORKING_DIRECTORY",
)  # fmt: skip
# Apache's connections (mod_wsgi-express's default is 1.5 x the app's threads, 9 on 2 CPUs): with
# the event MPM idle keep-alive ones cost no thread, and clients that trickle their headers are
# dropped by mod_reqtimeout (--header-timeout, 15-30 s) while 512 threads keep taking others.
MOD_WSGI_DEFAULTS = {"MAX_CLIENTS": "512"}
# Request bodies above this get 413 from every server (mod_wsgi's own default, 10 MiB).
DEFAULT_MAX_REQUEST_BODY = "10485760"
MOD_WSGI_FLAGS = {"SERVER_STATUS": ("--server-status",), "ENABLE_DEBUGGER": ("--debug-mode", "--enable-debugger")}
# Values are spliced into the command unquoted (as separate words), so only plain ones pass.
PLAIN_VALUE = re.compile(r"^[A-Za-z0-9_.:/@+-]+$")
OFF = ("", "0", "false", "no", "off")


def _catalogue():
    """The message catalogue: runtime/errors.py, copied beside this file as launchpack_errors.py
    (this runs with python -I, which puts no script directory on sys.path)."""
    here = os.path.dirname(os.path.abspath(__file__))
    if here not in sys.path:
        sys.path.insert(0, here)
    try:
        import launchpack_errors as errors
    except ImportError:  # run from launchpack's checkout (runtime/slug/), as its tests do
        sys.path.insert(0, os.path.dirname(os.path.dirname(here)))
        from runtime import errors
    return errors


def _stderr(message: str) -> None:
    sys.stderr.write(f"launchpack: {message}\n")


def whole_number(raw: str | None) -> str | None:
    """The count as the servers want it ("3"), or None unless it is a whole number of 1 or more."""
    value = (raw or "").strip()
    return str(int(value)) if WHOLE_NUMBER.match(value) and int(value) > 0 else None


def invalid_count_warnings(environ: dict[str, str], values: dict[str, str], invalid: dict[str, str]) -> list[str]:
    """One line for each unusable count the user set (values: the counts the process will use)."""
    errors = _catalogue()
    lines = []
    for name, raw in invalid.items():
        lines.append(
            errors.RunSettingInvalid(
                name=name,
                value=raw,
                accepted=f"the number of {COUNTS[name]} must be a whole number, 1 or more",
                default=values[name],
                why="launchpack's default" + (", from the container's limits" if name == "WEB_CONCURRENCY" else ""),
                example=values[name],
            ).one_line()
        )
    for name, count in COUNT_OVERRIDES.items():
        raw = (environ.get(name) or "").strip()
        if raw and not whole_number(raw):
            lines.append(
                errors.RunSettingInvalid(
                    name=name,
                    value=raw,
                    accepted=f"the number of {COUNTS[count]} must be a whole number, 1 or more",
                    default=values[count],
                    why=f"{count}, as when {name} is not set",
                    example=values[count],
                ).one_line()
            )
    return lines


def unusable_overrides(environ: dict[str, str]) -> dict[str, str]:
    """MOD_WSGI_PROCESSES/THREADS to export empty, as they are unusable (the command then falls back)."""
    return {
        name: ""
        for name in COUNT_OVERRIDES
        if (environ.get(name) or "").strip() and not whole_number(environ.get(name))
    }


def _inside(path: str, directory: str) -> bool:
    for a, b in (
        (os.path.normpath(path), os.path.normpath(directory)),
        (os.path.realpath(path), os.path.realpath(directory)),
    ):
        if a == b or a.startswith(b.rstrip(os.sep) + os.sep):
            return True
    return False


def python_path(environ: dict[str, str]) -> tuple[str, list[str]]:
    """(PYTHONPATH without the entries outside the app, those entries). Relative entries are
    relative to the app dir, where every process starts; launchpack's own runtime dir counts."""
    app_dir = environ.get("LAUNCHPACK_APP_DIR") or os.getcwd()
    allowed = [d for d in (app_dir, environ.get("LAUNCHPACK_RUNTIME_DIR")) if d]
    kept, dropped = [], []
    for entry in (environ.get("PYTHONPATH") or "").split(os.pathsep):
        if not entry:
            continue
        where = entry if os.path.isabs(entry) else os.path.join(app_dir, entry)
        (kept if any(_inside(where, d) for d in allowed) else dropped).append(entry)
    return os.pathsep.join(kept), dropped


def python_settings(environ: dict[str, str]) -> tuple[dict[str, str | None], list[str]]:
    """(variables to change, None meaning unset; their warnings) for PYTHONHOME and PYTHONPATH."""
    errors = _catalogue()
    changes: dict[str, str | None] = {}
    lines = []
    if environ.get("PYTHONHOME"):
        changes["PYTHONHOME"] = None
        lines.append(errors.PythonHomeIgnored(value=environ["PYTHONHOME"]).one_line())
    path, dropped = python_path(environ)
    if dropped:
        changes["PYTHONPATH"] = path
        app_dir = environ.get("LAUNCHPACK_APP_DIR") or os.getcwd()
        lines.append(errors.PythonPathEntriesIgnored(entries=", ".join(dropped), app_dir=app_dir).one_line())
    return changes, lines


def flag(environ: dict[str, str], name: str) -> bool:
    return (environ.get(name) or "").strip().lower() not in OFF


def reload_requested(environ: dict[str, str]) -> bool:
    return flag(environ, "LAUNCHPACK_RELOAD") or flag(environ, "MOD_WSGI_RELOAD_ON_CHANGES")


def unprivileged_account(app_dir: str) -> tuple[str, str] | None:
    """(user, group) for Apache's children when started as root: the app dir's owner if that
    is not root (it can read the app), else nobody."""
    import grp
    import pwd

    try:
        owner = os.stat(app_dir).st_uid
        entry = pwd.getpwuid(owner) if owner != 0 else pwd.getpwnam("nobody")
        return entry.pw_name, grp.getgrgid(entry.pw_gid).gr_name
    except (KeyError, OSError):
        return None


def primary_group(user: str) -> str | None:
    """The name of an account's own group (Debian's nobody is in nogroup, not "nobody")."""
    import grp
    import pwd

    try:
        return grp.getgrgid(pwd.getpwnam(user).pw_gid).gr_name
    except KeyError:
        return None


def unreadable_for(path: str, user: str) -> str | None:
    """The first directory on the way to path that `user` cannot enter (or path itself if it
    cannot read it), from the permission bits; None when the account can read path."""
    import grp
    import pwd

    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        return None  # a numeric or unknown account: Apache will say
    groups = {entry.pw_gid} | {g.gr_gid for g in grp.getgrall() if user in g.gr_mem}
    current = os.path.abspath(path)
    chain = [current]
    while os.path.dirname(current) != current:
        current = os.path.dirname(current)
        chain.append(current)
    for directory in reversed(chain):
        try:
            info = os.stat(directory)
        except OSError:
            return directory
        if info.st_uid == entry.pw_uid:
            bits = (info.st_mode >> 6) & 7
        elif info.st_gid in groups:
            bits = (info.st_mode >> 3) & 7
        else:
            bits = info.st_mode & 7
        needed = 5 if directory == chain[0] else 1  # read+enter the target, enter the rest
        if bits & needed != needed:
            return directory
    return None


def mod_wsgi_args(environ: dict[str, str], euid: int | None = None, warn=None) -> list[str]:
    warn = warn or (lambda message: sys.stderr.write(f"launchpack: {message}\n"))
    args: list[str] = []
    # Off unless asked for, as in warpdrive: the platform's router logs every request already, and
    # Apache's log through a pipe costs about a tenth of the requests/s of a small view.
    if flag(environ, "MOD_WSGI_ACCESS_LOG"):
        args.append("--access-log")
    # Daemon mode: the app runs in mod_wsgi's own processes (WEB_CONCURRENCY x LAUNCHPACK_THREADS)
    # and Apache's threads, many more and cheap, only hold connections. In embedded mode each of
    # the app's few threads was also a connection: idle keep-alive clients held them (p99 of
    # seconds at 64 connections) and a dozen slow clients stopped the server (bench/load_bench.py).
    if reload_requested(environ):
        args.append("--reload-on-changes")
    elif flag(environ, "MOD_WSGI_EMBEDDED_MODE"):
        args.append("--embedded-mode")
    defaults = {**MOD_WSGI_DEFAULTS, "LIMIT_REQUEST_BODY": max_request_body(environ)}
    for name, value in defaults.items():
        if not (environ.get("MOD_WSGI_" + name) or "").strip():
            args += ["--" + name.lower().replace("_", "-"), value]
    for name, options in MOD_WSGI_FLAGS.items():
        if flag(environ, "MOD_WSGI_" + name):
            args.extend(options)
    for name in MOD_WSGI_VALUES:
        value = (environ.get("MOD_WSGI_" + name) or "").strip()
        if not value:
            continue
        if not PLAIN_VALUE.match(value):
            warn(f"ignoring MOD_WSGI_{name}={value!r}: only letters, digits and ._:/@+- are allowed")
            continue
        args += ["--" + name.lower().replace("_", "-"), value]
    if (os.geteuid() if euid is None else euid) == 0:
        user, group = (environ.get("MOD_WSGI_USER") or "").strip(), (environ.get("MOD_WSGI_GROUP") or "").strip()
        if not user:
            account = unprivileged_account(environ.get("LAUNCHPACK_APP_DIR") or os.getcwd())
            if account is None:
                warn(
                    "running as root, and there is no unprivileged user for Apache's processes:"
                    " set MOD_WSGI_USER and MOD_WSGI_GROUP to one (Apache refuses to serve as root)"
                )
            else:
                user, group = account[0], group or account[1]
        if user and not group:
            group = primary_group(user) or user
        if user:
            args += ["--user", user, "--group", group]
            # Apache's processes (daemon mode: Python itself) run as that account, which must
            # reach the app and its environment; otherwise every request would just hang.
            for needed in (environ.get("LAUNCHPACK_APP_DIR"), environ.get("VIRTUAL_ENV")):
                blocked = unreadable_for(needed, user) if needed else None
                if blocked:
                    warn(
                        f"started as root, mod_wsgi-express serves the app as '{user}' (Apache refuses"
                        f" root), but '{user}' cannot read {blocked}, on the way to {needed}. Run as"
                        " a user that owns the app, set MOD_WSGI_USER/MOD_WSGI_GROUP to an account"
                        f" that can read it, or make {blocked} readable (chmod o+rx)."
                    )
                    break
    return args


def max_request_body(environ: dict[str, str], warn=None) -> str:
    """LAUNCHPACK_MAX_REQUEST_BODY in bytes, the one limit all four servers apply (413 above it)."""
    raw = (environ.get("LAUNCHPACK_MAX_REQUEST_BODY") or "").strip()
    if not raw:
        return DEFAULT_MAX_REQUEST_BODY
    value = whole_number(raw)
    if value is None and warn is not None:
        warn(
            _catalogue()
            .RunSettingInvalid(
                name="LAUNCHPACK_MAX_REQUEST_BODY",
                value=raw,
                accepted="the largest request body, in bytes, must be a whole number, 1 or more",
                default=DEFAULT_MAX_REQUEST_BODY,
                why="launchpack's default, 10 MiB",
                example="52428800",
            )
            .one_line()
        )
    return value or DEFAULT_MAX_REQUEST_BODY


def server_settings(environ: dict[str, str]) -> dict[str, str]:
    """What the generated server commands read besides the concurrency."""
    return {
        "LAUNCHPACK_RELOAD": "1" if reload_requested(environ) else "",
        "LAUNCHPACK_MAX_REQUEST_BODY": max_request_body(environ, warn=_stderr),
        "LAUNCHPACK_MOD_WSGI_ARGS": " ".join(mod_wsgi_args(environ)),
        # Apps written for warpdrive listen on WARPDRIVE_HTTP_PORT: the platform's port.
        "WARPDRIVE_HTTP_PORT": (environ.get("PORT") or "").strip() or "8080",
    }


def _read(path: str) -> str | None:
    try:
        with open(path) as handle:
            return handle.read().strip()
    except OSError:
        return None


def _cgroup_v2_dir(root: str) -> str | None:
    """This process's cgroup v2 directory (containers usually see their own at the root)."""
    if not os.path.exists(os.path.join(root, "cgroup.controllers")):
        return None
    own = _read("/proc/self/cgroup") if root == "/sys/fs/cgroup" else None
    for line in (own or "").splitlines():
        if line.startswith("0::"):
            candidate = os.path.join(root, line[3:].lstrip("/"))
            if os.path.exists(os.path.join(candidate, "memory.max")):
                return candidate
    return root


def memory_limit(root: str = "/sys/fs/cgroup", meminfo: str = "/proc/meminfo") -> tuple[int, str]:
    """(bytes, where it came from)."""
    v2 = _cgroup_v2_dir(root)
    if v2:
        value = _read(os.path.join(v2, "memory.max"))
        if value and value != "max":
            return int(value), "cgroup v2 memory.max"
    else:
        value = _read(os.path.join(root, "memory", "memory.limit_in_bytes"))
        if value and value.isdigit() and int(value) < UNLIMITED:
            return int(value), "cgroup v1 memory.limit_in_bytes"
    for line in (_read(meminfo) or "").splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) * 1024, "MemTotal"
    return 512 * MIB, "assumed"


def cpu_limit(root: str = "/sys/fs/cgroup", available: int | None = None) -> tuple[int, str]:
    """(cpus, where it came from)."""
    if available is None:
        try:
            available = len(os.sched_getaffinity(0))
        except (AttributeError, OSError):
            available = os.cpu_count() or 1
    v2 = _cgroup_v2_dir(root)
    quota = period = None
    if v2:
        value = _read(os.path.join(v2, "cpu.max"))
        if value and not value.startswith("max"):
            parts = value.split()
            quota, period = int(parts[0]), int(parts[1]) if len(parts) > 1 else 100000
        source = "cgroup v2 cpu.max"
    else:
        for sub in ("cpu", "cpu,cpuacct", "cpuacct,cpu"):
            q = _read(os.path.join(root, sub, "cpu.cfs_quota_us"))
            p = _read(os.path.join(root, sub, "cpu.cfs_period_us"))
            if q and p and q.lstrip("-").isdigit() and int(q) > 0:
                quota, period = int(q), int(p)
                break
        source = "cgroup v1 cpu.cfs_quota_us"
    if quota and period:
        return max(1, min(available, math.ceil(quota / period))), source
    return max(1, available), "CPUs available"


def recommend(cpus: int, memory_bytes: int) -> dict[str, int]:
    by_memory = max(1, memory_bytes // (PER_PROCESS_MIB * MIB))
    processes = max(1, min(cpus + 1, by_memory, MAX_PROCESSES))
    return {"WEB_CONCURRENCY": processes, "LAUNCHPACK_THREADS": DEFAULT_THREADS}


def compute(environ: dict[str, str] | None = None, root: str = "/sys/fs/cgroup") -> dict[str, object]:
    environ = dict(os.environ if environ is None else environ)
    memory, memory_source = memory_limit(root)
    cpus, cpu_source = cpu_limit(root)
    recommended = recommend(cpus, memory)
    chosen, set_by_user, invalid = {}, [], {}
    for name, value in recommended.items():
        user = (environ.get(name) or "").strip()
        if whole_number(user):
            chosen[name] = whole_number(user)
            set_by_user.append(name)
        else:
            chosen[name] = str(value)
            if user:
                invalid[name] = user
    return {
        "cpus": cpus,
        "cpu_source": cpu_source,
        "memory_mib": memory // MIB,
        "memory_source": memory_source,
        "recommended": recommended,
        "set_by_user": sorted(set_by_user),
        "invalid": invalid,  # set by the user, unusable: replaced by launchpack's value
        "values": chosen,
    }


def _is_web() -> bool:
    name = os.environ.get("DYNO") or os.environ.get("HONCHO_PROCESS_NAME") or ""
    return name.startswith("web")


def main(argv: list[str]) -> int:
    mode = argv[1] if len(argv) > 1 else "sh"
    environ = dict(os.environ)
    result = compute(environ)
    new = {k: v for k, v in result["values"].items() if k not in result["set_by_user"]}
    settings = {**server_settings(environ), **unusable_overrides(environ)}
    python, python_warnings = python_settings(environ)
    if mode == "json":
        print(json.dumps({**result, "server": settings}, indent=2))
    elif mode == "execd":
        with os.fdopen(3, "w") as fd3:
            for name, value in {**new, **settings}.items():
                fd3.write(f"{name} = {json.dumps(value)}\n")
            for name, value in python.items():
                # exec.d cannot unset a variable; Python takes an empty PYTHONHOME as unset.
                fd3.write(f"{name} = {json.dumps(value or '')}\n")
    else:
        for name, value in {**new, **settings}.items():
            print(f"export {name}={shlex.quote(value)}")
        for name, value in python.items():
            print(f"unset {name}" if value is None else f"export {name}={shlex.quote(value)}")
    if mode != "json":
        for line in invalid_count_warnings(environ, result["values"], result["invalid"]) + python_warnings:
            _stderr(line)
    if new and _is_web():
        sys.stderr.write(
            "launchpack: {cpus} CPU(s) ({cpu_source}), {memory_mib} MiB ({memory_source}): ".format(**result)
            + " ".join(f"{k}={v}" for k, v in new.items())
            + "\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
