"""Instructions per operation of the benchmark rows, counted by valgrind (not timed).

``uv run python -m bench.instructions [--only ping_pong,counting] [--contenders
native,pure,trampoline]`` runs each row (tether's side: ``bench/contenders/tether_w.py``,
the code the suite times) at two sizes under ``valgrind --tool=callgrind`` and prints
the difference per operation: start-up, imports and shutdown cancel out, and an
instruction count does not care how loaded the machine is (a timing on a shared
2-core machine moves by more than the few per cent a change to the hot path costs).
Compare two checkouts by running it in each.

The contenders: ``native`` (tether with its C core), ``pure`` (``TETHER_CORE=python``)
and ``trampoline`` (``bench/trampoline.py``: a bare coroutine trampoline that only
moves messages, the floor one CPython thread sets; it has ping_pong, thread_ring
and gen_call).  The default is native and pure; the table in bench/RESULTS.md is
``python -m bench.instructions --only ping_pong,thread_ring,gen_call
--contenders trampoline,pure,native``.

``python -m bench.instructions --run CONTENDER ROW N`` is the measured program
itself: tether's scheduler time slice (``SLICE``, which reads the real clock that
valgrind slows ~50x) is made very large for the measurement only, so every turn
runs its full step budget, as it would at full speed.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import subprocess
import sys
import tempfile
from pathlib import Path

# row: (small size, large size); the difference is what is divided out.
ROWS: dict[str, tuple[int, int]] = {
    "ping_pong": (2_000, 22_000),
    "counting": (5_000, 55_000),
    "selective_10k": (1_000, 6_000),
    "thread_ring": (5_000, 55_000),
    "spawn_exit_down": (1_000, 11_000),
    "gen_call": (1_000, 11_000),
    "link_crash": (1_000, 11_000),
    "skynet_lazy": (1_000, 10_000),  # sizes powers of 10; per n, as the timed row divides
    "etf_encode": (2_000, 22_000),
    "etf_decode": (2_000, 22_000),
    # The calling node's side of a round trip between two nodes: the peer is
    # another OS process (tether.peer), which valgrind does not follow.
    "dist_ping_pong": (2_000, 4_000),
}


CONTENDERS: dict[str, str] = {"native": "native", "pure": "python", "trampoline": ""}


def _run(contender: str, row: str, n: int) -> None:
    if contender == "trampoline":
        from .trampoline import WORKLOADS as BARE

        BARE[row](n)
        return
    from tether._runtime import _core, _node

    from .contenders.tether_w import WORKLOADS

    assert CONTENDERS[contender] == _core.NAME, f"{contender}: the {_core.NAME} core runs"
    _node.SLICE = 1e9  # type: ignore[misc]  # see the module docstring
    WORKLOADS[row](n)


def _instructions(contender: str, row: str, n: int) -> int:
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
                contender,
                row,
                str(n),
            ],
            check=True,
            capture_output=True,
            cwd=Path(__file__).resolve().parent.parent,
            env={**os.environ, "PYTHONHASHSEED": "0", "TETHER_CORE": CONTENDERS[contender]},
        )
        m = re.search(rb"^summary: (\d+)", out.read_bytes(), re.M)
        assert m is not None, "no summary line in callgrind's output"
        return int(m.group(1))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.instructions")
    parser.add_argument(
        "--run", nargs=3, metavar=("CONTENDER", "ROW", "N"), help="the measured program"
    )
    parser.add_argument("--only", help="comma-separated rows (default: all)")
    parser.add_argument(
        "--contenders", default="native,pure", help="comma-separated: native, pure, trampoline"
    )
    parser.add_argument("--results", help="also write the table to this markdown file")
    ns = parser.parse_args(argv)
    if ns.run is not None:
        _run(ns.run[0], ns.run[1], int(ns.run[2]))
        return 0
    rows = ns.only.split(",") if ns.only else list(ROWS)
    contenders = ns.contenders.split(",")
    lines = ["| row | " + " | ".join(contenders) + " |", "|---|" + "---|" * len(contenders)]
    print("\n".join(lines), flush=True)
    for row in rows:
        cells = []
        for c in contenders:
            if c == "trampoline" and row not in _BARE_ROWS:
                cells.append("—")
                continue
            small, large = ROWS[row]
            a, b = _instructions(c, row, small), _instructions(c, row, large)
            cells.append(f"{(b - a) / (large - small):,.0f}")
        lines.append(f"| {row} | " + " | ".join(cells) + " |")
        print(lines[-1], flush=True)
    print("(instructions per operation, callgrind)")
    if ns.results:
        cmd = "uv run --frozen --all-groups python -m bench.instructions " + " ".join(argv)
        md = [
            "# Instructions per operation",
            "",
            f"- Date: {datetime.date.today().isoformat()}; Python {platform.python_version()}, "
            f"{platform.machine()}; counted by valgrind's callgrind (not timed: the "
            "machine's load does not move them)",
            f"- Command: `{cmd.strip()}`",
            "- Contenders: trampoline is bench/trampoline.py (a bare coroutine "
            "trampoline that only moves messages); pure is tether's pure-Python core "
            "(TETHER_CORE=python); native is tether's C core",
            "",
            *lines,
        ]
        Path(ns.results).write_text("\n".join(md) + "\n")
    return 0


_BARE_ROWS = ("ping_pong", "thread_ring", "gen_call")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
