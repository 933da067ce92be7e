"""Conformance harness, tether side: the twin of ``T.exs``.

Formats values exactly as ``T.fmt`` does in Elixir (a ``str`` prints as an atom,
tuples and records as ``{a, b}``), so a scenario and its Elixir twin print the same
trace.  ``run`` starts the scenario's caller as its own process and reports how it
ended, as ``T.run`` does.
"""

from __future__ import annotations

import json
import types
from collections.abc import Callable, Coroutine
from typing import Any

import tether
from tether import Atom, Down, Exit, NoProcError, Pid, Port, Process, Ref, receive

# Behaviour exit reasons name the call as ("GenServer.call", server, request, timeout);
# Elixir's is {GenServer, :call, [server, request, timeout_ms]}.
_MFAS = {"GenServer.call", "GenServer.stop", "Task.await"}


def _timeout_ms(t: Any) -> Any:
    return Atom("infinity") if t is None else round(t * 1000)


def fmt(x: Any) -> str:
    if isinstance(x, Pid | Ref | Port):
        return repr(x)
    if isinstance(x, bytes):
        return json.dumps(x.decode())  # a binary, as inspect shows a printable one
    if isinstance(x, tether.Task):
        return "<task>"
    if isinstance(x, types.FunctionType | types.MethodType):
        return "<fun>"
    if type(x) is tuple and x and isinstance(x[0], str) and x[0] in _MFAS:
        mod, fun = x[0].split(".")
        *args, timeout = x[1:]
        inner = ", ".join(fmt(a) for a in [*args, _timeout_ms(timeout)])
        return f"{{{mod}, {fmt(fun)}, [{inner}]}}"
    if isinstance(x, dict):
        items = sorted(x.items(), key=lambda kv: str(kv[0]))
        return "%{" + ", ".join(f"{fmt(k)} => {fmt(v)}" for k, v in items) + "}"
    if x is None:
        return "nil"
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, str):
        return repr(Atom(x))
    if isinstance(x, int):
        return str(x)
    if isinstance(x, ZeroDivisionError):
        return "<raise ArithmeticError>"
    if isinstance(x, NoProcError):
        return "<raise noproc>"
    if isinstance(x, BaseException):
        return f"<raise {type(x).__name__} {json.dumps(str(x))}>"
    if isinstance(x, Down):
        return fmt((Atom("DOWN"), x.ref, x.type, x.pid, x.reason))
    if isinstance(x, Exit):
        return fmt((Atom("EXIT"), x.pid, x.reason))
    if isinstance(x, tuple):
        return "{" + ", ".join(fmt(v) for v in x) + "}"
    if isinstance(x, list):
        return "[" + ", ".join(fmt(v) for v in x) + "]"
    raise TypeError(f"conformance fmt: no format for {x!r}")


async def wait_forever() -> None:
    await Process.sleep(None)


async def forwarder(top: Pid) -> None:
    """Traps exits, says ready, then forwards every message as ("got", m)."""
    Process.flag("trap_exit", True)
    tether.send(top, ("ready", tether.self()))
    while True:
        tether.send(top, ("got", await receive()))


async def start_forwarder() -> Pid:
    pid = tether.spawn(forwarder, tether.self())
    await receive(("ready", pid))
    return pid


class Trace:
    """Collects the lines a scenario prints."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def out(self, label: str, x: Any) -> None:
        self.lines.append(f"{label} {fmt(x)}")

    def puts(self, text: str) -> None:
        self.lines.append(text)

    async def flush(self) -> None:
        while True:
            try:
                m = await receive(timeout=0)
            except TimeoutError:
                return
            self.out("msg", m)

    @staticmethod
    def info(pid: Pid, item: str) -> Any:
        return Process.info(pid, item)

    async def run(self, fun: Callable[[], Coroutine[Any, Any, Any]]) -> None:
        pid, ref = tether.spawn_monitor(fun)
        down = await receive(Down(ref, tether.ANY, pid, tether.ANY))
        self.out("caller_exit", down.reason)

    @staticmethod
    async def settle() -> None:
        await Process.sleep(0.05)
