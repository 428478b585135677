"""Runs the core for buildpack/bin/*: puts the core packages on sys.path, then dispatches.

Works from the checkout (buildpack/lib/run.py, core two levels up) and from the packaged
buildpack (lib/run.py, core one level up). Started with `python3 -I`, so neither the app's
files nor the environment's PYTHONPATH can shadow the core's modules.
"""

import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
for root in (os.path.dirname(here), os.path.dirname(os.path.dirname(here))):
    if os.path.isfile(os.path.join(root, "runtime", "main.py")):
        sys.path.insert(0, root)
        break
else:
    sys.stderr.write(" !     launchpack is incomplete: runtime/ not found next to " + here + "\n")
    sys.exit(70)

from runtime.main import main  # noqa: E402

sys.exit(main(sys.argv[1:]))
