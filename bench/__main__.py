"""The benchmark suite: tether against the BEAM and the Python peers, side by side.

``uv run --group bench python -m bench [--quick] [--reps N] [--only W,...]
[--results RESULTS.md]`` runs every contender on the same workloads in one run,
interleaved (workload by workload, contender by contender, repetition by
repetition), each measurement in a fresh OS process, and prints a table of the
median figures with tether's ratio to Erlang/OTP with one scheduler (``+S 1``) and
with the default, and to the peers.  ``bench/out/results.json`` gets the raw
figures.  Peers that are not installed are reported as skipped.

tether runs twice: ``tether`` is its native core (C, where it is built) and
``tether_pure`` its pure-Python core (``TETHER_CORE=python``); the targets and the
peer checks are the native core's, and the pure core's ratio to the BEAM is shown
beside it.

``tether_uvloop`` and ``asyncio_uvloop`` are the native core and the raw-asyncio
baseline on uvloop (``TETHER_BENCH_LOOP=uvloop``), on the rows where the event
loop is on the path (``UVLOOP_ROWS``); they get a table of their own.

Timing thresholds are never asserted in tests; ``--quick`` exists so CI can see
that every contender still runs.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

# name: (full size, quick size, unit, what it measures)
WORKLOADS: dict[str, tuple[int, int, str, str]] = {
    "spawn_exit_down": (100_000, 2_000, "µs", "spawn + exit + DOWN received"),
    "idle_memory": (1_000_000, 10_000, "B", "memory per idle process"),
    "ping_pong": (200_000, 5_000, "µs", "ping-pong round trip"),
    "counting": (1_000_000, 20_000, "µs", "one-way send + receive (counting)"),
    "thread_ring": (1_000_000, 20_000, "µs", "thread ring, 100 actors: per hop"),
    "ring_1000": (1_000_000, 20_000, "µs", "1000-process ring: per hop"),
    "skynet": (1_000_000, 10_000, "µs", "skynet eager (tree of 10): per process"),
    "skynet_lazy": (1_000_000, 10_000, "µs", "skynet lazy (one child at a time): per process"),
    "fj_throughput": (600_000, 12_000, "µs", "fork-join throughput (Savina fjthrput): per message"),
    "fj_create": (100_000, 2_000, "µs", "fork-join creation (Savina fjcreate): per actor"),
    "big": (400_000, 10_000, "µs", "Savina big, 100 actors: per message"),
    "chameneos": (200_000, 5_000, "µs", "chameneos, 10 creatures: per meeting"),
    "selective_10k": (20_000, 1_000, "µs", "reply-ref receive behind 10k queued"),
    "gen_call": (200_000, 5_000, "µs", "GenServer call round trip"),
    "link_crash": (100_000, 2_000, "µs", "spawn_link + crash + EXIT received"),
    "sup_restart": (20_000, 500, "µs", "supervisor restart of a crashing child"),
    "timers": (100_000, 2_000, "µs", "receive timeouts firing at scale: per timer"),
    "timer_lateness": (
        40,
        3,
        "ms",
        "event-loop timer lateness (max) while 50 actors do 5 ms steps",
    ),
    "etf_encode": (200_000, 5_000, "µs", "External Term Format: encode one message"),
    "etf_decode": (200_000, 5_000, "µs", "External Term Format: decode one message"),
    "dist_ping_pong": (20_000, 500, "µs", "round trip between two nodes on loopback"),
    "dist_flood_in": (5_000, 300, "MB", "peak memory: a peer floods a process that never reads"),
    "dist_flood_out": (5_000, 300, "MB", "peak memory: flooding a stopped (SIGSTOP) peer"),
}

PYTHON_CONTENDERS = [
    "tether",
    "tether_pure",
    "asyncio",
    "pykka",
    "thespian",
    "erlang_py",
    "erlpack",
    "tether_uvloop",
    "asyncio_uvloop",
]
# tether's two cores: the contender name -> TETHER_CORE.
TETHER_CORES = {"tether": "native", "tether_pure": "python"}
# Contenders on uvloop: the name -> the contender they run (its module and core).
ON_UVLOOP = {"tether_uvloop": "tether", "asyncio_uvloop": "asyncio"}
# The rows they run: the distribution round trip (the loop's transports and
# selector), a message round trip (a turn a message, no I/O) and the timers.
UVLOOP_ROWS = ["ping_pong", "timers", "dist_ping_pong"]
# The codec libraries run the codec rows only; the codec and node-to-node rows
# have no actor-library contender.
CODEC_ONLY = {"erlang_py": "erlang", "erlpack": "erlpack"}
CODEC_ROWS = {"etf_encode", "etf_decode"}
ROW_CONTENDERS = {
    "etf_encode": {"tether", "tether_pure", "erlang_py", "erlpack", "erlang1", "erlang"},
    "etf_decode": {"tether", "tether_pure", "erlang_py", "erlpack", "erlang1", "erlang"},
    # asyncio: the same round trip with nothing of tether's (see asyncio_w).
    "dist_ping_pong": {"tether", "tether_pure", "asyncio", "erlang1", "erlang"},
    # A property of the event loop under load; the BEAM has no such loop.
    "timer_lateness": {"tether", "tether_pure", "asyncio"},
    "dist_flood_in": {"tether", "tether_pure", "erlang1", "erlang"},
    "dist_flood_out": {"tether", "tether_pure", "erlang1", "erlang"},
}
# +P: room for the million-process rows (the default limit is 262,144).
ERLANG_CONTENDERS = {"erlang1": ["+S", "1", "+P", "4000000"], "erlang": ["+P", "4000000"]}

# Targets (issue "a native core"): tether (its native core) / Erlang with one
# scheduler.  The codec rows' target is for both encode and decode.
TARGETS = {
    "ping_pong": 1.2,
    "thread_ring": 1.2,
    "ring_1000": 1.2,
    "counting": 2.0,
    "spawn_exit_down": 2.0,
    "skynet_lazy": 1.5,
    "gen_call": 2.0,
    "selective_10k": 2.0,
    "link_crash": 3.0,
    "dist_ping_pong": 1.5,
    "etf_encode": 3.0,
    "etf_decode": 3.0,
    "idle_memory": 1.0,
}
MESSAGING = ["ping_pong", "counting", "thread_ring", "ring_1000"]  # the peers' rows
# Targets of the distribution issue: the codec at least as fast as the pure-Python
# codec (erlang-py); the Cython erlpack and the BEAM's C codec are shown beside.


def _available(contender: str) -> bool:
    mod = {
        "pykka": "pykka",
        "thespian": "thespian",
        **CODEC_ONLY,
        **dict.fromkeys(ON_UVLOOP, "uvloop"),
    }.get(contender)
    return mod is None or importlib.util.find_spec(mod) is not None


def _compile_erlang() -> str | None:
    if shutil.which("erlc") is None or shutil.which("erl") is None:
        return None
    out = tempfile.mkdtemp(prefix="tbench")
    subprocess.run(
        ["erlc", "-o", out, *map(str, sorted((HERE / "erlang").glob("*.erl")))],
        check=True,
        capture_output=True,
    )
    return out


def _runs(contender: str, workload: str) -> bool:
    if contender in ON_UVLOOP:
        return workload in UVLOOP_ROWS
    if contender in CODEC_ONLY and workload not in CODEC_ROWS:
        return False
    return contender in ROW_CONTENDERS.get(workload, {contender})


def _measure(contender: str, workload: str, size: int, ebin: str | None) -> float | None:
    base = ON_UVLOOP.get(contender, contender)
    if contender in ERLANG_CONTENDERS:
        if ebin is None:
            return None
        cmd = ["erl", "-noshell", *ERLANG_CONTENDERS[contender], "-pa", ebin]
        cmd += ["-s", "tbench", "main", workload, str(size)]
    else:
        module = "tether" if base in TETHER_CORES else base
        cmd = [sys.executable, "-m", "bench.one", module, workload, str(size)]
    env = dict(os.environ, PYTHONPATH=str(HERE.parent))
    env.pop("TETHER_BENCH_LOOP", None)
    if contender in ON_UVLOOP:
        env["TETHER_BENCH_LOOP"] = "uvloop"
    if base in TETHER_CORES:
        env["TETHER_CORE"] = TETHER_CORES[base]
    try:
        out = subprocess.run(
            cmd, capture_output=True, text=True, timeout=900, env=env, cwd=HERE.parent, check=False
        )
    except subprocess.TimeoutExpired:
        return None
    text = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else ""
    if out.returncode != 0 or text in ("", "n/a"):
        if out.returncode != 0:
            print(f"  ! {contender} {workload}: {out.stderr.strip()[-300:]}", file=sys.stderr)
        return None
    return float(text)


def _fmt(v: float | None) -> str:
    if v is None:
        return "—"
    return f"{v:,.0f}" if v >= 100 else f"{v:.3g}"


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def run(quick: bool, reps: int, only: list[str] | None) -> dict[str, Any]:
    ebin = _compile_erlang()
    contenders = [c for c in PYTHON_CONTENDERS if _available(c)]
    skipped = [c for c in PYTHON_CONTENDERS if c not in contenders]
    if ebin is not None:
        contenders += list(ERLANG_CONTENDERS)
    else:
        skipped += list(ERLANG_CONTENDERS)
    workloads = [w for w in WORKLOADS if only is None or w in only]
    samples: dict[str, dict[str, list[float]]] = {w: {c: [] for c in contenders} for w in workloads}
    for rep in range(reps):
        for w in workloads:
            size = WORKLOADS[w][1 if quick else 0]
            for c in contenders:
                if not _runs(c, w):
                    continue
                v = _measure(c, w, size, ebin)
                if v is not None:
                    samples[w][c].append(v)
                print(f"rep {rep + 1}/{reps} {w:16} {c:9} {_fmt(v)}", file=sys.stderr)
    medians = {
        w: {c: (statistics.median(v) if v else None) for c, v in cs.items()}
        for w, cs in samples.items()
    }
    return {
        "date": datetime.date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()}",
        "python": platform.python_version(),
        "otp": _otp_version(),
        "quick": quick,
        "reps": reps,
        "contenders": contenders,
        "skipped": skipped,
        "medians": medians,
    }


def _otp_version() -> str | None:
    if shutil.which("erl") is None:
        return None
    out = subprocess.run(
        ["erl", "-noshell", "-eval", 'io:format("~s", [erlang:system_info(otp_release)]), halt().'],
        capture_output=True,
        text=True,
        check=False,
    )
    return out.stdout.strip() or None


def table(res: dict[str, Any]) -> list[str]:
    cs = [c for c in res["contenders"] if c not in ON_UVLOOP]
    head = ["workload", "unit", *cs, "÷erlang1", "÷erlang", "pure÷erlang1", "target", "verdict"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for w, per in res["medians"].items():
        t = per.get("tether")
        r1 = _ratio(t, per.get("erlang1"))
        rd = _ratio(t, per.get("erlang"))
        target = TARGETS.get(w)
        verdict = ""
        if target is not None and r1 is not None:
            verdict = "met" if r1 <= target else f"short ×{r1 / target:.1f}"
        cells = [w, WORKLOADS[w][2], *(_fmt(per.get(c)) for c in cs)]
        pure = _ratio(per.get("tether_pure"), per.get("erlang1"))
        cells += [_fmt(r1), _fmt(rd), _fmt(pure), f"≤{target}" if target else "", verdict]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def uvloop_table(res: dict[str, Any]) -> list[str]:
    """The rows of ``UVLOOP_ROWS``: tether's native core and raw asyncio on each loop."""
    if "tether_uvloop" not in res["contenders"]:
        return []
    cs = ["tether", "tether_uvloop", "asyncio", "asyncio_uvloop", "erlang1"]
    cs = [c for c in cs if c in res["contenders"]]
    head = ["workload", "unit", *cs, "uvloop÷erlang1", "uvloop vs raw uvloop"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for w in UVLOOP_ROWS:
        per = res["medians"].get(w)
        if per is None:
            continue
        r1 = _ratio(per.get("tether_uvloop"), per.get("erlang1"))
        faster = _ratio(per.get("asyncio_uvloop"), per.get("tether_uvloop"))
        cells = [w, WORKLOADS[w][2], *(_fmt(per.get(c)) for c in cs), _fmt(r1)]
        cells.append("—" if faster is None else f"×{faster:.2f}")
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def peer_checks(res: dict[str, Any]) -> list[str]:
    out = []
    for w, per in res["medians"].items():
        a = per.get("asyncio")
        for name in TETHER_CORES:
            t = per.get(name)
            if t is not None and a is not None:
                verdict = "faster" if t <= a else "SLOWER"
                out.append(f"- {w}: {name} vs raw asyncio ×{a / t:.2f} ({verdict})")
    for w in MESSAGING:
        per = res["medians"].get(w, {})
        t = per.get("tether")
        for peer, need in (("pykka", 10), ("thespian", 5)):
            p = per.get(peer)
            if t is not None and p is not None:
                verdict = "met" if p / t >= need else "short"
                out.append(f"- {w}: tether vs {peer} ×{p / t:.1f} (target ≥{need}×: {verdict})")
    return out


def plot(res: dict[str, Any], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    names, ratios = [], []
    for w, per in res["medians"].items():
        r = _ratio(per.get("tether"), per.get("erlang1"))
        if r is not None:
            names.append(w)
            ratios.append(r)
    fig, ax = plt.subplots(figsize=(9, 4.5))
    ax.barh(names, ratios, color="#4a7ab5")
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("tether time ÷ Erlang/OTP (+S 1) time (log scale; 1 = parity)")
    ax.set_title(f"tether vs the BEAM, {res['date']}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return True


def write_results(res: dict[str, Any], path: str, command: str) -> None:
    """Write the markdown report (RESULTS.md) and its plot beside it."""
    png = Path(path).with_name("ratios.png")
    plotted = plot(res, png)
    md = [
        "# Benchmark results",
        "",
        f"- Date: {res['date']}; machine: {res['machine']}; Python {res['python']}; "
        f"Erlang/OTP {res['otp']}",
        f"- Command: `{command}`; {res['reps']} repetitions, interleaved, median shown",
        "- Figures: µs per operation (B per process for idle_memory); ÷erlang1 is "
        "tether's figure (its native core) divided by Erlang with one scheduler, ÷erlang "
        "by Erlang's default; pure÷erlang1 is the pure-Python core's (tether_pure) "
        "divided by Erlang with one scheduler",
        *([f"- Load: {res['load']}"] if res.get("load") else []),
        "",
        *table(res),
        "",
        "## Against the Python peers",
        "",
        *peer_checks(res),
    ]
    if plotted:
        md += ["", f"![tether ÷ Erlang]({png.name})"]
    on_uvloop = uvloop_table(res)
    if on_uvloop:
        md += [
            "",
            "## On uvloop",
            "",
            "tether_uvloop is tether's native core and asyncio_uvloop the raw-asyncio "
            "baseline, each run on uvloop instead of asyncio's own event loop (on "
            "dist_ping_pong both nodes are); the columns beside them are the same "
            "run's figures on asyncio's loop.  The last column is how many times "
            "faster tether is than raw asyncio when both are on uvloop.",
            "",
            *on_uvloop,
        ]
    Path(path).write_text("\n".join(md) + "\n")


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, for CI's smoke check")
    ap.add_argument("--reps", type=int, default=None, help="repetitions (default 3, quick 1)")
    ap.add_argument("--only", help="comma-separated workloads")
    ap.add_argument("--results", help="also write this markdown file (RESULTS.md)")
    ap.add_argument(
        "--from-json",
        metavar="RESULTS_JSON",
        help="measure nothing: print (and with --results write) the tables of an earlier "
        "run's results.json",
    )
    ns = ap.parse_args(argv)
    reps = ns.reps or (1 if ns.quick else 3)
    if ns.from_json:
        res = json.loads(Path(ns.from_json).read_text())
    else:
        res = run(ns.quick, reps, ns.only.split(",") if ns.only else None)
        (HERE / "out").mkdir(exist_ok=True)
        (HERE / "out" / "results.json").write_text(json.dumps(res, indent=2))
    print("\n".join(table(res)))
    print("\n".join(uvloop_table(res)))
    print("\n".join(peer_checks(res)))
    if res["skipped"]:
        print("skipped (not installed): " + ", ".join(res["skipped"]))
    if ns.results:
        command = (
            res.get("command") or ("uv run --group bench python -m bench " + " ".join(argv)).strip()
        )
        write_results(res, ns.results, command)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
