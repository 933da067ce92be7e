"""GenServer: a process that serves calls and casts, on the public runtime API only.

Caller → callback map (as ``gen_server.erl`` documents it)::

    MyServer.start_link(arg)                 ->  MyServer().init(arg)
      (or GenServer.start_link(MyServer, arg))
    GenServer.call(server, req)              ->  handle_call(req, from_, state)
    GenServer.multi_call(name, req)          ->  handle_call(req, from_, state), on each node
    GenServer.cast(server, req)              ->  handle_cast(req, state)
    GenServer.abcast(name, req)              ->  handle_cast(req, state), on each node
    any other message                        ->  handle_info(msg, state)
    an action Continue(arg)                  ->  handle_continue(arg, state)
    GenServer.stop / Stop / crash            ->  terminate(reason, state)
    GenServer.get_status (sys:get_status)    ->  format_status(status)

Design notes
------------
* Callbacks get the state and return it, as in Elixir; a callback may be a plain
  or an ``async`` method.  Results are small typed values instead of tagged
  tuples: ``Reply(reply, state[, action])``, ``NoReply(state[, action])``,
  ``Stop(reason, state[, reply])``; ``init`` returns ``Ok(state[, action])``,
  ``Ignore()``, ``Stop(reason)`` or ``Error(reason)``.  ``action`` is a timeout in
  seconds, ``Continue(arg)`` or ``HIBERNATE``.  The callbacks' parameters are
  positional-only, so a subclass may name them as it likes.
* Validate, then act: every public function checks all of its arguments before
  it sends, spawns or monitors anything, and a bad argument is a ``TypeError`` or
  ``ValueError`` in the caller (the BEAM's ``badarg``/``function_clause``).
* Start follows OTP 26+ (docs/rules.md §13.1): an ``init`` that fails makes
  ``start_link`` return ``("error", reason)`` with the link already taken down, so
  the caller gets no EXIT and is not killed.  Registering the name happens in the
  new process, inside the same guard: a via registry that raises gives
  ``("error", exception)``, never a linked death.
* The new process carries proc_lib's dictionary entries: ``"$initial_call"`` is
  ``(module, class qualname, 1)`` (``{Mod, :init, 1}``) and ``"$ancestors"`` the
  starter (its registered name if it has one) followed by the starter's own
  ancestors (docs/rules.md §5, "dictionary").
* A call monitors the server with ``alias=True`` and sends that ref as the reply
  tag (M-16): the reply or the DOWN is one O(1) receive, and a reply that comes
  after a timeout is dropped by the runtime (G-7).  ``multi_call`` does the same
  for each node, all under one deadline, and collects in the order of the nodes.
* A crash inside a callback is caught here, reported as OTP does (LOG-3), passed
  to ``terminate``, and then the process exits with the exception as its reason
  via ``exit`` — so the runtime's plain "Process raised" log (LOG-1) is not
  written twice.
* The server loop answers ``sys``'s system messages (``{system, From, Request}``,
  the shape ``sys:get_state/get_status`` send, so an Erlang node's ``:sys`` calls
  work too): ``get_state`` and ``get_status``, the state passing through
  ``format_status`` as in OTP 25; any other request gets ``("error",
  ("unknown_system_msg", request))`` (no suspend, no code change).  What the
  observer shows of a server's state comes from here.

Layers: nothing here imports distribution; remote servers are reached through
the runtime API (``send``, ``reply_to``, ``is_alive``, ``nodes``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Final, NamedTuple, NoReturn

from tether._runtime._api import (
    Process,
    alias_of_tag,
    call_demonitor,
    call_monitor,
    exit,
    is_alive,
    make_ref,
    node,
    nodes,
    receive,
    reply_filter,
    reply_to,
    self,
    send,
    spawn,
    spawn_link,
    via_of,
)
from tether._runtime._api import self as self_pid
from tether._runtime._format import crash_head, inspect, inspect_name
from tether._runtime._types import ANY, Atom, Down, Exit, OnStart, Pid, ProcessExit, Ref
from tether._runtime._validate import check_timeout, is_number

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
ABCAST: Final = Atom("abcast")
ALREADY_STARTED: Final = Atom("already_started")
BAD_RETURN_VALUE: Final = Atom("bad_return_value")

# Atoms, so the messages are the same terms as OTP's on the wire.
_CALL: Final = Atom("$gen_call")
_INF: Final = math.inf  # a module global: GenServer.call reads it on every call
_CAST: Final = Atom("$gen_cast")
_STOP: Final = "$gen_stop"
SYSTEM: Final = Atom("system")
GET_STATE: Final = Atom("get_state")
GET_STATUS: Final = Atom("get_status")

_RESTARTS: Final = ("permanent", "transient", "temporary")
_VIA_FUNCTIONS: Final = ("register_name", "unregister_name", "whereis_name", "send")


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


_UNSET: Final = object()


class GenServer:
    """Base class of a generic server: Elixir's ``use GenServer``.

    Subclass it and override the callbacks you need; start it with
    ``await MyServer.start_link(arg)`` or, as Elixir writes it,
    ``await GenServer.start_link(MyServer, arg)`` (the same call).  Each callback
    may be ``async``; its parameters are positional-only, so name them as you
    like.  Every callback documents every result it may return.

    Elixir's ``use GenServer, restart: :transient, shutdown: 10_000`` is written
    as class keyword arguments, applied by :meth:`child_spec`::

        class Worker(GenServer, restart="transient", shutdown=10):
            ...

    ``id=`` (default: the class) and ``start=`` (``(fun, args)``, default
    ``(cls.start_link, (arg,))``) are accepted too; subclasses inherit them.

    .. warning:: A server started with ``start_link`` outside a supervisor takes
       its caller down when it crashes (that is what the link is for).
    """

    # Defaults for the child spec that ``child_spec`` builds (``use GenServer, restart: …``).
    restart: ClassVar[str] = "permanent"
    shutdown: ClassVar[float | str] = 5.0
    _spec_overrides: ClassVar[dict[str, Any]] = {}

    def __init_subclass__(
        cls,
        *,
        id: Any = _UNSET,
        restart: Any = _UNSET,
        shutdown: Any = _UNSET,
        start: Any = _UNSET,
        **unknown: Any,
    ) -> None:
        """Apply ``class W(GenServer, restart=..., shutdown=..., id=..., start=...)``:
        Elixir's ``use GenServer`` options, validated when the class is made."""
        what = f"class {cls.__name__}(GenServer, ...)"
        if unknown:
            raise TypeError(
                f"{what}: unknown option(s) {', '.join(sorted(unknown))}; "
                "GenServer subclasses accept id=, restart=, shutdown= and start= "
                "(Elixir's `use GenServer` options)"
            )
        super().__init_subclass__()
        if restart is not _UNSET:
            cls.restart = restart
        if shutdown is not _UNSET:
            cls.shutdown = shutdown
        # A body attribute (restart = "transient") is checked the same way.
        if cls.restart not in _RESTARTS:
            raise ValueError(
                f"{what}: restart must be 'permanent', 'transient' or 'temporary', "
                f"got {cls.restart!r}"
            )
        if not _valid_shutdown(cls.shutdown):
            raise ValueError(
                f"{what}: shutdown must be a number of seconds >= 0, 'brutal_kill' or "
                f"'infinity', got {cls.shutdown!r}"
            )
        overrides = dict(cls._spec_overrides)
        if id is not _UNSET:
            overrides["id"] = id
        if start is not _UNSET:
            if not (
                type(start) is tuple
                and len(start) == 2
                and callable(start[0])
                and isinstance(start[1], tuple | list)
            ):
                raise TypeError(
                    f"{what}: start must be (function, args) with args a tuple or list, "
                    f"got {start!r}"
                )
            overrides["start"] = (start[0], tuple(start[1]))
        cls._spec_overrides = overrides

    def __call__(self) -> Pid:
        """The server's pid.

        Inside a callback ``self`` is the instance, which hides tether's
        ``self()``; calling the instance gives what Elixir code means by
        ``self()`` there: the pid of the process running this server.
        """
        return self_pid()

    # -- callbacks ---------------------------------------------------------

    def init(self, arg: Any, /) -> Any:
        """Set up the state.  Returns ``Ok(state[, action])``, ``Ignore()``,
        ``Stop(reason)`` or ``Error(reason)``.  Default: ``Ok(arg)``."""
        return Ok(arg)

    def handle_call(self, request: Any, from_: From, state: Any, /) -> Any:
        """Answer ``GenServer.call``.  Returns ``Reply(reply, state[, action])``,
        ``NoReply(state[, action])`` (reply later with ``GenServer.reply``) or
        ``Stop(reason, state[, reply=...])``.  Default: raises (G-14)."""
        raise RuntimeError(
            f"attempted to call GenServer {_self_or_none()!r} but no handle_call/3 "
            "clause was provided"
        )

    def handle_cast(self, request: Any, state: Any, /) -> Any:
        """Handle ``GenServer.cast``.  Returns ``NoReply(state[, action])`` or
        ``Stop(reason, state)``.  Default: raises (G-14)."""
        raise RuntimeError(
            f"attempted to cast GenServer {_self_or_none()!r} but no handle_cast/2 "
            "clause was provided"
        )

    def handle_info(self, msg: Any, state: Any, /) -> Any:
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

    def handle_continue(self, arg: Any, state: Any, /) -> Any:
        """Run the ``Continue(arg)`` action.  Returns ``NoReply(state[, action])`` or
        ``Stop(reason, state)``.  Default: raises."""
        raise RuntimeError(
            f"{type(self).__qualname__} returned Continue but has no handle_continue"
        )

    def terminate(self, reason: Any, state: Any, /) -> Any:
        """Clean up before the server exits (when G-15 says).  The result is
        ignored.  Default: nothing."""
        return None

    def format_status(self, status: dict[str, Any], /) -> dict[str, Any]:
        """What :meth:`get_status` (and so the observer) and crash reports show:
        gen_server's ``format_status/1`` (OTP 25).  Not ``async``.

        ``status`` has the keys ``"state"`` and ``"log"`` (for ``get_status``),
        and also ``"message"`` and ``"reason"`` (for a crash report); return a
        dict with (some of) those keys changed, e.g. a password masked.  If it
        raises or returns anything else, the state shows as
        ``"<Class>.format_status failed"``.  Default: ``status`` unchanged.
        """
        return status

    # -- starting ----------------------------------------------------------

    @classmethod
    async def start_link(
        cls, *args: Any, name: Any = None, timeout: float | None = None
    ) -> OnStart:
        """Start a server linked to the caller; wait for ``init`` (G-1).

        ``MyServer.start_link(arg)``, or ``GenServer.start_link(MyServer, arg)`` as
        Elixir writes it (``arg`` defaults to ``None``).  ``name`` is ``None``, a
        ``str`` (a local name), ``("global", name)`` (a cluster-wide name,
        ``tether.global_``) or ``("via", registry, key)``; ``timeout`` is how
        long ``init`` may take, in seconds (``None``: forever).

        Returns ``("ok", pid)``, ``"ignore"`` or ``("error", reason)``:
        ``("error", ("already_started", pid))`` for a taken name,
        ``("error", "timeout")`` when ``init`` outlasts ``timeout`` (G-6).
        Raises ``TypeError``/``ValueError`` for a bad argument, before anything is
        spawned.  Elixir's ``GenServer.start_link/3``.
        """
        module, arg = _module_and_arg(cls, args, "start_link")
        return await GenServer._start(module, arg, name, timeout, True, "GenServer.start_link")

    @classmethod
    async def start(cls, *args: Any, name: Any = None, timeout: float | None = None) -> OnStart:
        """Like :meth:`start_link`, without the link: Elixir's ``GenServer.start/3``."""
        module, arg = _module_and_arg(cls, args, "start")
        return await GenServer._start(module, arg, name, timeout, False, "GenServer.start")

    @classmethod
    def child_spec(cls, arg: Any = None, /) -> dict[str, Any]:
        """The child spec ``use GenServer`` generates: id the class, start
        ``(cls.start_link, (arg,))``, restart and shutdown from the class; the
        class keyword arguments (``class W(GenServer, restart="transient")``)
        override them.  Elixir's ``child_spec/1``."""
        overrides = cls._spec_overrides
        return {
            "id": overrides.get("id", cls),
            "start": overrides.get("start", (cls.start_link, (arg,))),
            "restart": cls.restart,
            "shutdown": cls.shutdown,
            "type": "worker",
        }

    @staticmethod
    async def _start(
        cls: type[GenServer],  # pyright: ignore[reportSelfClsParameterName] - the server class
        arg: Any,
        name: Any,
        timeout: Any,
        link: bool,
        what: str,
    ) -> Any:
        _check_name(name, what)
        wait = check_timeout(timeout, what)
        parent = self()
        # proc_lib: the starter, by name if it has one, then the starter's ancestors.
        me = Process.info(parent, "registered_name") or parent
        ancestors = [me, *Process.get("$ancestors", [])]
        tag = make_ref()
        pid = (spawn_link if link else spawn)(
            _server_main, cls, arg, parent, tag, name, link, ancestors
        )
        mon = Process.monitor(pid)
        try:
            msg = await receive((tag, ANY), Down(mon, ANY, ANY, ANY), timeout=wait)
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

        ``server`` is a pid, a registered name, ``(name, node)``,
        ``("global", name)`` or ``("via", registry, key)``; ``timeout`` is in
        seconds (``None``: forever).
        The caller exits (``tether.ProcessExit``) with
        ``(reason, ("GenServer.call", server, request, timeout))``: ``"noproc"``
        for no such server, ``"calling_self"``, ``"timeout"`` (a late reply is
        dropped), ``("nodedown", node)``, or the server's exit reason if it dies
        first.  A bad ``server`` or ``timeout`` raises before the request is sent.
        Elixir's ``GenServer.call/3``.
        """
        if type(server) is Pid and type(timeout) is float and 0.0 <= timeout < _INF:
            pid: Any = server  # the common call, checked inline
            wait: float | None = timeout
        else:
            wait = check_timeout(timeout, "GenServer.call")
            _check_server(server, "GenServer.call")
            pid = server if type(server) is Pid else GenServer.whereis(server)
            if type(pid) is tuple and is_alive():
                return await _call_remote_name(
                    pid, request, wait, _call_mfa(server, request, timeout)
                )
            if not isinstance(pid, Pid):
                _exit_with(
                    NOPROC if pid is None else (NODEDOWN, Atom(pid[1])),
                    _call_mfa(server, request, timeout),
                )
        # One ref is both the monitor and the reply alias (M-16): the reply and the
        # DOWN share an index key, and a reply after a timeout is dropped.
        from_ = call_monitor(pid, "GenServer.call")
        if from_ is None:
            _exit_with(CALLING_SELF, _call_mfa(server, request, timeout))
        mon = from_[1]
        send(pid, (_CALL, from_, request))
        # _await_reply inline (a coroutine less per call)
        try:
            msg = await receive(reply_filter(mon), timeout=wait)
        except TimeoutError:
            await _timed_out(mon, _call_mfa(server, request, timeout))
        if type(msg) is tuple:  # the reply (mon, reply)
            call_demonitor(mon, "GenServer.call")
            return msg[1]
        _exit_down(msg, _call_mfa(server, request, timeout), pid.node)

    @staticmethod
    def cast(server: Any, request: Any) -> Atom:
        """Send ``request`` without waiting; always returns ``"ok"`` (G-12), even
        for a dead or unknown server, an unreachable node, or a via registry that
        fails.  A ``server`` of no valid form raises ``TypeError``.  Elixir's
        ``GenServer.cast/2``."""
        _check_server(server, "GenServer.cast")
        msg = (_CAST, request)
        # gen_server:cast catches every failure to deliver (do_send, Mod:send).
        with contextlib.suppress(Exception):
            via = via_of(server)
            if via is not None:
                via[0].send(via[1], msg)
            elif isinstance(server, str):
                pid = Process.whereis(server)
                if pid is not None:
                    send(pid, msg)
            elif server is not None:
                send(server, msg)
        return OK

    @staticmethod
    def reply(from_: Any, reply: Any) -> Atom:
        """Answer a call whose ``handle_call`` returned ``NoReply`` (G-19); returns
        ``"ok"``.

        ``from_`` is the ``(pid, tag)`` that ``handle_call`` received.  Works for
        callers on any node: tether's alias tag, OTP's ``[alias | ref]`` tag (with
        or without a payload) and older plain-ref tags are each answered where
        their caller waits; any other tag goes to the pid as ``(tag, reply)``, as
        ``gen:reply/2`` sends it.  A ``from_`` that is not a ``(pid, tag)`` pair is
        a ``TypeError``.  Elixir's ``GenServer.reply/2``.
        """
        _check_from(from_)
        _reply(from_, reply)
        return OK

    @staticmethod
    async def stop(server: Any, reason: Any = "normal", timeout: float | None = None) -> Atom:
        """Stop a server synchronously: ``terminate(reason, state)`` runs; returns
        ``"ok"`` (G-16).  Exits ``(noproc | calling_self | timeout | ("nodedown",
        node), ("GenServer.stop", server, reason, timeout))``; on timeout the server
        is still alive.  A bad ``server`` or ``timeout`` raises before anything is
        sent, and the server keeps running.  Elixir's ``GenServer.stop/3``."""
        wait = check_timeout(timeout, "GenServer.stop")
        _check_server(server, "GenServer.stop")
        mfa = ("GenServer.stop", server, reason, timeout)
        target = GenServer.whereis(server)
        if type(target) is tuple and not is_alive():
            _exit_with((NODEDOWN, Atom(target[1])), mfa)
        if target is None:
            _exit_with(NOPROC, mfa)
        if target == self():
            _exit_with(CALLING_SELF, mfa)
        mon = Process.monitor(target)
        send(target, (_STOP, reason))
        try:
            down = await receive(Down(mon, ANY, ANY, ANY), timeout=wait)
        except TimeoutError:
            Process.demonitor(mon, flush=True)
            _exit_with(TIMEOUT, mfa)
        if down.reason == NOPROC:
            _exit_with(NOPROC, mfa)  # it was gone before the request arrived
        if down.reason == "noconnection":
            where = target.node if isinstance(target, Pid) else target[1]
            _exit_with((NODEDOWN, Atom(where)), mfa)
        if down.reason == reason:
            return OK
        exit(down.reason)  # terminate failed: proc_lib exits with the real reason

    @staticmethod
    def whereis(server: Any) -> Any:
        """The pid behind ``server``, ``None`` when unknown, or ``(name, node)``
        unchanged for another node (G-20).  Elixir's ``GenServer.whereis/1``."""
        _check_server(server, "GenServer.whereis")
        if isinstance(server, Pid) or server is None:
            return server
        if isinstance(server, str):
            return Process.whereis(server)
        via = via_of(server)
        if via is not None:
            return via[0].whereis_name(via[1])
        name, where = server
        if where == node():
            return Process.whereis(name)
        return server

    @staticmethod
    async def get_state(server: Any, timeout: float | None = 5.0) -> Any:
        """The server's state, as it is between two messages: Erlang's
        ``sys:get_state/2`` (``:sys.get_state`` in Elixir).  Debugging only.

        ``server`` is anything :meth:`call` takes; it may be any process that
        answers ``sys`` requests (a GenServer, a Supervisor, a GenStateMachine,
        whose state is ``(state, data)``, or an OTP process on another node).
        Exits as :meth:`call` does, with ``(reason, ("sys.get_state", server,
        timeout))``.  A bad ``server`` or ``timeout`` raises before anything is sent.
        """
        wait = check_timeout(timeout, "GenServer.get_state")
        _check_server(server, "GenServer.get_state")
        return await _system_call(server, GET_STATE, wait, ("sys.get_state", server, timeout))

    @staticmethod
    async def get_status(server: Any, timeout: float | None = 5.0) -> Any:
        """The server's status, as Erlang's ``sys:get_status/2`` gives it::

            ("status", pid, ("module", "gen_server"),
             [pdict, "running", parent, [], [("header", "Status for generic server NAME"),
                                             ("data", [("Status", "running"),
                                                       ("Parent", parent),
                                                       ("Logged events", [])]),
                                             ("data", [("State", state)])]])

        ``state`` is what :meth:`format_status` made of it; ``pdict`` the
        process dictionary as ``(key, value)`` pairs.  The labels (``"State"``...)
        are ``str``, so binaries for an Erlang caller, where OTP's are charlists.
        A GenStateMachine answers with ``("module", "gen_statem")`` and
        ``("State", (state, data))``.
        Exits as :meth:`get_state` does (``"sys.get_status"``).
        """
        wait = check_timeout(timeout, "GenServer.get_status")
        _check_server(server, "GenServer.get_status")
        return await _system_call(server, GET_STATUS, wait, ("sys.get_status", server, timeout))

    @staticmethod
    def abcast(name: str, request: Any, *, nodes: list[str] | None = None) -> Atom:
        """Cast ``request`` to the server registered as ``name`` on each of
        ``nodes`` (default: this node and every connected node); returns
        ``"abcast"`` whether or not the servers exist.  Elixir's
        ``GenServer.abcast/3`` (``abcast(nodes, name, request)``)."""
        targets = _check_multi(name, nodes, "GenServer.abcast")
        for where in targets:
            send((name, where), (_CAST, request))
        return ABCAST

    @staticmethod
    async def multi_call(
        name: str, request: Any, timeout: float | None = None, *, nodes: list[str] | None = None
    ) -> tuple[list[tuple[Atom, Any]], list[Atom]]:
        """Call the server registered as ``name`` on each of ``nodes`` (default:
        this node and every connected node) and wait, ``timeout`` seconds in all
        (``None``: forever), for the replies.

        Returns ``(replies, bad_nodes)``: ``replies`` is ``[(node, reply)]`` and
        ``bad_nodes`` the nodes with no such server, that could not be reached,
        whose server died, or that did not answer in time — both in the order of
        ``nodes``.  Replies that come late are dropped.  Never exits.  Elixir's
        ``GenServer.multi_call/4`` (``multi_call(nodes, name, request, timeout)``).
        """
        wait = check_timeout(timeout, "GenServer.multi_call")
        targets = _check_multi(name, nodes, "GenServer.multi_call")
        me = self()
        pending: list[tuple[Atom, Ref]] = []
        for where in targets:
            # Monitor by name: a missing server, an unreachable node or a crash
            # each end the wait for this node with a Down.
            mon = Process.monitor((name, where), alias=True)
            send((name, where), (_CALL, (me, mon), request))
            pending.append((where, mon))
        clock = asyncio.get_running_loop().time
        deadline = None if wait is None else clock() + wait
        replies: list[tuple[Atom, Any]] = []
        bad: list[Atom] = []
        for where, mon in pending:
            left = None if deadline is None else max(0.0, deadline - clock())
            try:
                msg = await receive((mon, ANY), Down(mon, ANY, ANY, ANY), timeout=left)
            except TimeoutError:
                msg = None
            if isinstance(msg, Down) or msg is None:
                Process.demonitor(mon, flush=True)  # deactivates the alias: late replies drop
                bad.append(where)
            else:
                Process.demonitor(mon, flush=True)
                replies.append((where, msg[1]))
        return replies, bad


def _valid_shutdown(value: Any) -> bool:
    return value in ("brutal_kill", "infinity") or (is_number(value) and value >= 0)


def _module_and_arg(cls: type[GenServer], args: tuple[Any, ...], fn: str) -> tuple[Any, Any]:
    """``MyServer.start_link(arg)`` or ``GenServer.start_link(MyServer, arg)``."""
    if cls is not GenServer:
        if len(args) > 1:
            raise TypeError(
                f"{cls.__qualname__}.{fn}: takes one init argument, got {len(args)} "
                f"({args!r}); pass a tuple or a dict to give init several values"
            )
        return cls, (args[0] if args else None)
    if (
        not args
        or len(args) > 2
        or not (isinstance(args[0], type) and issubclass(args[0], GenServer))  # pyright: ignore[reportGeneralTypeIssues] - not empty here
    ):
        got = args[0] if args else "nothing"
        raise TypeError(
            f"GenServer.{fn}: the first argument must be the server class (a GenServer "
            f"subclass), got {got!r}; write MyServer.{fn}(arg) or "
            f"GenServer.{fn}(MyServer, arg)"
        )
    return args[0], (args[1] if len(args) == 2 else None)  # pyright: ignore[reportGeneralTypeIssues] - not empty here


def _check_name(name: Any, what: str) -> None:
    """G-17: ``None``, a non-empty ``str``, ``("global", name)``, or ``("via",
    registry, key)`` where the registry has the via functions (gen.erl raises
    ``undef`` in the caller)."""
    if name is None:
        return
    if isinstance(name, str):
        if not name:
            raise ValueError(
                f"{what}: name must not be empty; give a name such as 'my_server', "
                "or name=None for none"
            )
        return
    if type(name) is tuple and len(name) == 2 and name[0] == "global":
        return
    if type(name) is tuple and len(name) == 3 and name[0] == "via":
        missing = [f for f in _VIA_FUNCTIONS if not callable(getattr(name[1], f, None))]
        if missing:
            raise TypeError(
                f"{what}: the via registry {name[1]!r} has no {', '.join(missing)}; give "
                "('via', registry, key) with a registry such as tether.Registry"
            )
        return
    raise TypeError(
        f"{what}: expected name= to be one of: None, a str, ('global', name) or ('via', "
        f"registry, key); got {name!r}"
    )


def _check_server(server: Any, what: str) -> None:
    """A pid, a name, ``(name, node)``, ``("global", name)``, ``("via", registry,
    key)`` or ``None``."""
    if server is None or isinstance(server, Pid | str):
        return
    if type(server) is tuple:
        if len(server) == 2 and server[0] == "global":
            return
        if len(server) == 2 and isinstance(server[0], str) and isinstance(server[1], str):
            return
        if len(server) == 3 and server[0] == "via":
            return
    raise TypeError(
        f"{what}: server must be a Pid, a name, (name, node), ('global', name) or ('via', "
        f"registry, key), got {server!r}"
    )


def _check_multi(name: Any, on: Any, what: str) -> list[Atom]:
    if not isinstance(name, str) or not name:
        raise TypeError(
            f"{what}: name must be the servers' registered name (a non-empty str), got {name!r}"
        )
    if on is None:
        return [node(), *nodes()]
    if not isinstance(on, list | tuple) or not all(isinstance(n, str) and "@" in n for n in on):
        raise TypeError(f"{what}: nodes must be a list of node names like 'name@host', got {on!r}")
    return [Atom(n) for n in on]


def _check_from(from_: Any) -> None:
    if (
        type(from_) is not tuple
        or len(from_) != 2
        or not (isinstance(from_[0], Pid) or alias_of_tag(from_[1]) is not None)
    ):
        raise TypeError(
            "GenServer.reply: from_ must be the (pid, tag) pair that handle_call received, "
            f"got {from_!r}"
        )


def _reply(from_: Any, reply: Any) -> None:
    # A tether caller's tag is its alias (a Ref): send there directly, what
    # reply_to does for it after working out the tag's shape.
    if type(from_) is tuple and len(from_) == 2 and type(from_[1]) is Ref:
        send(from_[1], (from_[1], reply))
    else:
        reply_to(from_, reply)


async def _call_remote_name(
    server: tuple[str, str], request: Any, timeout: float | None, mfa: Any
) -> Any:
    """``GenServer.call({name, node}, ...)`` for another node: monitor by name (D-5)."""
    mon = Process.monitor(server, alias=True)
    send(server, (_CALL, (self_pid(), mon), request))
    return await _await_reply(mon, timeout, mfa, server[1])


async def _await_reply(mon: Ref, timeout: float | None, mfa: Any, where: str | None) -> Any:
    try:
        msg = await receive(reply_filter(mon), timeout=timeout)
    except TimeoutError:
        await _timed_out(mon, mfa)
    if type(msg) is tuple:  # the reply (mon, reply)
        call_demonitor(mon, "GenServer.call")
        return msg[1]
    _exit_down(msg, mfa, where)


async def _timed_out(mon: Ref, mfa: Any) -> NoReturn:
    """A call's timeout (G-8): the monitor and alias go, a reply already queued is
    dropped, and the caller exits ``timeout``."""
    Process.demonitor(mon, flush=True)
    await _flush((mon, ANY))
    _exit_with(TIMEOUT, mfa)


def _call_mfa(server: Any, request: Any, timeout: Any) -> tuple[str, Any, Any, Any]:
    """What a failed ``GenServer.call`` exits with beside its reason (OTP's
    ``{gen_server, call, [server, request, timeout]}``); made only once a call
    fails, not on every call."""
    return ("GenServer.call", server, request, timeout)


def _exit_down(down: Down, mfa: Any, where: str | None) -> NoReturn:
    """The server died before it replied (G-9): exit with its reason."""
    reason = down.reason
    # D-5: a lost connection is {nodedown, node}.
    _exit_with((NODEDOWN, Atom(where)) if reason == "noconnection" and where else reason, mfa)


async def _system_call(server: Any, request: Any, wait: float | None, mfa: Any) -> Any:
    """``gen:call(server, system, request)``: what ``sys`` sends (SYSTEM's label)."""
    pid = server if type(server) is Pid else GenServer.whereis(server)
    if type(pid) is tuple and is_alive():
        mon = Process.monitor(pid, alias=True)
        send(pid, (SYSTEM, (self_pid(), mon), request))
        return await _await_reply(mon, wait, mfa, pid[1])
    if not isinstance(pid, Pid):
        _exit_with(NOPROC if pid is None else (NODEDOWN, Atom(pid[1])), mfa)
    me = self()
    if pid == me:
        _exit_with(CALLING_SELF, mfa)
    mon = Process.monitor(pid, alias=True)
    send(pid, (SYSTEM, (me, mon), request))
    return await _await_reply(mon, wait, mfa, pid.node)


def answer_system(
    from_: Any, request: Any, module: str, header: str, parent: Pid, state: Any, status: Any
) -> None:
    """Answer one ``sys`` request (``get_state``, ``get_status``) in the server loop.

    ``state`` is what ``get_state`` returns; ``status`` is the formatted state
    ``get_status`` shows (a ``format_status`` failure text, or the state).  The
    reply is OTP's term, so Erlang's ``sys`` understands it.
    """
    try:
        if request == GET_STATE:
            _reply(from_, state)
        elif request == GET_STATUS:
            me = self()
            pdict = list(Process.get().items())
            data = [
                ("Status", RUNNING),
                ("Parent", parent),
                ("Logged events", []),
            ]
            items = [(HEADER, header), (DATA, data), (DATA, [("State", status)])]
            _reply(from_, (STATUS, me, (MODULE, Atom(module)), [pdict, RUNNING, parent, [], items]))
        else:
            _reply(from_, (ERROR, (Atom("unknown_system_msg"), request)))
    except (TypeError, ValueError):
        pass  # a from_ that is no (pid, tag): nobody to answer


STATUS: Final = Atom("status")
RUNNING: Final = Atom("running")
MODULE: Final = Atom("module")
HEADER: Final = Atom("header")
DATA: Final = Atom("data")


def format_status_of(impl: Any, status: dict[str, Any]) -> dict[str, Any]:
    """gen:format_status for a ``format_status/1`` callback: merge its answer in.

    If it raises, or returns anything but a dict of known keys, the result has
    a ``"format_status"`` key with the failure text, for the caller to show
    instead of the state.
    """
    try:
        new = impl.format_status(dict(status))
    except Exception:
        new = None
    if not isinstance(new, dict) or not set(new) <= set(status):
        failed = dict(status)
        failed["format_status"] = f"{type(impl).__qualname__}.format_status failed"
        return failed
    return {**status, **new}


def _shown_state(status: dict[str, Any]) -> Any:
    """The state a status shows: the callback's, or its failure text."""
    return status["format_status"] if "format_status" in status else status["state"]


def _self_or_none() -> Pid | None:
    try:
        return self()
    except RuntimeError:
        return None


def _exit_with(reason: Any, mfa: tuple[Any, ...]) -> NoReturn:
    exit((reason, mfa))


async def _flush(*filters: Any) -> None:
    """Remove one queued message matching ``filters``, if any (proc_lib's flush)."""
    with contextlib.suppress(TimeoutError):
        await receive(*filters, timeout=0)


# -- the server process --------------------------------------------------------


class _State:
    __slots__ = ("impl", "last", "name", "parent", "state")

    def __init__(self, impl: GenServer, parent: Pid, state: Any, name: Any) -> None:
        self.impl = impl
        self.parent = parent
        self.state = state
        self.name = name
        self.last: Any = None


async def _server_main(
    cls: type[GenServer],
    arg: Any,
    parent: Pid,
    tag: Ref,
    name: Any,
    linked: bool,
    ancestors: list[Any],
) -> None:
    """The server process: init (``_server_init``, a coroutine that is gone once it
    returns), then the loop.  The loop is this coroutine's own body, not an
    ``await _loop()``: every message resumes the process through each coroutine
    on its await chain, and one frame less is ~5 % of a GenServer call."""
    started = await _server_init(cls, arg, parent, tag, name, linked, ancestors)
    if started is None:
        return
    s, action = started
    impl = s.impl
    while True:
        # Actions first: Continue runs before the next message; a timeout arms
        # handle_info("timeout") if no message comes first (G-18).
        if action is None:  # the common case first: no action, wait for a message
            msg = await receive()
        elif isinstance(action, Continue):
            s.last = ("continue", action.arg)
            action = await _dispatch(s, impl.handle_continue, action.arg, s.state, None)
            continue
        elif isinstance(action, int | float) and not isinstance(action, bool):
            try:
                msg = await receive(timeout=action)
            except TimeoutError:
                msg = TIMEOUT
        else:
            msg = await receive()
        s.last = msg
        if type(msg) is tuple and len(msg) == 3 and msg[0] == _CALL:
            from_ = msg[1]
            request = s.last = msg[2]  # the report shows the request, as Elixir's does
            # The hot path, inline (no _dispatch coroutine per call): a plain
            # handle_call that returns a Reply.  Anything else (an async callback,
            # an exception, another result) goes through _dispatch's rules.
            try:
                result = impl.handle_call(request, from_, s.state)
                if type(result) is types.CoroutineType:
                    result = await result
            except ProcessExit as e:
                await _terminate(s, e.reason, report=not _is_quiet(e.reason), from_=from_)
            except Exception as e:
                await _terminate(s, e, report=True, from_=from_)
            if type(result) is Reply:
                s.state = result[1]
                # _reply(from_, result[0]) inline, a Python call less per call
                # (~330 of a call's ~22,500 instructions): keep the two alike
                if type(from_) is tuple and len(from_) == 2 and type(from_[1]) is Ref:
                    send(from_[1], (from_[1], result[0]))
                else:
                    reply_to(from_, result[0])
                action = result[2]
            else:
                action = await _settle(s, result, from_)
        elif type(msg) is tuple and len(msg) == 2 and msg[0] == _CAST:
            action = await _dispatch(s, impl.handle_cast, msg[1], s.state, None)
        elif type(msg) is tuple and len(msg) == 2 and msg[0] == _STOP:
            # GenServer.stop is sys:terminate: a reason other than normal/shutdown
            # is reported, with no last message (OTP passes []).
            s.last = []
            await _terminate(s, msg[1], report=not _is_quiet(msg[1]))
        elif isinstance(msg, Exit) and msg.pid == s.parent:
            # G-15: only reaches here when trapping; terminate with the parent's reason.
            await _terminate(s, msg.reason, report=not _is_quiet(msg.reason))
        elif type(msg) is tuple and len(msg) == 3 and msg[0] == SYSTEM:
            # sys:get_state / sys:get_status; the server goes on as it was.
            _answer_server_system(s, msg[1], msg[2])
        else:
            action = await _dispatch(s, impl.handle_info, msg, s.state, None)


async def _server_init(
    cls: type[GenServer],
    arg: Any,
    parent: Pid,
    tag: Ref,
    name: Any,
    linked: bool,
    ancestors: list[Any],
) -> tuple[_State, Action] | None:
    """gen_server's init_it: the server's state and first action once it has
    answered its starter ``ok``; ``None`` when the name was taken (answered
    already); any other failure exits the process (``_init_fail``)."""
    Process.put("$initial_call", (cls.__module__, cls.__qualname__, 1))
    Process.put("$ancestors", ancestors)
    if name is not None:
        try:
            taken = await _register(name)
        except Exception as e:  # a via registry that fails: {error, {E, stack}}
            _init_fail(parent, tag, linked, (ERROR, e), e)
        if taken is not None:
            if linked:
                Process.unlink(parent)
            send(parent, (tag, (ERROR, (ALREADY_STARTED, taken))))
            return None
    try:
        impl = cls()
        result = await _maybe_await(impl.init(arg))
    except ProcessExit as e:
        _init_fail(parent, tag, linked, (ERROR, e.reason), e.reason)
    except Exception as e:
        _init_fail(parent, tag, linked, (ERROR, e), e)
    match result:
        case Ok(state, action):
            send(parent, (tag, OK))
            return _State(impl, parent, state, name), action
        case Ignore():
            _init_fail(parent, tag, linked, IGNORE, NORMAL)
        case Stop(reason):
            _init_fail(parent, tag, linked, (ERROR, reason), reason)
        case Error(reason):
            _init_fail(parent, tag, linked, (ERROR, reason), NORMAL)
        case _:
            bad = (BAD_RETURN_VALUE, result)
            _init_fail(parent, tag, linked, (ERROR, bad), bad)


def _init_fail(parent: Pid, tag: Ref, linked: bool, answer: Any, reason: Any) -> NoReturn:
    """OTP 26 init_fail: drop the link, answer the starter, exit with ``reason``."""
    if linked:
        Process.unlink(parent)
    send(parent, (tag, answer))
    exit(reason)


async def _register(name: Any) -> Any:
    """Register ``name`` for the caller; return the holder's pid if it is taken.

    gen.erl's ``register_name``: a name service's ``register_name`` may wait (the
    global one sets a cluster-wide lock), so an awaitable answer is awaited; its
    ``"no"`` with no holder left is ``"undefined"``, as gen.erl's ``where/1``.
    """
    if isinstance(name, str):
        holder = Process.whereis(name)
        if holder is not None:
            return holder
        Process.register(self(), name)
        return None
    via = via_of(name)
    assert via is not None  # _check_name let nothing else through
    registry, key = via
    holder = registry.whereis_name(key)
    if holder is not None:
        return holder
    answer = await _maybe_await(registry.register_name(key, self()))
    if answer != "yes":
        holder = registry.whereis_name(key)
        return Atom("undefined") if holder is None else holder
    return None


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
    return await _settle(s, result, from_)


async def _settle(s: _State, result: Any, from_: Any) -> Action:
    """Apply a callback's result (G-10, G-11, G-19); the caller's ``from`` or None."""
    match result:
        case Reply(reply, state, action) if from_ is not None:
            s.state = state
            _reply(from_, reply)
            return action
        case NoReply(state, action):
            s.state = state
            return action
        case Stop(reason, state, reply):
            s.state = state
            if reply is not _NO_REPLY and from_ is not None:
                # G-10: terminate runs, then the reply is sent, then the exit.
                await _terminate(
                    s, reason, report=not _is_quiet(reason), from_=from_, reply=(from_, reply)
                )
            await _terminate(s, reason, report=not _is_quiet(reason), from_=from_)
        case _:
            await _terminate(s, (BAD_RETURN_VALUE, result), report=True, from_=from_)


async def _terminate(
    s: _State,
    reason: Any,
    report: bool,
    from_: Any = None,
    reply: tuple[From, Any] | None = None,
) -> NoReturn:
    # gen_server.erl: terminate/2 runs, the report is written, and only then, as
    # the exit unwinds (try ... after reply), the reply goes out (G-10).
    try:
        try:
            await _maybe_await(s.impl.terminate(reason, s.state))
        except ProcessExit as e:
            reason = e.reason
        except Exception as e:
            reason = e
            report = True
        if report:
            _report(s, reason, from_)
    finally:
        if reply is not None:
            _reply(*reply)
    exit(reason)


def _answer_server_system(s: _State, from_: Any, request: Any) -> None:
    status = {"state": s.state, "log": []}
    if request == GET_STATUS:
        status = format_status_of(s.impl, status)
    name = s.name if isinstance(s.name, str) else repr(self())
    header = f"Status for generic server {name}"
    answer_system(from_, request, "gen_server", header, s.parent, s.state, _shown_state(status))


def _report(s: _State, reason: Any, from_: Any) -> None:
    """LOG-3: ``GenServer #PID<…> terminating`` with the reason, last message and
    state, and for a call the client (as Elixir's Logger translator writes it).
    The state, message and reason go through ``format_status`` first (OTP 25)."""
    me = self()
    status = {"state": s.state, "message": s.last, "reason": reason, "log": []}
    status = format_status_of(s.impl, status)
    reason, last, state = status["reason"], status["message"], _shown_state(status)
    head, exc_info = crash_head(reason)
    who = inspect_name(s.name) if isinstance(s.name, str) else repr(me)
    lines = [f"GenServer {who} terminating", head]
    client = from_[0] if type(from_) is tuple and len(from_) == 2 else None
    if isinstance(client, Pid):
        lines.append(f"Last message (from {client!r}): {inspect(last)}")
        lines.append(f"State: {_shown(state, status)}")
        if type(client) is Pid and client.node is not None:
            lines.append(f"Client {client!r} is remote on node {inspect_name(client.node)}")
        else:
            alive = "is alive" if Process.alive(client) else "is dead"
            lines.append(f"Client {client!r} {alive}")
    else:
        lines.append(f"Last message: {inspect(last)}")
        lines.append(f"State: {_shown(state, status)}")
    logger.error("\n".join(lines), exc_info=exc_info, extra={"tether_pid": me})


def _shown(state: Any, status: dict[str, Any]) -> str:
    return str(state) if "format_status" in status else inspect(state)
