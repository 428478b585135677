"""mod_wsgi-express: Apache httpd with the app in mod_wsgi daemon processes; static files
served by Apache (--url-alias).

Apache stops gracefully on SIGWINCH, not SIGTERM (which kills requests in flight), so the
server runs under launchpack_graceful, which keeps it out of the platform's process group and
turns SIGTERM into SIGWINCH; GracefulShutdownTimeout and --shutdown-timeout give requests the
platform's grace period. The seed's MOD_WSGI_* variables, the access log and --user/--group
when started as root come from $LAUNCHPACK_MOD_WSGI_ARGS, computed at start by
launchpack_env.py (they are read where the app runs, not where it was built).
"""

from __future__ import annotations

import shlex

from runtime.servers import GRACE_SECONDS, LOADER, WebApp, join, run_path

NAME = "mod_wsgi"
REQUIREMENTS = {"mod-wsgi": "mod_wsgi"}
SERVES_STATIC = True


def web_command(web: WebApp) -> str:
    platform = [
        'exec python -I "$LAUNCHPACK_RUNTIME_DIR/python/launchpack_graceful.py" WINCH',
        "mod_wsgi-express start-server",
        '--port "$PORT"',
        "--log-to-terminal",
        '--locale "$LANG"',
        f"--shutdown-timeout {GRACE_SECONDS}",
        '--include-file "$LAUNCHPACK_RUNTIME_DIR/python/launchpack_mod_wsgi.conf"',
        "$LAUNCHPACK_MOD_WSGI_ARGS",
    ]
    if web.minimal:
        return join([*platform, web.server_args])
    parts = [
        *platform,
        '--processes "${MOD_WSGI_PROCESSES:-$WEB_CONCURRENCY}"',
        '--threads "${MOD_WSGI_THREADS:-$LAUNCHPACK_THREADS}"',
        '--python-path "$LAUNCHPACK_APP_DIR" --python-path "$LAUNCHPACK_RUNTIME_DIR/python"',
    ]
    if web.paste_ini:
        parts.append(f"--application-type paste --entry-point {run_path(web.paste_ini)}")
    elif web.wsgi_app:
        module, _, callable_name = (web.entry_point(SERVES_STATIC) or LOADER).partition(":")
        parts.append(
            f"--application-type module --entry-point {shlex.quote(module)}"
            f" --callable-object {shlex.quote(callable_name or 'application')}"
        )
    if web.has_static:
        parts.append(f"--url-alias {shlex.quote(web.static_url)} {run_path(web.static_root, trailing_slash=True)}")
    # Last, so that yours win: mod_wsgi-express parses its options with optparse, where the last
    # value of a repeated option wins (an --entry-point of yours replaces ours).
    parts.append(web.server_args)
    return join(parts)
