"""Run one measurement in this process: ``python -m bench.one CONTENDER WORKLOAD SIZE``.

Prints the figure (µs per operation, or bytes per process) on stdout, or ``n/a``.
"""

from __future__ import annotations

import importlib
import sys

# The skynet rows split each node's size in ten down to leaves of 1: any other
# size never reaches 1, and the tree would grow until the machine gave out.
POWERS_OF_TEN = {"skynet", "skynet_lazy"}


def main(argv: list[str]) -> int:
    contender, workload, size = argv[0], argv[1], int(argv[2])
    digits = str(size)
    if workload in POWERS_OF_TEN and digits != "1" + "0" * (len(digits) - 1):
        print(
            f"bench.one: {workload}'s size must be a power of ten (10, 1000, ...), got {size}",
            file=sys.stderr,
        )
        return 2
    module = importlib.import_module(f"bench.contenders.{contender}_w")
    fn = module.WORKLOADS.get(workload)
    if fn is None:
        print("n/a")
        return 0
    print(repr(fn(size)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
