"""The public runtime API: thin, validating wrappers over the engine in ``_node``.

Every function here checks its arguments (``TypeError``/``ValueError`` naming the
argument: the BEAM's ``badarg``), finds the calling process, and calls one engine
operation.  Functions that can never block are plain functions; those that may
wait (``receive``, ``Process.sleep``) are awaitables.
"""

from __future__ import annotations

import asyncio
import builtins
import logging
import math
import re
import sys
import threading
import types
import weakref
from collections.abc import Awaitable, Callable, Coroutine
from typing import (
    Any,
    Final,
    Literal,
    NoReturn,
    Protocol,
    TypeGuard,
    TypeVar,
    TypeVarTuple,
    cast,
    overload,
)

from . import _core, _lifecycle, _remote
from . import _node as _n
from ._mailbox import (
    MISSING,
    Mailbox,
    Matcher,
    PyMailbox,
    compile_filters,
    down_matcher,
    reply_matcher,
)
from ._types import (
    NOPROC,
    PORT,
    PROCESS,
    SHUTDOWN,
    Atom,
    Down,
    Exit,
    ExitSignal,
    ImproperList,
    Pid,
    Port,
    ProcessExit,
    Ref,
    TimerRef,
    _node_numbers,
)
from ._validate import (
    check_bool,
    check_int,
    check_pid,
    check_seconds,
    check_target,
    check_timeout,
    is_number,
)

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
T2 = TypeVar("T2")
# The arguments of spawn(fun, *args) and friends, checked against fun's parameters
# (as typeshed types loop.call_soon).  Not a ParamSpec: that needs **kwargs too,
# and a process function takes positional arguments only.  mypy (2.4) does not see
# that an implementation taking ``*args: Any`` accepts an overload's ``*args: *Ts``
# (it says "does not accept all possible parameters"): hence its ignores below.
Ts = TypeVarTuple("Ts")

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
    """Accept ``spawn(fun, *args)`` and the MFA form ``spawn(obj, "name", [args])``
    (the callers call it only for two arguments, the MFA form's count)."""
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


@overload
def spawn(fun: Callable[[*Ts], Coroutine[Any, Any, Any]], /, *args: *Ts) -> Pid: ...
@overload
def spawn(module: object, fun: str, args: list[Any], /) -> Pid: ...
def spawn(fun: Any, /, *args: Any) -> Pid:  # type: ignore[misc]  # mypy: see Ts
    """Start a new process running ``await fun(*args)``; return its pid.

    Elixir's ``spawn/1`` and ``spawn/3``: ``spawn(Mod, "fun", [args])`` calls the
    attribute ``fun`` of a module or object.  The child is not linked to the caller:
    its crash does not affect the parent (E-9).  It may run before or after
    ``spawn`` returns.

    Raises:
        TypeError: ``fun`` is not an ``async def`` function.
    """
    node = _n.NODE
    p = node.current
    if p is None:
        raise _n.outside_error("spawn")
    if len(args) == 2:
        fun, args = _resolve(fun, args, "spawn")
    return node.spawn(p, fun, args, what="spawn")[0]  # type: ignore[union-attr]


@overload
def spawn_link(fun: Callable[[*Ts], Coroutine[Any, Any, Any]], /, *args: *Ts) -> Pid: ...
@overload
def spawn_link(module: object, fun: str, args: list[Any], /) -> Pid: ...
def spawn_link(fun: Any, /, *args: Any) -> Pid:  # type: ignore[misc]  # mypy: see Ts
    """Like :func:`spawn`, and link the child to the caller atomically (L-3).

    Elixir's ``spawn_link/1,3``.  If either side dies abnormally, the other gets an
    exit signal (§1.1): it dies with the same reason unless it traps exits.
    """
    node = _n.NODE
    p = node.current
    if p is None:
        raise _n.outside_error("spawn_link")
    if len(args) == 2:
        fun, args = _resolve(fun, args, "spawn_link")
    return node.spawn(p, fun, args, link=True, what="spawn_link")[0]  # type: ignore[union-attr]


@overload
def spawn_monitor(
    fun: Callable[[*Ts], Coroutine[Any, Any, Any]], /, *args: *Ts
) -> tuple[Pid, Ref]: ...
@overload
def spawn_monitor(module: object, fun: str, args: list[Any], /) -> tuple[Pid, Ref]: ...
def spawn_monitor(fun: Any, /, *args: Any) -> tuple[Pid, Ref]:  # type: ignore[misc]  # mypy: see Ts
    """Like :func:`spawn`, and monitor the child atomically; return ``(pid, ref)`` (M-14).

    Elixir's ``spawn_monitor/1,3``.  When the child exits, the caller gets
    ``Down(ref, :process, pid, reason)``.
    """
    node = _n.NODE
    p = node.current
    if p is None:
        raise _n.outside_error("spawn_monitor")
    if len(args) == 2:
        fun, args = _resolve(fun, args, "spawn_monitor")
    return node.spawn(p, fun, args, monitor=True, what="spawn_monitor")  # type: ignore[union-attr,return-value]


# -- messages -----------------------------------------------------------------


def send(dest: Pid | Ref | str | tuple[Any, ...] | Port, msg: T) -> T:
    """Send ``msg`` to ``dest``; return ``msg`` (S-7).

    Elixir's ``send/2``.  ``dest`` is a :class:`Pid`, an alias (a :class:`Ref`
    from :meth:`Process.alias`), a registered name, ``(name, node)``, a
    cluster-wide name ``("global", name)`` (``tether.global_``, Erlang's
    ``global:send/2``) or ``("via", module, name)`` (``module.send(name, msg)``);
    or a :class:`Port`, which takes the BEAM's port messages (``(owner,
    ("command", data))``, ``(owner, "close")``, ``(owner, ("connect", pid))``; see
    ``docs/ports.md``).  Sending to a dead pid, an inactive alias, or ``(name,
    node())`` with no such name does nothing; sending to a local or global name
    that is not registered raises ``ValueError`` (the BEAM's badarg).  Never
    blocks.
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
    via = via_of(dest)
    if via is not None:
        # ("via", module, key) and ("global", key): the name service delivers
        # (global:send/2, a via module's send/2), or raises for an unknown name.
        if p.state != _DEAD:
            via[0].send(via[1], msg)
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
    if type(dest) is Port:
        t = node.table.get(dest)
        if t is not None and p.state != _n.DEAD:
            node.deliver(t, msg)
        return msg
    raise TypeError(
        "send: dest must be a Pid, an alias Ref, a registered name, (name, node), "
        f"('global', name), ('via', module, name) or a Port, got {dest!r}"
    )


# -- names of name services (global, via) ---------------------------------------
#
# ("global", name) names a process through tether.global_ (Erlang's global), which
# sits above the runtime: it installs itself here when imported, as distribution
# does in _remote, so the runtime imports nothing above it.  ("via", module, name)
# names one through any module with whereis_name/send (Elixir's :via tuples).  As
# in OTP's gen.erl, ("global", x) is read before (name, node): a process
# registered as "global" on another node is reached with ("via", ...) or a pid.

_global_names: Any = None


def install_global_names(service: Any) -> None:
    """Make ``service`` (a module with ``whereis_name``, ``register_name``,
    ``unregister_name`` and ``send``) the one ``("global", name)`` resolves through;
    ``tether.global_`` calls it when imported."""
    global _global_names
    _global_names = service


def via_of(name: Any) -> tuple[Any, Any] | None:
    """``(module, key)`` for ``("via", module, key)`` and ``("global", key)`` (whose
    module is ``tether.global_``); ``None`` for any other value.  Never raises for a
    name of another shape; raises ``RuntimeError`` for ``("global", key)`` when no
    global name service is installed (``import tether`` installs it)."""
    if type(name) is not tuple:
        return None
    if len(name) == 3 and isinstance(name[0], str) and name[0] == "via":
        return name[1], name[2]
    if len(name) == 2 and isinstance(name[0], str) and name[0] == "global":
        if _global_names is None:
            raise RuntimeError(
                f"{name!r}: no global name service is installed; import tether (the "
                "package installs tether.global_)"
            )
        return _global_names, name[1]
    return None


class _Receive(Protocol):
    # What a type checker sees of receive: the message's type follows from the
    # filters where it can (one or two classes, a Down or Exit pattern, a
    # TypeGuard predicate); otherwise Any.  tuple, list and dict get their Any
    # forms, not tuple[Unknown, ...].
    @overload
    def __call__(self, *, timeout: float | None = None) -> Awaitable[Any]: ...
    @overload
    def __call__(
        self, f: type[tuple[Any, ...]], /, *, timeout: float | None = None
    ) -> Awaitable[tuple[Any, ...]]: ...
    @overload
    def __call__(
        self, f: type[list[Any]], /, *, timeout: float | None = None
    ) -> Awaitable[list[Any]]: ...
    @overload
    def __call__(
        self, f: type[dict[Any, Any]], /, *, timeout: float | None = None
    ) -> Awaitable[dict[Any, Any]]: ...
    @overload
    def __call__(self, f: type[T], /, *, timeout: float | None = None) -> Awaitable[T]: ...
    @overload
    def __call__(
        self, f: type[T], g: type[T2], /, *, timeout: float | None = None
    ) -> Awaitable[T | T2]: ...
    @overload
    def __call__(self, f: Down, /, *, timeout: float | None = None) -> Awaitable[Down]: ...
    @overload
    def __call__(self, f: Exit, /, *, timeout: float | None = None) -> Awaitable[Exit]: ...
    @overload
    def __call__(
        self, f: Callable[[Any], TypeGuard[T]], /, *, timeout: float | None = None
    ) -> Awaitable[T]: ...
    @overload
    def __call__(self, *filters: Any, timeout: float | None = None) -> Awaitable[Any]: ...


# Whether a mailbox holds messages, as cheaply as each core allows: the pure
# core's PyMailbox by its dict (an attribute read, no call), the C Mailbox (the
# native core delegates some receives to _receive) by its length.
_PURE: Final = Mailbox is PyMailbox


@types.coroutine
def _receive(*filters: Any, timeout: float | None = None) -> Any:
    p = _n.NODE.current
    if p is None:
        raise _n.outside_error("receive")
    if timeout is not None and not (type(timeout) is float and 0.0 <= timeout < math.inf):
        timeout = check_timeout(timeout, "receive")  # (a finite float >= 0 is valid as it is)
    if not filters:
        matcher = None
    elif len(filters) == 1 and type(filters[0]) is Matcher:
        matcher = filters[0]  # built already (reply_filter): what compile_filters returns
    else:
        matcher = compile_filters(filters)
    if p.state == _DEAD:
        # A dead process cannot wait.  Yield to the scheduler, which throws
        # ExitSignal in: raising here instead would let a loop that catches
        # everything spin without ever giving the scheduler control back.
        yield _WAIT
        raise ExitSignal(p.reason)
    mb = p.mailbox
    if mb is not None and (mb._msgs if _PURE else len(mb)):
        # Fairness: a receive answered from the mailbox does not yield, so a
        # process that keeps finding messages (sending to itself, draining a
        # flood) would never let another run.  Every 256th such receive on the
        # node yields once first, as the BEAM's reduction count would preempt it.
        node = _n.NODE
        node.quick_receives += 1
        if not node.quick_receives & 255:
            yield None
            if p.state == _DEAD:
                yield _WAIT
                raise ExitSignal(p.reason)
            mb = p.mailbox
        if mb is not None and (mb._msgs if _PURE else len(mb)):
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
            return msg
        deadline = None
    else:
        if timeout == 0:
            raise TimeoutError("receive: no matching message (timeout=0)")
        deadline = None if timeout is None else _n.NODE.loop.time() + timeout  # type: ignore[union-attr]
        msg = None  # the mailbox was just scanned
    # (a process is running, so the node is a Node: _node() without its check,
    # and without typing.cast, which is a call)
    node = _n.NODE
    while True:
        if msg is _n.RESCAN and matcher is not None and p.mailbox is not None:
            # A predicate raised while the message was delivered: rescan here, in
            # the receiver's own context, where it raises again for the user to see.
            found = p.mailbox.take(matcher)
            if found is not MISSING:
                return found
        p.matcher = matcher
        if deadline is not None:
            node.set_receive_timer(p, deadline)  # type: ignore[union-attr]
        msg = yield _WAIT
        if msg is _n.TIMEOUT:
            raise TimeoutError(f"receive: no matching message within {timeout} s")
        if msg is not _n.RESCAN:
            return msg


receive: Final = cast(_Receive, _receive)
_RECEIVE_DOC: Final = """Wait for a message and return it: Elixir's ``receive … after``.

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
_receive.__doc__ = _RECEIVE_DOC

#: The native core's C functions that replace public functions of this module,
#: each mapped to the Python function it mirrors (empty on the pure-Python core).
REFERENCE: Final[dict[Callable[..., Any], Callable[..., Any]]] = {}

if _core.native is not None:
    # The native core (_core.py): send to a local pid, the plain receive, and
    # spawn, spawn_link and spawn_monitor of an async def function from inside a
    # process in C; everything else in the functions above, which the C calls
    # (init_api).
    _core.native.init_api(send, _receive, spawn, spawn_link, spawn_monitor)
    # Each C function's reference, whose docstring is the documentation (the
    # C docstrings point here): the shell's h() shows it.
    REFERENCE.update(
        {
            _core.native.send: send,
            _core.native.receive: _receive,
            _core.native.spawn: spawn,
            _core.native.spawn_link: spawn_link,
            _core.native.spawn_monitor: spawn_monitor,
        }
    )
    send = _core.native.send
    spawn = _core.native.spawn
    spawn_link = _core.native.spawn_link
    spawn_monitor = _core.native.spawn_monitor
    receive = cast(_Receive, _core.native.receive)  # type: ignore[misc]


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
    """Return a new unique reference: Elixir's ``make_ref/0``.

    Called in a process, it also sets the process's receive marker: a receive
    whose one filter is tagged with this ref (``receive((ref, ANY))``) looks only
    at the messages that arrive after this call (S-5, ``docs/rules.md``).
    """
    ref = _n.new_ref()
    p = _n.NODE.current
    if p is not None and p.mailbox is not None:
        p.mailbox.mark(ref)
    return ref


if _core.native is not None:
    REFERENCE[_core.native.make_ref] = make_ref
    make_ref = _core.native.make_ref  # the same, in C (its docstring says the same)


def node() -> Atom:
    """Return this node's name: ``:"nonode@nohost"`` until the node is distributed."""
    return _n.NODE.name


def is_alive() -> bool:
    """Whether this node is distributed (started with ``name=``): ``erlang:is_alive/0``,
    Elixir's ``Node.alive?/0``."""
    return getattr(_n.NODE, "dist", None) is not None


def nodes(kind: str = "visible") -> list[Atom]:
    """The connected nodes: ``erlang:nodes/1`` (``"visible"`` by default,
    ``"hidden"``, ``"connected"``); ``[]`` when this node is not distributed."""
    if kind not in ("visible", "hidden", "connected"):
        raise ValueError(f"nodes: kind must be 'visible', 'hidden' or 'connected', got {kind!r}")
    dist = getattr(_n.NODE, "dist", None)
    return [] if dist is None else list(dist.nodes(kind))


_ALIAS: Final = "alias"


def reply_to(from_: Any, reply: Any) -> None:
    """Answer a ``$gen_call`` whose ``from`` is ``from_``, wherever its caller waits:
    ``gen:reply/2``.  The message is ``(tag, reply)``.

    The tag's shape says where: a tether caller's tag is an alias (a
    :class:`Ref`, of this node or, seen from a server on another node, of the
    caller's), answered there, so a reply that comes after the caller gave up is
    dropped (G-7); an OTP 24+ caller's is ``[alias | Alias]``, or ``[[alias |
    Alias] | Label]``, answered at ``Alias``; any other tag goes to the pid.  A
    ``from_`` of no known shape is dropped, as ``gen:reply`` drops a send that
    fails; the only error is :func:`send`'s own (a reply with no term for a
    remote caller).  Call it from inside a process.
    """
    _cur("reply_to")
    if type(from_) is not tuple or len(from_) != 2:
        return
    pid, tag = from_
    alias = alias_of_tag(tag)
    dest: Any = alias if alias is not None else pid
    if type(dest) is Pid or isinstance(dest, Ref):
        send(dest, (tag, reply))


#: ``reply_filter(ref)``: a ``receive`` filter for a call's reply ``(ref, _)`` or
#: the callee's ``Down(ref, ...)``; the same as the two patterns, built without
#: compiling them (``GenServer.call`` makes one per call).  Internal: for the
#: behaviours.  (``reply_matcher`` itself: a wrapper would cost a call per call.)
reply_filter: Final[Callable[[Ref], Matcher]] = reply_matcher


def call_monitor(pid: Pid, what: str) -> tuple[Pid, Ref] | None:
    """``Process.monitor(pid, alias=True)`` for a call's hot path: the call's
    ``from`` ``(self(), ref)``, or ``None`` when ``pid`` is the caller itself (the
    call must exit ``calling_self``).

    ``pid`` is a :class:`Pid` the caller has checked.  A live local target is
    monitored here inline, the same bookkeeping as ``Node.monitor_pid`` (M-1,
    M-16) in one frame instead of five; every other case (a dead caller, a dead
    or remote target: M-4, M-12, D-3) goes to ``monitor_pid`` itself.
    Internal: for the behaviours (``GenServer.call`` makes one per call).
    """
    node = _n.NODE
    p = node.current
    if p is None:
        raise _n.outside_error(what)
    t = node.table.get(pid)  # type: ignore[union-attr]
    if t is p:
        return None
    if t is None or p.state == _DEAD:
        if pid == p.pid:
            return None
        return p.pid, node.monitor_pid(p, pid, True)  # type: ignore[union-attr]
    ref = _n.new_ref()
    node.aliases[ref] = (p, False)  # type: ignore[union-attr]
    if p.aliases is None:
        p.aliases = {ref}
    else:
        p.aliases.add(ref)
    if p.monitors is None:
        p.monitors = {ref: (pid, pid)}
    else:
        p.monitors[ref] = (pid, pid)
    if t.monitored_by is None:
        t.monitored_by = {ref: p.pid}
    else:
        t.monitored_by[ref] = p.pid
    return p.pid, ref


def call_demonitor(ref: Ref, what: str) -> None:
    """``Process.demonitor(ref, flush=True)`` for a call's hot path: ``ref`` is
    the caller's own monitor from :func:`call_monitor`, so nothing needs
    checking (M-5, M-6, M-7).  Internal: for the behaviours."""
    node = _n.NODE
    p = node.current
    if p is None:
        raise _n.outside_error(what)
    node.demonitor(p, ref)  # type: ignore[union-attr]
    mb = p.mailbox
    if mb is not None and len(mb):
        mb.take(down_matcher(ref))


if _core.native is not None:
    # The native core: both in C (their common case; the rest calls the
    # functions above), with Node.send_alias and the receive timeout's
    # set_receive_timer / cancel_receive_timer (_cnode.c: "a call's bookkeeping").
    _core.native.init_calls(call_monitor, call_demonitor, asyncio.BaseEventLoop.time)
    call_monitor = _core.native.call_monitor
    call_demonitor = _core.native.call_demonitor


def alias_of_tag(tag: Any) -> Ref | None:
    """The alias a call's reply tag names (see :func:`reply_to`), or ``None``."""
    if isinstance(tag, Ref):
        return tag
    if isinstance(tag, ImproperList):
        head = tag.items[0] if tag.items else None
        if tag.items == [_ALIAS] and isinstance(tag.tail, Ref):
            return tag.tail
    elif type(tag) is list and tag:
        head = tag[0]  # [[alias | Ref], payload...] as a proper list
    else:
        return None
    if isinstance(head, ImproperList) and head.items == [_ALIAS] and isinstance(head.tail, Ref):
        return head.tail
    return None


def node_state(key: str, factory: Callable[[], T], what: str = "node_state") -> T:
    """The running node's value for ``key``, made by ``factory()`` on first use.

    Runtime state that is not a process's (a Registry's table, a process group
    scope, the applications) lives here, so it belongs to one node and goes with
    it: the next node started in this OS process starts empty.  Call from inside a
    process; ``what`` names the caller in the error raised outside one.
    """
    _cur(what)
    ext = _node().ext
    try:
        return cast(T, ext[key])
    except KeyError:
        value = ext[key] = factory()
        return value


def stop_node(reason: Any) -> None:
    """Stop the running node gracefully, as Erlang's ``init:stop/0`` does, because
    of ``reason`` (see ``docs/failure.md``).

    What the application controller does when a permanent application exits.
    The stop begins once the caller yields; once the node has stopped,
    ``tether.run`` raises ``ProcessExit(reason)`` (``reason`` itself when it is an
    exception) and the block of ``tether.open_node`` ends with
    ``tether.ExitError(reason)``.  A stop already under way (SIGTERM, an earlier
    call) keeps its own reason.  Call from inside a process.
    """
    _cur("stop_node")
    _lifecycle.request_stop(_node(), "stop", reason)


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


def _remove_default_handler(  # pyright: ignore[reportUnusedFunction] - _embed.py uses it
    handler: logging.Handler,
) -> None:
    logging.getLogger("tether").removeHandler(handler)


# tether.run(apps=...) starts applications (tether._behaviours.application),
# which sit above the runtime: the runtime never imports them.  That module,
# imported by ``import tether``, installs here the function that checks ``apps``
# and ``config`` (raising TypeError/ValueError before the node starts), reads
# the configuration, and returns the coroutine function that the root process
# awaits before ``main``.
boot_applications: Callable[[str, Any, Any], Callable[[], Coroutine[Any, Any, None]]] | None = None


async def _boot_then_main(
    boot: Callable[[], Coroutine[Any, Any, None]],
    main: Callable[..., Coroutine[Any, Any, Any]] | None,
    args: tuple[Any, ...],
) -> Any:
    """The root process of ``tether.run(main, apps=...)``: start the applications,
    then run ``main``, or without one wait until the node is stopped."""
    await boot()
    if main is None:
        await _sleep(None)  # until a signal ends it
        return None
    return await main(*args)


def run(
    main: Callable[[*Ts], Coroutine[Any, Any, T]] | None = None,
    *args: *Ts,
    apps: list[Any] | tuple[Any, ...] | None = None,
    config: Any = None,
    name: str | None = None,
    cookie: str | None = None,
    hog_threshold: float | None = 0.1,
    hog_policy: str = "warn",
    shutdown_timeout: float | None = 30.0,
    loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None,
    hidden: bool = True,
    net_ticktime: float = 60.0,
    tls: Any = None,
    binaries: str = "str",
    dist_buf_busy_limit: int = 1 << 20,
    dist_input_limit: int | None = 16 << 20,
) -> T:
    """Start a node, run ``await main(*args)`` as its first process, return its result.

    When ``main`` exits, every other process ends with it (the VM halting: their
    coroutines are closed, ``finally`` blocks run) and the node stops.  If
    ``main`` crashes, its exception is raised here; any other abnormal exit
    raises ``tether.ProcessExit(reason)``.

    With ``apps``, the first process starts those applications (and the ones
    they depend on) as ``permanent`` before ``main``, as ``mix run`` does; with
    no ``main`` the node then runs until it is stopped (``mix run --no-halt``),
    so ``run`` never returns.  A permanent application that exits stops the node
    gracefully: ``run`` raises ``tether.ProcessExit(("application_terminated",
    app, reason))``, or ``("application_start_failure", app, reason)`` when one
    of ``apps`` fails to start (and ``main`` is not run).  See
    ``docs/application.md``.

    Run from the main thread, the node owns SIGINT and SIGTERM while it runs:
    SIGTERM or the first Ctrl-C stops it gracefully, as Erlang's ``init:stop``
    (link trees newest first, each from its oldest process with the exit signal
    ``shutdown``, so supervisors stop their children in order and trapping
    GenServers run ``terminate``), then ``run`` raises ``KeyboardInterrupt``
    (Ctrl-C, as ``asyncio.run`` does) or ``SystemExit(0)`` (SIGTERM).  A second
    Ctrl-C stops at once.  See ``docs/failure.md``.

    Args:
        apps: applications to start before ``main``: ``tether.Application``
            subclasses or their names.
        config: the applications' configuration: a TOML file's path (``[apps.NAME]``
            tables; ``[tool.tether.apps.NAME]`` in a ``pyproject.toml``), or a
            dict ``{app: {key: value}}``.  Default, when ``apps`` is given:
            ``./tether.toml``, else ``./pyproject.toml``'s ``[tool.tether]``, if
            there is one.
        hog_threshold: a process that runs this many seconds without awaiting is
            a hog: logged on ``"tether"``, and ended under ``hog_policy="kill"``;
            ``None`` turns the check off.
        hog_policy: ``"warn"`` (default) or ``"kill"``: end a hog with reason
            ``("hog", hog_threshold)``.
        shutdown_timeout: seconds a graceful stop waits for each link tree before
            it kills what is left of it (``None``: wait for ever).
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
        TypeError / ValueError: a bad option, ``apps`` entry or configuration
            (nothing started).
        KeyboardInterrupt: Ctrl-C stopped the node.
        SystemExit: SIGTERM stopped the node (status 0).
        ProcessExit: ``main`` exited abnormally, or the node was stopped because
            of a reason (``stop_node``: a permanent application's exit).
    """
    if main is None and apps is None:
        raise TypeError("tether.run: give main (an async def function), apps=[...], or both")
    if main is None and args:
        raise TypeError("tether.run: arguments were given for main, but no main")
    dist_options = check_node_options(
        "tether.run",
        name=name,
        cookie=cookie,
        hog_threshold=hog_threshold,
        hog_policy=hog_policy,
        shutdown_timeout=shutdown_timeout,
        hidden=hidden,
        net_ticktime=net_ticktime,
        tls=tls,
        binaries=binaries,
        dist_buf_busy_limit=dist_buf_busy_limit,
        dist_input_limit=dist_input_limit,
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
    if main is not None and not _n.is_async_callable(main):
        _n._start_coroutine(main, (), "tether.run")  # raises the TypeError that says why
    boot = None
    if apps is not None or config is not None:
        assert boot_applications is not None, "tether._behaviours.application installs it"
        boot = boot_applications("tether.run", apps, config)
    loop = loop_factory() if loop_factory is not None else asyncio.new_event_loop()
    node = _n.Node(loop)
    node.shutdown_timeout = shutdown_timeout
    _n.set_node(node)
    handler = _default_handler()
    watchdog = _start_watchdog(node, hog_threshold, hog_policy)
    signals = _lifecycle.Signals(node)
    signals.install()
    try:
        node.done = loop.create_future()
        if dist_options is not None:
            node.dist = loop.run_until_complete(_remote.start(node, **dist_options))
        if boot is not None:
            root_args: tuple[Any, ...] = (boot, main, args)
            main_pid, _ = node.spawn(None, _boot_then_main, root_args, what="tether.run")
        else:
            assert main is not None  # checked above: no apps, no config, so a main
            main_pid, _ = node.spawn(None, main, args, what="tether.run")
        node.root = node.table[main_pid]
        loop.run_until_complete(node.done)
        if node.stopping == "sigint":
            raise KeyboardInterrupt
        if node.stopping == "sigterm":
            raise SystemExit(0)
        if node.stopping == "stop":
            if isinstance(node.stop_reason, BaseException):
                raise node.stop_reason
            raise ProcessExit(node.stop_reason)
        root = node.root
        reason = root.reason
        if _n.is_normal(reason):
            return cast(T, node.root_result)
        if isinstance(reason, BaseException):
            raise reason
        raise ProcessExit(reason)
    except _n._ForceStop as force:
        if force.args and force.args[0] == "sigterm":
            raise SystemExit(1) from None
        raise KeyboardInterrupt from None
    finally:
        watchdog.close()
        signals.restore()
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


def check_node_options(
    what: str,
    *,
    name: Any,
    cookie: Any,
    hog_threshold: Any,
    hog_policy: Any,
    shutdown_timeout: Any,
    hidden: Any,
    net_ticktime: Any,
    tls: Any,
    binaries: Any,
    dist_buf_busy_limit: Any,
    dist_input_limit: Any,
) -> dict[str, Any] | None:
    """Validate the options of ``tether.run`` / ``tether.open_node`` before anything
    starts; the distribution options to start with, or ``None`` without a name."""
    if name is not None and not isinstance(name, str):
        raise TypeError(f"{what}: name must be a str such as 'py@127.0.0.1' or None, got {name!r}")
    if binaries not in ("str", "bytes"):
        raise ValueError(f"{what}: binaries must be 'str' or 'bytes', got {binaries!r}")
    if name is None and cookie is not None:
        raise ValueError(f"{what}: cookie= needs name= (a node without a name is not distributed)")
    if not is_number(net_ticktime) or net_ticktime <= 0:
        raise ValueError(
            f"{what}: net_ticktime must be a positive number of seconds, got {net_ticktime!r}"
        )
    check_bool(hidden, what, "hidden")
    check_int(dist_buf_busy_limit, what, "dist_buf_busy_limit", 1)
    check_int(dist_input_limit, what, "dist_input_limit", 1, lambda v: v is None)
    if hog_threshold is not None and (not is_number(hog_threshold) or not hog_threshold > 0):
        raise ValueError(
            f"{what}: hog_threshold must be a positive number of seconds or None (no "
            f"check), got {hog_threshold!r}"
        )
    if hog_policy not in ("warn", "kill"):
        raise ValueError(f"{what}: hog_policy must be 'warn' or 'kill', got {hog_policy!r}")
    if hog_policy == "kill" and hog_threshold is None:
        raise ValueError(f"{what}: hog_policy='kill' needs a hog_threshold (seconds)")
    check_timeout(shutdown_timeout, what, "shutdown_timeout")
    if name is None:
        return None
    options: dict[str, Any] = {
        "name": name,
        "cookie": cookie,
        "hidden": hidden,
        "net_ticktime": float(net_ticktime),
        "tls": tls,
        "binaries": binaries,
        "busy_limit": dist_buf_busy_limit,
        "input_limit": dist_input_limit,
    }
    _remote.check_options(**options)
    return options


def _start_watchdog(node: _n.Node, hog_threshold: float | None, hog_policy: str) -> _n.Watchdog:
    node.thread_id = threading.get_ident()
    node.in_main_thread = threading.current_thread() is threading.main_thread()
    watchdog = _n.Watchdog(
        node, None if hog_threshold is None else float(hog_threshold), hog_policy
    )
    node.watchdog = watchdog
    watchdog.start()
    return watchdog


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
    "priority",
    "message_queue_data",
    "reductions",
    "messages_received",
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
    "reductions",
)

_NO_DEFAULT: Final = object()
_OK: Final = Atom("ok")
_CANCEL_TIMER: Final = Atom("cancel_timer")

# E-7: the process flags that apply in tether besides trap_exit, with their
# allowed values and their defaults.  priority and message_queue_data are
# advisory: accepted, kept and shown by Process.info, with no effect on the
# scheduler or the mailbox.  sensitive hides the messages and the dictionary
# from Process.info, as on the BEAM.  They live in a weak map owned by the node,
# so they go with their process and with the node.
_FLAG_CHOICES: Final[dict[str, tuple[Any, ...]]] = {
    "priority": ("low", "normal", "high", "max"),
    "message_queue_data": ("on_heap", "off_heap"),
    "sensitive": (False, True),
}
_FLAG_DEFAULTS: Final[dict[str, Any]] = {
    "priority": Atom("normal"),
    "message_queue_data": Atom("on_heap"),
    "sensitive": False,
}
# Flags Erlang knows that mean nothing here: refused, saying why.
_FLAGS_NOT_APPLICABLE: Final = {
    "min_heap_size": "Python manages memory",
    "min_bin_vheap_size": "Python manages memory",
    "max_heap_size": "Python manages memory",
    "fullsweep_after": "Python manages memory",
    "save_calls": "tether records no call history",
    "error_handler": "tether loads no code on demand",
    "async_dist": "not in OTP 25",
}
_FLAGS_KEY: Final = "tether.process_flags"
# What Process.info shows of a sensitive process (made fresh each time).
_SENSITIVE_ITEMS: Final[dict[str, Callable[[], Any]]] = {
    "messages": list,
    "message_queue_len": int,
    "dictionary": dict,
}


def _flag_value(node: _n.Node, p: _n.Process, flag: str) -> Any:
    flags = node.ext.get(_FLAGS_KEY)
    own = flags.get(p) if flags is not None else None
    if own is None or flag not in own:
        return _FLAG_DEFAULTS[flag]
    return own[flag]


def _set_flag(node: _n.Node, p: _n.Process, flag: str, value: Any) -> Any:
    flags = node.ext.get(_FLAGS_KEY)
    if flags is None:
        flags = node.ext[_FLAGS_KEY] = weakref.WeakKeyDictionary[_n.Process, dict[str, Any]]()
    own: dict[str, Any] | None = flags.get(p)
    if own is None:
        own = flags[p] = {}
    old = own.get(flag, _FLAG_DEFAULTS[flag])
    own[flag] = value
    return old


def _exact_eq(a: Any, b: Any) -> bool:
    """Erlang's ``=:=``: ``==`` that tells ``1`` from ``1.0`` and ``True``, deeply."""
    ta, tb = type(a), type(b)
    if ta in (int, float, bool, complex) or tb in (int, float, bool, complex):
        return ta is tb and bool(a == b)
    if (ta is tuple and tb is tuple) or (ta is list and tb is list):
        return len(a) == len(b) and all(_exact_eq(x, y) for x, y in zip(a, b, strict=True))
    if ta is dict and tb is dict:
        return a.keys() == b.keys() and all(_exact_eq(v, b[k]) for k, v in a.items())
    return bool(a == b)


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
        size += sys.getsizeof(p.mailbox)
        size += sum(sys.getsizeof(m) for m in p.mailbox)
    for container in (p.links, p.monitors, p.monitored_by, p.dictionary, p.timers):
        if container is not None:
            size += sys.getsizeof(container)
    return size


def _info_item(node: _n.Node, p: _n.Process, item: str) -> Any:
    if item in _SENSITIVE_ITEMS and _flag_value(node, p, "sensitive"):
        return _SENSITIVE_ITEMS[item]()
    if item in ("priority", "message_queue_data"):
        return _flag_value(node, p, item)
    if item == "links":
        return list(p.links) if p.links else []
    if item == "monitors":
        if not p.monitors:
            return []
        return [(PORT if type(obj) is Port else PROCESS, obj) for (_t, obj) in p.monitors.values()]
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
    if item == "reductions":
        return int(p.reductions)
    if item == "messages_received":
        return int(p.received)
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
        yield _WAIT  # see _receive: the scheduler throws ExitSignal in
        raise ExitSignal(p.reason)
    if t == 0:
        yield None
        return None
    p.matcher = _NEVER
    if t is not None:
        node.set_receive_timer(p, node.loop.time() + t)
    while True:
        r = yield _n.WAIT
        if r is _n.TIMEOUT:
            return None
        p.matcher = _NEVER  # pragma: no cover - _NEVER never matches nor raises


@types.coroutine
def _park() -> Any:
    """Block the caller, taking no message, until the runtime resumes it with a value."""
    p = _n.NODE.current
    assert p is not None
    if p.state == _n.DEAD:
        yield _WAIT
        raise ExitSignal(p.reason)
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
    def exit(pid: Pid | Port, reason: Any) -> bool:
        """Send an exit signal to ``pid`` (a process or a port); return ``True`` (E-4).

        Elixir's ``Process.exit/2``; the outcome is §1.1's table: ``"kill"`` ends
        the target unconditionally with ``:killed``; ``"normal"`` is dropped unless
        the target traps exits (then ``Exit(self(), :normal)``) or is the caller
        (then it ends); any other reason ends a non-trapping target or becomes an
        ``Exit`` message for a trapping one.  When the signal ends the caller
        itself, this does not return.  A port closes on any exit signal, ``"normal"``
        included, with the signal's reason (``"killed"`` for ``"kill"``).
        """
        p = _cur("Process.exit")
        check_target(pid, "Process.exit")
        node = _node()
        node.exit_signal(p, pid, reason)
        if p.state == _n.DEAD and p is node.current:
            raise ExitSignal(p.reason)
        return True

    @staticmethod
    def link(pid: Pid | Port) -> bool:
        """Link the caller and ``pid`` (a process or a port); return ``True`` (L-1, L-2, L-5).

        Raises:
            tether.NoProcError: ``pid`` is dead and the caller does not trap exits
                (a trapping caller gets ``Exit(pid, :noproc)`` instead; L-4).
            TypeError: ``pid`` is not a Pid or a Port (L-6).
        """
        p = _cur("Process.link")
        check_target(pid, "Process.link")
        node = _node()
        node.link(p, pid)
        if p.state == _n.DEAD:
            raise ExitSignal(p.reason)
        return True

    @staticmethod
    def unlink(pid: Pid | Port) -> bool:
        """Remove the link between the caller and ``pid``; return ``True`` (L-7).

        Once it returns, the link can no longer affect the caller (L-8); an
        ``Exit`` already in a trapping caller's mailbox stays there: flush it with
        ``receive(Exit(pid, ANY), timeout=0)``.
        """
        p = _cur("Process.unlink")
        check_target(pid, "Process.unlink")
        _node().unlink(p, pid)
        return True

    @staticmethod
    def monitor(target: Pid | Port | str | tuple[Any, ...], alias: bool = False) -> Ref:
        """Monitor a pid or a registered name; return the monitor's ref (M-1…M-4, M-11).

        When the target exits the caller gets ``Down(ref, :process, object, reason)``
        where ``object`` is the pid, or ``(name, node)`` for a name.  A dead target
        gives ``:noproc`` at once; ``monitor(self())`` creates nothing (M-12).
        A port's monitor delivers ``Down(ref, "port", port, reason)`` (Erlang's
        ``monitor(port, Port)``).  ``("global", name)`` and ``("via", module,
        name)`` are looked up once, now, and the pid they name is monitored (its
        pid is the ``Down``'s object); a name that names no process gives
        ``:noproc`` at once, with the name as the object.

        With ``alias=True`` (Elixir's ``alias: :demonitor``, M-16) the ref is also
        an alias of the caller until the monitor is removed: replies sent to it
        after a ``demonitor`` or the ``Down`` are dropped.
        """
        p = _cur("Process.monitor")
        if not isinstance(alias, bool):
            raise TypeError(f"Process.monitor: alias must be bool, got {alias!r}")
        node = _node()
        if type(target) is Pid or type(target) is Port:
            return node.monitor_pid(p, target, alias)
        if isinstance(target, str):
            return node.monitor_name(p, target, node.name, alias)
        via = via_of(target)
        if via is not None:
            # A name service's name is looked up once, now (as M-11 for a local
            # name); the monitor is then the pid's.  An unknown name is :noproc
            # at once, with the name as the DOWN's object.
            found = via[0].whereis_name(via[1])
            if type(found) is Pid:
                return node.monitor_pid(p, found, alias)
            ref = _n.new_ref()
            if p.state != _DEAD:
                node.deliver(p, Down(ref, PROCESS, target, NOPROC))
            return ref
        if (
            type(target) is tuple
            and len(target) == 2
            and isinstance(target[0], str)
            and isinstance(target[1], str)
        ):
            return node.monitor_name(p, target[0], target[1], alias)
        raise TypeError(
            "Process.monitor: target must be a Pid, a Port, a registered name, "
            f"(name, node), ('global', name) or ('via', module, name), got {target!r}"
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
            p.mailbox.take(down_matcher(ref))
        # M-8/M-9 as the real BEAM answers (checked on OTP 25): with info, the
        # result says whether an active monitor was found, flush or not; an
        # unknown ref gives false even with flush.
        return found if info else True

    # The flag names are literals, so a type checker catches a misspelt flag or a
    # value the flag does not take; the checks below still run (untyped callers).
    @overload
    @staticmethod
    def flag(flag: Literal["trap_exit", "sensitive"], value: bool) -> bool: ...
    @overload
    @staticmethod
    def flag(flag: Literal["priority"], value: Literal["low", "normal", "high", "max"]) -> Atom: ...
    @overload
    @staticmethod
    def flag(
        flag: Literal["message_queue_data"], value: Literal["on_heap", "off_heap"]
    ) -> Atom: ...
    @staticmethod
    def flag(flag: str, value: Any) -> Any:
        """Set one of the caller's process flags; return its old value (E-7).

        Elixir's ``Process.flag/2``.  Flags:

        * ``"trap_exit"`` (bool): exit signals become ``Exit`` messages.
        * ``"priority"`` (``"low"``, ``"normal"``, ``"high"``, ``"max"``):
          advisory — kept and shown by ``Process.info(pid, "priority")``; the
          scheduler runs every process alike.
        * ``"message_queue_data"`` (``"on_heap"``, ``"off_heap"``): advisory, the
          same way.
        * ``"sensitive"`` (bool): ``Process.info`` shows no messages (and a
          ``message_queue_len`` of 0) and an empty dictionary, as on the BEAM.

        Raises:
            ValueError: an unknown flag (the heap and code-loading flags of
                Erlang do not apply here), or a value the flag does not take.
            TypeError: a boolean flag given a non-bool.
        """
        p = _cur("Process.flag")
        if flag == "trap_exit":
            if not isinstance(value, bool):
                raise TypeError(f"Process.flag: value for 'trap_exit' must be bool, got {value!r}")
            old = p.trap_exit
            p.trap_exit = value
            return old
        if not isinstance(flag, str) or flag not in _FLAG_CHOICES:
            why = _FLAGS_NOT_APPLICABLE.get(flag) if isinstance(flag, str) else None
            if why:
                problem = f"flag {flag!r} does not apply in tether ({why})"
            else:
                problem = f"unknown flag {flag!r}"
            raise ValueError(
                f"Process.flag: {problem}; the flags are 'trap_exit', "
                f"{', '.join(repr(f) for f in _FLAG_CHOICES)}"
            )
        choices = _FLAG_CHOICES[flag]
        if choices == (False, True):
            if not isinstance(value, bool):
                raise TypeError(f"Process.flag: value for {flag!r} must be bool, got {value!r}")
        elif not isinstance(value, str) or value not in choices:
            raise ValueError(
                f"Process.flag: value for {flag!r} must be one of "
                f"{', '.join(repr(c) for c in choices)}, got {value!r}"
            )
        else:
            value = Atom(value)
        return _set_flag(_node(), p, flag, value)

    @staticmethod
    def info(pid: Pid, item: str | list[str] | None = None) -> Any:
        """Information about a live local process; ``None`` when it is dead (§5).

        ``info(pid)``: a dict of the default items.  ``info(pid, "links")``: one
        item's value.  ``info(pid, ["links", "status"])``: a dict in the asked order.
        Items: registered_name, current_function, current_stacktrace, initial_call,
        status, message_queue_len, messages, links, monitors, monitored_by,
        dictionary, trap_exit, memory, priority, message_queue_data, reductions,
        messages_received.  ``current_function`` is ``(module, qualname, line)`` of
        the innermost frame outside tether.  ``reductions`` counts the process's
        scheduler steps (each resume of its coroutine: the BEAM counts work, tether
        counts turns); ``messages_received`` (tether's own) counts the messages
        ever delivered to it, signals turned into messages included.

        Raises:
            ValueError: an unknown item, or a pid of another node.
            TypeError: ``pid`` is not a Pid.
        """
        _cur("Process.info")
        if _n.is_port(pid):
            raise TypeError(
                f"Process.info: {pid!r} is a port, not a process; use Port.info(port) "
                "(Erlang's erlang:port_info/1,2)"
            )
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
        p = node.names.get(name)
        if p is None:
            raise ValueError(f"Process.unregister: no process is registered as {name!r}")
        if not node._caller_dead():  # a dead process's effects are dropped
            del node.names[name]
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
        """The pids of every live process, in the order they were spawned (ports,
        which share the process table, are in :meth:`tether.Port.list`)."""
        _cur("Process.list")
        return [pid for pid in _node().table if type(pid) is Pid]

    @staticmethod
    def sleep(seconds: float | None) -> Awaitable[None]:
        """Suspend the caller for ``seconds`` (``None``: forever); messages stay queued.

        Elixir's ``Process.sleep/1`` (``receive after t -> :ok end``).
        """
        return cast(Awaitable[None], _sleep(seconds))

    @staticmethod
    def send_after(
        dest: Pid | str | tuple[str, str], msg: Any, seconds: float, abs: bool = False
    ) -> TimerRef:
        """Send ``msg`` to ``dest`` after ``seconds``; return a timer reference.

        Elixir's ``Process.send_after/4``.  A timer for a pid is cancelled if that
        process dies first; a name is looked up when the timer fires.  With
        ``abs=True``, ``seconds`` is a point on the node's monotonic clock (the
        event loop's ``loop.time()``, virtual under ``tether.testing``) rather
        than a delay; a point in the past fires at once.

        Raises:
            TypeError: ``dest`` is not a pid, a name or ``(name, node)``.
            ValueError: ``seconds`` is negative (without ``abs``) or not finite.
        """
        _cur("Process.send_after")
        check_bool(abs, "Process.send_after", "abs")
        if abs:
            if not is_number(seconds) or seconds != seconds or seconds in (math.inf, -math.inf):
                raise ValueError(
                    "Process.send_after: with abs=True, seconds must be a finite point on "
                    f"the node's clock (loop.time()), got {seconds!r}"
                )
            t = max(0.0, float(seconds) - _node().loop.time())
        else:
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
    def cancel_timer(timer: TimerRef, async_: bool = False, info: bool = True) -> Any:
        """Cancel a timer: Elixir's ``Process.cancel_timer/2``.

        Returns the seconds that were left, or ``False`` if it had already fired
        or been cancelled.  With ``info=False`` it returns ``"ok"`` instead.  With
        ``async_=True`` it returns ``"ok"`` and the answer comes as a message,
        ``("cancel_timer", timer, seconds_left | False)`` (none with
        ``info=False``).  The timer is cancelled when this returns either way.
        """
        p = _cur("Process.cancel_timer")
        if not isinstance(timer, TimerRef):
            raise TypeError(f"Process.cancel_timer: timer must be a TimerRef, got {timer!r}")
        check_bool(async_, "Process.cancel_timer", "async_")
        check_bool(info, "Process.cancel_timer", "info")
        node = _node()
        left = node.cancel_timer(timer)
        if not async_:
            return left if info else _OK
        if info and p.state != _DEAD:
            node.deliver(p, (_CANCEL_TIMER, timer, left))
        return _OK

    @staticmethod
    def read_timer(timer: TimerRef) -> float | bool:
        """Seconds left on a timer, or ``False`` if it fired or was cancelled.

        Elixir's ``Process.read_timer/1``.
        """
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
    def get_keys(value: Any = _NO_DEFAULT) -> builtins.list[Any]:
        """The keys of the process dictionary; with ``value``, the keys that hold
        exactly that value (``===``: ``1`` and ``1.0`` differ).

        Elixir's ``Process.get_keys/0,1``.
        """
        p = _cur("Process.get_keys")
        if not p.dictionary:
            return []
        if value is _NO_DEFAULT:
            return list(p.dictionary)
        return [k for k, v in p.dictionary.items() if _exact_eq(v, value)]

    @staticmethod
    def delete(key: Any) -> Any:
        """Remove ``key`` from the process dictionary; return its value (or ``None``)."""
        p = _cur("Process.delete")
        if p.dictionary is None:
            return None
        return p.dictionary.pop(key, None)


# -- the graceful stop (init:stop; see _lifecycle) ------------------------------

# More rounds than this and processes are being spawned as fast as they are
# stopped: the node halts instead.
_MAX_ROUNDS: Final = 1000


async def graceful_stop(node: _n.Node, timeout: float | None) -> None:
    """Stop every process, newest link tree first (see the module docstring)."""
    me = self()
    try:
        for _ in range(_MAX_ROUNDS):
            trees = _link_trees(node, me)
            if not trees:
                break
            for tree in trees:
                await _stop_tree(node, tree, timeout)
    finally:
        if node.done is not None and not node.done.done():
            node.done.set_result(None)


def _link_trees(node: _n.Node, me: Pid) -> list[list[Pid | Port]]:
    """The live local processes (but ``me``) grouped by links, each group in start
    order, the group whose oldest member is newest first.  Ports are members like
    processes; numbered after the process that opened them, they are never the
    root of their owner's tree."""
    seen: set[Pid | Port] = {me}
    trees: list[list[Pid | Port]] = []
    table = node.table
    for pid in table:  # start order
        if pid in seen:
            continue
        seen.add(pid)
        tree: list[Pid | Port] = [pid]
        todo = [pid]
        while todo:
            p = table.get(todo.pop())
            if p is None or not p.links:
                continue
            for other in p.links:
                if other not in seen and other in table:
                    seen.add(other)
                    tree.append(other)
                    todo.append(other)
        tree.sort(key=lambda q: q.id)
        trees.append(tree)
    trees.sort(key=lambda t: t[0].id, reverse=True)
    return trees


def _parent_of(node: _n.Node, p: _n.Process) -> Pid | None:
    """The process's parent, from proc_lib's ``$ancestors`` (set by the behaviours):
    its first entry, a pid or a registered name."""
    ancestors = p.dictionary.get("$ancestors") if p.dictionary else None
    if type(ancestors) is not list or not ancestors:
        return None
    first = ancestors[0]
    if type(first) is Pid:
        return first
    if isinstance(first, str):
        named = node.names.get(first)
        return named.pid if named is not None else None
    return None


async def _stop_tree(node: _n.Node, tree: list[Pid | Port], timeout: float | None) -> None:
    refs = {Process.monitor(pid): pid for pid in tree if pid in node.table}
    if not refs:
        return
    root = node.table.get(tree[0])
    if root is not None:
        # As if from its parent: an orphaned supervisor or GenServer (its starter
        # gone, no link) stops as it would when its parent exits.
        node.receive_exit2(root, _parent_of(node, root) or self(), SHUTDOWN)
    loop = asyncio.get_running_loop()
    deadline = None if timeout is None else loop.time() + timeout

    def is_ours(m: Any) -> bool:
        return type(m) is Down and m.ref in refs

    while refs:
        left = None if deadline is None else max(0.0, deadline - loop.time())
        try:
            down = await receive(is_ours, timeout=left)
        except TimeoutError:
            break
        refs.pop(down.ref, None)
    for pid in sorted(refs.values(), key=lambda q: q.id, reverse=True):
        Process.exit(pid, "kill")
    while refs:
        down = await receive(is_ours)
        refs.pop(down.ref, None)


_lifecycle.STOPPER = graceful_stop
