"""The build-time import check: load the WSGI entry point once, as the server will.

An app whose entry point cannot be imported (a missing dependency, a typo in
LAUNCHPACK_WSGI_APP, a settings error) fails its build, naming the module and the user's
file, instead of deploying and failing on the first request. The import runs in the app's
environment with the config vars and the runtime's PYTHONPATH (entry_probe.py).

Importing a Django app starts Django (most of an unchanged rebuild's time), so a successful
import is remembered with the digest of everything it depends on (the environment's reuse key,
the app's files after the hooks, the config vars, the entry point) and not repeated while that
digest is unchanged.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import tempfile
from collections.abc import Mapping

from runtime import errors, pythonenv, stepcache
from runtime.config import ConfigVars
from runtime.layout import Layout
from runtime.servers import WebApp

PROBE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "entry_probe.py")
# Importing an app must not start its server; one that blocks this long is reported, not awaited.
TIMEOUT_SECONDS = 180
STEP_FORMAT = "1"  # bump when the probe changes what it checks


def check_unless_unchanged(
    web: WebApp, layout: Layout, config: ConfigVars, env: Mapping[str, str], env_key: Mapping[str, str]
) -> bool:
    """check(), skipped when its inputs match the last successful check's. True if skipped."""
    cache = stepcache.StepCache(layout.cache("launchpack"), "entry-check")
    generated = [os.path.relpath(layout.runtime_dir, layout.app_dir), "Procfile", ".profile.d"]
    app_digest = stepcache.tree_digest(layout.app_dir, skip=generated) if cache.root else None
    if app_digest is None:
        check(web, layout, env)
        return False
    digest = stepcache.mapping_digest(
        {
            "format": STEP_FORMAT,
            "environment": dict(env_key),
            "app": app_digest,
            "config": dict(config.values),
            "web": dataclasses.asdict(web),
        }
    )
    if cache.restore(digest, lambda _result: {}) is not None:
        return True
    check(web, layout, env)
    cache.save(digest, {"ok": True}, {})
    return False


def check(web: WebApp, layout: Layout, env: Mapping[str, str]) -> None:
    kind, target = ("paste", web.paste_ini) if web.paste_ini else ("module", web.wsgi_app)
    with tempfile.NamedTemporaryFile("r", suffix=".json", encoding="utf-8") as result:
        try:
            completed = pythonenv.run_python(
                layout.venv_dir,
                [PROBE, result.name, kind, target],
                cwd=layout.app_dir,
                env=dict(env),
                capture_output=True,
                text=True,
                timeout=TIMEOUT_SECONDS,
            )
        except subprocess.TimeoutExpired:
            raise errors.EntryPointImportFailed(
                target=target, error=f"Importing it did not finish within {TIMEOUT_SECONDS} s.", where=""
            ) from None
        text = result.read()
    outcome = json.loads(text) if text else {"ok": False, "error": (completed.stderr or completed.stdout)[-2000:]}
    if outcome.get("ok"):
        return
    frames = "\n".join(outcome.get("frames") or [])
    detail = (outcome.get("error") or "unknown error").strip() + ("\n" + frames if frames else "")
    where = outcome.get("where")
    raise errors.EntryPointImportFailed(target=target, error=detail, where=f" in {where}" if where else "")
