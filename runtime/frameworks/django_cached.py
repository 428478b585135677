"""Django's build step (settings probe + collectstatic), skipped when none of its inputs changed.

collectstatic's output is a function of the app's environment, the app's files as they are
when it runs (after the build hooks), and the config vars; when all three match the last build,
the collected files and the probe's findings are restored from the cache instead (a warm
rebuild of an unchanged app would otherwise spend most of its time starting Django twice).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping

from runtime import stepcache
from runtime.config import ConfigVars
from runtime.frameworks import django_build
from runtime.frameworks.django import DjangoProject
from runtime.layout import Layout
from runtime.output import Output

STEP_FORMAT = "2"  # 2: the system checks run in the step  # bump when launchpack changes what the step does


def _inside(path: str | None, root: str) -> bool:
    return bool(path) and (os.path.abspath(path) + os.sep).startswith(os.path.abspath(root) + os.sep)  # type: ignore[arg-type]


def build(
    project: DjangoProject,
    layout: Layout,
    config: ConfigVars,
    env: Mapping[str, str],
    out: Output,
    env_key: Mapping[str, str],
) -> django_build.DjangoBuild:
    cache = stepcache.StepCache(layout.cache("launchpack"), "django-static", "the collected static files")
    generated = [os.path.relpath(layout.runtime_dir, layout.app_dir), "Procfile", ".profile.d"]
    app_digest = stepcache.tree_digest(layout.app_dir, skip=generated) if cache.root else None
    if app_digest is None:
        return django_build.build(project, layout, config, env, out)
    digest = stepcache.mapping_digest(
        {
            "format": STEP_FORMAT,
            "environment": dict(env_key),
            "app": app_digest,
            "config": dict(config.values),
            "project": dataclasses.asdict(project),
            "static_dir": os.path.relpath(layout.static_dir, layout.app_dir),
        }
    )

    def targets(result: dict) -> dict[str, str]:
        relative = result.get("static_root_relative")
        return {"static": os.path.normpath(os.path.join(layout.app_dir, relative))} if relative else {}

    restored = cache.restore(digest, targets)
    if restored is not None:
        fields = {f.name for f in dataclasses.fields(django_build.DjangoBuild)}
        outcome = django_build.DjangoBuild(**{k: v for k, v in restored.items() if k in fields})
        if outcome.static_root and restored.get("static_root_relative"):
            outcome.static_root = os.path.normpath(os.path.join(layout.app_dir, restored["static_root_relative"]))
        if outcome.settings_module == django_build.SHIM_MODULE:
            django_build.write_settings_shim(project, layout)
        out.info("Nothing collectstatic depends on changed (environment, app files, config vars):")
        out.info("reusing the static files, settings findings and system check results of the last build.")
        django_build.show_check_warnings(outcome.check_warnings, out)
        return outcome

    outcome = django_build.build(project, layout, config, env, out)
    ours = _inside(outcome.static_root, layout.app_dir) or _inside(outcome.static_root, layout.runtime_dir)
    if outcome.static_root and not ours:
        return outcome  # collected into a directory of the user's outside the app: not ours to keep
    result = dataclasses.asdict(outcome)
    sources = {}
    if outcome.static_root:
        # Relative to the app dir even when it is our runtime dir outside it (the local CLI's env
        # dir): "static_dir" in the digest changes if either of them moves.
        result["static_root_relative"] = os.path.relpath(outcome.static_root, layout.app_dir)
        sources["static"] = outcome.static_root
    cache.save(digest, result, sources)
    return outcome
