"""The start-time concurrency defaults, against fake cgroup v1 and v2 trees."""

import os
import subprocess
import sys

import pytest

from runtime.slug import launchpack_env as env

MIB = 1024 * 1024


def tree(tmp_path, files: dict[str, str]) -> str:
    for name, value in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(value + "\n")
    return str(tmp_path)


def test_cgroup_v2_limits(tmp_path):
    root = tree(
        tmp_path, {"cgroup.controllers": "cpu memory", "memory.max": str(512 * MIB), "cpu.max": "150000 100000"}
    )
    assert env.memory_limit(root) == (512 * MIB, "cgroup v2 memory.max")
    assert env.cpu_limit(root, available=8) == (2, "cgroup v2 cpu.max")


def test_cgroup_v2_unlimited_falls_back_to_the_machine(tmp_path):
    root = tree(tmp_path, {"cgroup.controllers": "", "memory.max": "max", "cpu.max": "max 100000"})
    meminfo = tree(tmp_path / "proc", {"meminfo": "MemTotal:       2048000 kB\nMemFree: 1 kB"}) + "/meminfo"
    assert env.memory_limit(root, meminfo) == (2048000 * 1024, "MemTotal")
    assert env.cpu_limit(root, available=4) == (4, "CPUs available")


def test_cgroup_v1_limits(tmp_path):
    root = tree(
        tmp_path,
        {
            "memory/memory.limit_in_bytes": str(1024 * MIB),
            "cpu,cpuacct/cpu.cfs_quota_us": "100000",
            "cpu,cpuacct/cpu.cfs_period_us": "100000",
        },
    )
    assert env.memory_limit(root) == (1024 * MIB, "cgroup v1 memory.limit_in_bytes")
    assert env.cpu_limit(root, available=16) == (1, "cgroup v1 cpu.cfs_quota_us")


def test_cgroup_v1_no_limit(tmp_path):
    root = tree(
        tmp_path,
        {
            "memory/memory.limit_in_bytes": str(9223372036854771712),
            "cpu/cpu.cfs_quota_us": "-1",
            "cpu/cpu.cfs_period_us": "100000",
        },
    )
    meminfo = tree(tmp_path / "proc", {"meminfo": "MemTotal: 1024 kB"}) + "/meminfo"
    assert env.memory_limit(root, meminfo)[1] == "MemTotal"
    assert env.cpu_limit(root, available=3) == (3, "CPUs available")


@pytest.mark.parametrize(
    "cpus, memory_mib, processes",
    [(1, 512, 2), (2, 512, 2), (2, 8192, 3), (1, 128, 1), (64, 1 << 20, 16), (4, 1024, 4), (4, 8192, 5)],
)
def test_recommendation_formula(cpus, memory_mib, processes):
    assert env.recommend(cpus, memory_mib * MIB) == {"WEB_CONCURRENCY": processes, "LAUNCHPACK_THREADS": 2}


def test_user_values_win(tmp_path):
    root = tree(tmp_path, {"cgroup.controllers": "", "memory.max": str(512 * MIB), "cpu.max": "100000 100000"})
    result = env.compute({"WEB_CONCURRENCY": "7"}, root=root)
    assert result["values"] == {"WEB_CONCURRENCY": "7", "LAUNCHPACK_THREADS": "2"}
    assert result["set_by_user"] == ["WEB_CONCURRENCY"]


def test_sh_output_only_sets_what_the_user_did_not(monkeypatch, capsys):
    monkeypatch.setenv("LAUNCHPACK_THREADS", "9")
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    monkeypatch.delenv("DYNO", raising=False)
    monkeypatch.delenv("HONCHO_PROCESS_NAME", raising=False)
    env.main(["launchpack_env.py", "sh"])
    lines = [line for line in capsys.readouterr().out.splitlines() if "_THREADS" in line or "CONCURRENCY" in line]
    assert len(lines) == 1 and lines[0].startswith("export WEB_CONCURRENCY=")


def test_execd_writes_toml_to_fd3():
    """As the CNB launcher runs exec.d programs: TOML on file descriptor 3."""
    read, write = os.pipe()
    script = os.path.abspath(env.__file__)
    child_env = {k: v for k, v in os.environ.items() if k not in ("WEB_CONCURRENCY", "LAUNCHPACK_THREADS")}
    code = (
        "import os, subprocess, sys; os.dup2(int(sys.argv[1]), 3); "
        "sys.exit(subprocess.call([sys.executable, sys.argv[2], 'execd'], pass_fds=(3,)))"
    )
    subprocess.run([sys.executable, "-c", code, str(write), script], check=True, pass_fds=(write,), env=child_env)
    os.close(write)
    text = os.read(read, 4096).decode()
    assert 'LAUNCHPACK_THREADS = "2"' in text and "WEB_CONCURRENCY = " in text


def test_reload_switches():
    assert env.server_settings({"LAUNCHPACK_RELOAD": "1"})["LAUNCHPACK_RELOAD"] == "1"
    assert env.server_settings({"MOD_WSGI_RELOAD_ON_CHANGES": "true"})["LAUNCHPACK_RELOAD"] == "1"
    assert env.server_settings({"LAUNCHPACK_RELOAD": "0"})["LAUNCHPACK_RELOAD"] == ""


def test_mod_wsgi_variables_become_options():
    warnings = []
    args = env.mod_wsgi_args(
        {"MOD_WSGI_MAXIMUM_REQUESTS": "500", "MOD_WSGI_SERVER_STATUS": "1",
         "MOD_WSGI_LOG_LEVEL": "info; rm -rf /", "MOD_WSGI_RELOAD_ON_CHANGES": "1"},
        euid=1000,
        warn=warnings.append,
    )  # fmt: skip
    assert args == [
        "--reload-on-changes", "--max-clients", "512", "--limit-request-body", "10485760",
        "--server-status", "--maximum-requests", "500",
    ]  # fmt: skip
    assert "MOD_WSGI_LOG_LEVEL" in warnings[0]
    limit = ["--limit-request-body", "10485760"]
    assert env.mod_wsgi_args({}, euid=1000) == ["--max-clients", "512", *limit]
    assert env.mod_wsgi_args({"MOD_WSGI_EMBEDDED_MODE": "1", "MOD_WSGI_ACCESS_LOG": "1"}, euid=1000) == [
        "--access-log",
        "--embedded-mode",
        "--max-clients",
        "512",
        *limit,
    ]
    assert env.mod_wsgi_args({"MOD_WSGI_MAX_CLIENTS": "64"}, euid=1000) == [*limit, "--max-clients", "64"]
    assert env.mod_wsgi_args({"LAUNCHPACK_MAX_REQUEST_BODY": "1000"}, euid=1000)[-2:] == [
        "--limit-request-body",
        "1000",
    ]
    warned = []
    assert env.max_request_body({"LAUNCHPACK_MAX_REQUEST_BODY": "10MB"}, warn=warned.append) == "10485760"
    assert "LAUNCHPACK_MAX_REQUEST_BODY='10MB'" in warned[0]


def test_mod_wsgi_as_root_runs_apache_processes_as_the_app_owner(tmp_path):
    os.chown(tmp_path, 65534, 65534)
    args = env.mod_wsgi_args({"LAUNCHPACK_APP_DIR": str(tmp_path)}, euid=0)
    assert args[args.index("--user") + 1] == "nobody"
    explicit = env.mod_wsgi_args({"MOD_WSGI_USER": "www-data", "MOD_WSGI_GROUP": "www-data"}, euid=0)
    assert explicit[-4:] == ["--user", "www-data", "--group", "www-data"]


def test_mod_wsgi_as_root_explains_an_unreadable_app():
    """Started as root, Apache serves as another account: if that account cannot reach the app,
    say so instead of letting every request hang."""
    import shutil
    import tempfile

    base = tempfile.mkdtemp(dir="/tmp")  # world-enterable, unlike pytest's basetemp
    try:
        os.chmod(base, 0o755)
        private = os.path.join(base, "private")
        app = os.path.join(private, "app")
        os.makedirs(app)
        os.chmod(private, 0o700)
        warnings = []
        environ = {"LAUNCHPACK_APP_DIR": app, "MOD_WSGI_USER": "nobody"}
        args = env.mod_wsgi_args(environ, euid=0, warn=warnings.append)
        assert args[-4:] == ["--user", "nobody", "--group", env.primary_group("nobody")]
        assert len(warnings) == 1 and f"'nobody' cannot read {private}, on the way to {app}" in warnings[0]
        os.chmod(private, 0o755)
        warnings.clear()
        env.mod_wsgi_args(environ, euid=0, warn=warnings.append)
        assert warnings == []
    finally:
        shutil.rmtree(base)
