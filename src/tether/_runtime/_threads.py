"""Thread workers: processes whose body is a plain function run on a thread.

Design
------
A thread worker is an ordinary process of the node (a record in the table, a
Pid, a mailbox; linkable, monitorable, supervisable) whose coroutine, the
*proxy* (``_proxy``), runs on the event loop and stands in for a plain
function running on a thread of a bounded pool.  The runtime stays
single-threaded: the worker's thread never touches the node's tables.  Each of
its runtime calls (``ThreadWorker.receive``, ``send``, ``call``) is an *op*
handed to the loop (``loop.call_soon_threadsafe``), carried out by the proxy
as the worker process (so ``receive`` takes from the worker's own mailbox,
selective receive and timeouts included, and a ``send`` has the worker as its
sender), and answered through a ``_Slot``: a lock the thread blocks on and the
loop releases.  The loop thread never blocks on anything a worker holds.

Death is the runtime's as for any process: an exit signal that ends a worker
makes it dead for everyone at once (links and monitors fire, a supervisor
restarts it).  Its thread is then stopped as far as Python allows
(``_Worker.kill_thread``): ``PyThreadState_SetAsyncExc`` raises ``_WorkerExit``
(an ``ExitSignal``) in the thread at its next bytecode, and a runtime call it
is blocked in is released with the same exit.  What cannot be interrupted: a
call into C that does not return (``time.sleep``, a blocking socket read, a
lock, a C extension's long computation) — the exception comes when it
returns — and code that catches ``BaseException`` and goes on.  Such a thread
is *abandoned*: it keeps its place in the pool (an OS thread is an OS thread)
and is reported on the ``"tether"`` logger when it finally returns.

Races the design closes:

* A thread must never get an exit meant for the worker it ran before.  The
  thread tells the loop it has finished (the ``_FINISH`` op) and waits for the
  acknowledgement before it goes back to the pool; the loop interrupts a
  thread only until it acknowledged, and an exit set just before is absorbed
  by a checkpoint on the thread's side of that handshake (``_finish``).
* A worker killed before its thread starts never runs: the thread checks
  ``dead`` after making itself known, and the loop, which sets ``dead`` before
  it looks for the thread, interrupts it if it was already known (one GIL
  orders the two).

The pool (``_Pool``) is bounded: at most ``max_threads`` OS threads (64 by
default), started on demand and ended after a minute idle; a worker that finds
every thread busy (or abandoned) waits for one, its process alive and its
mailbox filling meanwhile (logged once per full pool).  The threads are
daemon threads: a thread stuck in C never holds up the interpreter's exit.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Final

from . import _node as _n
from ._api import _cur, _node, receive
from ._api import send as _send
from ._format import describe_callable, inspect_reason
from ._types import KILLED, NORMAL, Atom, ExitSignal, Pid, ProcessExit, Ref
from ._validate import check_int, check_timeout

__all__ = ["ThreadWorker"]

logger: Final = logging.getLogger("tether")

OK: Final = Atom("ok")
MAX_THREADS: Final = 64  # the pool's default bound
IDLE_EXIT: Final = 60.0  # seconds an idle pool thread waits for work before it ends
REPORT_AFTER: Final = 1.0  # a thread returning later than this after its kill is reported

# Ops, from the thread to the proxy.
_RECEIVE: Final = "receive"
_CALL: Final = "call"
_CLOSED_POLL: Final = 0.1  # seconds between looks at a loop that may have closed
_FINISH: Final = "finish"

_WORKERS_KEY: Final = "tether.thread_workers"
_local = threading.local()


class _WorkerExit(ExitSignal):
    """Raised in a worker's thread when its process has died (by an exit signal).

    Raised by ``PyThreadState_SetAsyncExc``, which makes it without arguments:
    the reason is the dead worker's.
    """

    def __init__(self, reason: Any = None) -> None:
        if reason is None:
            w = getattr(_local, "worker", None)
            reason = w.reason if w is not None else KILLED
        super().__init__(reason)


class _Slot:
    """One answer from the loop to a blocked thread: ``lock`` starts held and the
    loop releases it once ``value`` or ``error`` (or ``dead``) is set."""

    __slots__ = ("acked", "dead", "error", "lock", "value")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.lock.acquire()
        self.value: Any = None
        self.error: BaseException | None = None
        self.dead = False
        self.acked = False

    def answer(self, value: Any = None, error: BaseException | None = None) -> None:
        if self.acked:
            return
        self.value = value
        self.error = error
        self.acked = True
        self.lock.release()

    def die(self) -> None:
        if not self.acked:
            self.dead = True
            self.acked = True
            self.lock.release()


def _checkpoint() -> None:
    """A Python call: a pending asynchronous exception is raised here (3.11
    checks for one on entering a function)."""


def _noop() -> None:
    """A callback that only wakes the loop."""


class _Worker:
    """A thread worker: its function, its process record and its thread."""

    def __init__(self, node: _n.Node, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self.node = node
        self.loop = node.loop
        self.fn = fn
        self.args = args
        self.pid: Pid | None = None
        self.rec: _n.Process | None = None
        self.ops: deque[tuple[Any, ...]] = deque()
        self.waiter: Any = None  # the proxy's future while it waits for an op
        self.current: _Slot | None = None  # the op the proxy is carrying out
        self.ident: int | None = None  # the thread running it, once it runs
        self.dead = False
        self.reason: Any = None
        self.killed_at: float | None = None
        self.thread_done = False

    # -- the loop's side -----------------------------------------------------

    def post(self, op: tuple[Any, ...]) -> None:
        """An op from the thread (a loop callback)."""
        slot: _Slot = op[-1]
        if op[0] is _FINISH:
            self._finished(op[1], slot)
            return
        if self.dead:
            slot.die()
            return
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            # In flight from here: a kill before the proxy takes it must still
            # release the thread (process_ended answers ``current``).
            self.waiter = None
            self.current = slot
            waiter.set_result(op)
        else:
            self.ops.append(op)

    async def next_op(self) -> tuple[Any, ...]:
        """The next op; ``current`` is its slot (None for ``_FINISH``)."""
        if self.ops:
            op = self.ops.popleft()
        else:
            self.waiter = self.loop.create_future()
            op = await self.waiter
        self.current = op[-1] if op[0] is not _FINISH else None
        return op

    def _finished(self, outcome: tuple[Any, ...], slot: _Slot) -> None:
        """The function returned (or raised): from now on its thread is left alone."""
        self.thread_done = True
        _POOL.forget(self)
        if self.dead:
            if self.killed_at is not None:
                late = time.monotonic() - self.killed_at
                if late > REPORT_AFTER:
                    logger.warning(
                        "Thread worker %r (%s) was killed (%s) %.1f s before its thread "
                        "returned: the thread was in a call that cannot be interrupted "
                        "(a C call such as time.sleep or a socket read) or ignored the exit",
                        self.pid,
                        describe_callable(self.fn),
                        inspect_reason(self.reason),
                        late,
                        extra={"tether_pid": self.pid},
                    )
            slot.answer()
            return
        self.ops.append((_FINISH, outcome))
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            self.waiter = None
            waiter.set_result(self.ops.popleft())
        slot.answer()

    def process_ended(self, reason: Any) -> None:
        """The worker's process is dead: stop its thread (idempotent)."""
        if self.dead:
            return
        self.dead = True
        self.reason = reason
        workers = self.node.ext.get(_WORKERS_KEY)
        if workers is not None:
            workers.discard(self)
        if self.waiter is not None and not self.waiter.done():
            self.waiter.cancel()
        self.waiter = None
        if self.thread_done:
            return
        self.killed_at = time.monotonic()
        ident = self.ident
        if ident is not None:
            _POOL.abandon(self)
            ctypes.pythonapi.PyThreadState_SetAsyncExc(
                ctypes.c_ulong(ident), ctypes.py_object(_WorkerExit)
            )
        if self.current is not None:
            self.current.die()
            self.current = None
        while self.ops:
            op = self.ops.popleft()
            if op[0] is not _FINISH:
                op[-1].die()

    # -- the thread's side ---------------------------------------------------

    def run(self) -> None:
        """Run the function on this (pool) thread; never raises.

        The loop raises at most one exit in a worker's thread (``process_ended``
        is idempotent), so one handler at each seam absorbs it wherever it lands.
        """
        _local.worker = self
        thread = threading.current_thread()
        name = thread.name
        outcome: tuple[Any, ...] = ("killed",)
        try:
            self.ident = threading.get_ident()
            try:
                if not self.dead:  # else killed before it started: it never runs
                    thread.name = f"tether-worker {self.pid!r}"
                    outcome = ("ok", self.fn(*self.args))
            except _WorkerExit:
                outcome = ("killed",)
            except ProcessExit as e:
                outcome = ("exit", e.reason)
            except BaseException as e:
                outcome = ("raised", e)
        except _WorkerExit:
            outcome = ("killed",)  # the exit landed between two handlers
        try:
            self._finish(outcome)
        finally:
            _local.worker = None
            thread.name = name

    def _finish(self, outcome: tuple[Any, ...]) -> None:
        """Hand the outcome to the loop and wait until it is taken (from then on
        the loop leaves this thread alone); an exit raised meanwhile is absorbed."""
        slot = _Slot()
        posted = False
        while True:
            try:
                if not posted:
                    self.loop.call_soon_threadsafe(self.post, (_FINISH, outcome, slot))
                    posted = True
                if not slot.acked:
                    self._wait(slot)
                _checkpoint()
                return
            except _WorkerExit:
                if posted:  # it may have cut the loop's wake-up short
                    with contextlib.suppress(RuntimeError):
                        self.loop.call_soon_threadsafe(_noop)
            except RuntimeError:  # the loop is closed: nobody is left to tell
                return

    def _wait(self, slot: _Slot) -> bool:
        """Block until the loop answers ``slot``; False if the loop closed first.

        A callback posted just before the node stops and its loop closes is
        never run, so nobody would answer: the thread looks at the loop between
        waits (every 0.1 s, only while blocked) instead of waiting forever.
        """
        while not slot.lock.acquire(timeout=_CLOSED_POLL):
            if self.loop.is_closed():
                return False
        return True

    def op(self, kind: str, *args: Any) -> Any:
        """Carry out a runtime call on the loop, as this worker; block for the answer."""
        if self.dead:
            raise _WorkerExit(self.reason)
        slot = _Slot()
        try:
            self.loop.call_soon_threadsafe(self.post, (kind, *args, slot))
        except RuntimeError:  # the loop is closed: the node has stopped
            self.dead = True
            self.reason = KILLED
            raise _WorkerExit(KILLED) from None
        if not self._wait(slot):  # the node stopped with the op unread
            self.dead = True
            self.reason = KILLED
            raise _WorkerExit(KILLED)
        _checkpoint()
        if slot.dead:
            raise _WorkerExit(self.reason)
        if slot.error is not None:
            raise slot.error
        return slot.value


async def _proxy(w: _Worker) -> None:
    """The worker's process on the loop: carries out its thread's ops."""
    try:
        while True:
            op = await w.next_op()
            kind = op[0]
            if kind is _FINISH:
                outcome = op[1]
                if outcome[0] == "ok":
                    return
                if outcome[0] == "exit":
                    raise ProcessExit(outcome[1])
                if outcome[0] == "raised":
                    raise outcome[1]  # the worker crashes with its thread's exception
                return  # pragma: no cover - "killed" comes only for a dead worker
            slot: _Slot = op[-1]
            try:
                if kind is _RECEIVE:
                    value = await receive(*op[1], timeout=op[2])
                else:
                    value = op[1](*op[2])
                    if hasattr(value, "__await__"):
                        value = await value
            except (ExitSignal, GeneratorExit):
                raise  # the worker itself was killed meanwhile
            except BaseException as e:
                if w.rec is not None and w.rec.state == _n.DEAD:
                    raise  # killed while awaiting (a CancelledError): unwind
                if w.current is slot:
                    w.current = None
                    slot.answer(error=e)
                continue
            if w.current is slot:
                w.current = None
                slot.answer(value)
    finally:
        rec = w.rec
        w.process_ended(rec.reason if rec is not None and rec.state == _n.DEAD else NORMAL)


class _Pool:
    """The bounded pool of threads that run thread workers (one per OS process)."""

    def __init__(self, max_threads: int) -> None:
        self.cond = threading.Condition(threading.Lock())
        self.jobs: deque[_Worker] = deque()
        self.max_threads = max_threads
        self.threads = 0
        self.idle = 0
        self.running: set[_Worker] = set()
        self.abandoned: set[_Worker] = set()
        self.warned_full = False

    def submit(self, w: _Worker) -> None:
        with self.cond:
            self.jobs.append(w)
            if self.idle > len(self.jobs) - 1:
                self.cond.notify()
            elif self.threads < self.max_threads:
                self.threads += 1
                threading.Thread(target=self._main, name="tether-worker", daemon=True).start()
            elif not self.warned_full:
                self.warned_full = True
                logger.warning(
                    "Thread workers: all %d threads of the pool are busy (%d of them "
                    "abandoned after a kill); %r waits for a thread",
                    self.max_threads,
                    len(self.abandoned),
                    w.pid,
                )

    def _main(self) -> None:
        while True:
            with self.cond:
                while not self.jobs:
                    self.idle += 1
                    woke = self.cond.wait(IDLE_EXIT)
                    self.idle -= 1
                    if not woke and not self.jobs:
                        self.threads -= 1
                        return
                w = self.jobs.popleft()
                self.running.add(w)
            w.run()
            with self.cond:
                self.running.discard(w)
                self.abandoned.discard(w)
                if not self.jobs:
                    self.warned_full = False
                if self.threads > self.max_threads:  # the bound was lowered
                    self.threads -= 1
                    return

    def abandon(self, w: _Worker) -> None:
        with self.cond:
            if w in self.running:
                self.abandoned.add(w)

    def forget(self, w: _Worker) -> None:
        with self.cond:
            self.abandoned.discard(w)

    def info(self) -> dict[str, int]:
        with self.cond:
            return {
                "max_threads": self.max_threads,
                "threads": self.threads,
                "busy": len(self.running),
                "abandoned": len(self.abandoned),
                "waiting": len(self.jobs),
            }


_POOL: Final = _Pool(MAX_THREADS)


def _current_worker(what: str) -> _Worker:
    w: _Worker | None = getattr(_local, "worker", None)
    if w is None:
        raise RuntimeError(
            f"{what} must be called from a thread worker's own thread (a function "
            "started with ThreadWorker.spawn); in a process, use tether's own function"
        )
    return w


def _spawn(fn: Any, args: tuple[Any, ...], what: str, link: bool, monitor: bool) -> Any:
    p = _cur(what)
    if not callable(fn):
        raise TypeError(f"{what}: fun must be a plain function, got {fn!r}")
    if _n.is_async_callable(fn):
        raise TypeError(
            f"{what}: {fn!r} is an async function; a thread worker runs a plain "
            "function on a thread (start an async one with tether.spawn)"
        )
    node = _node()
    w = _Worker(node, fn, args)
    pid, ref = node.spawn(p, _proxy, (w,), link=link, monitor=monitor, what=what)
    rec = node.table.get(pid)
    if rec is not None:  # (a dying caller's spawn is dropped)
        w.pid = pid
        w.rec = rec
        rec.initial_call = fn
        rec.add_done_callback(lambda r: w.process_ended(r.reason))
        _workers(node).add(w)
        _POOL.submit(w)
    return pid, ref


def _workers(node: _n.Node) -> set[_Worker]:
    """The node's live workers; on first use, the shutdown hook that stops them."""
    workers: set[_Worker] | None = node.ext.get(_WORKERS_KEY)
    if workers is None:
        workers = node.ext[_WORKERS_KEY] = set()

        def stop_all(workers: set[_Worker] = workers) -> None:
            for w in list(workers):
                w.process_ended(KILLED)

        node.shutdown_hooks.append(stop_all)
    return workers


class ThreadWorker:
    """Processes whose body is a plain function run on a thread of a bounded pool.

    For blocking code (database drivers, ``requests``, inference libraries):
    the function blocks its own thread, never the node.  The worker is a
    process like any other: it has a pid and a mailbox, links, monitors, exits
    and can be a supervisor's child (:meth:`child_spec`).  Its function talks
    to the node with the thread-side calls (:meth:`receive`, :meth:`send`,
    :meth:`self`, :meth:`call`), not with ``tether.receive`` and friends, which
    belong to the event loop's thread.

    An exit signal that ends the worker makes it dead at once for everyone and
    raises an exit (an ``ExitSignal``) in its thread at the next bytecode; a
    thread inside a C call (``time.sleep``, a socket read) gets it when the
    call returns, and is reported then (see ``docs/blocking.md``).  The
    function's return ends the worker with ``"normal"``, an exception crashes
    it with that exception, ``ThreadWorker.exit(reason)`` (or
    ``tether.ProcessExit``) exits it with ``reason``.
    """

    def __init__(self) -> None:
        raise TypeError("ThreadWorker is a namespace of functions; it has no instances")

    # -- starting (from a process) ----------------------------------------------

    @staticmethod
    def spawn(fun: Callable[..., Any], *args: Any) -> Pid:
        """Start ``fun(*args)`` on a pool thread as a new process; return its pid.

        ``spawn/1`` for blocking code: the worker is not linked to the caller.
        If every thread of the pool is busy, the function starts when one is
        free (the process exists, and takes messages, meanwhile).

        Raises:
            TypeError: ``fun`` is not callable, or is an async function.
        """
        return _spawn(fun, args, "ThreadWorker.spawn", False, False)[0]  # type: ignore[no-any-return]

    @staticmethod
    def spawn_link(fun: Callable[..., Any], *args: Any) -> Pid:
        """Like :meth:`spawn`, linked to the caller atomically (``spawn_link/1``)."""
        return _spawn(fun, args, "ThreadWorker.spawn_link", True, False)[0]  # type: ignore[no-any-return]

    @staticmethod
    def spawn_monitor(fun: Callable[..., Any], *args: Any) -> tuple[Pid, Ref]:
        """Like :meth:`spawn`, monitored by the caller atomically (``spawn_monitor/1``)."""
        pid, ref = _spawn(fun, args, "ThreadWorker.spawn_monitor", False, True)
        return pid, ref

    @staticmethod
    def start_link(fun: Callable[..., Any], *args: Any) -> tuple[Atom, Pid]:
        """:meth:`spawn_link` returning ``("ok", pid)``: the ``start`` of :meth:`child_spec`."""
        return OK, _spawn(fun, args, "ThreadWorker.start_link", True, False)[0]

    @staticmethod
    def child_spec(
        fun: Callable[..., Any],
        *args: Any,
        id: Any = None,
        restart: str = "permanent",
        shutdown: Any = 5,
    ) -> dict[str, Any]:
        """A supervisor child spec for a thread worker running ``fun(*args)``.

        ``{"id": id or fun, "start": (ThreadWorker.start_link, (fun, *args)),
        "restart": restart, "shutdown": shutdown}``, as Elixir's
        ``child_spec/1`` would be for such a worker.

        Raises:
            TypeError: ``fun`` is not a plain function.
            ValueError: ``restart`` is not ``"permanent"``, ``"transient"`` or
                ``"temporary"``.
        """
        what = "ThreadWorker.child_spec"
        if not callable(fun) or _n.is_async_callable(fun):
            raise TypeError(f"{what}: fun must be a plain (not async) function, got {fun!r}")
        if restart not in ("permanent", "transient", "temporary"):
            raise ValueError(
                f"{what}: restart must be 'permanent', 'transient' or 'temporary', got {restart!r}"
            )
        return {
            "id": fun if id is None else id,
            "start": (ThreadWorker.start_link, (fun, *args)),
            "restart": restart,
            "shutdown": shutdown,
        }

    # -- the worker's own calls (from its thread) ----------------------------------

    @staticmethod
    def self() -> Pid:
        """The worker's pid (``self()`` on a worker's thread)."""
        w = _current_worker("ThreadWorker.self")
        assert w.pid is not None
        return w.pid

    @staticmethod
    def receive(*filters: Any, timeout: float | None = None) -> Any:
        """Block this thread for the next (matching) message of the worker's mailbox.

        ``tether.receive``, for the worker's thread: the same filters, the same
        ``timeout`` (``None``: forever, ``0``: poll).

        Raises:
            TimeoutError: no matching message arrived in time.
            tether.ExitSignal: the worker was killed while waiting.
        """
        w = _current_worker("ThreadWorker.receive")
        t = check_timeout(timeout, "ThreadWorker.receive")
        return w.op(_RECEIVE, filters, t)

    @staticmethod
    def send(dest: Any, msg: Any) -> Any:
        """``tether.send(dest, msg)`` from the worker; return ``msg``.

        Waits until the node has delivered it (microseconds), so an error (an
        unregistered name) is raised here.
        """
        w = _current_worker("ThreadWorker.send")
        return w.op(_CALL, _send, (dest, msg))

    @staticmethod
    def call(fun: Callable[..., Any], *args: Any) -> Any:
        """Run ``fun(*args)`` on the node as this worker, await it if it is
        awaitable, and return its result (or raise what it raised).

        The way to every other runtime call from a worker's thread:
        ``ThreadWorker.call(Process.flag, "trap_exit", True)``,
        ``ThreadWorker.call(GenServer.call, server, request)``.
        """
        w = _current_worker("ThreadWorker.call")
        if not callable(fun):
            raise TypeError(f"ThreadWorker.call: fun must be callable, got {fun!r}")
        return w.op(_CALL, fun, args)

    @staticmethod
    def exit(reason: Any) -> None:
        """End the worker with ``reason`` (``exit/1`` on a worker's thread)."""
        _current_worker("ThreadWorker.exit")
        raise ProcessExit(reason)

    # -- the pool ---------------------------------------------------------------

    @staticmethod
    def set_max_threads(n: int) -> int:
        """Bound the pool to ``n`` OS threads (default 64); return the old bound.

        Threads above a lowered bound end as they finish their workers.
        """
        check_int(n, "ThreadWorker.set_max_threads", "n", 1)
        with _POOL.cond:
            old = _POOL.max_threads
            _POOL.max_threads = n
            for _ in range(min(len(_POOL.jobs), n - _POOL.threads)):
                _POOL.threads += 1
                threading.Thread(target=_POOL._main, name="tether-worker", daemon=True).start()
            return old

    @staticmethod
    def pool_info() -> dict[str, int]:
        """The pool now: ``max_threads``, ``threads`` (started), ``busy`` (running a
        worker), ``abandoned`` (busy with a killed worker: stuck in C),
        ``waiting`` (workers waiting for a thread)."""
        return _POOL.info()
