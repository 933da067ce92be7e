"""Task: run one function in a process and collect its result (T-1 … T-7, LOG-4).

Python spells Elixir's ``Task.async``/``Task.await`` ``Task.async_``/``Task.await_``
(both are keywords), as PEP 8 suggests for names that clash with keywords;
``Task.yield_`` likewise.

Design
------
``async_`` spawns the task linked to the owner and monitors it with
``alias=True`` (M-16): the task sends ``(ref, result)`` to that ref, so the reply
and the DOWN share one ref, as ``%Task{ref: ref}`` does in Elixir.  A reply that
arrives after the owner gave up (``await_`` timed out, ``shutdown``) is dropped
by the runtime because the monitor, and so the alias, is gone.

A task that raises logs ``Task #PID<…> started from #PID<…> terminating`` (LOG-4)
and then exits with the exception as its reason through ``exit``, so the plain
process report (LOG-1) is not written as well.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Final

from tether._runtime._api import Process, exit, receive, self, send, spawn, spawn_link
from tether._runtime._format import crash_head, describe_callable, inspect
from tether._runtime._types import ANY, Atom, Down, Pid, ProcessExit, Ref

from .gen_server import _is_quiet

__all__ = ["Task", "TaskSupervisor"]

logger: Final = logging.getLogger("tether")
OK: Final = Atom("ok")
EXIT: Final = Atom("exit")


@dataclass(frozen=True)
class Task:
    """A running task: Elixir's ``%Task{pid, ref, owner, mfa}``.

    Made by :meth:`async_`; its result arrives as ``(ref, result)`` followed by
    ``Down(ref, :process, pid, :normal)``.  Only ``owner`` may await it (T-5).
    """

    pid: Pid
    ref: Ref
    owner: Pid
    mfa: tuple[str, str, int]

    # -- starting ----------------------------------------------------------

    @staticmethod
    def async_(fun: Callable[..., Coroutine[Any, Any, Any]], *args: Any) -> Task:
        """Start ``fun(*args)`` linked to and monitored by the caller (T-1): Elixir's
        ``Task.async``.  Collect the result with :meth:`await_`."""
        return Task._start(fun, args, link=True)

    @staticmethod
    def _start(fun: Callable[..., Any], args: tuple[Any, ...], link: bool) -> Task:
        owner = self()
        callers = Process.get("$callers") or []
        pid = (spawn_link if link else spawn)(_task_main, owner, [owner, *callers], fun, args)
        ref = Process.monitor(pid, alias=True)
        send(pid, ("$task_ref", ref))
        return Task(pid, ref, owner, _mfa(fun, args))

    @staticmethod
    async def start_link(fun: Callable[..., Coroutine[Any, Any, Any]], *args: Any) -> Any:
        """Start a linked task whose result nobody awaits: ``("ok", pid)`` (T-7)."""
        owner = self()
        return (OK, spawn_link(_task_main, owner, [owner], fun, args, False))

    @staticmethod
    async def start(fun: Callable[..., Coroutine[Any, Any, Any]], *args: Any) -> Any:
        """Start an unlinked task whose result nobody awaits: ``("ok", pid)`` (T-7)."""
        owner = self()
        return (OK, spawn(_task_main, owner, [owner], fun, args, False))

    # -- collecting --------------------------------------------------------

    @staticmethod
    async def await_(task: Task, timeout: float | None = 5.0) -> Any:
        """Wait for the result (T-2); the mailbox is left clean.

        The caller exits with ``("timeout", ("Task.await", task, timeout))`` on
        timeout (T-3; the task keeps running, its late reply is dropped), or with
        ``(reason, ("Task.await", task, timeout))`` when the task dies first (T-4).
        """
        _check_owner(task, "await_")
        mfa = ("Task.await", task, timeout)
        try:
            msg = await receive((task.ref, ANY), Down(task.ref, ANY, ANY, ANY), timeout=timeout)
        except TimeoutError:
            Process.demonitor(task.ref, flush=True)
            exit(("timeout", mfa))
        if isinstance(msg, Down):
            exit((_down_reason(msg), mfa))
        Process.demonitor(task.ref, flush=True)
        return msg[1]

    @staticmethod
    async def await_many(tasks: list[Task], timeout: float | None = 5.0) -> list[Any]:
        """Await every task; results in input order (T-7)."""
        return [await Task.await_(t, timeout) for t in tasks]

    @staticmethod
    async def yield_(task: Task, timeout: float | None = 5.0) -> Any:
        """``("ok", result)``, ``("exit", reason)``, or ``None`` on timeout — the task
        keeps running and can be yielded again (T-6)."""
        _check_owner(task, "yield_")
        try:
            msg = await receive((task.ref, ANY), Down(task.ref, ANY, ANY, ANY), timeout=timeout)
        except TimeoutError:
            return None
        if isinstance(msg, Down):
            return (EXIT, _down_reason(msg))
        Process.demonitor(task.ref, flush=True)
        return (OK, msg[1])

    @staticmethod
    async def shutdown(task: Task, timeout: float | str = 5.0) -> Any:
        """Stop the task (T-6): ``None``, ``("ok", reply)`` if the reply raced in, or
        ``("exit", reason)``.  ``timeout`` is seconds to wait after the
        ``"shutdown"`` signal before killing, or ``"brutal_kill"``."""
        _check_owner(task, "shutdown")
        Process.unlink(task.pid)
        brutal = timeout == "brutal_kill"
        Process.exit(task.pid, "kill" if brutal else "shutdown")
        wait = None if brutal else timeout
        try:
            msg = await receive(
                (task.ref, ANY),
                Down(task.ref, ANY, ANY, ANY),
                timeout=wait,  # type: ignore[arg-type]
            )
        except TimeoutError:
            Process.exit(task.pid, "kill")
            msg = await receive((task.ref, ANY), Down(task.ref, ANY, ANY, ANY))
        if isinstance(msg, Down):
            reason = msg.reason
            if reason in ("shutdown", "killed") or (brutal and reason == "killed"):
                return None
            return (EXIT, _down_reason(msg))
        Process.demonitor(task.ref, flush=True)
        return (OK, msg[1])

    def __repr__(self) -> str:
        return f"Task(pid={self.pid!r}, ref={self.ref!r}, owner={self.owner!r})"


def _mfa(fun: Any, args: tuple[Any, ...]) -> tuple[str, str, int]:
    return (
        getattr(fun, "__module__", "?") or "?",
        getattr(fun, "__qualname__", repr(fun)),
        len(args),
    )


def _check_owner(task: Task, what: str) -> None:
    me = self()
    if task.owner != me:
        raise ValueError(
            f"Task.{what}: task {task!r} must be queried from the owner but was queried from {me!r}"
        )


def _down_reason(down: Down) -> Any:
    if down.reason == "noconnection":
        return ("nodedown", getattr(down.pid, "node", None))
    return down.reason


async def _task_main(
    owner: Pid,
    callers: list[Pid],
    fun: Callable[..., Any],
    args: tuple[Any, ...],
    reply: bool = True,
) -> None:
    Process.put("$callers", callers)
    ref = None
    if reply:
        _, ref = await receive(("$task_ref", ANY))
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


class TaskSupervisor:
    """Elixir's ``Task.Supervisor``: tasks started under a DynamicSupervisor.

    ``start_child`` children are ``temporary``.  ``async_`` links the task to the
    caller as well; ``async_nolink`` does not, so a crash only shows as
    ``("exit", reason)`` from ``Task.yield_`` or a ``Down`` (T-8).
    """

    def __init__(self) -> None:
        raise TypeError("TaskSupervisor is a namespace; start one with start_link")

    @staticmethod
    async def start_link(*, name: Any = None, max_children: int | None = None) -> Any:
        """Start a task supervisor linked to the caller: ``("ok", pid)``."""
        from .dynamic_supervisor import DynamicSupervisor

        return await DynamicSupervisor.start_link(name=name, max_children=max_children)

    @staticmethod
    async def async_(sup: Any, fun: Callable[..., Any], *args: Any) -> Task:
        """A supervised task linked to the caller and to ``sup``; await it with
        ``Task.await_``."""
        return await TaskSupervisor._async(sup, fun, args, link=True)

    @staticmethod
    async def async_nolink(sup: Any, fun: Callable[..., Any], *args: Any) -> Task:
        """A supervised task not linked to the caller (T-8)."""
        return await TaskSupervisor._async(sup, fun, args, link=False)

    @staticmethod
    async def _async(sup: Any, fun: Callable[..., Any], args: tuple[Any, ...], link: bool) -> Task:
        from .dynamic_supervisor import DynamicSupervisor

        owner = self()
        spec = {
            "id": "task",
            "start": (_start_supervised, (owner, fun, args, True)),
            "restart": "temporary",
        }
        result = await DynamicSupervisor.start_child(sup, spec)
        if result[0] != OK:
            exit((result[1], ("Task.Supervisor.async", sup, fun, list(args))))
        pid = result[1]
        if link:
            Process.link(pid)
        ref = Process.monitor(pid, alias=True)
        send(pid, ("$task_ref", ref))
        return Task(pid, ref, owner, _mfa(fun, args))

    @staticmethod
    async def start_child(sup: Any, fun: Callable[..., Any], *args: Any) -> Any:
        """Start a temporary task under ``sup`` whose result nobody awaits:
        ``("ok", pid)``."""
        from .dynamic_supervisor import DynamicSupervisor

        spec = {
            "id": "task",
            "start": (_start_supervised, (self(), fun, args, False)),
            "restart": "temporary",
        }
        return await DynamicSupervisor.start_child(sup, spec)

    @staticmethod
    async def children(sup: Any) -> list[Pid]:
        """The pids of the running tasks."""
        from .dynamic_supervisor import DynamicSupervisor

        return [pid for _id, pid, _t, _m in await DynamicSupervisor.which_children(sup)]

    @staticmethod
    async def terminate_child(sup: Any, pid: Pid) -> Any:
        """Stop one task: ``"ok"`` or ``("error", "not_found")``."""
        from .dynamic_supervisor import DynamicSupervisor

        return await DynamicSupervisor.terminate_child(sup, pid)


def _start_supervised(
    owner: Pid, fun: Callable[..., Any], args: tuple[Any, ...], reply: bool
) -> Any:
    """Runs in the supervisor: the task is linked to it, as a child must be."""
    return (OK, spawn_link(_task_main, owner, [owner], fun, args, reply))
