"""A real PostgreSQL server for tests: Debian's package, a throw-away cluster on loopback.

The cluster runs as the `postgres` system user the package creates, listens on 127.0.0.1 on a
free port only, uses password authentication for TCP (as a hosted database does), and is
removed when the test session ends.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass

from tests.harness.heroku import free_port


def pg_bin(name: str) -> str:
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not candidates:
        raise RuntimeError("PostgreSQL is not installed (Debian package: postgresql); run `make setup`")
    return candidates[-1]


@dataclass
class Database:
    host: str
    port: int
    name: str
    user: str
    password: str

    @property
    def url(self) -> str:
        return f"postgres://{self.user}:{self.password}@{self.host}:{self.port}/{self.name}"


class PostgresServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.root = tempfile.mkdtemp(prefix="launchpack-pg-")
        self.data = os.path.join(self.root, "data")
        self.superuser_password = secrets.token_hex(8)
        entry = pwd.getpwnam("postgres")
        self.uid, self.gid = entry.pw_uid, entry.pw_gid
        self.started = False

    def _as_postgres(self, args: list[str], **kwargs) -> subprocess.CompletedProcess:
        command = ["setpriv", f"--reuid={self.uid}", f"--regid={self.gid}", "--init-groups", "--", *args]
        return subprocess.run(command, check=True, capture_output=True, text=True, cwd=self.root, **kwargs)

    def start(self) -> PostgresServer:
        os.chown(self.root, self.uid, self.gid)
        pwfile = os.path.join(self.root, "pwfile")
        with open(pwfile, "w") as handle:
            handle.write(self.superuser_password)
        os.chown(pwfile, self.uid, self.gid)
        self._as_postgres(
            [pg_bin("initdb"), "-D", self.data, "-U", "postgres", "--pwfile", pwfile,
             "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C"]
        )  # fmt: skip
        options = f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.root} -c fsync=off"
        self._as_postgres([pg_bin("pg_ctl"), "-D", self.data, "-o", options, "-l", os.path.join(self.root, "log"), "-w", "start"])
        self.started = True
        return self

    def psql(self, sql: str, database: str = "postgres") -> str:
        return self._as_postgres(
            [pg_bin("psql"), "-h", self.root, "-p", str(self.port), "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1", "-Atc", sql]
        ).stdout

    def create_database(self, name: str | None = None) -> Database:
        name = name or "app_" + secrets.token_hex(4)
        password = secrets.token_hex(12)
        self.psql(f"CREATE ROLE {name} LOGIN PASSWORD '{password}'")
        self.psql(f"CREATE DATABASE {name} OWNER {name}")
        return Database("127.0.0.1", self.port, name, name, password)

    def stop(self) -> None:
        if self.started:
            try:
                self._as_postgres([pg_bin("pg_ctl"), "-D", self.data, "-m", "fast", "-w", "stop"], timeout=60)
            except subprocess.SubprocessError:
                pass
        self.started = False
        shutil.rmtree(self.root, ignore_errors=True)

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if subprocess.run([pg_bin("pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)], capture_output=True).returncode == 0:
                return
            time.sleep(0.2)
        raise RuntimeError("PostgreSQL did not become ready")
