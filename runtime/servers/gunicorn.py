"""gunicorn: pre-fork workers, static files through WhiteNoise (gunicorn cannot serve them)."""

from __future__ import annotations

from runtime.servers import WebApp

NAME = "gunicorn"
REQUIREMENTS = {"gunicorn": "gunicorn", "whitenoise": "whitenoise"}


def web_command(web: WebApp) -> str:
    return " ".join(
        [
            "exec gunicorn",
            '--bind "0.0.0.0:$PORT"',
            '--workers "$WEB_CONCURRENCY"',
            '--threads "$LAUNCHPACK_THREADS"',
            # Heroku sends SIGKILL 30 s after SIGTERM: finish in-flight requests well before.
            "--graceful-timeout 25",
            "--access-logfile - --error-logfile -",
            web.entry_point,
        ]
    )
