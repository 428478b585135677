"""Deterministic crash points for the kill -9 tests.

A build can be killed at any moment; the tests kill it from outside at random moments, and at
the few moments that matter most for the cache (an environment half copied into the cache, a
cache entry written but old ones not yet removed) with LAUNCHPACK_CRASH_AT=<name>, which makes
the build SIGKILL itself there, exactly as `kill -9` would. It has no other effect.
"""

from __future__ import annotations

import os
import signal


def reached(name: str) -> None:
    if os.environ.get("LAUNCHPACK_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
