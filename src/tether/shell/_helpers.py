"""IEx's helpers for the shell: flush, pid, i, h, processes."""

from __future__ import annotations

import inspect
from typing import Any

import tether
from tether import Process, receive


async def flush() -> None:
    """Print every message in the shell's mailbox, in order, and remove them (I-6).

    IEx's ``flush/0``.  Prints nothing when the mailbox is empty.
    """
    while True:
        try:
            msg = await receive(timeout=0)
        except TimeoutError:
            return
        print(repr(msg))


def pid(a: int | str, b: int | None = None, c: int | None = None) -> tether.Pid:
    """IEx's ``pid/1,3``: ``pid(0, 999, 0)``, ``pid("0.999.0")``, ``pid("#PID<0.1.0>")``,
    or a registered name: ``pid("tether_shell")`` (I-7)."""
    if isinstance(a, str) and b is None and not a[:1].isdigit() and not a.startswith("#PID<"):
        found = Process.whereis(a)
        if found is None:
            raise ValueError(f"pid: no process is registered as {a!r}")
        return found
    return tether.pid(a, b, c)


def i(target: tether.Pid) -> None:
    """Pretty-print ``Process.info(pid)`` (IEx's ``i/1`` for a pid)."""
    info = Process.info(target, [
        "registered_name", "status", "initial_call", "current_function",
        "message_queue_len", "links", "monitors", "monitored_by", "trap_exit", "memory",
    ])  # fmt: skip
    if info is None:
        print(f"{target!r} is not alive")
        return
    print(f"Process {target!r}")
    for key, value in info.items():
        print(f"  {key}: {value!r}")


def h(obj: Any = None) -> None:
    """Show help: ``h()`` for the shell, ``h(spawn_link)`` for a name's docs."""
    if obj is None:
        print(_HELP)
        return
    doc = inspect.getdoc(obj) or "(no documentation)"
    name = getattr(obj, "__qualname__", repr(obj))
    print(f"{name}\n\n{doc}")


def processes() -> None:
    """A table of the live processes: pid, name, status, queue, where it waits."""
    rows = []
    for p in Process.list():
        info = Process.info(
            p, ["registered_name", "status", "message_queue_len", "current_function"]
        )
        if info is None:
            continue
        mod, fun, line = info["current_function"]
        rows.append(
            (repr(p), info["registered_name"] or "", str(info["status"]),
             str(info["message_queue_len"]), f"{fun} ({mod}:{line})")
        )  # fmt: skip
    header = ("PID", "NAME", "STATUS", "QUEUE", "CURRENT FUNCTION")
    widths = [max(len(r[k]) for r in [header, *rows]) for k in range(4)]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row[:4], widths, strict=True)), row[4])


_HELP = """tether shell: IEx for Python.  Python syntax, top-level await.

  self()                 this shell's pid (the evaluator process)
  spawn, spawn_link, spawn_monitor, send, receive, Process, GenServer, Supervisor...
  flush()                print and remove every message in the shell's mailbox
  pid(0, 999, 0)         build a pid; pid("0.999.0") too
  i(pid)                 information about a process
  processes()            a table of the live processes
  h(name)                help for a name

A bare expression that evaluates to a coroutine is awaited for you.
When the shell process dies (a linked crash, a kill) a new one starts with the
same variables.  Ctrl-C interrupts the running input; Ctrl-D or exit() leaves."""


def helpers() -> dict[str, Any]:
    """The names the shell adds to its namespace."""
    return {"flush": flush, "pid": pid, "i": i, "h": h, "processes": processes}
