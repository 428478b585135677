"""gunicorn: pre-fork workers with threads; static files through WhiteNoise (gunicorn serves none),
and the request body limit through launchpack_wsgi (gunicorn has none).

SIGTERM is gunicorn's own graceful stop: workers finish in-flight requests within
--graceful-timeout. --reload restarts workers when the app's code changes.
"""

from __future__ import annotations

from runtime.servers import GRACE_SECONDS, LOADER, WebApp, join

NAME = "gunicorn"
REQUIREMENTS = {"gunicorn": "gunicorn", "whitenoise": "whitenoise"}
SERVES_STATIC = False


def web_command(web: WebApp) -> str:
    platform = [
        "exec gunicorn",
        '--bind "0.0.0.0:$PORT"',
        "--access-logfile - --error-logfile -",
        "${LAUNCHPACK_RELOAD:+--reload}",
    ]
    if web.minimal:  # gunicorn.conf.py (read from the app dir) and server_args say the rest
        return join([*platform, web.server_args])
    return join(
        [
            *platform,
            '--workers "$WEB_CONCURRENCY"',
            '--threads "$LAUNCHPACK_THREADS"',
            f"--graceful-timeout {GRACE_SECONDS}",
            web.server_args,
            # Always launchpack_wsgi: gunicorn has no request body limit of its own, so the
            # loader applies LAUNCHPACK_MAX_REQUEST_BODY around the app, as the others do.
            LOADER if web.entry_point(SERVES_STATIC) else None,
        ]
    )
