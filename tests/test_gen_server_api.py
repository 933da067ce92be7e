"""GenServer's API edges: validation before any effect, the start spelling, class
options, via registries that fail, proc_lib metadata (issues #10 item 8, #13)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

import tether
from tether import (
    Agent,
    Exit,
    GenServer,
    NoReply,
    Ok,
    Process,
    ProcessExit,
    Reply,
    Stop,
    receive,
    self,
    send,
)
from tether.testing import wait_all_blocked

from .conftest import mailbox_now


class Recorder(GenServer):
    """Keeps every request it handles, in order."""

    def init(self, arg: Any, /) -> Any:
        return Ok([] if arg is None else arg)

    def handle_call(self, request: Any, from_: Any, state: Any, /) -> Any:
        if request == "seen":
            return Reply(state, state)
        if request == "stop_with_reply":
            return Stop("bye", state, reply="ok")
        return Reply("ok", [*state, request])

    def handle_cast(self, request: Any, state: Any, /) -> Any:
        return NoReply([*state, request])


# -- one spelling of start, two ways to write it ----------------------------------------


async def test_my_server_start_link_and_gen_server_start_link_start_the_same_server() -> None:
    _ok, a = await Recorder.start_link(["x"])
    _ok, b = await GenServer.start_link(Recorder, ["x"])
    _ok, c = await GenServer.start(Recorder)
    assert await GenServer.call(a, "seen") == ["x"]
    assert await GenServer.call(b, "seen") == ["x"]
    assert await GenServer.call(c, "seen") == []


async def test_gen_server_start_link_without_a_server_class_is_a_type_error() -> None:
    with pytest.raises(TypeError, match=r"GenServer.start_link: the first argument must be"):
        await GenServer.start_link(["x"])
    with pytest.raises(TypeError, match=r"GenServer.start: the first argument must be"):
        await GenServer.start()
    with pytest.raises(TypeError, match=r"Recorder.start_link: takes one init argument"):
        await Recorder.start_link(1, 2)
    assert Process.list() == [self()]


# -- use GenServer, restart: ... --------------------------------------------------------


def test_class_options_are_applied_by_child_spec_and_inherited() -> None:
    class Worker(GenServer, restart="transient", shutdown=10):
        pass

    class Sub(Worker):
        pass

    spec = Worker.child_spec(1)
    assert spec == {
        "id": Worker,
        "start": (Worker.start_link, (1,)),
        "restart": "transient",
        "shutdown": 10,
        "type": "worker",
    }
    assert Sub.child_spec(2)["restart"] == "transient"
    assert Sub.child_spec(2)["id"] is Sub
    assert GenServer.child_spec(0)["restart"] == "permanent"


def test_class_options_are_validated_when_the_class_is_made() -> None:
    with pytest.raises(ValueError, match=r"class Bad\(GenServer, \.\.\.\): restart must be"):

        class Bad(GenServer, restart="sometimes"):
            pass

    with pytest.raises(ValueError, match="shutdown must be a number of seconds >= 0"):

        class Bad2(GenServer, shutdown=-1):
            pass

    with pytest.raises(TypeError, match=r"unknown option\(s\) restarts"):

        class Bad3(GenServer, restarts="temporary"):  # type: ignore[call-arg]
            pass

    with pytest.raises(TypeError, match="start must be \\(function, args\\)"):

        class Bad4(GenServer, start="start_link"):
            pass

    with pytest.raises(ValueError, match="restart must be"):

        class Bad5(GenServer):
            restart = "never"


# -- validation before any effect (issue #10 item 8) ---------------------------------------


async def test_call_with_a_negative_timeout_raises_before_the_request_is_sent() -> None:
    _ok, pid = await Recorder.start_link()
    with pytest.raises(ValueError, match="GenServer.call: timeout must be >= 0 seconds"):
        await GenServer.call(pid, "hello", timeout=-1)
    with pytest.raises(TypeError, match="GenServer.call: timeout must be a number"):
        await GenServer.call(pid, "hello", timeout="5")  # type: ignore[arg-type]
    assert Process.info(self(), "monitors") == []
    assert await GenServer.call(pid, "seen") == []


async def test_stop_with_a_negative_timeout_raises_and_the_server_keeps_running() -> None:
    _ok, pid = await Recorder.start_link()
    with pytest.raises(ValueError, match="GenServer.stop: timeout must be >= 0 seconds"):
        await GenServer.stop(pid, "normal", -1)
    await wait_all_blocked()
    assert Process.alive(pid)
    assert await GenServer.call(pid, "seen") == []


async def test_an_empty_name_is_a_value_error_before_anything_is_spawned() -> None:
    with pytest.raises(ValueError, match="GenServer.start_link: name must not be empty"):
        await Recorder.start_link(name="")
    with pytest.raises(TypeError, match="GenServer.start_link: timeout must be a number"):
        await Recorder.start_link(timeout="soon")  # type: ignore[arg-type]
    assert Process.list() == [self()]


async def test_start_link_returns_an_error_tuple_when_init_calls_exit() -> None:
    class Quits(GenServer):
        def init(self, arg: Any, /) -> Any:
            tether.exit("boom")

    assert await Quits.start_link() == ("error", "boom")
    assert await mailbox_now() == []


async def test_reply_with_something_that_is_not_a_from_is_a_type_error() -> None:
    with pytest.raises(TypeError, match=r"GenServer.reply: from_ must be the \(pid, tag\) pair"):
        GenServer.reply(42, "x")
    with pytest.raises(TypeError, match="GenServer.reply: from_ must be"):
        GenServer.reply(("not a pid", "tag"), "x")
    assert await mailbox_now() == []
    # Any other tag goes to the pid, as gen:reply/2 sends it.
    assert GenServer.reply((self(), "tag"), "x") == "ok"
    assert await mailbox_now() == [("tag", "x")]


async def test_every_client_function_rejects_a_server_of_no_valid_form() -> None:
    for call in (
        lambda: GenServer.cast(42, "x"),
        lambda: GenServer.whereis(42),
        lambda: GenServer.whereis(("a", "b", "c")),
    ):
        with pytest.raises(TypeError, match="server must be a Pid, a name"):
            call()
    with pytest.raises(TypeError, match="GenServer.call: server must be"):
        await GenServer.call(42, "x")
    with pytest.raises(TypeError, match="GenServer.stop: server must be"):
        await GenServer.stop(42)
    assert Process.info(self(), "monitors") == []


async def test_multi_call_and_abcast_validate_before_sending() -> None:
    _ok, pid = await Recorder.start_link(name="rec")
    with pytest.raises(TypeError, match="GenServer.multi_call: nodes must be a list"):
        await GenServer.multi_call("rec", "x", nodes=["nohost"])
    with pytest.raises(ValueError, match="GenServer.multi_call: timeout must be >= 0"):
        await GenServer.multi_call("rec", "x", -1)
    with pytest.raises(TypeError, match="GenServer.abcast: name must be"):
        GenServer.abcast(pid, "x")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="GenServer.abcast: nodes must be"):
        GenServer.abcast("rec", "x", nodes="nonode@nohost")  # type: ignore[arg-type]
    assert await GenServer.call(pid, "seen") == []


# -- via names with a bad registry (issue #13) ------------------------------------------------


class NoVia:
    """Not a registry at all."""


class FailingVia:
    """A registry whose functions all raise."""

    @staticmethod
    def register_name(name: Any, pid: Any) -> str:
        raise RuntimeError("register_name failed")

    @staticmethod
    def unregister_name(name: Any) -> str:
        raise RuntimeError("unregister_name failed")

    @staticmethod
    def whereis_name(name: Any) -> Any:
        return None

    @staticmethod
    def send(name: Any, msg: Any) -> Any:
        raise RuntimeError("send failed")


async def test_a_via_name_without_the_via_functions_raises_in_the_caller() -> None:
    with pytest.raises(TypeError, match="the via registry .* has no register_name"):
        await Recorder.start_link(name=("via", NoVia, "k"))
    assert Process.list() == [self()]


async def test_a_via_registry_that_raises_gives_an_error_and_spares_the_linked_caller() -> None:
    result = await Recorder.start_link(name=("via", FailingVia, "k"))
    match result:
        case ("error", RuntimeError() as e):
            assert str(e) == "register_name failed"
        case _:
            pytest.fail(repr(result))
    assert await mailbox_now() == []
    assert Process.info(self(), "links") == []


async def test_cast_returns_ok_whatever_the_via_registry_does() -> None:
    assert GenServer.cast(("via", NoVia, "k"), "x") == "ok"
    assert GenServer.cast(("via", FailingVia, "k"), "x") == "ok"
    assert GenServer.cast(("via", "not a module", "k"), "x") == "ok"


# -- the crash report of Stop(reason, state, reply=...) ------------------------------------------


async def test_a_stop_with_reply_reports_the_last_message_from_and_the_client(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="tether")
    _ok, pid = await Recorder.start(["s"])
    assert await GenServer.call(pid, "stop_with_reply") == "ok"
    await wait_all_blocked()
    assert [r.getMessage() for r in caplog.records] == [
        f"GenServer {pid!r} terminating\n"
        "** (stop) :bye\n"
        f'Last message (from {self()!r}): "stop_with_reply"\n'
        'State: ["s"]\n'
        f"Client {self()!r} is alive"
    ]


async def test_a_registered_server_is_reported_by_its_name(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="tether")
    await Recorder.start([], name="recorder")
    GenServer.cast("recorder", "x")
    await GenServer.stop("recorder", ("custom", "/items/7.json"))
    assert [r.getMessage() for r in caplog.records] == [
        "GenServer :recorder terminating\n"
        '** (stop) (:custom, "/items/7.json")\n'
        "Last message: []\n"
        'State: ["x"]'
    ]


# -- proc_lib metadata ---------------------------------------------------------------------------


async def test_a_server_has_initial_call_and_ancestors_in_its_dictionary() -> None:
    Process.register(self(), "starter")
    _ok, pid = await Recorder.start_link()
    assert Process.info(pid, "dictionary") == {
        "$initial_call": (__name__, "Recorder", 1),
        "$ancestors": ["starter"],
    }

    class Parent(GenServer):
        async def handle_call(self, request: Any, from_: Any, state: Any, /) -> Any:
            _ok, child = await Recorder.start_link()
            return Reply(child, state)

    Process.unregister("starter")
    _ok, parent = await Parent.start_link()
    child = await GenServer.call(parent, "start a child")
    assert Process.info(child, "dictionary")["$ancestors"] == [parent, self()]
    initial = Process.info(parent, "dictionary")["$initial_call"]
    assert initial == (__name__, Parent.__qualname__, 1)


async def test_an_agent_has_the_function_as_its_initial_call() -> None:
    def make() -> int:
        return 1

    _ok, pid = await Agent.start_link(make)
    assert Process.info(pid, "dictionary") == {
        "$initial_call": (__name__, make.__qualname__, 0),
        "$ancestors": [self()],
    }
    with pytest.raises(TypeError, match="Agent.get: fun must be a function"):
        await Agent.get(pid, 42)  # type: ignore[arg-type]


# -- positional-only callbacks --------------------------------------------------------------


async def test_a_subclass_may_name_the_callback_parameters_as_it_likes() -> None:
    class Named(GenServer):
        def init(self, initial: Any) -> Any:
            return Ok(initial)

        def handle_call(self, msg: Any, caller: Any, counter: Any) -> Any:
            return Reply(counter + msg, counter + msg)

        def handle_info(self, message: Any, counter: Any) -> Any:
            send(message, counter)
            return NoReply(counter)

    _ok, pid = await Named.start_link(1)
    assert await GenServer.call(pid, 2) == 3
    send(pid, self())
    assert await receive(timeout=1) == 3


async def test_an_exit_from_the_parent_is_still_terminate_with_the_parents_reason() -> None:
    # A regression guard for the loop's parent check after the start rework.
    seen: list[Any] = []

    class Trapper(GenServer):
        def init(self, arg: Any, /) -> Any:
            Process.flag("trap_exit", True)
            return Ok(arg)

        def terminate(self, reason: Any, state: Any, /) -> Any:
            seen.append(reason)

    async def parent(me: Any) -> None:
        _ok, pid = await Trapper.start_link()
        send(me, pid)
        await Process.sleep(None)

    Process.flag("trap_exit", True)
    p = tether.spawn_link(parent, self())
    server = await receive(timeout=1)
    Process.exit(p, "going")
    await receive(Exit(p, tether.ANY))
    await wait_all_blocked()
    assert seen == ["going"]
    assert not Process.alive(server)
    with pytest.raises(ProcessExit):
        await GenServer.call(server, "x")


async def test_a_via_name_in_an_unknown_registry_gives_an_error_not_a_linked_death() -> None:
    result = await Recorder.start_link(name=("via", tether.Registry, ("no_such_registry", "k")))
    match result:
        case ("error", ValueError() as e):
            assert "unknown registry 'no_such_registry'" in str(e)
        case _:
            pytest.fail(repr(result))
    assert await mailbox_now() == []
    assert Process.alive(self())
