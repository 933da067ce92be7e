"""Thread workers: plain functions on a bounded pool of threads, run as processes.

A worker's thread runs in real time while the node's clock is virtual: a test
that waits for a thread to do something waits in a thread of its own
(``asyncio.to_thread``) on a ``threading.Event`` the worker sets, never on
the clock.  Kills are observed as the runtime's messages (DOWN, EXIT), which
come at once whatever the thread is doing.
"""

from __future__ import annotations

import asyncio
import linecache
import logging
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import tether
from tether import (
    ANY,
    Agent,
    Down,
    Exit,
    Process,
    Supervisor,
    ThreadWorker,
    receive,
    send,
)

pytestmark = pytest.mark.tether(idle_timeout=60)


async def settled(event: threading.Event, timeout: float = 30.0) -> None:
    """Wait (real time, in a thread) until a worker's thread sets ``event``."""
    assert await asyncio.to_thread(event.wait, timeout), "the worker's thread never got there"


def _blocked(fn: Callable[..., Any], call: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        for frame in sys._current_frames().values():
            line = linecache.getline(frame.f_code.co_filename, frame.f_lineno)
            if frame.f_code is fn.__code__ and call in line:
                return
        assert time.monotonic() < deadline, f"no thread got to {call}"
        time.sleep(0.005)


async def blocked_in(fn: Callable[..., Any], call: str) -> None:
    """Wait (real time) until a worker's thread running ``fn`` is inside ``call``:
    its innermost Python frame is ``fn``'s, at the line that makes the call (a
    C call has no frame of its own, so the thread is in it, or about to be with
    no bytecode left where an exit could land first)."""
    await asyncio.to_thread(_blocked, fn, call)


def _pool_settles(timeout: float = 30.0, **want: int) -> None:
    deadline = time.monotonic() + timeout
    while True:
        time.sleep(0.01)
        info = ThreadWorker.pool_info()
        if all(info[k] == v for k, v in want.items()):
            return
        assert time.monotonic() < deadline, info


async def pool_settles(**want: int) -> None:
    """Wait (real time, in a thread) until the pool's figures are ``want``."""
    await asyncio.to_thread(_pool_settles, **want)


@pytest.fixture(autouse=True)
def idle_pool() -> Iterator[None]:
    """The pool is one per OS process: each test starts and leaves it idle."""
    _pool_settles(busy=0, waiting=0)
    yield
    _pool_settles(busy=0, waiting=0)


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG, logger="tether")
    return caplog


@pytest.fixture
def small_pool() -> Iterator[None]:
    old = ThreadWorker.set_max_threads(2)
    yield
    ThreadWorker.set_max_threads(old)


def echo(parent: tether.Pid) -> str:
    while True:
        m = ThreadWorker.receive()
        if m == "stop":
            return "ignored: a return is a normal exit"
        ThreadWorker.send(parent, ("echo", ThreadWorker.self(), m))


# -- a process like any other ------------------------------------------------------


async def test_a_thread_worker_receives_and_sends_like_a_process() -> None:
    pid, ref = ThreadWorker.spawn_monitor(echo, tether.self())
    send(pid, "hi")
    send(pid, ("x", 1))
    assert await receive() == ("echo", pid, "hi")
    assert await receive() == ("echo", pid, ("x", 1))
    send(pid, "stop")
    assert await receive() == Down(ref, "process", pid, "normal")


async def test_selective_receive_and_its_timeout_work_on_the_workers_thread() -> None:
    me = tether.self()

    def picky() -> None:
        ThreadWorker.send(me, ThreadWorker.receive(("want", ANY)))
        ThreadWorker.send(me, ThreadWorker.receive())
        try:
            ThreadWorker.receive(timeout=5)  # virtual seconds: the node's clock
        except TimeoutError as e:
            ThreadWorker.send(me, ("timeout", str(e)))

    pid = ThreadWorker.spawn(picky)
    send(pid, "first")
    send(pid, ("want", 2))
    assert await receive() == ("want", 2)
    assert await receive() == "first"
    assert await receive() == ("timeout", "receive: no matching message within 5.0 s")


async def test_a_raise_crashes_the_worker_with_that_exception_and_logs_it(
    logs: pytest.LogCaptureFixture,
) -> None:
    def crasher() -> None:
        raise ValueError("thread crash")

    pid, ref = ThreadWorker.spawn_monitor(crasher)
    down = await receive()
    assert isinstance(down, Down) and down.ref == ref
    assert isinstance(down.reason, ValueError) and str(down.reason) == "thread crash"
    (record,) = [r for r in logs.records if r.levelno == logging.ERROR]
    assert record.getMessage() == (
        f"Process {pid!r} raised an exception\n** (ValueError) thread crash"
    )
    assert record.exc_info is not None and record.exc_info[1] is down.reason


async def test_exit_ends_the_worker_with_the_reason_and_logs_nothing(
    logs: pytest.LogCaptureFixture,
) -> None:
    def leaver() -> None:
        ThreadWorker.exit(("shutdown", "done"))

    pid, ref = ThreadWorker.spawn_monitor(leaver)
    assert await receive() == Down(ref, "process", pid, ("shutdown", "done"))
    assert logs.records == []


async def test_a_worker_links_and_traps_exits_through_call() -> None:
    me = tether.self()

    def trapper(other: tether.Pid) -> None:
        ThreadWorker.call(Process.flag, "trap_exit", True)
        ThreadWorker.call(Process.link, other)
        ThreadWorker.send(me, "linked")
        ThreadWorker.send(me, ("got", ThreadWorker.receive()))

    async def doomed() -> None:
        await receive()
        tether.exit("boom")

    other = tether.spawn(doomed)
    pid = ThreadWorker.spawn(trapper, other)
    assert await receive() == "linked"
    assert Process.info(pid, "links") == [other]
    send(other, "go")
    assert await receive() == ("got", Exit(other, "boom"))


async def test_a_worker_calls_a_server_through_call() -> None:
    me = tether.self()
    _, agent = await Agent.start_link(lambda: 41)

    def client() -> None:
        ThreadWorker.call(Agent.update, agent, lambda n: n + 1)
        ThreadWorker.send(me, ThreadWorker.call(Agent.get, agent, lambda n: n))

    ThreadWorker.spawn(client)
    assert await receive() == 42


async def test_a_link_to_a_crashing_worker_takes_the_caller_down() -> None:
    Process.flag("trap_exit", True)

    def crasher() -> None:
        raise KeyError("k")

    pid = ThreadWorker.spawn_link(crasher)
    msg = await receive()
    assert isinstance(msg, Exit) and msg.pid == pid and isinstance(msg.reason, KeyError)


async def test_process_info_shows_the_workers_function() -> None:
    gate = threading.Event()

    def waiter() -> None:
        gate.wait(30)

    pid = ThreadWorker.spawn(waiter)
    info = Process.info(pid, ["initial_call", "current_function"])
    assert info["initial_call"][1] == waiter.__qualname__
    assert info["current_function"][1] == waiter.__qualname__
    gate.set()


# -- kills --------------------------------------------------------------------------


async def test_a_kill_interrupts_python_code_in_the_thread_at_once() -> None:
    stopped = threading.Event()
    started = threading.Event()

    def spinner() -> None:
        try:
            started.set()
            n = 0
            while True:
                n += 1
        finally:
            stopped.set()

    pid, ref = ThreadWorker.spawn_monitor(spinner)
    await settled(started)
    Process.exit(pid, "bye")
    assert await receive() == Down(ref, "process", pid, "bye")
    await settled(stopped)  # the ExitSignal unwound its thread (finally ran)
    await pool_settles(busy=0)


async def test_a_worker_killed_in_time_sleep_is_dead_at_once_and_reported_when_it_returns(
    logs: pytest.LogCaptureFixture,
) -> None:
    returned = threading.Event()

    def sleeper() -> None:
        try:
            time.sleep(3.0)  # a C call: it cannot be interrupted (3 s: a margin for load)
        finally:
            returned.set()

    pid, ref = ThreadWorker.spawn_monitor(sleeper)
    await blocked_in(sleeper, "time.sleep(3.0)")
    Process.exit(pid, "kill")
    assert await receive() == Down(ref, "process", pid, "killed")
    assert not returned.is_set()  # dead for everyone, though its thread sleeps on
    await pool_settles(busy=1, abandoned=1)
    await settled(returned)
    await pool_settles(busy=0)
    assert ThreadWorker.pool_info()["abandoned"] == 0
    (record,) = [r for r in logs.records if r.levelno == logging.WARNING]
    text = record.getMessage()
    assert text.startswith(f"Thread worker {pid!r} (")
    assert "was killed (:killed) " in text and "cannot be interrupted" in text


async def test_a_worker_killed_before_its_thread_started_never_runs(small_pool: None) -> None:
    gates = [threading.Event() for _ in range(2)]
    ran = threading.Event()
    for gate in gates:
        ThreadWorker.spawn(gate.wait, 30)
    pid, ref = ThreadWorker.spawn_monitor(ran.set)
    await pool_settles(busy=2)
    assert ThreadWorker.pool_info()["waiting"] == 1
    Process.exit(pid, "kill")
    assert await receive() == Down(ref, "process", pid, "killed")
    for gate in gates:
        gate.set()
    await pool_settles(busy=0)
    assert not ran.is_set()


async def test_the_pool_is_bounded_and_a_waiting_worker_takes_messages_meanwhile(
    small_pool: None,
) -> None:
    me = tether.self()
    gates = [threading.Event() for _ in range(2)]
    for gate in gates:
        ThreadWorker.spawn(gate.wait, 30)
    pid = ThreadWorker.spawn(echo, me)
    await pool_settles(busy=2)
    assert ThreadWorker.pool_info() == {
        "max_threads": 2,
        "threads": 2,
        "busy": 2,
        "abandoned": 0,
        "waiting": 1,
    }
    send(pid, "queued while waiting")
    assert Process.alive(pid)
    gates[0].set()
    assert await receive() == ("echo", pid, "queued while waiting")
    send(pid, "stop")
    gates[1].set()
    await pool_settles(busy=0)


# -- supervision -----------------------------------------------------------------------


def _blocked_in_sleep(me: tether.Pid) -> None:
    ThreadWorker.send(me, ("up", ThreadWorker.self()))
    time.sleep(3.0)  # a C call (3 s: a margin for a loaded machine)
    ThreadWorker.receive()  # (the restarted one waits here to be stopped)


def _blocked_in_recv(me: tether.Pid, sock: socket.socket) -> None:
    ThreadWorker.send(me, ("up", ThreadWorker.self()))
    sock.recv(1)  # a socket read: a C call
    ThreadWorker.receive()


@pytest.mark.parametrize("blocked_on", ["time.sleep", "socket read"])
async def test_a_supervisor_restarts_a_worker_killed_while_blocked_in_c(
    blocked_on: str, logs: pytest.LogCaptureFixture
) -> None:
    me = tether.self()
    a, b = socket.socketpair()
    try:
        if blocked_on == "time.sleep":
            spec = ThreadWorker.child_spec(_blocked_in_sleep, me, id="db")
        else:
            spec = ThreadWorker.child_spec(_blocked_in_recv, me, b, id="db")
        _, sup = await Supervisor.start_link([spec], strategy="one_for_one")
        _, first = await receive(("up", ANY))
        if blocked_on == "time.sleep":
            await blocked_in(_blocked_in_sleep, "time.sleep(3.0)")
        else:
            await blocked_in(_blocked_in_recv, "sock.recv(1)")
        ref = Process.monitor(first)
        Process.exit(first, "kill")
        assert await receive() == Down(ref, "process", first, "killed")
        _, second = await receive(("up", ANY))  # restarted at once, on another thread
        assert second != first
        [(child_id, child, kind, _)] = await Supervisor.which_children(sup)
        assert (child_id, child, kind) == ("db", second, "worker")
        assert ThreadWorker.pool_info()["abandoned"] == 1
        if blocked_on == "socket read":
            # Past the report threshold (1 s), then let both threads' reads return.
            await asyncio.to_thread(time.sleep, 1.2)
            a.sendall(b"xy")
        await pool_settles(abandoned=0)  # the first thread returned at last
        warnings = [r.getMessage() for r in logs.records if r.levelno == logging.WARNING]
        assert any(w.startswith(f"Thread worker {first!r}") for w in warnings), warnings
        await Supervisor.stop(sup)
    finally:
        a.close()
        b.close()


async def test_a_supervisor_shuts_a_thread_worker_down_with_its_tree() -> None:
    stopped = threading.Event()

    me = tether.self()

    def server() -> None:
        try:
            ThreadWorker.send(me, ("up", ThreadWorker.self()))
            while True:
                ThreadWorker.receive()
        finally:
            stopped.set()

    _, sup = await Supervisor.start_link([ThreadWorker.child_spec(server)])
    [(_, child, _, _)] = await Supervisor.which_children(sup)
    assert await receive() == ("up", child)
    ref = Process.monitor(child)
    await Supervisor.stop(sup)
    assert await receive() == Down(ref, "process", child, "shutdown")
    await settled(stopped)


def test_a_stopping_node_interrupts_its_worker_threads() -> None:
    stopped = threading.Event()
    started = threading.Event()

    def spinner() -> None:
        try:
            started.set()
            while True:
                pass
        finally:
            stopped.set()

    async def main() -> None:
        ThreadWorker.spawn(spinner)
        await asyncio.to_thread(started.wait, 30)

    tether.testing.run(main, idle_timeout=60)
    assert stopped.wait(30)


# -- errors -----------------------------------------------------------------------------


async def test_bad_arguments_and_thread_side_calls_off_a_worker_thread_are_refused() -> None:
    async def not_plain() -> None:
        pass

    with pytest.raises(TypeError, match="is an async function; a thread worker runs a plain"):
        ThreadWorker.spawn(not_plain)
    with pytest.raises(TypeError, match="fun must be a plain function"):
        ThreadWorker.spawn(42)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="restart must be 'permanent'"):
        ThreadWorker.child_spec(print, restart="sometimes")
    with pytest.raises(ValueError, match="n must be an int >= 1"):
        ThreadWorker.set_max_threads(0)
    for call in (ThreadWorker.self, ThreadWorker.receive, lambda: ThreadWorker.send(1, 2)):
        with pytest.raises(RuntimeError, match="from a thread worker's own thread"):
            call()
    assert ThreadWorker.child_spec(print, 1, id="p") == {
        "id": "p",
        "start": (ThreadWorker.start_link, (print, 1)),
        "restart": "permanent",
        "shutdown": 5,
    }


async def test_errors_of_runtime_calls_reach_the_workers_thread() -> None:
    me = tether.self()

    def caller() -> None:
        try:
            ThreadWorker.send("nobody_by_this_name", 1)
        except ValueError as e:
            ThreadWorker.send(me, ("send", str(e).split(";")[0]))
        try:
            ThreadWorker.receive(42)
        except TypeError as e:
            ThreadWorker.send(me, ("receive", type(e).__name__))

    ThreadWorker.spawn(caller)
    assert await receive() == (
        "send",
        "send: no process is registered as 'nobody_by_this_name' (dest)",
    )
    assert await receive() == ("receive", "TypeError")


class _LoopThatStopsUnread:
    """A loop that takes a worker's callback and closes without running it, as a
    node's loop does when the node stops right after the thread posted."""

    def __init__(self) -> None:
        self.posted = threading.Event()
        self.closed = False

    def call_soon_threadsafe(self, callback: Callable[..., Any], *args: Any) -> None:
        self.posted.set()  # accepted, never run

    def is_closed(self) -> bool:
        return self.closed


def _blocked_worker(call: Callable[[Any], Any]) -> tuple[Any, threading.Thread, list[Any]]:
    from types import SimpleNamespace

    from tether._runtime._threads import _Worker

    loop = _LoopThatStopsUnread()
    w = _Worker(SimpleNamespace(loop=loop), print, ())  # type: ignore[arg-type]
    out: list[Any] = []

    def body() -> None:
        try:
            out.append(("returned", call(w)))
        except BaseException as e:
            out.append(("raised", type(e).__name__, getattr(e, "reason", None)))

    t = threading.Thread(target=body, daemon=True)
    t.start()
    # Real time, generously bounded: a thread is waiting for an answer.
    assert loop.posted.wait(30)
    loop.closed = True
    t.join(30)
    return w, t, out


def test_a_thread_whose_finish_was_posted_to_a_loop_that_closed_unread_returns() -> None:
    _w, t, out = _blocked_worker(lambda w: w._finish(("ok", None)))
    assert not t.is_alive()
    assert out == [("returned", None)]


def test_an_op_posted_to_a_loop_that_closed_unread_ends_the_worker_killed() -> None:
    w, t, out = _blocked_worker(lambda w: w.op("call", print, ()))
    assert not t.is_alive()
    assert out == [("raised", "_WorkerExit", "killed")]
    assert w.dead and w.reason == "killed"
