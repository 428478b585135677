"""Config vars: the user's settings as the platform hands them over.

Heroku passes them as files in ENV_DIR (one file per var, name = file name, value = contents)
and does *not* export them; CNB uses the same format under $CNB_PLATFORM_DIR/env. We export
them to dependency installation, hooks and framework steps, except the deny-list below:
variables that would change how the build itself runs rather than configure the app.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from runtime import redaction

# Never exported to the build, whatever the user sets. Each would let a config var break or
# subvert the build's own processes (the stack's Python, the dynamic linker, the shell).
DENIED = frozenset(
    {
        "PATH",  # the build's tools must come from the stack and the app env, in our order
        "LD_PRELOAD",
        "LD_LIBRARY_PATH",
        "LIBRARY_PATH",
        "CPATH",
        "CPPATH",
        "PYTHONHOME",  # would point the stack's Python at another standard library
        "PYTHONPATH",  # would shadow the buildpack's own modules
        "PYTHONSTARTUP",
        "PYTHONEXECUTABLE",
        "VIRTUAL_ENV",  # launchpack decides where the app's environment lives
        "BASH_ENV",  # sourced by every non-interactive bash the build starts
        "ENV",
        "IFS",
        "SHELL",
        "HOME",
        "PWD",
        "GIT_DIR",
        "STACK",  # set by the platform; a config var must not impersonate another stack
    }
)

VALID_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class ConfigVars:
    values: Mapping[str, str] = field(default_factory=dict)
    denied: tuple[str, ...] = ()

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.values.get(name, default)

    def flag(self, name: str) -> bool:
        """True when a switch is on. '0', 'false', 'no' and empty mean off (Heroku: '0' is off)."""
        value = (self.values.get(name) or "").strip().lower()
        return value not in ("", "0", "false", "no", "off")

    def secrets(self) -> set[str]:
        """The strings to hide from output (see runtime/redaction.py)."""
        return redaction.secrets_of(self.values)

    def with_overrides(self, **extra: str) -> ConfigVars:
        return ConfigVars({**self.values, **extra}, self.denied)


def from_env_dir(env_dir: str | None) -> ConfigVars:
    """Read an ENV_DIR (Heroku) or $CNB_PLATFORM_DIR/env (CNB). A missing dir means no vars."""
    if not env_dir or not os.path.isdir(env_dir):
        return ConfigVars()
    values: dict[str, str] = {}
    denied: list[str] = []
    for name in sorted(os.listdir(env_dir)):
        path = os.path.join(env_dir, name)
        if not os.path.isfile(path) or not VALID_NAME.match(name):
            continue
        if name in DENIED:
            denied.append(name)
            continue
        with open(path, encoding="utf-8", errors="surrogateescape") as handle:
            values[name] = handle.read()
    # Registered where read, before anything can print them (even a failure to use them).
    redaction.REDACT.add_config(values)
    return ConfigVars(values, tuple(denied))


def from_mapping(values: Mapping[str, str]) -> ConfigVars:
    """Config from an existing environment (local CLI): applies the same deny-list."""
    kept = {k: v for k, v in values.items() if VALID_NAME.match(k) and k not in DENIED}
    redaction.REDACT.add_config(kept)
    return ConfigVars(kept, tuple(sorted(k for k in values if k in DENIED)))
