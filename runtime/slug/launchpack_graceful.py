"""Run a server whose graceful stop is a signal other than SIGTERM (Apache: SIGWINCH).

    python -I launchpack_graceful.py SIGNAL COMMAND [ARGS...]

The platform stops a process with SIGTERM (Heroku: to every process of the dyno's process
group; a container runtime: to PID 1), then SIGKILL 30 s later. Apache treats SIGTERM as "stop
now", dropping requests in flight, and its children die of it too. So the server runs in a
process group of its own, out of reach of a group-wide SIGTERM, and this process, which stays
in the platform's group, turns SIGTERM into SIGNAL for it. If this process dies, the kernel
sends the server SIGTERM (PR_SET_PDEATHSIG), so it is never left behind.

Standard library only; runs on the app's Python.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys

PR_SET_PDEATHSIG = 1
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

    def forward(signum, _frame):
        try:
            os.kill(child.pid, stop if signum == signal.SIGTERM else signum)
        except ProcessLookupError:
            pass

    for signum in (signal.SIGTERM, *FORWARDED):
        signal.signal(signum, forward)
    code = child.wait()
    return 128 - code if code < 0 else code


if __name__ == "__main__":
    sys.exit(main(sys.argv))
