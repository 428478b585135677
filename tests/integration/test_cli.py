"""The `launchpack` command end to end: the seed's getting-started walkthrough and its edges.

Every test runs the installed command (tests/harness/cli.py) on a real app, with real builds,
real servers and real HTTP requests; none of them touches the real ~/.launchpack.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import socket
import subprocess
import time

import pytest

from tests.conftest import EXAMPLES, FIXTURES, REPO, stylesheets, write
from tests.harness.cli import Cli, Result
from tests.harness.heroku import free_port

pytestmark = pytest.mark.integration




# The seed's setup hook: migrate, then the superuser from DJANGO_ADMIN_* (or, on a terminal, asked for).
SETUP_HOOK = """#!/bin/bash
set -eo pipefail
echo " -----> Running Django database migration"
python manage.py migrate --noinput
if [ -n "${DJANGO_ADMIN_USERNAME:-}" ]; then
    echo " -----> Creating predefined Django super user"
    python manage.py shell -c '
import os
from django.contrib.auth import get_user_model
User = get_user_model()
name = os.environ["DJANGO_ADMIN_USERNAME"]
if not User.objects.filter(username=name).exists():
    User.objects.create_superuser(name, os.environ["DJANGO_ADMIN_EMAIL"], os.environ["DJANGO_ADMIN_PASSWORD"])
    print("Superuser", name, "created")
'
elif tty -s; then
    echo " -----> Running Django super user creation"
    python manage.py createsuperuser
fi
"""
MIGRATE_HOOK = "#!/bin/bash\nset -eo pipefail\npython manage.py migrate --noinput\n"
ADMIN = {"DJANGO_ADMIN_USERNAME": "admin", "DJANGO_ADMIN_EMAIL": "admin@example.com", "DJANGO_ADMIN_PASSWORD": "Launchpack-Walkthrough-7"}


def ok(result: Result) -> Result:
    assert result.returncode == 0, result.output
    assert "Traceback (most recent call last)" not in result.output, result.output
    return result


def source_files(app: str) -> set[str]:
    """The project's files, minus the bytecode Python itself writes when it imports the app."""
    found = set()
    for root, dirs, files in os.walk(app):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        found.update(os.path.relpath(os.path.join(root, name), app) for name in files)
    return found


def activated_shell(cli: Cli, project: str, script: str) -> tuple[str, dict[str, str]]:
    """Run lines in an interactive bash (prompts included in the output) after eval'ing
    `launchpack activate`; return (everything bash printed, the environment after the script)."""
    env_file = os.path.join(cli.home, "activated.env")
    lines = ['eval "$(launchpack activate)"', *script.splitlines(), f"env -0 > {env_file}", "exit"]
    completed = subprocess.run(
        cli.as_developer(["bash", "--norc", "--noprofile", "-i"], cli.env(PS1="lp-test$ ")),
        cwd=project,
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    with open(env_file, encoding="utf-8") as handle:
        env = dict(item.split("=", 1) for item in handle.read().split("\0") if "=" in item)
    return completed.stdout + completed.stderr, env


def admin_login(server, username: str, password: str):
    """A browser's admin login: GET the form (CSRF cookie + token), POST it, follow the redirect."""
    form = server.request("/admin/login/?next=/admin/")
    assert form.status == 200, form.text
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    return server.request(
        "/admin/login/?next=/admin/",
        data={"csrfmiddlewaretoken": token, "username": username, "password": password, "next": "/admin/"},
        headers={"Referer": server.url + "/admin/login/"},
    )


def port_is_free(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return False
    except OSError:
        return True


def test_getting_started_walkthrough(cli: Cli, warm, tmp_path):
    """activate -> build -> setup -> start (styled admin, a real login) -> migrate -> SIGTERM."""
    project = str(tmp_path / "mysite")
    os.makedirs(project)
    subprocess.run([warm.django_admin, "startproject", "mysite", project], check=True)  # a fresh startproject
    write(os.path.join(project, "requirements.txt"), "Django\n")
    write(os.path.join(project, ".launchpack/action_hooks/setup"), SETUP_HOOK, mode=0o755)
    write(os.path.join(project, ".launchpack/action_hooks/migrate"), MIGRATE_HOOK, mode=0o755)
    env_dir = os.path.join(cli.launchpack_home, "envs", "mysite")
    venv_python = os.path.join(env_dir, "venv", "bin", "python")

    # activate: eval the shell code in an interactive bash; the prompt and `python` change, and deactivate undoes it.
    output, activated = activated_shell(
        cli,
        project,
        f'echo "python is $(command -v python)"\ndeactivate\necho "python is now $(command -v python)"\n'
        f'cd {cli.home} && eval "$(launchpack activate mysite)" && echo "activated from elsewhere: $PWD"',
    )
    assert "(launchpack+mysite) lp-test$ " in output, output
    assert f"python is {venv_python}" in output
    assert f"python is now {venv_python}" not in output
    assert f"activated from elsewhere: {cli.home}" in output, output  # `activate NAME` from outside any app
    assert activated["LAUNCHPACK_PROJECT"] == "mysite"
    assert activated["LAUNCHPACK_PROJECT_DIR"] == project
    assert activated["PATH"].startswith(os.path.join(env_dir, "venv", "bin") + ":")
    with open(os.path.join(env_dir, "project.json")) as handle:
        assert json.load(handle)["project_dir"] == project

    # build, from another directory: the activated project is the one built.
    before = source_files(project)
    elsewhere = str(tmp_path)
    build = ok(cli.run(["build"], cwd=elsewhere, env=activated))
    assert f"-----> Project mysite ({project}), environment {env_dir}" in build.stdout
    assert "-----> Using Python 3.11" in build.stdout
    assert "Installing dependencies (requirements.txt) with uv" in build.stdout
    assert "Django: collecting static files" in build.stdout
    assert re.search(r"-----> Build finished in [\d.]+s", build.stdout)
    assert source_files(project) == before  # everything the build made is in the env dir
    assert os.path.isfile(os.path.join(env_dir, "runtime", "static", "admin", "css", "base.css"))
    again = ok(cli.run(["build"], cwd=elsewhere, env=activated))
    assert "Reusing the app's Python environment: nothing it depends on changed" in again.stdout

    procfile = ok(cli.run(["procfile"], cwd=elsewhere, env=activated)).stdout
    web = rf"^web: \. {re.escape(env_dir)}/runtime/env\.sh && exec python -I \S+launchpack_graceful\.py\"? WINCH mod_wsgi-express "
    assert re.search(web, procfile, re.M), procfile
    assert re.search(r"^release: .*launchpack_release \./\.launchpack/action_hooks/migrate$", procfile, re.M), procfile

    setup = ok(cli.run(["setup"], cwd=elsewhere, env={**activated, **ADMIN}))
    assert "Applying auth.0001_initial... OK" in setup.stdout
    assert "Superuser admin created" in setup.stdout
    assert "Launchpack-Walkthrough-7" not in setup.output

    explained = json.loads(ok(cli.run(["explain", "--json"], cwd=elsewhere, env=activated)).stdout)
    assert explained["app_type"]["kind"] == "django"
    assert explained["entry_point"] == {"value": "mysite.wsgi:application", "source": "WSGI_APPLICATION in mysite.settings"}
    assert explained["static"]["url"] == "/static/"
    assert explained["static"]["root"] == os.path.join(env_dir, "runtime", "static")
    assert set(explained["hooks"]) == {"setup", "migrate"}
    assert set(explained["processes"]["generated"]) == {"web", "release"}
    assert explained["project"] == {"name": "mysite", "dir": project, "env_dir": env_dir, "active": True, "built": True}

    # mod_wsgi (the default server) logs requests when asked: MOD_WSGI_ACCESS_LOG=1.
    with cli.start(elsewhere, env={**activated, "MOD_WSGI_ACCESS_LOG": "1"}) as server:
        server.wait_until_serving()
        login = server.get("/admin/login/")
        assert login.status == 200
        sheets = stylesheets(login.text)
        assert sheets, login.text
        for href in sheets:
            css = server.get(href)
            assert css.status == 200 and css.headers["content-type"].startswith("text/css"), href
        refused = admin_login(server, "admin", "not-the-password")
        assert "Please enter the correct username and password" in refused.text
        index = admin_login(server, "admin", ADMIN["DJANGO_ADMIN_PASSWORD"])
        assert index.status == 200
        assert index.headers["x-final-url"] == server.url + "/admin/"
        assert "Site administration" in index.text
        assert "<strong>admin</strong>" in index.text  # "Welcome, admin."

        migrate = ok(cli.run(["migrate"], cwd=elsewhere, env=activated))
        assert "No migrations to apply." in migrate.stdout

        assert server.stop(signal.SIGTERM, grace=10) < 10
        assert server.proc.returncode == 0, server.log()
        log = server.log()
    command = rf"-----> Server command: python -I \S+/launchpack_graceful\.py WINCH mod_wsgi-express start-server --port {server.port} "
    assert re.search(command, log), log
    assert " --access-log " in log and re.search(r" --processes \d+ --threads \d+ ", log)  # $WEB_CONCURRENCY etc. expanded
    assert log.index("Server command") < log.index("Server URL")
    assert '"GET /admin/ HTTP/1.1" 200' in log
    assert port_is_free(server.port)

    refused = cli.run(["destroy", "mysite"], cwd=elsewhere, env=activated)
    assert refused.returncode == 1 and "is the project active in this shell" in refused.stderr
    ok(cli.run(["destroy", "mysite"], cwd=elsewhere))
    assert not os.path.exists(env_dir)
    assert source_files(project) >= before


def pty_run(argv: list[str], cwd: str, env: dict[str, str], answers: list[tuple[str, str]], timeout: float = 120) -> tuple[int, str]:
    """Run a command on a terminal, answering prompts in order; return (exit status, transcript)."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: its controlling terminal is the pty
        try:
            os.chdir(cwd)
            os.execvpe(argv[0], argv, env or os.environ)
        finally:
            os._exit(127)
    transcript, pending = "", list(answers)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 1)
        if ready:
            try:
                chunk = os.read(fd, 4096).decode(errors="replace")
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            transcript += chunk
            while pending and pending[0][0] in transcript.rsplit("\n", 1)[-1]:
                os.write(fd, (pending.pop(0)[1] + "\n").encode())
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), transcript


def test_rebuild_after_changes_and_interactive_setup(cli: Cli, app_copy):
    """Without activation: requirements and static changes reach the env; setup prompts on a terminal."""
    app = app_copy("django")
    env_dir = os.path.join(cli.launchpack_home, "envs", "django")
    first = ok(cli.run(["build"], cwd=app))
    assert f"No launchpack project is active: using {app} with the environment {env_dir}" in first.stdout
    assert 'eval "$(launchpack activate)"' in first.stdout

    with open(os.path.join(app, "requirements.txt"), "a") as handle:
        handle.write("six\n")
    write(os.path.join(app, "assets", "extra.css"), "body { color: rebeccapurple; }\n")
    with open(os.path.join(app, "mysite", "settings.py"), "a") as handle:
        handle.write("\nSTATICFILES_DIRS = [BASE_DIR / 'assets']\n")
    write(os.path.join(app, ".launchpack/action_hooks/setup"), SETUP_HOOK, mode=0o755)

    # setup before rebuilding: a warning, and createsuperuser asks on the terminal.
    code, transcript = pty_run(
        cli.argv(["setup"], cli.env()),
        app,
        {},
        [
            ("Username", "dev"),
            ("Email address", "dev@example.com"),
            ("Password:", "Launchpack-Terminal-9"),
            ("Password (again)", "Launchpack-Terminal-9"),
        ],
    )
    assert code == 0, transcript
    assert "requirements.txt changed since the last build: run launchpack build" in transcript
    assert "Running Django super user creation" in transcript
    assert "Superuser created successfully." in transcript

    second = ok(cli.run(["build"], cwd=app))
    assert "Discarding cache since:\n       - requirements.txt changed" in second.stdout
    assert "Downloading django" not in second.stdout.lower()
    assert os.path.isfile(os.path.join(env_dir, "runtime", "static", "extra.css"))
    where = ok(cli.run(["exec", "python", "-c", "import six; print(six.__file__)"], cwd=app))
    assert where.stdout.startswith(os.path.join(env_dir, "venv", "lib"))
    assert "No launchpack project is active" in where.stderr

    # Unchanged: the entry point's import check is not repeated; a changed wsgi.py is checked.
    third = ok(cli.run(["build"], cwd=app))
    assert "Nothing it depends on changed (environment, app files, config vars) since it last imported" in third.stdout
    wsgi_py = os.path.join(app, "mysite", "wsgi.py")
    with open(wsgi_py, encoding="utf-8") as handle:
        wsgi_source = handle.read()
    write(wsgi_py, wsgi_source + "\nimport mysite.no_such_module\n")
    broken = cli.run(["build"], cwd=app)
    assert broken.returncode == 1, broken.output
    assert "Your app's WSGI entry point mysite.wsgi:application could not be loaded" in broken.output
    assert "No module named 'mysite.no_such_module'" in broken.output
    write(wsgi_py, wsgi_source)
    ok(cli.run(["build"], cwd=app))

    with cli.start(app) as server:
        server.wait_until_serving()
        css = server.get("/static/extra.css")
        assert css.status == 200 and b"rebeccapurple" in css.body
        index = admin_login(server, "dev", "Launchpack-Terminal-9")
        assert "Site administration" in index.text
        assert server.stop(signal.SIGINT, grace=10) < 10  # Ctrl-C
        assert server.proc.returncode == 0, server.log()


ENV_WSGI = '''import os


def application(environ, start_response):
    body = f"GREETING={os.environ.get('GREETING')} PORT={os.environ.get('PORT')} cwd={os.getcwd()}\\n".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
'''


def test_dotenv_deploy_hook_and_exit_codes(cli: Cli, app_copy):
    app = app_copy("wsgi_app")
    write(os.path.join(app, "wsgi.py"), ENV_WSGI)
    dotenv_port, shell_port = free_port(), free_port()
    write(os.path.join(app, ".env"), f"GREETING='hello from .env'\nPORT={dotenv_port}\nAPI_TOKEN=s3cr3t-token-value\n")
    write(os.path.join(app, ".launchpack/action_hooks/deploy"), '#!/bin/sh\necho "deploy hook: GREETING=$GREETING"\n', mode=0o755)

    not_built = cli.run(["setup"], cwd=app)
    assert not_built.returncode == 1 and "has not been built yet" in not_built.stderr

    build = ok(cli.run(["build"], cwd=app))
    assert "API_TOKEN" in build.stdout and "s3cr3t-token-value" not in build.output  # .env values are config vars

    quiet = ok(cli.run(["build", "--quiet"], cwd=app)).stdout
    assert "-----> Reusing the app's Python environment" in quiet and "-----> Build finished" in quiet
    assert not [line for line in quiet.splitlines() if line.startswith(" " * 7)], quiet  # headers only
    verbose = ok(cli.run(["explain", "--verbose"], cwd=app)).stdout
    assert "-----> launch.json (what the build recorded)" in verbose and '"wsgi_app": "wsgi:application"' in verbose

    exported = ok(cli.run(["env"], cwd=app)).stdout
    assert "export GREETING='hello from .env'" in exported.splitlines()
    assert f"export VIRTUAL_ENV={cli.launchpack_home}/envs/wsgi_app/venv" in exported.splitlines()
    assert ok(cli.run(["exec", "sh", "-c", 'echo "$GREETING"'], cwd=app)).stdout == "hello from .env\n"
    in_shell = cli.run(["shell"], cwd=app, env=cli.env(SHELL="/bin/sh"), input='echo "$VIRTUAL_ENV $GREETING"\nexit 3\n')
    assert in_shell.returncode == 3
    assert in_shell.stdout == f"{cli.launchpack_home}/envs/wsgi_app/venv hello from .env\n"
    assert cli.run(["exec", "sh", "-c", "exit 9"], cwd=app).returncode == 9

    # .env's PORT wins over the environment's, as with honcho; .env values reach the app and the deploy hook.
    with cli.start(app, port=shell_port) as server:
        server.port = dotenv_port
        server.wait_until_serving()
        page = server.get("/")
        assert page.text == f"GREETING=hello from .env PORT={dotenv_port} cwd={app}\n"
        assert server.stop(signal.SIGTERM) < 10
        log = server.log()
    assert log.index("deploy hook: GREETING=hello from .env") < log.index("Server command: ")
    assert f"PORT {dotenv_port} from .env" in log

    # A failing deploy hook stops start with its exit status, before any server runs.
    write(os.path.join(app, ".launchpack/action_hooks/deploy"), "#!/bin/sh\necho deploying\nexit 5\n", mode=0o755)
    failed = cli.run(["start"], cwd=app, timeout=60)
    assert failed.returncode == 5, failed.output
    assert ".launchpack/action_hooks/deploy failed with exit status 5" in failed.stderr
    assert "Server command" not in failed.stdout
    os.unlink(os.path.join(app, ".launchpack/action_hooks/deploy"))

    # setup and migrate: the hook's exit status; a missing hook says how to write one.
    write(os.path.join(app, ".launchpack/action_hooks/setup"), "#!/bin/sh\nread answer\necho \"got $answer\"\nexit 7\n", mode=0o755)
    setup = cli.run(["setup"], cwd=app, input="yes\n")
    assert setup.returncode == 7
    assert "got yes" in setup.stdout  # stdin reaches the hook
    assert ".launchpack/action_hooks/setup failed with exit status 7" in setup.stderr
    missing = cli.run(["migrate"], cwd=app)
    assert missing.returncode == 1
    assert "Your app has no .launchpack/action_hooks/migrate" in missing.stderr

    # The server's own exit status when it fails: gunicorn exits when it cannot load the app (mod_wsgi,
    # the default, keeps serving and answers 500). The build's import check would catch it first.
    write(os.path.join(app, "wsgi.py"), "raise ImportError('no such thing')\n")
    broken = cli.run(["start", "--server", "gunicorn"], cwd=app, env=cli.env(LAUNCHPACK_SKIP_IMPORT_CHECK="1"), timeout=120)
    stopped = re.search(r"web\.1 stopped \(rc=(\d+)\)", broken.stdout)
    assert stopped and int(stopped.group(1)) != 0, broken.output
    assert broken.returncode == int(stopped.group(1))


def test_usage_errors_and_no_python_app(cli: Cli, tmp_path):
    app = os.path.join(FIXTURES, "wsgi_app")
    for args in ([], ["frobnicate"], ["exec"], ["destroy"], ["start", "--server", "nginx"], ["build", "--bogus"]):
        result = cli.run(args, cwd=app)
        assert result.returncode == 2, (args, result.output)
        assert "Traceback" not in result.output
    assert "Choose one of: mod_wsgi, gunicorn, uwsgi, waitress" in cli.run(["start", "--server", "nginx"], cwd=app).stderr
    for command in ("activate", "deactivate", "destroy", "build", "start", "setup", "migrate", "exec", "shell", "env", "procfile", "explain"):
        shown = cli.run([command, "--help"], cwd=app)
        assert shown.returncode == 0 and shown.stdout.startswith("usage: launchpack " + command), shown.output

    not_python = str(tmp_path / "not_python")
    subprocess.run(["cp", "-a", os.path.join(FIXTURES, "not_python"), not_python], check=True)
    detect = subprocess.run([os.path.join(REPO, "buildpack", "bin", "detect"), not_python], capture_output=True, text=True)
    assert detect.returncode == 1 and "No Python app found" in detect.stderr
    for command in ("activate", "build", "start", "setup", "exec", "explain"):
        result = cli.run([command, "true"] if command == "exec" else [command], cwd=not_python)
        assert result.returncode == 1, result.output
        assert result.stderr.strip() == detect.stderr.strip(), (command, result.stderr)
    assert not os.path.exists(os.path.join(cli.launchpack_home, "envs"))

    missing = cli.run(["destroy", "nosuch"], cwd=app)
    assert missing.returncode == 1 and "There is no launchpack environment named 'nosuch'" in missing.stderr


@pytest.mark.parametrize("example", ["django", "wsgi_app"])
def test_explain_json_on_the_example_apps(cli: Cli, example):
    app = os.path.join(EXAMPLES, example) if example == "django" else os.path.join(FIXTURES, example)
    result = ok(cli.run(["explain", "--json"], cwd=app))
    found = json.loads(result.stdout)
    env_dir = os.path.join(cli.launchpack_home, "envs", example)
    assert found["project"] == {"name": example, "dir": app, "env_dir": env_dir, "active": False, "built": False}
    assert found["python"]["source"] == "the stack's default (no .python-version or runtime.txt)"
    assert found["python"]["version"].startswith("3.11.")
    assert found["package_manager"] == {"name": "uv 0.13.9", "files": ["requirements.txt"], "why": "requirements.txt at the app root"}
    assert found["server"]["name"] == "mod_wsgi" and found["server"]["source"] == "the default"
    assert found["server"]["decision"].startswith("mod_wsgi (auto")
    assert found["hooks"] == {}
    if example == "django":
        assert found["app_type"] == {"kind": "django", "why": "manage.py at the app root; settings module mysite.settings (from manage.py)"}
        assert found["entry_point"]["value"] is None  # WSGI_APPLICATION is read by the build
        assert found["processes"]["complete"] is False
    else:
        assert found["app_type"] == {"kind": "wsgi", "why": "a WSGI app, wsgi:application: wsgi.py defines application"}
        assert found["entry_point"] == {"value": "wsgi:application", "source": "wsgi.py defines application"}
        assert found["processes"]["generated"]["web"].endswith(" --entry-point wsgi --callable-object application")
    assert not os.path.exists(env_dir)  # explaining writes nothing
    text = ok(cli.run(["explain"], cwd=app)).stdout
    assert "-----> App type: " + found["app_type"]["kind"] in text
    assert "-----> Server: mod_wsgi" in text


def test_start_with_another_server_for_one_run(cli: Cli, app_copy):
    app = app_copy("wsgi_app")
    write(os.path.join(app, ".launchpack", "server"), "mod_wsgi\n")  # --server wins over the app's own choice
    ok(cli.run(["build"], cwd=app))
    with cli.start(app, args=["--server", "waitress"]) as server:
        server.wait_until_serving()
        assert server.get("/hello").text == "Hello from plain WSGI at /hello\n"
        assert server.stop() < 10
        log = server.log()
    assert "Rebuilding for --server waitress (this run only)" in log
    assert re.search(rf"Server command: python -m launchpack_waitress --listen 0\.0\.0\.0:{server.port} ", log), log
    with cli.start(app) as server:  # the next plain start goes back to the app's own choice
        server.wait_until_serving()
        assert server.stop() < 10
        assert "mod_wsgi-express start-server" in server.log()  # the app's own choice: auto = mod_wsgi


def test_reload_on_change(cli: Cli, app_copy):
    """--reload, LAUNCHPACK_RELOAD=1 and MOD_WSGI_RELOAD_ON_CHANGES=1: an edited view is served without a restart."""
    app = app_copy("wsgi_app")
    ok(cli.run(["build"], cwd=app))
    original = open(os.path.join(app, "wsgi.py")).read()
    for number, (args, extra) in enumerate(
        [(["--reload"], {}), ([], {"LAUNCHPACK_RELOAD": "1"}), ([], {"MOD_WSGI_RELOAD_ON_CHANGES": "1"})]
    ):
        write(os.path.join(app, "wsgi.py"), original)
        # One worker: once it has answered, it has imported the app, so only a reload can change the answer.
        with cli.start(app, env=cli.env(WEB_CONCURRENCY="1", **extra), args=args) as server:
            server.wait_until_serving()
            assert server.get("/x").text == "Hello from plain WSGI at /x\n"
            write(os.path.join(app, "wsgi.py"), original.replace("Hello from plain WSGI", f"Edited view {number}"))
            deadline, text = time.monotonic() + 10, ""
            while time.monotonic() < deadline and not text.startswith("Edited"):
                time.sleep(0.5)
                try:
                    text = server.get("/x").text
                except OSError:
                    pass
            assert text == f"Edited view {number} at /x\n", (args, extra, server.log())
            assert "Reload on change: on" in server.log()
            assert server.stop() < 10


def test_lock_compiles_requirements_in_into_requirements_txt(cli: Cli, app_copy):
    app = app_copy("django")
    os.unlink(os.path.join(app, "requirements.txt"))
    missing = cli.run(["lock"], cwd=app)
    assert missing.returncode == 1 and f"There is no requirements.in in {app}" in missing.stderr
    write(os.path.join(app, "requirements.in"), "Django>=5.2,<6\n")
    locked = ok(cli.run(["lock"], cwd=app))
    assert "Resolved requirements.in to 3 pinned requirement(s):" in locked.stdout
    pins = [line for line in open(os.path.join(app, "requirements.txt")).read().splitlines() if line and not line.lstrip().startswith("#")]
    assert [pin.split("==")[0] for pin in pins] == ["asgiref", "django", "sqlparse"] and all("==" in pin for pin in pins)
    built = ok(cli.run(["build"], cwd=app))  # requirements.txt now decides what is installed
    assert "Installing dependencies (requirements.txt) with uv" in built.stdout
