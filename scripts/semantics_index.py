"""Write docs/semantics.md: every rule of docs/rules.md §1–§9 and §11, and the tests that prove it.

``python scripts/semantics_index.py`` regenerates it; ``tests/test_docs.py`` fails
when it is stale.  A test cites a rule by its name (``test_m7_…``, ``test_row5_…``)
or a conformance pair by its file name (``m07_m09_…``, ``r05_…``).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

RULES: list[tuple[str, str, str]] = [
    *[("row", str(i), f"§1.1 row {i}") for i in range(1, 15)],
    ("e", "1", "E-1 :shutdown is not special at the signal level"),
    ("e", "2", "E-2 :kill becomes :killed for links"),
    ("e", "3", "E-3 exit/1 is catchable, exit/2 is not"),
    ("e", "4", "E-4 Process.exit returns true; non-pid is badarg"),
    ("e", "5", "E-5 the first exit signal decides the reason"),
    ("e", "6", "E-6 signals arrive at any point; no timeout fires"),
    ("e", "7", "E-7 trap_exit returns the old value; read at receipt"),
    ("e", "8", "E-8 returning is :normal"),
    ("e", "9", "E-9 unlinked processes are isolated"),
    ("e", "10", "E-10 name released before DOWN/EXIT"),
    ("l", "1", "L-1 links are bidirectional"),
    ("l", "2", "L-2 links are idempotent"),
    ("l", "3", "L-3 spawn_link is atomic"),
    ("l", "4", "L-4 link to a dead pid: raise or {EXIT, pid, noproc}"),
    ("l", "5", "L-5 link(self()) is a no-op"),
    ("l", "6", "L-6 link to a non-pid is badarg"),
    ("l", "7", "L-7 unlink returns true, removes both sides"),
    ("l", "8", "L-8 the unlink guarantee"),
    ("l", "9", "L-9 after unlink a crash spares the caller"),
    ("l", "10", "L-10 a link is removed when either side dies"),
    ("l", "11", "L-11 reasons travel unchanged along chains"),
    ("m", "1", "M-1 monitors are unidirectional"),
    ("m", "2", "M-2 the DOWN message"),
    ("m", "3", "M-3 each monitor is independent"),
    ("m", "4", "M-4 monitor of a dead pid: noproc at once"),
    ("m", "5", "M-5 demonitor returns true"),
    ("m", "6", "M-6 the demonitor guarantee"),
    ("m", "7", "M-7 demonitor flush"),
    ("m", "8", "M-8 demonitor info"),
    ("m", "9", "M-9 demonitor flush + info"),
    ("m", "10", "M-10 badarg cases"),
    ("m", "11", "M-11 monitor by registered name"),
    ("m", "12", "M-12 monitor(self()) creates nothing"),
    ("m", "13", "M-13 a monitor fires once"),
    ("m", "14", "M-14 spawn_monitor is atomic"),
    ("m", "15", "M-15 link and monitor both report"),
    ("m", "16", "M-16 aliases"),
    *[("s", str(i), f"S-{i}") for i in range(1, 12)],
    ("pi", "1", "PI-1 alive(self()) is true"),
    ("pi", "2", "PI-2 register errors"),
    ("pi", "3", "PI-3 names are released at death"),
    ("pi", "4", "PI-4 Process.list"),
    ("log", "1", "LOG-1 what a plain process logs"),
    ("log", "2", "LOG-2 log ordering"),
    ("log", "7", "LOG-7 format_exit"),
    ("log", "3", "LOG-3 GenServer crash report"),
    ("log", "4", "LOG-4 Task crash report"),
    ("log", "5", "LOG-5 supervisor reports"),
    ("log", "6", "LOG-6 unexpected message in handle_info"),
    *[("g", str(i), f"G-{i}") for i in range(1, 22)],
    *[("su", str(i), f"SU-{i}") for i in range(1, 11)],
    *[("t", str(i), f"T-{i}") for i in range(1, 9)],
    ("a", "1", "A-1 Agent"),
    ("d", "1", "D-1 a link to a lost node: noconnection"),
    ("d", "2", "D-2 a monitor on a lost node: DOWN noconnection"),
    ("d", "3", "D-3 link/monitor to a node already down: noconnection"),
    ("d", "4", "D-4 Node.monitor: one nodedown per monitor"),
    ("d", "5", "D-5 GenServer.call exits {nodedown, node}"),
    ("d", "6", "D-6 signals between two nodes are ordered per pair"),
]


def tests_for(kind: str, num: str) -> list[str]:
    found = []
    # A test may cite several rules: test_d1_d2_noconnection_...
    name_re = re.compile(rf"def (test_(?:[a-z]+\d+_)*{kind}{num}_\w+)")
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        rel = path.relative_to(ROOT).as_posix()
        for m in name_re.finditer(path.read_text()):
            found.append(f"`{rel}::{m.group(1)}`")
    prefix = {"row": "r", "d": "dist"}.get(kind, kind)
    pat = re.compile(rf"^{prefix}0?{num}(_|$)|^{prefix}\d+_{prefix}0?{num}_")
    for path in sorted((ROOT / "tests/conformance/scenarios").glob("*.exs")):
        if pat.match(path.stem):
            found.append(f"conformance `{path.stem}`")
    return found


def rule_link(kind: str, num: str, title: str) -> str:
    """The rule's title, its ID linked to where docs/rules.md states the rule."""
    if kind == "row":  # the rows of §1.1's decision table
        return f"[{title}](rules.md#11-the-decision-table)"
    rule_id, _, rest = title.partition(" ")
    return f"[{rule_id}](rules.md#{rule_id.lower()}) {rest}".rstrip()


def render() -> str:
    lines = [
        "# tether's guarantees, and the tests that prove them",
        "",
        "The rules are those of [the rules page](rules.md), sections 1–9 and 11",
        "(distribution; those tests run against real Erlang and Elixir nodes); each",
        "line links the rule and lists the tests named after it and the conformance",
        "pairs (tests/conformance/scenarios: an Elixir script, its tether twin and the",
        "recorded BEAM trace).  Generated by `python scripts/semantics_index.py`.",
        "",
        "Where the BEAM's documentation and the real BEAM disagree, the real BEAM",
        "decided: `demonitor(ref, flush: true, info: true)` on an unknown ref is",
        "`false` on OTP 25 ([M-9](rules.md#m-9)), as `m07_m09_demonitor_flush` records.",
        "",
        "| rule | proved by |",
        "|---|---|",
    ]
    for kind, num, title in RULES:
        tests = tests_for(kind, num)
        proof = "<br>".join(tests) if tests else "**no test**"
        lines.append(f"| {rule_link(kind, num, title)} | {proof} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    (ROOT / "docs" / "semantics.md").write_text(render())
    sys.exit(0)
