"""GenStateMachine: OTP's ``gen_statem`` (Elixir's ``gen_state_machine``), on the
public runtime API only.

Caller → callback map (as ``gen_statem(3)`` documents it)::

    GenStateMachine.start_link(Cls, arg) ->  Cls().init(arg)
    GenStateMachine.call(sm, req)        ->  event ("call", from_), req
    GenStateMachine.cast(sm, msg)        ->  event "cast", msg
    any other message                    ->  event "info", msg
    an action NextEvent(type, content)   ->  event type, content
    EventTimeout / StateTimeout /
      GenericTimeout(name, ...) expiring ->  event "timeout" / "state_timeout" /
                                             ("timeout", name), content
    a state change, with state_enter     ->  event "enter", previous_state
    GenStateMachine.stop / Stop / crash  ->  terminate(reason, state, data)

    callback_mode "handle_event_function": handle_event(type, content, state, data)
    callback_mode "state_functions":       <state>(type, content, data)

Design notes
------------
* The loop is ``gen_statem.erl``'s (OTP 25), step for step, because its order
  of events is what users rely on: a callback's result is parsed with its
  actions applied in list order (replies go out at once); a state change
  requeues the postponed events, oldest first; ``NextEvent`` events go before
  all of those; then the queue of events is drained before the mailbox is read
  again.  The enter call of a state change runs in the same step as the event
  that caused it, so its actions join the same transition.
* Time-outs follow ``gen_statem``'s rules exactly: one timer per type (the
  event time-out, the state time-out, one per generic name); the last action of
  a type in a transition wins; any event cancels the event time-out, a state
  change cancels the state time-out; a time-out of ``0`` starts no timer but is
  queued (``t0q``) to fire before the mailbox is read; ``update`` replaces the
  content of a running time-out (or queues it at once when none runs); ``None``
  (Erlang's ``infinity``) cancels.  Real timers are ``Process.send_after``
  messages ``("timeout", tag, type)`` tagged with a fresh ref, so a message
  from a cancelled timer can be told apart and flushed.
* Calls and casts are GenServer's messages (``$gen_call``/``$gen_cast``), so
  ``GenServer.call`` reaches a state machine and Erlang nodes can call one.  A
  call monitors the machine with an alias (M-16): a late reply is dropped.
* Start follows OTP 26+ as tether's GenServer does: an ``init`` that fails
  makes ``start_link`` return ``("error", reason)`` with the link already gone.
* A crash in a callback is the machine's death: ``terminate`` runs, the crash
  is reported as the gen_state_machine package prints it (LOG-3: nothing for
  normal, shutdown or ("shutdown", _)), and the process exits with the reason.
  Errors in results and actions are gen_statem's reasons as plain tuples:
  ``("bad_return_from_state_function", result)`` and the like.
* A machine that keeps feeding itself events (a ``NextEvent`` loop) would never
  wait in ``receive``; every ``_BUDGET`` events it yields to the scheduler so
  that it cannot starve the node.

Rejected: one class per event type (``Call(from_)``, ``Cast()``...).  Event
types are the plain values Erlang uses (``"cast"``, ``("call", from_)``), so
``match`` on ``(event_type, content)`` reads like an Elixir function head.
"""

from __future__ import annotations

import asyncio
import logging
import math
import types
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Final, NamedTuple, NoReturn

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
from tether._runtime._types import (
    ANY,
    Atom,
    Down,
    Exit,
    OnStart,
    Pid,
    ProcessExit,
    Ref,
    TimerRef,
)
from tether._runtime._validate import check_timeout, is_number

from .gen_server import (
    _CALL,
    _CAST,
    _NO_REPLY,
    _STOP,
    GET_STATUS,
    HIBERNATE,
    SYSTEM,
    Error,
    GenServer,
    Ignore,
    Stop,
    _await_reply,
    _call_remote_name,
    _flush,
    _is_quiet,
    _maybe_await,
    _register,
    answer_system,
    format_status_of,
)

__all__ = [
    "EventTimeout",
    "GenStateMachine",
    "GenericTimeout",
    "KeepState",
    "KeepStateAndData",
    "NextEvent",
    "NextState",
    "Postpone",
    "RepeatState",
    "RepeatStateAndData",
    "ReplyTo",
    "StateTimeout",
    "StopAndReply",
]

logger: Final = logging.getLogger("tether")

OK: Final = Atom("ok")
ERROR: Final = Atom("error")
IGNORE: Final = Atom("ignore")
NORMAL: Final = Atom("normal")
NOPROC: Final = Atom("noproc")
CALLING_SELF: Final = Atom("calling_self")
NODEDOWN: Final = Atom("nodedown")

# Event types, as gen_statem names them.
CALL: Final = Atom("call")
CAST: Final = Atom("cast")
INFO: Final = Atom("info")
INTERNAL: Final = Atom("internal")
TIMEOUT: Final = Atom("timeout")
STATE_TIMEOUT: Final = Atom("state_timeout")
ENTER: Final = Atom("enter")

HANDLE_EVENT_FUNCTION: Final = Atom("handle_event_function")
STATE_FUNCTIONS: Final = Atom("state_functions")
STATE_ENTER: Final = Atom("state_enter")
_UPDATE: Final = "update"

# Events handled in a row before the machine yields to the scheduler (see above).
_BUDGET: Final = 64

_NOT_GIVEN: Final = object()


class _Keep:
    """``StopAndReply``'s default data: keep the data the machine has."""

    _instance: ClassVar[_Keep | None] = None

    def __new__(cls) -> _Keep:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Final = _Keep()

# -- results ---------------------------------------------------------------------


class NextState(NamedTuple):
    """Go to ``state`` with ``data``: ``{:next_state, state, data[, actions]}``.

    From ``init`` it is the first state: gen_statem's ``{:ok, state, data[,
    actions]}``.  Going to the state the machine is in is not a state change
    (no enter call, postponed events stay postponed); use :class:`RepeatState`
    for that.  ``actions`` is one action, or a list or tuple of them (``None``
    in their place is no action).
    """

    state: Any
    data: Any
    actions: Any = ()


class KeepState(NamedTuple):
    """Stay in the state with new ``data``: ``{:keep_state, data[, actions]}``."""

    data: Any
    actions: Any = ()


class KeepStateAndData(NamedTuple):
    """Change nothing: ``:keep_state_and_data`` / ``{:keep_state_and_data, actions}``."""

    actions: Any = ()


class RepeatState(NamedTuple):
    """Stay in the state as if re-entering it: ``{:repeat_state, data[, actions]}``.

    With ``state_enter`` the enter call runs again (with the same previous state).
    """

    data: Any
    actions: Any = ()


class RepeatStateAndData(NamedTuple):
    """``:repeat_state_and_data`` / ``{:repeat_state_and_data, actions}``."""

    actions: Any = ()


class StopAndReply(NamedTuple):
    """Send ``replies`` (:class:`ReplyTo` values), then stop with ``reason``:
    ``{:stop_and_reply, reason, replies[, data]}``.  The replies go out before
    ``terminate`` runs.  ``data`` defaults to the data the machine has."""

    reason: Any
    replies: Any = ()
    data: Any = KEEP


# -- actions ---------------------------------------------------------------------


@dataclass(frozen=True)
class ReplyTo:
    """Reply to a caller: ``{:reply, from, reply}``.  ``from_`` is the ``from_``
    of a ``("call", from_)`` event."""

    from_: Any
    reply: Any


@dataclass(frozen=True)
class Postpone:
    """Postpone the current event until the state changes: ``:postpone``.

    Not allowed in an enter call (``bad_state_enter_action_from_state_function``).
    """

    value: bool = True


@dataclass(frozen=True)
class NextEvent:
    """Insert an event to be handled before any other: ``{:next_event, type, content}``.

    ``type`` is any event type: ``"internal"`` (the usual one), ``"cast"``,
    ``"info"``, ``("call", from_)``, ``"timeout"``, ``"state_timeout"`` or
    ``("timeout", name)``.  Not allowed in an enter call.
    """

    type: Any
    content: Any


@dataclass(frozen=True)
class EventTimeout:
    """Fire ``("timeout", content)`` after ``time`` seconds unless an event comes
    first: ``{:timeout, time, content}``.

    ``time`` is seconds (``0`` queues it before the mailbox is read), ``None``
    (``:infinity``: cancels), or ``"update"`` (see :meth:`update`).  With
    ``absolute=True`` it is a deadline on the event loop's clock
    (``asyncio.get_running_loop().time()``).  A plain number as an action
    means ``EventTimeout(number, number)``, as in gen_statem.
    """

    time: Any
    content: Any = None
    absolute: bool = False

    @classmethod
    def cancel(cls) -> EventTimeout:
        """``{:timeout, :cancel}``."""
        return cls(None)

    @classmethod
    def update(cls, content: Any) -> EventTimeout:
        """``{:timeout, :update, content}``: a new content for the running time-out,
        or, when none runs, a time-out that fires at once."""
        return cls(_UPDATE, content)


@dataclass(frozen=True)
class StateTimeout:
    """Fire ``("state_timeout", content)`` after ``time`` seconds unless the state
    changes first: ``{:state_timeout, time, content}``.  ``time`` and
    ``absolute`` as for :class:`EventTimeout`."""

    time: Any
    content: Any = None
    absolute: bool = False

    @classmethod
    def cancel(cls) -> StateTimeout:
        """``{:state_timeout, :cancel}``."""
        return cls(None)

    @classmethod
    def update(cls, content: Any) -> StateTimeout:
        """``{:state_timeout, :update, content}``."""
        return cls(_UPDATE, content)


@dataclass(frozen=True)
class GenericTimeout:
    """Fire ``(("timeout", name), content)`` after ``time`` seconds:
    ``{{:timeout, name}, time, content}``.  Neither events nor state changes
    cancel it; a new one with the same name replaces it.  ``name`` must be
    hashable; ``time`` and ``absolute`` as for :class:`EventTimeout`."""

    name: Any
    time: Any
    content: Any = None
    absolute: bool = False

    @classmethod
    def cancel(cls, name: Any) -> GenericTimeout:
        """``{{:timeout, name}, :cancel}``."""
        return cls(name, None)

    @classmethod
    def update(cls, name: Any, content: Any) -> GenericTimeout:
        """``{{:timeout, name}, :update, content}``."""
        return cls(name, _UPDATE, content)


_Timeout = EventTimeout | StateTimeout | GenericTimeout


def _timeout_key(t: _Timeout) -> Any:
    if isinstance(t, GenericTimeout):
        return (TIMEOUT, t.name)
    return TIMEOUT if isinstance(t, EventTimeout) else STATE_TIMEOUT


def _is_from(value: Any) -> bool:
    return type(value) is tuple and len(value) == 2 and isinstance(value[0], Pid)


def _is_event_type(value: Any) -> bool:
    if isinstance(value, str):
        return value in (CAST, INFO, INTERNAL, TIMEOUT, STATE_TIMEOUT)
    if type(value) is tuple and len(value) == 2 and isinstance(value[0], str):
        if value[0] == CALL:
            return _is_from(value[1])
        if value[0] == TIMEOUT:
            return _hashable(value[1])
    return False


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _valid_timeout(t: _Timeout) -> bool:
    if isinstance(t, GenericTimeout) and not _hashable(t.name):
        return False
    if not isinstance(t.absolute, bool):
        return False
    time = t.time
    if time is None:
        return True
    if isinstance(time, str):
        return time == _UPDATE and not t.absolute
    if not is_number(time) or time != time:
        return False
    return t.absolute or time >= 0


def _listify(actions: Any) -> list[Any]:
    if type(actions) is list or type(actions) is tuple:
        return list(actions)
    return [actions]


# -- the behaviour ---------------------------------------------------------------


class GenStateMachine:
    """Base class of a state machine: OTP's ``gen_statem``, Elixir's ``use GenStateMachine``.

    Subclass it, set ``callback_mode``, and write the callbacks.  Each callback
    but ``format_status`` may be ``async``.  Start it with
    ``await MyMachine.start_link(arg)``.

    ``callback_mode`` (a class attribute) is ``"handle_event_function"`` (the
    default: every event goes to :meth:`handle_event`) or ``"state_functions"``
    (the event goes to the method named after the state, which must then be a
    ``str``: ``def locked(self, event_type, content, data)``).  Add state enter
    calls with a list: ``callback_mode = ["state_functions", "state_enter"]``.

    A state callback returns one of: :class:`NextState`, :class:`KeepState`,
    :class:`KeepStateAndData`, :class:`RepeatState`, :class:`RepeatStateAndData`,
    ``Stop(reason[, data])`` (tether's :class:`Stop`; without data, or with
    ``None``, the data is kept) or :class:`StopAndReply`.  Actions:
    :class:`ReplyTo`, :class:`Postpone`, :class:`NextEvent`,
    :class:`EventTimeout`, :class:`StateTimeout`, :class:`GenericTimeout`,
    ``HIBERNATE`` (accepted; a hint only).

    .. warning:: In ``"state_functions"`` mode a state must not be named after
       one of this class's own methods (``start``, ``stop``, ``call``, ``init``
       …) unless the subclass defines that method as the state function.
    """

    callback_mode: ClassVar[str | list[str] | tuple[str, ...]] = "handle_event_function"
    # Defaults for the child spec that ``child_spec`` builds.
    restart: ClassVar[str] = "permanent"
    shutdown: ClassVar[float | str] = 5.0

    def __call__(self) -> Pid:
        """The machine's pid (Elixir's ``self()`` inside a callback)."""
        return self_pid()

    # -- callbacks -------------------------------------------------------------

    def init(self, arg: Any, /) -> Any:
        """Set up the machine.  Returns ``NextState(state, data[, actions])``,
        ``Ignore()``, ``Stop(reason)`` or ``Error(reason)``.  Default: ``arg`` is
        ``(state, data)``, as in the gen_state_machine package."""
        state, data = arg
        return NextState(state, data)

    def handle_event(self, event_type: Any, content: Any, state: Any, data: Any, /) -> Any:
        """Handle an event in ``"handle_event_function"`` mode (every return is
        listed on the class).  Default: ``Stop("bad_event")``, as the
        gen_state_machine package does."""
        return Stop(Atom("bad_event"))

    def terminate(self, reason: Any, state: Any, data: Any, /) -> Any:
        """Clean up before the machine exits (when a callback stops or crashes,
        on :meth:`stop`, or on an exit signal from the parent while trapping
        exits).  The result is ignored.  Default: nothing."""
        return None

    def format_status(self, status: dict[str, Any], /) -> dict[str, Any]:
        """What a crash report and ``GenServer.get_status`` (so the observer)
        show: gen_statem's ``format_status/1``.

        ``status`` has the keys ``"state"``, ``"data"``, ``"reason"``,
        ``"queue"``, ``"postponed"``, ``"timeouts"`` and ``"log"`` (no
        ``"reason"`` nor ``"queue"`` for ``get_status``); return a dict
        with (some of) those keys changed, e.g. secrets masked.  If it raises or
        returns anything else, the report shows neither state nor data.
        Default: ``status`` unchanged.
        """
        return status

    # -- starting --------------------------------------------------------------

    @classmethod
    async def start_link(
        cls, arg: Any = None, *, name: Any = None, timeout: float | None = None
    ) -> OnStart:
        """Start a machine linked to the caller and wait for ``init``:
        ``gen_statem:start_link``.

        Returns ``("ok", pid)``, ``"ignore"`` or ``("error", reason)``:
        ``("error", ("already_started", pid))`` for a taken name,
        ``("error", "timeout")`` when ``init`` outlasts ``timeout`` seconds,
        ``("error", exception)`` when ``init`` raises.  ``name`` is ``None``, a
        ``str``, ``("global", name)`` or ``("via", registry, key)``.

        Raises:
            TypeError, ValueError: a bad ``name``, ``timeout`` or ``callback_mode``.
        """
        return await _start(cls, arg, name, timeout, link=True, what="start_link")

    @classmethod
    async def start(
        cls, arg: Any = None, *, name: Any = None, timeout: float | None = None
    ) -> OnStart:
        """Like :meth:`start_link`, without the link: ``gen_statem:start``."""
        return await _start(cls, arg, name, timeout, link=False, what="start")

    @classmethod
    def child_spec(cls, arg: Any = None, /) -> dict[str, Any]:
        """The child spec ``use GenStateMachine`` generates: id the class, start
        ``start_link(arg)``; class attributes ``restart``/``shutdown`` override."""
        return {
            "id": cls,
            "start": (cls.start_link, (arg,)),
            "restart": cls.restart,
            "shutdown": cls.shutdown,
            "type": "worker",
        }

    # -- client API --------------------------------------------------------------

    @staticmethod
    async def call(server: Any, request: Any, timeout: float | None = None) -> Any:
        """Send ``request`` as a ``("call", from_)`` event and wait for the reply:
        ``gen_statem:call``.  The default timeout is forever, as gen_statem's.

        The caller exits (``tether.ProcessExit``) with
        ``(reason, ("GenStateMachine.call", server, request, timeout))``:
        ``"noproc"``, ``"calling_self"``, ``"timeout"`` (a late reply is
        dropped), ``("nodedown", node)``, or the machine's exit reason when it
        dies first.

        Raises:
            TypeError, ValueError: a bad ``server`` or ``timeout``.
        """
        what = "GenStateMachine.call"
        timeout = check_timeout(timeout, what)
        _check_server(server, what)
        mfa = (what, server, request, timeout)
        pid = GenServer.whereis(server)
        if type(pid) is tuple:
            if node() == "nonode@nohost":
                exit(((NODEDOWN, Atom(pid[1])), mfa))
            return await _call_remote_name(pid, request, timeout, mfa)
        if pid is None:
            exit((NOPROC, mfa))
        me = self()
        if pid == me:
            exit((CALLING_SELF, mfa))
        # One ref is the monitor and the reply alias (M-16): a late reply is dropped.
        mon = Process.monitor(pid, alias=True)
        send(pid, (_CALL, (me, mon), request))
        return await _await_reply(mon, timeout, mfa, pid.node)

    @staticmethod
    def cast(server: Any, msg: Any) -> Atom:
        """Send ``msg`` as a ``"cast"`` event; always ``"ok"``: ``gen_statem:cast``.

        Raises:
            TypeError: ``server`` is not a pid or a name.
        """
        _check_server(server, "GenStateMachine.cast")
        pid = GenServer.whereis(server)
        if pid is not None:
            send(pid, (_CAST, msg))
        return OK

    @staticmethod
    def reply(from_or_replies: Any, reply: Any = _NOT_GIVEN) -> Atom:
        """Answer a call from any process: ``gen_statem:reply/2``
        (``reply(from_, value)``), or ``gen_statem:reply/1``: one
        :class:`ReplyTo` or a list of them.  Returns ``"ok"``.

        Raises:
            TypeError: a ``from_`` that is not ``(pid, tag)``, or a list item that
                is not a :class:`ReplyTo` (nothing is sent then).
        """
        what = "GenStateMachine.reply"
        if reply is not _NOT_GIVEN:
            pairs = [(from_or_replies, reply)]
        else:
            items = _listify(from_or_replies)
            for r in items:
                if not isinstance(r, ReplyTo):
                    raise TypeError(
                        f"{what}: with one argument, give a ReplyTo(from_, reply) or a list of "
                        f"them, got {r!r}"
                    )
            pairs = [(r.from_, r.reply) for r in items]
        for from_, _ in pairs:
            if not _is_from(from_):
                raise TypeError(
                    f"{what}: from_ must be the (pid, tag) of a ('call', from_) event, "
                    f"got {from_!r}"
                )
        for from_, value in pairs:
            GenServer.reply(from_, value)
        return OK

    @staticmethod
    async def stop(server: Any, reason: Any = "normal", timeout: float | None = None) -> Atom:
        """Stop the machine: ``terminate(reason, state, data)`` runs; returns
        ``"ok"``: ``gen_statem:stop``.

        As gen_statem's, it exits with a plain reason: ``"noproc"`` (no such
        machine), ``"calling_self"``, ``"timeout"`` (the machine is still
        alive then), or the reason the machine exited with when ``terminate``
        failed.  An abnormal ``reason`` is reported (LOG-3), as OTP does.

        Raises:
            TypeError, ValueError: a bad ``server`` or ``timeout``, or a machine
                on another node.
        """
        what = "GenStateMachine.stop"
        timeout = check_timeout(timeout, what)
        _check_server(server, what)
        pid = GenServer.whereis(server)
        if type(pid) is tuple or (isinstance(pid, Pid) and pid.node is not None):
            # gen_statem stops a remote machine with a :sys message that tether's
            # machines do not speak; refuse rather than wait forever.
            raise ValueError(
                f"{what}: {server!r} is on another node; stopping a machine there is not "
                "supported: ask that node to stop it (an rpc, or a message it handles)"
            )
        if pid is None:
            exit(NOPROC)
        if pid == self():
            exit(CALLING_SELF)
        mon = Process.monitor(pid)
        send(pid, (_STOP, reason))
        try:
            down = await receive(Down(mon, ANY, ANY, ANY), timeout=timeout)
        except TimeoutError:
            Process.demonitor(mon, flush=True)
            exit(Atom("timeout"))
        if down.reason == NOPROC:
            exit(NOPROC)
        if down.reason == reason:
            return OK
        exit(down.reason)


def _check_server(server: Any, what: str) -> None:
    if isinstance(server, Pid | str):
        return
    if type(server) is tuple and len(server) == 2 and server[0] == "global":
        return
    if type(server) is tuple and len(server) == 2 and all(isinstance(x, str) for x in server):
        return
    if type(server) is tuple and len(server) == 3 and server[0] == "via":
        return
    raise TypeError(
        f"{what}: server must be a Pid, a registered name, (name, node), ('global', name) "
        f"or ('via', registry, key), got {server!r}"
    )


def _check_callback_mode(cls: type[GenStateMachine], what: str) -> tuple[Atom, bool]:
    """``callback_mode`` as (mode, state_enter), checked before anything starts."""
    raw = cls.callback_mode
    items = list(raw) if isinstance(raw, list | tuple) else [raw]
    modes = [m for m in items if m in (HANDLE_EVENT_FUNCTION, STATE_FUNCTIONS)]
    others = [m for m in items if m not in (HANDLE_EVENT_FUNCTION, STATE_FUNCTIONS, STATE_ENTER)]
    if len(modes) != 1 or others:
        raise ValueError(
            f"{what}: {cls.__qualname__}.callback_mode must be 'handle_event_function' or "
            f"'state_functions', optionally in a list with 'state_enter', got {raw!r}"
        )
    return Atom(modes[0]), STATE_ENTER in items


def _check_start(cls: Any, name: Any, timeout: Any, what: str) -> tuple[Atom, bool, float | None]:
    """Every argument of a start, checked before anything starts."""
    what = f"GenStateMachine.{what}"
    if not (isinstance(cls, type) and issubclass(cls, GenStateMachine)):
        raise TypeError(f"{what}: call it on a GenStateMachine subclass, got {cls!r}")
    seconds = check_timeout(timeout, what)
    if not (
        name is None
        or (isinstance(name, str) and name)
        or (type(name) is tuple and len(name) == 2 and name[0] == "global")
        or (type(name) is tuple and len(name) == 3 and name[0] == "via")
    ):
        raise ValueError(
            f"{what}: name must be None, a non-empty str, ('global', name) or ('via', "
            f"registry, key), got {name!r}"
        )
    mode, state_enter = _check_callback_mode(cls, what)
    return mode, state_enter, seconds


async def _start(
    cls: type[GenStateMachine], arg: Any, name: Any, timeout: Any, link: bool, what: str
) -> Any:
    """proc_lib's start: spawn, wait for init's answer (OTP 26+ semantics)."""
    mode, state_enter, timeout = _check_start(cls, name, timeout, what)
    parent = self()
    tag = make_ref()
    spawner = spawn_link if link else spawn
    pid = spawner(_machine_main, cls, mode, state_enter, arg, parent, tag, name, link)
    mon = Process.monitor(pid)
    try:
        msg = await receive((tag, ANY), Down(mon, ANY, ANY, ANY), timeout=timeout)
    except TimeoutError:
        # As gen_server's start timeout (G-6): kill it, leave the caller no EXIT.
        Process.unlink(pid)
        Process.exit(pid, "kill")
        await receive(Down(mon, ANY, ANY, ANY))
        await _flush(Exit(pid, ANY))
        return (ERROR, Atom("timeout"))
    if isinstance(msg, Down):
        Process.unlink(pid)
        await _flush(Exit(pid, ANY))
        return (ERROR, msg.reason)
    result = msg[1]
    if result == OK:
        Process.demonitor(mon, flush=True)
        return (OK, pid)
    # The machine unlinked itself before answering (init_fail): wait until it is
    # gone so that its name is free when we return.
    await receive(Down(mon, ANY, ANY, ANY))
    await _flush(Exit(pid, ANY))
    return result


# -- the machine process -----------------------------------------------------------


class _Timer:
    """A running time-out.  ``tag``/``tref`` are ``None`` for a zero time-out,
    which waits in the machine's ``t0q`` instead of in a timer."""

    __slots__ = ("content", "tag", "tref")

    def __init__(self, tag: Ref | None, tref: TimerRef | None, content: Any) -> None:
        self.tag = tag
        self.tref = tref
        self.content = content


class _Step:
    """What one event's callbacks (the state callback and its enter calls) asked for."""

    __slots__ = ("next_events", "postpone", "timeouts")

    def __init__(self) -> None:
        self.next_events: list[tuple[Any, Any]] = []
        self.timeouts: list[_Timeout] = []
        self.postpone = False


class _Stopping(Exception):
    """Raised inside the loop to unwind into ``_terminate`` (never escapes it)."""

    def __init__(self, reason: Any) -> None:
        self.reason = reason


class _Machine:
    """One running state machine.

    Invariant: ``queue`` holds the events still to be handled before the mailbox
    is read again, in order; ``postponed`` the postponed events, oldest first;
    ``timers`` one entry per running time-out type, and ``t0q`` the types whose
    entry is a zero time-out, in the order they fire.
    """

    __slots__ = (
        "data",
        "event",
        "functions",
        "impl",
        "mode",
        "parent",
        "postponed",
        "queue",
        "state",
        "state_enter",
        "t0q",
        "timers",
    )

    def __init__(self, impl: GenStateMachine, mode: Atom, state_enter: bool, parent: Pid) -> None:
        self.impl = impl
        self.mode = mode
        self.state_enter = state_enter
        self.parent = parent
        self.state: Any = None
        self.data: Any = None
        self.queue: deque[tuple[Any, Any]] = deque()
        self.postponed: list[tuple[Any, Any]] = []
        self.timers: dict[Any, _Timer] = {}
        self.t0q: list[Any] = []
        self.event: tuple[Any, Any] | None = None  # being handled: "Last message"
        self.functions: dict[str, Callable[..., Any]] = {}

    # -- callbacks ---------------------------------------------------------------

    def state_function(self, state: Any) -> Callable[..., Any]:
        """The method for ``state`` in ``"state_functions"`` mode (cached)."""
        fn = self.functions.get(state) if isinstance(state, str) else None
        if fn is not None:
            return fn
        cls = type(self.impl)
        owner = next((k for k in cls.__mro__ if isinstance(state, str) and state in vars(k)), None)
        if owner is None or owner is GenStateMachine or owner is object:
            raise AttributeError(
                f"{cls.__qualname__} has no state function for state {state!r} "
                "(callback_mode 'state_functions' calls the method named after the state)"
            )
        method: Callable[..., Any] = getattr(self.impl, state)
        self.functions[state] = method
        return method

    async def callback(self, event_type: Any, content: Any, state: Any, data: Any) -> Any:
        """Run the state callback; a crash or exit in it stops the machine."""
        try:
            if self.mode == STATE_FUNCTIONS:
                result = self.state_function(state)(event_type, content, data)
            else:
                result = self.impl.handle_event(event_type, content, state, data)
            if type(result) is types.CoroutineType:  # an async callback
                result = await result
            return result
        except ProcessExit as e:
            raise _Stopping(e.reason) from None
        except Exception as e:
            raise _Stopping(e) from None

    # -- one event -----------------------------------------------------------------

    async def handle(self, event: tuple[Any, Any]) -> None:
        """gen_statem's loop_state_callback … loop_done for one event."""
        self.event = event
        step = _Step()
        result = await self.callback(event[0], event[1], self.state, self.data)
        state, data, enter = self.parse(result, step, self.state, self.data, state_call=True)
        await self.enter_calls(step, state, data, enter)

    async def enter_calls(self, step: _Step, state: Any, data: Any, enter: bool) -> None:
        """Run the enter calls a state change asks for, then make the transition."""
        while enter and self.state_enter:
            result = await self.callback(ENTER, self.state, state, data)
            state, data, enter = self.parse(result, step, state, data, state_call=False)
        await self.transition(step, state, data)

    def parse(
        self, result: Any, step: _Step, state: Any, data: Any, state_call: bool
    ) -> tuple[Any, Any, bool]:
        """A callback's result: (next state, next data, whether to call enter).

        ``state``/``data`` are what the callback was called with.  A stop, or a
        bad result or action, raises ``_Stopping`` with gen_statem's reason; the
        machine's state and data are set first to what ``terminate`` gets.
        """
        match result:
            case NextState(next_state, new_data, actions):
                if not state_call and next_state != state:
                    self.state, self.data = state, data
                    raise _Stopping(("bad_state_enter_return_from_state_function", result))
                self.actions(actions, step, next_state, new_data, state_call)
                return next_state, new_data, next_state != state
            case KeepState(new_data, actions):
                self.actions(actions, step, state, new_data, state_call)
                return state, new_data, False
            case KeepStateAndData(actions):
                self.actions(actions, step, state, data, state_call)
                return state, data, False
            case RepeatState(new_data, actions):
                self.actions(actions, step, state, new_data, state_call)
                return state, new_data, True
            case RepeatStateAndData(actions):
                self.actions(actions, step, state, data, state_call)
                return state, data, True
            case Stop(reason, new_data, reply) if reply is _NO_REPLY:
                self.state, self.data = state, data if new_data is None else new_data
                raise _Stopping(reason)
            case StopAndReply(reason, replies, new_data):
                self.state, self.data = state, data if new_data is KEEP else new_data
                for r in _listify(replies):
                    if not (isinstance(r, ReplyTo) and _is_from(r.from_)):
                        raise _Stopping(("bad_reply_action_from_state_function", r))
                    GenServer.reply(r.from_, r.reply)
                raise _Stopping(reason)
        self.state, self.data = state, data
        raise _Stopping(("bad_return_from_state_function", result))

    def actions(self, actions: Any, step: _Step, state: Any, data: Any, state_call: bool) -> None:
        """Apply an action list in order (gen_statem's loop_actions_list)."""
        bad = "bad_action_from_state_function"
        bad_enter = "bad_state_enter_action_from_state_function"
        for action in _listify(actions):
            match action:
                case ReplyTo(from_, reply) if _is_from(from_):
                    GenServer.reply(from_, reply)
                case Postpone(value) if isinstance(value, bool):
                    if value and not state_call:
                        self.state, self.data = state, data
                        raise _Stopping((bad_enter, action))
                    step.postpone = value
                case NextEvent(event_type, content) if _is_event_type(event_type):
                    if not state_call:
                        self.state, self.data = state, data
                        raise _Stopping((bad_enter, action))
                    step.next_events.append((event_type, content))
                case EventTimeout() | StateTimeout() | GenericTimeout() if _valid_timeout(action):
                    step.timeouts.append(action)
                case _ if action is HIBERNATE or action is None:
                    pass  # HIBERNATE is a hint: tether has nothing to collect
                case _ if is_number(action) and action >= 0:
                    step.timeouts.append(EventTimeout(action, action))  # gen_statem's bare Time
                case NextEvent() if not state_call:
                    self.state, self.data = state, data
                    raise _Stopping((bad_enter, action))
                case _:
                    self.state, self.data = state, data
                    raise _Stopping((bad, action))

    async def transition(self, step: _Step, state: Any, data: Any) -> None:
        """gen_statem's loop_state_transition: postpone, cancel, arm, queue."""
        event = self.event
        assert event is not None
        if step.postpone:
            self.postponed.append(event)
        if state != self.state:
            # A state change retries the postponed events, oldest first, and
            # cancels the state time-out (and, below, the event time-out).
            self.queue.extendleft(reversed(self.postponed))
            self.postponed = []
            if STATE_TIMEOUT in self.timers:
                await self.cancel(STATE_TIMEOUT)
        if TIMEOUT in self.timers:
            await self.cancel(TIMEOUT)  # any event cancels the event time-out
        self.state, self.data = state, data
        if step.timeouts:
            await self.arm(step.timeouts)
        if step.next_events:
            self.queue.extendleft(reversed(step.next_events))
        self.event = None

    # -- time-outs -------------------------------------------------------------------

    async def arm(self, timeouts: list[_Timeout]) -> None:
        """gen_statem's loop_timeouts: the last time-out of each type wins."""
        seen: set[Any] = set()
        zero: list[Any] = []  # zero time-outs, in action order, to join t0q
        for t in reversed(timeouts):
            key = _timeout_key(t)
            if key in seen:
                continue
            seen.add(key)
            if t.time is None:
                await self.cancel(key)
            elif isinstance(t.time, str):  # update
                running = self.timers.get(key)
                if running is not None:
                    running.content = t.content
                else:
                    self.timers[key] = _Timer(None, None, t.content)
                    zero.insert(0, key)
            else:
                await self.cancel(key)
                delay = _seconds(t.time)
                if delay is None:  # infinity: gen_statem cancels, and so did we
                    continue
                if t.absolute:
                    delay = max(0.0, delay - asyncio.get_running_loop().time())
                elif delay == 0:
                    self.timers[key] = _Timer(None, None, t.content)
                    zero.insert(0, key)
                    continue
                tag = make_ref()
                tref = Process.send_after(self_pid(), (TIMEOUT, tag, key), delay)
                self.timers[key] = _Timer(tag, tref, t.content)
        self.t0q.extend(zero)

    async def cancel(self, key: Any) -> None:
        """Stop a running time-out; flush its message if it has already fired."""
        timer = self.timers.pop(key, None)
        if timer is None:
            return
        if timer.tag is None:
            self.t0q.remove(key)
        elif timer.tref is not None and Process.cancel_timer(timer.tref) is False:
            await _flush((TIMEOUT, timer.tag, ANY))

    def timeout_event(self, msg: tuple[Any, ...]) -> tuple[Any, Any] | None:
        """The event of a ``("timeout", tag, type)`` message, if its timer runs."""
        key = msg[2]
        timer = self.timers.get(key) if _hashable(key) else None
        if timer is None or timer.tag != msg[1]:
            return None
        del self.timers[key]
        return (key, timer.content)

    # -- the crash report --------------------------------------------------------------

    def report(self, reason: Any, event: tuple[Any, Any] | None) -> None:
        """LOG-3: gen_statem's crash report, in the gen_state_machine package's words."""
        me = self_pid()
        queue = ([event] if event is not None else []) + list(self.queue)
        status = {
            "state": self.state,
            "data": self.data,
            "reason": reason,
            "queue": [_typed(e) for e in queue],
            "postponed": [_typed(e) for e in self.postponed],
            "timeouts": [(_atom(k), t.content) for k, t in self.timers.items()],
            "log": [],
        }
        status = format_status_of(self.impl, status)
        head, exc_info = crash_head(status["reason"])
        lines = [f"GenStateMachine {me!r} terminating", head]
        if status["queue"]:
            lines.append(f"Last message: {inspect(status['queue'][0])}")
        if "format_status" in status:
            lines.append(f"State: {status['format_status']}")
        else:
            lines.append(f"State: {inspect((status['state'], status['data']))}")
        mode = [_atom(self.mode), STATE_ENTER] if self.state_enter else _atom(self.mode)
        lines.append(f"Callback mode: {inspect(mode)}")
        if len(status["queue"]) > 1:
            lines.append(f"Queued messages: {inspect(status['queue'][1:])}")
        if status["postponed"]:
            lines.append(f"Postponed messages: {inspect(status['postponed'])}")
        if status["timeouts"]:
            lines.append(f"Time-outs: {inspect(status['timeouts'])}")
        if event is not None and type(event[0]) is tuple and event[0][0] == CALL:
            client = event[0][1][0]
            if client.node is not None:
                lines.append(f"Client {client!r} is remote on node {client.node}")
            else:
                alive = "is alive" if Process.alive(client) else "is dead"
                lines.append(f"Client {client!r} {alive}")
        logger.error("\n".join(lines), exc_info=exc_info, extra={"tether_pid": me})


def _atom(name: Any) -> Any:
    """An event type, a time-out kind or a mode: an atom in the report, as in OTP's."""
    return Atom(name) if type(name) is str else name


def _typed(event: tuple[Any, Any]) -> tuple[Any, Any]:
    return (_atom(event[0]), event[1])


def _seconds(time: Any) -> float | None:
    """A time-out's seconds as a float; ``None`` for never (``math.inf``, ``10**400``)."""
    try:
        seconds = float(time)
    except OverflowError:
        return None
    return None if seconds in (math.inf, -math.inf) else seconds


async def _machine_main(
    cls: type[GenStateMachine],
    mode: Atom,
    state_enter: bool,
    arg: Any,
    parent: Pid,
    tag: Ref,
    name: Any,
    linked: bool,
) -> None:
    if name is not None:
        taken = await _register(name)
        if taken is not None:
            if linked:
                Process.unlink(parent)
            send(parent, (tag, (ERROR, ("already_started", taken))))
            return
    impl = cls()
    m = _Machine(impl, mode, state_enter, parent)
    try:
        result = await _maybe_await(impl.init(arg))
    except ProcessExit as e:
        _init_fail(parent, tag, linked, (ERROR, e.reason), e.reason)
    except Exception as e:
        m.report(e, None)  # gen_statem reports a crash in init (OTP 25 and 26)
        _init_fail(parent, tag, linked, (ERROR, e), e)
    match result:
        case NextState(state, data, actions):
            send(parent, (tag, OK))
            await _loop(m, state, data, actions)
        case Ignore():
            _init_fail(parent, tag, linked, IGNORE, NORMAL)
        case Stop(reason):
            _init_fail(parent, tag, linked, (ERROR, reason), reason)
        case Error(reason):
            _init_fail(parent, tag, linked, (ERROR, reason), NORMAL)
    bad = ("bad_return_from_init", result)
    m.report(bad, None)
    _init_fail(parent, tag, linked, (ERROR, bad), bad)


def _init_fail(parent: Pid, tag: Ref, linked: bool, answer: Any, reason: Any) -> NoReturn:
    """OTP 26 init_fail: drop the link, answer the starter, exit with ``reason``."""
    if linked:
        Process.unlink(parent)
    send(parent, (tag, answer))
    exit(reason)


async def _loop(m: _Machine, state: Any, data: Any, actions: Any) -> NoReturn:
    """The machine's life: the init transition, then one event at a time."""
    try:
        # gen_statem's enter/8: init's actions are handled as the result of a
        # made-up event {internal, init_state}, with an enter call into the
        # first state (whose "previous state" is itself).
        m.state, m.data = state, data
        m.event = (INTERNAL, Atom("init_state"))
        step = _Step()
        m.actions(actions, step, state, data, state_call=True)
        step.postpone = False
        await m.enter_calls(step, state, data, True)
        budget = _BUDGET
        while True:
            if m.queue:
                event = m.queue.popleft()
            elif m.t0q:
                key = m.t0q.pop(0)
                event = (key, m.timers.pop(key).content)
            else:
                msg = await receive()
                if type(msg) is tuple and len(msg) == 3 and msg[0] == SYSTEM:
                    _answer_system(m, msg[1], msg[2])  # sys:get_state / get_status
                    continue
                event = _classify(m, msg)
            await m.handle(event)
            budget -= 1
            if budget == 0:
                budget = _BUDGET
                await Process.sleep(0)  # see the module notes: never starve the node
    except _Stopping as stop:
        await _terminate(m, stop.reason)


def _answer_system(m: _Machine, from_: Any, request: Any) -> None:
    """``sys`` requests: the state is ``(state, data)``, through ``format_status``."""
    shown: Any = (m.state, m.data)
    if request == GET_STATUS:
        status = {
            "state": m.state,
            "data": m.data,
            "postponed": [_typed(e) for e in m.postponed],
            "timeouts": [(_atom(k), t.content) for k, t in m.timers.items()],
            "log": [],
        }
        status = format_status_of(m.impl, status)
        shown = status.get("format_status", (status["state"], status["data"]))
    header = f"Status for state machine {self_pid()!r}"
    answer_system(from_, request, "gen_statem", header, m.parent, (m.state, m.data), shown)


def _classify(m: _Machine, msg: Any) -> tuple[Any, Any]:
    """A mailbox message as an event; a stop request or the parent's EXIT stops."""
    if type(msg) is tuple:
        if len(msg) == 3 and msg[0] == _CALL:
            return ((CALL, msg[1]), msg[2])
        if len(msg) == 2 and msg[0] == _CAST:
            return (CAST, msg[1])
        if len(msg) == 3 and msg[0] == TIMEOUT and isinstance(msg[1], Ref):
            event = m.timeout_event(msg)
            if event is not None:
                return event
        elif len(msg) == 2 and msg[0] == _STOP:
            raise _Stopping(msg[1])
    elif isinstance(msg, Exit) and msg.pid == m.parent:
        # Only reached when trapping exits (G-15's rule, as gen_statem has it).
        raise _Stopping(msg.reason)
    return (INFO, msg)


async def _terminate(m: _Machine, reason: Any) -> NoReturn:
    """gen_statem's terminate/7: run ``terminate``, report, exit with the reason.

    A ``terminate`` that raises replaces the reason (and is what gets reported).
    """
    event = m.event
    try:
        await _maybe_await(m.impl.terminate(reason, m.state, m.data))
    except ProcessExit as e:
        reason = e.reason
    except Exception as e:
        m.report(e, event)
        exit(e)
    if not _is_quiet(reason):
        m.report(reason, event)
    exit(reason)
