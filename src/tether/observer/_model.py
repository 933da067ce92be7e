"""What the observer keeps between samples: rates, the last minutes, restarts, the log.

A :class:`Model` lives in the observer's own process and samples its
:class:`~tether.observer._source.Source` once per tick.  It turns cumulative
counters into rates (per second, over the tick), keeps the last
``HISTORY`` samples for the charts, finds restarts by comparing two trees (a
child of the same supervisor, under the same id, with a new pid), and merges the
node's reports with what it saw itself into one numbered event list.  On a BEAM
node, which keeps no log a peer can read, it monitors the workers of the tree, so
their exits (with the reason) are events too.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any, Final

from .._runtime._api import Process, receive
from .._runtime._format import inspect_reason
from .._runtime._types import ANY, Down, Pid
from ._source import Source

HISTORY: Final = 300  # samples (five minutes at one a second)
EVENTS: Final = 2000
_MAX_MONITORS: Final = 2000


def _rate(now: dict[str, Any], before: dict[str, Any] | None, key: str, dt: float) -> float | None:
    if before is None or dt <= 0:
        return None
    a, b = now.get(key), before.get(key)
    if a is None or b is None:
        return None
    return max(0.0, float(a - b) / dt)


class Model:
    """Samples of one node (see the module docstring).  Call its methods from the
    observer's process."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.history: deque[dict[str, Any]] = deque(maxlen=HISTORY)
        self.overview: dict[str, Any] | None = None
        self.tree: list[dict[str, Any]] = []
        self.processes: dict[str, Any] = {"total": 0, "rows": []}
        self.events: deque[dict[str, Any]] = deque(maxlen=EVENTS)
        self.seq = 0
        self._log_since = 0
        self._children: dict[tuple[Pid, str], Pid] | None = None
        self._restarted: dict[Pid, float] = {}  # new pid -> when seen (for the flash)
        self._watched: dict[Any, tuple[Pid, str]] = {}  # monitor ref -> (pid, what)

    # -- sampling -------------------------------------------------------------------------

    async def sample(self, sort: str = "reductions", limit: int = 2000) -> None:
        """One tick: overview, process table, tree, log."""
        await self.sample_overview()
        self.processes = await self.source.processes(sort, limit)
        await self.sample_tree()
        await self.sample_logs()

    async def sample_overview(self) -> dict[str, Any]:
        now = await self.source.overview()
        before = self.overview
        dt = now["clock"] - before["clock"] if before is not None else 0.0
        utilisation = _rate(now, before, "busy", dt)
        point = {
            "time": time.time(),
            "processes": now["processes"],
            "run_queue": now["run_queue"],
            "memory": now["memory"].get("total"),
            "messages_rate": _rate(now, before, "messages", dt),
            "spawns_rate": _rate(now, before, "spawns", dt),
            "reductions_rate": _rate(now, before, "reductions", dt),
            "utilisation": None if utilisation is None else min(1.0, utilisation),
            # 0 when the node watches for long steps and saw none; None on the BEAM.
            "longest_step": (now.get("longest_step") or {}).get("seconds")
            if now.get("longest_step_ever") is not None and now.get("longest_step")
            else (None if now.get("longest_step_ever") is None else 0.0),
        }
        rates: dict[str, Any] = {}
        before_conns = {c["node"]: c for c in (before or {}).get("connections", [])}
        for conn in now["connections"]:
            was = before_conns.get(conn["node"])
            rates[conn["node"]] = {
                "sent_rate": _rate(conn, was, "sent", dt),
                "received_rate": _rate(conn, was, "received", dt),
            }
        now["rates"] = point
        now["connection_rates"] = rates
        self.overview = now
        self.history.append(point)
        return now

    async def sample_tree(self) -> list[dict[str, Any]]:
        tree = await self.source.tree()
        seen: dict[tuple[Pid, str], Pid] = {}
        stamp = time.time()
        self._walk(tree, None, seen, stamp)
        self._children = seen
        # A restart flashes for three seconds.
        self._restarted = {p: t for p, t in self._restarted.items() if stamp - t < 3}
        self._mark(tree)
        self.tree = tree
        if self.source.kind == "beam":
            await self._watch(seen)
        return tree

    def _walk(
        self,
        nodes: list[dict[str, Any]],
        sup: dict[str, Any] | None,
        seen: dict[tuple[Pid, str], Pid],
        stamp: float,
    ) -> None:
        for node in nodes:
            pid = node.get("pid")
            if sup is not None and isinstance(sup.get("pid"), Pid) and isinstance(pid, Pid):
                key = (sup["pid"], node["id"])
                seen[key] = pid
                old = self._children.get(key) if self._children is not None else None
                if old is not None and old != pid:
                    self._restarted[pid] = stamp
                    self.add_event(
                        "info",
                        "restart",
                        f"Supervisor {sup['pid']!r} restarted child {node['id']}: "
                        f"{old!r} -> {pid!r}",
                        pid,
                    )
            self._walk(node.get("children", []), node, seen, stamp)

    def _mark(self, nodes: list[dict[str, Any]]) -> None:
        for node in nodes:
            node["restarted"] = node.get("pid") in self._restarted
            self._mark(node.get("children", []))

    async def _watch(self, children: dict[tuple[Pid, str], Pid]) -> None:
        """BEAM nodes: monitor the tree's processes; their DOWNs become events."""
        watched = {pid for pid, _ in self._watched.values()}
        for (sup, cid), pid in children.items():
            if pid not in watched and len(self._watched) < _MAX_MONITORS:
                ref = Process.monitor(pid)
                self._watched[ref] = (pid, f"child {cid} of Supervisor {sup!r}")
        while True:
            try:
                down = await receive(Down(ANY, ANY, ANY, ANY), timeout=0)
            except TimeoutError:
                break
            entry = self._watched.pop(down.ref, None)
            if entry is not None:
                pid, what = entry
                level = "info" if down.reason in ("normal", "shutdown") else "error"
                self.add_event(
                    level,
                    "exit",
                    f"Process {pid!r} ({what}) exited: {inspect_reason(down.reason)}",
                    pid,
                )

    async def sample_logs(self) -> None:
        got = await self.source.logs(self._log_since)
        self._log_since = got["next"]
        for e in got["entries"]:
            self.add_event(e["level"], "report", e["text"], e.get("pid"), e.get("time"))

    def add_event(
        self, level: str, kind: str, text: str, pid: Any = None, when: float | None = None
    ) -> None:
        self.seq += 1
        self.events.append(
            {
                "seq": self.seq,
                "time": time.time() if when is None else when,
                "level": level,
                "kind": kind,
                "text": text,
                "pid": pid,
            }
        )

    def events_since(self, seq: int) -> list[dict[str, Any]]:
        return [e for e in self.events if e["seq"] > seq]
