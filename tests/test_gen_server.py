"""GenServer: G-1 … G-21, LOG-3 and LOG-6."""

from __future__ import annotations

import logging
from typing import Any

import pytest

import tether
from tether import (
    ANY,
    HIBERNATE,
    Continue,
    Down,
    Error,
    Exit,
    GenServer,
    Ignore,
    NoReply,
    Ok,
    Process,
    ProcessExit,
    Reply,
    Stop,
    receive,
    self,
    send,
    spawn,
)
from tether.testing import clock, wait_all_blocked

from .conftest import mailbox_now


class Stack(GenServer):
    def init(self, arg: Any) -> Any:
        return Ok(list(arg))

    def handle_call(self, request: Any, from_: Any, state: Any) -> Any:
        match request:
            case "pop":
                return Reply(state[0], state[1:])
            case "state":
                return Reply(state, state)
            case ("sleep", secs):
                return ("sleep", secs)  # a bad return, unless overridden
            case "stop_with_reply":
                return Stop("normal", state, reply="bye")
            case "crash":
                raise RuntimeError("call crash")
        return Reply(None, state)

    def handle_cast(self, request: Any, state: Any) -> Any:
        match request:
            case ("push", x):
                return NoReply([x, *state])
        return NoReply(state)


class Slow(GenServer):
    async def handle_call(self, request: Any, from_: Any, state: Any) -> Any:
        await Process.sleep(request)
        return Reply("late", state)


async def test_g1_start_link_links_and_returns_ok_pid_after_init() -> None:
    result = await Stack.start_link(["a"])
    match result:
        case ("ok", pid):
            assert Process.info(self(), "links") == [pid]
            assert await GenServer.call(pid, "pop") == "a"
        case _:
            pytest.fail(repr(result))


async def test_g1_start_does_not_link() -> None:
    ok, _pid = await Stack.start([])
    assert ok == "ok" and Process.info(self(), "links") == []


async def test_g2_init_with_continue_runs_handle_continue_first() -> None:
    class Loader(GenServer):
        def init(self, arg: Any) -> Any:
            return Ok([], Continue("load"))

        def handle_continue(self, arg: Any, state: Any) -> Any:
            return NoReply([*state, arg])

        def handle_call(self, request: Any, from_: Any, state: Any) -> Any:
            return Reply(state, state, HIBERNATE)

    _, pid = await Loader.start_link()
    assert await GenServer.call(pid, "get") == ["load"]


async def test_g3_init_ignore_returns_ignore_and_leaves_no_link() -> None:
    class Ignorer(GenServer):
        def init(self, arg: Any) -> Any:
            return Ignore()

    assert await Ignorer.start_link() == "ignore"
    assert Process.info(self(), "links") == []
    await wait_all_blocked()
    assert await mailbox_now() == []


@pytest.mark.parametrize("trap", [False, True])
async def test_g4_init_stop_returns_error_synchronously_with_no_exit_otp26(trap: bool) -> None:
    class Stopper(GenServer):
        def init(self, arg: Any) -> Any:
            return Stop("no_way")

    Process.flag("trap_exit", trap)
    assert await Stopper.start_link() == ("error", "no_way")
    assert Process.info(self(), "links") == []
    await wait_all_blocked()
    assert await mailbox_now() == []


async def test_g4_init_error_returns_error() -> None:
    class Failer(GenServer):
        def init(self, arg: Any) -> Any:
            return Error("bad_config")

    assert await Failer.start_link() == ("error", "bad_config")


async def test_g5_init_raising_returns_error_with_the_exception() -> None:
    class Raiser(GenServer):
        def init(self, arg: Any) -> Any:
            raise ValueError("init boom")

    result = await Raiser.start_link()
    assert result[0] == "error" and type(result[1]) is ValueError
    assert Process.alive(self()) is True


async def test_g6_start_timeout_returns_error_timeout_and_kills_the_server() -> None:
    class Sleeper(GenServer):
        async def init(self, arg: Any) -> Any:
            await Process.sleep(10)
            return Ok(None)

    Process.flag("trap_exit", True)
    assert await Sleeper.start_link(timeout=1) == ("error", "timeout")
    assert Process.list() == [self()]
    assert await mailbox_now() == []


async def test_g7_call_timeout_exits_caller_and_the_late_reply_is_dropped() -> None:
    _, pid = await Slow.start_link()
    with pytest.raises(ProcessExit) as info:
        await GenServer.call(pid, 3, timeout=1)
    assert info.value.reason == ("timeout", ("GenServer.call", pid, 3, 1))
    assert Process.alive(pid) is True
    await Process.sleep(5)
    assert await mailbox_now() == []


async def test_g8_call_noproc_for_dead_pid_unknown_name_and_none() -> None:
    dead = tether.pid(0, 999_999, 0)
    for server in (dead, "nobody", None):
        with pytest.raises(ProcessExit) as info:
            await GenServer.call(server, "hi")
        assert info.value.reason == ("noproc", ("GenServer.call", server, "hi", 5.0))


async def test_g8_call_to_self_exits_calling_self() -> None:
    Process.register(self(), "me")
    for server in (self(), "me"):
        with pytest.raises(ProcessExit) as info:
            await GenServer.call(server, "hi")
        assert info.value.reason == ("calling_self", ("GenServer.call", server, "hi", 5.0))


async def test_g9_server_crash_during_call_exits_caller_with_its_reason() -> None:
    _ok, pid = await Stack.start([])
    with pytest.raises(ProcessExit) as info:
        await GenServer.call(pid, "crash")
    reason, mfa = info.value.reason
    assert type(reason) is RuntimeError and reason.args == ("call crash",)
    assert mfa == ("GenServer.call", pid, "crash", 5.0)


async def test_g10_stop_with_reply_runs_terminate_then_replies_then_exits() -> None:
    order: list[str] = []

    class Replier(Stack):
        def terminate(self, reason: Any, state: Any) -> Any:
            order.append(f"terminate {reason}")

    _ok, pid = await Replier.start([])
    ref = Process.monitor(pid)
    assert await GenServer.call(pid, "stop_with_reply") == "bye"
    assert order == ["terminate normal"]
    assert await receive(Down) == Down(ref, "process", pid, "normal")


async def test_g11_bad_callback_return_stops_with_bad_return_value() -> None:
    _ok, pid = await Stack.start([])
    ref = Process.monitor(pid)
    with pytest.raises(ProcessExit):
        await GenServer.call(pid, ("sleep", 1))
    down = await receive(Down)
    assert down == Down(ref, "process", pid, ("bad_return_value", ("sleep", 1)))


async def test_g12_cast_always_returns_ok() -> None:
    _, pid = await Stack.start_link([])
    assert GenServer.cast(pid, ("push", 1)) == "ok"
    assert GenServer.cast(tether.pid(0, 999_999, 0), "x") == "ok"
    assert GenServer.cast("nobody", "x") == "ok"
    assert GenServer.cast(("nobody", "other@host"), "x") == "ok"
    assert await GenServer.call(pid, "state") == [1]


async def test_g13_other_messages_go_to_handle_info() -> None:
    class Info(GenServer):
        def handle_info(self, msg: Any, state: Any) -> Any:
            return NoReply([*state, msg])

        def handle_call(self, request: Any, from_: Any, state: Any) -> Any:
            return Reply(state, state)

    _, pid = await Info.start_link([])
    send(pid, "hello")
    assert await GenServer.call(pid, "get") == ["hello"]


async def test_g14_default_handle_call_raises_and_caller_exits_with_it() -> None:
    class Bare(GenServer):
        pass

    _, pid = await Bare.start()
    with pytest.raises(ProcessExit) as info:
        await GenServer.call(pid, "x")
    reason = info.value.reason[0]
    assert type(reason) is RuntimeError
    assert (
        str(reason)
        == f"attempted to call GenServer {pid!r} but no handle_call/3 clause was provided"
    )


async def test_g15_terminate_runs_on_parent_exit_only_when_trapping() -> None:
    seen: list[Any] = []

    class Trapper(GenServer):
        def init(self, arg: Any) -> Any:
            Process.flag("trap_exit", arg)
            return Ok(None)

        def terminate(self, reason: Any, state: Any) -> Any:
            seen.append(reason)

    for trap in (True, False):

        async def parent(trap: bool = trap) -> None:
            await Trapper.start_link(trap)
            tether.exit("parent_gone")

        spawn(parent)
        await wait_all_blocked()
    assert seen == ["parent_gone"]
    assert Process.list() == [self()]


async def test_g15_trapping_server_gets_non_parent_exits_in_handle_info() -> None:
    class Trap(GenServer):
        def init(self, arg: Any) -> Any:
            Process.flag("trap_exit", True)
            return Ok([])

        def handle_call(self, request: Any, from_: Any, state: Any) -> Any:
            if request == "get":
                return Reply(state, state)

            async def child() -> None:
                tether.exit("child_bye")

            return Reply(tether.spawn_link(child), state)

        def handle_info(self, msg: Any, state: Any) -> Any:
            return NoReply([*state, msg])

    _, pid = await Trap.start_link()
    child = await GenServer.call(pid, "go")
    await wait_all_blocked()
    assert await GenServer.call(pid, "get") == [Exit(child, "child_bye")]
    assert Process.alive(pid) is True


async def test_g16_stop_is_synchronous_runs_terminate_and_returns_ok() -> None:
    seen: list[Any] = []

    class T(GenServer):
        def terminate(self, reason: Any, state: Any) -> Any:
            seen.append((reason, state))

    _, pid = await T.start(7)
    assert await GenServer.stop(pid, "shutdown") == "ok"
    assert seen == [("shutdown", 7)]
    assert Process.alive(pid) is False
    with pytest.raises(ProcessExit) as info:
        await GenServer.stop(pid)
    assert info.value.reason == ("noproc", ("GenServer.stop", pid, "normal", None))


async def test_g16_stop_timeout_leaves_the_server_alive() -> None:
    class Slowpoke(GenServer):
        async def terminate(self, reason: Any, state: Any) -> Any:
            await Process.sleep(10)

    _, pid = await Slowpoke.start()
    with pytest.raises(ProcessExit) as info:
        await GenServer.stop(pid, "normal", 1)
    assert info.value.reason == ("timeout", ("GenServer.stop", pid, "normal", 1))


async def test_g17_names_taken_name_and_bad_name() -> None:
    _ok, pid = await Stack.start_link([], name="stack")
    assert Process.whereis("stack") == pid
    assert await Stack.start_link([], name="stack") == ("error", ("already_started", pid))
    assert await GenServer.call("stack", "state") == []
    with pytest.raises(TypeError, match="expected name= to be one of"):
        await Stack.start_link([], name=42)
    await GenServer.stop("stack")
    assert Process.whereis("stack") is None
    assert Process.info(self(), "registered_name") is None


async def test_g18_timeout_action_calls_handle_info_timeout_unless_a_message_comes() -> None:
    class Ticker(GenServer):
        def init(self, arg: Any) -> Any:
            return Ok([], 2.0)

        def handle_info(self, msg: Any, state: Any) -> Any:
            return NoReply([*state, (msg, clock())])

        def handle_call(self, request: Any, from_: Any, state: Any) -> Any:
            return Reply(state, state)

    _, pid = await Ticker.start_link()
    await Process.sleep(5)
    assert await GenServer.call(pid, "get") == [("timeout", 2.0)]


async def test_g19_noreply_then_reply_from_another_process() -> None:
    class Deferred(GenServer):
        def handle_call(self, request: Any, from_: Any, state: Any) -> Any:
            async def helper() -> None:
                GenServer.reply(from_, ("deferred", request))

            spawn(helper)
            return NoReply(state)

    _, pid = await Deferred.start_link()
    assert await GenServer.call(pid, 1) == ("deferred", 1)


async def test_g20_whereis_forms() -> None:
    _, pid = await Stack.start_link([], name="s")
    assert GenServer.whereis(pid) == pid
    assert GenServer.whereis("s") == pid
    assert GenServer.whereis(("s", tether.node())) == pid
    assert GenServer.whereis("nope") is None
    assert GenServer.whereis(("s", "other@host")) == ("s", "other@host")


async def test_g21_requests_are_served_one_at_a_time_in_mailbox_order() -> None:
    class Log(GenServer):
        async def handle_call(self, request: Any, from_: Any, state: Any) -> Any:
            await Process.sleep(1)
            return Reply([*state, request], [*state, request])

    _, pid = await Log.start_link([])
    results: list[Any] = []
    me = self()

    async def caller(n: int) -> None:
        send(me, ("done", n, await GenServer.call(pid, n)))

    for n in range(3):
        spawn(caller, n)
    for _ in range(3):
        results.append(await receive(("done", ANY, ANY)))
    assert [r[2] for r in sorted(results)] == [[0], [0, 1], [0, 1, 2]]


async def test_log3_crash_report_and_quiet_reasons(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="tether")
    _, pid = await Stack.start([])
    with pytest.raises(ProcessExit):
        await GenServer.call(pid, "crash")
    text = [r.getMessage() for r in caplog.records]
    assert len(text) == 1
    assert text[0].splitlines() == [
        f"GenServer {pid!r} terminating",
        "** (RuntimeError) call crash",
        f'Last message (from {self()!r}): "crash"',
        "State: []",
        f"Client {self()!r} is alive",
    ]
    assert caplog.records[0].exc_info is not None
    caplog.clear()
    _ok, pid2 = await Stack.start([])
    await GenServer.stop(pid2, ("shutdown", "x"))
    assert caplog.records == []


async def test_log6_default_handle_info_logs_unexpected_messages_and_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="tether")
    _, pid = await Stack.start_link([])
    send(pid, "unexpected")
    assert await GenServer.call(pid, "state") == []
    assert [r.getMessage() for r in caplog.records] == [
        f'Stack {pid!r} received unexpected message in handle_info/2: "unexpected"'
    ]


async def test_exit_from_parent_without_trap_does_not_run_terminate() -> None:
    Process.flag("trap_exit", True)
    seen: list[Any] = []

    class T(GenServer):
        def terminate(self, reason: Any, state: Any) -> Any:
            seen.append(reason)

    _, pid = await T.start_link()
    Process.exit(pid, "boom")
    assert await receive(Exit) == Exit(pid, "boom")
    assert seen == []


async def test_calling_self_inside_a_callback_gives_the_server_pid() -> None:
    class Me(GenServer):
        def handle_call(self, request: Any, from_: Any, state: Any) -> Any:
            return Reply(self(), state)  # self is the instance; calling it is self()

    _, pid = await Me.start_link()
    assert await GenServer.call(pid, "who") == pid
