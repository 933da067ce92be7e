"""The public runtime API: thin, validating wrappers over the engine in ``_node``.

Every function here checks its arguments (``TypeError``/``ValueError`` naming the
argument: the BEAM's ``badarg``), finds the calling process, and calls one engine
operation.  Functions that can never block are plain functions; those that may
wait (``receive``, ``Process.sleep``) are awaitables.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sys
import types
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Final, NoReturn, Protocol, TypeVar, cast

from . import _node as _n
from . import _remote
from ._mailbox import MISSING, Matcher, compile_filters
from ._types import (
    ANY,
    PROCESS,
    Atom,
    Down,
    ExitSignal,
    ImproperList,
    Pid,
    ProcessExit,
    Ref,
    TimerRef,
    _node_numbers,
)
from ._validate import check_bool, check_int, check_pid, check_seconds, check_timeout

__all__ = [
    "Process",
    "exit",
    "make_ref",
    "node",
    "pid",
    "receive",
    "run",
    "self",
    "send",
    "spawn",
    "spawn_link",
    "spawn_monitor",
]

T = TypeVar("T")

_NEVER: Final = Matcher(lambda _m: False, None, False)
_DEAD: Final = _n.DEAD
_WAIT: Final = _n.WAIT


def _cur(what: str) -> _n.Process:
    p = _n.NODE.current
    if p is None:
        raise _n.outside_error(what)
    return p


def _node() -> _n.Node:
    node = _n.NODE
    assert isinstance(node, _n.Node)
    return node


# -- spawning -----------------------------------------------------------------


def _resolve(fun: Any, args: tuple[Any, ...], what: str) -> tuple[Any, tuple[Any, ...]]:
    """Accept ``spawn(fun, *args)`` and the MFA form ``spawn(obj, "name", [args])``."""
    if (
        len(args) == 2
        and isinstance(args[0], str)
        and isinstance(args[1], list)
        and not _n.is_async_callable(fun)
    ):
        target = getattr(fun, args[0], None)
        if target is None:
            raise ValueError(f"{what}: {fun!r} has no function named {args[0]!r}")
        return target, tuple(args[1])
    return fun, args


def spawn(fun: Callable[..., Coroutine[Any, Any, Any]] | Any, *args: Any) -> Pid:
    """Start a new process running ``await fun(*args)``; return its pid.

    Elixir's ``spawn/1`` and ``spawn/3``: ``spawn(Mod, "fun", [args])`` calls the
    attribute ``fun`` of a module or object.  The child is not linked to the caller:
    its crash does not affect the parent (E-9).  It may run before or after
    ``spawn`` returns.

    Raises:
        TypeError: ``fun`` is not an ``async def`` function.
    """
    p = _cur("spawn")
    fun, args = _resolve(fun, args, "spawn")
    return _node().spawn(p, fun, args, what="spawn")[0]


def spawn_link(fun: Callable[..., Coroutine[Any, Any, Any]] | Any, *args: Any) -> Pid:
    """Like :func:`spawn`, and link the child to the caller atomically (L-3).

    Elixir's ``spawn_link/1,3``.  If either side dies abnormally, the other gets an
    exit signal (§1.1): it dies with the same reason unless it traps exits.
    """
    p = _cur("spawn_link")
    fun, args = _resolve(fun, args, "spawn_link")
    return _node().spawn(p, fun, args, link=True, what="spawn_link")[0]


def spawn_monitor(
    fun: Callable[..., Coroutine[Any, Any, Any]] | Any, *args: Any
) -> tuple[Pid, Ref]:
    """Like :func:`spawn`, and monitor the child atomically; return ``(pid, ref)`` (M-14).

    Elixir's ``spawn_monitor/1,3``.  When the child exits, the caller gets
    ``Down(ref, :process, pid, reason)``.
    """
    p = _cur("spawn_monitor")
    fun, args = _resolve(fun, args, "spawn_monitor")
    pid, ref = _node().spawn(p, fun, args, monitor=True, what="spawn_monitor")
    assert ref is not None
    return pid, ref


# -- messages -----------------------------------------------------------------


def send(dest: Pid | Ref | str | tuple[str, str], msg: T) -> T:
    """Send ``msg`` to ``dest``; return ``msg`` (S-7).

    Elixir's ``send/2``.  ``dest`` is a :class:`Pid`, an alias (a :class:`Ref`
    from :meth:`Process.alias`), a registered name, or ``(name, node)``.  Sending
    to a dead pid, an inactive alias, or ``(name, node())`` with no such name does
    nothing; sending to a local name that is not registered raises
    ``ValueError`` (the BEAM's badarg).  Never blocks.
    """
    node = _n.NODE
    p = node.current
    if p is None:
        raise _n.outside_error("send")
    if type(dest) is Pid:
        t = node.table.get(dest)  # type: ignore[union-attr]
        if t is not None:
            if p.state != _DEAD:
                node.deliver(t, msg)  # type: ignore[union-attr]
        elif dest.node is not None and node.dist is not None and p.state != _DEAD:  # type: ignore[union-attr]
            node.dist.send(p.pid, dest, msg)  # type: ignore[union-attr]
        return msg
    assert isinstance(node, _n.Node)
    if isinstance(dest, Ref):
        if p.state != _DEAD:
            node.send_alias(dest, msg)
        return msg
    if isinstance(dest, str):
        t = node.names.get(dest)
        if t is None:
            raise ValueError(
                f"send: no process is registered as {dest!r} (dest); "
                "check Process.whereis(name), or send to (name, node) to drop silently"
            )
        if p.state != _n.DEAD:
            node.deliver(t, msg)
        return msg
    if (
        type(dest) is tuple
        and len(dest) == 2
        and isinstance(dest[0], str)
        and isinstance(dest[1], str)
    ):
        if dest[1] == node.name and p.state != _n.DEAD:
            t = node.names.get(dest[0])
            if t is not None:
                node.deliver(t, msg)
        elif node.dist is not None and p.state != _n.DEAD:
            node.dist.reg_send(p.pid, dest[0], dest[1], msg)
        return msg
    raise TypeError(
        f"send: dest must be a Pid, an alias Ref, a registered name or (name, node), got {dest!r}"
    )


class _Receive(Protocol):
    def __call__(self, *filters: Any, timeout: float | None = None) -> Awaitable[Any]: ...


@types.coroutine
def _receive(*filters: Any, timeout: float | None = None) -> Any:
    p = _n.NODE.current
    if p is None:
        raise _n.outside_error("receive")
    if p.state == _DEAD:
        raise ExitSignal(p.reason)
    matcher = compile_filters(filters) if filters else None
    mb = p.mailbox
    if mb is not None and mb._msgs:
        if matcher is None:
            return mb.pop_first()
        msg = mb.take(matcher)
        if msg is not MISSING:
            return msg
    if timeout is None:
        # The hot path: block until a matching message is handed over.
        p.matcher = matcher
        msg = yield _WAIT
        if msg is not _n.RESCAN:
            if msg is _n.CANCEL:
                raise asyncio.CancelledError
            return msg
        deadline = None
    else:
        timeout = check_timeout(timeout, "receive")
        if timeout == 0:
            raise TimeoutError("receive: no matching message (timeout=0)")
        deadline = None if timeout is None else _node().loop.time() + timeout
        msg = None  # the mailbox was just scanned
    node = _node()
    while True:
        if msg is _n.RESCAN and matcher is not None and p.mailbox is not None:
            # A predicate raised while the message was delivered: rescan here, in
            # the receiver's own context, where it raises again for the user to see.
            found = p.mailbox.take(matcher)
            if found is not MISSING:
                return found
        p.matcher = matcher
        if deadline is not None:
            p.timer = node.loop.call_at(deadline, node.receive_timeout, p)
        msg = yield _WAIT
        if msg is _n.TIMEOUT:
            raise TimeoutError(f"receive: no matching message within {timeout} s")
        if msg is _n.CANCEL:
            raise asyncio.CancelledError
        if msg is not _n.RESCAN:
            return msg


receive: Final = cast(_Receive, _receive)
receive.__doc__ = """Wait for a message and return it: Elixir's ``receive … after``.

    ``await receive()`` takes the first message.  With filters, it takes the first
    message in arrival order that any filter matches; the others keep their order
    (S-5).  Each filter is:

    * a class: matches by ``isinstance``;
    * a tuple pattern: a tuple of literals (``==``), classes and ``tether.ANY``,
      matching a tuple of the same length item by item: ``("want", ANY)``,
      ``(ref, ANY)``; tuples nest;
    * a ``Down``/``Exit`` pattern: ``Down(ref, ANY, ANY, ANY)``;
    * any other callable: a predicate.

    Patterns with a literal first item are looked up through an index, so a
    reply-ref receive costs O(1) however many other messages are queued.

    Args:
        timeout: seconds to wait (``None``: forever; ``0``: poll).

    Raises:
        TimeoutError: no matching message arrived in time (Elixir's ``after``).
        ValueError: ``timeout`` is negative.
        TypeError: a filter is none of the above.
    """


def self() -> Pid:
    """Return the calling process's pid: Elixir's ``self()``."""
    p = _n.NODE.current
    if p is None:
        raise _n.outside_error("self()")
    return p.pid


def exit(reason: Any) -> NoReturn:
    """End the calling process with ``reason``: Elixir's ``exit/1`` (E-3).

    Raises ``tether.ProcessExit``, which a ``try`` can catch (``catch :exit``); the
    process then goes on.  Uncaught, the process exits with ``reason`` and nothing
    is logged (LOG-1).
    """
    _cur("exit")
    raise ProcessExit(reason)


def make_ref() -> Ref:
    """Return a new unique reference: Elixir's ``make_ref/0``."""
    return Ref()


def node() -> Atom:
    """Return this node's name: ``:"nonode@nohost"`` until the node is distributed."""
    return _n.NODE.name


def is_alive() -> bool:
    """Whether this node is distributed (started with ``name=``): ``erlang:is_alive/0``,
    Elixir's ``Node.alive?/0``."""
    return getattr(_n.NODE, "dist", None) is not None


_ALIAS: Final = "alias"


def reply_to(from_: Any, reply: Any) -> None:
    """Answer a ``$gen_call`` whose ``from`` is ``from_``, wherever its caller waits:
    ``gen:reply/2``.

    The tag's shape says where: a tether caller's tag is an alias (a local
    :class:`Ref`), answered there; an OTP 24+ caller's is ``[alias | Alias]``, or
    ``[[alias | Alias] | Label]``, answered at ``Alias``; older callers' a plain
    ref, answered at the pid.  The message is ``(tag, reply)``.  A ``from_`` of
    no known shape is dropped, as ``gen:reply`` drops a send that fails; the only
    error is :func:`send`'s own (a reply with no term for a remote caller).  Call
    it from inside a process.
    """
    _cur("reply_to")
    if type(from_) is not tuple or len(from_) != 2:
        return
    pid, tag = from_
    dest: Any = pid
    if isinstance(tag, ImproperList):
        head = tag.items[0]
        if tag.items == [_ALIAS]:
            dest = tag.tail
        elif isinstance(head, ImproperList) and head.items == [_ALIAS]:
            dest = head.tail
    elif isinstance(tag, Ref) and tag.node is None:
        dest = tag
    if type(dest) is Pid or isinstance(dest, Ref):
        send(dest, (tag, reply))


def node_state(key: str, factory: Callable[[], T]) -> T:
    """The running node's value for ``key``, made by ``factory()`` on first use.

    Runtime state that is not a process's (a Registry's table, a process group
    scope) lives here, so it belongs to one node and goes with it: the next node
    started in this OS process starts empty.  Call from inside a process.
    """
    _cur("node_state")
    ext = _node().ext
    try:
        return cast(T, ext[key])
    except KeyError:
        value = ext[key] = factory()
        return value


_PID_TEXT = re.compile(r"^(?:#PID<)?(\d+)\.(\d+)\.(\d+)>?$")


def pid(a: int | str, b: int | None = None, c: int | None = None) -> Pid:
    """Build a pid: IEx's ``pid(0, 999, 0)`` and ``pid("0.999.0")`` (I-7).

    The first number is the node (0 for this node).  Needs no running node.

    Raises:
        ValueError: a negative number, an unknown node number, or bad text.
    """
    if isinstance(a, str):
        if b is not None or c is not None:
            raise TypeError("pid: give either one string or three integers")
        m = _PID_TEXT.match(a.strip())
        if m is None:
            raise ValueError(f"pid: {a!r} is not of the form '0.999.0' or '#PID<0.999.0>'")
        return pid(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    if b is None or c is None:
        raise TypeError("pid: give three integers, pid(0, 999, 0), or a string")
    for name, v in (("node number", a), ("id", b), ("serial", c)):
        if isinstance(v, bool) or not isinstance(v, int):
            raise TypeError(f"pid: the {name} must be an int, got {v!r}")
        if v < 0:
            raise ValueError(f"pid: the {name} must be >= 0, got {v}")
    if a == 0:
        return Pid(b, c)
    for node_name, num in _node_numbers.items():
        if num == a:
            return Pid(b, c, node_name)
    raise ValueError(f"pid: no known node has number {a}")


# -- tether.run ---------------------------------------------------------------


class _ElixirStyleFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        record.levelname_lower = record.levelname.lower()
        return super().format(record)


def _default_handler() -> logging.Handler | None:
    """A stderr handler for the ``tether`` logger when logging is not configured."""
    tlog = logging.getLogger("tether")
    if logging.getLogger().handlers or any(
        not isinstance(h, logging.NullHandler) for h in tlog.handlers
    ):
        return None
    h = logging.StreamHandler(sys.stderr)
    h.setFormatter(_ElixirStyleFormatter("[%(levelname_lower)s] %(message)s"))
    tlog.addHandler(h)
    return h


async def _wait_cancelled(tasks: list[asyncio.Task[Any]]) -> None:
    await asyncio.gather(*tasks, return_exceptions=True)
    await asyncio.sleep(0)


def run(
    main: Callable[..., Coroutine[Any, Any, T]],
    *args: Any,
    name: str | None = None,
    cookie: str | None = None,
    hog_threshold: float | None = 0.1,
    loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None,
    hidden: bool = True,
    net_ticktime: float = 60.0,
    tls: Any = None,
    binaries: str = "str",
    dist_buf_busy_limit: int = 1 << 20,
    dist_input_limit: int | None = 16 << 20,
) -> T:
    """Start a node, run ``await main(*args)`` as its first process, return its result.

    When ``main`` exits, every other process ends with it (the VM halting) and the
    node stops.  If ``main`` crashes, its exception is raised here; any other
    abnormal exit raises ``tether.ProcessExit(reason)``.

    Args:
        hog_threshold: warn (logger ``"tether"``) when a process runs longer than
            this many seconds without awaiting; ``None`` turns the check off.
        loop_factory: makes the event loop (default ``asyncio.new_event_loop``);
            ``tether.testing`` passes a virtual-clock loop.
        name: make the node distributed under this name: ``"py@127.0.0.1"``
            (long name) or ``"py"`` / ``"py@host"`` (short name), as ``elixir
            --name``/``--sname``.  It registers with epmd (``ERL_EPMD_PORT``;
            the system epmd is started if installed and not running, else a
            built-in one) and can then connect to Erlang, Elixir and tether nodes.
        cookie: the shared secret; default ``TETHER_COOKIE``, else
            ``~/.erlang.cookie`` (created if missing, as ``erl`` does).
        hidden: a hidden node (default) is not announced to the peer's other
            nodes (no ``global`` traffic); ``False`` makes it visible.
        net_ticktime: seconds of silence after which a peer is considered down
            (ticks go every ``net_ticktime / 4``), as Erlang's kernel parameter.
        tls: ``tether.dist_tls(certfile, keyfile, cafile)`` for TLS distribution
            (compatible with ``-proto_dist inet_tls``).
        binaries: how binaries from other nodes arrive: ``"str"`` (default) when
            valid UTF-8, else ``bytes``; ``"bytes"`` keeps every one ``bytes``.
        dist_buf_busy_limit: bytes waiting to be written on one connection above
            which a process that sends on it is suspended until they drain
            (Erlang's ``dist_buf_busy_limit``, 1 MiB).
        dist_input_limit: bytes of one connection's messages that may wait
            unread in mailboxes before the node stops reading that connection
            (backpressure to the peer); ``None``: no limit, as the BEAM (16 MiB).

    Raises:
        RuntimeError: a node is already running in this OS process, or an asyncio
            loop is running in this thread.
    """
    if binaries not in ("str", "bytes"):
        raise ValueError(f"tether.run: binaries must be 'str' or 'bytes', got {binaries!r}")
    check_bool(hidden, "tether.run", "hidden")
    check_int(dist_buf_busy_limit, "tether.run", "dist_buf_busy_limit", 1)
    check_int(dist_input_limit, "tether.run", "dist_input_limit", 1, lambda v: v is None)
    if name is None and cookie is not None:
        raise ValueError(
            "tether.run: cookie= needs name= (a node without a name is not distributed)"
        )
    if (
        not isinstance(net_ticktime, int | float)
        or isinstance(net_ticktime, bool)
        or net_ticktime <= 0
    ):
        raise ValueError(
            f"tether.run: net_ticktime must be a positive number of seconds, got {net_ticktime!r}"
        )
    if not isinstance(_n.NODE, _n._NoNode):
        raise RuntimeError("tether.run: a node is already running in this OS process")
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise RuntimeError(
            "tether.run cannot be called from a running asyncio event loop; "
            "call it from synchronous code (it runs its own loop)"
        )
    _n.is_async_callable(main) or _n._start_coroutine(main, (), "tether.run")
    dist_options: dict[str, Any] = {
        "name": name,
        "cookie": cookie,
        "hidden": hidden,
        "net_ticktime": float(net_ticktime),
        "tls": tls,
        "binaries": binaries,
        "busy_limit": dist_buf_busy_limit,
        "input_limit": dist_input_limit,
    }
    if name is not None:
        _remote.check_options(**dist_options)
    loop = loop_factory() if loop_factory is not None else asyncio.new_event_loop()
    node = _n.Node(loop)
    _n.set_node(node)
    handler = _default_handler()
    watchdog = _n.Watchdog(node, hog_threshold) if hog_threshold else None
    try:
        if watchdog is not None:
            watchdog.start()
        node.done = loop.create_future()
        if name is not None:
            node.dist = _remote.start(node, loop, **dist_options)
        main_pid, _ = node.spawn(None, main, args, what="tether.run")
        node.root = node.table[main_pid]
        loop.run_until_complete(node.done)
        root = node.root
        reason = root.reason
        if _n.is_normal(reason):
            return cast(T, node.root_result)
        if isinstance(reason, BaseException):
            raise reason
        raise ProcessExit(reason)
    finally:
        if watchdog is not None:
            watchdog.close()
        try:
            node.shutdown()
            if node.dist is not None:
                tasks = node.dist.close()
                loop.run_until_complete(_wait_cancelled(tasks))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            loop.close()
            _n.set_node(_n.NO_NODE)
            if handler is not None:
                logging.getLogger("tether").removeHandler(handler)


# -- Process ------------------------------------------------------------------

_INFO_ITEMS: Final = (
    "registered_name",
    "current_function",
    "current_stacktrace",
    "initial_call",
    "status",
    "message_queue_len",
    "messages",
    "links",
    "monitors",
    "monitored_by",
    "dictionary",
    "trap_exit",
    "memory",
)
# Process.info/1's items, in the BEAM's order (registered_name first when named).
_INFO_DEFAULT: Final = (
    "current_function",
    "initial_call",
    "status",
    "message_queue_len",
    "links",
    "dictionary",
    "trap_exit",
)

_NO_DEFAULT: Final = object()


def _frame_tuple(f: types.FrameType) -> tuple[str, str, int]:
    return (f.f_globals.get("__name__", "?"), f.f_code.co_qualname, f.f_lineno)


def _initial_call(p: _n.Process) -> tuple[str, str, int]:
    fn = p.initial_call
    code = getattr(fn, "__code__", None)
    arity = code.co_argcount if code is not None else 0
    return (
        getattr(fn, "__module__", None) or "?",
        getattr(fn, "__qualname__", None) or repr(fn),
        arity,
    )


def _memory(p: _n.Process) -> int:
    size = sys.getsizeof(p) + sys.getsizeof(p.pid)
    c: Any = p.coro
    while c is not None:
        size += sys.getsizeof(c)
        c = getattr(c, "cr_await", None) or getattr(c, "gi_yieldfrom", None)
    if p.mailbox is not None:
        size += sys.getsizeof(p.mailbox) + sys.getsizeof(p.mailbox._msgs)
        size += sum(sys.getsizeof(m) for m in p.mailbox)
    for container in (p.links, p.monitors, p.monitored_by, p.dictionary, p.timers):
        if container is not None:
            size += sys.getsizeof(container)
    return size


def _info_item(node: _n.Node, p: _n.Process, item: str) -> Any:
    if item == "links":
        return list(p.links) if p.links else []
    if item == "monitors":
        return [(PROCESS, obj) for (_t, obj) in p.monitors.values()] if p.monitors else []
    if item == "monitored_by":
        return list(p.monitored_by.values()) if p.monitored_by else []
    if item == "messages":
        return list(p.mailbox) if p.mailbox is not None else []
    if item == "message_queue_len":
        return len(p.mailbox) if p.mailbox is not None else 0
    if item == "trap_exit":
        return p.trap_exit
    if item == "registered_name":
        return p.name
    if item == "status":
        if node.current is p:
            return Atom("running")
        if p.state == _n.RUNNABLE:
            return Atom("runnable")
        if p.state == _n.SUSPENDED:
            return Atom("suspended")
        return Atom("waiting")
    if item == "dictionary":
        return dict(p.dictionary) if p.dictionary else {}
    if item == "initial_call":
        return _initial_call(p)
    if item == "current_function":
        frames = _n.current_frames(p)
        if not frames:
            return (*_initial_call(p)[:2], 0)
        return _frame_tuple(frames[0])
    if item == "current_stacktrace":
        return [
            (
                f.f_globals.get("__name__", "?"),
                f.f_code.co_qualname,
                f.f_code.co_filename,
                f.f_lineno,
            )
            for f in _n.current_frames(p)
        ]
    if item == "memory":
        return _memory(p)
    raise AssertionError(item)


def _check_item(item: Any) -> str:
    if not isinstance(item, str):
        raise TypeError(f"Process.info: item must be a str or a list of str, got {item!r}")
    if item not in _INFO_ITEMS:
        raise ValueError(
            f"Process.info: unknown item {item!r}; known items: {', '.join(_INFO_ITEMS)}"
        )
    return item


@types.coroutine
def _sleep(seconds: float | None) -> Any:
    node = _n.NODE
    p = node.current
    if p is None:
        raise _n.outside_error("Process.sleep")
    assert isinstance(node, _n.Node)
    t = check_timeout(seconds, "Process.sleep", "seconds")
    if p.state == _n.DEAD:
        raise ExitSignal(p.reason)
    if t == 0:
        yield None
        return None
    p.matcher = _NEVER
    if t is not None:
        p.timer = node.loop.call_later(t, node.receive_timeout, p)
    while True:
        r = yield _n.WAIT
        if r is _n.TIMEOUT:
            return None
        if r is _n.CANCEL:
            raise asyncio.CancelledError
        p.matcher = _NEVER  # pragma: no cover - _NEVER never matches nor raises


@types.coroutine
def _park() -> Any:
    """Block the caller, taking no message, until the runtime resumes it with a value."""
    p = _n.NODE.current
    assert p is not None
    p.matcher = _NEVER
    yield _n.WAIT


class Process:
    """Elixir's ``Process`` module: links, monitors, exits, info, names, timers.

    All of these are plain functions that never block, except :meth:`sleep`.
    Call them from inside a process (see :func:`tether.run`).
    """

    def __init__(self) -> None:
        raise TypeError("Process is a namespace of functions; it has no instances")

    @staticmethod
    def exit(pid: Pid, reason: Any) -> bool:
        """Send an exit signal to ``pid``; return ``True`` (E-4).

        Elixir's ``Process.exit/2``; the outcome is §1.1's table: ``"kill"`` ends
        the target unconditionally with ``:killed``; ``"normal"`` is dropped unless
        the target traps exits (then ``Exit(self(), :normal)``) or is the caller
        (then it ends); any other reason ends a non-trapping target or becomes an
        ``Exit`` message for a trapping one.  When the signal ends the caller
        itself, this does not return.
        """
        p = _cur("Process.exit")
        check_pid(pid, "Process.exit")
        node = _node()
        node.exit_signal(p, pid, reason)
        if p.state == _n.DEAD and p is node.current:
            raise ExitSignal(p.reason)
        return True

    @staticmethod
    def link(pid: Pid) -> bool:
        """Link the caller and ``pid``; return ``True`` (L-1, L-2, L-5).

        Raises:
            tether.NoProcError: ``pid`` is dead and the caller does not trap exits
                (a trapping caller gets ``Exit(pid, :noproc)`` instead; L-4).
            TypeError: ``pid`` is not a Pid (L-6).
        """
        p = _cur("Process.link")
        check_pid(pid, "Process.link")
        node = _node()
        node.link(p, pid)
        if p.state == _n.DEAD:
            raise ExitSignal(p.reason)
        return True

    @staticmethod
    def unlink(pid: Pid) -> bool:
        """Remove the link between the caller and ``pid``; return ``True`` (L-7).

        Once it returns, the link can no longer affect the caller (L-8); an
        ``Exit`` already in a trapping caller's mailbox stays there: flush it with
        ``receive(Exit(pid, ANY), timeout=0)``.
        """
        p = _cur("Process.unlink")
        check_pid(pid, "Process.unlink")
        _node().unlink(p, pid)
        return True

    @staticmethod
    def monitor(target: Pid | str | tuple[str, str], alias: bool = False) -> Ref:
        """Monitor a pid or a registered name; return the monitor's ref (M-1…M-4, M-11).

        When the target exits the caller gets ``Down(ref, :process, object, reason)``
        where ``object`` is the pid, or ``(name, node)`` for a name.  A dead target
        gives ``:noproc`` at once; ``monitor(self())`` creates nothing (M-12).

        With ``alias=True`` (Elixir's ``alias: :demonitor``, M-16) the ref is also
        an alias of the caller until the monitor is removed: replies sent to it
        after a ``demonitor`` or the ``Down`` are dropped.
        """
        p = _cur("Process.monitor")
        if not isinstance(alias, bool):
            raise TypeError(f"Process.monitor: alias must be bool, got {alias!r}")
        node = _node()
        if type(target) is Pid:
            return node.monitor_pid(p, target, alias)
        if isinstance(target, str):
            return node.monitor_name(p, target, node.name, alias)
        if (
            type(target) is tuple
            and len(target) == 2
            and isinstance(target[0], str)
            and isinstance(target[1], str)
        ):
            return node.monitor_name(p, target[0], target[1], alias)
        raise TypeError(
            f"Process.monitor: target must be a Pid, a registered name or (name, node), "
            f"got {target!r}"
        )

    @staticmethod
    def demonitor(ref: Ref, flush: bool = False, info: bool = False) -> bool:
        """Turn off the caller's monitor ``ref`` (M-5…M-9).

        Returns ``True``; with ``info=True``, whether an active monitor was found
        and removed (``False`` when its ``Down`` was already queued or consumed, or
        the ref is unknown).  ``flush=True`` removes one queued ``Down`` for ``ref``.
        Afterwards no ``Down`` for ``ref`` will be added (M-6).
        """
        p = _cur("Process.demonitor")
        if not isinstance(ref, Ref):
            raise TypeError(f"Process.demonitor: ref must be a tether.Ref, got {ref!r}")
        if not isinstance(flush, bool) or not isinstance(info, bool):
            raise TypeError("Process.demonitor: flush and info must be bool")
        found = _node().demonitor(p, ref)
        if flush and p.mailbox is not None and len(p.mailbox):
            m = compile_filters((Down(ref, ANY, ANY, ANY),))
            assert m is not None
            p.mailbox.take(m)
        # M-8/M-9 as the real BEAM answers (checked on OTP 25): with info, the
        # result says whether an active monitor was found, flush or not; an
        # unknown ref gives false even with flush.
        return found if info else True

    @staticmethod
    def flag(flag: str, value: bool) -> bool:
        """Set a process flag; return its old value (E-7).  Only ``"trap_exit"``."""
        p = _cur("Process.flag")
        if flag != "trap_exit":
            raise ValueError(f"Process.flag: unknown flag {flag!r}; supported: 'trap_exit'")
        if not isinstance(value, bool):
            raise TypeError(f"Process.flag: value for 'trap_exit' must be bool, got {value!r}")
        old = p.trap_exit
        p.trap_exit = value
        return old

    @staticmethod
    def info(pid: Pid, item: str | list[str] | None = None) -> Any:
        """Information about a live local process; ``None`` when it is dead (§5).

        ``info(pid)``: a dict of the default items.  ``info(pid, "links")``: one
        item's value.  ``info(pid, ["links", "status"])``: a dict in the asked order.
        Items: registered_name, current_function, current_stacktrace, initial_call,
        status, message_queue_len, messages, links, monitors, monitored_by,
        dictionary, trap_exit, memory.  ``current_function`` is
        ``(module, qualname, line)`` of the innermost frame outside tether.

        Raises:
            ValueError: an unknown item, or a pid of another node.
            TypeError: ``pid`` is not a Pid.
        """
        _cur("Process.info")
        check_pid(pid, "Process.info")
        if pid.node is not None:
            raise ValueError("Process.info: pid belongs to another node; ask that node")
        items: list[str] | None = None
        if item is not None and not isinstance(item, str):
            if not isinstance(item, list):
                raise TypeError(f"Process.info: item must be a str or a list of str, got {item!r}")
            items = [_check_item(i) for i in item]
        elif item is not None:
            _check_item(item)
        node = _node()
        p = node.table.get(pid)
        if p is None:
            return None
        if item is None:
            keys = (("registered_name",) if p.name is not None else ()) + _INFO_DEFAULT
            return {k: _info_item(node, p, k) for k in keys}
        if items is not None:
            return {k: _info_item(node, p, k) for k in items}
        assert isinstance(item, str)
        return _info_item(node, p, item)

    @staticmethod
    def alive(pid: Pid) -> bool:
        """Whether a local process is alive: Elixir's ``Process.alive?/1`` (S-9, PI-1)."""
        _cur("Process.alive")
        check_pid(pid, "Process.alive")
        if pid.node is not None:
            raise ValueError("Process.alive: pid belongs to another node")
        return pid in _node().table

    @staticmethod
    def register(pid: Pid, name: str) -> bool:
        """Register ``pid`` under ``name``; return ``True`` (PI-2).

        Raises:
            ValueError: ``pid`` is dead, ``name`` is taken, or ``pid`` already has a
                name.
        """
        _cur("Process.register")
        check_pid(pid, "Process.register")
        if not isinstance(name, str) or not name:
            raise TypeError(f"Process.register: name must be a non-empty str, got {name!r}")
        node = _node()
        p = node.table.get(pid)
        if p is None or name in node.names or p.name is not None:
            raise ValueError(
                f"Process.register: could not register {pid!r} with name {name!r} because it "
                "is not alive, the name is already taken, or it has already been given "
                "another name"
            )
        node.register(p, name)
        return True

    @staticmethod
    def unregister(name: str) -> bool:
        """Remove the registered ``name``; return ``True``.

        Raises:
            ValueError: no process is registered as ``name``.
        """
        _cur("Process.unregister")
        if not isinstance(name, str):
            raise TypeError(f"Process.unregister: name must be a str, got {name!r}")
        node = _node()
        p = node.names.pop(name, None)
        if p is None:
            raise ValueError(f"Process.unregister: no process is registered as {name!r}")
        p.name = None
        return True

    @staticmethod
    def whereis(name: str) -> Pid | None:
        """The pid registered as ``name``, or ``None`` (PI-3)."""
        _cur("Process.whereis")
        if not isinstance(name, str):
            raise TypeError(f"Process.whereis: name must be a str, got {name!r}")
        p = _node().names.get(name)
        return None if p is None else p.pid

    @staticmethod
    def registered() -> list[str]:
        """All registered names."""
        _cur("Process.registered")
        return list(_node().names)

    @staticmethod
    def list() -> list[Pid]:
        """The pids of every live process, in the order they were spawned."""
        _cur("Process.list")
        return [*_node().table]

    @staticmethod
    def sleep(seconds: float | None) -> Awaitable[None]:
        """Suspend the caller for ``seconds`` (``None``: forever); messages stay queued.

        Elixir's ``Process.sleep/1`` (``receive after t -> :ok end``).
        """
        return cast(Awaitable[None], _sleep(seconds))

    @staticmethod
    def send_after(dest: Pid | str | tuple[str, str], msg: Any, seconds: float) -> TimerRef:
        """Send ``msg`` to ``dest`` after ``seconds``; return a timer reference.

        A timer for a pid is cancelled if that process dies first; a name is
        looked up when the timer fires.
        """
        _cur("Process.send_after")
        t = check_seconds(seconds, "Process.send_after")
        if not (
            type(dest) is Pid
            or isinstance(dest, str)
            or (type(dest) is tuple and len(dest) == 2 and all(isinstance(x, str) for x in dest))
        ):
            raise TypeError(
                f"Process.send_after: dest must be a Pid, a name or (name, node), got {dest!r}"
            )
        return _node().send_after(dest, msg, t)

    @staticmethod
    def cancel_timer(timer: TimerRef) -> float | bool:
        """Cancel a timer: the seconds that were left, or ``False`` if it already fired."""
        _cur("Process.cancel_timer")
        if not isinstance(timer, TimerRef):
            raise TypeError(f"Process.cancel_timer: timer must be a TimerRef, got {timer!r}")
        return _node().cancel_timer(timer)

    @staticmethod
    def read_timer(timer: TimerRef) -> float | bool:
        """Seconds left on a timer, or ``False`` if it fired or was cancelled."""
        _cur("Process.read_timer")
        if not isinstance(timer, TimerRef):
            raise TypeError(f"Process.read_timer: timer must be a TimerRef, got {timer!r}")
        node = _node()
        if timer not in node.timers:
            return False
        return max(0.0, timer._when - node.loop.time())

    @staticmethod
    def alias(reply: bool = False) -> Ref:
        """Create an alias for the caller: a :class:`Ref` that others can ``send`` to.

        Elixir's ``Process.alias/0,1`` (M-16).  Messages sent to an alias after
        :meth:`unalias` (or after the caller died) are dropped.  With
        ``reply=True`` the alias deactivates itself after one message (Erlang's
        ``[reply]`` option): the shape of a call's reply channel.
        """
        p = _cur("Process.alias")
        if not isinstance(reply, bool):
            raise TypeError(f"Process.alias: reply must be bool, got {reply!r}")
        return _node().make_alias(p, reply)

    @staticmethod
    def unalias(alias: Ref) -> bool:
        """Deactivate one of the caller's aliases; ``True`` if it was active (M-16)."""
        p = _cur("Process.unalias")
        if not isinstance(alias, Ref):
            raise TypeError(f"Process.unalias: alias must be a tether.Ref, got {alias!r}")
        return _node().unalias(p, alias)

    @staticmethod
    def put(key: Any, value: Any) -> Any:
        """Store ``value`` under ``key`` in the process dictionary; return the old value."""
        p = _cur("Process.put")
        if p.dictionary is None:
            p.dictionary = {}
        old = p.dictionary.get(key)
        p.dictionary[key] = value
        return old

    @staticmethod
    def get(key: Any = _NO_DEFAULT, default: Any = None) -> Any:
        """The value under ``key`` (or ``default``); with no key, the whole dictionary."""
        p = _cur("Process.get")
        if key is _NO_DEFAULT:
            return dict(p.dictionary) if p.dictionary else {}
        if p.dictionary is None:
            return default
        return p.dictionary.get(key, default)

    @staticmethod
    def delete(key: Any) -> Any:
        """Remove ``key`` from the process dictionary; return its value (or ``None``)."""
        p = _cur("Process.delete")
        if p.dictionary is None:
            return None
        return p.dictionary.pop(key, None)
