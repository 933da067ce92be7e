"""§5 Process.info, alive, registration (PI-1 … PI-4) and the process dictionary."""

from __future__ import annotations

import pytest

import tether
from tether import Process, receive, self, send, spawn
from tether.testing import wait_all_blocked

from .conftest import wait_forever


async def test_info_of_a_dead_pid_is_none_in_every_form() -> None:
    dead = tether.pid(0, 999_999, 0)
    assert Process.info(dead) is None
    assert Process.info(dead, "links") is None
    assert Process.info(dead, ["links", "status"]) is None


async def test_registered_name_is_none_unnamed_and_the_name_when_named() -> None:
    assert Process.info(self(), "registered_name") is None
    assert Process.info(self(), ["registered_name"]) == {"registered_name": None}
    Process.register(self(), "me")
    assert Process.info(self(), "registered_name") == "me"


async def test_info1_has_the_beam_keys_in_order_registered_name_first() -> None:
    assert list(Process.info(self())) == [
        "current_function",
        "initial_call",
        "status",
        "message_queue_len",
        "links",
        "dictionary",
        "trap_exit",
        "reductions",
    ]
    Process.register(self(), "named")
    assert next(iter(Process.info(self()))) == "registered_name"


async def test_info_list_form_keeps_the_asked_order() -> None:
    assert list(Process.info(self(), ["trap_exit", "links", "status"])) == [
        "trap_exit",
        "links",
        "status",
    ]


async def test_status_running_for_self_waiting_for_blocked_runnable_for_new() -> None:
    pid = spawn(wait_forever)
    assert Process.info(pid, "status") == "runnable"
    await wait_all_blocked()
    assert Process.info(pid, "status") == "waiting"
    assert Process.info(self(), "status") == "running"


async def test_current_function_names_the_python_function_and_line_it_waits_in() -> None:
    async def parked() -> None:
        await receive(lambda m: m == "never")

    pid = spawn(parked)
    await wait_all_blocked()
    mod, name, line = Process.info(pid, "current_function")
    assert (mod, name) == (
        __name__,
        "test_current_function_names_the_python_function_and_line_it_waits_in.<locals>.parked",
    )
    assert line == parked.__code__.co_firstlineno + 1
    stack = Process.info(pid, "current_stacktrace")
    assert stack[0][:2] == (mod, name)


async def test_initial_call_and_memory() -> None:
    pid = spawn(wait_forever)
    assert Process.info(pid, "initial_call") == ("tests.conftest", "wait_forever", 0)
    mem = Process.info(pid, "memory")
    assert isinstance(mem, int) and mem > 0


async def test_unknown_item_raises_value_error_listing_the_items() -> None:
    with pytest.raises(ValueError, match="Process.info: unknown item 'bogus'; known items: "):
        Process.info(self(), "bogus")
    with pytest.raises(TypeError, match="Process.info: pid must be a tether.Pid"):
        Process.info("x")  # type: ignore[arg-type]


async def test_pi1_alive_self_is_true() -> None:
    assert Process.alive(self()) is True


async def test_pi2_register_errors_for_taken_name_named_process_and_dead_pid() -> None:
    a = spawn(wait_forever)
    assert Process.register(a, "a") is True
    b = spawn(wait_forever)
    with pytest.raises(ValueError, match="the name is already taken"):
        Process.register(b, "a")
    with pytest.raises(ValueError, match="could not register"):
        Process.register(a, "other")
    Process.exit(b, "kill")
    with pytest.raises(ValueError, match="not alive"):
        Process.register(b, "b")
    with pytest.raises(TypeError, match="name must be a non-empty str"):
        Process.register(a, 42)  # type: ignore[arg-type]


async def test_pi3_name_is_released_when_its_process_dies() -> None:
    pid = spawn(wait_forever)
    Process.register(pid, "gone")
    assert Process.whereis("gone") == pid
    assert Process.registered() == ["gone"]
    Process.exit(pid, "kill")
    assert Process.whereis("gone") is None
    assert Process.registered() == []


async def test_unregister_returns_true_and_raises_for_an_unknown_name() -> None:
    Process.register(self(), "x")
    assert Process.unregister("x") is True
    with pytest.raises(ValueError, match="no process is registered as 'x'"):
        Process.unregister("x")


async def test_pi4_list_has_every_live_process_in_spawn_order() -> None:
    a = spawn(wait_forever)
    b = spawn(wait_forever)
    assert Process.list() == [self(), a, b]
    Process.exit(a, "kill")
    assert Process.list() == [self(), b]


async def test_process_dictionary_put_get_delete() -> None:
    assert Process.put("k", 1) is None
    assert Process.put("k", 2) == 1
    assert Process.get("k") == 2
    assert Process.get("missing", "dflt") == "dflt"
    assert Process.get() == {"k": 2}
    assert Process.info(self(), "dictionary") == {"k": 2}
    assert Process.delete("k") == 2
    assert Process.get() == {}


async def test_info_monitors_and_monitored_by_and_trap_exit() -> None:
    pid = spawn(wait_forever)
    Process.monitor(pid)
    Process.flag("trap_exit", True)
    assert Process.info(self(), ["monitors", "trap_exit"]) == {
        "monitors": [("process", pid)],
        "trap_exit": True,
    }
    assert Process.info(pid, "monitored_by") == [self()]
    send(pid, "x")
