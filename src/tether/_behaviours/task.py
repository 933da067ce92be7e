"""Task and TaskSupervisor: run functions in processes and collect their results
(T-1 … T-8, LOG-4).

Python spells Elixir's ``Task.async``/``Task.await``/``Task.yield``
``Task.async_``/``Task.await_``/``Task.yield_`` (the first two are keywords), as
PEP 8 suggests for names that clash with keywords.  Times are seconds; ``None``
means forever (Elixir's ``:infinity``).

Design
------
``async_`` spawns the task linked to the owner and monitors it with
``alias=True`` (M-16): the task sends ``(ref, result)`` to that ref, so the reply
and the DOWN share one ref, as ``%Task{ref: ref}`` does in Elixir.  A reply that
arrives after the owner gave up (``await_`` timed out, ``shutdown``, ``ignore``)
is dropped by the runtime because the monitor, and so the alias, is gone.  The
ref only exists once the task does, so the task's first act is to wait for it
(``("$task_ref", ref)``); a supervised task, which is not linked to its owner,
monitors the owner meanwhile and exits ``("shutdown", reason)`` if the owner dies
first (Elixir's ``Task.Supervised.reply/2``).

A task puts ``$callers`` (the owner, then the owner's callers), ``$ancestors``
(its parent, then the parent's ancestors: proc_lib's rule) and ``$initial_call``
in its dictionary, as Elixir's tasks do.

A task that raises logs ``Task #PID<…> started from #PID<…> terminating`` (LOG-4)
and then exits with the exception as its reason through ``exit``, so the plain
process report (LOG-1) is not written as well.

``async_stream`` follows ``Task.Supervised.stream``: a *coordinator* process,
linked to the consumer and trapping exits only if the consumer does, starts the
tasks (linked to itself, not to the consumer), times them out and turns their
replies and DOWNs into ``("ok", value)`` / ``("exit", reason)``.  One deliberate
difference: Elixir's coordinator pushes results into the consumer's mailbox as
they come, while tether's holds them and answers one request per element
(``anext``).  So a stream that is abandoned half-way (``break`` without
``aclose``) never leaves messages in its consumer's mailbox, and the number of
tasks running plus results waiting is never more than ``max_concurrency`` —
Elixir, when ordered, keeps starting tasks behind a slow one and buffers their
results without bound.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from dataclasses import dataclass
from typing import Any, Final

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
from tether._runtime._format import crash_head, describe_callable, inspect
from tether._runtime._types import ANY, Atom, Down, Exit, Pid, ProcessExit, Ref, TimerRef
from tether._runtime._validate import (
    check_async_fun,
    check_bool,
    check_int,
    check_pid,
    check_timeout,
)

from .dynamic_supervisor import DynamicSupervisor
from .gen_server import _is_quiet

__all__ = ["Task", "TaskStream", "TaskSupervisor"]

logger: Final = logging.getLogger("tether")
OK: Final = Atom("ok")
EXIT: Final = Atom("exit")
ERROR: Final = Atom("error")
NORMAL: Final = Atom("normal")
SHUTDOWN: Final = Atom("shutdown")
KILLED: Final = Atom("killed")
NOPROC: Final = Atom("noproc")
TIMEOUT: Final = Atom("timeout")
NODEDOWN: Final = Atom("nodedown")
NOCONNECTION: Final = Atom("noconnection")
MAX_CHILDREN: Final = Atom("max_children")

_TASK_REF: Final = "$task_ref"
_NEXT: Final = "$stream_next"
_STOP: Final = "$stream_stop"
_TIMED_OUT: Final = "$stream_timeout"

_MAX_CHILDREN_MSG: Final = (
    "reached the maximum number of tasks for this task supervisor. The maximum number "
    "of tasks that are allowed to run at the same time under this supervisor can be "
    "configured with the max_children option passed to TaskSupervisor.start_link"
)
_MAX_CHILDREN_STREAM_MSG: Final = _MAX_CHILDREN_MSG + (
    ". When using async_stream or async_stream_nolink, make sure to configure "
    "max_concurrency to be lower or equal to max_children and pay attention to whether "
    "other tasks are also spawned under the same task supervisor."
)


@dataclass(frozen=True)
class Task:
    """A running task: Elixir's ``%Task{pid, ref, owner, mfa}``, and the ``Task`` module.

    Made by :meth:`async_` (or :meth:`completed`, ``TaskSupervisor.async_``); its
    result arrives as ``(ref, result)`` followed by ``Down(ref, :process, pid,
    :normal)``.  Only ``owner`` may await, yield, ignore or shut it down (T-5).
    ``pid`` is ``None`` for a :meth:`completed` task.  ``mfa`` is ``(module,
    qualname, arity)`` of the function the task runs.
    """

    pid: Pid | None
    ref: Ref
    owner: Pid | None
    mfa: tuple[Any, Any, int]

    # -- starting ----------------------------------------------------------

    @staticmethod
    def async_(fun: Callable[..., Coroutine[Any, Any, Any]], *args: Any) -> Task:
        """Start ``await fun(*args)`` linked to and monitored by the caller (T-1).

        Elixir's ``Task.async/1,3``.  Collect the result with :meth:`await_` (or
        :meth:`yield_`, :meth:`await_many`, :meth:`yield_many`).  A crash of the task
        kills a caller that does not trap exits (T-4).

        Raises:
            TypeError: ``fun`` is not an async function (nothing is spawned).
        """
        check_async_fun(fun, "Task.async_")
        owner = self()
        pid = spawn_link(_task_main, owner, _callers(owner), _ancestors(), fun, args, True, None)
        ref = Process.monitor(pid, alias=True)
        send(pid, (_TASK_REF, ref))
        return Task(pid, ref, owner, _mfa(fun, args))

    @staticmethod
    async def start_link(fun: Callable[..., Coroutine[Any, Any, Any]], *args: Any) -> Any:
        """Start a task linked to the caller whose result nobody awaits (T-7).

        Elixir's ``Task.start_link/1,3``: returns ``("ok", pid)``; no reply is sent.
        This is the ``start`` of :meth:`child_spec`, so ``(Task, fun)`` can stand in
        a supervisor's children.

        Raises:
            TypeError: ``fun`` is not an async function.
        """
        check_async_fun(fun, "Task.start_link")
        owner = self()
        pid = spawn_link(_task_main, owner, _callers(owner), _ancestors(), fun, args, False, None)
        return (OK, pid)

    @staticmethod
    async def start(fun: Callable[..., Coroutine[Any, Any, Any]], *args: Any) -> Any:
        """Start an unlinked task whose result nobody awaits (T-7).

        Elixir's ``Task.start/1,3``: returns ``("ok", pid)``.  Prefer
        ``TaskSupervisor.start_child``, which lets a supervisor shut it down.

        Raises:
            TypeError: ``fun`` is not an async function.
        """
        check_async_fun(fun, "Task.start")
        owner = self()
        pid = spawn(_task_main, owner, _callers(owner), _ancestors(), fun, args, False, None)
        return (OK, pid)

    @staticmethod
    def completed(result: Any) -> Task:
        """A task that has already finished with ``result``: Elixir's ``Task.completed/1``.

        No process is spawned (``pid`` is ``None``); the reply is put in the
        caller's mailbox, so it can be awaited or yielded like any task.
        """
        owner = self()
        ref = make_ref()
        send(owner, (ref, result))
        return Task(None, ref, owner, ("Task", "completed", 1))

    @staticmethod
    def child_spec(arg: Callable[..., Coroutine[Any, Any, Any]]) -> dict[str, Any]:
        """The child spec of a task that runs ``arg``: Elixir's ``Task.child_spec/1``.

        ``{"id": Task, "start": (Task.start_link, (arg,)), "restart":
        "temporary"}``; ``(Task, fun)`` in a children list stands for it.  Override
        fields with ``Supervisor.child_spec_of((Task, fun), id=..., restart=...)``.

        Raises:
            TypeError: ``arg`` is not an async function (give ``(Task, fun)``, or
                ``functools.partial(fun, *args)`` for arguments).
        """
        check_async_fun(arg, "Task.child_spec", "arg")
        return {"id": Task, "start": (Task.start_link, (arg,)), "restart": "temporary"}

    # -- collecting --------------------------------------------------------

    @staticmethod
    async def await_(task: Task, timeout: float | None = 5) -> Any:
        """Wait for the task's result and return it (T-2): Elixir's ``Task.await/2``.

        The monitor is removed and the mailbox left clean.  The caller exits with
        ``("timeout", ("Task.await", task, timeout))`` on timeout (T-3; the task
        keeps running, its late reply is dropped), or with ``(reason, ("Task.await",
        task, timeout))`` when the task dies first (T-4); a lost connection is
        ``("nodedown", node)`` (D-5).

        Raises:
            TypeError: ``task`` is not a :class:`Task`; ``timeout`` is not a number.
            ValueError: the caller is not the task's owner (T-5).
        """
        what = "Task.await_"
        _check_task(task, what)
        t = check_timeout(timeout, what)
        _check_owner(task, what)
        mfa = ("Task.await", task, timeout)
        try:
            msg = await receive((task.ref, ANY), Down(task.ref, ANY, ANY, ANY), timeout=t)
        except TimeoutError:
            Process.demonitor(task.ref, flush=True)
            exit((TIMEOUT, mfa))
        if isinstance(msg, Down):
            exit((_reason(msg), mfa))
        Process.demonitor(task.ref, flush=True)
        return msg[1]

    @staticmethod
    async def await_many(tasks: list[Task], timeout: float | None = 5) -> list[Any]:
        """Wait for every task; their results in the order of ``tasks`` (T-7).

        Elixir's ``Task.await_many/2``.  ``timeout`` bounds the whole wait.  As soon
        as any task dies the caller exits with ``(reason, ("Task.await_many", tasks,
        timeout))``; after ``timeout`` with ``("timeout", ("Task.await_many", tasks,
        timeout))``; either way every monitor is removed first.

        Raises:
            TypeError: ``tasks`` is not a list (or tuple) of :class:`Task`.
            ValueError: the caller does not own one of them (T-5).
        """
        what = "Task.await_many"
        todo = _check_tasks(tasks, what)
        t = check_timeout(timeout, what)
        for task in todo:
            _check_owner(task, what)
        mfa = ("Task.await_many", tasks, timeout)
        awaiting = {task.ref for task in todo}
        replies: dict[Ref, Any] = {}

        def wanted(m: Any) -> bool:
            if type(m) is tuple:
                return len(m) == 2 and isinstance(m[0], Ref) and m[0] in awaiting
            return isinstance(m, Down) and isinstance(m.ref, Ref) and m.ref in awaiting

        deadline = _deadline(t)
        while awaiting:
            try:
                msg = await receive(wanted, timeout=_left(deadline))
            except TimeoutError:
                _demonitor_all(awaiting)
                exit((TIMEOUT, mfa))
            if isinstance(msg, Down):
                _demonitor_all(awaiting)
                exit((_reason(msg), mfa))
            ref = msg[0]
            Process.demonitor(ref, flush=True)
            awaiting.discard(ref)
            replies[ref] = msg[1]
        return [replies[task.ref] for task in todo]

    @staticmethod
    async def yield_(task: Task, timeout: float | None = 5) -> Any:
        """``("ok", result)``, ``("exit", reason)``, or ``None`` on timeout (T-6).

        Elixir's ``Task.yield/2``.  On ``None`` the task keeps running and can be
        yielded again (or shut down, or ignored).  A lost connection exits the
        caller with ``(("nodedown", node), ("Task.yield", task, timeout))`` (D-5).

        Raises:
            TypeError: ``task`` is not a :class:`Task`; ``timeout`` is not a number.
            ValueError: the caller is not the task's owner (T-5).
        """
        what = "Task.yield_"
        _check_task(task, what)
        t = check_timeout(timeout, what)
        _check_owner(task, what)
        try:
            msg = await receive((task.ref, ANY), Down(task.ref, ANY, ANY, ANY), timeout=t)
        except TimeoutError:
            return None
        if isinstance(msg, Down):
            if msg.reason == NOCONNECTION:
                exit((_reason(msg), ("Task.yield", task, timeout)))
            return (EXIT, msg.reason)
        Process.demonitor(task.ref, flush=True)
        return (OK, msg[1])

    @staticmethod
    async def yield_many(tasks: list[Task], timeout: float | None = 5) -> list[tuple[Task, Any]]:
        """Yield to several tasks within one ``timeout``: Elixir's ``Task.yield_many/2``.

        Returns ``[(task, result)]`` in the order of ``tasks``, each result as
        :meth:`yield_` gives it (``None`` for a task still running when the time
        is up).  A lost connection exits the caller with ``(("nodedown", node),
        ("Task.yield_many", tasks, timeout))``.

        Raises:
            TypeError: ``tasks`` is not a list (or tuple) of :class:`Task`.
            ValueError: the caller does not own one of them (T-5).
        """
        what = "Task.yield_many"
        todo = _check_tasks(tasks, what)
        t = check_timeout(timeout, what)
        for task in todo:
            _check_owner(task, what)
        deadline = _deadline(t)
        out: list[tuple[Task, Any]] = []
        for task in todo:
            try:
                msg = await receive(
                    (task.ref, ANY), Down(task.ref, ANY, ANY, ANY), timeout=_left(deadline)
                )
            except TimeoutError:
                out.append((task, None))
                continue
            if isinstance(msg, Down):
                if msg.reason == NOCONNECTION:
                    exit((_reason(msg), ("Task.yield_many", tasks, timeout)))
                out.append((task, (EXIT, msg.reason)))
            else:
                Process.demonitor(task.ref, flush=True)
                out.append((task, (OK, msg[1])))
        return out

    @staticmethod
    async def ignore(task: Task) -> Any:
        """Let the task run on, unlinked and unmonitored: Elixir's ``Task.ignore/1``.

        Returns ``("ok", result)`` if the reply had already arrived, ``("exit",
        reason)`` if the task had already died, else ``None``.  Afterwards the task
        can no longer be awaited; its reply is dropped.  A lost connection exits
        the caller with ``(("nodedown", node), ("Task.ignore", task))``.

        Raises:
            TypeError: ``task`` is not a :class:`Task`.
            ValueError: the caller is not the task's owner (T-5).
        """
        what = "Task.ignore"
        _check_task(task, what)
        _check_owner(task, what)
        try:
            msg = await receive((task.ref, ANY), Down(task.ref, ANY, ANY, ANY), timeout=0)
        except TimeoutError:
            msg = None
        if isinstance(msg, Down):
            if msg.reason == NOCONNECTION:
                exit((_reason(msg), ("Task.ignore", task)))
            return (EXIT, msg.reason)
        if task.pid is not None:
            Process.unlink(task.pid)
        Process.demonitor(task.ref, flush=True)
        return None if msg is None else (OK, msg[1])

    @staticmethod
    async def shutdown(task: Task, timeout: float | str | None = 5) -> Any:
        """Unlink and stop the task, then check for a reply (T-6): Elixir's
        ``Task.shutdown/2``.

        ``timeout`` is the seconds to wait after the ``"shutdown"`` exit signal
        before killing (``None``: forever), or ``"brutal_kill"`` to kill at once.
        Returns ``("ok", reply)`` if the reply came in meanwhile; ``None`` if the
        task stopped as asked (with ``:shutdown``, or ``:killed`` for
        ``"brutal_kill"``); otherwise ``("exit", reason)`` — ``("exit", "killed")``
        when it had to be killed after ``timeout``, ``("exit", "noproc")`` when
        its DOWN had already been received.  A lost connection exits the caller
        with ``(("nodedown", node), ("Task.shutdown", task, timeout))``.

        Raises:
            TypeError: ``task`` is not a :class:`Task`; a bad ``timeout``.
            ValueError: the task has no process (:meth:`completed`), or the caller
                is not its owner (T-5).
        """
        what = "Task.shutdown"
        _check_task(task, what)
        brutal = timeout == "brutal_kill"
        t = None if brutal else _check_shutdown_timeout(timeout, what)
        if task.pid is None:
            raise ValueError(f"{what}: task {task!r} does not have an associated task process")
        _check_owner(task, what)
        pid = task.pid
        # A fresh monitor: the task's own may already be gone (its DOWN received),
        # and then this one says :noproc at once instead of leaving us waiting.
        mon = Process.monitor(pid)
        # Unlink first, so the task's death cannot reach us through the link.  Both
        # happen in this one step, with no yield between, so the caller cannot die
        # between them (the reason Elixir spawns an enforcer process).
        Process.unlink(pid)
        Process.exit(pid, "kill" if brutal else "shutdown")
        kind = "brutal_kill" if brutal else "shutdown"
        try:
            down = await receive(Down(mon, ANY, ANY, ANY), timeout=t)
        except TimeoutError:
            Process.exit(pid, "kill")
            kind = "timeout_kill"
            down = await receive(Down(mon, ANY, ANY, ANY))
        result = await _shutdown_result(task, down, kind)
        if type(result) is tuple and result[0] == "down":
            _, proc, reason = result
            if reason == NOCONNECTION:
                exit(((NODEDOWN, _node_of(proc)), ("Task.shutdown", task, timeout)))
            return (EXIT, reason)
        return result

    # -- streams -----------------------------------------------------------

    @staticmethod
    def async_stream(
        enumerable: Any,
        fun: Callable[..., Coroutine[Any, Any, Any]],
        *args: Any,
        max_concurrency: int | None = None,
        ordered: bool = True,
        timeout: float | None = 5,
        on_timeout: str = "exit",
        zip_input_on_exit: bool = False,
    ) -> TaskStream:
        """Run ``await fun(item, *args)`` for each item, concurrently: Elixir's
        ``Task.async_stream/3,5``.

        Returns a lazy :class:`TaskStream`; nothing starts until it is iterated
        with ``async for``, which yields ``("ok", value)`` for each task, or
        ``("exit", reason)`` for one that died while the caller traps exits (a
        non-trapping caller dies with it, as with :meth:`async_`).  ``enumerable``
        may be any iterable or async iterable, read only as tasks are started.

        Args:
            max_concurrency: tasks running plus results not yet taken, at most
                (default ``os.cpu_count()``: Elixir's ``System.schedulers_online``).
            ordered: results in input order (default) or as they finish.
            timeout: seconds each task may run (``None``: no limit).
            on_timeout: ``"exit"``: the caller exits ``("timeout",
                ("Task.Supervised.stream", timeout))``; ``"kill_task"``: the task is
                killed and yields ``("exit", "timeout")``.
            zip_input_on_exit: exits are ``("exit", (item, reason))``.

        Raises:
            TypeError, ValueError: a bad argument (checked here, before anything
                runs), e.g. ``max_concurrency`` below 1.
        """
        return TaskStream(
            "Task.async_stream",
            enumerable,
            fun,
            args,
            max_concurrency,
            ordered,
            timeout,
            on_timeout,
            zip_input_on_exit,
        )

    def __repr__(self) -> str:
        return f"Task(pid={self.pid!r}, ref={self.ref!r}, owner={self.owner!r})"


# -- helpers --------------------------------------------------------------------


def _mfa(fun: Any, args: tuple[Any, ...]) -> tuple[str, str, int]:
    return (
        getattr(fun, "__module__", "?") or "?",
        getattr(fun, "__qualname__", repr(fun)),
        len(args),
    )


def _callers(owner: Pid) -> list[Pid]:
    """``$callers`` for a task the caller starts: itself, then its own callers."""
    return [owner, *(Process.get("$callers") or [])]


def _ancestors() -> list[Any]:
    """proc_lib's ``$ancestors`` for a process the caller spawns: the caller (its
    registered name if it has one), then the caller's ancestors."""
    me = self()
    name = Process.info(me, "registered_name")
    return [name if name is not None else me, *(Process.get("$ancestors") or [])]


def _check_task(task: Any, what: str) -> None:
    if not isinstance(task, Task):
        raise TypeError(
            f"{what}: task must be a tether.Task (from Task.async_ or TaskSupervisor.async_), "
            f"got {task!r}"
        )


def _check_tasks(tasks: Any, what: str) -> list[Task]:
    if not isinstance(tasks, list | tuple):
        raise TypeError(f"{what}: tasks must be a list of tether.Task, got {tasks!r}")
    for task in tasks:
        _check_task(task, what)
    return list(tasks)


def _check_owner(task: Task, what: str) -> None:
    me = self()
    if task.owner != me:
        raise ValueError(
            f"{what}: task {task!r} must be queried from the owner but was queried from {me!r}"
        )


def _check_shutdown_timeout(value: Any, what: str) -> float | None:
    if isinstance(value, str):
        raise ValueError(
            f"{what}: timeout must be seconds, None (forever) or 'brutal_kill', got {value!r}"
        )
    return check_timeout(value, what)


def _node_of(proc: Any) -> Atom:
    """The node of a DOWN's object: a pid's node, or ``node`` of ``(name, node)``."""
    if isinstance(proc, Pid):
        return node() if proc.node is None else Atom(proc.node)
    if type(proc) is tuple and len(proc) == 2:
        return Atom(proc[1])
    return node()


def _reason(down: Down) -> Any:
    """A DOWN's reason as awaiting reports it: ``:noconnection`` becomes
    ``("nodedown", node)`` (D-5)."""
    if down.reason == NOCONNECTION:
        return (NODEDOWN, _node_of(down.pid))
    return down.reason


def _deadline(timeout: float | None) -> float | None:
    return None if timeout is None else asyncio.get_running_loop().time() + timeout


def _left(deadline: float | None) -> float | None:
    if deadline is None:
        return None
    return max(0.0, deadline - asyncio.get_running_loop().time())


def _demonitor_all(refs: set[Ref]) -> None:
    for ref in refs:
        Process.demonitor(ref, flush=True)


async def _poll(*filters: Any) -> Any:
    """The first queued message matching ``filters``, or ``None`` (``after 0``)."""
    try:
        return await receive(*filters, timeout=0)
    except TimeoutError:
        return None


async def _shutdown_result(task: Task, down: Down, kind: str) -> Any:
    """Elixir's ``shutdown_receive``: what the fresh monitor's DOWN means.

    ``kind`` is ``"shutdown"``, ``"brutal_kill"`` or ``"timeout_kill"`` (killed after
    the timeout).  Returns ``None``, ``("ok", reply)`` or ``("down", proc, reason)``.
    """
    ref = task.ref
    reason = down.reason
    asked = SHUTDOWN if kind in ("shutdown", "timeout_kill") else KILLED
    if reason == NOPROC:
        # The task was already gone when we looked: its own DOWN decides, if it
        # is still queued; otherwise we cannot know how it ended.
        own = await _poll(Down(ref, ANY, ANY, ANY))
        if own is None:
            Process.demonitor(ref, flush=True)
            outcome: Any = ("down", down.pid, NOPROC)
        elif own.reason == asked:
            outcome = None
        else:
            outcome = ("down", down.pid, own.reason)
    else:
        Process.demonitor(ref, flush=True)
        outcome = None if reason == asked else ("down", down.pid, reason)
    reply = await _poll((ref, ANY))
    return (OK, reply[1]) if reply is not None else outcome


# -- the task process ---------------------------------------------------------


async def _task_main(
    owner: Pid,
    callers: list[Pid],
    ancestors: list[Any],
    fun: Callable[..., Any],
    args: tuple[Any, ...],
    reply: bool,
    watch: Pid | None,
) -> None:
    """Run ``fun(*args)``; with ``reply``, first wait for the ref to answer to.

    ``watch`` (supervised tasks, which are not linked to whoever sends the ref) is
    monitored while waiting: if it dies first, exit ``("shutdown", reason)``.
    """
    Process.put("$initial_call", _mfa(fun, args))
    Process.put("$ancestors", ancestors)
    Process.put("$callers", callers)
    ref = None
    if reply:
        if watch is None:
            _, ref = await receive((_TASK_REF, ANY))
        else:
            mon = Process.monitor(watch)
            msg = await receive((_TASK_REF, ANY), Down(mon, ANY, ANY, ANY))
            if isinstance(msg, Down):
                exit((SHUTDOWN, msg.reason))
            Process.demonitor(mon, flush=True)
            ref = msg[1]
    try:
        result = await fun(*args)
    except ProcessExit as e:
        if not _is_quiet(e.reason):
            _report(owner, fun, args, e.reason)
        raise
    except Exception as e:
        _report(owner, fun, args, e)
        exit(e)
    if ref is not None:
        send(ref, (ref, result))


def _report(owner: Pid, fun: Any, args: tuple[Any, ...], reason: Any) -> None:
    """LOG-4: ``Task #PID<t> started from #PID<owner> terminating``."""
    head, exc_info = crash_head(reason)
    name = describe_callable(fun)
    logger.error(
        "Task %r started from %r terminating\n%s\nFunction: %s\n    Args: %s",
        self(),
        owner,
        head,
        name,
        inspect(list(args)),
        exc_info=exc_info,
    )


# -- async_stream ---------------------------------------------------------------


class TaskStream:
    """The lazy stream :meth:`Task.async_stream` and ``TaskSupervisor.async_stream``
    return: an async iterable of ``("ok", value)`` / ``("exit", reason)``.

    Each ``async for`` (each ``aiter()``) is a separate run with its own tasks, as
    enumerating an Elixir stream twice runs it twice.  A run that is iterated to
    its end cleans up after itself.  To leave early, close the run: use the
    stream as an async context manager (or ``contextlib.aclosing(aiter(s))``)::

        async with Task.async_stream(urls, fetch, max_concurrency=8) as results:
            async for status, value in results:
                if status == "ok" and value.found:
                    break          # the other tasks are killed on leaving the block

    Closing kills the tasks still running and closes the input if it is a
    generator (Elixir halts the input enumerable).  A run abandoned without
    closing keeps its coordinator and at most ``max_concurrency`` finished
    results until the consumer exits; nothing lands in the consumer's mailbox.
    """

    def __init__(
        self,
        what: str,
        enumerable: Any,
        fun: Callable[..., Coroutine[Any, Any, Any]],
        args: tuple[Any, ...],
        max_concurrency: int | None,
        ordered: bool,
        timeout: float | None,
        on_timeout: str,
        zip_input_on_exit: bool,
        sup: Any = None,
        link: bool = True,
        shutdown: Any = 5,
    ) -> None:
        if not (hasattr(enumerable, "__iter__") or hasattr(enumerable, "__aiter__")):
            raise TypeError(
                f"{what}: enumerable must be an iterable or an async iterable, got {enumerable!r}"
            )
        check_async_fun(fun, what)
        if max_concurrency is None:
            max_concurrency = os.cpu_count() or 1
        elif isinstance(max_concurrency, bool) or not isinstance(max_concurrency, int):
            raise TypeError(
                f"{what}: max_concurrency must be an integer greater than zero, "
                f"got {max_concurrency!r}"
            )
        elif max_concurrency < 1:
            raise ValueError(
                f"{what}: max_concurrency must be an integer greater than zero, "
                f"got {max_concurrency!r}"
            )
        check_bool(ordered, what, "ordered")
        check_bool(zip_input_on_exit, what, "zip_input_on_exit")
        self._timeout = check_timeout(timeout, what)
        if on_timeout not in ("exit", "kill_task"):
            raise ValueError(
                f"{what}: on_timeout must be 'exit' or 'kill_task', got {on_timeout!r}"
            )
        self._what = what
        self._enumerable = enumerable
        self._fun = fun
        self._args = args
        self._max = max_concurrency
        self._ordered = ordered
        self._given_timeout = timeout
        self._on_timeout = on_timeout
        self._zip = zip_input_on_exit
        self._sup = sup
        self._link = link
        self._shutdown = shutdown
        # The runs opened by ``async with``, innermost last, per consumer process.
        self._entered: dict[Pid, list[_StreamRun]] = {}

    def __aiter__(self) -> _StreamRun:
        return _StreamRun(self)

    async def __aenter__(self) -> _StreamRun:
        run = _StreamRun(self)
        self._entered.setdefault(self_pid(), []).append(run)
        return run

    async def __aexit__(self, *exc: object) -> None:
        me = self_pid()
        runs = self._entered[me]
        run = runs.pop()
        if not runs:
            del self._entered[me]
        await run.aclose()

    def __repr__(self) -> str:
        return f"<TaskStream {self._what}({self._enumerable!r}, {self._fun!r})>"


class _StreamRun:
    """One run of a :class:`TaskStream`, in the consumer (the *owner*).

    Invariant: ``in_flight`` is the number of items handed to the coordinator whose
    results have not been taken yet, and never exceeds ``max_concurrency``.  The
    owner talks to the coordinator only by request and reply: ``(_NEXT, mref,
    items)`` starts a task for each new item and asks for the next result, answered
    ``(mref, ("result", r) | "timeout" | "max_children")`` on the alias ``mref``
    (the monitor of the coordinator, M-16), so a reply can never outlive the run.
    """

    def __init__(self, stream: TaskStream) -> None:
        self._s = stream
        self._owner: Pid | None = None
        self._coord: Pid | None = None
        self._mref: Ref | None = None
        self._input: Iterator[Any] | AsyncIterator[Any] | None = None
        self._input_done = False
        self._in_flight = 0
        self._closed = False

    def __aiter__(self) -> _StreamRun:
        return self

    def _mfa(self) -> tuple[Any, ...]:
        return ("Task.Supervised.stream", self._s._given_timeout)

    def _start(self) -> None:
        s = self._s
        owner = self._owner = self_pid()
        enumerable = s._enumerable
        self._input = aiter(enumerable) if hasattr(enumerable, "__aiter__") else iter(enumerable)
        trap = bool(Process.info(owner, "trap_exit"))
        self._coord = spawn_link(_coordinator, owner, trap, _callers(owner), _StreamJob.of(s))
        self._mref = Process.monitor(self._coord, alias=True)

    async def __anext__(self) -> Any:
        if self._closed:
            raise StopAsyncIteration
        if self._coord is None:
            self._start()
        elif self_pid() != self._owner:
            raise ValueError(
                f"{self._s._what}: a stream run belongs to the process that started "
                f"iterating it ({self._owner!r}), not {self_pid()!r}"
            )
        items = await self._take_input()
        if not items and self._in_flight == 0:
            await self.aclose()
            raise StopAsyncIteration
        self._in_flight += len(items)
        coord, mref = self._coord, self._mref
        assert coord is not None and mref is not None
        send(coord, (_NEXT, mref, items))
        msg = await receive((mref, ANY), Down(mref, ANY, ANY, ANY))
        if isinstance(msg, Down):
            # The coordinator died (killed from outside): exit as Elixir's stream does.
            self._closed = True
            await _poll(Exit(coord, ANY))
            await self._close_input()
            exit((msg.reason, self._mfa()))
        answer = msg[1]
        if answer == TIMEOUT:
            await self.aclose()
            exit((TIMEOUT, self._mfa()))
        if answer == MAX_CHILDREN:
            await self.aclose()
            raise RuntimeError(f"{self._s._what}: {_MAX_CHILDREN_STREAM_MSG}")
        self._in_flight -= 1
        return answer[1]

    async def _take_input(self) -> list[Any]:
        """Read as many items as may start now (Elixir closes the stream, then
        re-raises, when the input fails)."""
        items: list[Any] = []
        room = self._s._max - self._in_flight
        it = self._input
        while not self._input_done and len(items) < room:
            try:
                if isinstance(it, Iterator):
                    item = next(it)
                else:
                    assert it is not None
                    item = await anext(it)
            except (StopIteration, StopAsyncIteration):
                self._input_done = True
                break
            except (Exception, ProcessExit):
                self._input_done = True
                await self.aclose()
                raise
            items.append(item)
        return items

    async def aclose(self) -> None:
        """Stop the run: kill its running tasks, drop what is left, close the input.

        Must be called by the process iterating the run.  Exits the caller with
        ``(reason, ("Task.Supervised.stream", timeout))`` if the coordinator had
        died of something else.
        """
        if self._closed:
            return
        self._closed = True
        reason: Any = NORMAL
        coord, mref = self._coord, self._mref
        if coord is not None and mref is not None:
            if self_pid() != self._owner:
                raise ValueError(
                    f"{self._s._what}: a stream run must be closed by the process "
                    f"iterating it ({self._owner!r}), not {self_pid()!r}"
                )
            send(coord, (_STOP, mref))
            reason = (await receive(Down(mref, ANY, ANY, ANY))).reason
            await _poll(Exit(coord, ANY))  # trapping owners get one; it came first
        await self._close_input()
        if reason != NORMAL:
            exit((reason, self._mfa()))

    async def _close_input(self) -> None:
        it = self._input
        if self._input_done or it is None:
            return
        self._input_done = True
        if hasattr(it, "aclose"):
            await it.aclose()  # pyright: ignore[reportAttributeAccessIssue] - hasattr above
        elif hasattr(it, "close"):
            it.close()  # pyright: ignore[reportAttributeAccessIssue] - hasattr above

    async def __aenter__(self) -> _StreamRun:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


@dataclass(frozen=True)
class _StreamJob:
    """What the coordinator needs to start and judge the tasks of one run."""

    fun: Callable[..., Any]
    args: tuple[Any, ...]
    ordered: bool
    timeout: float | None
    on_timeout: str
    zip: bool
    sup: Any
    link: bool
    shutdown: Any

    @staticmethod
    def of(s: TaskStream) -> _StreamJob:
        return _StreamJob(
            s._fun,
            s._args,
            s._ordered,
            s._timeout,
            s._on_timeout,
            s._zip,
            s._sup,
            s._link,
            s._shutdown,
        )


class _Slot:
    """A running task of a stream.  ``reply`` is set when its result came in; the
    result is final only at its DOWN, so no finished task outlives its delivery."""

    __slots__ = ("item", "pid", "pos", "reply", "timed_out", "timer")

    def __init__(self, pos: int, pid: Pid, item: Any, timer: TimerRef | None) -> None:
        self.pos = pos
        self.pid = pid
        self.item = item
        self.timer = timer
        self.reply: Any = None
        self.timed_out = False


async def _coordinator(owner: Pid, trap: bool, callers: list[Pid], job: _StreamJob) -> None:
    """The stream's coordinator (Elixir's ``stream_monitor``): starts, times and
    collects the tasks of one run, and answers the owner one result at a time.

    Invariant: ``running`` holds every task started and not yet DOWN; ``done``
    (ordered) or ``ready`` (unordered) the results not yet handed over; ``asking``
    the alias of an owner request not yet answered.  A task's timer message names
    its monitor ref, so one that fires after the DOWN finds nothing and is ignored.
    """
    Process.flag("trap_exit", trap)
    owner_mon = Process.monitor(owner)
    running: dict[Ref, _Slot] = {}
    done: dict[int, Any] = {}
    ready: deque[Any] = deque()
    next_pos = 0
    deliver_pos = 0
    asking: Ref | None = None
    fatal: Atom | None = None

    def answer() -> None:
        nonlocal asking, deliver_pos
        if asking is None:
            return
        if fatal is not None:
            send(asking, (asking, fatal))
        elif job.ordered and deliver_pos in done:
            send(asking, (asking, ("result", done.pop(deliver_pos))))
            deliver_pos += 1
        elif not job.ordered and ready:
            send(asking, (asking, ("result", ready.popleft())))
        else:
            return
        asking = None

    while True:
        msg = await receive()
        # Only our own messages are looked at; anything a stranger sends (a fake
        # Down, a tuple with an unhashable item) falls through to the end.
        tag = msg[0] if type(msg) is tuple and len(msg) in (2, 3) else None
        if type(tag) is str and len(msg) == 3 and tag == _NEXT:
            asking = msg[1]
            for item in msg[2]:
                started = await _start_stream_task(owner, callers, job, item)
                if started is None:
                    fatal = MAX_CHILDREN
                    break
                pid = started
                if job.link and job.sup is not None:
                    Process.link(pid)
                ref = Process.monitor(pid, alias=True)
                send(pid, (_TASK_REF, ref))
                timer = None
                if job.timeout is not None:
                    timer = Process.send_after(self(), (_TIMED_OUT, ref), job.timeout)
                running[ref] = _Slot(next_pos, pid, item if job.zip else None, timer)
                next_pos += 1
            answer()
        elif isinstance(tag, Ref) and len(msg) == 2:
            slot = running.get(tag)
            if slot is not None:
                slot.reply = (OK, msg[1])
        elif isinstance(msg, Down) and isinstance(msg.ref, Ref) and msg.ref in running:
            slot = running.pop(msg.ref)
            if slot.timer is not None:
                Process.cancel_timer(slot.timer)
            if slot.reply is not None:
                result = slot.reply
            elif slot.timed_out and job.on_timeout == "exit":
                fatal = TIMEOUT
                answer()
                continue
            else:
                why = TIMEOUT if slot.timed_out else msg.reason
                result = (EXIT, (slot.item, why) if job.zip else why)
            if job.ordered:
                done[slot.pos] = result
            else:
                ready.append(result)
            answer()
        elif type(tag) is str and tag == _TIMED_OUT and isinstance(msg[1], Ref):  # pyright: ignore[reportIndexIssue] - a tuple: tag is set
            slot = running.get(msg[1])  # pyright: ignore[reportIndexIssue] - a tuple: tag is set
            if slot is not None and slot.reply is None and not slot.timed_out:
                # Unlink first so the kill does not reach us through the link.
                Process.unlink(slot.pid)
                Process.exit(slot.pid, "kill")
                slot.timed_out = True
        elif type(tag) is str and tag == _STOP:
            # Closing: kill what still runs and wait until it is gone.
            Process.flag("trap_exit", True)
            for slot in running.values():
                Process.exit(slot.pid, "kill")
            for ref in list(running):
                await receive(Down(ref, ANY, ANY, ANY))
            return
        elif isinstance(msg, Down) and msg.ref == owner_mon:
            # The owner is gone: linked tasks go with it (with its reason, or
            # :shutdown when it ended normally: nobody is left to take results).
            if job.link:
                why = SHUTDOWN if msg.reason == NORMAL else msg.reason
                for slot in running.values():
                    Process.exit(slot.pid, why)
            exit(msg.reason)
        # Anything else (EXITs while trapping, strays) is ignored.


async def _start_stream_task(
    owner: Pid, callers: list[Pid], job: _StreamJob, item: Any
) -> Pid | None:
    """Start one task of a stream from the coordinator; ``None`` at max_children."""
    args = (item, *job.args)
    if job.sup is None:
        return spawn_link(_task_main, owner, callers, _ancestors(), job.fun, args, True, None)
    spec = _task_spec(owner, callers, job.fun, args, True, self(), "temporary", job.shutdown)
    return await _start_supervised_child(job.sup, spec)


# -- TaskSupervisor ---------------------------------------------------------------


class TaskSupervisor:
    """Elixir's ``Task.Supervisor``: tasks started under a DynamicSupervisor (T-8).

    ``start_child`` tasks are ``"temporary"`` unless told otherwise and nobody
    awaits them.  ``async_`` links the task to the caller as well as to the
    supervisor; ``async_nolink`` does not, so its crash only shows as ``("exit",
    reason)`` from ``Task.yield_`` or a ``Down``.  A supervisor at its
    ``max_children`` makes ``async_``/``async_nolink`` raise ``RuntimeError``, as
    Elixir does, and ``start_child`` return ``("error", "max_children")``.

    In a supervisor's children, ``TaskSupervisor`` or ``(TaskSupervisor, {"name":
    "jobs"})`` stands for :meth:`child_spec` (Elixir's ``{Task.Supervisor, name:
    Jobs}``).
    """

    def __init__(self) -> None:
        raise TypeError("TaskSupervisor is a namespace; start one with start_link")

    @staticmethod
    async def start_link(
        *,
        name: Any = None,
        strategy: str = "one_for_one",
        max_restarts: int = 3,
        max_seconds: float = 5,
        max_children: int | None = None,
    ) -> Any:
        """Start a task supervisor linked to the caller: Elixir's
        ``Task.Supervisor.start_link/1``.

        Returns ``("ok", pid)`` or ``("error", reason)`` (``("error",
        ("already_started", pid))`` for a taken name).  ``name`` is a str or
        ``("global", name)`` or ``("via", registry, key)``; ``strategy`` can only be
        ``"one_for_one"`` (Elixir
        accepts it too); ``max_restarts``/``max_seconds``/``max_children`` are
        DynamicSupervisor's (``None``: no limit on children).

        Raises:
            TypeError, ValueError: a bad option.
        """
        what = "TaskSupervisor.start_link"
        _check_sup_options(what, name, strategy, max_restarts, max_seconds, max_children)
        return await DynamicSupervisor.start_link(
            name=name,
            max_restarts=max_restarts,
            max_seconds=max_seconds,
            max_children=max_children,
        )

    @staticmethod
    def child_spec(opts: dict[str, Any] | None = None, /, **options: Any) -> dict[str, Any]:
        """The child spec of a task supervisor: Elixir's ``Task.Supervisor.child_spec/1``.

        ``opts`` (a dict, as ``(TaskSupervisor, {"name": "jobs"})`` passes it) and
        ``options`` are :meth:`start_link`'s keyword arguments.  The id is the
        name (the key of a ``via`` name), or ``TaskSupervisor`` without one; type
        ``"supervisor"``.

        Raises:
            TypeError, ValueError: ``opts`` is not a dict, or a bad option.
        """
        what = "TaskSupervisor.child_spec"
        if opts is not None and not isinstance(opts, dict):
            raise TypeError(f"{what}: opts must be a dict of start_link options, got {opts!r}")
        merged = {**(opts or {}), **options}
        known = ("name", "strategy", "max_restarts", "max_seconds", "max_children")
        unknown = [k for k in merged if k not in known]
        if unknown:
            raise ValueError(f"{what}: unknown options {unknown}; known: {', '.join(known)}")
        _check_sup_options(
            what,
            merged.get("name"),
            merged.get("strategy", "one_for_one"),
            merged.get("max_restarts", 3),
            merged.get("max_seconds", 5),
            merged.get("max_children"),
        )
        name = merged.get("name")
        if name is None:
            cid: Any = TaskSupervisor
        elif isinstance(name, str):
            cid = name
        else:
            cid = name[-1]  # ("global", name) or ("via", registry, key): the key
        return {
            "id": cid,
            "start": (_start_link_with, (merged,)),
            "type": "supervisor",
            "modules": [TaskSupervisor],
        }

    @staticmethod
    async def async_(
        sup: Any, fun: Callable[..., Coroutine[Any, Any, Any]], *args: Any, shutdown: Any = 5
    ) -> Task:
        """Start ``await fun(*args)`` under ``sup``, linked to the caller too:
        Elixir's ``Task.Supervisor.async/3,5``.  Await it with ``Task.await_``.

        ``shutdown``: seconds the supervisor waits for the task when it stops it,
        ``"brutal_kill"`` or ``"infinity"``.

        Raises:
            RuntimeError: ``sup`` has reached its ``max_children``.
            TypeError, ValueError: a bad argument (nothing is started).
        """
        what = "TaskSupervisor.async_"
        _check_sup(sup, what)
        check_async_fun(fun, what)
        _check_child_shutdown(shutdown, what)
        return await _supervised_async(sup, fun, args, True, shutdown, what)

    @staticmethod
    async def async_nolink(
        sup: Any, fun: Callable[..., Coroutine[Any, Any, Any]], *args: Any, shutdown: Any = 5
    ) -> Task:
        """Like :meth:`async_`, but the task is not linked to the caller (T-8):
        Elixir's ``Task.Supervisor.async_nolink/3,5``.

        Raises:
            RuntimeError: ``sup`` has reached its ``max_children``.
            TypeError, ValueError: a bad argument (nothing is started).
        """
        what = "TaskSupervisor.async_nolink"
        _check_sup(sup, what)
        check_async_fun(fun, what)
        _check_child_shutdown(shutdown, what)
        return await _supervised_async(sup, fun, args, False, shutdown, what)

    @staticmethod
    async def start_child(
        sup: Any,
        fun: Callable[..., Coroutine[Any, Any, Any]],
        *args: Any,
        restart: str = "temporary",
        shutdown: Any = 5,
    ) -> Any:
        """Start ``await fun(*args)`` under ``sup``, not linked to the caller, with
        nobody awaiting it: Elixir's ``Task.Supervisor.start_child/3,5``.

        Returns ``("ok", pid)`` or ``("error", "max_children")``.  ``restart``:
        ``"temporary"`` (never restarted), ``"transient"`` (restarted after an
        abnormal exit) or ``"permanent"``; ``shutdown`` as for :meth:`async_`.

        Raises:
            TypeError, ValueError: a bad argument (nothing is started).
        """
        what = "TaskSupervisor.start_child"
        _check_sup(sup, what)
        check_async_fun(fun, what)
        if restart not in ("temporary", "transient", "permanent"):
            raise ValueError(
                f"{what}: restart must be 'temporary', 'transient' or 'permanent', got {restart!r}"
            )
        _check_child_shutdown(shutdown, what)
        owner = self()
        spec = _task_spec(owner, _callers(owner), fun, args, False, None, restart, shutdown)
        return await DynamicSupervisor.start_child(sup, spec)

    @staticmethod
    def async_stream(
        sup: Any,
        enumerable: Any,
        fun: Callable[..., Coroutine[Any, Any, Any]],
        *args: Any,
        max_concurrency: int | None = None,
        ordered: bool = True,
        timeout: float | None = 5,
        on_timeout: str = "exit",
        zip_input_on_exit: bool = False,
        shutdown: Any = 5,
    ) -> TaskStream:
        """``Task.async_stream`` with the tasks started under ``sup``: Elixir's
        ``Task.Supervisor.async_stream/4,6``.

        The tasks are linked to the stream (so to the caller) as well as to
        ``sup``.  Options as ``Task.async_stream``, plus ``shutdown`` as for
        :meth:`async_`.  Iterating raises ``RuntimeError`` (after closing the
        stream) when ``sup`` reaches its ``max_children``.
        """
        what = "TaskSupervisor.async_stream"
        _check_sup(sup, what)
        _check_child_shutdown(shutdown, what)
        return TaskStream(
            what,
            enumerable,
            fun,
            args,
            max_concurrency,
            ordered,
            timeout,
            on_timeout,
            zip_input_on_exit,
            sup=sup,
            link=True,
            shutdown=shutdown,
        )

    @staticmethod
    def async_stream_nolink(
        sup: Any,
        enumerable: Any,
        fun: Callable[..., Coroutine[Any, Any, Any]],
        *args: Any,
        max_concurrency: int | None = None,
        ordered: bool = True,
        timeout: float | None = 5,
        on_timeout: str = "exit",
        zip_input_on_exit: bool = False,
        shutdown: Any = 5,
    ) -> TaskStream:
        """Like :meth:`async_stream`, the tasks not linked to the caller: a crash is
        ``("exit", reason)`` even when the caller does not trap exits.  Elixir's
        ``Task.Supervisor.async_stream_nolink/4,6``."""
        what = "TaskSupervisor.async_stream_nolink"
        _check_sup(sup, what)
        _check_child_shutdown(shutdown, what)
        return TaskStream(
            what,
            enumerable,
            fun,
            args,
            max_concurrency,
            ordered,
            timeout,
            on_timeout,
            zip_input_on_exit,
            sup=sup,
            link=False,
            shutdown=shutdown,
        )

    @staticmethod
    async def children(sup: Any) -> list[Pid]:
        """The pids of the running tasks (not those being restarted): Elixir's
        ``Task.Supervisor.children/1``."""
        _check_sup(sup, "TaskSupervisor.children")
        return [
            pid
            for _id, pid, _t, _m in await DynamicSupervisor.which_children(sup)
            if isinstance(pid, Pid)
        ]

    @staticmethod
    async def terminate_child(sup: Any, pid: Pid) -> Any:
        """Stop the task ``pid``: ``"ok"`` or ``("error", "not_found")``.  Elixir's
        ``Task.Supervisor.terminate_child/2``."""
        what = "TaskSupervisor.terminate_child"
        _check_sup(sup, what)
        check_pid(pid, what)
        return await DynamicSupervisor.terminate_child(sup, pid)


def _check_sup(sup: Any, what: str) -> None:
    if (
        isinstance(sup, Pid)
        or (isinstance(sup, str) and sup)
        or (type(sup) is tuple and len(sup) == 3 and sup[0] == "via")
        or (type(sup) is tuple and len(sup) == 2 and sup[0] == "global")
        or (type(sup) is tuple and len(sup) == 2 and all(isinstance(x, str) for x in sup))
    ):
        return
    raise TypeError(
        f"{what}: sup must be a supervisor's Pid, its registered name, (name, node), "
        f"('global', name) or ('via', registry, key), got {sup!r}"
    )


def _check_sup_options(
    what: str,
    name: Any,
    strategy: Any,
    max_restarts: Any,
    max_seconds: Any,
    max_children: Any,
) -> None:
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
    if strategy != "one_for_one":
        raise ValueError(f"{what}: strategy can only be 'one_for_one', got {strategy!r}")
    check_int(max_restarts, what, "max_restarts")
    if not (isinstance(max_seconds, int | float) and not isinstance(max_seconds, bool)):
        raise TypeError(f"{what}: max_seconds must be a number of seconds > 0, got {max_seconds!r}")
    if not max_seconds > 0:
        raise ValueError(
            f"{what}: max_seconds must be a number of seconds > 0, got {max_seconds!r}"
        )
    check_int(max_children, what, "max_children", allow=lambda v: v is None)


def _check_child_shutdown(value: Any, what: str) -> None:
    if value in ("brutal_kill", "infinity"):
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(
            f"{what}: shutdown must be seconds, 'brutal_kill' or 'infinity', got {value!r}"
        )
    if not value >= 0:
        raise ValueError(f"{what}: shutdown must be >= 0 seconds, got {value!r}")


async def _start_link_with(opts: dict[str, Any]) -> Any:
    """The ``start`` of :meth:`TaskSupervisor.child_spec`."""
    return await TaskSupervisor.start_link(**opts)


def _task_spec(
    owner: Pid,
    callers: list[Pid],
    fun: Callable[..., Any],
    args: tuple[Any, ...],
    reply: bool,
    watch: Pid | None,
    restart: str,
    shutdown: Any,
) -> dict[str, Any]:
    return {
        "id": "task",
        "start": (_start_supervised, (owner, callers, fun, args, reply, watch)),
        "restart": restart,
        "shutdown": shutdown,
    }


def _start_supervised(
    owner: Pid,
    callers: list[Pid],
    fun: Callable[..., Any],
    args: tuple[Any, ...],
    reply: bool,
    watch: Pid | None,
) -> Any:
    """Runs in the supervisor: the task is linked to it, as a child must be, and its
    ancestors are the supervisor's."""
    return (OK, spawn_link(_task_main, owner, callers, _ancestors(), fun, args, reply, watch))


async def _start_supervised_child(sup: Any, spec: dict[str, Any]) -> Pid | None:
    """Start a task child of ``sup``: its pid, or ``None`` at max_children."""
    result = await DynamicSupervisor.start_child(sup, spec)
    if type(result) is tuple and len(result) == 2 and result[0] == OK:
        return result[1]  # type: ignore[no-any-return]
    if result == (ERROR, MAX_CHILDREN):
        return None
    exit((result, ("DynamicSupervisor.start_child", sup, spec)))


async def _supervised_async(
    sup: Any, fun: Callable[..., Any], args: tuple[Any, ...], link: bool, shutdown: Any, what: str
) -> Task:
    owner = self()
    spec = _task_spec(owner, _callers(owner), fun, args, True, owner, "temporary", shutdown)
    pid = await _start_supervised_child(sup, spec)
    if pid is None:
        raise RuntimeError(f"{what}: {_MAX_CHILDREN_MSG}")
    if link:
        Process.link(pid)
    ref = Process.monitor(pid, alias=True)
    send(pid, (_TASK_REF, ref))
    return Task(pid, ref, owner, _mfa(fun, args))
