"""uWSGI: a master with pre-forked workers speaking HTTP themselves (--http-socket, no router
process); static files served by uWSGI (--static-map).

uWSGI's SIGTERM is a brutal stop (or, without --die-on-term, a brutal reload). The hooks make
SIGTERM the graceful stop instead, in the master (stop all workers gracefully) and in each
worker (should a platform signal every process, not just the master): in-flight requests
finish, then everything exits. uWSGI runs under launchpack_graceful, in a process group of its
own, so that a group-wide SIGTERM reaches the master only (a worker that is still starting
ignores signals; the master would wait for it forever) and so that a server still running 28 s
after SIGTERM is killed before the platform's deadline.
"""

from __future__ import annotations

import shlex

from runtime.servers import LOADER, WebApp, join, run_path

NAME = "uwsgi"
REQUIREMENTS = {"uwsgi": "uWSGI"}
SERVES_STATIC = True

GRACEFUL = (
    # Until the master-start hook has run, SIGTERM would be a brutal *reload*: make it a stop.
    "--die-on-term",
    "--hook-master-start 'unix_signal:15 gracefully_kill_them_all'",
    "--hook-accepting 'unix_signal:15 gracefully_kill'",
)


def web_command(web: WebApp) -> str:
    platform = [
        # In its own process group, so that SIGTERM reaches the master alone (launchpack_graceful).
        'exec python -I "$LAUNCHPACK_RUNTIME_DIR/python/launchpack_graceful.py" TERM uwsgi',
        "--master",
        '--http-socket "0.0.0.0:$PORT"',
        *GRACEFUL,
        '--virtualenv "$VIRTUAL_ENV"',
        "${LAUNCHPACK_RELOAD:+--py-autoreload 1}",
    ]
    if web.minimal:  # e.g. server_args: --ini uwsgi.ini
        return join([*platform, web.server_args])
    parts = [
        *platform,
        '--processes "$WEB_CONCURRENCY"',
        '--threads "$LAUNCHPACK_THREADS"',
        "--enable-threads --thunder-lock --single-interpreter --need-app",
        # Browsers send more than uWSGI's 4 KiB of headers once an app sets a few cookies.
        "--buffer-size 32768",
    ]
    if web.has_static:
        url = shlex.quote(web.static_url.rstrip("/") + "=")
        parts.append(f"--static-map {url}{run_path(web.static_root.rstrip('/'))}")
    # Always launchpack_wsgi, which answers 413 above LAUNCHPACK_MAX_REQUEST_BODY: uWSGI's own
    # --limit-post drops the connection without a response.
    parts += [web.server_args, "--module", LOADER if web.entry_point(SERVES_STATIC) else None]
    return join(parts)
