"""How reports show values and exit reasons: ``inspect`` and ``format_exit`` (LOG-7).

Every report writer (a process that raised, LOG-1; a GenServer, LOG-3; a Task,
LOG-4; a Supervisor, LOG-5) builds its text with these functions, and a report
must never kill the process writing it: a supervisor that cannot print its
child's exit reason would die of it.  So every function here is **total**: it
returns a string for any value, whatever the value does.

Design
------
* Totality.  Only the exact built-in containers are walked (through the base
  class's own iterators, never an override); every other object is shown with
  its ``repr``, called inside ``try``: a ``__repr__`` or ``__str__`` that raises
  an ``Exception`` shows as ``<T object (repr raised E)>``.  ``BaseException``\\ s
  that are not ``Exception`` (an exit signal thrown at the process, a
  ``KeyboardInterrupt``) are not swallowed: they belong to the process, not to
  the report.
* Bounds, as Erlang's ``~P`` and Elixir's ``Inspect.Opts`` bound a term, so the
  work and the text are bounded whatever the size of the value:

  - ``LIMIT`` (50) items of one list, tuple, dict or set; more show as ``...``
    (Elixir's ``:limit``);
  - ``PRINTABLE_LIMIT`` (4096) characters of one string, bytes, repr or
    exception message; more show as ``...`` (Elixir's ``:printable_limit``);
  - ``DEPTH`` (20) levels of nesting; a deeper container shows as ``...``
    (Erlang's ``~P`` depth);
  - ``CHARS`` (8192) characters of one inspected value: the rest is cut and
    ``" (truncated)"`` added (Elixir's Logger ``:truncate``);
  - an int of more than about 4,200 digits shows as ``<int of N digits>``
    (CPython refuses to print ints over 4,300 digits);
  - ``FRAMES`` (20) stack frames of one exception, innermost first, then
    ``... (N more frames)``.

  A container that contains itself shows the repeat as ``[...]``, ``(...)`` or
  ``{...}``, as Python's ``repr`` does.
* Strings.  tether writes atoms as ``str`` by convention (``tether.exit("boom")``,
  ``Process.exit(pid, "kill")``), and values are ``str`` too.  The rule:

  - a :class:`tether.Atom` always shows as an atom (``:ok``), and so do the
    runtime's own atoms, which are ``Atom`` values;
  - **data** (messages, states, call and task arguments, values inside a reason)
    shows a ``str`` as an Elixir string: ``"/items/7.json"``;
  - a **reason**: a whole ``str`` reason is an atom (``:boom``), as distribution
    sends it.  A ``str`` *directly* inside a reason tuple is an atom when it is a
    bare word, as an Elixir atom would be written (``db_down``, ``EXIT``: the
    tag and fields of ``("shutdown", "db_down")`` give ``shutdown: :db_down``),
    and a string otherwise (``("http_error", "/items/7.json")`` gives
    ``(:http_error, "/items/7.json")``).  Anything nested deeper is data.  Write
    ``tether.Atom`` to make a field an atom whatever it reads;
  - a **name** (a registered name, a child id, the server a ``GenServer.call``
    went to): a ``str`` is an atom, as names are atoms on the BEAM.
"""

from __future__ import annotations

import itertools
import os
import traceback
from collections.abc import Callable, Iterable
from typing import Any, Final

from ._types import _PLAIN_ATOM, Atom, Pid, Ref, _Record

__all__ = [
    "crash_head",
    "describe_callable",
    "format_exception",
    "format_exit",
    "inspect",
    "inspect_name",
    "inspect_reason",
]

LIMIT: Final = 50
PRINTABLE_LIMIT: Final = 4096
DEPTH: Final = 20
CHARS: Final = 8192
FRAMES: Final = 20
# Above this many bits an int has more than ~4,214 decimal digits: CPython's
# str() would raise (sys.int_max_str_digits, 4300) or, with the limit lifted,
# take quadratic time.
_INT_BITS: Final = 14_000

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

# Elixir's escapes inside a string; other control characters as \xHH.
_ESCAPES: dict[int, str] = {c: f"\\x{c:02X}" for c in (*range(0x20), 0x7F)}
_ESCAPES.update(
    {
        ord("\\"): "\\\\",
        ord('"'): '\\"',
        ord("\n"): "\\n",
        ord("\r"): "\\r",
        ord("\t"): "\\t",
        ord("\x1b"): "\\e",
        ord("\x00"): "\\0",
        ord("\a"): "\\a",
        ord("\b"): "\\b",
        ord("\f"): "\\f",
        ord("\v"): "\\v",
    }
)


class _Full(Exception):
    """The output reached ``CHARS``: stop walking the value."""


class _Out:
    """The text being built, with what is left of the ``CHARS`` budget.

    Invariant: ``left`` is ``CHARS`` minus the length of ``parts``; once it is
    negative, ``put`` raises ``_Full`` and nothing more is walked, so the work is
    bounded by the budget and not by the size of the value.
    """

    __slots__ = ("left", "parts")

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.left = CHARS

    def put(self, text: str) -> None:
        self.parts.append(text)
        self.left -= len(text)
        if self.left < 0:
            raise _Full


def _render(write: Callable[[_Out], None], value: Any) -> str:
    out = _Out()
    try:
        write(out)
    except _Full:
        return "".join(out.parts)[:CHARS] + " (truncated)"
    except Exception:  # a bug here must not take a report down: say what we can
        return _unprintable(value, "inspect")
    return "".join(out.parts)


# -- the three ways a value is shown ---------------------------------------------


def inspect(value: Any) -> str:
    """Show ``value`` as data, the way IEx would: a ``str`` as a string
    (``"/items/7.json"``), a :class:`tether.Atom` as an atom (``:ok``), pids and
    refs as ``#PID<…>``; containers in Python's syntax.  Total and bounded (see
    the module docs); Elixir's ``inspect/2``."""
    return _render(lambda out: _data(out, value, 0, set()), value)


def inspect_name(value: Any) -> str:
    """Show a name (a registered name, a child id): a ``str`` as an atom,
    anything else as :func:`inspect` does."""
    if isinstance(value, str):
        return _atom(value)
    return inspect(value)


def inspect_reason(reason: Any) -> str:
    """Show an exit reason as a term: a whole ``str`` reason as an atom, a bare
    word directly inside a reason tuple as an atom; the rest as :func:`inspect`."""
    return _render(lambda out: _reason(out, reason), reason)


def _reason(out: _Out, reason: Any, depth: int = 0, active: set[int] | None = None) -> None:
    active = set() if active is None else active
    if isinstance(reason, str):
        out.put(_atom(reason))
    elif type(reason) is tuple and depth < DEPTH and id(reason) not in active:
        active.add(id(reason))
        try:
            _seq(out, "(", ")", reason, depth + 1, active, _reason_field, one=",")
        finally:
            active.discard(id(reason))
    else:
        _data(out, reason, depth, active)


def _reason_field(out: _Out, value: Any, depth: int, active: set[int]) -> None:
    # A field of a reason tuple: a bare word (db_down, already_started) is an
    # atom written as str; any other str (a path, a sentence) is data.
    if isinstance(value, str) and (isinstance(value, Atom) or _is_word(value)):
        out.put(_atom(value))
    else:
        _data(out, value, depth, active)


def _is_word(text: str) -> bool:
    return len(text) <= PRINTABLE_LIMIT and _PLAIN_ATOM.match(text) is not None


def _field_text(value: Any) -> str:
    """``value`` shown as a field directly inside a reason tuple."""
    return _render(lambda out: _reason_field(out, value, 0, set()), value)


# -- the walk --------------------------------------------------------------------

_Writer = Callable[[_Out, Any, int, set[int]], None]


def _data(out: _Out, v: Any, depth: int, active: set[int]) -> None:
    t = type(v)
    if isinstance(v, str):
        out.put(_atom(v) if isinstance(v, Atom) else _string(str.__str__(v)))
    elif v is None or t is bool or t is float:
        out.put(repr(v))
    elif t is int:
        out.put(_int(v))
    elif t is Pid or isinstance(v, Ref):
        out.put(repr(v))
    elif t is bytes or t is bytearray:
        cut = len(v) > PRINTABLE_LIMIT
        out.put(repr(v[:PRINTABLE_LIMIT]) + ("..." if cut else ""))
    elif t in _CONTAINERS or isinstance(v, tuple | list | dict | set | frozenset | _Record):
        if depth >= DEPTH:
            out.put("...")
        elif id(v) in active:
            out.put(_cycle(v))
        else:
            active.add(id(v))
            try:
                _container(out, v, depth + 1, active)
            finally:
                active.discard(id(v))
    elif isinstance(v, type):
        out.put(_safe(lambda: v.__qualname__, v, "repr"))
    else:
        out.put(_safe(lambda: repr(v), v, "repr"))


_CONTAINERS: Final = (tuple, list, dict, set, frozenset)


def _container(out: _Out, v: Any, depth: int, active: set[int]) -> None:
    # Walk through the base classes' own iterators, so a subclass that overrides
    # __iter__ or items() cannot run code (or raise) inside a report.
    if isinstance(v, _Record):
        names = type(v).__match_args__
        out.put(f"{type(v).__name__}(")
        for i, name in enumerate(names):
            if i:
                out.put(", ")
            field = object.__getattribute__(v, name)
            (_reason if name == "reason" else _data)(out, field, depth, active)
        out.put(")")
    elif isinstance(v, tuple):
        fields = getattr(type(v), "_fields", None)
        if type(v) is not tuple and isinstance(fields, tuple):  # a NamedTuple
            out.put(f"{type(v).__name__}(")
            pairs = zip(fields, tuple.__iter__(v), strict=False)
            _items(out, pairs, depth, active, _field)
            out.put(")")
        else:
            _seq(out, "(", ")", v, depth, active, _data, one=",")
    elif isinstance(v, list):
        _seq(out, "[", "]", v, depth, active, _data)
    elif isinstance(v, dict):
        out.put("{")
        _items(out, dict.items(v), depth, active, _pair)
        out.put("}")
    elif isinstance(v, frozenset):
        if not frozenset.__len__(v):
            out.put("frozenset()")
            return
        out.put("frozenset({")
        _items(out, frozenset.__iter__(v), depth, active, _data)
        out.put("})")
    else:  # set
        if not set.__len__(v):
            out.put("set()")
            return
        out.put("{")
        _items(out, set.__iter__(v), depth, active, _data)
        out.put("}")


def _seq(
    out: _Out,
    open_: str,
    close: str,
    v: Any,
    depth: int,
    active: set[int],
    write: _Writer,
    one: str = "",
) -> None:
    out.put(open_)
    n = _items(
        out,
        (list.__iter__ if isinstance(v, list) else tuple.__iter__)(v),  # pyright: ignore[reportArgumentType] - a list or a tuple
        depth,
        active,
        write,
    )
    if n == 1:
        out.put(one)
    out.put(close)


def _items(out: _Out, items: Iterable[Any], depth: int, active: set[int], write: _Writer) -> int:
    """Write up to ``LIMIT`` items, comma-separated, then ``...``; return how many."""
    n = 0
    for item in itertools.islice(items, LIMIT + 1):
        if n:
            out.put(", ")
        if n == LIMIT:
            out.put("...")
            break
        write(out, item, depth, active)
        n += 1
    return n


def _pair(out: _Out, kv: tuple[Any, Any], depth: int, active: set[int]) -> None:
    _data(out, kv[0], depth, active)
    out.put(": ")
    _data(out, kv[1], depth, active)


def _field(out: _Out, kv: tuple[Any, Any], depth: int, active: set[int]) -> None:
    out.put(f"{kv[0]}=")
    _data(out, kv[1], depth, active)


def _cycle(v: Any) -> str:
    if isinstance(v, list):
        return "[...]"
    if isinstance(v, tuple | _Record):
        return "(...)"
    return "{...}"


def _atom(text: str) -> str:
    text = str.__str__(text)
    if len(text) <= PRINTABLE_LIMIT and _PLAIN_ATOM.match(text):
        return ":" + text
    return ":" + _string(text)


def _string(text: str) -> str:
    cut = len(text) > PRINTABLE_LIMIT
    body = str.translate(text[:PRINTABLE_LIMIT] if cut else text, _ESCAPES)
    # Lone surrogates cannot be written to a UTF-8 log: show them escaped.
    body = body.encode("utf-8", "backslashreplace").decode("utf-8")
    return '"' + body + ('..."' if cut else '"')


def _int(n: int) -> str:
    bits = n.bit_length()
    if bits > _INT_BITS:
        digits = int(bits * 0.30102999566398) + 1
        return f"<{'-' if n < 0 else ''}int of {digits} digits>"
    return int.__repr__(n)


def _safe(show: Callable[[], Any], v: Any, what: str) -> str:
    try:
        text = show()
    except Exception as e:
        return _unprintable(v, what, e)
    if not isinstance(text, str):
        return _unprintable(v, what)
    text = str.__str__(text)
    if len(text) > PRINTABLE_LIMIT:
        return text[:PRINTABLE_LIMIT] + "..."
    return text


def _unprintable(v: Any, what: str, e: BaseException | None = None) -> str:
    try:
        name = type(v).__qualname__
    except Exception:
        name = "?"
    why = f"{what} raised {type(e).__name__}" if e is not None else f"{what} failed"
    return f"<{name} object ({why})>"


# -- exceptions ------------------------------------------------------------------


def _message(exc: BaseException) -> str:
    """``str(exc)``, total and bounded (traceback's "<exception str() failed>")."""
    try:
        text = str(exc)
    except Exception:
        return "<exception str() failed>"
    if not isinstance(text, str):
        return "<exception str() failed>"
    text = str.__str__(text)
    return text[:PRINTABLE_LIMIT] + "..." if len(text) > PRINTABLE_LIMIT else text


def _banner(exc: BaseException) -> str:
    return f"** ({type(exc).__name__}) {_message(exc)}"


def _frames(exc: BaseException) -> list[str]:
    try:
        frames = traceback.extract_tb(exc.__traceback__)[::-1]
    except Exception:
        return []
    # The scheduler's own frames say nothing about the crash.
    lines = [
        f"{fs.filename}:{fs.lineno}: {fs.name}"
        for fs in frames
        if os.path.dirname(fs.filename) != _RUNTIME_DIR
    ]
    if len(lines) > FRAMES:
        lines[FRAMES:] = [f"... ({len(lines) - FRAMES} more frames)"]
    return lines


def format_exception(exc: BaseException, indent: str = "") -> str:
    """``** (ZeroDivisionError) division by zero`` and the stack, innermost frame
    first, one a line (at most ``FRAMES``).  Total: a ``__str__`` that raises shows
    as ``<exception str() failed>``."""
    return "\n".join([indent + _banner(exc), *(f"{indent}    {f}" for f in _frames(exc))])


# -- exit reasons ------------------------------------------------------------------


def format_exit(reason: Any) -> str:
    """Format an exit reason as Elixir's ``Exception.format_exit/1`` does (LOG-7).

    ``"normal"`` → ``normal``; ``"kill"`` → ``:kill``; ``"killed"`` → ``killed``;
    ``"noproc"``, ``"timeout"``, ``"noconnection"``, ``"calling_self"`` in words;
    ``("shutdown", x)`` → ``shutdown: x``; ``("nodedown", node)`` → ``no connection
    to node``; ``("bad_return_value", x)`` → ``bad return value: x`` (and
    ``already_started``, ``bad_call``, ``bad_cast``); an exception → ``an exception
    was raised:`` then ``** (Type) message`` and its stack; ``(reason, (call,
    *args))`` from a behaviour (``("timeout", ("GenServer.call", server, request,
    timeout))``) → ``exited in: GenServer.call(server, request, timeout)`` then
    ``** (EXIT) <reason>``; anything else is shown as :func:`inspect_reason` does
    (a ``str`` reason as an atom).  Total and bounded: it never raises.
    """
    try:
        text = _exit(reason, "\n    ")
    except Exception:
        return inspect_reason(reason)
    return text if len(text) <= CHARS else text[:CHARS] + " (truncated)"


def _exit(reason: Any, joiner: str) -> str:
    if isinstance(reason, BaseException):
        return (
            "an exception was raised:"
            + joiner
            + _banner(reason)
            + "".join(joiner + "    " + f for f in _frames(reason))
        )
    if type(reason) is tuple and len(reason) == 2:
        tag, detail = reason
        if _is(tag, "shutdown") and type(detail) is tuple and len(detail) == 3:
            what, child, why = detail
            if _is(what, "failed_to_start_child"):
                # Supervisor start_link's {:shutdown, {:failed_to_start_child, id, r}}.
                if type(why) is tuple and len(why) == 2 and _is(why[0], "EXIT"):
                    why = why[1]
                return (
                    "shutdown: failed to start child: "
                    + inspect_name(child)
                    + joiner
                    + "** (EXIT) "
                    + _exit(why, joiner + "    ")
                )
        if _is_call(detail):
            # {reason, {GenServer, :call, [server, request, timeout]}}: the call
            # that failed, then why.  The server is a name; the other args are data.
            call, *args = detail
            shown = [inspect_name(args[0]), *(inspect(a) for a in args[1:])] if args else []
            return (
                f"exited in: {call}({', '.join(shown)})"
                + joiner
                + "** (EXIT) "
                + _exit(tag, joiner + "    ")
            )
    return _exit_reason(reason)


def _exit_reason(reason: Any) -> str:
    if isinstance(reason, str):
        word = _WORDS.get(str.__str__(reason))
        return word if word is not None else _atom(reason)
    if type(reason) is tuple and len(reason) == 2 and isinstance(reason[0], str):
        tag, x = reason
        field = _field_text(x)
        if tag == "shutdown":
            return "shutdown: " + field
        if tag == "nodedown" and isinstance(x, str):
            return "no connection to " + str.__str__(x)[:PRINTABLE_LIMIT]
        if tag == "already_started":
            return "already started: " + field
        if tag == "bad_return_value":
            return "bad return value: " + field
        if tag == "bad_call":
            return "bad call: " + field
        if tag == "bad_cast":
            return "bad cast: " + field
        if tag == "supervisor_data":
            return "bad supervisor configuration, " + _sup_data(x)
        if tag == "start_spec":
            return "bad child specification, " + _sup_spec(x)
        if tag == "bad_start_spec":
            return "bad child specification, invalid children: " + field
    return inspect_reason(reason)


def _sup_data(data: Any) -> str:
    words = {
        "invalid_type": "invalid type: ",
        "invalid_strategy": "invalid strategy: ",
        "invalid_intensity": "invalid max_restarts (intensity): ",
        "invalid_period": "invalid max_seconds (period): ",
        "invalid_max_children": "invalid max_children: ",
        "invalid_extra_arguments": "invalid extra_arguments: ",
    }
    if type(data) is tuple and len(data) == 2 and isinstance(data[0], str):
        word = words.get(str.__str__(data[0]))
        if word is not None:
            return word + inspect(data[1])
    return "got: " + inspect_reason(data)


def _sup_spec(spec: Any) -> str:
    if type(spec) is tuple and len(spec) == 2 and isinstance(spec[0], str):
        tag, x = spec
        if tag == "duplicate_child_name":
            return f"more than one child specification has the id: {inspect_name(x)}"
        if tag == "invalid_child_spec":
            return f"invalid child specification: {inspect(x)}"
        if tag == "invalid_child_type":
            return f"invalid child type: {inspect_name(x)}. Must be :worker or :supervisor."
        if tag == "invalid_mfa":
            return f"invalid mfa: {inspect(x)}"
    return inspect_reason(spec)


def _is(value: Any, atom: str) -> bool:
    return isinstance(value, str) and str.__eq__(value, atom)


def _is_call(detail: Any) -> bool:
    """``("GenServer.call", *args)``: a behaviour's call, as Elixir's ``{m, f, args}``."""
    return (
        type(detail) is tuple
        and len(detail) >= 1
        and isinstance(detail[0], str)
        and "." in detail[0]
        and len(detail) <= 256
    )


def crash_head(reason: Any) -> tuple[str, Any]:
    """The ``** (...)`` line of a crash report (LOG-1, LOG-3, LOG-4), and the
    ``exc_info`` to log with it.

    An exception gives ``** (RuntimeError) oops`` and its traceback as
    ``exc_info``; any other reason gives ``** (stop) `` and :func:`format_exit`'s
    text, as Elixir's Logger translator writes it (so a stop reason that wraps a
    failed call reads ``** (stop) exited in: GenServer.call(...)`` then
    ``** (EXIT) an exception was raised: ...``).  Total.
    """
    if isinstance(reason, BaseException):
        return _banner(reason), (type(reason), reason, reason.__traceback__)
    return "** (stop) " + format_exit(reason), None


def describe_callable(fn: Any) -> str:
    """A function's ``__qualname__`` for a report (``Function:``, ``Start Call:``);
    total: falls back to :func:`inspect`."""
    try:
        name = getattr(fn, "__qualname__", None)
    except Exception:
        name = None
    if isinstance(name, str):
        return str.__str__(name)[:PRINTABLE_LIMIT]
    return inspect(fn)
