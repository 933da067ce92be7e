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

import builtins
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
    "Port",
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
PORT: Final = Atom("port")


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
        # A local pid of this node's creation (every spawned one) hashes as its
        # id: sequential ints spread perfectly in the process table, and
        # spawn (_cnode.new_local_pid) shares the id's int as the hash.
        local = serial == 0 and node is None and creation == 0
        _set_pid_hash(self, id if local else hash((id, serial, node, creation)))

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


# The engine behind the Port functions, ``tether._runtime._ports``, installs itself
# here when it is imported (``tether`` imports it): this module imports nothing.
_PORTS: Any = None


def _port_engine() -> Any:
    if _PORTS is None:
        raise RuntimeError("the port engine (tether._runtime._ports) is not loaded; import tether")
    return _PORTS


class Port:
    """A port: an OS program run as a process of the node, printed ``#Port<0.N>``.

    Elixir's port() values and its ``Port`` module in one name, as Elixir spells
    both ``Port``: a ``Port`` value is an immutable, hashable identifier like
    :class:`Pid` (a port links, monitors and exits like a process), and the
    static methods are the module's functions: :meth:`open`, :meth:`command`,
    :meth:`close`, :meth:`connect`, :meth:`info`, :meth:`list`.  The engine is
    ``tether._runtime._ports`` (imported on first use: this module holds values
    only).  ``docs/ports.md`` tells the whole story.
    """

    __slots__ = ("_hash", "creation", "id", "node")

    id: int
    node: str | None
    creation: int
    _hash: int

    def __init__(self, id: int, node: str | None = None, creation: int = 0) -> None:
        _set_port_id(self, id)
        _set_port_node(self, node)
        _set_port_creation(self, creation)
        _set_port_hash(self, hash(("port", id, node, creation)))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Port is immutable")

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if type(other) is not Port:
            return NotImplemented
        return self.id == other.id and self.node == other.node and self.creation == other.creation

    def __lt__(self, other: Port) -> bool:
        if type(other) is not Port:
            return NotImplemented
        mine = (self.node or "", self.creation, self.id)
        return mine < (other.node or "", other.creation, other.id)

    def __repr__(self) -> str:
        num = 0 if self.node is None else _node_number(self.node)
        return f"#Port<{num}.{self.id}>"

    __str__ = __repr__

    def __reduce__(self) -> tuple[type[Port], tuple[int, str | None, int]]:
        return (Port, (self.id, self.node, self.creation))

    # -- Elixir's Port module (the engine is tether._runtime._ports) ----------

    @staticmethod
    def open(
        argv: Any,
        *,
        packet: int | None = None,
        line: int | None = None,
        exit_status: bool = False,
        eof: bool = False,
        stderr_to_stdout: bool = False,
        cd: Any = None,
        env: Any = None,
        kill_timeout: float = 5.0,
        max_queue: int = 1000,
    ) -> Port:
        """Start the OS program ``argv`` as a port owned (and linked) by the caller.

        Elixir's ``Port.open({:spawn_executable, path}, [:binary, args: ...])``
        (Erlang's ``open_port/2``).  ``argv`` is a list: the program (looked up on
        ``PATH`` when it has no ``/``), then its arguments; no shell is involved
        (give ``["sh", "-c", command]`` for one).  The program's standard output
        comes to the owner as ``(port, ("data", data))`` messages, ``data`` being
        ``bytes``; :meth:`command` writes to its standard input.  The port
        closes, with reason ``"normal"``, when the program closes its output
        (unless ``eof``), when :meth:`close` is called, and when its owner
        exits (with the owner's reason); an exit signal closes it with the
        signal's reason.  On closing, the program's standard input is closed
        and its process group gets SIGTERM, then SIGKILL after ``kill_timeout``
        seconds (see ``docs/ports.md``).

        Args:
            packet: ``1``, ``2`` or ``4``: every message each way is preceded by
                its length in that many bytes, big-endian (Erlang's ``{packet,
                N}``); the messages carry the payloads.
            line: a positive int L: output comes a line at a time, as
                ``("data", ("eol", line))`` without the newline, and in pieces
                of L bytes as ``("data", ("noeol", piece))`` when longer
                (Erlang's ``{line, L}``).  Not with ``packet``.
            exit_status: send ``(port, ("exit_status", n))`` when the program
                has exited (``128 + signal`` if a signal ended it).
            eof: when the program closes its output, send ``(port, "eof")``
                and keep the port open (Erlang's ``eof``).
            stderr_to_stdout: the program's standard error goes to the port
                too (by default it goes where this process's goes).
            cd: the program's working directory.
            env: ``{name: value}`` added to this process's environment; a value
                of ``None`` removes that name.
            kill_timeout: seconds between SIGTERM and SIGKILL when the port
                closes with the program still running.
            max_queue: the port stops reading the program's output while its
                owner has this many messages queued, and resumes when the queue
                is down to half (back-pressure: the program then blocks on its
                full pipe).

        Returns:
            The new port.

        Raises:
            OSError: the program cannot be started (``FileNotFoundError`` is
                Erlang's ``enoent``, ``PermissionError`` its ``eacces``).
            TypeError, ValueError: a bad argument (nothing is started).
        """
        result: Port = _port_engine().open_port(
            argv,
            packet=packet,
            line=line,
            exit_status=exit_status,
            eof=eof,
            stderr_to_stdout=stderr_to_stdout,
            cd=cd,
            env=env,
            kill_timeout=kill_timeout,
            max_queue=max_queue,
        )
        return result

    @staticmethod
    def command(port: Port, data: Any) -> bool:
        """Write ``data`` to the program's standard input; return ``True``.

        Elixir's ``Port.command/2`` (``port_command/2``).  ``data`` is ``bytes``
        (or ``bytearray``, ``memoryview``), a ``str`` (sent as UTF-8), or a list
        of these (Erlang's iodata); with ``packet`` it goes as one message, its
        length in front.  Any process may call it.  Never blocks: what the
        program has not read yet waits in the port's buffer.

        A message too long for its ``packet`` header closes the port with
        ``"einval"``, and writing to a program that closed its input closes it
        with ``"epipe"``, as on the BEAM (the port's links get the exit signal).

        Raises:
            ValueError: the port is not open (Elixir's ``ArgumentError``).
            TypeError: ``port`` is not a Port, or ``data`` is not bytes, str or
                a list of them.
        """
        result: bool = _port_engine().command(port, data)
        return result

    @staticmethod
    def close(port: Port) -> bool:
        """Close the port; return ``True``: Elixir's ``Port.close/1`` (``port_close/1``).

        The port exits with ``"normal"`` (a trapping owner gets ``Exit(port,
        "normal")``, monitors a ``Down``); the program's input is closed and it
        is terminated (SIGTERM, then SIGKILL after the port's
        ``kill_timeout``).  Any process may call it.

        Raises:
            ValueError: the port is not open (Elixir's ``ArgumentError``).
            TypeError: ``port`` is not a Port.
        """
        result: bool = _port_engine().close(port)
        return result

    @staticmethod
    def connect(port: Port, pid: Pid) -> bool:
        """Make ``pid`` the port's owner (its connected process); return ``True``.

        Elixir's ``Port.connect/2``: the port's output goes to ``pid`` from now
        on, ``pid`` is linked to the port, and the port closes when ``pid``
        exits.  The old owner stays linked: it may ``Process.unlink(port)``.
        Any process may call it.

        Raises:
            ValueError: the port is not open, or ``pid`` is not a live local
                process (Elixir's ``ArgumentError``).
            TypeError: a bad argument type.
        """
        result: bool = _port_engine().connect(port, pid)
        return result

    @staticmethod
    def info(port: Port, item: str | None = None) -> Any:
        """Information about an open port; ``None`` once it is closed.

        Elixir's ``Port.info/1,2``.  ``info(port)`` is a dict of ``name`` (the
        program), ``links``, ``id``, ``connected`` (the owner), ``input`` and
        ``output`` (bytes read from and written to the program) and
        ``os_pid``; ``info(port, item)`` is one of these (or ``monitors``,
        ``monitored_by``, ``queue_size``: bytes waiting to be written).

        Raises:
            ValueError: an unknown item.
            TypeError: ``port`` is not a Port.
        """
        return _port_engine().info(port, item)

    @staticmethod
    def list() -> builtins.list[Port]:
        """Every open port of the node, oldest first: Elixir's ``Port.list/0``."""
        result: list[Port] = _port_engine().list_ports()
        return result


_set_port_id = Port.__dict__["id"].__set__
_set_port_node = Port.__dict__["node"].__set__
_set_port_creation = Port.__dict__["creation"].__set__
_set_port_hash = Port.__dict__["_hash"].__set__


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

    def _fields(self) -> tuple[Any, ...]:
        # _Record._fields for these four (no generator: it is on every receive
        # of a DOWN pattern and every comparison of two Downs).
        return (self.ref, self.type, self.pid, self.reason)


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

    def _fields(self) -> tuple[Any, ...]:
        return (self.pid, self.reason)  # _Record._fields, without a generator


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
        # BaseException.__new__ has set args to (reason,) already: no
        # super().__init__ (one call less on every exit/1).
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
        self.reason = reason  # args is (reason,) already (BaseException.__new__)


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
