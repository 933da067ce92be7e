"""A process is a good asyncio citizen: anyio, httpx and sniffio work inside it.

A process is asyncio's current task while it runs, and it answers the parts of
``asyncio.Task`` that anyio's cancel scopes use (``cancel``, ``_must_cancel``,
``_fut_waiter``, ``cancelling``/``uncancel``, ``get_coro``, done callbacks), so
``anyio.move_on_after``, ``fail_after``, task groups, and the HTTP clients built
on anyio (httpx, and the SDKs built on it) work as they do in any asyncio task.
These run on the real event loop (``tether.run``): anyio's deadlines and a local
HTTP server live in real time; the asserted bounds are generous.
"""

from __future__ import annotations

import asyncio
import http.server
import socketserver
import threading
import time
from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import pytest
import sniffio

import tether
from tether import ANY, Down, Process, receive, self, send, spawn_monitor


class _Items(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = f'{{"path": "{self.path}"}}'.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def http_port() -> Iterator[int]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Items)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_sniffio_sees_asyncio_and_anyio_timeouts_fire_inside_a_process() -> None:
    async def main() -> Any:
        lib = sniffio.current_async_library()
        with anyio.move_on_after(0.01):  # the first use imports anyio's backend
            await anyio.sleep(1)
        t = time.monotonic()
        with anyio.move_on_after(0.05) as scope:
            await anyio.sleep(10)
        moved_on = time.monotonic() - t
        failed = False
        try:
            with anyio.fail_after(0.05):
                await anyio.sleep(10)
        except TimeoutError:
            failed = True
        return lib, scope.cancelled_caught, moved_on, failed

    lib, caught, moved_on, failed = tether.run(main, hog_threshold=None)
    assert (lib, caught, failed) == ("asyncio", True, True)
    assert moved_on < 5  # not the 10 s of the sleep


def test_an_anyio_task_group_runs_inside_a_process() -> None:
    async def main() -> list[int]:
        done: list[int] = []

        async def work(i: int) -> None:
            await anyio.sleep(0.01 * (3 - i))
            done.append(i)

        async with anyio.create_task_group() as tg:
            for i in range(3):
                tg.start_soon(work, i)
        return done

    assert tether.run(main, hog_threshold=None) == [2, 1, 0]


def test_httpx_gets_from_a_local_server_inside_processes(http_port: int) -> None:
    async def fetch(parent: tether.Pid, path: str) -> None:
        async with httpx.AsyncClient() as client:
            r = await client.get(f"http://127.0.0.1:{http_port}{path}")
            send(parent, (path, r.status_code, r.json()))

    async def main() -> list[Any]:
        for path in ("/items/1", "/items/2"):
            tether.spawn(fetch, self(), path)
        return sorted([await receive(timeout=30), await receive(timeout=30)])

    assert tether.run(main, hog_threshold=None) == [
        ("/items/1", 200, {"path": "/items/1"}),
        ("/items/2", 200, {"path": "/items/2"}),
    ]


def test_a_process_blocked_in_an_anyio_scope_is_killed_and_its_scope_cleans_up() -> None:
    async def blocked(parent: tether.Pid) -> None:
        try:
            with anyio.CancelScope():
                send(parent, "in scope")
                await anyio.sleep(100)
        finally:
            send(parent, "never seen: sends from a dead process are dropped")

    async def main() -> Any:
        pid, ref = spawn_monitor(blocked, self())
        assert await receive() == "in scope"
        Process.exit(pid, "kill")
        down = await receive(Down(ref, ANY, ANY, ANY))
        await asyncio.sleep(0.1)
        return down.reason, [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]

    assert tether.run(main, hog_threshold=None) == ("killed", [])


def test_cancel_on_a_process_throws_cancelled_error_at_its_await_as_task_cancel_does() -> None:
    async def main() -> Any:
        me = asyncio.current_task()
        assert me is not None
        out = []
        # Cancelled while running: delivered at the next await.
        me.cancel("first")
        try:
            await asyncio.sleep(0)
        except asyncio.CancelledError as e:
            out.append(("at the next await", e.args))
        me.uncancel()
        # Cancelled while blocked in tether's receive, from a timer.
        asyncio.get_running_loop().call_later(0.01, me.cancel, "second")
        try:
            await receive()
        except asyncio.CancelledError as e:
            out.append(("in receive", e.args))
        me.uncancel()
        return out, me.cancelling(), me.get_name() == repr(self())

    out, cancelling, named = tether.run(main, hog_threshold=None)
    assert out == [("at the next await", ("first",)), ("in receive", ("second",))]
    assert (cancelling, named) == (0, True)
