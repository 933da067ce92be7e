"""Value types of the runtime: atoms, pids, references, runtime messages, exceptions.

Design notes
------------
* Every value here is immutable and hashable, so it can be a dict key, a set member,
  a mailbox index key, and (later) an External Term Format term.
* ``Pid`` and ``Ref`` are small ``__slots__`` classes rather than tuples or
  NamedTuples: a NamedTuple would compare equal to a plain tuple, and a user's
  ``(pid, result)`` reply would then be mistaken for a pid.  The hash is computed
  once, in ``__init__``, because pids are looked up in the process table on every
  ``send``.
* ``Down`` and ``Exit`` are records, not tuples, for the same reason: in Elixir
  ``{^pid, result}`` never matches ``{:EXIT, pid, reason}``; a tuple ``Exit(pid,
  reason)`` would.  A record instance whose fields hold ``ANY`` or classes is also a
  receive pattern (``Down(ref, ANY, ANY, ANY)``), indexed by its first field.
* Exceptions that end a process derive from ``BaseException`` (CONTRACT: "so
  ``except Exception:`` never swallows a kill").
"""

from __future__ import annotations

import itertools
import random
import re
from typing import Any, ClassVar, Final, Literal, TypeAlias

__all__ = [
    "ANY",
    "Atom",
    "CallTimeoutError",
    "Down",
    "Exit",
    "ExitError",
    "ExitSignal",
    "ImproperList",
    "NoProcError",
    "OnStart",
    "Pid",
    "ProcessExit",
    "Ref",
    "TimerRef",
]

_PLAIN_ATOM = re.compile(r"^(?:[a-z_][A-Za-z0-9_@]*[?!]?|[A-Z][A-Za-z0-9_]*)$")


class Atom(str):
    """An Erlang/Elixir atom: a ``str`` that shows itself as ``:name``.

    ``Atom("normal") == "normal"`` holds, so reasons made by the runtime compare
    equal to plain strings; ``repr`` shows ``:normal`` the way IEx does.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        text = str(self)
        if _PLAIN_ATOM.match(text):
            return ":" + text
        return ':"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# The atoms the runtime itself produces (CONTRACT "Atoms from the runtime").
NORMAL: Final = Atom("normal")
KILL: Final = Atom("kill")
KILLED: Final = Atom("killed")
NOPROC: Final = Atom("noproc")
NOCONNECTION: Final = Atom("noconnection")
SHUTDOWN: Final = Atom("shutdown")
PROCESS: Final = Atom("process")
NONODE: Final = Atom("nonode@nohost")


class _AnyType:
    """The wildcard of receive patterns: matches any value."""

    __slots__ = ()
    _instance: ClassVar[_AnyType | None] = None

    def __new__(cls) -> _AnyType:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "tether.ANY"

    def __reduce__(self) -> str:
        return "ANY"


ANY: Final = _AnyType()

# Remote nodes get small numbers for their pids' repr, in order of first sight,
# as the BEAM's node table does ("#PID<12345.102.0>" shows that table's index).
_node_numbers: dict[str, int] = {}


def _node_number(node: str) -> int:
    num = _node_numbers.get(node)
    if num is None:
        num = _node_numbers[node] = len(_node_numbers) + 1
    return num


class Pid:
    """A process identifier: ``#PID<0.121.0>``.

    Hashable, ordered and immutable.  Local pids have ``node`` ``None`` and print
    with a leading ``0.``; pids of other nodes print with that node's number.
    Build one by hand with :func:`tether.pid` (IEx's ``pid/3``).
    """

    __slots__ = ("_hash", "creation", "id", "node", "serial")

    id: int
    serial: int
    node: str | None
    creation: int
    _hash: int

    def __init__(self, id: int, serial: int = 0, node: str | None = None, creation: int = 0):
        # The slots are set through their descriptors: __setattr__ refuses.
        _set_pid_id(self, id)
        _set_pid_serial(self, serial)
        _set_pid_node(self, node)
        _set_pid_creation(self, creation)
        _set_pid_hash(self, hash((id, serial, node, creation)))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Pid is immutable")

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if type(other) is not Pid:
            return NotImplemented
        return (
            self.id == other.id
            and self.serial == other.serial
            and self.node == other.node
            and self.creation == other.creation
        )

    def _key(self) -> tuple[str, int, int, int]:
        return (self.node or "", self.creation, self.serial, self.id)

    def __lt__(self, other: Pid) -> bool:
        if type(other) is not Pid:
            return NotImplemented
        return self._key() < other._key()

    def __le__(self, other: Pid) -> bool:
        if type(other) is not Pid:
            return NotImplemented
        return self._key() <= other._key()

    def __gt__(self, other: Pid) -> bool:
        if type(other) is not Pid:
            return NotImplemented
        return self._key() > other._key()

    def __ge__(self, other: Pid) -> bool:
        if type(other) is not Pid:
            return NotImplemented
        return self._key() >= other._key()

    def __repr__(self) -> str:
        num = 0 if self.node is None else _node_number(self.node)
        return f"#PID<{num}.{self.id}.{self.serial}>"

    __str__ = __repr__

    def __reduce__(self) -> tuple[type[Pid], tuple[int, int, str | None, int]]:
        return (Pid, (self.id, self.serial, self.node, self.creation))


_set_pid_id = Pid.__dict__["id"].__set__
_set_pid_serial = Pid.__dict__["serial"].__set__
_set_pid_node = Pid.__dict__["node"].__set__
_set_pid_creation = Pid.__dict__["creation"].__set__
_set_pid_hash = Pid.__dict__["_hash"].__set__

# Reference words: random high words per OS process, a counter in the low word,
# so refs look like the BEAM's (#Reference<0.3864886318.2185232385.215284>) and are
# unique for the life of the process.
_REF_HI: Final = random.getrandbits(32)
_REF_MID: Final = random.getrandbits(32)
_ref_counter = itertools.count(1)


class Ref:
    """A unique reference: ``#Reference<0.…>``; returned by ``monitor`` and friends.

    Mirrors Elixir's ``make_ref/0`` values: hashable, comparable by identity of
    their number, immutable.  :func:`tether.make_ref` makes a fresh one.
    """

    __slots__ = ("_hash", "creation", "n", "node")

    n: int
    node: str | None
    creation: int
    _hash: int

    def __init__(self, n: int | None = None, node: str | None = None, creation: int = 0) -> None:
        # The slots are set through their descriptors: __setattr__ refuses.
        # ``node``/``creation`` are set for refs of other nodes only; their ``n``
        # packs the wire words (see tether._dist.etf.ref_words).
        if n is None:
            n = next(_ref_counter)
        _set_ref_n(self, n)
        _set_ref_node(self, node)
        _set_ref_creation(self, creation)
        _set_ref_hash(self, hash(n) if node is None else hash((n, node)))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if not isinstance(other, Ref):
            return NotImplemented
        return self.n == other.n and self.node == other.node and self.creation == other.creation

    def __lt__(self, other: Ref) -> bool:
        if not isinstance(other, Ref):
            return NotImplemented
        return (self.node or "", self.n) < (other.node or "", other.n)

    def __repr__(self) -> str:
        if self.node is None:
            return f"#Reference<0.{_REF_HI}.{_REF_MID}.{self.n}>"
        # Another node's ref: its wire words, most significant first, as IEx shows.
        n = self.n
        count = (n.bit_length() - 1) // 32
        words = ".".join(str((n >> (32 * i)) & 0xFFFFFFFF) for i in reversed(range(count)))
        return f"#Reference<{_node_number(self.node)}.{words}>"

    __str__ = __repr__


_set_ref_n = Ref.__dict__["n"].__set__
_set_ref_node = Ref.__dict__["node"].__set__
_set_ref_creation = Ref.__dict__["creation"].__set__
_set_ref_hash = Ref.__dict__["_hash"].__set__


class TimerRef(Ref):
    """The reference returned by :meth:`Process.send_after`.

    Pass it to :meth:`Process.cancel_timer`.  Equality and hashing are those of a
    plain :class:`Ref`.
    """

    __slots__ = ("_handle", "_when")

    _handle: Any
    _when: float


class ImproperList:
    """An improper list ``[a, b | tail]``: ``items`` then a non-list ``tail``.

    A term of other nodes (``tether.etf`` decodes one); it lives here because the
    runtime itself reads one: OTP 24+ callers tag a ``$gen_call`` with
    ``[alias | ref]`` (see ``_api.reply_to``).
    """

    __slots__ = ("items", "tail")

    def __init__(self, items: list[Any], tail: Any) -> None:
        if not items:
            raise ValueError("ImproperList: items must not be empty (the term is just the tail)")
        if isinstance(tail, list):
            raise ValueError("ImproperList: tail must not be a list (that is a proper list)")
        self.items = items
        self.tail = tail

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, ImproperList)
            and self.items == other.items
            and self.tail == other.tail
        )

    def __hash__(self) -> int:
        return hash((tuple(self.items), self.tail))

    def __repr__(self) -> str:
        inner = ", ".join(map(repr, self.items))
        return f"[{inner} | {self.tail!r}]"


class _Record:
    """Base of the small immutable message records (``Down``, ``Exit``).

    Equality is by class and fields.  An instance whose fields hold ``ANY`` or
    classes doubles as a receive pattern (see ``_mailbox.compile_filters``).
    """

    __slots__ = ()
    __match_args__: ClassVar[tuple[str, ...]] = ()

    def _fields(self) -> tuple[Any, ...]:
        return tuple(getattr(self, f) for f in self.__match_args__)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash((type(self).__name__, *self._fields()))

    def __repr__(self) -> str:
        # A reason given as a plain string shows as an atom, as IEx shows it.
        inner = ", ".join(
            repr(Atom(v)) if type(v) is str and f == "reason" else _field_repr(v)
            for f, v in zip(self.__match_args__, self._fields(), strict=True)
        )
        return f"{type(self).__name__}({inner})"

    def __reduce__(self) -> tuple[type[_Record], tuple[Any, ...]]:
        return (type(self), self._fields())


def _field_repr(value: Any) -> str:
    """``repr`` that cannot raise: a message's repr must never crash its printer
    (an int over 4,300 digits, a broken ``__repr__``, a term nested too deep)."""
    try:
        return repr(value)
    except Exception as e:
        return f"<{type(value).__name__} that cannot be shown: {type(e).__name__}>"


class Down(_Record):
    """The message a monitor delivers: Elixir's ``{:DOWN, ref, :process, pid, reason}``.

    Fields, in ``match`` order: ``ref`` (the monitor's :class:`Ref`), ``type``
    (``:process``), ``pid`` (the pid, or ``(name, node)`` for a monitor by name) and
    ``reason`` (the exit reason, ``:noproc`` or ``:noconnection``).

    ``Down(ref, ANY, ANY, ANY)`` is also a receive pattern, looked up in O(1).
    """

    __slots__ = ("pid", "reason", "ref", "type")
    __match_args__ = ("ref", "type", "pid", "reason")

    ref: Any
    type: Any
    pid: Any
    reason: Any

    def __init__(self, ref: Any, type: Any, pid: Any, reason: Any) -> None:
        _set_down_ref(self, ref)
        _set_down_type(self, type)
        _set_down_pid(self, pid)
        _set_down_reason(self, reason)


_set_down_ref = Down.__dict__["ref"].__set__
_set_down_type = Down.__dict__["type"].__set__
_set_down_pid = Down.__dict__["pid"].__set__
_set_down_reason = Down.__dict__["reason"].__set__


class Exit(_Record):
    """The message a trapping process gets for an exit signal: ``{:EXIT, pid, reason}``.

    Fields, in ``match`` order: ``pid`` (the sender of the signal) and ``reason``.
    ``Exit(pid, ANY)`` is also a receive pattern, looked up in O(1).
    """

    __slots__ = ("pid", "reason")
    __match_args__ = ("pid", "reason")

    pid: Any
    reason: Any

    def __init__(self, pid: Any, reason: Any) -> None:
        _set_exit_pid(self, pid)
        _set_exit_reason(self, reason)


_set_exit_pid = Exit.__dict__["pid"].__set__
_set_exit_reason = Exit.__dict__["reason"].__set__


class ProcessExit(BaseException):
    """Raised by :func:`tether.exit` (Elixir's ``exit/1``): ``catch :exit``.

    A process that catches it goes on living; uncaught, the process exits with
    ``reason``.  :func:`tether.run` also raises it when the first process dies with
    a reason that is not an exception.
    """

    reason: Any

    def __init__(self, reason: Any) -> None:
        super().__init__(reason)
        self.reason = reason

    def __repr__(self) -> str:
        return f"ProcessExit({self.reason!r})"


class ExitSignal(BaseException):
    """Thrown into a process to unwind it after an exit signal ended it.

    The process is already dead when this is raised: ``finally`` blocks run, but
    what they send or spawn is dropped, and catching it does not revive the
    process.  Derives from ``BaseException`` so ``except Exception`` never
    swallows a kill.
    """

    reason: Any

    def __init__(self, reason: Any) -> None:
        super().__init__(reason)
        self.reason = reason


class ExitError(Exception):
    """A process that was expected to return a result exited with ``reason`` instead.

    Raised to code that is not a process and waits on one: ``await node.run(...)``,
    ``await node.call(...)``, ``node.from_thread.call(...)`` (see
    ``tether.open_node``).  Inside a process the same exit is a
    ``tether.ProcessExit`` (a ``BaseException``, Elixir's exit); outside, where
    nothing can trap it, it is an ordinary ``Exception`` that ``except Exception``
    sees.  ``reason`` is the exit reason, e.g. ``("timeout", ("GenServer.call",
    server, request, 5))``; when the reason carries an exception (a server that
    crashed during a call), that exception is also ``__cause__``.
    """

    reason: Any

    def __init__(self, reason: Any, message: str | None = None) -> None:
        super().__init__(message if message is not None else f"exited: {_field_repr(reason)}")
        self.reason = reason


class CallTimeoutError(ExitError, TimeoutError):
    """A call through the bridge timed out: reason ``("timeout", (call, ...))``."""


class NoProcError(ExitError, LookupError):
    """No such process: ``Process.link`` to a dead local pid by a process not
    trapping exits (L-4, Erlang's ``error(noproc)``; uncaught, the caller dies with
    it), or a bridge call to a server that is not there (reason ``("noproc", ...)``).
    """

    def __init__(self, message: str, reason: Any = NOPROC) -> None:
        super().__init__(reason, message)


# The last member, Any, stands for "ignore": typeshed's "Any trick".  With
# Literal["ignore"] there instead, mypy refuses `_ok, pid = await X.start_link()`
# (it will not unpack a str) and pyright types that pid as `Pid | Any | str`, which
# no function taking a Pid accepts; Any keeps the idiom checked where it can be.
#: What ``start_link`` and ``start`` return (Elixir's ``GenServer.on_start``):
#: ``("ok", pid)``, ``("error", reason)``, or ``"ignore"`` (when ``init`` returned
#: ``Ignore()``).  For a type checker, ``_ok, pid = await Server.start_link()``
#: makes ``pid`` a ``Pid | Any`` (an editor completes it as a :class:`Pid`).  At run
#: time the tags are :class:`Atom`\ s, equal to these strings.
OnStart: TypeAlias = tuple[Literal["ok"], Pid] | tuple[Literal["error"], Any] | Any
