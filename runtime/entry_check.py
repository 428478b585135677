"""The build-time import check: load the WSGI entry point once, as the server will.

An app whose entry point cannot be imported (a missing dependency, a typo in
LAUNCHPACK_WSGI_APP, a settings error) fails its build, naming the module and the user's
file, instead of deploying and failing on the first request. The import runs in the app's
environment with the config vars and the runtime's PYTHONPATH (entry_probe.py), and tells what
the loaded object is: a WSGI callable is served; an ASGI app fails the build (a WSGI server
would answer every request with an error); app.py's candidates that are neither make the
build run app.py as a script.

Importing a Django app starts Django (most of an unchanged rebuild's time), so a successful
check is remembered with the digest of everything it depends on (the environment's reuse key,
the app's files after the hooks, the config vars, the entry point) and not repeated while that
digest is unchanged.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field

from runtime import errors, pythonenv, stepcache
from runtime.config import ConfigVars
from runtime.layout import Layout

PROBE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "entry_probe.py")
# Importing an app must not start its server; one that blocks this long is reported, not awaited.
TIMEOUT_SECONDS = 180
STEP_FORMAT = "2"  # bump when the probe changes what it checks


@dataclass(frozen=True)
class Request:
    """What to load: a paste file, one target, or app.py's candidates (the first WSGI one wins)."""

    kind: str  # "paste" | "module" | "candidates"
    targets: tuple[str, ...]
    dependency_file: str = "requirements.txt"  # named in the fix when something is missing
    # app.py with a __main__ block: an ASGI app there is run as the script (it starts its own server).
    asgi_script: bool = False


@dataclass(frozen=True)
class Outcome:
    target: str | None  # what the web process serves; None: no candidate is WSGI (run app.py)
    rejected: list[dict] = field(default_factory=list)  # candidates that were not WSGI callables


def check_unless_unchanged(
    request: Request, layout: Layout, config: ConfigVars, env: Mapping[str, str], env_key: Mapping[str, str]
) -> tuple[Outcome, bool]:
    """check(), skipped when its inputs match the last successful check's. (outcome, skipped)."""
    cache = stepcache.StepCache(layout.cache("launchpack"), "entry-check", "the last successful import check")
    generated = [os.path.relpath(layout.runtime_dir, layout.app_dir), "Procfile", ".profile.d"]
    app_digest = stepcache.tree_digest(layout.app_dir, skip=generated) if cache.root else None
    if app_digest is None:
        return check(request, layout, env), False
    digest = stepcache.mapping_digest(
        {
            "format": STEP_FORMAT,
            "environment": dict(env_key),
            "app": app_digest,
            "config": dict(config.values),
            "request": [request.kind, request.asgi_script, *request.targets],
        }
    )
    remembered = cache.restore(digest, lambda _result: {})
    if remembered is not None and "target" in remembered:
        return Outcome(remembered["target"], remembered.get("rejected") or []), True
    outcome = check(request, layout, env)
    cache.save(digest, {"ok": True, "target": outcome.target, "rejected": outcome.rejected}, {})
    return outcome, False


def check(request: Request, layout: Layout, env: Mapping[str, str]) -> Outcome:
    shown = request.targets[0] if len(request.targets) == 1 else " or ".join(request.targets)
    with tempfile.NamedTemporaryFile("r", suffix=".json", encoding="utf-8") as result:
        try:
            completed = pythonenv.run_python(
                layout.venv_dir,
                [PROBE, result.name, request.kind, *request.targets],
                cwd=layout.app_dir,
                env={"PORT": "8080", **env},  # apps that read $PORT when imported, as on a dyno
                capture_output=True,
                text=True,
                timeout=TIMEOUT_SECONDS,
            )
        except subprocess.TimeoutExpired:
            raise errors.EntryPointImportFailed(
                target=shown, error=f"Importing it did not finish within {TIMEOUT_SECONDS} s.", where=""
            ) from None
        text = result.read()
    outcome = json.loads(text) if text else {"ok": False, "error": (completed.stderr or completed.stdout)[-2000:]}
    if outcome.get("ok"):
        return Outcome(outcome.get("target"), outcome.get("rejected") or [])
    if outcome.get("asgi") and request.kind == "candidates" and request.asgi_script:
        return Outcome(None, [{"target": outcome["target"], "what": outcome["what"] + ", an ASGI app"}])
    if outcome.get("asgi"):
        module, _, name = outcome["target"].partition(":")
        raise errors.AsgiApp(target=outcome["target"], what=outcome["what"], module=module, name=name)
    if outcome.get("not_wsgi"):
        raise errors.EntryPointNotWsgi(target=outcome["target"], what=outcome["what"])
    frames = "\n".join(outcome.get("frames") or [])
    error = (outcome.get("error") or "unknown error").strip()
    if outcome.get("pkg_resources"):
        raise errors.PkgResourcesMissing(
            error=error, frames="\n" + frames if frames else "", dependency_file=request.dependency_file
        )
    detail = error + ("\n" + frames if frames else "")
    where = outcome.get("where")
    raise errors.EntryPointImportFailed(target=shown, error=detail, where=f" in {where}" if where else "")
