"""What an installer's failed run means, from its output: the fix to print instead of the generic one.

uv and pip both end a failed install with a generic status; the cause is in their output. The
generic message ("check the package names and versions") is right for a typo, and wrong, and
misleading, for a full disk, a file that is not UTF-8, an index that cannot be reached (uv then
says that the first package it looked up "was not found"), or an editable VCS requirement.
"""

from __future__ import annotations

import re

from runtime import errors

DISK_FULL = re.compile(r"No space left on device|os error 28\b|\[Errno 28\]")
NOT_UTF8 = re.compile(r"failed to decode file `([^`]+)`: stream did not contain valid UTF-8")
PIP_NOT_UTF8 = re.compile(r"UnicodeDecodeError: 'utf-8' codec can't decode")
# uv: "Failed to fetch: `https://host/simple/pkg/`" then "error sending request" (connect, DNS,
# TLS, timeout); pip: "Could not fetch URL https://host/simple/pkg/: connection error".
UV_FETCH = re.compile(r"Failed to fetch: `?(\S+?)`?\s*$", re.M)
UV_UNREACHABLE = re.compile(r"error sending request for url|dns error|tcp connect error|operation timed out", re.I)
PIP_UNREACHABLE = re.compile(r"Could not fetch URL (\S+?): (?:connection error|There was a problem confirming)")
EDITABLE_VCS = re.compile(
    r"Unsupported editable requirement in `([^`]+)` at line (\d+): `([^`]+)`\s+cause: Git sources cannot be editable"
)


def _index_of(url: str) -> str:
    """The index a package URL belongs to: https://host/simple/ for https://host/simple/pkg/."""
    match = re.match(r"^(.*?/simple/)", url) or re.match(r"^([a-z+]+://[^/]+/)", url)
    return match.group(1) if match else url


def explain(output: str, source: str, installer: str, code: int) -> errors.LaunchpackError:
    if DISK_FULL.search(output):
        return errors.InstallDiskFull(source=source, installer=installer)
    if (match := NOT_UTF8.search(output)) or PIP_NOT_UTF8.search(output):
        return errors.RequirementsNotUtf8(path=match.group(1) if match else source, where="")
    if (match := EDITABLE_VCS.search(output)) is not None:
        return errors.EditableVcsRequirement(path=match.group(1), line=match.group(2), requirement=match.group(3))
    fetch = UV_FETCH.search(output)
    if fetch and UV_UNREACHABLE.search(output[fetch.start() :]):
        return errors.IndexUnreachable(index=_index_of(fetch.group(1)), source=source, installer=installer)
    if (match := PIP_UNREACHABLE.search(output)) is not None:
        return errors.IndexUnreachable(index=_index_of(match.group(1)), source=source, installer=installer)
    return errors.DependencyInstallFailed(source=source, installer=installer, code=code)
