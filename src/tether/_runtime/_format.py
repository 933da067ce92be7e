"""Formatting of exit reasons, as Elixir's ``Exception.format_exit/1`` (LOG-7)."""

from __future__ import annotations

import os
import traceback
from typing import Any

from ._types import Atom

__all__ = ["format_exception", "format_exit", "inspect"]

_RUNTIME_DIR = os.path.dirname(os.path.abspath(__file__))

_NOPROC_TEXT = (
    "no process: the process is not alive or there's no process currently associated "
    "with the given name, possibly because its application isn't started"
)

# LOG-7: the atoms that format_exit spells out in words.
_WORDS = {
    "normal": "normal",
    "shutdown": "shutdown",
    "killed": "killed",
    "noproc": _NOPROC_TEXT,
    "timeout": "time out",
    "noconnection": "no connection",
    "calling_self": "process attempted to call itself",
}


def inspect(value: Any) -> str:
    """Show a value the way IEx would for reasons: strings as atoms (``:kaboom``)."""
    if isinstance(value, str):
        return repr(Atom(value))
    if type(value) is tuple:
        inner = ", ".join(inspect(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if type(value) is list:
        return "[" + ", ".join(inspect(v) for v in value) + "]"
    return repr(value)


def format_exception(exc: BaseException, indent: str = "") -> str:
    """``** (ZeroDivisionError) division by zero`` and the stack, one frame a line."""
    head = f"** ({type(exc).__name__}) {exc}"
    lines = [indent + head]
    for fs in traceback.extract_tb(exc.__traceback__)[::-1]:
        if os.path.dirname(fs.filename) == _RUNTIME_DIR:
            continue  # the scheduler's own frames say nothing about the crash
        lines.append(f"{indent}    {fs.filename}:{fs.lineno}: {fs.name}")
    return "\n".join(lines)


def format_exit(reason: Any) -> str:
    """Format an exit reason as ``Exception.format_exit/1`` does (LOG-7).

    ``"normal"`` → ``normal``; ``"kill"`` → ``:kill``; ``"killed"`` → ``killed``;
    ``("shutdown", x)`` → ``shutdown: x``; an exception → ``an exception was raised:``
    followed by ``** (Type) message`` and its stack; ``(reason, (call, *args))`` from a
    behaviour → ``exited in: call(args)`` and ``** (EXIT) <reason>``; anything else is
    inspected (a string shows as an atom).
    """
    if isinstance(reason, str):
        word = _WORDS.get(str(reason))
        return word if word is not None else inspect(reason)
    if isinstance(reason, BaseException):
        return "an exception was raised:\n" + format_exception(reason, indent="    ")
    if type(reason) is tuple and len(reason) == 2:
        tag, detail = reason
        if isinstance(tag, str) and tag == "shutdown":
            return "shutdown: " + inspect(detail)
        if isinstance(tag, str) and tag == "nodedown":
            return f"no connection to {detail}"
        if type(detail) is tuple and detail and isinstance(detail[0], str) and "." in detail[0]:
            call = detail[0]
            args = ", ".join(inspect(a) for a in detail[1:])
            return f"exited in: {call}({args})\n    ** (EXIT) {format_exit(tag)}"
    return inspect(reason)


def crash_head(reason: Any) -> tuple[str, Any]:
    """The ``** (...)`` line of a behaviour's crash report (LOG-3, LOG-4), and the
    ``exc_info`` to log with it (the traceback, for an exception)."""
    if isinstance(reason, BaseException):
        return f"** ({type(reason).__name__}) {reason}", (
            type(reason),
            reason,
            reason.__traceback__,
        )
    return f"** (stop) {inspect(reason)}", None
