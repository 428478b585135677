"""CNB rebuild speed: an unchanged app's rebuild against its first build, through the lifecycle
stand-in (tests/harness/cnb.py). Baseline: the first build (fresh cache, no previous image) in
the same run. Reported: bin/build alone and the whole `pack build` (detect, restore, build,
export), each as seconds and as a ratio to the baseline. Needs root, like the tests.
"""

from __future__ import annotations

import os
import statistics

from tests.harness import cnb

APPS = {"examples/django": os.path.join(cnb.HERE, "..", "..", "examples", "django")}
REBUILDS = 3


def main() -> None:
    cnb.ensure_users()
    lifecycle = cnb.Lifecycle.staged()
    try:
        for label, app in APPS.items():
            cache = lifecycle.new_cache()
            first = lifecycle.build(os.path.abspath(app), cache=cache)
            if not first.ok:
                raise SystemExit(first.output)
            rebuilds = []
            for _ in range(REBUILDS):
                again = lifecycle.build(os.path.abspath(app), cache=cache, previous=first.image)
                if not again.ok or again.exported.get("venv") != "reused":
                    raise SystemExit("rebuild did not reuse the environment:\n" + again.output)
                rebuilds.append(again.seconds)
            for phase in ("build", "total"):
                base = first.seconds[phase]
                median = statistics.median(r[phase] for r in rebuilds)
                name = "bin/build" if phase == "build" else "pack build (all phases)"
                print(
                    f"{label}: {name}: first {base:.2f}s, unchanged rebuild {median:.2f}s"
                    f" (median of {REBUILDS}) = {median / base:.2f}x the first build"
                )
    finally:
        lifecycle.cleanup()


if __name__ == "__main__":
    main()
