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
                               log only with MOD_WSGI_ACCESS_LOG=1), the mode (embedded, or
                               daemon with --reload-on-changes when reloading or when
                               MOD_WSGI_EMBEDDED_MODE=0), --user/--group when run as root
    WARPDRIVE_HTTP_PORT        $PORT, for apps written for warpdrive (which read only that)

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


# MOD_WSGI_<NAME>=value -> --<name> value (warpdrive's variables; PROCESSES and THREADS are
# read by the command itself, RELOAD_ON_CHANGES through LAUNCHPACK_RELOAD).
MOD_WSGI_VALUES = (
    "LOG_LEVEL", "MAX_CLIENTS", "INITIAL_WORKERS", "MINIMUM_SPARE_WORKERS", "MAXIMUM_SPARE_WORKERS",
    "LIMIT_REQUEST_BODY", "MAXIMUM_REQUESTS", "INACTIVITY_TIMEOUT", "REQUEST_TIMEOUT", "CONNECT_TIMEOUT",
    "SOCKET_TIMEOUT", "QUEUE_TIMEOUT", "HEADER_TIMEOUT", "HEADER_MAX_TIMEOUT", "HEADER_MIN_RATE",
    "BODY_TIMEOUT", "BODY_MAX_TIMEOUT", "BODY_MIN_RATE", "SERVER_BACKLOG", "DAEMON_BACKLOG", "SERVER_MPM",
    "WORKING_DIRECTORY",
)  # fmt: skip
MOD_WSGI_FLAGS = {"SERVER_STATUS": ("--server-status",), "ENABLE_DEBUGGER": ("--debug-mode", "--enable-debugger")}
# Values are spliced into the command unquoted (as separate words), so only plain ones pass.
PLAIN_VALUE = re.compile(r"^[A-Za-z0-9_.:/@+-]+$")
OFF = ("", "0", "false", "no", "off")


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
    # Embedded mode runs the app in Apache's own processes: no hop through a socket to a daemon
    # process (with it, `make bench` measured a third fewer requests/s on 2 CPUs). Only daemon
    # processes can restart on code changes, so reloading uses daemon mode.
    if reload_requested(environ):
        args.append("--reload-on-changes")
    elif (environ.get("MOD_WSGI_EMBEDDED_MODE") or "1").strip().lower() not in OFF:
        args.append("--embedded-mode")
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


def server_settings(environ: dict[str, str]) -> dict[str, str]:
    """What the generated server commands read besides the concurrency."""
    return {
        "LAUNCHPACK_RELOAD": "1" if reload_requested(environ) else "",
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
    chosen = {}
    for name, value in recommended.items():
        user = (environ.get(name) or "").strip()
        chosen[name] = user if user else str(value)
    return {
        "cpus": cpus,
        "cpu_source": cpu_source,
        "memory_mib": memory // MIB,
        "memory_source": memory_source,
        "recommended": recommended,
        "set_by_user": sorted(n for n in recommended if (environ.get(n) or "").strip()),
        "values": chosen,
    }


def _is_web() -> bool:
    name = os.environ.get("DYNO") or os.environ.get("HONCHO_PROCESS_NAME") or ""
    return name.startswith("web")


def main(argv: list[str]) -> int:
    mode = argv[1] if len(argv) > 1 else "sh"
    result = compute()
    new = {k: v for k, v in result["values"].items() if k not in result["set_by_user"]}
    settings = server_settings(dict(os.environ))
    if mode == "json":
        print(json.dumps({**result, "server": settings}, indent=2))
    elif mode == "execd":
        with os.fdopen(3, "w") as fd3:
            for name, value in {**new, **settings}.items():
                fd3.write(f"{name} = {json.dumps(value)}\n")
    else:
        for name, value in {**new, **settings}.items():
            print(f"export {name}={shlex.quote(value)}")
    if new and _is_web():
        sys.stderr.write(
            "launchpack: {cpus} CPU(s) ({cpu_source}), {memory_mib} MiB ({memory_source}): ".format(**result)
            + " ".join(f"{k}={v}" for k, v in new.items())
            + "\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
