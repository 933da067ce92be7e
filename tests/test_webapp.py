"""The FastAPI example (examples/webapp/app.py), driven through real HTTP requests.

uvicorn serves the app in a child process with the node in its lifespan, once on
asyncio's loop and once on uvloop (``--loop``); a stub upstream API runs in a
thread here.  While a client keeps requesting items, a fetcher is killed: its
supervisor replaces it (a new pid) and every request succeeds.  Real time and
real sockets: the waits are generous bounds, not orders.
"""

from __future__ import annotations

import http.server
import json
import os
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import LOOPS

ROOT = Path(__file__).resolve().parent.parent


class _Upstream(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        item = self.path.rsplit("/", 1)[-1]
        body = json.dumps({"id": item, "name": f"item {item}"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def upstream() -> Iterator[str]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Upstream)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(params=sorted(LOOPS))
def app(
    upstream: str, request: pytest.FixtureRequest
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    # uvicorn's --loop: the app runs once on asyncio's loop and once on uvloop.
    port = _free_port()
    env = {**os.environ, "UPSTREAM_URL": upstream, "WORKERS": "3"}
    argv = ["examples.webapp.app:app", "--port", str(port), "--loop", request.param]
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", *argv],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"{base}/workers", timeout=1)
            break
        except httpx.TransportError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail(f"the app did not start:\n{proc.communicate()[0]}")
            time.sleep(0.1)
    yield base, proc
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def test_a_killed_worker_is_replaced_while_requests_keep_succeeding(
    app: tuple[str, subprocess.Popen[str]],
) -> None:
    base, proc = app
    statuses: list[int] = []
    killed: list[str] = []
    kills = {5: 0, 12: 1, 19: 0}  # before the request with this number, kill a fetcher
    with httpx.Client(base_url=base, timeout=30) as c:
        before = c.get("/workers").json()
        for i in range(1, 31):
            if i in kills:
                killed.append(c.post(f"/chaos/kill-worker/{kills[i]}").json()["killed"])
            statuses.append(c.get(f"/items/{i}").status_code)
        after = c.get("/workers").json()
        job = c.post("/jobs", json={"items": ["a", "b"]}).json()["job"]
        deadline = time.monotonic() + 30
        while not (result := c.get(f"/jobs/{job}").json())["done"]:
            assert time.monotonic() < deadline, "the job did not finish"
            time.sleep(0.05)
    assert killed[:2] == [before["0"], before["1"]]
    assert len(set(killed)) == 3  # the third kill met fetcher 0's replacement
    assert after["0"] not in (before["0"], killed[2])
    assert after["1"] != before["1"]
    assert after["2"] == before["2"]  # one_for_one: the others untouched
    assert statuses == [200] * 30
    assert result["items"] == [{"id": "a", "name": "item a"}, {"id": "b", "name": "item b"}]
    # A graceful stop on SIGTERM: every fetcher's terminate closed its client.
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    # uvicorn stops gracefully, then re-raises the signal it caught (its convention).
    assert proc.returncode in (0, -signal.SIGTERM)
    assert "Application shutdown complete." in out
    assert sorted(line for line in out.splitlines() if line.startswith("fetcher ")) == [
        f"fetcher {n} closed (shutdown)" for n in range(3)
    ]
