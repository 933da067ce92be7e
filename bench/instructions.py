"""Instructions per operation of the benchmark rows, counted by valgrind (not timed).

``uv run python -m bench.instructions [--only ping_pong,counting]`` runs tether's
side of each row (``bench/contenders/tether_w.py``, the code the suite times) at
two sizes under ``valgrind --tool=callgrind`` and prints the difference per
operation: start-up, imports and shutdown cancel out, and an instruction count
does not care how loaded the machine is (a timing on a shared 2-core machine
moves by more than the few per cent a change to the hot path costs).  Compare
two checkouts by running it in each.

``python -m bench.instructions --run ROW N`` is the measured program itself: the
scheduler's time slice (``SLICE``, which reads the real clock that valgrind
slows ~50x) is made very large for the measurement only, so every turn runs its
full step budget, as it would at full speed.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

# row: (small size, large size); the difference is what is divided out.
ROWS: dict[str, tuple[int, int]] = {
    "ping_pong": (2_000, 22_000),
    "counting": (5_000, 55_000),
    "thread_ring": (5_000, 55_000),
    "spawn_exit_down": (1_000, 11_000),
    "gen_call": (1_000, 11_000),
    "link_crash": (1_000, 11_000),
}


def _run(row: str, n: int) -> None:
    from tether._runtime import _node

    from .contenders.tether_w import WORKLOADS

    _node.SLICE = 1e9  # type: ignore[misc]  # see the module docstring
    WORKLOADS[row](n)


def _instructions(row: str, n: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={out}",
                sys.executable,
                "-m",
                "bench.instructions",
                "--run",
                row,
                str(n),
            ],
            check=True,
            capture_output=True,
            cwd=Path(__file__).resolve().parent.parent,
            env={**os.environ, "PYTHONHASHSEED": "0"},
        )
        m = re.search(rb"^summary: (\d+)", out.read_bytes(), re.M)
        assert m is not None, "no summary line in callgrind's output"
        return int(m.group(1))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.instructions")
    parser.add_argument("--run", nargs=2, metavar=("ROW", "N"), help="the measured program")
    parser.add_argument("--only", help="comma-separated rows (default: all)")
    ns = parser.parse_args(argv)
    if ns.run is not None:
        _run(ns.run[0], int(ns.run[1]))
        return 0
    rows = ns.only.split(",") if ns.only else list(ROWS)
    for row in rows:
        small, large = ROWS[row]
        a, b = _instructions(row, small), _instructions(row, large)
        print(f"{row}: {(b - a) / (large - small):,.0f} instructions per operation", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
