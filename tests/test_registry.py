"""Registry: unique and duplicate keys, cleanup when the owner dies, via names."""

from __future__ import annotations

from typing import Any

import pytest

import tether
from tether import GenServer, Process, Registry, Reply, receive, self, send, spawn
from tether.testing import wait_all_blocked


async def test_register_lookup_unregister_unique() -> None:
    await Registry.start_link(name="reg")
    ok, owner = Registry.register("reg", "k", 1)
    assert ok == "ok" and owner in Process.info(self(), "links")
    assert Registry.lookup("reg", "k") == [(self(), 1)]
    assert Registry.keys("reg", self()) == ["k"]
    me = self()

    async def other() -> None:
        send(me, Registry.register("reg", "k", 2))

    spawn(other)
    assert await receive() == ("error", ("already_registered", self()))
    assert Registry.unregister("reg", "k") == "ok"
    assert Registry.lookup("reg", "k") == []


async def test_entries_are_removed_when_the_owner_dies() -> None:
    await Registry.start_link(name="reg")
    me = self()

    async def owner() -> None:
        Registry.register("reg", "job", "v")
        send(me, "registered")
        await Process.sleep(None)

    pid = spawn(owner)
    await receive()
    assert Registry.lookup("reg", "job") == [(pid, "v")]
    Process.exit(pid, "kill")
    await wait_all_blocked()
    assert Registry.lookup("reg", "job") == []
    assert Registry.keys("reg", pid) == []


async def test_duplicate_keys_hold_many_processes() -> None:
    await Registry.start_link(name="topics", keys="duplicate")
    Registry.register("topics", "news", 1)
    Registry.register("topics", "news", 2)
    assert Registry.lookup("topics", "news") == [(self(), 1), (self(), 2)]


async def test_registry_as_a_via_name_for_a_genserver() -> None:
    class Counter(GenServer):
        def handle_call(self, request: Any, from_: Any, state: Any) -> Any:
            return Reply(state, state + 1)

    await Registry.start_link(name="reg")
    via = ("via", Registry, ("reg", "counter"))
    ok, pid = await Counter.start_link(0, name=via)
    assert ok == "ok" and Registry.whereis_name(("reg", "counter")) == pid
    assert await GenServer.call(via, "next") == 0
    assert await GenServer.call(via, "next") == 1
    assert await Counter.start_link(0, name=via) == ("error", ("already_started", pid))
    await GenServer.stop(via)
    await wait_all_blocked()
    assert Registry.whereis_name(("reg", "counter")) is None


async def test_unknown_registry_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown registry 'nope'"):
        Registry.lookup("nope", 1)
    with pytest.raises(ValueError, match="keys must be 'unique' or 'duplicate'"):
        await Registry.start_link(name="x", keys="many")
    assert tether.Registry is Registry
