"""waitress-serve, plus a graceful stop on SIGTERM and reloading on code changes.

    python -m launchpack_waitress [waitress-serve options] module:callable

waitress-serve has no SIGTERM handling: the default action kills the process with requests in
flight. Here SIGTERM closes the listening sockets (new connections are refused), lets the
requests in flight finish and their responses be sent (waitress writes responses from its main
loop, which therefore keeps running), closes idle keep-alive connections, and exits; whatever is
still running after the grace period is abandoned. With LAUNCHPACK_RELOAD set, hupper runs the
server in a child process and restarts it when a loaded file changes.

Runs on the app's Python, with waitress (and hupper) installed in the app's environment.
"""

from __future__ import annotations

import os
import signal
import sys
import time

GRACE_SECONDS = 25
LOOP_SECONDS = 0.2


def _busy(channel) -> bool:
    return bool(channel.requests or channel.total_outbufs_len or getattr(channel, "request", None))


def serve_until_stopped(app, **kw) -> None:
    from waitress import create_server, wasyncore
    from waitress.channel import HTTPChannel

    server = create_server(app, **kw)
    server.print_listen("Serving on http://{}:{}")
    sys.stderr.write(f"launchpack: waitress serving with {server.adj.threads} threads\n")
    stopping: list[float] = []

    def on_term(_signum, _frame):
        if not stopping:
            stopping.append(time.monotonic())

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    socket_map = server.map if hasattr(server, "map") else server._map
    while not stopping:
        wasyncore.loop(timeout=LOOP_SECONDS, map=socket_map, count=1, use_poll=server.adj.asyncore_use_poll)

    sys.stderr.write("launchpack: SIGTERM received; finishing requests in flight\n")
    for dispatcher in list(socket_map.values()):
        if getattr(dispatcher, "accepting", False):
            # A listening socket: stop accepting. Only the socket: waitress's own close() of a
            # server also closes its trigger, the pipe through which the worker threads wake this
            # loop when a response is ready, and every request finishing after that would die in
            # os.write() with "OSError: [Errno 9] Bad file descriptor". The trigger stays open
            # until the process exits.
            wasyncore.dispatcher.close(dispatcher)
    deadline = stopping[0] + GRACE_SECONDS
    while time.monotonic() < deadline:
        channels = [d for d in list(socket_map.values()) if isinstance(d, HTTPChannel)]
        for channel in channels:
            if not _busy(channel):
                channel.handle_close()
        if not any(_busy(c) for c in channels if c.connected):
            break
        wasyncore.loop(timeout=LOOP_SECONDS, map=socket_map, count=1, use_poll=server.adj.asyncore_use_poll)
    server.task_dispatcher.shutdown(cancel_pending=True, timeout=1)


def serve() -> int:
    from waitress import runner

    return runner.run(argv=[sys.argv[0], *sys.argv[1:]], _serve=serve_until_stopped) or 0


def main() -> int:
    if os.environ.get("LAUNCHPACK_RELOAD"):
        import hupper

        # Returns in the child only; the child gets the same grace period to stop as the server.
        hupper.start_reloader("launchpack_waitress.serve", shutdown_interval=GRACE_SECONDS + 1)
    return serve()


if __name__ == "__main__":
    sys.exit(main())
