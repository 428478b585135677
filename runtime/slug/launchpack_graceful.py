"""Run a server in a process group of its own, turning SIGTERM into its graceful stop signal.

    python -I launchpack_graceful.py SIGNAL COMMAND [ARGS...]

The platform stops a process with SIGTERM (Heroku: to every process of the dyno's process
group; a container runtime: to PID 1), then SIGKILL 30 s later. Apache treats SIGTERM as "stop
now", dropping requests in flight, and its children die of it too; uWSGI's workers ignore signals
while they start. So the server runs in a process group of its own, out of reach of a group-wide
SIGTERM, and this process, which stays in the platform's group, sends SIGNAL to the server alone
(Apache: SIGWINCH, its graceful stop; uWSGI: SIGTERM, made graceful by hooks), and SIGKILLs the
server's group if it is still there after KILL_AFTER_SECONDS. If this process dies, the kernel
sends the server SIGTERM (PR_SET_PDEATHSIG), so it is never left behind.

A stop signal whose default action is "ignore" (Apache's SIGWINCH) is lost when it arrives
before the server has installed its handler: Apache binds its port first, so a SIGTERM soon
after start-up would otherwise wait out the whole KILL_AFTER_SECONDS. Such a signal is sent
again every RESEND_SECONDS until the server is gone; repeating a graceful stop is harmless.

Standard library only; runs on the app's Python.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time

PR_SET_PDEATHSIG = 1
# The platform's SIGKILL comes 30 s after SIGTERM. A server still running after this long (a
# worker that missed the stop signal while starting up) is killed, with its whole group, so
# that nothing outlives the dyno's shutdown.
KILL_AFTER_SECONDS = 28
RESEND_SECONDS = 1.0
IGNORED_BY_DEFAULT = {signal.SIGWINCH, signal.SIGCHLD, signal.SIGURG}
FORWARDED = (signal.SIGINT, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2, signal.SIGQUIT)


def parse_signal(name: str) -> signal.Signals:
    name = name.upper()
    return signal.Signals[name if name.startswith("SIG") else "SIG" + name]


def _in_own_group() -> None:
    os.setpgid(0, 0)
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: the group change alone still protects it
        pass


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        sys.stderr.write("usage: launchpack_graceful.py SIGNAL COMMAND [ARGS...]\n")
        return 2
    stop = parse_signal(argv[1])
    try:
        child = subprocess.Popen(argv[2:], preexec_fn=_in_own_group)
    except OSError as exc:
        sys.stderr.write(f"launchpack: cannot start {argv[2]}: {exc}\n")
        return 127

    stopping_since: list[float] = []

    def send(signum: int) -> None:
        try:
            os.kill(child.pid, signum)
        except ProcessLookupError:
            pass

    def tick(_signum, _frame):
        if time.monotonic() - stopping_since[0] >= KILL_AFTER_SECONDS:
            signal.setitimer(signal.ITIMER_REAL, 0)
            try:
                os.killpg(child.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        elif stop in IGNORED_BY_DEFAULT:
            send(stop)

    def forward(signum, _frame):
        if signum != signal.SIGTERM:
            send(signum)
            return
        if not stopping_since:
            stopping_since.append(time.monotonic())
            signal.signal(signal.SIGALRM, tick)
            signal.setitimer(signal.ITIMER_REAL, RESEND_SECONDS, RESEND_SECONDS)
        send(stop)

    for signum in (signal.SIGTERM, *FORWARDED):
        signal.signal(signum, forward)
    code = child.wait()
    return 128 - code if code < 0 else code


if __name__ == "__main__":
    sys.exit(main(sys.argv))
