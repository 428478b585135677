"""OS-level faults of a build (a full disk, a path it cannot read or write) as the catalogued
errors they are (runtime/errors.py), never a traceback.

Which error is decided by the errno and by where the path is: the build directory full is a
failed build (the app does not fit), the cache full or read-only is not (see CACHE_FIXES and
envcache.note_unsaved: the build warns, and saves nothing). Copies report at most a few of the
files they could not write (envcache.CopyError), never every file name of an environment.
"""

from __future__ import annotations

import errno
import os
import re
import shutil

from runtime import envcache, errors

FULL = (errno.ENOSPC, errno.EDQUOT)
DENIED = (errno.EROFS, errno.EACCES, errno.EPERM)
ERRNO_MESSAGE = re.compile(r"\[Errno (\d+)\] ([^:]+): '([^']+)'")


def within(path: str, root: str | None) -> bool:
    if not root or not path:
        return False
    root = os.path.abspath(root)
    path = os.path.abspath(path)
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def cache_fix(code: int | None) -> str:
    """What to do about a cache that cannot be written."""
    if code in FULL:
        return (
            "Free space in the build cache (Heroku: heroku builds:cache:purge -a YOUR-APP; elsewhere: empty\n"
            "the cache directory) so that the next build can save it again."
        )
    return (
        "Make the cache directory writable for the user the build runs as (it is mounted read-only,\n"
        "or owned by another user)."
    )


def _from_copytree(exc: shutil.Error) -> OSError:
    """shutil.copytree's Error lists every file it could not copy (on a full disk: all of them)
    in its message: the first failure as an OSError, and a few of the others as details."""
    failed = exc.args[0] if exc.args and isinstance(exc.args[0], list) else []
    messages = [f"{dst}: {why}" for _src, dst, why in failed if isinstance(why, str)]
    for message in messages:
        found = ERRNO_MESSAGE.search(message)
        if found:
            return envcache.CopyError(int(found.group(1)), found.group(2), found.group(3), messages)
    return envcache.CopyError(None, "the copy failed", failed[0][1] if failed else "", messages)


def as_error(exc: OSError, app_dir: str | None = None, cache_dir: str | None = None) -> errors.LaunchpackError:
    """The catalogued error for an OSError that reached the top of a build."""
    if isinstance(exc, shutil.Error):
        exc = _from_copytree(exc)
    # A copy's OSError names the source, and the target as filename2: a full disk is the target's.
    path = (exc.errno in FULL and exc.filename2) or exc.filename or "(unknown path)"
    reason = exc.strerror or str(exc)
    details = getattr(exc, "details", "")
    details = "\n" + details if details else ""
    if exc.errno in FULL:
        if within(path, cache_dir):
            return errors.CacheFull(path=path, reason=reason, details=details)
        return errors.BuildDirFull(path=path, reason=reason, details=details)
    if exc.errno in DENIED and within(path, app_dir):
        if os.path.isfile(path) and not os.access(path, os.R_OK):
            return errors.AppFileUnreadable(path=os.path.relpath(path, app_dir), reason=reason)
        return errors.PathNotWritable(path=path, reason=reason, details=details, app_dir=app_dir)
    return errors.OsFault(path=path, reason=reason, details=details.strip())
