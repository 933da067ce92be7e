"""``tether top``: the observer in the terminal, ``observer_cli``'s way.

A tether process samples the same :class:`~tether.observer._model.Model` as
the web page and redraws a Rich renderable in place every ``interval``
seconds: a header with the node's figures, then one view: the process table
(top rows by the sort key), the supervision tree, or the log.  Rich (a
well-kept library, drawing only: no full-screen framework) does the tables and
the tree; keys come from the terminal in cbreak mode through the event loop
(``loop.add_reader``), so the process waits for a key or the next tick at once.

Keys: ``1`` processes, ``2`` tree, ``3`` log; sort by ``r`` steps (reductions),
``m`` memory, ``b`` mailbox, ``n`` messages received; ``q`` quits.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import termios
import tty
from typing import Any, Final

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from .._runtime._format import inspect
from ._model import Model
from ._source import LocalSource, Source, connect

_SORTS: Final = {"r": "reductions", "m": "memory", "b": "message_queue_len", "n": "received"}
_VIEWS: Final = {"1": "processes", "2": "tree", "3": "log"}


def _bytes(n: Any) -> str:
    if n is None:
        return "-"
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def _num(n: Any, digits: int = 0) -> str:
    return "n/a" if n is None else f"{n:,.{digits}f}"


class Top:
    """One terminal view of a :class:`Model` (see the module docstring)."""

    def __init__(self, model: Model, sort: str = "reductions", view: str = "processes") -> None:
        self.model = model
        self.sort = sort
        self.view = view

    def header(self) -> Table:
        o = self.model.overview or {}
        r = o.get("rates") or {}
        util = r.get("utilisation")
        ls = o.get("longest_step")
        grid = Table.grid(padding=(0, 3))
        grid.add_row(
            Text(f"tether top  {o.get('node', '?')}", style="bold magenta"),
            Text(str(o.get("system", "")), style="dim"),
            Text(f"view: {self.view}  sort: {self.sort}", style="dim"),
        )
        grid.add_row(
            f"processes {o.get('processes', '-')}   run queue {o.get('run_queue', '-')}",
            f"memory {_bytes((o.get('memory') or {}).get('total'))}",
            f"scheduler {'-' if util is None else f'{util * 100:.1f} %'}",
        )
        msgs = _num(r.get("messages_rate"), 1) if o.get("messages") is not None else "n/a"
        spawns = _num(r.get("spawns_rate"), 1) if o.get("spawns") is not None else "n/a"
        grid.add_row(
            f"messages/s {msgs}",
            f"spawns/s {spawns}",
            "longest step " + (f"{ls['seconds'] * 1000:.0f} ms {ls['pid']!r}" if ls else "-"),
        )
        return grid

    def processes(self, rows: int) -> Table:
        table = Table(expand=True, box=None, header_style="bold reverse")
        for col, justify in (
            ("Pid", "left"),
            ("Name or initial call", "left"),
            ("Current function", "left"),
            ("Status", "left"),
            ("MsgQ", "right"),
            ("Memory", "right"),
            ("Steps", "right"),
            ("Received", "right"),
        ):
            table.add_column(col, justify=justify, no_wrap=True)  # type: ignore[arg-type]
        procs = self.model.processes.get("rows", [])
        key = self.sort
        procs = sorted(procs, key=lambda p: p.get(key) or 0, reverse=True)
        for p in procs[:rows]:
            table.add_row(
                repr(p["pid"]),
                p["name"] or p["initial_call"],
                p["current"],
                p["status"],
                _num(p["message_queue_len"]),
                _bytes(p["memory"]),
                _num(p["reductions"]),
                _num(p["received"]),
            )
        return table

    def tree(self) -> Tree | Text:
        roots = self.model.tree
        if not roots:
            return Text("No supervisors are running.")
        top = Tree(Text("supervision tree", style="bold"))

        def add(parent: Tree, node: dict[str, Any]) -> None:
            label = Text()
            label.append(
                f"{node['type']} ", style="magenta" if node["type"] != "worker" else "cyan"
            )
            label.append(f"{node.get('name') or node['id']} ")
            label.append(repr(node["pid"]) if node.get("pid") is not None else node["status"])
            if node["type"] == "supervisor" and node.get("strategy"):
                label.append(
                    f"  {node['strategy']} max {node['intensity']} in {node['period']} s,"
                    f" restarts {node.get('restarts', 0)}",
                    style="dim",
                )
            if node.get("restarted"):
                label.append("  restarted", style="bold yellow")
            branch = parent.add(label)
            for child in node.get("children", []):
                add(branch, child)

        for root in roots:
            add(top, root)
        return top

    def log(self, rows: int) -> Table:
        table = Table(expand=True, box=None, show_header=False)
        table.add_column("entry")
        for e in list(self.model.events)[-rows:]:
            style = {"error": "red", "warning": "yellow"}.get(e["level"], "")
            table.add_row(Text(e["text"].splitlines()[0], style=style))
        return table

    def render(self, height: int) -> Group:
        rows = max(5, height - 8)
        if self.view == "tree":
            body: Any = self.tree()
        elif self.view == "log":
            body = self.log(rows)
        else:
            body = self.processes(rows)
        keys = Text(
            "1 processes  2 tree  3 log   sort: r steps  m memory  b mailbox  n received   q quit",
            style="dim",
        )
        return Group(self.header(), Text(""), body, keys)

    def key(self, ch: str) -> bool:
        """Apply a key; False to quit."""
        if ch in ("q", "\x03", "\x04"):
            return False
        if ch in _SORTS:
            self.sort = _SORTS[ch]
        elif ch in _VIEWS:
            self.view = _VIEWS[ch]
        return True


async def top_main(
    node: str | None,
    interval: float,
    sort: str,
    view: str,
    once: bool,
    console: Console | None = None,
) -> int:
    """Run ``tether top`` in the calling process until ``q`` (or once); the exit
    status (1 if ``node`` cannot be reached)."""
    try:
        source: Source = LocalSource() if node is None else await connect(node)
    except ConnectionError as e:
        print(f"tether top: {e}", file=sys.stderr)
        return 1
    model = Model(source)
    view_ = Top(model, sort, view)
    con = console or Console()
    if once:
        await model.sample()
        con.print(view_.render(con.size.height))
        return 0
    keys: asyncio.Queue[str] = asyncio.Queue()
    loop = asyncio.get_running_loop()
    fd = sys.stdin.fileno() if sys.stdin.isatty() else None
    saved = None
    if fd is not None:
        saved = termios.tcgetattr(fd)
        tty.setcbreak(fd)
        loop.add_reader(fd, lambda: keys.put_nowait(os.read(fd, 1).decode(errors="ignore")))
    try:
        with Live(console=con, auto_refresh=False, screen=False) as live:
            running = True
            while running:
                try:
                    await model.sample(view_.sort if view_.sort != "received" else "reductions")
                except Exception as e:  # the node went away, a call timed out
                    model.add_event("warning", "observer", f"sampling failed: {inspect(e)}")
                live.update(view_.render(con.size.height), refresh=True)
                with contextlib.suppress(TimeoutError):
                    ch = await asyncio.wait_for(keys.get(), timeout=interval)
                    running = view_.key(ch)
                    while running and not keys.empty():
                        running = view_.key(keys.get_nowait())
    finally:
        if fd is not None:
            loop.remove_reader(fd)
            if saved is not None:
                termios.tcsetattr(fd, termios.TCSADRAIN, saved)
    return 0
