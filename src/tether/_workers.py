"""CPU workers: a supervised pool of OS processes for CPU-bound pure functions.

Design
------
One node runs Python on one core.  ``CpuPool`` runs functions in worker OS
processes on the standard machinery: each worker is a
``concurrent.futures.ProcessPoolExecutor`` of one process (pickled calls,
results and exceptions with their remote traceback, all the library's), owned
by a *slot*, a process of the node that submits a job, awaits its future and
reports the outcome.  The pool is a ``GenServer`` that traps exits, links its
slots, hands jobs to idle slots in order, and supervises:

* it monitors the caller of each running job: the caller's death kills the
  job's OS worker (SIGKILL; nothing else stops a running function), and so
  does the job's ``timeout``;
* a slot whose OS worker died (killed, or a job that crashed the interpreter)
  exits, and the pool starts a fresh one in its place;
* the pool's own exit (a supervisor stopping it) takes the slots, and with
  them their OS workers, down (each slot kills its worker on the way out).

Rejected: one ``ProcessPoolExecutor`` with N processes (killing one of its
processes breaks the whole executor, and every caller's job with it, and it
has no way to kill the process running a given job); ``multiprocessing.Pool``
(a killed worker's task is never answered); a home-made pipe protocol.

Results come back as in ``Task``: ``run`` returns the function's value or
raises its exception in the caller; ``async_`` is a ``Task`` running ``run``
(``Task.await_`` and friends apply, and a kill of that task kills the OS
worker); ``async_stream`` is ``Task.async_stream`` over the pool.

Worker processes start with the ``forkserver`` method where there is one (a
clean interpreter forked from a server that never ran the node's threads),
else ``spawn``: functions and arguments must be picklable, functions
importable by name (module-level).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import signal
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from ._behaviours.gen_server import GenServer, NoReply, Ok, Reply
from ._behaviours.task import Task, TaskStream
from ._runtime._api import Process, exit, make_ref, receive, send, spawn_link
from ._runtime._api import self as self_pid
from ._runtime._types import ANY, Atom, Down, Exit, ExitSignal, Pid, Ref, TimerRef
from ._runtime._validate import check_int, check_timeout

if TYPE_CHECKING:
    from concurrent.futures.process import BrokenProcessPool

__all__ = ["CpuPool"]

OK: Final = Atom("ok")
TIMEOUT: Final = Atom("timeout")
_READY: Final = "$cpu_ready"
_JOB: Final = "$cpu_job"
_DONE: Final = "$cpu_done"
_EXPIRED: Final = "$cpu_expired"
_RAISE: Final = "raise"
_VALUE: Final = "value"
WORKER_EXITED: Final = Atom("cpu_worker_exited")
WORKER_START_FAILED: Final = Atom("cpu_worker_start_failed")


def _context() -> Any:
    import multiprocessing  # here: ``import tether`` does not pay for it

    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


async def _slot(pool: Pid) -> None:
    """One OS worker: submit each job to it, await the future, report to the pool."""
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    executor = ProcessPoolExecutor(max_workers=1, mp_context=_context())
    os_pid: int | None = None
    try:
        # The first submit starts the OS process (and, the first time of all,
        # the fork server): blocking work, done off the loop's thread.
        first = await asyncio.to_thread(executor.submit, os.getpid)
        os_pid = await asyncio.wrap_future(first)
        send(pool, (_READY, self_pid(), os_pid))
        while True:
            _, ref, from_, fun, args = await receive((_JOB, ANY, ANY, ANY, ANY))
            try:
                value = await asyncio.wrap_future(executor.submit(fun, *args))
            except (asyncio.CancelledError, ExitSignal, GeneratorExit):
                raise  # this slot was killed while it waited
            except BrokenProcessPool:
                # Its OS worker is gone (the pool killed it, or the job took the
                # interpreter down): the pool answers the job when this slot
                # exits, and puts a fresh one in its place.
                exit((WORKER_EXITED, os_pid))
            except BaseException as e:  # the job raised: it comes back as it is
                outcome: tuple[str, Any] = (_RAISE, e)
            else:
                outcome = (_VALUE, value)
            # The answer goes straight to the caller (one hop less); if the pool
            # answered first (a timeout), the caller's call is over and this
            # reply is dropped (its alias is gone, M-16).
            GenServer.reply(from_, outcome)
            send(pool, (_DONE, self_pid(), ref))
    finally:
        if os_pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(os_pid, signal.SIGKILL)  # stateless: no need to ask nicely
        executor.shutdown(wait=False, cancel_futures=True)


@dataclass
class _Job:
    ref: Ref
    from_: tuple[Pid, Ref]
    fun: Callable[..., Any]
    args: tuple[Any, ...]
    timeout: float | None
    monitor: Ref | None = None
    timer: TimerRef | None = None
    slot: Pid | None = None


@dataclass
class _PoolState:
    size: int
    slots: dict[Pid, int | None] = field(default_factory=dict)  # slot -> OS pid once ready
    idle: deque[Pid] = field(default_factory=deque)
    queue: deque[_Job] = field(default_factory=deque)
    running: dict[Ref, _Job] = field(default_factory=dict)
    by_monitor: dict[Ref, _Job] = field(default_factory=dict)
    killed: set[Pid] = field(default_factory=set)  # slots whose worker the pool killed
    replaced: int = 0


class _Pool(GenServer):
    """The pool's server (see the module notes)."""

    def init(self, size: int, /) -> Any:
        Process.flag("trap_exit", True)
        st = _PoolState(size)
        for _ in range(size):
            st.slots[spawn_link(_slot, self_pid())] = None
        return Ok(st)

    def handle_call(self, request: Any, from_: Any, st: _PoolState, /) -> Any:
        if request == "info":
            live = [p for s, p in st.slots.items() if p is not None and s not in st.killed]
            return Reply(
                {
                    "size": st.size,
                    "ready": len(live),
                    "busy": len(st.running),
                    "waiting": len(st.queue),
                    "os_pids": sorted(live),
                    "replaced": st.replaced,
                },
                st,
            )
        _, fun, args, timeout = request
        job = _Job(make_ref(), from_, fun, args, timeout)
        job.monitor = Process.monitor(from_[0])
        st.by_monitor[job.monitor] = job
        if timeout is not None:
            job.timer = Process.send_after(self_pid(), (_EXPIRED, job.ref), timeout)
        st.queue.append(job)
        self._dispatch(st)
        return NoReply(st)

    def handle_info(self, msg: Any, st: _PoolState, /) -> Any:
        if type(msg) is tuple and msg and msg[0] == _DONE:
            _, slot, ref = msg
            job = st.running.pop(ref, None)
            if job is not None:
                self._forget(st, job)
            if slot in st.slots and slot not in st.idle and not self._slot_busy(st, slot):
                st.idle.append(slot)
            self._dispatch(st)
        elif type(msg) is tuple and msg and msg[0] == _READY:
            _, slot, os_pid = msg
            if slot in st.slots:
                st.slots[slot] = os_pid
                st.idle.append(slot)
                self._dispatch(st)
        elif type(msg) is tuple and msg and msg[0] == _EXPIRED:
            job = st.running.get(msg[1])
            if job is not None:
                self._kill_worker(st, job)  # a timeout kills the OS worker for real
                st.running.pop(job.ref, None)
                self._forget(st, job)
                GenServer.reply(job.from_, (TIMEOUT, None))
            else:
                self._drop_queued(st, lambda j: j.ref == msg[1], (TIMEOUT, None))
        elif isinstance(msg, Down):
            job = st.by_monitor.get(msg.ref)
            if job is not None:
                # The caller is gone: its job is of no use to anyone.
                if job.ref in st.running:
                    self._kill_worker(st, job)
                    st.running.pop(job.ref, None)
                    self._forget(st, job)
                else:
                    self._drop_queued(st, lambda j: j is job, None)
        elif isinstance(msg, Exit):
            if msg.pid in st.slots and st.slots[msg.pid] is None:
                # A slot that never got its worker running: starting workers
                # fails (an unpicklable main module, no resources); replacing it
                # would fail again, as fast as it can.  The pool stops instead.
                exit((WORKER_START_FAILED, msg.reason))
            if msg.pid in st.slots:
                # A slot ended (its OS worker was killed, or died): replace it.
                del st.slots[msg.pid]
                st.killed.discard(msg.pid)
                with contextlib.suppress(ValueError):
                    st.idle.remove(msg.pid)
                for job in [j for j in st.running.values() if j.slot == msg.pid]:
                    st.running.pop(job.ref, None)
                    self._forget(st, job)
                    GenServer.reply(job.from_, (_RAISE, _worker_gone(msg.reason)))
                st.slots[spawn_link(_slot, self_pid())] = None
                st.replaced += 1
            elif msg.reason != "normal":
                exit(msg.reason)  # a linked stranger's crash (the parent's is GenServer's)
        return NoReply(st)

    def terminate(self, reason: Any, st: _PoolState, /) -> None:
        for slot in st.slots:
            Process.exit(slot, "kill")  # each slot's unwinding kills its OS worker

    # -- helpers ----------------------------------------------------------------

    @staticmethod
    def _slot_busy(st: _PoolState, slot: Pid) -> bool:
        return any(j.slot == slot for j in st.running.values())

    @staticmethod
    def _dispatch(st: _PoolState) -> None:
        while st.idle and st.queue:
            slot = st.idle.popleft()
            job = st.queue.popleft()
            job.slot = slot
            st.running[job.ref] = job
            send(slot, (_JOB, job.ref, job.from_, job.fun, job.args))

    @staticmethod
    def _forget(st: _PoolState, job: _Job) -> None:
        if job.monitor is not None:
            Process.demonitor(job.monitor, flush=True)
            st.by_monitor.pop(job.monitor, None)
        if job.timer is not None:
            Process.cancel_timer(job.timer)

    @staticmethod
    def _kill_worker(st: _PoolState, job: _Job) -> None:
        os_pid = st.slots.get(job.slot) if job.slot is not None else None
        if os_pid is not None and job.slot is not None:
            st.killed.add(job.slot)  # its slot exits when it sees the worker gone
            with contextlib.suppress(ProcessLookupError):
                os.kill(os_pid, signal.SIGKILL)

    def _drop_queued(self, st: _PoolState, which: Callable[[_Job], bool], answer: Any) -> None:
        for job in [j for j in st.queue if which(j)]:
            st.queue.remove(job)
            self._forget(st, job)
            if answer is not None:
                GenServer.reply(job.from_, answer)


def _worker_gone(reason: Any) -> BrokenProcessPool:
    from concurrent.futures.process import BrokenProcessPool

    return BrokenProcessPool(f"the CPU worker running the job exited ({reason!r})")


def _check_fun(fun: Any, what: str) -> None:
    if not callable(fun):
        raise TypeError(f"{what}: fun must be a picklable plain function, got {fun!r}")
    if inspect.iscoroutinefunction(fun):
        raise TypeError(
            f"{what}: {fun!r} is an async function; a CPU worker runs a plain function "
            "(in another OS process)"
        )


class CpuPool:
    """A supervised pool of worker OS processes for CPU-bound functions.

    ``CpuPool.start_link(size)`` starts the pool (a server owning ``size``
    worker processes, ``os.cpu_count()`` by default); :meth:`run` runs a
    function in one of them and returns its value (or raises its exception)
    in the caller; :meth:`async_` and :meth:`async_stream` are ``Task``'s, over
    the pool.  A caller that dies, or a job past its ``timeout``, has its OS
    worker killed for real, and the pool starts a fresh one.  Functions and
    arguments travel by pickle: functions must be importable by name.
    See ``docs/blocking.md``.
    """

    def __init__(self) -> None:
        raise TypeError("CpuPool is a namespace of functions; it has no instances")

    @staticmethod
    async def start_link(size: int | None = None, *, name: Any = None) -> Any:
        """Start a pool of ``size`` worker processes linked to the caller.

        Returns ``("ok", pid)`` as ``GenServer.start_link`` does.  The workers
        start in the background; jobs wait for the first one ready.

        Raises:
            ValueError: ``size`` below 1.
        """
        n = (os.cpu_count() or 1) if size is None else size
        check_int(n, "CpuPool.start_link", "size", 1)
        return await _Pool.start_link(n, name=name)

    @staticmethod
    def child_spec(size: int | None = None, *, name: Any = None, id: Any = None) -> dict[str, Any]:
        """A supervisor child spec for a pool: ``start`` is :meth:`start_link`."""
        if size is not None:
            check_int(size, "CpuPool.child_spec", "size", 1)

        async def start() -> Any:
            return await CpuPool.start_link(size, name=name)

        return {
            "id": CpuPool if id is None else id,
            "start": (start, ()),
            "restart": "permanent",
            "shutdown": 5,
            "type": "worker",
        }

    @staticmethod
    async def run(
        pool: Any, fun: Callable[..., Any], *args: Any, timeout: float | None = None
    ) -> Any:
        """Run ``fun(*args)`` in a worker process of ``pool``; return its value.

        Waits for a free worker first (jobs are served in order).  The
        function's exception is raised here (with the worker's traceback as
        its ``__cause__``, as ``concurrent.futures`` gives it).  If the caller
        dies meanwhile, the worker running its job is killed.

        Args:
            timeout: seconds from this call until the result (``None``: no
                limit).  Past it the worker is killed (and replaced) and the
                caller exits with ``("timeout", ("CpuPool.run", pool,
                timeout))``, as ``Task.await_`` does.

        Raises:
            concurrent.futures.process.BrokenProcessPool: the worker died
                during the job (the job took the interpreter down).
            TypeError: ``fun`` is not a plain function; a bad ``timeout``.
        """
        what = "CpuPool.run"
        _check_fun(fun, what)
        t = check_timeout(timeout, what)
        kind, value = await GenServer.call(pool, ("run", fun, args, t), None)
        if kind == _VALUE:
            return value
        if kind == TIMEOUT:
            exit((TIMEOUT, ("CpuPool.run", pool, timeout)))
        raise value

    @staticmethod
    def async_(pool: Any, fun: Callable[..., Any], *args: Any) -> Task:
        """:meth:`run` in a ``Task`` (``Task.async_``): await it with ``Task.await_``.

        The task is linked to the caller: the job's exception crashes it and,
        through the link, a caller that does not trap exits (T-4).  Shutting
        the task down (or its timing out in ``Task.await_`` and the caller's
        exit) kills the worker.
        """
        _check_fun(fun, "CpuPool.async_")
        return Task.async_(_run_in_task, pool, fun, args)

    @staticmethod
    def async_stream(
        pool: Any,
        fun: Callable[..., Any],
        enumerable: Any,
        *,
        max_concurrency: int | None = None,
        ordered: bool = True,
        timeout: float | None = 5,
        on_timeout: str = "exit",
    ) -> TaskStream:
        """``fun(item)`` for each item, in the pool: ``Task.async_stream`` over it.

        Yields ``("ok", value)`` (or ``("exit", reason)`` for a job that died,
        when the caller traps exits), in input order unless ``ordered=False``.
        ``max_concurrency`` defaults to the pool's size (pass the size you
        started it with); ``timeout`` and ``on_timeout`` are
        ``Task.async_stream``'s: ``"kill_task"`` kills the job's task, and so
        its worker.
        """
        _check_fun(fun, "CpuPool.async_stream")
        return Task.async_stream(
            enumerable,
            _run_item,
            pool,
            fun,
            max_concurrency=max_concurrency,
            ordered=ordered,
            timeout=timeout,
            on_timeout=on_timeout,
        )

    @staticmethod
    async def info(pool: Any) -> dict[str, Any]:
        """The pool now: ``size``, ``ready`` (workers started), ``busy``,
        ``waiting`` (jobs queued), ``os_pids`` of its workers, ``replaced``
        (workers started in place of dead ones)."""
        info: dict[str, Any] = await GenServer.call(pool, "info")
        return info

    @staticmethod
    async def stop(pool: Any) -> Any:
        """Stop the pool (``GenServer.stop`` with ``"normal"``, so a linked caller
        lives on); its worker processes are killed."""
        return await GenServer.stop(pool)


async def _run_in_task(pool: Any, fun: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    return await CpuPool.run(pool, fun, *args)


async def _run_item(item: Any, pool: Any, fun: Callable[..., Any]) -> Any:
    return await CpuPool.run(pool, fun, item)
