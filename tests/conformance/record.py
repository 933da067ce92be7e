"""Record the Elixir side of every conformance pair: ``python -m tests.conformance.record``.

Runs each ``scenarios/*.exs`` on the real BEAM and writes its normalised trace to
``scenarios/NAME.expected`` (committed).  Pass names to record only those.
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor

from .harness import SCENARIOS, names, run_elixir


def main(argv: list[str]) -> int:
    todo = argv or names()
    with ThreadPoolExecutor(max_workers=2) as pool:
        for name, text in zip(todo, pool.map(run_elixir, todo), strict=True):
            (SCENARIOS / f"{name}.expected").write_text(text)
            print(f"recorded {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
