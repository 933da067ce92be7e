"""A node inside someone else's asyncio program, and the bridge into it.

Design
------
``tether.run`` owns its event loop; a service built on FastAPI, Starlette, aiohttp
or a plain ``asyncio.run`` already has one.  ``open_node`` starts the node's
scheduler on the *running* loop (the scheduler is one callback on whatever loop
it is given: no second loop, no node thread), and stops it gracefully when the
``async with`` block ends: link trees newest first, supervisors stopping their
children in order, ``terminate`` run (``_lifecycle.graceful_stop``).  The host
keeps its signals: an embedded node installs only the preemption signal, and
only when the loop runs in the main thread.

Code that is not a process calls into the node through the returned
:class:`RunningNode`:

* ``send``, ``cast``, ``whereis``, ``spawn`` never wait, so they run at once, on
  behalf of a *bridge process*: a process that never runs code of its own, made
  the runtime's current process for the duration of the call, so a message has
  a real sender (remote nodes need one) and per-sender order holds;
* ``run`` and ``call`` may wait: they run as short-lived processes whose result
  (or exit) an asyncio future carries back; cancelling the awaiting coroutine
  kills the process (structured concurrency: nothing is left running);
* ``from_thread`` does the same from other threads, through
  ``asyncio.run_coroutine_threadsafe`` (trio's ``from_thread`` in spirit).

Exits become exceptions only at this boundary: inside processes an exit is a
``ProcessExit`` (a ``BaseException``, as Elixir's exits are not errors); code
outside gets an ``ExitError`` (an ``Exception``: ``CallTimeoutError``,
``NoProcError``), or the very exception a crashed process raised.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncGenerator, Callable, Coroutine
from typing import Any, TypeVar, TypeVarTuple

from ._behaviours import application
from ._behaviours.gen_server import GenServer
from ._runtime import _api, _lifecycle, _remote
from ._runtime import _node as _n
from ._runtime._types import (
    KILL,
    CallTimeoutError,
    ExitError,
    NoProcError,
    Pid,
    ProcessExit,
)
from ._runtime._validate import check_timeout

__all__ = ["FromThread", "RunningNode", "exit_error", "open_node"]

T = TypeVar("T")
Ts = TypeVarTuple("Ts")  # a function's arguments, checked as spawn checks them


def exit_error(reason: Any) -> BaseException:
    """The exception that code outside processes gets for an exit with ``reason``.

    An exception reason is that exception itself; a call's exit ``(why, (call,
    ...))`` is ``CallTimeoutError`` for ``"timeout"``, ``NoProcError`` for
    ``"noproc"``, else ``ExitError`` (with the cause, when ``why`` is an
    exception: a server that crashed during the call); any other reason is
    ``ExitError(reason)``.
    """
    if isinstance(reason, BaseException):
        return reason
    why = reason
    if type(reason) is tuple and len(reason) == 2 and type(reason[1]) is tuple:
        why = reason[0]
    if isinstance(why, str) and why == "timeout":
        return CallTimeoutError(reason)
    if isinstance(why, str) and why == "noproc":
        return NoProcError(f"no process: {reason!r}", reason)
    err = ExitError(reason)
    if isinstance(why, BaseException):
        err.__cause__ = why
    return err


async def _bridge_body() -> None:
    """The bridge process: it only lends its pid to calls made from outside."""
    await _api.Process.sleep(None)


async def _runner(fut: asyncio.Future[Any], fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
    """A process for ``RunningNode.run``: carries ``fn``'s result or exit to ``fut``."""
    try:
        result = await fn(*args)
    except BaseException as e:
        if not fut.done():
            me = _n.NODE.current
            if me is not None and me.state == _n.DEAD:  # killed (ExitSignal or the
                fut.set_exception(exit_error(me.reason))  # CancelledError of a kill)
            elif isinstance(e, ProcessExit):
                fut.set_exception(exit_error(e.reason))
            else:
                fut.set_exception(e)
        raise
    if not fut.done():
        fut.set_result(result)


class RunningNode:
    """The node ``open_node`` started, and the bridge into it for asyncio code.

    Every method is for the event loop's thread and code that is not a process
    (a web handler, a background task); from other threads use
    :attr:`from_thread`; inside a process, use tether's functions directly.
    """

    def __init__(self, node: _n.Node, bridge: _n.Process) -> None:
        self._node = node
        self._bridge = bridge
        self.from_thread = FromThread(self)

    @property
    def name(self) -> str:
        """The node's name (``"nonode@nohost"`` when not distributed)."""
        return str(self._node.name)

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The event loop the node runs on."""
        return self._node.loop

    # -- calls that never wait: made on behalf of the bridge process -----------

    def _as_bridge(self, what: str, fn: Callable[..., T], *args: Any) -> T:
        node = self._node
        if node.current is not None:
            raise RuntimeError(
                f"RunningNode.{what} called from inside a process; call tether's own "
                f"function there (tether.{what.rstrip('_')})"
            )
        if threading.get_ident() != node.thread_id:
            raise RuntimeError(
                f"RunningNode.{what} called from another thread; use node.from_thread.{what}"
            )
        if _n.NODE is not node:
            raise RuntimeError(f"RunningNode.{what}: this node has stopped")
        node.current = self._bridge
        try:
            return fn(*args)
        finally:
            node.current = None

    def send(self, dest: Any, msg: T) -> T:
        """``tether.send(dest, msg)`` from outside the node's processes; returns ``msg``."""
        self._as_bridge("send", _api.send, dest, msg)
        return msg

    def cast(self, server: Any, request: Any) -> str:
        """``GenServer.cast(server, request)``; always returns ``"ok"``."""
        return str(self._as_bridge("cast", GenServer.cast, server, request))

    def whereis(self, name: Any) -> Any:
        """``GenServer.whereis(name)``: the pid registered as ``name``, or ``None``."""
        return self._as_bridge("whereis", GenServer.whereis, name)

    def spawn(self, fun: Callable[[*Ts], Coroutine[Any, Any, Any]], *args: *Ts) -> Pid:
        """``tether.spawn(fun, *args)``: start an unlinked process; return its pid."""
        return self._as_bridge("spawn", _api.spawn, fun, *args)

    def exit(self, pid: Pid, reason: Any) -> bool:
        """``Process.exit(pid, reason)``; returns ``True`` (E-4)."""
        return self._as_bridge("exit", _api.Process.exit, pid, reason)

    # -- calls that may wait: short-lived processes ------------------------------

    async def run(self, fn: Callable[[*Ts], Coroutine[Any, Any, T]], *args: *Ts) -> T:
        """Run ``await fn(*args)`` as a process of the node; return its result.

        If the process crashes, its exception is raised here; if it exits with
        another reason, :func:`exit_error` says which ``ExitError``.  Cancelling
        the coroutine that awaits this kills the process.
        """
        if not _n.is_async_callable(fn):
            _n._start_coroutine(fn, (), "RunningNode.run")  # the TypeError that says why
        fut: asyncio.Future[T] = self._node.loop.create_future()
        pid = self._as_bridge("run", _api.spawn, _runner, fut, fn, args)
        try:
            return await fut
        except asyncio.CancelledError:
            if _n.NODE is self._node:
                self._as_bridge("run", _api.Process.exit, pid, KILL)
            raise

    async def call(self, server: Any, request: Any, timeout: float | None = 5.0) -> Any:
        """``GenServer.call(server, request, timeout)``; the reply.

        Raises:
            CallTimeoutError: no reply within ``timeout`` seconds.
            NoProcError: no such server.
            ExitError: the server exited during the call (its exception, if it
                crashed, is ``__cause__``).
        """
        check_timeout(timeout, "RunningNode.call")
        return await self.run(GenServer.call, server, request, timeout)

    def __repr__(self) -> str:
        return f"<RunningNode {self.name} ({len(self._node.table)} processes)>"


class FromThread:
    """The bridge for other threads: ``node.from_thread.call(...)`` and friends.

    Each call hands the work to the node's loop and blocks this thread until it
    is done (``asyncio.run_coroutine_threadsafe``).  Calling these from the loop's
    own thread would deadlock, so that is a ``RuntimeError``.
    """

    def __init__(self, node: RunningNode) -> None:
        self._node = node

    def _submit(self, what: str, coro: Coroutine[Any, Any, T]) -> T:
        if threading.get_ident() == self._node._node.thread_id:
            coro.close()
            raise RuntimeError(
                f"node.from_thread.{what} called from the event loop's own thread; "
                f"await node.{what}(...) there instead"
            )
        return asyncio.run_coroutine_threadsafe(coro, self._node.loop).result()

    def call(self, server: Any, request: Any, timeout: float | None = 5.0) -> Any:
        """``await node.call(...)``, from another thread."""
        return self._submit("call", self._node.call(server, request, timeout))

    def run(self, fn: Callable[[*Ts], Coroutine[Any, Any, T]], *args: *Ts) -> T:
        """``await node.run(fn, *args)``, from another thread."""
        return self._submit("run", self._node.run(fn, *args))

    def send(self, dest: Any, msg: T) -> T:
        """``node.send(dest, msg)``, from another thread."""
        self._submit("send", _immediately(self._node.send, dest, msg))
        return msg

    def cast(self, server: Any, request: Any) -> str:
        """``node.cast(server, request)``, from another thread."""
        return self._submit("cast", _immediately(self._node.cast, server, request))

    def exit(self, pid: Pid, reason: Any) -> bool:
        """An exit signal from another thread: takes effect even if ``pid`` hogs
        the loop (the watchdog preempts it; docs/failure.md)."""
        self._node._node.exit_from_thread(pid, reason, self._node._bridge.pid)
        return True


async def _immediately(fn: Callable[..., T], *args: Any) -> T:
    return fn(*args)


@contextlib.asynccontextmanager
async def open_node(
    name: str | None = None,
    cookie: str | None = None,
    *,
    apps: list[Any] | tuple[Any, ...] | None = None,
    config: Any = None,
    hog_threshold: float | None = 0.1,
    hog_policy: str = "warn",
    shutdown_timeout: float | None = 30.0,
    hidden: bool = True,
    net_ticktime: float = 60.0,
    tls: Any = None,
    binaries: str = "str",
    dist_buf_busy_limit: int = 1 << 20,
    dist_input_limit: int | None = 16 << 20,
) -> AsyncGenerator[RunningNode, None]:
    """Start a node on the running asyncio loop: ``async with tether.open_node() as node``.

    For programs that already have an event loop (a FastAPI/Starlette lifespan,
    Jupyter, ``asyncio.run``).  The options are ``tether.run``'s.  Inside the
    block, ``node`` is the bridge for code that is not a process: ``node.send``,
    ``node.cast``, ``node.whereis``, ``node.spawn``, ``await node.call(...)``,
    ``await node.run(fn, ...)``, and ``node.from_thread`` for other threads.

    With ``apps`` (and ``config``, as ``tether.run`` takes them), the
    applications are started, as ``permanent``, before the block runs.

    Leaving the block stops the node gracefully, as ``tether.run`` does on
    SIGTERM: link trees newest first, supervisors stop their children in order
    with their shutdown timeouts, ``terminate`` runs, applications stop newest
    first.  The host program keeps its own signal handling.

    Raises:
        RuntimeError: no running event loop, or a node already runs in this OS
            process (tether runs one node per OS process; ``tether.peer`` starts
            more, each in its own OS process).
        ExitError: one of ``apps`` failed to start (``("application_start_failure",
            app, reason)``), or, when the block ends, the node had stopped because
            of a reason (a permanent application's exit:
            ``("application_terminated", app, reason)``).
    """
    dist_options = _api.check_node_options(
        "tether.open_node",
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
    boot = None
    if apps is not None or config is not None:
        boot = application.boot("tether.open_node", apps, config)
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        raise RuntimeError(
            "tether.open_node must be used inside a running event loop (async with "
            "tether.open_node() as node: ...); from synchronous code use tether.run(main)"
        ) from None
    if not isinstance(_n.NODE, _n._NoNode):
        raise RuntimeError(
            "tether.open_node: a node is already running in this OS process; tether runs "
            "one node per OS process (start more with tether.peer)"
        )
    node = _n.Node(loop)
    node.shutdown_timeout = shutdown_timeout
    _n.set_node(node)
    handler = _api._default_handler()
    watchdog = _api._start_watchdog(node, hog_threshold, hog_policy)
    signals = _lifecycle.Signals(node)
    signals.install_preemption()
    try:
        done = node.done = loop.create_future()
        if dist_options is not None:
            node.dist = await _remote.start(node, **dist_options)
        pid, _ = node.spawn(None, _bridge_body, (), what="tether.open_node")
        running = RunningNode(node, node.table[pid])
        if boot is not None:
            await running.run(boot)
        yield running
    finally:
        try:
            _lifecycle.request_stop(node, "exit")
            await asyncio.shield(done)  # pyright: ignore[reportPossiblyUnboundVariable] - the try's first line sets it
        finally:
            watchdog.close()
            signals.restore()
            node.shutdown()
            if node.dist is not None:
                await _api._wait_cancelled(node.dist.close())
            _n.set_node(_n.NO_NODE)
            if handler is not None:
                _api._remove_default_handler(handler)
    if node.stopping == "stop":  # the block ended; the node had stopped for a reason
        raise exit_error(node.stop_reason)
