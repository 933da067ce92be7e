"""Fixtures for the distribution tests: an isolated epmd, real Elixir/Erlang peers.

Every run starts its own epmd on a free port (``ERL_EPMD_PORT``), so tests never
touch a system epmd or another run's nodes.  Elixir peers run ``peer.exs``: the
test sends ``{:eval, self(), code}`` and gets ``{:result, value}`` back.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import tether
from tether import ANY, Atom, receive, send

COOKIE = "tether-test-cookie"
HERE = Path(__file__).parent
_names = itertools.count(1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port}")


def need(tool: str) -> str:
    """The path of ``tool`` (elixir/erl); skip without it unless CI requires it."""
    path = shutil.which(tool)
    if path is None:
        if os.environ.get("TETHER_REQUIRE_ELIXIR"):
            pytest.fail(f"TETHER_REQUIRE_ELIXIR is set but {tool} is not installed")
        pytest.skip(f"{tool} is not installed (install erlang-nox elixir to run the interop tests)")
    return path


@contextlib.contextmanager
def running_epmd(builtin: bool = False) -> Iterator[int]:
    """An epmd on a free port, for as long as the block runs: the system one if
    installed (unless ``builtin``), else tether's (``python -m tether.epmd``)."""
    port = free_port()
    exe = None if builtin else shutil.which("epmd")
    cmd = [exe] if exe else [sys.executable, "-m", "tether.epmd"]
    proc = subprocess.Popen(
        [*cmd, "-port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_port(port)
        yield port
    finally:
        proc.terminate()
        proc.wait()


@pytest.fixture(scope="session")
def epmd_port() -> Iterator[int]:
    """An isolated epmd for the whole run, and ERL_EPMD_PORT pointing at it."""
    old = os.environ.get("ERL_EPMD_PORT")
    with running_epmd() as port:
        os.environ["ERL_EPMD_PORT"] = str(port)
        try:
            yield port
        finally:
            if old is None:
                os.environ.pop("ERL_EPMD_PORT", None)
            else:
                os.environ["ERL_EPMD_PORT"] = old


def unique(prefix: str) -> str:
    return f"{prefix}{os.getpid()}_{next(_names)}@127.0.0.1"


class Peer:
    """A node in its own OS process: an Elixir one running peer.exs (a Twin is tether)."""

    def __init__(self, name: str, proc: subprocess.Popen[str]) -> None:
        self.name = name
        self.proc = proc

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()


def _start_ready(
    cmd: list[str], epmd_port: int, what: str, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    """Start ``cmd`` on ``epmd_port`` and wait for its READY line."""
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "ERL_EPMD_PORT": str(epmd_port), **(env or {})},
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if line.strip() != "READY":
        proc.kill()
        raise RuntimeError(f"{what} did not start: {line!r}")
    return proc


def start_elixir(
    epmd_port: int, cookie: str = COOKIE, erl_args: str = "", boot: str = "", prefix: str = "ex"
) -> Peer:
    """An Elixir peer; ``boot`` is Elixir code it runs before it says READY (so a
    test can set a node up without connecting to it)."""
    exe = need("elixir")
    name = unique(prefix)
    extra = ["--erl", erl_args] if erl_args else []
    cmd = [exe, "--name", name, "--cookie", cookie, *extra, str(HERE / "peer.exs")]
    return Peer(name, _start_ready(cmd, epmd_port, "elixir peer", {"PEER_BOOT": boot}))


def _until_done(peer: Peer) -> Iterator[Peer]:
    """A fixture's body: hand ``peer`` to the tests, kill it afterwards."""
    try:
        yield peer
    finally:
        peer.kill()


@pytest.fixture(scope="module")
def ex(epmd_port: int) -> Iterator[Peer]:
    """One Elixir peer shared by a module's tests."""
    yield from _until_done(start_elixir(epmd_port))


@pytest.fixture
def own_ex(epmd_port: int) -> Iterator[Peer]:
    """An Elixir peer of the test's own (for tests that kill it)."""
    yield from _until_done(start_elixir(epmd_port))


@pytest.fixture(scope="module")
def erl(epmd_port: int) -> Iterator[str]:
    """A plain Erlang node (no script: tests drive it with rpc)."""
    exe = need("erl")
    name = unique("erl")
    env = {**os.environ, "ERL_EPMD_PORT": str(epmd_port)}
    proc = subprocess.Popen(
        [exe, "-name", name, "-setcookie", COOKIE, "-noshell", "-hidden"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        deadline = time.monotonic() + 20
        import asyncio

        from tether._dist.epmd import names

        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                if name.split("@")[0] in asyncio.run(names(epmd=epmd_port)):
                    break
            time.sleep(0.1)
        yield name
    finally:
        proc.kill()
        proc.wait()


def run_node(main: Any, *args: Any, cookie: str = COOKIE, **kw: Any) -> Any:
    """Run ``main`` as the first process of a fresh distributed tether node."""
    return tether.run(main, *args, name=unique("py"), cookie=cookie, **kw)


async def ev(peer: Peer | str, code: str, timeout: float = 15) -> Any:
    """Evaluate Elixir ``code`` on the peer; return its value."""
    node = peer.name if isinstance(peer, Peer) else peer
    send(("peer", node), (Atom("eval"), tether.self(), code))
    msg = await receive((Atom("result"), ANY), timeout=timeout)
    return msg[1]


async def ev_arg(peer: Peer, code: str, arg: Any, timeout: float = 15) -> Any:
    """Evaluate ``code`` on the peer with the Python value ``arg`` bound to ``arg``."""
    send(
        ("peer", peer.name),
        (Atom("eval"), tether.self(), f"receive do {{:arg, arg}} -> {code} end"),
    )
    send(("peer", peer.name), (Atom("arg"), arg))
    msg = await receive((Atom("result"), ANY), timeout=timeout)
    return msg[1]


class Twin(Peer):
    """A second tether node in its own OS process (twin_node.py)."""


@pytest.fixture
def twin(epmd_port: int) -> Iterator[Twin]:
    name = unique("twin")
    cmd = [sys.executable, str(HERE / "twin_node.py"), name, COOKIE]
    yield from _until_done(Twin(name, _start_ready(cmd, epmd_port, "twin node")))
