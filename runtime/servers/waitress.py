"""waitress: one process with a thread pool; static files through WhiteNoise.

Started through launchpack_waitress (in the runtime dir), which takes waitress-serve's
arguments and adds what waitress-serve lacks: a graceful stop on SIGTERM (stop accepting,
let in-flight requests finish, then exit) and reloading on code changes (hupper).
"""

from __future__ import annotations

from runtime.servers import WebApp, join

NAME = "waitress"
REQUIREMENTS = {"waitress": "waitress", "whitenoise": "whitenoise", "hupper": "hupper"}
SERVES_STATIC = False


def web_command(web: WebApp) -> str:
    platform = ["exec python -m launchpack_waitress", '--listen "0.0.0.0:$PORT"']
    if web.minimal:
        return join([*platform, web.server_args])
    return join(
        [
            *platform,
            # One process: its threads stand for WEB_CONCURRENCY processes' worth of threads.
            '--threads "$((WEB_CONCURRENCY * LAUNCHPACK_THREADS))"',
            '--max-request-body-size "$LAUNCHPACK_MAX_REQUEST_BODY"',
            web.server_args,  # before the app: waitress-serve stops reading options there
            web.entry_point(SERVES_STATIC),
        ]
    )
