"""The benchmark suite's --quick run: every contender still runs (no timing asserted)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.timeout(600)
def test_quick_bench_runs_every_contender_on_every_row_it_supports() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "bench", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    res = json.loads((ROOT / "bench" / "out" / "results.json").read_text())
    expected = ["tether", "tether_pure", "asyncio", "pykka", "thespian", "erlang_py", "erlpack"]
    expected += ["tether_uvloop", "asyncio_uvloop"]
    if shutil.which("erl"):
        expected += ["erlang1", "erlang"]
    assert res["contenders"] == expected and res["skipped"] == (
        [] if shutil.which("erl") else ["erlang1", "erlang"]
    )
    med = res["medians"]
    assert all(med[w]["tether"] is not None for w in med), med
    assert all(med[w]["tether_pure"] is not None for w in med), med
    codecs = ["tether", "tether_pure", "erlang_py", "erlpack"] + (
        ["erlang1", "erlang"] if shutil.which("erl") else []
    )
    for w in ("etf_encode", "etf_decode"):
        assert all(med[w][c] is not None for c in codecs), (w, med[w])
    assert med["dist_ping_pong"]["tether"] is not None
    assert med["dist_ping_pong"]["tether_pure"] is not None
    assert med["dist_ping_pong"]["asyncio"] is not None  # the floor: a raw asyncio round trip
    if shutil.which("erl"):
        assert med["dist_ping_pong"]["erlang1"] is not None
    on_uvloop = ["tether_uvloop", "asyncio_uvloop"]
    actors = [c for c in expected if c not in ("erlang_py", "erlpack", *on_uvloop)]
    for w in ("ping_pong", "counting", "thread_ring", "spawn_exit_down"):
        assert all(med[w][c] is not None for c in actors), (w, med[w])
    # The uvloop contenders run the rows where the loop is on the path, and only those.
    ran = {c: sorted(w for w in med if med[w][c] is not None) for c in on_uvloop}
    assert ran == {c: ["dist_ping_pong", "ping_pong", "timers"] for c in on_uvloop}
    assert "| ping_pong | µs |" in out.stdout
    assert "| workload | unit | tether | tether_uvloop | asyncio | asyncio_uvloop |" in out.stdout


@pytest.mark.timeout(600)
def test_the_cpu_bench_runs_the_pools_and_peers_and_they_agree() -> None:
    # bench/cpu.py checks that every contender counts the same primes.
    out = subprocess.run(
        [sys.executable, "-m", "bench.cpu", "--quick", "--reps", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    rows = [line.split(" | ")[0] for line in out.stdout.splitlines() if line.startswith("| ")]
    assert rows == [
        "| contender",
        "| one process, no pool",
        "| ProcessPoolExecutor",
        "| tether CpuPool",
        "| tether.peer nodes (rpc)",
    ]
    res = json.loads((ROOT / "bench" / "out" / "cpu.json").read_text())
    assert {name: len(runs) for name, runs in res["runs"].items()} == {
        "serial": 1,
        "executor": 1,
        "cpu_pool": 1,
        "peers": 1,
    }


def test_the_instruction_count_program_runs_each_row_it_measures() -> None:
    # bench/instructions.py runs these under valgrind; here, once each, small and
    # without valgrind, so the measured program cannot rot unnoticed.
    from bench.instructions import _BARE_ROWS, CONTENDERS, ROWS

    for contender, core in CONTENDERS.items():
        for row in ROWS if contender != "trampoline" else _BARE_ROWS:
            n = "100" if row == "skynet_lazy" else "50"  # skynet's n is a power of 10
            out = subprocess.run(
                [sys.executable, "-m", "bench.instructions", "--run", contender, row, n],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
                env={**os.environ, "TETHER_CORE": core},
            )
            assert out.returncode == 0, (contender, row, out.stderr[-2000:])


def test_a_skynet_size_that_is_not_a_power_of_ten_is_refused_before_it_runs() -> None:
    # Such a tree never reaches its leaves of 1: it would grow without end.
    out = subprocess.run(
        [sys.executable, "-m", "bench.one", "tether", "skynet_lazy", "5000"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (out.returncode, out.stdout) == (2, "")
    assert out.stderr == (
        "bench.one: skynet_lazy's size must be a power of ten (10, 1000, ...), got 5000\n"
    )
