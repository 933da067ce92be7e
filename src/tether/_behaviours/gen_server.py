"""GenServer: a process that serves calls and casts, on the public runtime API only.

Caller → callback map (as ``gen_server.erl`` documents it)::

    GenServer.start_link(Cls, arg)  ->  Cls().init(arg)
    GenServer.call(server, req)     ->  handle_call(req, from_, state)
    GenServer.cast(server, req)     ->  handle_cast(req, state)
    any other message               ->  handle_info(msg, state)
    an action Continue(arg)         ->  handle_continue(arg, state)
    GenServer.stop / Stop / crash   ->  terminate(reason, state)

Design notes
------------
* Callbacks get the state and return it, as in Elixir; a callback may be a plain
  or an ``async`` method.  Results are small typed values instead of tagged
  tuples: ``Reply(reply, state[, action])``, ``NoReply(state[, action])``,
  ``Stop(reason, state[, reply])``; ``init`` returns ``Ok(state[, action])``,
  ``Ignore()``, ``Stop(reason)`` or ``Error(reason)``.  ``action`` is a timeout in
  seconds, ``Continue(arg)`` or ``HIBERNATE``.
* Start follows OTP 26+ (docs/rules.md §13.1): an ``init`` that fails makes
  ``start_link`` return ``("error", reason)`` with the link already taken down, so
  the caller gets no EXIT and is not killed.
* A call monitors the server with ``alias=True`` and sends that ref as the reply
  tag (M-16): the reply or the DOWN is one O(1) receive, and a reply that comes
  after a timeout is dropped by the runtime (G-7).
* A crash inside a callback is caught here, reported as OTP does (LOG-3), passed
  to ``terminate``, and then the process exits with the exception as its reason
  via ``exit`` — so the runtime's plain "Process raised" log (LOG-1) is not
  written twice.
"""

from __future__ import annotations

import contextlib
import logging
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Final, NamedTuple, NoReturn

from tether._dist.api import Node, reply_to
from tether._runtime._api import (
    Process,
    exit,
    make_ref,
    node,
    receive,
    self,
    send,
    spawn,
    spawn_link,
)
from tether._runtime._api import self as self_pid
from tether._runtime._format import crash_head, inspect
from tether._runtime._types import ANY, Atom, Down, Exit, Pid, ProcessExit, Ref

__all__ = [
    "HIBERNATE",
    "Continue",
    "Error",
    "GenServer",
    "Ignore",
    "NoReply",
    "Ok",
    "Reply",
    "Stop",
]

logger: Final = logging.getLogger("tether")

OK: Final = Atom("ok")
ERROR: Final = Atom("error")
IGNORE: Final = Atom("ignore")
NORMAL: Final = Atom("normal")
TIMEOUT: Final = Atom("timeout")
NOPROC: Final = Atom("noproc")
CALLING_SELF: Final = Atom("calling_self")
NODEDOWN: Final = Atom("nodedown")

# Atoms, so the messages are the same terms as OTP's on the wire.
_CALL: Final = Atom("$gen_call")
_CAST: Final = Atom("$gen_cast")
_STOP: Final = "$gen_stop"


@dataclass(frozen=True)
class Continue:
    """An action: run ``handle_continue(arg, state)`` before the next message."""

    arg: Any


class _Hibernate:
    """The hibernate action (a hint; tether collects nothing special)."""

    _instance: ClassVar[_Hibernate | None] = None

    def __new__(cls) -> _Hibernate:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "HIBERNATE"


HIBERNATE: Final = _Hibernate()

Action = float | int | Continue | _Hibernate | None


class Ok(NamedTuple):
    """``init`` succeeded: Elixir's ``{:ok, state}`` (``action`` as a third element)."""

    state: Any
    action: Action = None


@dataclass(frozen=True)
class Ignore:
    """``init`` declines to start: ``start_link`` returns ``"ignore"`` (G-3)."""


@dataclass(frozen=True)
class Error:
    """``init`` failed: ``start_link`` returns ``("error", reason)``."""

    reason: Any


class Reply(NamedTuple):
    """Reply to the caller and go on: ``{:reply, reply, state[, action]}``."""

    reply: Any
    state: Any
    action: Action = None


class NoReply(NamedTuple):
    """Go on without replying now: ``{:noreply, state[, action]}`` (see ``reply``)."""

    state: Any
    action: Action = None


_NO_REPLY: Final = object()


class Stop(NamedTuple):
    """Stop with ``reason``: ``{:stop, reason, [reply,] state}``.

    From ``handle_call``, pass ``reply=`` to answer the caller after ``terminate``
    ran (G-10).  From ``init``, the state is unused.
    """

    reason: Any
    state: Any = None
    reply: Any = _NO_REPLY


From = tuple[Pid, Ref]


def _is_quiet(reason: Any) -> bool:
    """normal, shutdown and (shutdown, _) are not reported (LOG-3)."""
    if isinstance(reason, str):
        return reason in ("normal", "shutdown")
    return (
        type(reason) is tuple
        and len(reason) == 2
        and isinstance(reason[0], str)
        and reason[0] == "shutdown"
    )


async def _maybe_await(value: Any) -> Any:
    if type(value) is types.CoroutineType:
        return await value
    return value


class GenServer:
    """Base class of a generic server: Elixir's ``use GenServer``.

    Subclass it and override the callbacks you need; start it with
    ``await MyServer.start_link(arg)`` (or ``GenServer.start_link(MyServer, arg)``).
    Each callback may be ``async``.  Every callback documents every result it may
    return.

    .. warning:: A server started with ``start_link`` outside a supervisor takes
       its caller down when it crashes (that is what the link is for).
    """

    # Defaults for the child spec that ``child_spec`` builds (``use GenServer, restart: …``).
    restart: ClassVar[str] = "permanent"
    shutdown: ClassVar[float | str] = 5.0

    def __call__(self) -> Pid:
        """The server's pid.

        Inside a callback ``self`` is the instance, which hides tether's
        ``self()``; calling the instance gives what Elixir code means by
        ``self()`` there: the pid of the process running this server.
        """
        return self_pid()

    # -- callbacks ---------------------------------------------------------

    def init(self, arg: Any) -> Any:
        """Set up the state.  Returns ``Ok(state[, action])``, ``Ignore()``,
        ``Stop(reason)`` or ``Error(reason)``.  Default: ``Ok(arg)``."""
        return Ok(arg)

    def handle_call(self, request: Any, from_: From, state: Any) -> Any:
        """Answer ``GenServer.call``.  Returns ``Reply(reply, state[, action])``,
        ``NoReply(state[, action])`` (reply later with ``GenServer.reply``) or
        ``Stop(reason, state[, reply=...])``.  Default: raises (G-14)."""
        raise RuntimeError(
            f"attempted to call GenServer {_self_or_none()!r} but no handle_call/3 "
            "clause was provided"
        )

    def handle_cast(self, request: Any, state: Any) -> Any:
        """Handle ``GenServer.cast``.  Returns ``NoReply(state[, action])`` or
        ``Stop(reason, state)``.  Default: raises (G-14)."""
        raise RuntimeError(
            f"attempted to cast GenServer {_self_or_none()!r} but no handle_cast/2 "
            "clause was provided"
        )

    def handle_info(self, msg: Any, state: Any) -> Any:
        """Handle any other message (and ``"timeout"``).  Returns
        ``NoReply(state[, action])`` or ``Stop(reason, state)``.  Default: logs the
        unexpected message at ERROR and goes on (LOG-6)."""
        logger.error(
            "%s %r received unexpected message in handle_info/2: %s",
            type(self).__qualname__,
            _self_or_none(),
            inspect(msg),
        )
        return NoReply(state)

    def handle_continue(self, arg: Any, state: Any) -> Any:
        """Run the ``Continue(arg)`` action.  Returns ``NoReply(state[, action])`` or
        ``Stop(reason, state)``.  Default: raises."""
        raise RuntimeError(
            f"{type(self).__qualname__} returned Continue but has no handle_continue"
        )

    def terminate(self, reason: Any, state: Any) -> Any:
        """Clean up before the server exits (when G-15 says).  The result is
        ignored.  Default: nothing."""
        return None

    # -- starting ----------------------------------------------------------

    @classmethod
    async def start_link(
        cls, arg: Any = None, *, name: Any = None, timeout: float | None = None
    ) -> Any:
        """Start a server linked to the caller; wait for ``init`` (G-1).

        Returns ``("ok", pid)``, ``"ignore"`` or ``("error", reason)``:
        ``("error", ("already_started", pid))`` for a taken name,
        ``("error", "timeout")`` when ``init`` outlasts ``timeout`` seconds (G-6).
        """
        return await GenServer._start(cls, arg, name, timeout, link=True)

    @classmethod
    async def start(cls, arg: Any = None, *, name: Any = None, timeout: float | None = None) -> Any:
        """Like :meth:`start_link`, without the link."""
        return await GenServer._start(cls, arg, name, timeout, link=False)

    @classmethod
    def child_spec(cls, arg: Any = None) -> dict[str, Any]:
        """The child spec ``use GenServer`` generates: id the class, start
        ``start_link(arg)``; class attributes ``restart``/``shutdown`` override."""
        return {
            "id": cls,
            "start": (cls.start_link, (arg,)),
            "restart": cls.restart,
            "shutdown": cls.shutdown,
            "type": "worker",
        }

    @staticmethod
    async def _start(
        cls: type[GenServer], arg: Any, name: Any, timeout: float | None, link: bool
    ) -> Any:
        _check_name(name)
        parent = self()
        tag = make_ref()
        pid = (spawn_link if link else spawn)(_server_main, cls, arg, parent, tag, name, link)
        mon = Process.monitor(pid)
        try:
            msg = await receive((tag, ANY), Down(mon, ANY, ANY, ANY), timeout=timeout)
        except TimeoutError:
            # G-6: kill it, and leave the caller with no EXIT message.
            Process.unlink(pid)
            Process.exit(pid, "kill")
            await receive(Down(mon, ANY, ANY, ANY))
            await _flush(Exit(pid, ANY))
            return (ERROR, TIMEOUT)
        if isinstance(msg, Down):
            Process.unlink(pid)
            await _flush(Exit(pid, ANY))
            return (ERROR, msg.reason)
        result = msg[1]
        if result == OK:
            Process.demonitor(mon, flush=True)
            return (OK, pid)
        # The server unlinked itself before answering (OTP 26 init_fail); wait
        # until it is gone so the name is free when we return.
        await receive(Down(mon, ANY, ANY, ANY))
        await _flush(Exit(pid, ANY))
        return result

    # -- client API --------------------------------------------------------

    @staticmethod
    async def call(server: Any, request: Any, timeout: float | None = 5.0) -> Any:
        """Send ``request`` and wait for the reply (G-7 … G-9).

        ``server`` is a pid, a registered name, ``(name, node)`` or
        ``("via", registry, key)``.  The caller exits (``tether.ProcessExit``) with
        ``(reason, ("GenServer.call", server, request, timeout))``: ``"noproc"``
        for no such server, ``"calling_self"``, ``"timeout"`` (a late reply is
        dropped), or the server's exit reason if it dies first.
        """
        mfa = ("GenServer.call", server, request, timeout)
        pid = server if type(server) is Pid else GenServer.whereis(server)
        if type(pid) is tuple and Node.alive():
            return await _call_remote_name(pid, request, timeout, mfa)
        if not isinstance(pid, Pid):
            _exit_with(NOPROC if pid is None else ("nodedown", pid[1]), mfa)
        me = self()
        if pid == me:
            _exit_with(CALLING_SELF, mfa)
        # One ref is both the monitor and the reply alias (M-16): the reply and the
        # DOWN share an index key, and a reply after a timeout is dropped.
        mon = Process.monitor(pid, alias=True)
        send(pid, (_CALL, (me, mon), request))
        return await _await_reply(mon, timeout, mfa, pid.node)

    @staticmethod
    def cast(server: Any, request: Any) -> Atom:
        """Send ``request`` without waiting; always returns ``"ok"`` (G-12)."""
        pid = GenServer.whereis(server)
        if isinstance(pid, Pid) or (type(pid) is tuple and Node.alive()):
            send(pid, (_CAST, request))
        return OK

    @staticmethod
    def reply(from_: From, reply: Any) -> Atom:
        """Answer a call whose ``handle_call`` returned ``NoReply`` (G-19).

        Works for callers on any node: tether's alias tag, OTP's
        ``[alias | ref]`` tag and older plain-ref tags are each answered where
        their caller waits.
        """
        reply_to(from_, reply)
        return OK

    @staticmethod
    async def stop(server: Any, reason: Any = "normal", timeout: float | None = None) -> Atom:
        """Stop a server synchronously: ``terminate(reason, state)`` runs; returns
        ``"ok"`` (G-16).  Exits ``(noproc | calling_self | timeout, ("GenServer.stop",
        …))``; on timeout the server is still alive."""
        mfa = ("GenServer.stop", server, reason, timeout)
        pid = GenServer.whereis(server)
        if not isinstance(pid, Pid):
            _exit_with(NOPROC, mfa)
        if pid == self():
            _exit_with(CALLING_SELF, mfa)
        mon = Process.monitor(pid)
        send(pid, (_STOP, reason))
        try:
            down = await receive(Down(mon, ANY, ANY, ANY), timeout=timeout)
        except TimeoutError:
            Process.demonitor(mon, flush=True)
            _exit_with(TIMEOUT, mfa)
        if down.reason == NOPROC:
            _exit_with(NOPROC, mfa)  # it was gone before the request arrived
        if down.reason == reason:
            return OK
        exit(down.reason)  # terminate failed: proc_lib exits with the real reason

    @staticmethod
    def whereis(server: Any) -> Any:
        """The pid behind ``server``, ``None`` when unknown, or ``(name, node)``
        unchanged for another node (G-20)."""
        if isinstance(server, Pid):
            return server
        if isinstance(server, str):
            return Process.whereis(server)
        if type(server) is tuple and len(server) == 2 and isinstance(server[1], str):
            name, where = server
            if where == node():
                return Process.whereis(name)
            return server
        if type(server) is tuple and len(server) == 3 and server[0] == "via":
            return server[1].whereis_name(server[2])
        if server is None:
            return None
        raise TypeError(
            f"GenServer: server must be a Pid, a name, (name, node) or ('via', registry, key), "
            f"got {server!r}"
        )


async def _call_remote_name(
    server: tuple[str, str], request: Any, timeout: float | None, mfa: Any
) -> Any:
    """``GenServer.call({name, node}, ...)`` for another node: monitor by name (D-5)."""
    mon = Process.monitor(server, alias=True)
    send(server, (_CALL, (self_pid(), mon), request))
    return await _await_reply(mon, timeout, mfa, server[1])


async def _await_reply(mon: Ref, timeout: float | None, mfa: Any, where: str | None) -> Any:
    try:
        msg = await receive((mon, ANY), Down(mon, ANY, ANY, ANY), timeout=timeout)
    except TimeoutError:
        Process.demonitor(mon, flush=True)
        await _flush((mon, ANY))
        _exit_with(TIMEOUT, mfa)
    if isinstance(msg, Down):
        reason = msg.reason
        # D-5: a lost connection is {nodedown, node}.
        _exit_with((NODEDOWN, Atom(where)) if reason == "noconnection" and where else reason, mfa)
    Process.demonitor(mon, flush=True)
    return msg[1]


def _self_or_none() -> Pid | None:
    try:
        return self()
    except RuntimeError:
        return None


def _check_name(name: Any) -> None:
    if name is None or isinstance(name, str):
        return
    if type(name) is tuple and len(name) == 3 and name[0] == "via":
        return
    raise ValueError(
        f"GenServer: expected name= to be one of: None, a str, or ('via', registry, key); "
        f"got {name!r}"
    )


def _exit_with(reason: Any, mfa: tuple[Any, ...]) -> NoReturn:
    exit((reason, mfa))


async def _flush(*filters: Any) -> None:
    """Remove one queued message matching ``filters``, if any (proc_lib's flush)."""
    with contextlib.suppress(TimeoutError):
        await receive(*filters, timeout=0)


# -- the server process --------------------------------------------------------


class _State:
    __slots__ = ("impl", "last", "parent", "state")

    def __init__(self, impl: GenServer, parent: Pid, state: Any) -> None:
        self.impl = impl
        self.parent = parent
        self.state = state
        self.last: Any = None


async def _server_main(
    cls: type[GenServer], arg: Any, parent: Pid, tag: Ref, name: Any, linked: bool
) -> None:
    if name is not None:
        taken = _register(name)
        if taken is not None:
            if linked:
                Process.unlink(parent)
            send(parent, (tag, (ERROR, ("already_started", taken))))
            return
    impl = cls()
    try:
        result = await _maybe_await(impl.init(arg))
    except ProcessExit as e:
        _init_fail(parent, tag, linked, e.reason, e.reason)
    except Exception as e:
        _init_fail(parent, tag, linked, e, e)
    match result:
        case Ok(state, action):
            send(parent, (tag, OK))
            await _loop(_State(impl, parent, state), action)
        case Ignore():
            _init_fail(parent, tag, linked, IGNORE, NORMAL)
        case Stop(reason):
            _init_fail(parent, tag, linked, (ERROR, reason), reason)
        case Error(reason):
            _init_fail(parent, tag, linked, (ERROR, reason), NORMAL)
        case _:
            bad = ("bad_return_value", result)
            _init_fail(parent, tag, linked, (ERROR, bad), bad)


def _init_fail(parent: Pid, tag: Ref, linked: bool, answer: Any, reason: Any) -> NoReturn:
    """OTP 26 init_fail: drop the link, answer the starter, exit with ``reason``."""
    if linked:
        Process.unlink(parent)
    if isinstance(answer, BaseException):
        answer = (ERROR, answer)
    send(parent, (tag, answer))
    exit(reason)


def _register(name: Any) -> Pid | None:
    """Register ``name`` for the caller; return the holder's pid if it is taken."""
    if isinstance(name, str):
        holder = Process.whereis(name)
        if holder is not None:
            return holder
        Process.register(self(), name)
        return None
    registry, key = name[1], name[2]
    holder = registry.whereis_name(key)
    if holder is not None:
        return holder  # type: ignore[no-any-return]
    if registry.register_name(key, self()) != "yes":
        return registry.whereis_name(key)  # type: ignore[no-any-return]
    return None


async def _loop(s: _State, action: Action) -> None:
    impl = s.impl
    while True:
        # Actions first: Continue runs before the next message; a timeout arms
        # handle_info("timeout") if no message comes first (G-18).
        if isinstance(action, Continue):
            s.last = ("continue", action.arg)
            action = await _dispatch(s, impl.handle_continue, action.arg, s.state, None)
            continue
        if isinstance(action, int | float) and not isinstance(action, bool):
            try:
                msg = await receive(timeout=action)
            except TimeoutError:
                msg = TIMEOUT
        else:
            msg = await receive()
        s.last = msg
        if type(msg) is tuple and len(msg) == 3 and msg[0] == _CALL:
            from_ = msg[1]
            s.last = msg[2]  # the report shows the request, as Elixir's does
            action = await _dispatch(s, impl.handle_call, msg[2], from_, s.state, from_)
        elif type(msg) is tuple and len(msg) == 2 and msg[0] == _CAST:
            action = await _dispatch(s, impl.handle_cast, msg[1], s.state, None)
        elif type(msg) is tuple and len(msg) == 2 and msg[0] == _STOP:
            await _terminate(s, msg[1], report=False)
        elif isinstance(msg, Exit) and msg.pid == s.parent:
            # G-15: only reaches here when trapping; terminate with the parent's reason.
            await _terminate(s, msg.reason, report=not _is_quiet(msg.reason))
        else:
            action = await _dispatch(s, impl.handle_info, msg, s.state, None)


async def _dispatch(s: _State, callback: Callable[..., Any], *args: Any) -> Action:
    """Run one callback and apply its result; the last arg is the call's ``from``."""
    *cb_args, from_ = args
    try:
        result = callback(*cb_args)
        if type(result) is types.CoroutineType:  # an async callback
            result = await result
    except ProcessExit as e:
        await _terminate(s, e.reason, report=not _is_quiet(e.reason), from_=from_)
    except Exception as e:
        await _terminate(s, e, report=True, from_=from_)
    match result:
        case Reply(reply, state, action) if from_ is not None:
            s.state = state
            GenServer.reply(from_, reply)
            return action
        case NoReply(state, action):
            s.state = state
            return action
        case Stop(reason, state, reply):
            s.state = state
            if reply is not _NO_REPLY and from_ is not None:
                # G-10: terminate runs, then the reply is sent, then the exit.
                await _terminate(s, reason, report=not _is_quiet(reason), reply=(from_, reply))
            await _terminate(s, reason, report=not _is_quiet(reason), from_=from_)
        case _:
            await _terminate(s, ("bad_return_value", result), report=True, from_=from_)


async def _terminate(
    s: _State,
    reason: Any,
    report: bool,
    from_: Any = None,
    reply: tuple[From, Any] | None = None,
) -> NoReturn:
    try:
        try:
            await _maybe_await(s.impl.terminate(reason, s.state))
        finally:
            if reply is not None:
                GenServer.reply(*reply)
    except ProcessExit as e:
        reason = e.reason
    except Exception as e:
        reason = e
        report = True
    if report:
        _report(s, reason, from_)
    exit(reason)


def _report(s: _State, reason: Any, from_: Any) -> None:
    """LOG-3: ``GenServer #PID<…> terminating`` with the reason, last message and state."""
    me = self()
    head, exc_info = crash_head(reason)
    lines = [f"GenServer {me!r} terminating", head]
    if from_ is not None:
        client = from_[0]
        lines.append(f"Last message (from {client!r}): {inspect(s.last)}")
        lines.append(f"State: {inspect(s.state)}")
        alive = "is alive" if Process.alive(client) else "is dead"
        lines.append(f"Client {client!r} {alive}")
    else:
        lines.append(f"Last message: {inspect(s.last)}")
        lines.append(f"State: {inspect(s.state)}")
    logger.error("\n".join(lines), exc_info=exc_info, extra={"tether_pid": me})
