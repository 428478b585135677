"""The one point every byte of launchpack's output goes through: config var values never leave.

A build handles every credential an app has. Values reach the output by many roads: our own
messages, an exception quoted in an error (a settings module that failed to load shows the
DATABASE_URL it was given), hooks and installers echoing their environment, a traceback. So
redaction is not a duty of each message but of the streams themselves: ``install()`` replaces
sys.stdout and sys.stderr with writers that hide every registered secret, and ``Output`` (and
so every subprocess we stream) writes through them.

What counts as secret (``secrets_of``), from a config var's name and value:
- any value of a var whose name says credential (SECRET, PASS, TOKEN, KEY, DSN, ``*_URL`` ...);
- any other value that looks like a credential (long, and not a plain word or a number), since a
  name proves nothing (``SENTRY=https://abc@o1.ingest.sentry.io/1``);
- every line of a multi-line value (a PEM key is printed one line at a time), and the escaped
  form a repr() or JSON would show;
- the password (or lone token) of any URL value, which error messages quote on its own.
Whatever the config: the userinfo of every URL in the output is hidden.

A short secret is hidden only where it stands as a whole token, so that a four-letter password
does not blank every word that contains it.
"""

from __future__ import annotations

import io
import re
import sys
import urllib.parse
from collections.abc import Iterable, Mapping
from typing import IO

HIDDEN = "[hidden]"
# Names that say "credential". PASS covers PASSWORD/PASSWD/DB_PASS; DSN is Sentry's.
SECRET_NAME = re.compile(
    r"SECRET|PASS|PWD|TOKEN|KEY|CREDENTIAL|AUTH|DSN|CERT|PRIVATE|SALT|SIGNING|SESSION|COOKIE|_URL$|_URI$|^DATABASE",
    re.I,
)
# launchpack's own settings and the platform's well-known ones: their values are not credentials
# and hiding them would blank the very words the build log explains itself with.
PUBLIC_NAMES = frozenset(
    {
        "DJANGO_SETTINGS_MODULE",
        "PYTHON_VERSION",
        "WEB_CONCURRENCY",
        "DEBUG",
        "DISABLE_COLLECTSTATIC",
        "PORT",
        "DYNO",
        "STACK",
        "SOURCE_VERSION",
        "TZ",
        "LANG",
    }
)
# Below this length a value is hidden only as a whole token; below MIN it cannot be hidden
# without blanking ordinary output (a one-letter password is not a secret anyway).
SHORT, MIN = 8, 3
COMMON_VALUES = frozenset({"true", "false", "yes", "no", "on", "off", "none", "null", "auto", "default"})
# A URL's userinfo: scheme://user:password@ (or scheme://token@), up to the first @ before the host.
URL_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)[^/\s@'\"<>]+@")
PLAIN_WORD = re.compile(r"^[a-z]+$|^[0-9]+$")


def _is_public(name: str) -> bool:
    return name in PUBLIC_NAMES or (name.startswith("LAUNCHPACK_") and not SECRET_NAME.search(name[11:]))


def _looks_like_credential(value: str) -> bool:
    value = value.strip()
    return len(value) >= 12 and not PLAIN_WORD.match(value) and " " not in value


def _forms(value: str) -> set[str]:
    """The strings under which a value can reach the output."""
    forms = {value, value.strip()}
    for line in value.splitlines():
        forms.add(line.strip())
    escaped = value.encode("unicode_escape").decode("ascii")
    forms.update({escaped, escaped.replace('"', '\\"')})
    try:
        parsed = urllib.parse.urlsplit(value.strip())
    except ValueError:
        parsed = None
    # user:password@ -> the password; token@ (Sentry's DSN, a Git deploy token) -> the token.
    credential = parsed and (parsed.password or parsed.username)
    if credential:
        forms.update({credential, urllib.parse.unquote(credential)})
    return {f for f in forms if len(f) >= MIN and f.lower() not in COMMON_VALUES}


def secrets_of(values: Mapping[str, str]) -> set[str]:
    found: set[str] = set()
    for name, value in values.items():
        if not value or _is_public(name):
            continue
        if SECRET_NAME.search(name) or _looks_like_credential(value):
            found |= _forms(value)
    return found


class Redactor:
    def __init__(self) -> None:
        self._long: list[str] = []
        self._short: re.Pattern[str] | None = None
        self._secrets: set[str] = set()

    def add(self, secrets: Iterable[str]) -> None:
        new = {s for s in secrets if s and len(s) >= MIN} - self._secrets
        if not new:
            return
        self._secrets |= new
        # Longest first, so that a value containing another is hidden whole.
        self._long = sorted((s for s in self._secrets if len(s) >= SHORT), key=len, reverse=True)
        short = sorted((s for s in self._secrets if len(s) < SHORT), key=len, reverse=True)
        self._short = (
            re.compile(r"(?<![A-Za-z0-9])(?:" + "|".join(map(re.escape, short)) + r")(?![A-Za-z0-9])")
            if short
            else None
        )

    def add_config(self, values: Mapping[str, str]) -> None:
        self.add(secrets_of(values))

    def __call__(self, text: str) -> str:
        for secret in self._long:
            if secret in text:
                text = text.replace(secret, HIDDEN)
        if self._short is not None:
            text = self._short.sub(HIDDEN, text)
        if "://" in text:
            text = URL_USERINFO.sub(lambda m: m.group("scheme") + HIDDEN + "@", text)
        return text


# The process's one redactor: config is registered where it is read (runtime/config.py).
REDACT = Redactor()


class RedactingWriter(io.TextIOBase):
    """A text stream that redacts whole lines before passing them on.

    Text is held until its line ends (or the stream is flushed), so that a secret written in
    pieces, as traceback.print_exc() and print() do, is still seen whole."""

    def __init__(self, inner: IO[str], redact: Redactor = REDACT):
        self._inner = inner
        self._redact = redact
        self._pending = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._pending += text
        if "\n" in self._pending:
            complete, _, self._pending = self._pending.rpartition("\n")
            self._inner.write(self._redact(complete + "\n"))
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self._inner.write(self._redact(self._pending))
            self._pending = ""
        self._inner.flush()

    def fileno(self) -> int:
        return self._inner.fileno()

    def isatty(self) -> bool:
        return self._inner.isatty()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._inner, "encoding", "utf-8")

    @property
    def inner(self) -> IO[str]:
        return self._inner


def install(names: Iterable[str] = ("stdout", "stderr")) -> None:
    """Route this process's standard streams through REDACT (idempotent)."""
    for name in names:
        stream = getattr(sys, name)
        if not isinstance(stream, RedactingWriter):
            setattr(sys, name, RedactingWriter(stream))
