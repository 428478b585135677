"""Requests/s of the generated web process against runserver and hand-tuned servers.

The app is a copy of examples/django with one small dynamic view added (/bench/); the static
file is the admin's base.css. The app is built with the buildpack through the Heroku harness
and every configuration runs as a dyno of the same slug (as the dyno user, at /app), one after
another, so they all see the same machine in the same run:

    generated     the web: line launchpack generated (auto: mod_wsgi)
    runserver     python manage.py runserver (DEBUG=True, as startproject leaves it, serves static)
    hand-tuned    the best of several configurations tuned by hand for this machine (per endpoint)

Load: wrk (Debian package), 32 connections, 2 threads, for DURATION seconds per measurement,
after a short warm-up; each configuration is measured ROUNDS times, interleaved with the others,
and both its best round and its median round are reported.
Needs root (the harness creates users and mount namespaces). Not a test: nothing is asserted.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from tests.harness import heroku as harness

REPO = harness.REPO
DURATION = int(os.environ.get("BENCH_SECONDS", "5"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
CONNECTIONS = 32
# Kept between runs, as Heroku keeps an app's cache: uWSGI and mod_wsgi compile once.
CACHE = "/tmp/launchpack-bench-cache"
ENDPOINTS = {"dynamic": "/bench/?name=wrk", "static": "/static/admin/css/base.css"}
ENV = ". ./.launchpack-runtime/env.sh && exec "
STATIC_ROOT = "/app/.launchpack-runtime/static"
MOD_WSGI = (
    "mod_wsgi-express start-server --port $PORT --log-to-terminal --locale C.UTF-8"
    f" --application-type module --entry-point mysite.wsgi --url-alias /static/ {STATIC_ROOT}/"
)
# What a person tuning each server by hand for 2 CPUs would try: no access log, static files by
# the server (or WhiteNoise, for gunicorn), a few process x thread shapes.
HAND_TUNED = {
    "mod_wsgi embedded 3x2, no access log": MOD_WSGI + " --embedded-mode --processes 3 --threads 2",
    "mod_wsgi daemon 3x2, no access log": MOD_WSGI + " --processes 3 --threads 2",
    "gunicorn gthread 3x4, WhiteNoise": "gunicorn --bind 0.0.0.0:$PORT --workers 3 --threads 4 bench_wsgi:application",
    "uWSGI 3x1, static-map, no logging": (
        "uwsgi --master --die-on-term --http-socket 0.0.0.0:$PORT --processes 3 --disable-logging"
        f" --single-interpreter --static-map /static={STATIC_ROOT} --module mysite.wsgi:application"
    ),
}
# gunicorn serves no static files: the hand-tuned way is WhiteNoise around the app.
BENCH_WSGI = f"""from whitenoise import WhiteNoise

from mysite.wsgi import application as django_application

application = WhiteNoise(django_application, root="{STATIC_ROOT}", prefix="/static/")
"""
VIEW = '''

# Added by bench/serve_bench.py: a small dynamic view.
from django.http import HttpResponse  # noqa: E402


def bench_view(request):
    return HttpResponse(f"Hello, {request.GET.get('name', 'world')}!", content_type="text/plain")


urlpatterns += [path("bench/", bench_view)]  # noqa: F821
'''


def bench_app(workdir: str) -> str:
    app = os.path.join(workdir, "django")
    shutil.copytree(os.path.join(REPO, "examples", "django"), app)
    with open(os.path.join(app, "mysite", "urls.py"), "a") as handle:
        handle.write(VIEW)
    with open(os.path.join(app, "bench_wsgi.py"), "w") as handle:
        handle.write(BENCH_WSGI)
    with open(os.path.join(app, "requirements.txt"), "a") as handle:
        handle.write("gunicorn\nuWSGI\nwhitenoise\n")  # for the hand-tuned configurations
    return app


def set_web(slug: harness.Slug, command: str) -> None:
    with open(os.path.join(slug.path, "Procfile"), "w") as handle:
        handle.write(f"web: {command}\n")


def wrk(url: str) -> tuple[float, str]:
    subprocess.run(["wrk", "-t2", f"-c{CONNECTIONS}", "-d2s", url], capture_output=True, check=True)  # warm-up
    out = subprocess.run(
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}s", url], capture_output=True, text=True, check=True
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: .*", out)
    return rate, errors.group(0) if errors else ""


def measure(heroku: harness.Heroku, slug: harness.Slug, command: str) -> dict[str, float]:
    set_web(slug, command)
    with heroku.start(slug) as dyno:
        dyno.wait_until_serving()
        for path in ENDPOINTS.values():  # first requests load the app in every process
            deadline = time.monotonic() + 30
            while dyno.get(path).status != 200 and time.monotonic() < deadline:
                time.sleep(0.2)
        results = {}
        for name, path in ENDPOINTS.items():
            rate, problem = wrk(dyno.url + path)
            if problem:
                print(f"    ! {problem} ({name})", flush=True)
            results[name] = rate
        dyno.terminate()
    return results


def main() -> None:
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (scripts/install-system-deps installs it)")
    harness.ensure_users()
    heroku = harness.Heroku(harness.stage_buildpack())
    workdir = tempfile.mkdtemp(prefix="serve-bench-")
    try:
        os.makedirs(CACHE, exist_ok=True)
        harness.chown_tree(CACHE, harness.BUILD_USER)
        slug = heroku.build(bench_app(workdir), cache_dir=CACHE)
        if not slug.compile.ok:
            sys.exit(slug.compile.output)
        generated = slug.process_command("web")
        print(f"generated web: {generated}\n", flush=True)
        configs = {
            "generated": generated,
            "runserver": ENV + "python manage.py runserver 0.0.0.0:$PORT --noreload",
            **{f"hand-tuned: {name}": ENV + command for name, command in HAND_TUNED.items()},
        }
        every: dict[str, dict[str, list[float]]] = {name: {} for name in configs}
        for round_number in range(1, ROUNDS + 1):
            for name, command in configs.items():
                rates = measure(heroku, slug, command)
                print(f"round {round_number}  {name:<45}" + "".join(f"  {k} {v:8.0f}/s" for k, v in rates.items()))
                for endpoint, rate in rates.items():
                    every[name].setdefault(endpoint, []).append(rate)
        # Best of the rounds: other work on the machine only ever slows a round down. Medians too:
        # one lucky round (CPU boost, scheduling) can also make a configuration look faster.
        report("best", {n: {e: max(r) for e, r in rates.items()} for n, rates in every.items()})
        report("median", {n: {e: statistics.median(r) for e, r in rates.items()} for n, rates in every.items()})
    finally:
        heroku.cleanup()
        shutil.rmtree(heroku.buildpack, ignore_errors=True)
        shutil.rmtree(workdir, ignore_errors=True)


def report(statistic: str, rates_by_config: dict[str, dict[str, float]]) -> None:
    print(f"\nrequests/s ({statistic} of {ROUNDS} rounds of {DURATION}s, {CONNECTIONS} connections):")
    for name, rates in rates_by_config.items():
        print(f"  {name:<45}" + "".join(f"  {k} {v:8.0f}" for k, v in rates.items()))
    print()
    for endpoint in ENDPOINTS:
        generated = rates_by_config["generated"][endpoint]
        runserver = rates_by_config["runserver"][endpoint]
        candidates = [(n, r[endpoint]) for n, r in rates_by_config.items() if n.startswith("hand-tuned")]
        tuned_name, tuned = max(candidates, key=lambda item: item[1])
        print(
            f"{endpoint:<8} generated/runserver = {generated / runserver:5.2f}x (target >= 3)   "
            f"generated/hand-tuned = {generated / tuned:5.2f}x (target >= 0.95; best hand-tuned: {tuned_name[12:]})"
        )


if __name__ == "__main__":
    main()
