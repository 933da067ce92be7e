"""Run one measurement in this process: ``python -m bench.one CONTENDER WORKLOAD SIZE``.

Prints the figure (µs per operation, or bytes per process) on stdout, or ``n/a``.
"""

from __future__ import annotations

import importlib
import sys


def main(argv: list[str]) -> int:
    contender, workload, size = argv[0], argv[1], int(argv[2])
    module = importlib.import_module(f"bench.contenders.{contender}_w")
    fn = module.WORKLOADS.get(workload)
    if fn is None:
        print("n/a")
        return 0
    print(repr(fn(size)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
