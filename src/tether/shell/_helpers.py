"""IEx's helpers for the shell: flush, pid, i, v, h, processes.

The shell puts these, with all of ``tether``'s names, in the prompt's *builtins*
(see ``tether.shell``), so a variable of the same name hides a helper the way
``list = [1]`` hides Python's ``list``, and ``del`` brings it back.
"""

from __future__ import annotations

import builtins
import contextlib
import inspect
from typing import Any, Final

import tether
from tether import Process, receive
from tether._runtime._api import REFERENCE, node_state

# "No value yet": v() and i() before any expression was evaluated.
NOTHING: Final = object()


class _Last:
    """The value of the last expression evaluated at the prompt (IEx's ``v()``)."""

    value: Any = NOTHING


def _last() -> _Last:
    # Node-owned, so it goes with the shell's node (and survives evaluator restarts).
    return node_state("tether.shell.last", _Last)


def remember(value: Any) -> None:
    """Record ``value`` as the last expression's value (called by the evaluator)."""
    _last().value = value


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
    or a registered name: ``pid("tether_shell")`` (I-7).

    Raises:
        ValueError: no process is registered under the name, or bad numbers/text.
        TypeError: neither one string nor three integers.
    """
    if isinstance(a, str) and b is None and not a[:1].isdigit() and not a.startswith("#PID<"):
        found = Process.whereis(a)
        if found is None:
            raise ValueError(f"pid: no process is registered as {a!r}")
        return found
    return tether.pid(a, b, c)


def v() -> Any:
    """The value of the last expression typed at the prompt: IEx's ``v/0``.

    ``None`` counts (it is printed as ``None``); statements such as ``x = 1`` have no
    value and leave it unchanged.

    Raises:
        LookupError: no expression has been evaluated yet.
    """
    value = _last().value
    if value is NOTHING:
        raise LookupError("v: no expression has been evaluated yet")
    return value


def i(term: Any = NOTHING) -> None:
    """Print information about ``term``: IEx's ``i/1``.

    For a pid, ``Process.info`` (registered name, status, links, monitors, queue,
    ...); for any other value, its repr and its type.  ``i()`` with no argument is
    about the last value (``v()``), or about ``self()`` before there is one.
    """
    if term is NOTHING:
        term = _last().value
        if term is NOTHING:
            term = tether.self()
    if isinstance(term, tether.Pid):
        _process_info(term)
        return
    kind = type(term)
    module = kind.__module__.split("._")[0]  # tether._runtime._types -> tether
    where = "" if module in ("builtins", "__tether__") else f"{module}."
    print(f"Term\n  {term!r}\nData type\n  {where}{kind.__qualname__}")


def _process_info(target: tether.Pid) -> None:
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


def h(obj: Any = NOTHING) -> None:
    """Show help: ``h()`` for the shell, ``h(spawn_link)`` for a name's docs (IEx's ``h``)."""
    if obj is NOTHING:
        print(_HELP)
        return
    with contextlib.suppress(TypeError):  # (an unhashable obj is no C function)
        obj = REFERENCE.get(obj, obj)  # a native core's C function: its reference
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
  pid(0, 999, 0)         build a pid; pid("0.999.0") and pid("registered_name") too
  i(term)                information about a pid or any value; i() is about v()
  v()                    the value of the last expression
  processes()            a table of the live processes
  h(name)                help for a name

Every value is printed, None too (IEx prints nil); print(...) and these helpers
print only their own output.  A bare expression whose value is awaitable is
awaited for you: receive() and flush() work as typed in IEx.  Atoms are strings:
IEx's :hello is "hello" here (or tether.Atom("hello")).
A variable named like a helper (pid = pid(...)) hides it; del pid brings it back.
When the shell process dies (a linked crash, a kill) a new one starts with the
same variables.  Ctrl-C interrupts the running input; Ctrl-D or exit() leaves."""

# The helpers that print their own output: a bare call of one shows no value
# after it, as IEx's i/1 and h/1 return IEx.dont_display_result().
PRINTERS: Final = frozenset({builtins.print, flush, i, h, processes})


def helpers() -> dict[str, Any]:
    """The names the shell adds to its namespace."""
    return {"flush": flush, "pid": pid, "i": i, "v": v, "h": h, "processes": processes}
