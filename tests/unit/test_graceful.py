"""launchpack_graceful: SIGTERM becomes the server's graceful stop signal, even early on."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

from tests.conftest import REPO

GRACEFUL = os.path.join(REPO, "runtime", "slug", "launchpack_graceful.py")

# A stand-in for Apache: it announces itself (as Apache binds its port) before it installs its
# SIGWINCH handler, and SIGWINCH is ignored by default, so a stop signal sent in between is lost.
LATE_HANDLER = textwrap.dedent(
    """
    import signal, sys, time
    print("listening", flush=True)
    time.sleep(1.5)
    signal.signal(signal.SIGWINCH, lambda *_: sys.exit(0))
    print("handler installed", flush=True)
    time.sleep(60)
    sys.exit(3)
    """
)


def _start(*server: str) -> subprocess.Popen:
    relay = subprocess.Popen([sys.executable, "-I", GRACEFUL, *server], stdout=subprocess.PIPE, text=True)
    assert relay.stdout.readline() == "listening\n"
    return relay


def test_stop_signal_lost_before_the_handler_exists_is_sent_again():
    relay = _start("WINCH", sys.executable, "-c", LATE_HANDLER)
    started = time.monotonic()
    relay.send_signal(signal.SIGTERM)
    assert relay.wait(timeout=20) == 0  # the server's own graceful exit, not the 28 s backstop
    assert time.monotonic() - started < 10  # about 2 s; the margin is for a loaded machine


def test_sigterm_reaches_the_server_as_its_stop_signal_and_its_exit_code_is_kept():
    server = "import signal, sys, time; signal.signal(signal.SIGUSR2, lambda *_: sys.exit(7)); print('listening', flush=True); time.sleep(60)"
    relay = _start("USR2", sys.executable, "-c", server)
    relay.send_signal(signal.SIGTERM)
    assert relay.wait(timeout=10) == 7
