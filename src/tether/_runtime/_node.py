"""The node: scheduler, process table, names, and the signal engine.

Design
------
A tether process is a coroutine driven directly by this scheduler with
``coro.send(value)``; the scheduler itself is one callback on an asyncio event
loop.  Measured on the target machine, an asyncio Task + Future round trip costs
~9 µs; driving coroutines from a run queue and suspending ``receive`` on a bare
``yield`` costs ~1.2 µs.  So no Task and no Future is allocated on the message path.

A process's coroutine may yield three kinds of value to the scheduler:

* ``WAIT``: it is blocked in ``receive``/``sleep``; ``matcher`` says what it waits
  for.  ``deliver`` tests each arriving message against ``matcher`` and hands a
  match over directly (resume value), so a blocked receive never rescans its
  mailbox on wake-up: everything queued before it blocked was already rejected.
* an asyncio future (anything asyncio's own ``Task`` accepts): the process awaits
  ordinary asyncio code (sockets, ``asyncio.sleep``, HTTP clients); a done
  callback puts it back on the run queue.
* ``None``: a bare yield (``asyncio.sleep(0)``): requeue at the back.

Signals are processed synchronously, in the sender's call, and in one thread.  The
BEAM delivers signals asynchronously; every interleaving this produces is one the
BEAM allows, and it makes the per-pair order of S-1 hold trivially (a total order
is a per-pair order).  It also makes S-9 exact: after ``Process.exit(p, :kill)``
returns, ``p`` is dead.

Death is two steps.  ``_terminate`` makes the process dead at once: it leaves the
table, releases its name, drops its mailbox, and sends its link exit signals and
DOWN messages (E-10, S-3, S-8).  Chains of deaths are processed with a work list,
not recursion, so a 100,000-process linked chain cannot overflow the stack.  Its
coroutine is then *unwound* later, from the run queue, by throwing ``ExitSignal``
into it, so user ``finally`` blocks never run inside another process's call.  A
dead process's sends, spawns, links and monitors are dropped.

Rejected designs: an asyncio Task per process (9 µs per round trip; a Task is
~1 KB); a thread per process (not cheap, and pre-emptive); processing signals
from a queue on the receiver's next step (costs a queue per process and a step
per signal, and gives nothing the BEAM would let a program observe).

Invariants
----------
* A process is in ``table`` iff it is alive.
* A process is in ``runq`` at most once, and iff its ``state`` is ``RUNNABLE``.
* ``state == WAITING`` iff the coroutine is suspended in ``receive``/``sleep``;
  then ``timer`` is its receive timeout handle (or None).
* ``state == AWAITING`` iff the coroutine is suspended on the asyncio future
  ``future``.
* ``state == SUSPENDED`` iff the process was held at the start of a step by
  ``Node.suspend`` (flow control); it is in no queue, ``resume`` keeps the value
  to resume with, and a done callback on ``suspended`` requeues it.
* Links are symmetric among live processes: ``b in a.links`` iff ``a in b.links``.
* For every monitor ``ref``: ``watcher.monitors[ref] = (target_pid, object)`` iff
  ``target.monitored_by[ref] = watcher_pid``, while both are alive.

Ports
-----
A port (``tether.Port``, ``_ports.py``) is a process record whose id is a
``Port`` instead of a ``Pid``: the table, links, monitors, exit signals and
unwinding treat it as any process, and its body is a coroutine driving an OS
program.  What a port changes here is confined to three places, none on the
message path: a ``normal`` exit signal (``Process.exit(port, "normal")``)
closes a port, where a non-trapping process ignores it (``receive_exit2``);
a monitor of a port delivers ``Down(ref, "port", port, reason)``
(``fire_monitor``, ``monitor_pid``); ports take their numbers from the same
counter as pids, so a port sorts after the process that opened it.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import ctypes
import functools
import heapq
import inspect
import itertools
import logging
import signal
import sys
import threading
import time
import types
from collections import deque
from collections.abc import Callable, Coroutine, Iterator
from typing import TYPE_CHECKING, Any, Final, cast

from . import _core
from ._format import crash_head, inspect_reason
from ._mailbox import Mailbox, Matcher, PyMailbox
from ._types import (
    KILLED,
    NOCONNECTION,
    NONODE,
    NOPROC,
    NORMAL,
    PORT,
    PROCESS,
    Atom,
    Down,
    Exit,
    ExitSignal,
    NoProcError,
    Pid,
    Port,
    ProcessExit,
    Ref,
    TimerRef,
    _ref_counter,
)

if TYPE_CHECKING:
    from ._remote import Remote

logger: Final = logging.getLogger("tether")

# What a suspended coroutine yields to the scheduler.
WAIT: Final = object()
# Resume values the scheduler sends into a suspended receive.
TIMEOUT: Final = object()
RESCAN: Final = object()

# Process states.
RUNNABLE: Final = 0
RUNNING: Final = 1
WAITING: Final = 2
AWAITING: Final = 3
DEAD: Final = 4
SUSPENDED: Final = 5

# One scheduler turn (a callback on the event loop) runs up to BUDGET process
# steps and at most SLICE seconds of real time, then lets the loop poll I/O and
# fire timers (fairness: a process doing heavy steps cannot starve sockets,
# receive timeouts or distribution ticks).  The clock is read every few steps;
# how many adapts to how long steps take, so cheap steps pay almost nothing.
BUDGET: Final = 1024
SLICE: Final = 0.002
_CHECK_EVERY: Final = 16

# A dead process is unwound (its finally blocks run): it is resumed at most
# UNWIND_RESUMES times (throws of ExitSignal, or asyncio cleanup awaits
# completing) and for at most UNWIND_GRACE seconds of awaited cleanup, then
# closed; a coroutine that still will not stop is abandoned (never run again).
UNWIND_RESUMES: Final = 8
UNWIND_GRACE: Final = 2.0

# How a dead process is resumed next (Process.resume while it unwinds).
_AWAKE: Final = object()  # an awaited asyncio future is done: send(None)
_CANCEL: Final = object()  # throw CancelledError (a kill while awaiting asyncio)

_RUNTIME_PREFIX: Final = __name__.rpartition(".")[0] + "."

_CO_COROUTINE: Final = inspect.CO_COROUTINE
_FunctionType: Final = types.FunctionType


def is_kill(reason: Any) -> bool:
    return isinstance(reason, str) and reason == "kill"


def is_normal(reason: Any) -> bool:
    return isinstance(reason, str) and reason == "normal"


def is_port(ident: object) -> bool:
    """Whether a process record's id (or a link, a monitor's object) is a Port."""
    return type(ident) is Port


# The pure core's mailbox (deliver inlines its put).
_PY_MAILBOX: Final = Mailbox is PyMailbox


class Process:
    """The runtime's record of one process (private; users see only its ``Pid``).

    ``__slots__`` and lazily created containers keep an idle process small: the
    containers for links, monitors, the mailbox and the dictionary stay ``None``
    until first used.
    """

    __slots__ = (
        "__weakref__",
        "aliases",
        "cancel_msg",
        "cancel_requests",
        "coro",
        "dictionary",
        "extras",
        "future",
        "grace",
        "initial_call",
        "links",
        "mailbox",
        "matcher",
        "monitored_by",
        "monitors",
        "name",
        "pid",
        "reason",
        "received",
        "reductions",
        "resume",
        "state",
        "suspended",
        "timer",
        "timers",
        "trap_exit",
        "unwinds",
        "unwound",
    )

    def __init__(self, pid: Pid, coro: Coroutine[Any, Any, Any] | None, initial_call: Any) -> None:
        # A port's record holds its Port here (typed Pid for the many places that
        # handle processes only; _ports.py is the one place that makes one).
        self.pid = pid
        self.coro: Any = coro  # a coroutine, or a _ThrowOnce standing in for one
        self.initial_call = initial_call
        self.state = RUNNABLE
        self.resume: Any = None
        self.mailbox: Mailbox | None = None
        self.matcher: Matcher | None = None
        # The receive timeout's entry in the node's deadline heap (see
        # Node.set_receive_timer), or None.
        self.timer: list[Any] | None = None
        self.future: asyncio.Future[Any] | None = None
        self.links: set[Pid | Port] | None = None
        self.monitors: dict[Ref, tuple[Pid | Port | None, Any]] | None = None
        self.monitored_by: dict[Ref, Pid | Port] | None = None
        self.trap_exit = False
        self.name: str | None = None
        self.dictionary: dict[Any, Any] | None = None
        self.reason: Any = None
        self.timers: set[TimerRef] | None = None
        # Counters for Process.info and the observer: steps run ("reductions"; 0
        # means the coroutine never started) and messages delivered to it.  They
        # are floats, exact up to 2**53: CPython keeps a free list of floats, so
        # `+= 1.0` allocates nothing, where an int above 256 is a new object each
        # time (measured with callgrind: a third less per increment, which keeps
        # the counters under 3 % of a one-way send; see bench/instructions.py).
        self.reductions = 0.0
        self.received = 0.0
        self.unwound = False
        # While dead and unwinding: resumes so far, and the grace timer.
        self.unwinds = 0
        self.grace: asyncio.TimerHandle | None = None
        self.aliases: set[Ref] | None = None
        # The asyncio Task face: cancel() requests, a cancel() made while running
        # (delivered at its next await), its message; task name and done callbacks.
        self.cancel_requests = 0
        self.cancel_msg: Any = None
        self.extras: _TaskExtras | None = None
        # Set by Node.suspend: the process does not run again until it is done.
        self.suspended: asyncio.Future[Any] | None = None

    @property
    def alive(self) -> bool:
        return self.state != DEAD

    # -- the asyncio Task face ---------------------------------------------
    # While a process runs, it is asyncio's current task, so code that asks for
    # asyncio.current_task() works inside it: asyncio.timeout, TaskGroup, anyio's
    # cancel scopes (and so httpx, and the SDKs built on it), sniffio.  These are
    # the parts of asyncio.Task those libraries use.  cancel() raises
    # CancelledError at the process's current (or next) await, as Task.cancel
    # does; it is not an exit signal: a process that lets it escape dies of it.

    def get_loop(self) -> asyncio.AbstractEventLoop:
        node = NODE
        assert isinstance(node, Node)
        return node.loop

    def done(self) -> bool:
        return self.state == DEAD

    def cancelled(self) -> bool:
        """True if the process ended because a ``CancelledError`` escaped it."""
        return self.state == DEAD and isinstance(self.reason, asyncio.CancelledError)

    def cancelling(self) -> int:
        return self.cancel_requests

    def uncancel(self) -> int:
        if self.cancel_requests > 0:
            self.cancel_requests -= 1
        return self.cancel_requests

    def cancel(self, msg: Any = None) -> bool:
        """Throw ``CancelledError(msg)`` in at the current await (``Task.cancel``).

        The throw is arranged by standing a ``_ThrowOnce`` in for the coroutine
        until its next resume, so the scheduler's hot path checks nothing.
        """
        state = self.state
        if state == DEAD:
            return False
        self.cancel_requests += 1
        self.cancel_msg = msg
        node = NODE
        assert isinstance(node, Node)
        if state == AWAITING:
            fut = self.future
            if fut is not None and fut.cancel(msg):
                return True  # its wake-up raises CancelledError at the await
            self._throw_on_resume()  # done already: its wake-up throws instead
        elif state == WAITING:
            if self.timer is not None:
                node.cancel_receive_timer(self)
            self.matcher = None
            self._throw_on_resume()
            node.make_runnable(self, None)
        elif state == RUNNING:
            # At its next resume; and if it then waits, wake it for that.
            self._throw_on_resume()
            node.loop.call_soon(node._kick_cancelled, self)
        else:  # RUNNABLE or SUSPENDED: queued to resume with something
            r = self.resume
            if r is not None and r is not TIMEOUT and r is not RESCAN:
                # A message handed to its receive goes back to the mailbox.
                if self.mailbox is None:
                    self.mailbox = Mailbox()
                self.mailbox.push_front(r)
            self.resume = None
            self._throw_on_resume()
        return True

    def _throw_on_resume(self) -> None:
        if self.coro is not None and type(self.coro) is not _ThrowOnce:
            self.coro = _ThrowOnce(self, self.coro)

    @property
    def _must_cancel(self) -> bool:
        return type(self.coro) is _ThrowOnce

    @property
    def _fut_waiter(self) -> asyncio.Future[Any] | None:
        return self.future if self.state == AWAITING else None

    def get_coro(self) -> Coroutine[Any, Any, Any] | None:
        c = self.coro
        return cast("Coroutine[Any, Any, Any] | None", c.coro if type(c) is _ThrowOnce else c)

    def get_name(self) -> str:
        if self.extras is not None and self.extras.name is not None:
            return self.extras.name
        return self.name or repr(self.pid)

    def set_name(self, value: object) -> None:
        self._extras().name = str(value)

    def get_context(self) -> contextvars.Context:
        """The context processes run in (the node's: processes do not have one
        each, which would cost every step a ``Context.run``)."""
        return contextvars.copy_context()

    def add_done_callback(
        self, fn: Callable[[Any], object], *, context: contextvars.Context | None = None
    ) -> None:
        """Call ``fn(process)`` soon after the process exits."""
        if self.state == DEAD:
            node = NODE
            assert isinstance(node, Node)
            node.loop.call_soon(fn, self, context=context)
            return
        self._extras().callbacks.append((fn, context))

    def remove_done_callback(self, fn: Callable[[Any], object]) -> int:
        if self.extras is None:
            return 0
        before = len(self.extras.callbacks)
        self.extras.callbacks = [(f, c) for f, c in self.extras.callbacks if f != fn]
        return before - len(self.extras.callbacks)

    def result(self) -> Any:
        """None once the process exited normally; its exception if it crashed."""
        if self.state != DEAD:
            raise asyncio.InvalidStateError("Result is not set.")
        if isinstance(self.reason, BaseException):
            raise self.reason
        return None

    def exception(self) -> BaseException | None:
        if self.state != DEAD:
            raise asyncio.InvalidStateError("Exception is not set.")
        return self.reason if isinstance(self.reason, BaseException) else None

    def get_stack(self, *, limit: int | None = None) -> list[types.FrameType]:
        frames = current_frames(self)[::-1]
        return frames if limit is None else frames[-limit:] if limit > 0 else []

    def print_stack(self, *, limit: int | None = None, file: Any = None) -> None:
        import traceback

        for frame in self.get_stack(limit=limit):
            traceback.print_stack(frame, limit=1, file=file)

    def _extras(self) -> _TaskExtras:
        if self.extras is None:
            self.extras = _TaskExtras()
        return self.extras

    def __repr__(self) -> str:
        return f"<Process {self.pid!r} state={self.state}>"


class _ThrowOnce:
    """Stands in for a cancelled process's coroutine until its next resume, which
    throws ``CancelledError(msg)`` into the real one and puts it back.  A kill in
    the meantime throws the kill instead."""

    __slots__ = ("coro", "p")

    def __init__(self, p: Process, coro: Any) -> None:
        self.p = p
        self.coro: Any = coro  # a coroutine, or a _ThrowOnce standing in for one

    def send(self, value: Any) -> Any:
        self.p.coro = self.coro
        return self.coro.throw(asyncio.CancelledError(self.p.cancel_msg))

    def throw(self, exc: BaseException) -> Any:
        self.p.coro = self.coro
        return self.coro.throw(exc)

    def close(self) -> None:
        self.p.coro = self.coro
        self.coro.close()

    @property
    def cr_frame(self) -> Any:
        return getattr(self.coro, "cr_frame", None)

    @property
    def cr_await(self) -> Any:
        return getattr(self.coro, "cr_await", None)


class _TaskExtras:
    """What few processes need: a task name, done callbacks."""

    __slots__ = ("callbacks", "name")

    def __init__(self) -> None:
        self.name: str | None = None
        self.callbacks: list[tuple[Callable[[Any], object], contextvars.Context | None]] = []


class Node:
    """One node: the scheduler and every table of the runtime.

    ``__slots__``: every attribute the hot path reads is a slot, a fixed offset
    (a dict with this many keys is no longer a shared-key dict, and attribute
    reads on it cost a hash lookup each: measured, 5 % of a round trip).
    """

    __slots__ = (
        "__weakref__",
        "_unwind_errors",
        "abandoned",
        "aliases",
        "busy",
        "check_every",
        "closing",
        "current",
        "deadline_at",
        "deadline_handle",
        "deadline_seqs",
        "deadlines",
        "dist",
        "done",
        "ext",
        "idle_check_scheduled",
        "idle_waiters",
        "ids",
        "in_main_thread",
        "live_deadlines",
        "loop",
        "name",
        "names",
        "owns_sigint",
        "preempt_request",
        "quick_receives",
        "received_by_dead",
        "reductions_of_dead",
        "root",
        "root_result",
        "run_soon",
        "runq",
        "scheduled",
        "shutdown_hooks",
        "shutdown_timeout",
        "spawns",
        "stop_reason",
        "stopping",
        "table",
        "thread_exits",
        "thread_id",
        "timers",
        "watchdog",
    )

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.current: Process | None = None
        self.runq: deque[Process] = RunQueue()
        self.scheduled = False
        # Schedules the next turn (``run``) on the loop: see _run_soon.
        self.run_soon: Callable[[], object] = _run_soon(loop, self.run)
        self.table: dict[Pid | Port, Process] = {}
        self.names: dict[str, Process] = {}
        self.timers: dict[TimerRef, Pid | str | tuple[Any, Any]] = {}
        # Receive timeouts (see set_receive_timer).
        self.deadlines: list[list[Any]] = []
        self.deadline_seqs: Iterator[int] = itertools.count()  # ties in the heap
        self.live_deadlines = 0
        self.deadline_handle: asyncio.TimerHandle | None = None
        self.deadline_at = _INF
        # M-16: alias -> (owner, one-shot).  A message sent to an alias that is
        # not here is dropped; that is how late call replies disappear.
        self.aliases: dict[Ref, tuple[Process, bool]] = {}
        # Pid and Port ids (next(ids)); the native spawn draws from it in C.
        self.ids: Iterator[int] = itertools.count(64)
        self.name: Atom = NONODE
        self.quick_receives = 0  # receives answered from the mailbox (see _receive)
        # Totals for the observer (rates are their differences over time): processes
        # ever spawned; the counters of processes that have since died (with the
        # live processes' own, every message delivered and every step run: see
        # ``delivered`` and ``reductions``; the hot path pays one counter per step
        # and one per message, not two); and seconds the scheduler spent running
        # steps (its utilisation).
        self.spawns = 0
        self.received_by_dead = 0.0
        self.reductions_of_dead = 0.0
        self.busy = 0.0
        self.root: Process | None = None
        self.root_result: Any = None
        self.done: asyncio.Future[None] | None = None
        self.idle_waiters: list[Process] = []
        self.idle_check_scheduled = False
        self.closing = False
        self._unwind_errors = 0
        # Coroutines that ignored their kill and close(): kept, never resumed.
        self.abandoned = 0
        self.check_every = _CHECK_EVERY
        # Preemption (Watchdog): the loop's thread, whether SIGINT is tether's
        # (tether.run in the main thread), a pending (process, step, reason) the
        # watchdog asked for, and exit signals sent from other threads.
        self.thread_id = 0
        self.in_main_thread = False
        self.owns_sigint = False
        self.preempt_request: tuple[Process, float, Any, Pid | None] | None = None
        self.thread_exits: deque[tuple[Pid, Any, Pid | None]] = deque()
        self.watchdog: Watchdog | None = None
        # Graceful stop (init:stop): None, or why ("sigterm", "sigint", "exit":
        # open_node's block ended, "stop": _api.stop_node, whose reason is
        # stop_reason: what tether.run raises once the node has stopped).
        self.stopping: str | None = None
        self.stop_reason: Any = None
        self.shutdown_timeout: float | None = 30.0
        # The rest of the world (_remote.Remote: distribution) once the node has a
        # name; the core calls it only for signals whose target lives elsewhere.
        self.dist: Remote | None = None
        # State owned by this node that is not a process's (see _api.node_state).
        self.ext: dict[str, Any] = {}
        # Called once by shutdown(), after every process is closed: what runs
        # outside the node for its processes (ports' OS programs, thread
        # workers' threads) is stopped there, even for a process whose coroutine
        # never started (its finally never runs).
        self.shutdown_hooks: list[Callable[[], object]] = []

    # -- scheduling --------------------------------------------------------

    def make_runnable(self, p: Process, value: Any) -> None:
        """Put a waiting process on the run queue, to resume with ``value``."""
        p.state = RUNNABLE
        p.resume = value
        self.queue(p)

    def queue(self, p: Process) -> None:
        """Append ``p`` to the run queue and make sure a drain is scheduled."""
        self.runq.append(p)
        if not self.scheduled:
            self.scheduled = True
            self.run_soon()

    def run(self) -> None:
        """One scheduler turn: run queued steps (``BUDGET`` at most, ``SLICE`` of
        real time at most), then return to the event loop.

        Structurally unable to die: an error escaping a step (a bug, or a
        preemption that landed in the runtime) ends that process only, and the
        next turn is always scheduled while work is queued.
        """
        runq = self.runq
        step = self.step
        n = BUDGET
        every = self.check_every  # steps between two looks at the clock
        check_at = n - every
        start = _monotonic()
        deadline = start + SLICE
        try:
            while runq and n:
                n -= 1
                p = runq.popleft()
                try:
                    step(p)
                except _ForceStop:
                    raise
                except BaseException as ex:
                    self._step_failed(p, ex)
                if n <= check_at:
                    if _monotonic() >= deadline:
                        # Slow steps: look at the clock after every step.
                        self.check_every = 1
                        break
                    check_at = n - every
            else:
                if every != _CHECK_EVERY and _monotonic() < deadline - SLICE / 2:
                    self.check_every = _CHECK_EVERY
        finally:
            # One clock read per turn (a turn is up to BUDGET steps), for the
            # observer's scheduler utilisation.
            self.busy += _monotonic() - start
            if runq:
                self.run_soon()
            else:
                self.scheduled = False
                if self.idle_waiters and not self.idle_check_scheduled:
                    self.idle_check_scheduled = True
                    self.loop.call_soon(self._idle_check)

    def step(self, p: Process) -> None:
        """Run one process until it yields, returns or raises."""
        if p.state == DEAD:
            self._unwind_step(p)
            return
        if p.suspended is not None and self._park_suspended(p):
            return
        # The process's step count also names this step, for the watchdog: the
        # pair (current, current.reductions) changes with every step.
        p.reductions += 1.0
        p.state = RUNNING
        self.current = p
        value = p.resume
        p.resume = None
        coro = p.coro
        assert coro is not None
        loop = self.loop
        try:
            _enter_task(loop, p)
            try:
                yielded = coro.send(value)
            finally:
                try:
                    _leave_task(loop, p)
                except RuntimeError:
                    _reset_current_task(loop)  # the step broke asyncio's table
                    raise
        except _ForceStop:
            self.current = None
            raise
        except StopIteration as ex:
            self.current = None
            self._returned(p, ex.value)  # _step_ended's first case, called directly
            return
        except BaseException as ex:
            self.current = None
            self._step_ended(p, ex)
            return
        self.current = None
        if p.state == DEAD:
            # Killed during its own step (an exit signal to itself, caught) and
            # went on to await something: it is unwinding now.
            self._dead_yield(p, yielded)
        elif yielded is WAIT:
            p.state = WAITING
        elif yielded is None:
            p.state = RUNNABLE
            self.runq.append(p)
        else:
            self._awaits(p, yielded)

    # The native core (_cnode.c, step) runs the lines above in C and calls the
    # three methods below, and everything before the coroutine is resumed in
    # ``step`` (a dead or suspended process, a stand-in coroutine) by calling
    # ``step`` itself: these paths have one implementation, here.

    def _step_ended(self, p: Process, ex: BaseException) -> None:
        """``p``'s step raised ``ex`` (``StopIteration``: its coroutine returned)."""
        if isinstance(ex, StopIteration):
            self._returned(p, ex.value)
        elif isinstance(ex, ProcessExit):  # exit/1 not caught: E-3
            p.unwound = True
            self.terminate(p, ex.reason)
        elif isinstance(ex, Preempted):  # (an ExitSignal: tested first)
            self._preempted(p)
        elif isinstance(ex, ExitSignal):
            # Killed during its own step, and the unwinding ran to the end.
            p.unwound = True
            if p.state != DEAD:
                # Only reachable if user code raised ExitSignal itself.
                self.terminate(p, KILLED)
        else:
            self._crashed(p, ex)

    def _returned(self, p: Process, value: Any) -> None:
        """``p``'s coroutine returned ``value``: it exits ``normal`` (E-8).  The
        native step calls this without making the ``StopIteration``."""
        p.unwound = True
        if p is self.root:
            self.root_result = value
        self.terminate(p, NORMAL)

    def _awaits(self, p: Process, yielded: Any) -> None:
        """``p`` yielded something other than ``WAIT`` or ``None``: an asyncio
        future it awaits, or a value no process may yield."""
        if getattr(yielded, "_asyncio_future_blocking", None):
            yielded._asyncio_future_blocking = False
            p.state = AWAITING
            p.future = yielded
            yielded.add_done_callback(functools.partial(self._future_done, p))
        else:
            self._bad_yield(p, yielded)

    def _kick_cancelled(self, p: Process) -> None:
        """``cancel()`` was called while ``p`` ran: if it went on to wait, wake it
        (its resume throws); if it awaits asyncio, cancel that, as ``Task.__step``
        does for ``_must_cancel``."""
        if type(p.coro) is not _ThrowOnce:
            return
        if p.state == WAITING:
            if p.timer is not None:
                self.cancel_receive_timer(p)
            p.matcher = None
            self.make_runnable(p, None)
        elif p.state == AWAITING and p.future is not None:
            p.future.cancel(p.cancel_msg)

    def _crashed(self, p: Process, ex: BaseException) -> None:
        """``p``'s code raised ``ex``: its coroutine is finished; it dies with ``ex``.

        Any exception is a crash of that process only (LOG-1), ``SystemExit`` and
        ``KeyboardInterrupt`` included: ``sys.exit()`` in a library ends the
        process that called it, not the node.  The one exception: a
        ``KeyboardInterrupt`` in the main thread while tether does not own SIGINT
        (embedded in someone else's program) is the host's Ctrl-C, and goes on up.
        """
        p.unwound = True
        tb = ex.__traceback__
        if tb is not None and tb.tb_frame.f_code is _STEP_CODE:
            ex.__traceback__ = tb.tb_next  # the scheduler's frame says nothing
        host_interrupt = (
            isinstance(ex, KeyboardInterrupt) and self.in_main_thread and not self.owns_sigint
        )
        if p.state != DEAD:
            if not host_interrupt:
                self._log_crash(p, ex)
            self.terminate(p, ex)
        if host_interrupt:
            raise ex

    def _step_failed(self, p: Process, ex: BaseException) -> None:
        """An error escaped ``step`` itself (never the process's own code): end ``p``
        with it, log it, and go on.  The scheduler must not die of anything."""
        self.current = None
        try:
            if isinstance(ex, KeyboardInterrupt) and self.in_main_thread and not self.owns_sigint:
                raise ex
            logger.error(
                "tether: internal error while running process %r: %r",
                p.pid,
                ex,
                exc_info=(type(ex), ex, ex.__traceback__),
                extra={"tether_pid": p.pid},
            )
            if p.state != DEAD:
                self.terminate(p, ex)
            if not p.unwound:
                self._close(p)
        except KeyboardInterrupt:
            raise
        except BaseException as again:  # pragma: no cover - last line of defence
            logger.critical("tether: could not clean up after %r: %r", p.pid, again)

    def _bad_yield(self, p: Process, yielded: Any) -> None:
        exc = RuntimeError(
            f"process {p.pid!r} awaited {yielded!r}, which is neither a tether call nor an "
            "asyncio awaitable"
        )
        p.state = RUNNABLE
        self.current = p
        try:
            assert p.coro is not None
            yielded = p.coro.throw(exc)
        except BaseException as ex:
            self.current = None
            self._crashed(p, ex)
            return
        self.current = None
        self._log_crash(p, exc)
        self.terminate(p, exc)
        if not p.unwound:
            self._dead_yield(p, yielded)

    # -- suspension (flow control) -------------------------------------------

    def suspend(self, p: Process, fut: asyncio.Future[Any]) -> None:
        """Keep ``p`` from running again until ``fut`` is done (the BEAM's busy port).

        The process finishes its current step; from its next one on it is held,
        with its resume value kept, until ``fut`` completes.  Signals still take
        effect at once: a kill ends a suspended process.  Messages that arrive
        meanwhile wait in its mailbox.  Costs the scheduler one attribute test per
        step.
        """
        if p.state != DEAD:
            p.suspended = fut

    def _park_suspended(self, p: Process) -> bool:
        """At the start of ``p``'s step: hold it if its suspension is still on."""
        fut = p.suspended
        assert fut is not None
        if fut.done():
            p.suspended = None
            return False
        p.state = SUSPENDED
        fut.add_done_callback(functools.partial(self._unsuspend, p))
        return True

    def _unsuspend(self, p: Process, fut: asyncio.Future[Any]) -> None:
        if p.suspended is fut:
            p.suspended = None
        if p.state == SUSPENDED:
            p.state = RUNNABLE
            self.queue(p)  # p.resume was kept

    def _future_done(self, p: Process, fut: asyncio.Future[Any]) -> None:
        if p.future is not fut:
            return
        p.future = None
        if p.state == AWAITING:
            self.make_runnable(p, None)
        elif p.state == DEAD and not p.unwound:
            # Unwinding: resume as asyncio's Task does (Future.__await__ fetches
            # the result, so nothing is logged as "never retrieved"; a future
            # cancelled by the kill raises CancelledError at the await).
            p.resume = _AWAKE
            self.queue(p)

    def _log_crash(self, p: Process, ex: BaseException) -> None:
        """LOG-1: a plain process that raised logs the exception at ERROR."""
        head, _ = crash_head(ex)  # total: a __str__ that raises cannot stop the report
        logger.error(
            "Process %r raised an exception\n%s",
            p.pid,
            head,
            exc_info=(type(ex), ex, ex.__traceback__),
            extra={"tether_pid": p.pid, "tether_reason": ex},
        )

    # -- idleness (tether.testing.wait_all_blocked) ------------------------

    def _idle_check(self) -> None:
        self.idle_check_scheduled = False
        if not self.idle_waiters:
            return
        ready = getattr(self.loop, "_ready", None)
        if self.runq or (ready is not None and len(ready) > 0):
            self.idle_check_scheduled = True
            self.loop.call_soon(self._idle_check)
            return
        waiters, self.idle_waiters = self.idle_waiters, []
        for w in waiters:
            if w.state == WAITING:
                self.make_runnable(w, None)

    # -- spawning ------------------------------------------------------------

    def spawn(
        self,
        parent: Process | None,
        fun: Callable[..., Any],
        args: tuple[Any, ...],
        link: bool = False,
        monitor: bool = False,
        what: str = "spawn",
    ) -> tuple[Pid, Ref | None]:
        """Create a process; link and/or monitor it atomically (L-3, M-14)."""
        pid = Pid(next(self.ids))
        if parent is not None and parent.state == DEAD:
            # A dying process's spawns are dropped: the pid never lives.
            return pid, (new_ref() if monitor else None)
        if type(fun) is _FunctionType and fun.__code__.co_flags & _CO_COROUTINE:
            # _start_coroutine's common case: calling an async def function
            # makes a coroutine, nothing to check.
            coro = fun(*args)
        else:
            coro = _start_coroutine(fun, args, what)
        p = Process(pid, coro, fun)
        self.table[pid] = p
        self.spawns += 1
        ref = None
        if parent is not None:
            if link:
                p.links = {parent.pid}
                if parent.links is None:
                    parent.links = {pid}
                else:
                    parent.links.add(pid)
            if monitor:
                ref = new_ref()
                p.monitored_by = {ref: parent.pid}
                if parent.monitors is None:
                    parent.monitors = {ref: (pid, pid)}
                else:
                    parent.monitors[ref] = (pid, pid)
        # queue(p), inlined
        self.runq.append(p)
        if not self.scheduled:
            self.scheduled = True
            self.run_soon()
        return pid, ref

    # -- delivery ----------------------------------------------------------

    def deliver(self, p: Process, msg: Any) -> None:
        """Put ``msg`` in live process ``p``'s mailbox, or hand it to its receive."""
        p.received += 1.0
        if p.state == WAITING:
            if p.matcher is None and p.timer is None:
                # The hot path, make_runnable and queue inlined (one call less per
                # message): a plain receive, no timeout.
                p.state = RUNNABLE
                p.resume = msg
                self.runq.append(p)
                if not self.scheduled:
                    self.scheduled = True
                    self.run_soon()
                return
            if self._hand_over(p, msg):
                return
        mb = p.mailbox
        if mb is None:
            mb = p.mailbox = Mailbox()
        if _PY_MAILBOX and mb._index is None:
            # PyMailbox.put inlined: the flood path (the receiver is busy).  (The
            # native core's deliver is C; this runs there only for a stand-in
            # process, whose mailbox is the C Mailbox.)
            seq = mb._tail
            mb._tail = seq + 1
            mb._msgs[seq] = msg
        else:
            mb.put(msg)

    def _hand_over(self, p: Process, msg: Any) -> bool:
        """``deliver``'s path for a receive with filters or a timeout: hand ``msg``
        over if the receive takes it (True), else leave it to the mailbox (False).
        The native core mirrors it in C (``_cnode.c``'s ``hand_over``), and calls
        it for a matcher that needs the receiver's context (a user predicate)."""
        m = p.matcher
        if m is None:
            self.cancel_receive_timer(p)
            self.make_runnable(p, msg)
            return True
        if m.needs_context:
            # A user predicate must see the receiver as self().
            saved = self.current
            self.current = p
            try:
                ok = m.match(msg)
            except BaseException:
                # The receiver's predicate is broken: let it find out in its
                # own context, where the same call raises again.
                ok = False
                self.current = saved
                self._enqueue(p, msg)
                self._wake_for_rescan(p)
                return True
            self.current = saved
        else:
            try:
                ok = m.match(msg)
            except BaseException:
                self._enqueue(p, msg)
                self._wake_for_rescan(p)
                return True
        if ok:
            p.matcher = None
            if p.timer is not None:
                self.cancel_receive_timer(p)
            self.make_runnable(p, msg)
            return True
        return False

    def delivered(self) -> int:
        """Messages ever delivered to this node's processes (for the observer:
        O(processes), which the hot path does not pay)."""
        return int(self.received_by_dead + sum(p.received for p in self.table.values()))

    def reductions(self) -> int:
        """Steps ever run on this node (``:erlang.statistics(:reductions)``'s total)."""
        return int(self.reductions_of_dead + sum(p.reductions for p in self.table.values()))

    def _enqueue(self, p: Process, msg: Any) -> None:
        mb = p.mailbox
        if mb is None:
            mb = p.mailbox = Mailbox()
        mb.put(msg)

    def _wake_for_rescan(self, p: Process) -> None:
        p.matcher = None
        if p.timer is not None:
            self.cancel_receive_timer(p)
        self.make_runnable(p, RESCAN)

    def receive_timeout(self, p: Process) -> None:
        if p.state == WAITING:
            p.timer = None
            p.matcher = None
            self.make_runnable(p, TIMEOUT)

    # -- receive timeouts --------------------------------------------------
    # One mechanism for every receive timeout (GenServer.call's 5 s default
    # included): a heap of [deadline, seq, process] entries owned by the node,
    # and one asyncio timer armed for the earliest deadline.  Setting a timeout
    # is a heappush of a list (compared in C, where asyncio's TimerHandle is a
    # Python object compared by a Python __lt__); cancelling one clears its
    # process slot (the entry goes stale and is skipped).  Measured: asyncio's
    # call_at + cancel was 1.6 µs of each call.
    # Invariants: ``p.timer`` is the entry whose slot 2 is ``p`` (a live entry),
    # or None; ``live_deadlines`` counts live entries; the heap holds at most
    # 2 * live + 64 entries (compacted on cancel); ``deadline_handle`` is armed
    # for ``deadline_at``, at or before the earliest live deadline, whenever a
    # live entry exists (and may stay armed when none does).

    def set_receive_timer(self, p: Process, deadline: float) -> None:
        """Wake ``p`` (waiting in a receive) with ``TIMEOUT`` at loop time ``deadline``."""
        e = [deadline, next(self.deadline_seqs), p]
        heapq.heappush(self.deadlines, e)
        p.timer = e
        self.live_deadlines += 1
        if deadline < self.deadline_at:
            if self.deadline_handle is not None:
                self.deadline_handle.cancel()
            self.deadline_at = deadline
            self.deadline_handle = self.loop.call_at(deadline, self._deadlines_due)

    def cancel_receive_timer(self, p: Process) -> None:
        """Drop ``p``'s receive timeout (it was handed a message, or died)."""
        e = p.timer
        assert e is not None
        p.timer = None
        e[2] = None
        self.live_deadlines -= 1
        if not self.live_deadlines:
            # The asyncio timer stays armed: calls made one after another (each
            # reply cancels its timeout before the next call sets one) then arm
            # one timer per timeout period, not one per call.  It fires, finds
            # nothing due, and is not re-armed.
            self.deadlines.clear()
        elif len(self.deadlines) > 2 * self.live_deadlines + 64:
            live = [x for x in self.deadlines if x[2] is not None]
            heapq.heapify(live)
            self.deadlines = live

    def _deadlines_due(self) -> None:
        # asyncio runs a timer up to one clock resolution early: what the handle
        # was armed for counts as due.
        now = max(self.loop.time(), self.deadline_at)
        self.deadline_handle = None
        self.deadline_at = _INF
        h = self.deadlines
        while h and h[0][0] <= now:
            p = heapq.heappop(h)[2]
            if p is not None:
                self.live_deadlines -= 1
                self.receive_timeout(p)
        if h:
            self.deadline_at = h[0][0]
            self.deadline_handle = self.loop.call_at(self.deadline_at, self._deadlines_due)

    # -- exit signals --------------------------------------------------------

    def exit_signal(self, sender: Process, target: Pid | Port, reason: Any) -> None:
        """``Process.exit(target, reason)`` from ``sender``: the table of §1.1, rows 1–7."""
        if sender.state == DEAD:
            return
        t = self.table.get(target)
        if t is None:
            if target.node is not None and self.dist is not None:
                self.dist.exit2(sender.pid, target, reason)
            return  # E-4: dead or unknown target; still returns true
        if t is sender and is_normal(reason) and not t.trap_exit:
            self.terminate(t, NORMAL)  # row 3: exit(self(), :normal) ends self
            return
        self.receive_exit2(t, sender.pid, reason)

    def receive_exit2(self, t: Process, sender: Pid | Port, reason: Any) -> None:
        """An exit/2 signal from ``sender`` (of this node or another) reaching ``t``."""
        if is_kill(reason):
            self.terminate(t, KILLED)  # row 5: untrappable, becomes :killed (E-2)
        elif t.trap_exit:
            self.deliver(t, Exit(sender, reason))  # rows 2, 4, 7
        elif not is_normal(reason):
            self.terminate(t, reason)  # row 6
        elif is_port(t.pid):
            self.terminate(t, NORMAL)  # a port closes on any exit/2 signal (OTP 25)
        # row 1: a normal signal to a non-trapping process is dropped

    def link_signal(self, r: Process, sender: Pid | Port, reason: Any) -> None:
        """One link exit signal from ``sender`` (dead, or its node lost) reaching ``r``."""
        work: list[Any] = []
        self._link_signal(r, sender, reason, work)
        if work:
            self.terminate(*work[0])

    def fire_monitor(self, w: Process, ref: Ref, reason: Any) -> None:
        """``w``'s monitor ``ref`` fired: drop it (and its alias), deliver the DOWN."""
        if w.monitors is None:
            return
        entry = w.monitors.pop(ref, None)
        if entry is not None:
            if w.aliases and ref in w.aliases:
                self._drop_alias(w, ref)
            obj = entry[1]
            self.deliver(w, Down(ref, PORT if type(obj) is Port else PROCESS, obj, reason))

    def _link_signal(self, r: Process, sender: Pid | Port, reason: Any, work: list[Any]) -> None:
        """A link exit signal from ``sender`` (which died) to ``r``: §1.1 rows 9–14."""
        if r.trap_exit:
            self.deliver(r, Exit(sender, reason))  # rows 10, 12, 14 (link :kill trappable)
        elif is_normal(reason):
            return  # row 9
        else:
            work.append((r, reason))  # rows 11, 13: same reason, :kill stays :kill (L-11)

    def terminate(self, p: Process, reason: Any) -> None:
        """Make ``p`` dead with ``reason`` now, and propagate (a work list, not recursion)."""
        work: list[Any] = [(p, reason)]
        table = self.table
        while work:
            p, reason = work.pop()
            if p.state == DEAD:
                continue  # E-5: the first signal to take effect decides the reason
            was = p.state
            p.state = DEAD
            p.reason = reason
            del table[p.pid]
            self.received_by_dead += p.received
            self.reductions_of_dead += p.reductions
            # E-10: the name goes before any DOWN or EXIT is sent.
            if p.name is not None:
                del self.names[p.name]
                p.name = None
            p.mailbox = None  # S-8
            p.matcher = None
            if p.timer is not None:
                self.cancel_receive_timer(p)
            if p.timers:
                for tref in p.timers:
                    tref._handle.cancel()
                    self.timers.pop(tref, None)
                p.timers = None
            if p.monitors:
                dist = self.dist
                for ref, (target, obj) in p.monitors.items():
                    if target is not None:
                        t = table.get(target)
                        if t is not None and t.monitored_by:
                            t.monitored_by.pop(ref, None)
                    if dist is not None and (target is None or target.node is not None):
                        dist.demonitor(p, target, obj, ref)
                p.monitors = None
            # S-3: after all of p's messages (already delivered), its EXITs and DOWNs.
            if p.links:
                links = p.links
                p.links = None
                pid = p.pid
                for other in links:
                    q = table.get(other)
                    if q is not None:
                        if q.links is not None:
                            q.links.discard(pid)
                        # _link_signal(q, pid, reason, work), inlined (§1.1 rows 9-14)
                        if q.trap_exit:
                            self.deliver(q, Exit(pid, reason))
                        elif not (isinstance(reason, str) and reason == "normal"):
                            work.append((q, reason))
                    elif other.node is not None and self.dist is not None:
                        self.dist.link_exit(pid, other, reason)  # L-1 across nodes
            if p.monitored_by:
                mons = p.monitored_by
                p.monitored_by = None
                for ref, watcher in mons.items():
                    w = table.get(watcher)
                    if w is not None:
                        # fire_monitor(w, ref, reason), inlined
                        wm = w.monitors
                        entry = wm.pop(ref, None) if wm is not None else None
                        if entry is not None:
                            if w.aliases and ref in w.aliases:
                                self._drop_alias(w, ref)
                            obj = entry[1]
                            kind = PORT if type(obj) is Port else PROCESS
                            self.deliver(w, Down(ref, kind, obj, reason))
                    elif watcher.node is not None and self.dist is not None:
                        self.dist.monitor_exit(p, ref, watcher, reason)  # M-1 across nodes
            if p.dictionary is not None:
                p.dictionary = None
            if p.aliases:
                for alias in p.aliases:
                    self.aliases.pop(alias, None)
                p.aliases = None
            if p.extras is not None and p.extras.callbacks:
                for fn, ctx in p.extras.callbacks:
                    self.loop.call_soon(fn, p, context=ctx)
                p.extras.callbacks = []
            # Unwinding (see _unwind_step).  Blocked in tether (receive, sleep,
            # held): ExitSignal is thrown in from the run queue.  Awaiting an
            # asyncio future: it is cancelled, as Task.cancel does, and the
            # process resumes when it is done, with CancelledError at its await,
            # so wait_for, gather, shield and TaskGroup clean up after themselves.
            # Running: it raises ExitSignal itself on return from the runtime call.
            if was in (WAITING, SUSPENDED):
                self.queue(p)
            elif was == RUNNABLE:
                p.resume = None  # queued already; a message handed over is dropped
            elif was == AWAITING:
                self._cancel_await(p)
            if p is self.root:
                self._root_exited(p)

    def _root_exited(self, p: Process) -> None:
        # During a graceful stop the stopper ends the run, once all is stopped.
        if self.stopping is None and self.done is not None and not self.done.done():
            self.done.set_result(None)

    # -- unwinding dead processes ------------------------------------------
    #
    # A dead process's coroutine is finished off from the run queue, never from
    # inside another process's call.  Invariants while it unwinds: ``state`` is
    # DEAD, ``unwound`` is False, and it is in the run queue (at most once), or
    # awaiting ``future`` (cleanup), or both are unset because it is finished.
    # Every resume counts; after UNWIND_RESUMES, or UNWIND_GRACE seconds of
    # awaiting, it is closed.  Nothing it does can keep the scheduler: a yield
    # of any kind returns control here, and tether's receive/sleep in a dead
    # process yield instead of raising (a `while True: try: await receive()
    # except: pass` loop comes back to the scheduler each time round).

    def _cancel_await(self, p: Process) -> None:
        """``p`` died awaiting an asyncio future: cancel it, as ``Task.cancel`` does."""
        fut = p.future
        p.cancel_requests += 1
        if fut is not None and fut.cancel():
            # Its done callback (_future_done) resumes the unwinding.
            p.grace = self.loop.call_later(UNWIND_GRACE, self._grace_over, p)
        else:
            p.future = None
            p.resume = _CANCEL
            self.queue(p)

    def _unwind_step(self, p: Process) -> None:
        """Resume dead ``p`` once: throw (or send a finished await's result)."""
        if p.unwound:
            return
        coro = p.coro
        if coro is None or not p.reductions:
            if coro is not None:
                coro.close()  # never started: no user code runs
            self._finish_unwind(p)
            return
        if p.unwinds >= UNWIND_RESUMES:
            self._close(p)
            return
        p.unwinds += 1
        p.reductions += 1.0  # a step too (the watchdog tells it from the last one)
        action = p.resume
        p.resume = None
        self.current = p
        loop = self.loop
        try:
            _enter_task(loop, p)
            try:
                if action is _AWAKE:
                    yielded = coro.send(None)
                elif action is _CANCEL:
                    yielded = coro.throw(asyncio.CancelledError())
                else:
                    yielded = coro.throw(ExitSignal(p.reason))
            finally:
                try:
                    _leave_task(loop, p)
                except RuntimeError:
                    _reset_current_task(loop)  # the step broke asyncio's table
                    raise
        except _ForceStop:
            self.current = None
            raise
        except BaseException as ex:
            self.current = None
            if not _ends_unwinding(ex):
                self._unwind_errors += 1
                logger.warning(
                    "Process %r raised while unwinding after exit %s: %s",
                    p.pid,
                    inspect_reason(p.reason),
                    inspect_reason(ex),
                    exc_info=(type(ex), ex, ex.__traceback__),
                )
            self._finish_unwind(p)
            return
        self.current = None
        self._dead_yield(p, yielded)

    def _dead_yield(self, p: Process, yielded: Any) -> None:
        """Dead ``p`` yielded instead of finishing: decide how it is resumed next."""
        if yielded is WAIT or yielded is None:
            # tether's receive/sleep (a dead process cannot wait) or a bare yield:
            # the next resume throws ExitSignal again.
            self.queue(p)
        elif getattr(yielded, "_asyncio_future_blocking", None):
            # asyncio cleanup (closing a connection, TaskGroup waiting for its
            # children): let it finish, within the grace period.
            yielded._asyncio_future_blocking = False
            p.future = yielded
            yielded.add_done_callback(functools.partial(self._future_done, p))
            if p.grace is None:
                p.grace = self.loop.call_later(UNWIND_GRACE, self._grace_over, p)
        else:
            self._close(p)

    def _grace_over(self, p: Process) -> None:
        p.grace = None
        if p.unwound:
            return
        p.future = None  # its completion no longer resumes the process
        logger.warning(
            "Process %r was still awaiting cleanup %s s after its exit %s; closing it",
            p.pid,
            UNWIND_GRACE,
            inspect_reason(p.reason),
            extra={"tether_pid": p.pid},
        )
        self._close(p)

    def _finish_unwind(self, p: Process) -> None:
        p.unwound = True
        p.coro = None
        p.future = None
        if p.grace is not None:
            p.grace.cancel()
            p.grace = None

    def _close(self, p: Process) -> None:
        """``coro.close()`` (GeneratorExit at its await); abandon it if it refuses."""
        coro = p.coro
        if coro is None or p.unwound:
            self._finish_unwind(p)
            return
        saved = self.current
        self.current = p
        try:
            coro.close()
        except _ForceStop:
            raise
        except RuntimeError as ex:
            if "ignored GeneratorExit" in str(ex):
                self._abandon(p)
            else:
                logger.warning(
                    "Process %r raised while being closed: %s", p.pid, inspect_reason(ex)
                )
        except BaseException as ex:
            logger.warning("Process %r raised while being closed: %s", p.pid, inspect_reason(ex))
        finally:
            self.current = saved
        self._finish_unwind(p)

    def _abandon(self, p: Process) -> None:
        """``p``'s coroutine ignored its kill and ``close()``: never run it again.

        It cannot be finished, and letting the garbage collector finalize it would
        run its code once more (``close()`` again, from wherever the collector
        happens to run, with no scheduler to come back to: a loop that catches
        every exception would spin there for ever).  So it is kept alive for the
        life of the OS process (its memory is not reclaimed) and never resumed.
        """
        assert p.coro is not None
        _keep_forever(p.coro)
        self.abandoned += 1
        logger.error(
            "Process %r ignored its exit %s and refused to close (it catches "
            "BaseException and awaits again); abandoned: it will never run again",
            p.pid,
            inspect_reason(p.reason),
            extra={"tether_pid": p.pid},
        )

    # -- preemption ------------------------------------------------------------

    def _preempted(self, p: Process) -> None:
        """``Preempted`` reached ``step``: apply the request the watchdog made."""
        req = self.preempt_request
        self.preempt_request = None
        # Raised through the process's code, its coroutine is finished; raised in
        # step's own epilogue, right after the process yielded, it is suspended.
        suspended = getattr(p.coro, "cr_frame", None) is not None
        if not suspended:
            p.unwound = True
        if req is not None and req[0] is p:
            _p, _step, reason, sender = req
            if p.state != DEAD:
                if sender is None:
                    self.terminate(p, reason)  # a hog kill: untrappable
                else:
                    self.receive_exit2(p, sender, reason)
        else:  # pragma: no cover - the watchdog only fires inside p's step
            logger.error("Process %r received a preemption meant for another step", p.pid)
        if p.state != DEAD:
            # Only a preemption that did not kill (it cannot happen: the watchdog
            # asks only for killing signals) would leave it alive: end it.
            self.terminate(p, KILLED)
        if suspended and not p.unwound:
            self.queue(p)

    def preempt_here(self, frame: types.FrameType | None) -> None:
        """The preemption signal's handler (the loop runs in the main thread).

        Runs in the loop's thread at the point the signal interrupted: if that is
        the code of the step the watchdog asked to preempt, and not inside the
        runtime itself, apply the signal there and raise ``ExitSignal``;
        otherwise do nothing (the watchdog asks again).  Blocking calls that
        retry on EINTR (time.sleep, socket reads) are interrupted too.
        """
        req = self.preempt_request
        if req is None:
            return
        p, step, reason, sender = req
        if self.current is not p or p.reductions != step:
            return
        if not in_process_code(frame):
            return
        self.preempt_request = None
        # Here, in the process's own code, this is exactly Process.exit(self(), …)
        # made at this point: it is dead before its finally blocks run.
        if p.state != DEAD:
            if sender is None:
                self.terminate(p, reason)  # a hog kill: untrappable
            else:
                self.receive_exit2(p, sender, reason)
        if p.state == DEAD:
            raise ExitSignal(p.reason)

    def exit_from_thread(self, pid: Pid, reason: Any, sender: Pid | None = None) -> None:
        """An exit signal to ``pid`` sent from another thread (thread-safe).

        It takes effect on the loop's thread, as soon as the loop gets control;
        if ``pid`` is hogging the loop (running without awaiting) and the signal
        would end it, the watchdog preempts it.  A trapping target gets
        ``Exit(sender, reason)``, ``sender`` defaulting to the target itself.
        """
        self.thread_exits.append((pid, reason, sender))
        self.loop.call_soon_threadsafe(self._apply_thread_exits)
        if self.watchdog is not None:
            self.watchdog.poke()

    def _apply_thread_exits(self) -> None:
        while self.thread_exits:
            pid, reason, sender = self.thread_exits.popleft()
            t = self.table.get(pid)
            if t is not None:
                self.receive_exit2(t, pid if sender is None else sender, reason)

    # -- links and monitors --------------------------------------------------

    def link(self, p: Process, target: Pid | Port) -> None:
        if p.state == DEAD or target == p.pid:
            return  # L-5: link(self()) is a no-op
        if target.node is not None and self.dist is not None:
            # Recorded here; the peer records its side on LINK.  A node that cannot
            # be reached turns this into noconnection (D-1, D-3).
            if p.links is None:
                p.links = {target}
            else:
                p.links.add(target)
            self.dist.link(p, target)
            return
        if target.node is not None:
            # Not distributed: the node is unreachable (L-4 remote, D-3).
            self.link_signal(p, target, NOCONNECTION)
            return
        t = self.table.get(target)
        if t is None:
            # L-4: a signal for a trapping caller, an error for the others.
            if p.trap_exit:
                self.deliver(p, Exit(target, NOPROC))
                return
            raise NoProcError(f"Process.link: {target!r} is not alive (noproc)")
        if p.links is None:
            p.links = {target}
        else:
            p.links.add(target)  # L-2: idempotent
        if t.links is None:
            t.links = {p.pid}
        else:
            t.links.add(p.pid)

    def unlink(self, p: Process, target: Pid | Port) -> None:
        # L-7, L-8: removes both sides at once; nothing can arrive later because of it.
        if target.node is not None and self.dist is not None:
            # UNLINK_ID: an exit signal already on its way is ignored until the ack.
            if p.links is not None and target in p.links:
                p.links.discard(target)
                self.dist.unlink(p, target)
            return
        if p.links is not None:
            p.links.discard(target)
        t = self.table.get(target)
        if t is not None and t.links is not None:
            t.links.discard(p.pid)

    def monitor_pid(self, p: Process, target: Pid | Port, alias: bool = False) -> Ref:
        ref = new_ref()
        if p.state == DEAD or target == p.pid:
            return ref  # M-12: monitor(self()) creates nothing
        if alias:
            # M-16 monitor(pid, alias: :demonitor): the ref is also an alias until
            # the monitor goes (demonitor, DOWN, or the owner's death).
            self._add_alias(p, ref, False)
        if target.node is not None and self.dist is not None:
            self._add_remote_monitor(p, ref, target, target)
            self.dist.monitor(p, target, ref)
            return ref
        if target.node is not None:
            self.deliver(p, Down(ref, PROCESS, target, NOCONNECTION))  # D-3
            return ref
        t = self.table.get(target)
        if t is None:
            kind = PORT if type(target) is Port else PROCESS
            self.deliver(p, Down(ref, kind, target, NOPROC))  # M-4
            return ref
        self._add_monitor(p, t, ref, target)
        return ref

    def monitor_name(self, p: Process, name: str, node: str, alias: bool = False) -> Ref:
        ref = new_ref()
        obj = (Atom(name), Atom(node))
        if p.state == DEAD:
            return ref
        if alias:
            self._add_alias(p, ref, False)
        if node != self.name and self.dist is not None:
            self._add_remote_monitor(p, ref, None, obj)
            self.dist.monitor(p, (name, node), ref)
            return ref
        if node != self.name:
            self.deliver(p, Down(ref, PROCESS, obj, NOCONNECTION))
            return ref
        t = self.names.get(name)  # M-11: resolved once, now
        if t is None:
            self.deliver(p, Down(ref, PROCESS, obj, NOPROC))
            return ref
        if t is p:
            return ref  # M-12
        self._add_monitor(p, t, ref, obj)
        return ref

    @staticmethod
    def _add_remote_monitor(p: Process, ref: Ref, target: Pid | Port | None, obj: Any) -> None:
        """Record ``p``'s monitor of a remote target; its node holds the other side."""
        if p.monitors is None:
            p.monitors = {ref: (target, obj)}
        else:
            p.monitors[ref] = (target, obj)

    def _add_monitor(self, p: Process, t: Process, ref: Ref, obj: Any) -> None:
        if p.monitors is None:
            p.monitors = {ref: (t.pid, obj)}
        else:
            p.monitors[ref] = (t.pid, obj)
        if t.monitored_by is None:
            t.monitored_by = {ref: p.pid}
        else:
            t.monitored_by[ref] = p.pid

    def demonitor(self, p: Process, ref: Ref) -> bool:
        """Remove ``p``'s monitor ``ref``; true if it was active (M-5, M-6, M-8)."""
        aliases = p.aliases
        if aliases and ref in aliases:  # _drop_alias, inline
            self.aliases.pop(ref, None)
            aliases.discard(ref)
        if p.monitors is None:
            return False
        entry = p.monitors.pop(ref, None)
        if entry is None:
            return False
        target = entry[0]
        if target is not None:
            t = self.table.get(target)
            if t is not None and t.monitored_by is not None:
                t.monitored_by.pop(ref, None)
        if self.dist is not None and (target is None or target.node is not None):
            self.dist.demonitor(p, target, entry[1], ref)
        return True

    # -- aliases (M-16) -------------------------------------------------------

    def make_alias(self, p: Process, reply: bool) -> Ref:
        ref = new_ref()
        if p.state == DEAD:
            return ref
        self._add_alias(p, ref, reply)
        return ref

    def _add_alias(self, p: Process, ref: Ref, reply: bool) -> None:
        self.aliases[ref] = (p, reply)
        if p.aliases is None:
            p.aliases = {ref}
        else:
            p.aliases.add(ref)

    def _drop_alias(self, p: Process, ref: Ref) -> None:
        self.aliases.pop(ref, None)
        if p.aliases is not None:
            p.aliases.discard(ref)

    def unalias(self, p: Process, ref: Ref) -> bool:
        entry = self.aliases.get(ref)
        if entry is None or entry[0] is not p:
            return False
        del self.aliases[ref]
        if p.aliases is not None:
            p.aliases.discard(ref)
        return True

    def send_alias(self, ref: Ref, msg: Any) -> None:
        entry = self.aliases.get(ref)
        if entry is None:
            if ref.node is not None and self.dist is not None and self.current is not None:
                self.dist.alias_send(self.current.pid, ref, msg)
            return  # an inactive alias: dropped
        owner, reply = entry
        if reply:
            del self.aliases[ref]
            if owner.aliases is not None:
                owner.aliases.discard(ref)
        self.deliver(owner, msg)

    # -- names ----------------------------------------------------------------

    def register(self, p: Process, name: str) -> None:
        if self._caller_dead():
            return  # a dead process's effects are dropped
        self.names[name] = p
        p.name = name

    def _caller_dead(self) -> bool:
        """Whether the runtime call in progress comes from a dead process (its
        ``finally`` blocks run while it unwinds; what they do is dropped)."""
        c = self.current
        return c is not None and c.state == DEAD

    # -- timers ---------------------------------------------------------------

    def send_after(self, dest: Any, msg: Any, seconds: float) -> TimerRef:
        tref = TimerRef()
        if self._caller_dead():
            # Dropped: an inert timer that never fires and cannot be cancelled.
            object.__setattr__(tref, "_when", self.loop.time() + seconds)
            return tref
        # The caller is the timer's sender for a destination on another node.
        sender = self.current.pid if self.current is not None else None
        handle = self.loop.call_later(seconds, self._fire_timer, tref, dest, msg, sender)
        object.__setattr__(tref, "_handle", handle)
        object.__setattr__(tref, "_when", handle.when())
        self.timers[tref] = dest
        if type(dest) is Pid and dest.node is None:
            t = self.table.get(dest)
            if t is None:
                handle.cancel()
                del self.timers[tref]
            elif t.timers is None:
                t.timers = {tref}
            else:
                t.timers.add(tref)
        return tref

    def _fire_timer(self, tref: TimerRef, dest: Any, msg: Any, sender: Pid | None) -> None:
        if self.timers.pop(tref, None) is None:
            return
        dist = self.dist
        if type(dest) is Pid:
            if dest.node is not None:
                if dist is not None and sender is not None:
                    self._remote_timer_send(dist.send, sender, dest, msg)
                return
            t = self.table.get(dest)
            if t is not None:
                if t.timers is not None:
                    t.timers.discard(tref)
                self.deliver(t, msg)
        elif isinstance(dest, str) or dest[1] == self.name:
            t = self.names.get(dest if isinstance(dest, str) else dest[0])
            if t is not None:
                self.deliver(t, msg)
        elif dist is not None and sender is not None:
            self._remote_timer_send(dist.reg_send, sender, dest[0], dest[1], msg)

    @staticmethod
    def _remote_timer_send(send: Callable[..., Any], *args: Any) -> None:
        try:
            send(*args)
        except Exception as e:  # a message with no term: nobody to raise it to
            logger.warning("tether: a timer's message could not be sent: %s", inspect_reason(e))

    def cancel_timer(self, tref: TimerRef) -> float | bool:
        if self._caller_dead():
            return False
        dest = self.timers.pop(tref, None)
        if dest is None:
            return False
        tref._handle.cancel()
        if type(dest) is Pid:
            t = self.table.get(dest)
            if t is not None and t.timers is not None:
                t.timers.discard(tref)
        return max(0.0, tref._when - self.loop.time())

    # -- shutdown -------------------------------------------------------------

    def shutdown(self) -> None:
        """End every process still alive (the VM halting): no signals, no logs.

        Their coroutines are closed (``finally`` blocks run once); those that
        refuse are abandoned, as in ``_close``.
        """
        self.closing = True
        if self.deadline_handle is not None:
            self.deadline_handle.cancel()
            self.deadline_handle = None
            self.deadline_at = _INF
        for p in list(self.table.values()):
            p.state = DEAD
            p.reason = KILLED
            if p.timer is not None:
                self.cancel_receive_timer(p)
            if p.future is not None:
                p.future.cancel()
                p.future = None
            self._close(p)
        self.table.clear()
        self.names.clear()
        for tref in list(self.timers):
            tref._handle.cancel()
        self.timers.clear()
        for p in self.runq:
            if not p.unwound:
                if p.future is not None:
                    p.future.cancel()
                self._close(p)
        self.runq.clear()
        self.aliases.clear()
        hooks, self.shutdown_hooks = self.shutdown_hooks, []
        for hook in hooks:
            try:
                hook()
            except Exception:  # a hook's failure must not stop the others
                logger.exception("tether: a shutdown hook failed: %r", hook)


_STEP_CODE: Final = Node.step.__code__
_UNWIND_CODE: Final = Node._unwind_step.__code__


# -- the native core -----------------------------------------------------------
# With the native core (_core.py), the scheduler turn, the step's fast path and
# deliver run in C (_cnode.c: each C function names the method above it mirrors).
# Node.run stays a Python function, one frame per turn of up to BUDGET steps,
# calling the C turn: a process's frames lead out to that frame, which is how
# in_process_code and current_frames find where the process's code begins (the
# C step has no frame of its own).


def _run_native(self: Node) -> None:
    """One scheduler turn, in C (``_cnode.run`` mirrors the Python ``Node.run``)."""
    _native_run(self)


_native: Final = _core.native
# The run queue (Node.runq): a deque in the Python core; the native core's
# RunQueue is a C ring buffer with the deque methods used here (append,
# popleft, clear, len, iteration), which its scheduler loop calls directly.
if TYPE_CHECKING:
    RunQueue = deque
elif _native is not None:
    RunQueue = _native.RunQueue
else:
    RunQueue = deque
_RUN_CODE: Final = _run_native.__code__ if _native is not None else None
_in_runtime: Final = _native.in_runtime if _native is not None else None
if _native is not None:
    _native_run: Final = _native.run
    setattr(Node, "run", _run_native)  # noqa: B010 - replaces the method
    # The identifiers' hashes in C (mirroring their __hash__: see _cnode.c's
    # slot_hash): every table, alias, monitor and link lookup hashes one.
    for _cls in (Pid, Ref, TimerRef, Port):
        _native.use_slot_hash(_cls)
    _native.init_refs(Ref, _ref_counter)

#: ``Ref()``, a new local ref: in C with the native core (``_cnode.new_ref``
#: mirrors ``Ref.__init__``), which every monitor, alias and ``make_ref`` calls.
new_ref: Final[Callable[[], Ref]] = _native.new_ref if _native is not None else Ref
# asyncio's own hooks for "the current task" (what Task.__step uses); a Process
# stands in for a Task there, which asyncio only needs for current_task() and
# Task-like methods (cancel, uncancel, cancelling, get_loop, done).
_enter_task: Final = cast(Callable[[Any, Any], None], asyncio.tasks._enter_task)
_leave_task: Final = cast(Callable[[Any, Any], None], asyncio.tasks._leave_task)


def _reset_current_task(loop: asyncio.AbstractEventLoop) -> None:
    """No task is current on ``loop``: after a step whose ``_leave_task`` raised.

    A process that removes or replaces itself in asyncio's table of current
    tasks (``asyncio.tasks._current_tasks``, private) dies of asyncio's
    ``RuntimeError`` at the end of its step; without this, the entry it left
    would make every later step fail to enter and the node would hang.  Between
    two steps no task is current (the scheduler runs as a loop callback), so the
    loop's entry goes.  The native core calls this too (``task_leave``).
    """
    tasks = getattr(asyncio.tasks, "_current_tasks", None)
    if isinstance(tasks, dict):
        tasks.pop(loop, None)


def _run_soon(loop: asyncio.AbstractEventLoop, run: Callable[[], None]) -> Callable[[], object]:
    """The function that schedules the scheduler's next turn (``Node.run_soon``).

    Every turn runs in the node's context: one ``contextvars.Context``, copied
    when the node starts (``loop.call_soon`` alone would copy whatever context
    woke the node, a reader's or another process's turn's).

    On asyncio's own loops (``BaseEventLoop``: selector and proactor) outside
    debug mode, a turn is scheduled by appending one ``Handle``, made here and
    reused, to the loop's ready queue (``loop._ready``, private): what
    ``call_soon`` does, without its four Python calls and a fresh ``Handle`` a
    time (about 12,000 instructions; a message from another node wakes the node
    once, so this was an eighth of a distribution round trip).  ``Node.scheduled``
    keeps the handle in the queue once at most.  Any other loop (uvloop, a loop in
    debug mode, whose ``call_soon`` checks the thread) gets ``call_soon``.
    """
    context = contextvars.copy_context()
    ready = getattr(loop, "_ready", None)
    if isinstance(loop, asyncio.BaseEventLoop) and type(ready) is deque and not loop.get_debug():
        handle = asyncio.Handle(run, (), loop, context)
        return functools.partial(ready.append, handle)
    return functools.partial(loop.call_soon, run, context=context)


_monotonic: Final = time.monotonic
_INF: Final = float("inf")


class Preempted(ExitSignal):
    """Raised into a process that hogs the loop, to end it (see ``Watchdog``).

    It arrives between two bytecodes of the process's own code (never inside the
    runtime), like the exit signal it stands for; the scheduler then applies the
    signal the watchdog was asked to deliver.
    """

    def __init__(self, reason: Any = None) -> None:
        super().__init__(reason)


class _ForceStop(KeyboardInterrupt):
    """The second Ctrl-C: stop the node now.  Nothing in tether catches it (and
    asyncio lets a ``KeyboardInterrupt`` out of its callbacks)."""


def _ends_unwinding(ex: BaseException) -> bool:
    """The ways a dead process's coroutine normally finishes while it unwinds."""
    if isinstance(ex, StopIteration | ExitSignal | ProcessExit | GeneratorExit):
        return True
    if isinstance(ex, asyncio.CancelledError):
        return True
    if isinstance(ex, BaseExceptionGroup):
        return all(_ends_unwinding(e) for e in ex.exceptions)
    return False


def _keep_forever(obj: object) -> None:
    """Take a reference that is never released, so ``obj`` is never finalized."""
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(obj))


def in_process_code(frame: types.FrameType | None) -> bool:
    """True if ``frame`` runs a process's own code inside a step (or an unwinding).

    Walks out to the scheduler's frame; any frame of the runtime on the way
    (a send, a mailbox operation) means "not now": an exception raised there
    could leave the runtime's tables half-updated.
    """
    if _in_runtime is not None and _in_runtime():
        return False  # the native core is running runtime code (see _cnode.c)
    f = frame
    while f is not None:
        code = f.f_code
        if code is _STEP_CODE or code is _UNWIND_CODE or code is _RUN_CODE:
            return True
        if f.f_globals.get("__name__", "").startswith(_RUNTIME_PREFIX):
            return False
        f = f.f_back
    return False


def _start_coroutine(fun: Callable[..., Any], args: tuple[Any, ...], what: str) -> Any:
    """Call ``fun(*args)`` and check that it made a coroutine (CONTRACT: async only)."""
    if not is_async_callable(fun):
        raise TypeError(
            f"{what}: {fun!r} is not an async function; a tether process runs a coroutine, "
            f"so define it with 'async def' (or wrap it: async def main(): f())"
        )
    coro = fun(*args)
    if type(coro) is not types.CoroutineType and not (
        hasattr(coro, "send") and hasattr(coro, "throw") and hasattr(coro, "close")
    ):
        raise TypeError(f"{what}: {fun!r} returned {coro!r}, not a coroutine")
    return coro


def is_async_callable(fun: Any) -> bool:
    """True for ``async def`` functions, bound methods, partials and async ``__call__``."""
    t = type(fun)
    if t is types.FunctionType:
        return bool(fun.__code__.co_flags & _CO_COROUTINE)
    if t is types.MethodType and type(fun.__func__) is types.FunctionType:
        # A bound method (GenServer's callbacks, spawn(obj.method)): no introspection.
        return bool(fun.__func__.__code__.co_flags & _CO_COROUTINE)
    while isinstance(fun, functools.partial):
        fun = fun.func
    if inspect.iscoroutinefunction(fun):
        return True
    call = getattr(fun, "__call__", None)  # noqa: B004 - we want the attribute
    return (
        call is not None
        and not isinstance(fun, type)
        and not inspect.isfunction(fun)
        and inspect.iscoroutinefunction(call)
    )


# -- the node of this OS process ---------------------------------------------


class _NoNode:
    """Stands in for the node when none runs, so ``NODE.current`` is always valid."""

    current: Process | None = None
    name: Atom = NONODE
    quick_receives: int = 0


NO_NODE: Final = _NoNode()
NODE: Node | _NoNode = NO_NODE


if _native is not None:
    # Bound last: init reads the classes above (their slots' offsets) and keeps
    # the Python deliver for records it does not handle.
    _native.init(sys.modules[__name__])
    # Spawn's and terminate's common cases in C (see _cnode.c: the Python
    # Node.spawn and Node.terminate stay, for the others).
    _native.init_lifecycle(sys.modules[__name__])
    setattr(Node, "spawn", _native.as_method(_native.node_spawn))  # noqa: B010
    setattr(Node, "terminate", _native.as_method(_native.terminate))  # noqa: B010
    _native.set_node(NODE)
    setattr(Node, "deliver", _native.as_method(_native.deliver))  # noqa: B010


def set_node(node: Node | _NoNode) -> None:
    global NODE
    NODE = node  # pyright: ignore[reportConstantRedefinition] - the one place that sets it
    if _native is not None:
        _native.set_node(node)


def outside_error(what: str) -> RuntimeError:
    return RuntimeError(
        f"{what} must be called from inside a tether process; start one with "
        "tether.run(main) (an async def main) and call it from there, or, from "
        "asyncio code that is not a process, use a node's bridge: async with "
        "tether.open_node() as node: node.send(...), await node.call(...), "
        "await node.run(fn)"
    )


class Watchdog:
    """A thread that watches the scheduler for steps that hog the event loop.

    It samples ``node.current`` and its step count ``reductions`` (the pair names
    one step) every ``period`` seconds; the hot path pays nothing for it but the
    step count, which ``Process.info`` reports anyway.  A step seen running for
    ``threshold`` seconds is a hog: it is logged once (``hog_policy="warn"``) or
    ended with reason ``("hog", threshold)`` (``"kill"``).  Exit signals sent from other threads
    (``Node.exit_from_thread``: the shell's Ctrl-C, a thread bridge) that would
    end the process hogging the loop are delivered the same way.

    Preemption, without ever landing inside the runtime:

    * The loop runs in the main thread: the watchdog sends ``PREEMPT_SIGNAL``
      (SIGURG, ignored by default; Go's runtime uses it the same way) to it.
      The handler runs in the loop's thread at the interrupted bytecode and
      raises ``Preempted`` only if that point is the hog's own code
      (``Node.preempt_here``).  Blocking calls that retry on EINTR
      (``time.sleep``, socket reads) are interrupted too.
    * Another thread: ``PyThreadState_SetAsyncExc``.  The watchdog holds the GIL
      while it inspects the loop thread's frames and sets the exception, and the
      loop thread resumes exactly where it released the GIL, where the
      exception is raised: so the frames checked are the frames it lands in.
      A blocking C call is not interrupted: the exception comes when it returns.

    What cannot be interrupted: a C call that never returns to the interpreter,
    and code that catches ``BaseException`` in a loop that never awaits (it
    swallows each preemption; it is logged every ``threshold``).
    """

    def __init__(self, node: Node, threshold: float | None, policy: str = "warn") -> None:
        self.node = node
        self.threshold = threshold
        self.policy = policy
        self.period = 0.05 if threshold is None else max(0.005, min(threshold / 4, 0.05))
        self.stop = threading.Event()
        self.wake = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="tether-watchdog", daemon=True)
        # For the observer: the longest step seen, and the last steps seen running
        # across two samples or more, as (when it ended, seconds, pid): steps
        # shorter than ``period`` are not seen.
        self.longest = 0.0
        self.long_steps: deque[tuple[float, float, Pid]] = deque(maxlen=64)

    def start(self) -> None:
        self.thread.start()

    def poke(self) -> None:
        """Look now (an exit signal from another thread is waiting)."""
        self.wake.set()

    def _loop(self) -> None:
        seen_p: Process | None = None
        seen_step = -1.0
        seen_ran = 0.0
        seen_at = 0.0
        warned = False
        while not self.stop.is_set():
            poked = self.wake.wait(self.period)
            if poked:
                self.wake.clear()
                # Give the loop a moment to take the signal itself.
                if self.stop.wait(0.02):
                    return
            node = self.node
            p = node.current
            step = -1.0 if p is None else p.reductions
            now = _monotonic()
            if p is None or p is not seen_p or step != seen_step:
                if seen_ran:
                    self.long_steps.append((now, seen_ran, seen_p.pid))  # type: ignore[union-attr]
                seen_p, seen_step, seen_ran = p, step, 0.0
                seen_at = now
                warned = False
                continue
            ran = seen_ran = now - seen_at
            self.longest = max(self.longest, ran)
            target = self._thread_exit_for(p)
            if target is not None:
                self._preempt(p, step, *target)
                continue
            if self.threshold is None or ran < self.threshold:
                continue
            if not warned:
                warned = True
                self._warn(p)
            if self.policy == "kill" or p.state == DEAD:
                self._preempt(p, step, (HOG, self.threshold), None)

    def _thread_exit_for(self, p: Process) -> tuple[Any, Pid | None] | None:
        """A pending exit signal from another thread that would end ``p``."""
        for pid, reason, sender in list(self.node.thread_exits):
            if pid == p.pid and (is_kill(reason) or (not p.trap_exit and not is_normal(reason))):
                return (KILLED if is_kill(reason) else reason, sender or pid)
        return None

    def _warn(self, p: Process) -> None:
        name = initial_call_name(p)
        if p.state == DEAD:
            logger.error(
                "Process %r (%s) is dead (%s) but keeps running without awaiting: it "
                "catches BaseException in a loop; it cannot be stopped",
                p.pid,
                name,
                inspect_reason(p.reason),
                extra={"tether_pid": p.pid},
            )
            return
        logger.warning(
            "Process %r (%s) has run for more than %.3g s without awaiting; it blocks "
            "every other process. Await something (receive, Process.sleep, "
            "asyncio.sleep(0)) or move the work to a thread with asyncio.to_thread%s",
            p.pid,
            name,
            self.threshold,
            "; ending it (hog_policy='kill')" if self.policy == "kill" else "",
            extra={"tether_pid": p.pid},
        )

    def _preempt(self, p: Process, step: float, reason: Any, sender: Pid | None) -> None:
        node = self.node
        if node.current is not p or p.reductions != step:
            return
        node.preempt_request = (p, step, reason, sender)
        if node.in_main_thread:
            with contextlib.suppress(OSError, ValueError):
                signal.pthread_kill(node.thread_id, PREEMPT_SIGNAL)
            return
        frame = sys._current_frames().get(node.thread_id)
        # Everything from here to SetAsyncExc runs without a GIL switch that
        # matters: the loop thread, once it runs again, starts exactly at `frame`.
        if node.current is p and p.reductions == step and in_process_code(frame):
            ctypes.pythonapi.PyThreadState_SetAsyncExc(
                ctypes.c_ulong(node.thread_id), ctypes.py_object(Preempted)
            )

    def close(self) -> None:
        """Stop the thread and wait for it (it holds the node until it ends)."""
        self.stop.set()
        self.wake.set()
        if self.thread.is_alive() and self.thread is not threading.current_thread():
            self.thread.join(1.0)


PREEMPT_SIGNAL: Final = signal.SIGURG
HOG: Final = Atom("hog")


def initial_call_name(p: Process) -> str:
    """The name to show for ``p``: proc_lib's ``$initial_call`` if set (the user's
    GenServer class), else the function it was spawned with."""
    d = p.dictionary
    ic = d.get("$initial_call") if d else None
    if type(ic) is tuple and len(ic) >= 2:
        return f"{ic[0]}.{ic[1]}"
    fn = p.initial_call
    return str(getattr(fn, "__qualname__", None) or repr(fn))


def current_frames(p: Process) -> list[types.FrameType]:
    """Frames of a process, innermost first, without the runtime's own frames."""
    frames: list[types.FrameType] = []
    if NODE.current is p:
        f = sys._getframe(1)
        while f is not None:
            if f.f_code is _STEP_CODE or f.f_code is _RUN_CODE:
                break
            frames.append(f)
            f = f.f_back  # type: ignore[assignment]
    else:
        c: Any = p.coro
        outer: list[types.FrameType] = []
        # Bounded: an awaitable whose __getattr__ answers anything must not
        # make the observer (or a crash report) walk forever.
        while c is not None and len(outer) < 512:
            fr = getattr(c, "cr_frame", None) or getattr(c, "gi_frame", None)
            if not isinstance(fr, types.FrameType):
                break
            outer.append(fr)
            c = getattr(c, "cr_await", None) or getattr(c, "gi_yieldfrom", None)
        frames = outer[::-1]
    return [f for f in frames if not f.f_globals.get("__name__", "").startswith("tether._runtime")]
