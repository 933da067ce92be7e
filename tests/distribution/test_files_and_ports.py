"""The cookie file and the epmd port (issue #12 item 6)."""

from __future__ import annotations

import asyncio
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tether._dist import epmd
from tether._dist.node import read_cookie

from .conftest import free_port, run_node, wait_port

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("TETHER_COOKIE", raising=False)
    return tmp_path


def test_a_cookie_file_others_can_read_is_refused_as_erl_refuses_it(home: Path) -> None:
    path = home / ".erlang.cookie"
    path.write_text("SECRET")
    path.chmod(0o644)
    with pytest.raises(ValueError) as e:
        read_cookie(None)
    assert str(e.value) == (
        f"tether.run: cookie file {path} must be accessible by owner only (its mode is 644; "
        "chmod 400 it, as erl demands)"
    )
    path.chmod(0o400)
    assert read_cookie(None) == "SECRET"


def test_a_dangling_cookie_symlink_is_refused_and_its_target_not_created(home: Path) -> None:
    target = home / "elsewhere"
    (home / ".erlang.cookie").symlink_to(target)
    with pytest.raises(ValueError) as e:
        read_cookie(None)
    assert str(e.value) == (
        f"tether.run: cookie file {home / '.erlang.cookie'} is a symbolic link to a file that "
        "does not exist; remove it or pass cookie="
    )
    assert not target.exists()


def test_a_cookie_file_that_is_not_a_regular_file_is_refused(home: Path) -> None:
    (home / ".erlang.cookie").mkdir()
    with pytest.raises(ValueError, match="is not a regular file"):
        read_cookie(None)


def test_the_builtin_epmd_listens_on_loopback_by_default() -> None:
    async def main() -> list[Any]:
        srv = epmd.EpmdServer()
        await srv.start(free_port())
        assert srv.server is not None
        addrs = [s.getsockname()[0] for s in srv.server.sockets]
        srv.close()
        return addrs

    assert asyncio.run(main()) == ["127.0.0.1"]


class _FakeWriter:
    def __init__(self, peer: tuple[str, int], mine: tuple[str, int]) -> None:
        self.info = {"peername": peer, "sockname": mine}
        self.out = bytearray()

    def get_extra_info(self, key: str) -> Any:
        return self.info.get(key)

    def write(self, data: bytes) -> None:
        self.out += data

    async def drain(self) -> None:
        pass

    def close(self) -> None:
        pass


def _alive2(name: str, port: int) -> bytes:
    raw = name.encode()
    body = struct.pack(">BHBBHHH", epmd.ALIVE2_REQ, port, 77, 0, 6, 5, len(raw)) + raw + b"\0\0"
    return struct.pack(">H", len(body)) + body


@pytest.mark.parametrize(
    ("peer", "registered"),
    [
        (("10.1.2.3", 5000), False),  # another host
        (("127.0.0.1", 5000), True),
        (("::1", 5000), True),
        (("192.168.7.7", 5000), True),  # this host, through its own external address
    ],
)
def test_the_builtin_epmd_takes_registrations_from_this_host_only(
    peer: tuple[str, int], registered: bool, caplog: pytest.LogCaptureFixture
) -> None:
    """As epmd_srv.c: an ALIVE2_REQ from a non-local peer is refused (logged,
    connection closed, nothing answered)."""

    async def main() -> tuple[Any, ...]:
        srv = epmd.EpmdServer()
        reader = asyncio.StreamReader()
        reader.feed_data(_alive2("intruder", 4242))
        reader.feed_eof()
        writer = _FakeWriter(peer, ("192.168.7.7", 4369))
        await srv._client(reader, writer)  # type: ignore[arg-type]
        return bytes(writer.out[:2]), "intruder" in srv.nodes

    answer, _still = asyncio.run(main())
    if registered:
        assert answer == bytes([epmd.ALIVE2_X_RESP, 0])
    else:
        assert answer == b""
        assert "refused ALIVE2_REQ from ('10.1.2.3', 5000): not a local address" in caplog.text


def test_a_node_registers_again_after_epmd_restarts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Erlang and Elixir nodes register again when epmd comes back; so does tether
    (epmd ends the registration's TCP connection when it stops)."""
    port = free_port()
    monkeypatch.setenv("ERL_EPMD_PORT", str(port))
    exe = shutil.which("epmd")
    cmd = [exe] if exe else [sys.executable, "-m", "tether.epmd"]

    def start_epmd() -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            [*cmd, "-port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_port(port)
        return proc

    first = start_epmd()
    procs = [first]

    async def main() -> tuple[Any, ...]:
        import tether

        alive = str(tether.node()).split("@")[0]
        before = alive in await epmd.names(epmd=port)
        first.terminate()
        first.wait()
        procs.append(start_epmd())  # a new epmd, empty, on the same port
        deadline = time.monotonic() + 30  # re-registration tries every <= 2 s
        while time.monotonic() < deadline:
            if alive in await epmd.names(epmd=port):
                return before, True
            await asyncio.sleep(0.1)
        return before, False

    try:
        assert run_node(main) == (True, True)
    finally:
        for p in procs:
            p.terminate()
            p.wait()
