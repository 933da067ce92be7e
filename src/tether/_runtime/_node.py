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
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import itertools
import logging
import sys
import threading
import types
from collections import deque
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Final, cast

from ._mailbox import Mailbox, Matcher
from ._types import (
    KILLED,
    NOCONNECTION,
    NONODE,
    NOPROC,
    NORMAL,
    PROCESS,
    Atom,
    Down,
    Exit,
    ExitSignal,
    NoProcError,
    Pid,
    ProcessExit,
    Ref,
    TimerRef,
)

if TYPE_CHECKING:
    from ._remote import Remote

logger: Final = logging.getLogger("tether")

# What a suspended coroutine yields to the scheduler.
WAIT: Final = object()
# Resume values the scheduler sends into a suspended receive.
TIMEOUT: Final = object()
RESCAN: Final = object()
CANCEL: Final = object()

# Process states.
RUNNABLE: Final = 0
RUNNING: Final = 1
WAITING: Final = 2
AWAITING: Final = 3
DEAD: Final = 4
SUSPENDED: Final = 5

# How many process steps one scheduler callback runs before it lets the event
# loop poll I/O and run its other callbacks.
BUDGET: Final = 1024

_CO_COROUTINE: Final = inspect.CO_COROUTINE


def is_kill(reason: Any) -> bool:
    return isinstance(reason, str) and reason == "kill"


def is_normal(reason: Any) -> bool:
    return isinstance(reason, str) and reason == "normal"


class Process:
    """The runtime's record of one process (private; users see only its ``Pid``).

    ``__slots__`` and lazily created containers keep an idle process small: the
    containers for links, monitors, the mailbox and the dictionary stay ``None``
    until first used.
    """

    __slots__ = (
        "__weakref__",
        "aliases",
        "cancel_requests",
        "coro",
        "dictionary",
        "future",
        "initial_call",
        "links",
        "mailbox",
        "matcher",
        "monitored_by",
        "monitors",
        "name",
        "pid",
        "reason",
        "resume",
        "started",
        "state",
        "suspended",
        "timer",
        "timers",
        "trap_exit",
        "unwound",
    )

    def __init__(self, pid: Pid, coro: Coroutine[Any, Any, Any] | None, initial_call: Any) -> None:
        self.pid = pid
        self.coro = coro
        self.initial_call = initial_call
        self.state = RUNNABLE
        self.resume: Any = None
        self.mailbox: Mailbox | None = None
        self.matcher: Matcher | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.future: asyncio.Future[Any] | None = None
        self.links: set[Pid] | None = None
        self.monitors: dict[Ref, tuple[Pid | None, Any]] | None = None
        self.monitored_by: dict[Ref, Pid] | None = None
        self.trap_exit = False
        self.name: str | None = None
        self.dictionary: dict[Any, Any] | None = None
        self.reason: Any = None
        self.timers: set[TimerRef] | None = None
        self.started = False
        self.unwound = False
        self.aliases: set[Ref] | None = None
        self.cancel_requests = 0
        # Set by Node.suspend: the process does not run again until it is done.
        self.suspended: asyncio.Future[Any] | None = None

    @property
    def alive(self) -> bool:
        return self.state != DEAD

    # -- the asyncio Task face ---------------------------------------------
    # While a process runs, it is asyncio's current task, so code that asks for
    # asyncio.current_task() (asyncio.timeout, HTTP clients) works inside it.
    # cancel() raises CancelledError at the process's current await, as
    # Task.cancel does; it is not an exit signal.

    def get_loop(self) -> asyncio.AbstractEventLoop:
        node = NODE
        assert isinstance(node, Node)
        return node.loop

    def done(self) -> bool:
        return self.state == DEAD

    def cancelling(self) -> int:
        return self.cancel_requests

    def uncancel(self) -> int:
        if self.cancel_requests > 0:
            self.cancel_requests -= 1
        return self.cancel_requests

    def cancel(self, msg: Any = None) -> bool:
        if self.state == DEAD:
            return False
        self.cancel_requests += 1
        node = NODE
        assert isinstance(node, Node)
        if self.state == AWAITING and self.future is not None:
            self.future.cancel(msg)
        elif self.state == WAITING:
            if self.timer is not None:
                self.timer.cancel()
                self.timer = None
            self.matcher = None
            node.make_runnable(self, CANCEL)
        return True

    def __repr__(self) -> str:
        return f"<Process {self.pid!r} state={self.state}>"


class Node:
    """One node: the scheduler and every table of the runtime."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.current: Process | None = None
        self.runq: deque[Process] = deque()
        self.scheduled = False
        self.table: dict[Pid, Process] = {}
        self.names: dict[str, Process] = {}
        self.timers: dict[TimerRef, Pid | str | tuple[Any, Any]] = {}
        # M-16: alias -> (owner, one-shot).  A message sent to an alias that is
        # not here is dropped; that is how late call replies disappear.
        self.aliases: dict[Ref, tuple[Process, bool]] = {}
        self.next_id = itertools.count(64).__next__
        self.name: Atom = NONODE
        self.steps = 0
        self.root: Process | None = None
        self.root_result: Any = None
        self.done: asyncio.Future[None] | None = None
        self.idle_waiters: list[Process] = []
        self.idle_check_scheduled = False
        self.closing = False
        self._unwind_errors = 0
        # The rest of the world (_remote.Remote: distribution) once the node has a
        # name; the core calls it only for signals whose target lives elsewhere.
        self.dist: Remote | None = None
        # State owned by this node that is not a process's (see _api.node_state).
        self.ext: dict[str, Any] = {}

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
            self.loop.call_soon(self.run)

    def run(self) -> None:
        """Drain the run queue (up to ``BUDGET`` steps), then return to the loop."""
        runq = self.runq
        step = self.step
        n = BUDGET
        while runq and n:
            n -= 1
            step(runq.popleft())
        if runq:
            self.loop.call_soon(self.run)
        else:
            self.scheduled = False
            if self.idle_waiters and not self.idle_check_scheduled:
                self.idle_check_scheduled = True
                self.loop.call_soon(self._idle_check)

    def step(self, p: Process) -> None:
        """Run one process until it yields, returns or raises."""
        if p.state == DEAD:
            self._unwind(p)
            return
        if p.suspended is not None and self._park_suspended(p):
            return
        self.steps += 1
        p.state = RUNNING
        p.started = True
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
                _leave_task(loop, p)
        except StopIteration as stop:
            self.current = None
            if p is self.root:
                self.root_result = stop.value
            self.terminate(p, NORMAL)  # E-8
            return
        except ProcessExit as ex:  # exit/1 not caught: E-3
            self.current = None
            self.terminate(p, ex.reason)
            return
        except ExitSignal:
            # Killed during its own step: already dead, its coroutine is now done.
            self.current = None
            if p.state != DEAD:
                # Only reachable if user code raised ExitSignal itself.
                self.terminate(p, KILLED)
            p.unwound = True
            return
        except (KeyboardInterrupt, SystemExit) as ex:
            self.current = None
            self.terminate(p, ex)
            raise
        except BaseException as ex:  # a crash: LOG-1, and its reason is the exception
            self.current = None
            tb = ex.__traceback__
            if tb is not None and tb.tb_frame.f_code is _STEP_CODE:
                ex.__traceback__ = tb.tb_next  # the scheduler's frame says nothing
            if p.state != DEAD:
                self._log_crash(p, ex)
                self.terminate(p, ex)
            return
        self.current = None
        if p.state == DEAD:
            # It swallowed the ExitSignal thrown by its own fatal call and went
            # on to wait: close it.
            self._close(p)
        elif yielded is WAIT:
            p.state = WAITING
        elif yielded is None:
            p.state = RUNNABLE
            self.runq.append(p)
        elif getattr(yielded, "_asyncio_future_blocking", None):
            yielded._asyncio_future_blocking = False
            p.state = AWAITING
            p.future = yielded
            yielded.add_done_callback(functools.partial(self._future_done, p))
        else:
            self._bad_yield(p, yielded)

    def _bad_yield(self, p: Process, yielded: Any) -> None:
        exc = RuntimeError(
            f"process {p.pid!r} awaited {yielded!r}, which is neither a tether call nor an "
            "asyncio awaitable"
        )
        p.state = RUNNABLE
        self.current = p
        try:
            assert p.coro is not None
            p.coro.throw(exc)
        except BaseException as ex:
            self.current = None
            if p.state != DEAD:
                self._log_crash(p, ex)
                self.terminate(p, ex)
            return
        self.current = None
        self._close(p)
        self.terminate(p, exc)

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
        if p.future is fut and p.state == AWAITING:
            p.future = None
            self.make_runnable(p, None)

    def _log_crash(self, p: Process, ex: BaseException) -> None:
        """LOG-1: a plain process that raised logs the exception at ERROR."""
        logger.error(
            "Process %r raised an exception\n** (%s) %s",
            p.pid,
            type(ex).__name__,
            ex,
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
        pid = Pid(self.next_id())
        if parent is not None and parent.state == DEAD:
            # A dying process's spawns are dropped: the pid never lives.
            return pid, (Ref() if monitor else None)
        coro = _start_coroutine(fun, args, what)
        p = Process(pid, coro, fun)
        self.table[pid] = p
        ref = None
        if parent is not None:
            if link:
                p.links = {parent.pid}
                if parent.links is None:
                    parent.links = {pid}
                else:
                    parent.links.add(pid)
            if monitor:
                ref = Ref()
                p.monitored_by = {ref: parent.pid}
                if parent.monitors is None:
                    parent.monitors = {ref: (pid, pid)}
                else:
                    parent.monitors[ref] = (pid, pid)
        self.queue(p)
        return pid, ref

    # -- delivery ----------------------------------------------------------

    def deliver(self, p: Process, msg: Any) -> None:
        """Put ``msg`` in live process ``p``'s mailbox, or hand it to its receive."""
        if p.state == WAITING:
            m = p.matcher
            if m is None and p.timer is None:
                # The hot path, make_runnable and queue inlined (one call less per
                # message): a plain receive, no timeout.
                p.state = RUNNABLE
                p.resume = msg
                self.runq.append(p)
                if not self.scheduled:
                    self.scheduled = True
                    self.loop.call_soon(self.run)
                return
            if m is None:
                p.timer.cancel()  # type: ignore[union-attr]
                p.timer = None
                self.make_runnable(p, msg)
                return
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
                    return
                self.current = saved
            else:
                try:
                    ok = m.match(msg)
                except BaseException:
                    self._enqueue(p, msg)
                    self._wake_for_rescan(p)
                    return
            if ok:
                p.matcher = None
                if p.timer is not None:
                    p.timer.cancel()
                    p.timer = None
                self.make_runnable(p, msg)
                return
        mb = p.mailbox
        if mb is None:
            mb = p.mailbox = Mailbox()
        if mb._index is None:
            # Mailbox.put inlined: the flood path (the receiver is busy).
            seq = mb._tail
            mb._tail = seq + 1
            mb._msgs[seq] = msg
        else:
            mb.put(msg)

    def _enqueue(self, p: Process, msg: Any) -> None:
        mb = p.mailbox
        if mb is None:
            mb = p.mailbox = Mailbox()
        mb.put(msg)

    def _wake_for_rescan(self, p: Process) -> None:
        p.matcher = None
        if p.timer is not None:
            p.timer.cancel()
            p.timer = None
        self.make_runnable(p, RESCAN)

    def receive_timeout(self, p: Process) -> None:
        if p.state == WAITING:
            p.timer = None
            p.matcher = None
            self.make_runnable(p, TIMEOUT)

    # -- exit signals --------------------------------------------------------

    def exit_signal(self, sender: Process, target: Pid, reason: Any) -> None:
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

    def receive_exit2(self, t: Process, sender: Pid, reason: Any) -> None:
        """An exit/2 signal from ``sender`` (of this node or another) reaching ``t``."""
        if is_kill(reason):
            self.terminate(t, KILLED)  # row 5: untrappable, becomes :killed (E-2)
        elif t.trap_exit:
            self.deliver(t, Exit(sender, reason))  # rows 2, 4, 7
        elif not is_normal(reason):
            self.terminate(t, reason)  # row 6
        # row 1: a normal signal to a non-trapping process is dropped

    def link_signal(self, r: Process, sender: Pid, reason: Any) -> None:
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
            self.deliver(w, Down(ref, PROCESS, entry[1], reason))

    def _link_signal(self, r: Process, sender: Pid, reason: Any, work: list[Any]) -> None:
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
            # E-10: the name goes before any DOWN or EXIT is sent.
            if p.name is not None:
                del self.names[p.name]
                p.name = None
            p.mailbox = None  # S-8
            p.matcher = None
            if p.timer is not None:
                p.timer.cancel()
                p.timer = None
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
                for other in links:
                    q = table.get(other)
                    if q is not None:
                        if q.links is not None:
                            q.links.discard(p.pid)
                        self._link_signal(q, p.pid, reason, work)
                    elif other.node is not None and self.dist is not None:
                        self.dist.link_exit(p.pid, other, reason)  # L-1 across nodes
            if p.monitored_by:
                mons = p.monitored_by
                p.monitored_by = None
                for ref, watcher in mons.items():
                    w = table.get(watcher)
                    if w is not None:
                        self.fire_monitor(w, ref, reason)
                    elif watcher.node is not None and self.dist is not None:
                        self.dist.monitor_exit(p, ref, watcher, reason)  # M-1 across nodes
            if p.dictionary is not None:
                p.dictionary = None
            if p.aliases:
                for alias in p.aliases:
                    self.aliases.pop(alias, None)
                p.aliases = None
            # Unwinding: a process that is not running now gets ExitSignal thrown
            # into it from the run queue; the running one raises it on return.
            if was in (WAITING, AWAITING, SUSPENDED):
                fut = p.future
                if fut is not None:
                    p.future = None
                    fut.cancel()
                self.queue(p)
            if p is self.root:
                self._root_exited(p)

    def _root_exited(self, p: Process) -> None:
        if self.done is not None and not self.done.done():
            self.done.set_result(None)

    def _unwind(self, p: Process) -> None:
        """Throw ``ExitSignal`` into a dead process's coroutine so its ``finally`` runs."""
        if p.unwound:
            return
        p.unwound = True
        coro = p.coro
        if coro is None:
            return
        if not p.started:
            coro.close()
            return
        self.current = p
        try:
            coro.throw(ExitSignal(p.reason))
        except (StopIteration, ExitSignal, ProcessExit):
            pass
        except BaseException as ex:
            self._unwind_errors += 1
            logger.warning(
                "Process %r raised while unwinding after exit %r: %r",
                p.pid,
                p.reason,
                ex,
                exc_info=(type(ex), ex, ex.__traceback__),
            )
        else:
            self._close(p)
        finally:
            self.current = None

    def _close(self, p: Process) -> None:
        p.unwound = True
        coro = p.coro
        if coro is None:
            return
        saved = self.current
        self.current = p
        try:
            coro.close()
        except BaseException as ex:  # "coroutine ignored GeneratorExit"
            logger.warning("Process %r could not be closed: %r", p.pid, ex)
        finally:
            self.current = saved

    # -- links and monitors --------------------------------------------------

    def link(self, p: Process, target: Pid) -> None:
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

    def unlink(self, p: Process, target: Pid) -> None:
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

    def monitor_pid(self, p: Process, target: Pid, alias: bool = False) -> Ref:
        ref = Ref()
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
            self.deliver(p, Down(ref, PROCESS, target, NOPROC))  # M-4
            return ref
        self._add_monitor(p, t, ref, target)
        return ref

    def monitor_name(self, p: Process, name: str, node: str, alias: bool = False) -> Ref:
        ref = Ref()
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
    def _add_remote_monitor(p: Process, ref: Ref, target: Pid | None, obj: Any) -> None:
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
        if p.aliases and ref in p.aliases:
            self._drop_alias(p, ref)
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
        ref = Ref()
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
        self.names[name] = p
        p.name = name

    # -- timers ---------------------------------------------------------------

    def send_after(self, dest: Any, msg: Any, seconds: float) -> TimerRef:
        tref = TimerRef()
        handle = self.loop.call_later(seconds, self._fire_timer, tref, dest, msg)
        object.__setattr__(tref, "_handle", handle)
        object.__setattr__(tref, "_when", handle.when())
        self.timers[tref] = dest
        if type(dest) is Pid:
            t = self.table.get(dest)
            if t is None:
                handle.cancel()
                del self.timers[tref]
            elif t.timers is None:
                t.timers = {tref}
            else:
                t.timers.add(tref)
        return tref

    def _fire_timer(self, tref: TimerRef, dest: Any, msg: Any) -> None:
        if self.timers.pop(tref, None) is None:
            return
        if type(dest) is Pid:
            t = self.table.get(dest)
            if t is not None:
                if t.timers is not None:
                    t.timers.discard(tref)
                self.deliver(t, msg)
        else:
            name = dest if isinstance(dest, str) else dest[0]
            t = self.names.get(name)
            if t is not None:
                self.deliver(t, msg)

    def cancel_timer(self, tref: TimerRef) -> float | bool:
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
        """End every process still alive (the VM halting): no signals, no logs."""
        self.closing = True
        for p in list(self.table.values()):
            p.state = DEAD
            p.reason = KILLED
            if p.timer is not None:
                p.timer.cancel()
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
                self._close(p)
        self.runq.clear()


_STEP_CODE: Final = Node.step.__code__
# asyncio's own hooks for "the current task" (what Task.__step uses); a Process
# stands in for a Task there, which asyncio only needs for current_task() and
# Task-like methods (cancel, uncancel, cancelling, get_loop, done).
_enter_task: Final = cast(Callable[[Any, Any], None], asyncio.tasks._enter_task)
_leave_task: Final = cast(Callable[[Any, Any], None], asyncio.tasks._leave_task)


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
    if type(fun) is types.FunctionType:
        return bool(fun.__code__.co_flags & _CO_COROUTINE)
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


NO_NODE: Final = _NoNode()
NODE: Node | _NoNode = NO_NODE


def set_node(node: Node | _NoNode) -> None:
    global NODE
    NODE = node


def outside_error(what: str) -> RuntimeError:
    return RuntimeError(
        f"{what} must be called from inside a tether process; start one with "
        "tether.run(main) (an async def main) and call it from there"
    )


class Watchdog:
    """Warns when one process holds the event loop for longer than ``threshold``.

    A daemon thread samples the scheduler's step counter; if the same step is
    still running on two samples ``threshold`` apart, the process is hogging the
    loop (it neither awaited nor returned).  Costs the hot path one integer
    increment per step instead of two clock reads.
    """

    def __init__(self, node: Node, threshold: float) -> None:
        self.node = node
        self.threshold = threshold
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="tether-watchdog", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _loop(self) -> None:
        last_step = -1
        warned = -1
        while not self.stop.wait(self.threshold):
            node = self.node
            p = node.current
            step = node.steps
            if p is not None and step == last_step and warned != step:
                warned = step
                fn = p.initial_call
                fname = getattr(fn, "__qualname__", repr(fn))
                logger.warning(
                    "Process %r (%s) has run for more than %.3g s without awaiting; "
                    "it blocks every other process. Await something (receive, "
                    "Process.sleep, asyncio.sleep(0)) or move the work to a thread "
                    "with asyncio.to_thread",
                    p.pid,
                    fname,
                    self.threshold,
                    extra={"tether_pid": p.pid},
                )
            last_step = step if p is not None else -1

    def close(self) -> None:
        self.stop.set()


def current_frames(p: Process) -> list[types.FrameType]:
    """Frames of a process, innermost first, without the runtime's own frames."""
    frames: list[types.FrameType] = []
    if NODE.current is p:
        f = sys._getframe(1)
        while f is not None:
            if f.f_code is Node.step.__code__:
                break
            frames.append(f)
            f = f.f_back  # type: ignore[assignment]
    else:
        c: Any = p.coro
        outer: list[types.FrameType] = []
        while c is not None:
            fr = getattr(c, "cr_frame", None) or getattr(c, "gi_frame", None)
            if fr is None:
                break
            outer.append(fr)
            c = getattr(c, "cr_await", None) or getattr(c, "gi_yieldfrom", None)
        frames = outer[::-1]
    return [f for f in frames if not f.f_globals.get("__name__", "").startswith("tether._runtime")]
