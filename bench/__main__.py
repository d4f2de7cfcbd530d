"""`make bench`: runs every benchmark module under bench/ (or those named) and prints its figures.

    python -m bench                 # all of them, at the sizes the issues give
    python -m bench intake erp      # only these modules
    python -m bench peak --orders 2000   # one module with its own options (its exit code)

Each module has ``main(argv)`` that prints a table and a summary line. Benchmarks work on a
database of their own, never on the data of `make run`.
"""

import importlib
import pkgutil
import sys
import time
from pathlib import Path

# Helpers of the benchmarks, not benchmarks themselves.
HELPERS = {"benchdb", "peak_pg", "peak_packers", "peak_procs"}
# Benchmarks too long for `make bench` (run them by name).
NOT_IN_ALL = {"peak"}


def modules() -> list[str]:
    here = Path(__file__).parent
    return sorted(
        m.name
        for m in pkgutil.iter_modules([str(here)])
        if not m.name.startswith("_") and m.name not in HELPERS
    )


def main(argv: list[str]) -> int:
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    if argv and argv[0] in modules() and any(a.startswith("-") for a in argv[1:]):
        # One benchmark with its own options: it runs alone and its exit code is ours.
        if argv[0] == "peak":  # the drill sets up its own database before Django starts
            return importlib.import_module("bench.peak").main(argv[1:])
        django.setup()
        return importlib.import_module(f"bench.{argv[0]}").main(argv[1:]) or 0
    if argv == ["peak"]:
        return importlib.import_module("bench.peak").main([])
    django.setup()
    names = argv or [m for m in modules() if m not in NOT_IN_ALL]
    unknown = [n for n in names if n not in modules()]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(modules())}")
        return 2
    failed = []
    for name in names:
        print(f"\n=== bench/{name}.py ===", flush=True)
        started = time.perf_counter()
        try:
            importlib.import_module(f"bench.{name}").main([])
        except Exception as exc:  # a broken benchmark must not hide the others' figures
            failed.append(name)
            print(f"bench/{name}.py failed: {exc!r}")
        print(f"(bench/{name}.py took {time.perf_counter() - started:.1f} s)", flush=True)
    print(
        f"\nbench: {len(names) - len(failed)} of {len(names)} benchmarks ran"
        + (f"; failed: {', '.join(failed)}" if failed else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
