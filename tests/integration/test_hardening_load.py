"""Adversarial clients: slow clients holding connections open do not stop the default server.

The numbers (64 connections, 300 slow clients, every server) are measured in `make bench`
(bench/load_bench.py); this is the short functional check, the way an attacker tries it."""

from __future__ import annotations

import socket
import time

import pytest

from tests.harness.heroku import Heroku

pytestmark = pytest.mark.integration

SLOW = 50


def trickle(port: int) -> socket.socket:
    """A client that sends part of a request's headers and never finishes (slowloris)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: 1\r\n")
    return s


def answered_within(port: int, seconds: float) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=seconds) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            return s.recv(12) == b"HTTP/1.1 200"
    except OSError:
        return False


def test_the_default_server_answers_while_slow_clients_hold_connections(heroku: Heroku, app_copy):
    """Before: mod_wsgi in embedded mode had 6 threads (3 x 2) for connections; 12 slow clients
    held them all until mod_reqtimeout dropped them 15-30 s later."""
    slug = heroku.build(app_copy("wsgi_app"))
    assert slug.compile.ok, slug.compile.output
    with heroku.start(slug) as dyno:
        dyno.wait_until_serving()
        held = [trickle(dyno.port) for _ in range(SLOW)]
        try:
            time.sleep(1)
            # Generous for a busy machine; the slow clients would hold them for 15 s or more.
            results = [answered_within(dyno.port, 8) for _ in range(5)]
            assert all(results), (results, dyno.log())
            for s in held:  # still held open, not answered: they never finished their request
                s.sendall(b"X-More: 1\r\n")
        finally:
            for s in held:
                s.close()


def post_status(port: int, length: int, send: int) -> bytes:
    """The status line for a POST declaring `length` bytes of body, of which `send` are sent."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(
            f"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n".encode()
        )
        s.sendall(b"x" * send)
        return s.recv(64).split(b"\r\n", 1)[0]


@pytest.mark.parametrize("server", ["mod_wsgi", "gunicorn", "uwsgi", "waitress"])
def test_one_request_body_limit_for_every_server(heroku: Heroku, app_copy, warm_caches, server):
    cache = heroku.copy_cache(warm_caches[server].path) if server == "uwsgi" else heroku.new_cache()
    slug = heroku.build(app_copy("wsgi_app"), {"LAUNCHPACK_SERVER": server}, cache_dir=cache)
    assert slug.compile.ok, slug.compile.output
    with heroku.start(slug, config={"LAUNCHPACK_MAX_REQUEST_BODY": "100000"}) as dyno:
        dyno.wait_until_serving()
        assert post_status(dyno.port, 1000, 1000).endswith(b" 200 OK"), dyno.log()
        assert b" 413 " in post_status(dyno.port, 5_000_000, 0), dyno.log()  # refused before it is sent
