"""Run every benchmark module (bench/*_bench.py), or those named on the command line."""

import importlib
import pkgutil
import sys

import bench


def main(argv: list[str]) -> int:
    names = sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.endswith("_bench"))
    chosen = [n for n in names if not argv or any(a in n for a in argv)]
    if not chosen:
        print("no benchmarks yet (bench/*_bench.py)")
    for name in chosen:
        print(f"=== {name} ===", flush=True)
        importlib.import_module(f"bench.{name}").main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
