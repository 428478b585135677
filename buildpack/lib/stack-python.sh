# Sourced by buildpack/bin/*: sets LAUNCHPACK_STACK_PYTHON to the stack's python3.
# The stack's own interpreter, never one from a user's home (pyenv and the like are not on the
# platform). LAUNCHPACK_STACK_PYTHON, if already set, wins (for testing other stacks).
if [ -z "${LAUNCHPACK_STACK_PYTHON:-}" ]; then
  for candidate in /usr/bin/python3 /usr/local/bin/python3; do
    if [ -x "$candidate" ]; then
      LAUNCHPACK_STACK_PYTHON=$candidate
      break
    fi
  done
fi
if [ -z "${LAUNCHPACK_STACK_PYTHON:-}" ]; then
  echo " !     launchpack needs python3 on the stack (looked in /usr/bin and /usr/local/bin)." >&2
  exit 1
fi
