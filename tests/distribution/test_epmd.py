"""epmd: tether's built-in server against real Erlang tools, the client, and how a
node finds or starts an epmd (issue: distribution, part 1)."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tether import Node, rpc
from tether._dist import epmd
from tether._runtime import _node as _n

from .conftest import COOKIE, HERE, free_port, need, run_node, running_epmd, unique

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def builtin_epmd(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """``python -m tether.epmd`` on a free port, and ERL_EPMD_PORT pointing at it."""
    with running_epmd(builtin=True) as port:
        monkeypatch.setenv("ERL_EPMD_PORT", str(port))
        yield port


def test_erlang_registers_with_the_builtin_epmd_and_tether_reaches_it(builtin_epmd: int) -> None:
    exe = need("erl")
    name = unique("erl")
    env = {**os.environ, "ERL_EPMD_PORT": str(builtin_epmd)}
    erl = subprocess.Popen(
        [exe, "-name", name, "-setcookie", COOKIE, "-noshell", "-hidden"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        alive = name.split("@")[0]
        deadline = time.monotonic() + 20
        while alive not in asyncio.run(epmd.names(epmd=builtin_epmd)):
            assert time.monotonic() < deadline, "erl did not register"
            time.sleep(0.1)
        entry = asyncio.run(epmd.port_please(alive, "127.0.0.1", builtin_epmd))
        assert entry is not None and entry.name == alive
        assert (entry.node_type, entry.highest, entry.lowest) == (epmd.NODE_TYPE_NORMAL, 6, 5)

        async def main() -> tuple[Any, ...]:
            listed = subprocess.run(
                [shutil.which("epmd") or "epmd", "-port", str(builtin_epmd), "-names"],
                capture_output=True,
                text=True,
                check=False,
            ).stdout
            return await Node.ping(name), await rpc.call(name, "erlang", "node", []), listed

        pong, node, listed = run_node(main)
        assert (pong, node) == ("pong", name)
        if shutil.which("epmd"):
            # Erlang's own epmd client reads tether's NAMES answer.
            assert f"name {alive} at port {entry.port}" in listed
    finally:
        erl.kill()
        erl.wait()


def test_a_node_starts_the_system_epmd_when_none_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    exe = shutil.which("epmd")
    if exe is None:
        pytest.skip("no epmd installed (the built-in one is tested below)")
    port = free_port()
    monkeypatch.setenv("ERL_EPMD_PORT", str(port))

    async def main() -> tuple[Any, ...]:
        dist = _n.NODE.dist  # type: ignore[union-attr]
        return dist.epmd_server, sorted(await epmd.names(epmd=port))

    try:
        server, names = run_node(main)
        assert server is None  # the system epmd, started as a daemon
        assert len(names) == 1 and names[0].startswith("py")
    finally:
        subprocess.run([exe, "-port", str(port), "-kill"], capture_output=True, check=False)


def test_without_erlang_a_node_runs_its_own_epmd(monkeypatch: pytest.MonkeyPatch) -> None:
    """No epmd running and none installed: the node serves epmd in its own loop,
    and another tether node registers there and is reached through it."""
    port = free_port()
    monkeypatch.setenv("ERL_EPMD_PORT", str(port))
    monkeypatch.setattr("tether._dist.node.shutil.which", lambda _name: None)
    twin_name = unique("twin")

    async def main() -> tuple[Any, ...]:
        dist = _n.NODE.dist  # type: ignore[union-attr]
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(HERE / "twin_node.py"),
            twin_name,
            COOKIE,
            stdout=asyncio.subprocess.PIPE,
            env={**os.environ, "ERL_EPMD_PORT": str(port)},
        )
        try:
            assert proc.stdout is not None
            assert await proc.stdout.readline() == b"READY\n"
            return (
                dist.epmd_server is not None,
                sorted(await epmd.names(epmd=port)),
                await rpc.call(twin_name, "pool", "square", [7]),
            )
        finally:
            proc.kill()
            await proc.wait()

    own, names, square = run_node(main)
    assert own is True
    assert len(names) == 2 and twin_name.split("@")[0] in names
    assert square == 49


def test_epmd_port_must_be_a_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ERL_EPMD_PORT", "nope")
    with pytest.raises(ValueError, match="ERL_EPMD_PORT must be a port number, got 'nope'"):
        epmd.epmd_port()
    monkeypatch.setenv("ERL_EPMD_PORT", "70000")
    with pytest.raises(ValueError, match="ERL_EPMD_PORT must be 1..65535, got 70000"):
        epmd.epmd_port()
    monkeypatch.delenv("ERL_EPMD_PORT")
    assert epmd.epmd_port() == 4369


def test_cookie_sources(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    from tether._dist.node import read_cookie

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("TETHER_COOKIE", raising=False)
    assert read_cookie("given") == "given"
    made = read_cookie(None)  # ~/.erlang.cookie created, owner-only, as erl does
    assert len(made) == 20 and made.isupper()
    assert oct((tmp_path / ".erlang.cookie").stat().st_mode & 0o777) == "0o400"
    assert read_cookie(None) == made
    monkeypatch.setenv("TETHER_COOKIE", "from-env")
    assert read_cookie(None) == "from-env"
    with pytest.raises(ValueError, match="tether.run: cookie must not be empty"):
        read_cookie("")
