"""tether.open_node: a node inside an asyncio program, and the bridge into it.

These run under plain ``asyncio.run`` (the host program's own loop), as a FastAPI
lifespan or a script would; the timings they use are call timeouts, asserted
with margins, never the order of events.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import queue
import threading
import time
from typing import Any

import pytest

import tether
from tether import (
    CallTimeoutError,
    ExitError,
    GenServer,
    NoProcError,
    NoReply,
    Ok,
    Process,
    Reply,
    Supervisor,
    receive,
    send,
)


class Counter(GenServer):
    events: list[Any] = []  # noqa: RUF012 - a test's log

    def init(self, start: Any) -> Any:
        Process.flag("trap_exit", True)
        return Ok(start)

    def handle_call(self, request: Any, from_: Any, n: Any) -> Any:
        match request:
            case "next":
                return Reply(n, n + 1)
            case "crash":
                raise ZeroDivisionError("division by zero")
            case "slow":
                return NoReply(n)  # never replies
        return Reply(("unknown", request), n)

    def handle_cast(self, request: Any, n: Any) -> Any:
        return NoReply(n + request)

    def terminate(self, reason: Any, n: Any) -> Any:
        Counter.events.append(("terminate", n, reason))


def test_a_node_runs_inside_asyncio_run_and_stops_gracefully_when_the_block_ends() -> None:
    Counter.events = []

    async def app() -> Any:
        async with tether.open_node() as node:
            children = [{**Counter.child_spec(10), "id": "c"}]
            started = await node.run(functools.partial(Supervisor.start, name="sup"), children)
            assert started[0] == "ok"
            pid = await node.run(_child_pid, "sup", "c")
            first = await node.call(pid, "next")
            assert node.cast(pid, 5) == "ok"
            second = await node.call(pid, "next")
            assert node.whereis("sup") == started[1]
            return first, second, node.name

    assert asyncio.run(app()) == (10, 16, "nonode@nohost")
    # Leaving the block: the supervisor stopped its child, whose terminate ran.
    assert Counter.events == [("terminate", 17, "shutdown")]


async def _child_pid(sup: Any, cid: Any) -> Any:
    return next(pid for i, pid, _t, _m in await Supervisor.which_children(sup) if i == cid)


def test_the_bridge_maps_exits_to_exceptions_that_except_exception_sees() -> None:
    async def app() -> list[Any]:
        out: list[Any] = []
        async with tether.open_node() as node:
            _, pid = await node.run(Counter.start, 0)
            with pytest.raises(NoProcError) as noproc:
                await node.call("nobody", "next")
            out.append(noproc.value.reason[0])
            with pytest.raises(CallTimeoutError) as late:
                await node.call(pid, "slow", timeout=0.05)
            out.append(late.value.reason[0])
            assert isinstance(late.value, TimeoutError)
            with pytest.raises(ExitError) as crashed:
                await node.call(pid, "crash")
            out.append(type(crashed.value.__cause__).__name__)

            async def exits() -> None:
                tether.exit(("shutdown", "bye"))

            with pytest.raises(ExitError) as exited:
                await node.run(exits)
            out.append(exited.value.reason)

            async def raises() -> None:
                raise KeyError("k")

            with pytest.raises(KeyError):
                await node.run(raises)
            for exc in (noproc.value, late.value, crashed.value, exited.value):
                assert isinstance(exc, Exception)
        return out

    assert asyncio.run(app()) == ["noproc", "timeout", "ZeroDivisionError", ("shutdown", "bye")]


async def _wait_down(pid: Any, ready: asyncio.Event) -> Any:
    ref = Process.monitor(pid)
    ready.set()
    return (await receive(tether.Down(ref, tether.ANY, tether.ANY, tether.ANY))).reason


def test_cancelling_the_awaiting_coroutine_kills_the_process() -> None:
    async def app() -> Any:
        async with tether.open_node() as node:
            pids: asyncio.Queue[Any] = asyncio.Queue()

            async def forever() -> None:
                pids.put_nowait(tether.self())
                await Process.sleep(None)

            runner = asyncio.create_task(node.run(forever))
            pid = await pids.get()
            ready = asyncio.Event()
            down = asyncio.create_task(node.run(_wait_down, pid, ready))
            await ready.wait()
            runner.cancel()
            with pytest.raises(asyncio.CancelledError):
                await runner
            return await down

    assert asyncio.run(app()) == "killed"


def test_the_bridge_works_from_other_threads_and_refuses_the_loop_thread() -> None:
    async def app() -> Any:
        async with tether.open_node() as node:
            _, pid = await node.run(Counter.start, 100)
            loop = asyncio.get_running_loop()
            with concurrent.futures.ThreadPoolExecutor(4) as pool:
                results = await asyncio.gather(
                    *(
                        loop.run_in_executor(pool, node.from_thread.call, pid, "next")
                        for _ in range(8)
                    )
                )
                cast = await loop.run_in_executor(pool, node.from_thread.cast, pid, 1000)
            with pytest.raises(RuntimeError, match="from the event loop's own thread"):
                node.from_thread.call(pid, "next")
            return sorted(results), cast, await node.call(pid, "next")

    results, cast, after = asyncio.run(app())
    assert results == list(range(100, 108))
    assert cast == "ok"
    assert after == 1108


def test_an_exit_from_another_thread_stops_a_process_hogging_the_embedded_loop() -> None:
    pids: queue.Queue[Any] = queue.Queue()

    async def hog() -> None:
        pids.put(tether.self())
        while True:
            pass

    async def watch_hog() -> Any:
        _pid, ref = tether.spawn_monitor(hog)
        return (await receive(tether.Down(ref, tether.ANY, tether.ANY, tether.ANY))).reason

    async def app() -> Any:
        async with tether.open_node() as node:

            def killer() -> None:
                pid = pids.get(timeout=60)
                time.sleep(0.2)  # let it hog first: the kill must preempt it
                node.from_thread.exit(pid, "kill")

            t = threading.Thread(target=killer)
            t.start()
            reason = await node.run(watch_hog)
            t.join()
            return reason

    assert asyncio.run(app()) == "killed"


def test_only_one_node_per_os_process_and_a_clear_error_outside_a_loop() -> None:
    async def app() -> str:
        async with tether.open_node():
            with pytest.raises(RuntimeError, match="one node per OS process") as info:
                async with tether.open_node():
                    pass
            return str(info.value)

    assert "tether.peer" in asyncio.run(app())
    enter = tether.open_node().__aenter__()  # driven by hand, with no loop running
    with pytest.raises(RuntimeError, match="inside a running event loop"):
        enter.send(None)


def test_runtime_calls_outside_a_process_point_at_the_bridge() -> None:
    with pytest.raises(RuntimeError) as info:
        send(tether.pid(0, 1, 0), "hi")
    assert "tether.open_node() as node" in str(info.value)
    assert "node.send" in str(info.value)


def test_open_node_validates_its_options_before_starting() -> None:
    async def app() -> None:
        with pytest.raises(ValueError, match="hog_policy must be 'warn' or 'kill'"):
            async with tether.open_node(hog_policy="later"):
                pass
        assert not isinstance(tether._runtime._node.NODE, tether._runtime._node.Node)

    asyncio.run(app())
