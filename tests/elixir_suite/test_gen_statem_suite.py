"""OTP's ``lib/stdlib/test/gen_statem_SUITE.erl``, ported to tether.GenStateMachine.

One test per case (a long case is split into ``<case>_...`` tests), named after
it, with the original name in a comment.  The suite runs its start, stop and
abnormal groups once per callback mode (``start`` and ``start_handle_event``
...); here those tests are parametrised over :data:`MODES`: ``Statem`` is the
suite's state machine in ``state_functions`` mode, ``StatemHE`` the same states
behind ``handle_event`` with the state names wrapped in a list, as the suite's
own ``handle_event/4`` does (so non-atom states are exercised too).  The
``map_statem`` machines of the later cases are :class:`MapStatem`.

Adaptations, each noted at its test: time is in seconds on the virtual clock;
where Erlang exits with ``{{Reason, Stacktrace}, ...}`` for an error raised
inside gen_statem (``bad_return_from_state_function`` ...) tether's reason is
the plain ``(Reason, Term)`` tuple; a call's exit names
``("GenStateMachine.call", server, request, timeout)`` for
``{gen_statem, call, [...]}``; and the suite's trick of forging a ``From`` out
of ``{self(), make_ref()}`` uses an alias (``Process.alias()``) as the tag,
because tether answers local ref tags at the alias, as OTP 24+ callers expect.
The cases with no meaning for tether are listed in this directory's README.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from typing import Any, ClassVar

import pytest

from tether import (
    ANY,
    HIBERNATE,
    Down,
    EventTimeout,
    Exit,
    GenericTimeout,
    GenStateMachine,
    Ignore,
    KeepState,
    KeepStateAndData,
    NextEvent,
    NextState,
    Pid,
    Postpone,
    Process,
    ProcessExit,
    RepeatState,
    RepeatStateAndData,
    ReplyTo,
    StateTimeout,
    Stop,
    StopAndReply,
    make_ref,
    node,
    receive,
    self,
    send,
)
from tether import exit as exit_
from tether.testing import clock

# -- helpers (the suite's own) ------------------------------------------------------


async def flush(timeout: float = 0.5) -> list[Any]:
    """The suite's flush/0: every message, until none comes for ``timeout`` s."""
    out = []
    while True:
        try:
            out.append(await receive(timeout=timeout))
        except TimeoutError:
            return out


async def verify_empty_msgq() -> None:
    assert await flush() == []


async def wfor(msg: Any) -> None:
    await receive(lambda m: m == msg, timeout=5)


async def expect_exit(coro: Any) -> Any:
    """?EXPECT_FAILURE for an exit: the reason the call exited with."""
    try:
        result = await coro
    except ProcessExit as e:
        return e.reason
    pytest.fail(f"expected an exit, got {result!r}")


def ok_pid(started: Any) -> Pid:
    """``{ok, Pid} = gen_statem:start...``"""
    assert type(started) is tuple and started[0] == "ok", started
    pid: Pid = started[1]
    return pid


def call_mfa(server: Any, request: Any, timeout: float | None = None) -> tuple[Any, ...]:
    return ("GenStateMachine.call", server, request, timeout)


async def stop_it(stm: Any) -> None:
    assert await GenStateMachine.call(stm, "stop") == "stopped"
    await check_stopped(stm)


async def check_stopped(stm: Any) -> None:
    reason = await expect_exit(GenStateMachine.call(stm, "there_you_are"))
    assert reason[1] == call_mfa(stm, "there_you_are")


async def check_state(stm: Any, state: str) -> None:
    result = await GenStateMachine.call(stm, "get")
    assert result[0] == "state" and result[1] == state


async def do_func_test(stm: Any) -> None:
    # The send_request/wait_response/check_response lines of the original are
    # left out: tether has no asynchronous request API (see the README).
    me = self()
    assert GenStateMachine.cast(stm, ("alive?", me)) == "ok"
    await wfor("yes")
    await do_connect(stm)
    GenStateMachine.cast(stm, ("alive?", me))
    await wfor("yes")
    for _ in range(3):
        await do_msg(stm)
    GenStateMachine.cast(stm, ("alive?", me))
    await wfor("yes")
    await do_disconnect(stm)
    GenStateMachine.cast(stm, ("alive?", me))
    await wfor("yes")


async def do_connect(stm: Any) -> None:
    await check_state(stm, "idle")
    GenStateMachine.cast(stm, ("connect", self()))
    await wfor("accept")
    await check_state(stm, "wfor_conf")
    tag = make_ref()
    GenStateMachine.cast(stm, ("ping", self(), tag))  # postponed in wfor_conf
    GenStateMachine.cast(stm, "confirm")
    await wfor(("pong", tag))
    await check_state(stm, "connected")


async def do_msg(stm: Any) -> None:
    await check_state(stm, "connected")
    r = make_ref()
    assert GenStateMachine.cast(stm, ("msg", self(), r)) == "ok"
    await wfor(("ack", r))


async def do_disconnect(stm: Any) -> None:
    assert GenStateMachine.cast(stm, "disconnect") == "ok"
    await check_state(stm, "idle")


async def do_sync_func_test(stm: Any) -> None:
    assert await GenStateMachine.call(stm, "alive?") == "yes"
    await do_sync_connect(stm)
    assert await GenStateMachine.call(stm, "alive?") == "yes"
    for _ in range(3):
        await do_sync_msg(stm)
    assert await GenStateMachine.call(stm, "alive?") == "yes"
    await do_sync_disconnect(stm)
    assert await GenStateMachine.call(stm, "alive?") == "yes"
    await check_state(stm, "idle")
    assert await GenStateMachine.call(stm, ("timeout", 0.2)) == "ok"
    assert await GenStateMachine.call(stm, "alive?") == "yes"
    await check_state(stm, "idle")


async def do_sync_connect(stm: Any) -> None:
    await check_state(stm, "idle")
    assert await GenStateMachine.call(stm, "connect") == "accept"
    await check_state(stm, "wfor_conf")
    tag = make_ref()
    GenStateMachine.cast(stm, ("ping", self(), tag))
    assert await GenStateMachine.call(stm, "confirm") == "yes"
    await wfor(("pong", tag))
    await check_state(stm, "connected")


async def do_sync_msg(stm: Any) -> None:
    await check_state(stm, "connected")
    r = make_ref()
    assert await GenStateMachine.call(stm, ("msg", r)) == ("ack", r)


async def do_sync_disconnect(stm: Any) -> None:
    assert await GenStateMachine.call(stm, "disconnect") == "yes"
    await check_state(stm, "idle")


class DummyVia:
    """The suite's dummy_via: a registry module for ``{via, dummy_via, Name}``."""

    names: ClassVar[dict[Any, Pid]] = {}

    @classmethod
    def reset(cls) -> None:
        cls.names = {}

    @classmethod
    def register_name(cls, name: Any, pid: Pid) -> str:
        if cls.whereis_name(name) is not None:
            return "no"
        cls.names[name] = pid
        return "yes"

    @classmethod
    def unregister_name(cls, name: Any) -> str:
        cls.names.pop(name, None)
        return "ok"

    @classmethod
    def whereis_name(cls, name: Any) -> Pid | None:
        pid = cls.names.get(name)
        return pid if pid is not None and Process.alive(pid) else None

    @classmethod
    def send(cls, name: Any, msg: Any) -> Any:
        pid = cls.whereis_name(name)
        if pid is None:
            raise ValueError(("badarg", (name, msg)))
        return send(pid, msg)


# -- the suite's state machine ----------------------------------------------------------


class Statem(GenStateMachine):
    """gen_statem_SUITE's own callback module, state by state."""

    callback_mode = "state_functions"

    async def init(self, arg: Any) -> Any:
        match arg:
            case "ignore":
                return Ignore()
            case "stop":
                return Stop("stopped")
            case "stop_shutdown":
                return Stop("shutdown")
            case "sleep":
                await Process.sleep(1)
                return NextState("idle", "data")
            case "hiber":
                return NextState("hiber_idle", [])
            case "hiber_now":
                return NextState("hiber_idle", [], [HIBERNATE])
            case ("data", data):
                return NextState("idle", data)
        return NextState("idle", "data")

    def terminate(self, reason: Any, state: Any, data: Any) -> Any:
        match data:
            case "crash_terminate":
                exit_(("crash", "terminate"))
            case ("undef_in_terminate", what):
                getattr(self, what)()  # no such method: AttributeError, Erlang's undef
        return None

    def format_status(self, status: dict[str, Any]) -> dict[str, Any]:
        # The original's format_status(terminate, [_, State, Data]) -> {formatted, State, Data}
        return {**status, "data": ("formatted", status["state"], status["data"])}

    # The state functions.

    async def idle(self, event_type: Any, content: Any, data: Any) -> Any:
        match event_type, content:
            case "info", ("hping", pid):
                send(pid, (self(), "hpong"))
                return KeepStateAndData()
            case "cast", ("hping", pid):
                send(pid, (self(), "hpong"))
                return KeepState(data)
            case ("call", from_), "hping":
                return KeepStateAndData([ReplyTo(from_, "hpong")])
            case "cast", ("connect", pid):
                send(pid, "accept")
                return NextState("wfor_conf", data, None)  # a no-op time-out, to test the API
            case ("call", from_), "connect":
                GenStateMachine.reply(from_, "accept")
                return NextState("wfor_conf", data, None)
            case ("call", _), "badreturn":
                return "badreturn"
            case ("call", _), "badaction":
                return KeepState(data, ["badaction"])
            case ("call", _), ("badtimeout", bad):
                return KeepState(data, [bad])  # a tuple alone would be a list of actions
            case ("call", from_), ("delayed_answer", t):
                await Process.sleep(t)
                GenStateMachine.reply(ReplyTo(from_, "delayed"))
                return KeepState(data)
            case ("call", from_), ("timeout", time):
                deadline = clock() + time
                return NextState(
                    "timeout", (from_, time), EventTimeout(deadline, "idle", absolute=True)
                )
            case "cast", "next_event":
                return NextState(
                    "next_events",
                    ["a", "b", "c"],
                    [
                        NextEvent("internal", "a"),
                        NextEvent("internal", "b"),
                        NextEvent("internal", "c"),
                    ],
                )
        result = handle_common_events(event_type, content, "idle", data)
        if result is not None:
            return result
        if isinstance(event_type, tuple):
            return KeepState(data, [ReplyTo(event_type[1], "eh?")])
        return Stop(("unexpected", "idle", event_type, content))

    def timeout(self, event_type: Any, content: Any, data: Any) -> Any:
        match event_type, content, data:
            case "timeout", "idle", (from_, time):
                tag = make_ref()
                Process.send_after(self(), ("timeout", tag, "ok"), time)  # erlang:start_timer
                return KeepState((from_, tag), 0)  # an immediate time-out 0
            case "timeout", 0, (from_, tag):
                # Postpone the time-out itself; the state change hands it to
                # timeout2 at once, which cancels the 1 s event time-out.
                return NextState(
                    "timeout2",
                    (from_, tag),
                    [EventTimeout(1, "should_be_cancelled"), Postpone()],
                )
        return KeepStateAndData()

    def timeout2(self, event_type: Any, content: Any, data: Any) -> Any:
        match event_type, content, data:
            case "timeout", 0, _:
                return KeepStateAndData()
            case "timeout", reason, _:
                return Stop(reason)
            case "info", ("timeout", tag, result), (from_, tag2) if tag == tag2:
                GenStateMachine.reply([ReplyTo(from_, result)])
                return NextState("idle", "state")
        return KeepStateAndData([])

    def wfor_conf(self, event_type: Any, content: Any, data: Any) -> Any:
        match event_type, content:
            case ("call", from_), "confirm":
                return NextState("connected", data, ReplyTo(from_, "yes"))
            case "cast", ("ping", _, _):
                return KeepStateAndData([Postpone()])
            case "cast", "confirm":
                return NextState("connected", data)
        result = handle_common_events(event_type, content, "wfor_conf", data)
        if result is not None:
            return result
        if isinstance(event_type, tuple):
            return NextState("idle", data, [ReplyTo(event_type[1], "eh?")])
        return KeepStateAndData()

    def connected(self, event_type: Any, content: Any, data: Any) -> Any:
        match event_type, content:
            case ("call", from_), ("msg", ref):
                return KeepState(data, ReplyTo(from_, ("ack", ref)))
            case "cast", ("msg", pid, ref):
                send(pid, ("ack", ref))
                return KeepState(data)
            case ("call", from_), "disconnect":
                return NextState("idle", data, [ReplyTo(from_, "yes")])
            case "cast", "disconnect":
                return NextState("idle", data)
            case "cast", ("ping", pid, tag):
                send(pid, ("pong", tag))
                return KeepState(data)
        result = handle_common_events(event_type, content, "connected", data)
        if result is not None:
            return result
        if isinstance(event_type, tuple):
            return KeepState(data, [ReplyTo(event_type[1], "eh?")])
        return KeepState(data)

    def hiber_idle(self, event_type: Any, content: Any, data: Any) -> Any:
        match event_type, content:
            case ("call", from_), "alive?":
                return KeepState(data, [ReplyTo(from_, "alive!")])
            case ("call", from_), "hibernate_sync":
                return NextState("hiber_wakeup", data, [ReplyTo(from_, "hibernating"), HIBERNATE])
            case "info", "hibernate_now":
                return KeepState(data, [HIBERNATE])
            case "cast", "hibernate_async":
                return NextState("hiber_wakeup", data, [HIBERNATE])
        result = handle_common_events(event_type, content, "hiber_idle", data)
        return KeepState(data) if result is None else result

    def hiber_wakeup(self, event_type: Any, content: Any, data: Any) -> Any:
        match event_type, content:
            case ("call", from_), "wakeup_sync":
                return NextState("hiber_idle", data, [ReplyTo(from_, "good_morning")])
            case ("call", from_), "snooze_sync":
                return KeepState(data, [ReplyTo(from_, "please_just_five_more"), HIBERNATE])
            case "cast", "wakeup_async":
                return NextState("hiber_idle", data)
            case "cast", "snooze_async":
                return KeepState(data, [HIBERNATE])
        result = handle_common_events(event_type, content, "hiber_wakeup", data)
        return KeepState(data) if result is None else result

    def next_events(self, event_type: Any, content: Any, data: Any) -> Any:
        if event_type == "internal" and data and content == data[0]:
            return KeepState(data[1:])
        result = handle_common_events(event_type, content, "next_events", data)
        return KeepState(data) if result is None else result


def handle_common_events(event_type: Any, content: Any, state: str, data: Any) -> Any:
    match event_type, content:
        case ("call", from_), "get_callback_mode":
            return KeepStateAndData(ReplyTo(from_, "state_functions"))
        case ("call", from_), "get":
            return KeepState(data, [ReplyTo(from_, ("state", state, data))])
        case "cast", ("get", pid):
            send(pid, ("state", state, data))
            return KeepState(data)
        case ("call", from_), "stop":
            return StopAndReply("normal", [ReplyTo(from_, "stopped")], data)
        case "cast", "stop":
            return Stop("normal")
        case ("call", from_), ("stop", reason):
            return StopAndReply(reason, ReplyTo(from_, "stopped"), data)
        case "cast", ("stop", reason):
            return Stop(reason)
        case ("call", from_), "alive?":
            return KeepState(data, [ReplyTo(from_, "yes")])
        case "cast", ("alive?", pid):
            send(pid, "yes")
            return KeepState(data)
    return None


class StatemHE(Statem):
    """The suite's handle_event/4: the same states, names wrapped in a list."""

    callback_mode = "handle_event_function"

    async def handle_event(self, event_type: Any, content: Any, state: Any, data: Any) -> Any:
        if event_type != "enter" and content == "get_callback_mode":
            return KeepStateAndData(ReplyTo(event_type[1], "handle_event_function"))
        name = state[0] if isinstance(state, list) else state
        result = getattr(self, name)(event_type, content, data)
        if inspect.isawaitable(result):
            result = await result
        if isinstance(result, NextState):
            return NextState([result.state], result.data, result.actions)
        return result


MODES = [
    pytest.param(Statem, id="state_functions"),
    pytest.param(StatemHE, id="handle_event_function"),
]


class MapStatem(GenStateMachine):
    """The suite's map_statem: ``machine[state](event_type, content, data)``."""

    def init(self, machine: dict[str, Any]) -> Any:
        self.machine = machine
        return machine["init"]()

    def handle_event(self, event_type: Any, content: Any, state: Any, data: Any) -> Any:
        return self.machine[state](event_type, content, data)


class MapStatemEnter(MapStatem):
    """map_statem with ``[state_enter]`` among its modes."""

    callback_mode = ("handle_event_function", "state_enter")


# -- group start ------------------------------------------------------------------------


# start1: anonymous
@pytest.mark.parametrize("cls", MODES)
async def test_start1_anonymous_start_link_serves_and_stops(cls: type[Statem]) -> None:
    pid = ok_pid(await cls.start_link([]))
    await do_func_test(pid)
    await do_sync_func_test(pid)
    await stop_it(pid)
    await verify_empty_msgq()


# start2: anonymous w. shutdown
@pytest.mark.parametrize("cls", MODES)
async def test_start2_anonymous_start_stops_with_shutdown(cls: type[Statem]) -> None:
    pid = ok_pid(await cls.start([]))
    await do_func_test(pid)
    await do_sync_func_test(pid)
    assert await GenStateMachine.call(pid, ("stop", "shutdown")) == "stopped"
    await check_stopped(pid)
    await verify_empty_msgq()


# start3: anonymous with timeout
@pytest.mark.parametrize("cls", MODES)
async def test_start3_start_with_timeout_and_an_init_that_outlasts_it(cls: type[Statem]) -> None:
    pid = ok_pid(await cls.start([], timeout=0.005))
    await do_func_test(pid)
    await do_sync_func_test(pid)
    await stop_it(pid)
    assert await cls.start("sleep", timeout=0.005) == ("error", "timeout")
    await verify_empty_msgq()


# start4: anonymous with ignore
@pytest.mark.parametrize("cls", MODES)
async def test_start4_init_ignore_returns_ignore(cls: type[Statem]) -> None:
    Process.flag("trap_exit", True)
    assert await cls.start("ignore") == "ignore"
    await verify_empty_msgq()


# start5: anonymous with stop
@pytest.mark.parametrize("cls", MODES)
async def test_start5_init_stop_returns_the_error(cls: type[Statem]) -> None:
    Process.flag("trap_exit", True)
    assert await cls.start("stop") == ("error", "stopped")
    await verify_empty_msgq()


# start6: anonymous linked
@pytest.mark.parametrize("cls", MODES)
async def test_start6_anonymous_linked(cls: type[Statem]) -> None:
    pid = ok_pid(await cls.start_link([]))
    await do_func_test(pid)
    await do_sync_func_test(pid)
    await stop_it(pid)
    await verify_empty_msgq()


# start7: global register linked
@pytest.mark.parametrize("cls", MODES)
async def test_start7_global_name_linked(cls: type[Statem]) -> None:
    stm = ("global", "my_stm")
    pid = ok_pid(await cls.start_link([], name=stm))
    assert await cls.start_link([], name=stm) == ("error", ("already_started", pid))
    assert await cls.start([], name=stm) == ("error", ("already_started", pid))
    await do_func_test(pid)
    await do_sync_func_test(pid)
    await do_func_test(stm)
    await do_sync_func_test(stm)
    await stop_it(stm)
    await verify_empty_msgq()


# start8: local register
@pytest.mark.parametrize("cls", MODES)
async def test_start8_local_name(cls: type[Statem]) -> None:
    pid = ok_pid(await cls.start([], name="my_stm"))
    assert await cls.start([], name="my_stm") == ("error", ("already_started", pid))
    await do_func_test(pid)
    await do_sync_func_test(pid)
    await do_func_test("my_stm")
    await do_sync_func_test("my_stm")
    await stop_it(pid)
    await verify_empty_msgq()


# start9: local register linked
@pytest.mark.parametrize("cls", MODES)
async def test_start9_local_name_linked(cls: type[Statem]) -> None:
    pid = ok_pid(await cls.start_link([], name="my_stm"))
    assert await cls.start([], name="my_stm") == ("error", ("already_started", pid))
    await do_func_test(pid)
    await do_sync_func_test(pid)
    await do_func_test("my_stm")
    await do_sync_func_test("my_stm")
    await stop_it(pid)
    await verify_empty_msgq()


# start10: global register
@pytest.mark.parametrize("cls", MODES)
async def test_start10_global_name(cls: type[Statem]) -> None:
    stm = ("global", "my_stm")
    pid = ok_pid(await cls.start([], name=stm))
    assert await cls.start([], name=stm) == ("error", ("already_started", pid))
    assert await cls.start_link([], name=stm) == ("error", ("already_started", pid))
    await do_func_test(pid)
    await do_sync_func_test(pid)
    await do_func_test(stm)
    await do_sync_func_test(stm)
    await stop_it(stm)
    await verify_empty_msgq()


# start11: Stop registered processes
@pytest.mark.parametrize("cls", MODES)
async def test_start11_a_stopped_name_can_be_started_again(cls: type[Statem]) -> None:
    pid = ok_pid(await cls.start_link([], name="my_stm"))
    await stop_it(pid)
    ok_pid(await cls.start_link([], name="my_stm"))
    await stop_it("my_stm")

    pid2 = ok_pid(await cls.start([], name=("global", "my_stm")))
    await stop_it(pid2)
    await Process.sleep(0.001)
    ok_pid(await cls.start([], name=("global", "my_stm")))
    await stop_it(("global", "my_stm"))
    await verify_empty_msgq()


# start12: Via register linked
@pytest.mark.parametrize("cls", MODES)
async def test_start12_via_name_linked(cls: type[Statem]) -> None:
    DummyVia.reset()
    via = ("via", DummyVia, "my_stm")
    pid = ok_pid(await cls.start_link([], name=via))
    assert await cls.start_link([], name=via) == ("error", ("already_started", pid))
    assert await cls.start([], name=via) == ("error", ("already_started", pid))
    await do_func_test(pid)
    await do_sync_func_test(pid)
    await do_func_test(via)
    await do_sync_func_test(via)
    await stop_it(via)
    await verify_empty_msgq()


# next_events: Test the order for multiple {next_event,T,C}
@pytest.mark.parametrize("cls", MODES)
async def test_next_events_are_handled_in_the_order_given(cls: type[Statem]) -> None:
    pid = ok_pid(await cls.start([]))
    assert GenStateMachine.cast(pid, "next_event") == "ok"
    assert await GenStateMachine.call(pid, "get") == ("state", "next_events", [])
    assert await GenStateMachine.stop(pid) == "ok"
    assert not Process.alive(pid)
    assert await expect_exit(GenStateMachine.stop(pid)) == "noproc"


# -- group stop ------------------------------------------------------------------------


# stop1: Anonymous, reason 'normal'
@pytest.mark.parametrize("cls", MODES)
async def test_stop1_anonymous_normal(cls: type[Statem]) -> None:
    pid = ok_pid(await cls.start([]))
    assert await GenStateMachine.stop(pid) == "ok"
    assert not Process.alive(pid)
    assert await expect_exit(GenStateMachine.stop(pid)) == "noproc"


# stop2: Anonymous, other reason
@pytest.mark.parametrize("cls", MODES)
async def test_stop2_anonymous_other_reason(cls: type[Statem]) -> None:
    pid = ok_pid(await cls.start([]))
    assert await GenStateMachine.stop(pid, "other_reason", None) == "ok"
    assert not Process.alive(pid)


# stop3: Anonymous, invalid timeout
@pytest.mark.parametrize("cls", MODES)
async def test_stop3_invalid_timeout_fails_and_leaves_the_machine_alive(
    cls: type[Statem],
) -> None:
    pid = ok_pid(await cls.start([]))
    with pytest.raises(TypeError, match="GenStateMachine.stop: timeout"):
        await GenStateMachine.stop(pid, "other_reason", "invalid_timeout")  # type: ignore[arg-type]
    assert Process.alive(pid)
    assert await GenStateMachine.stop(pid) == "ok"
    assert not Process.alive(pid)


# stop4: Registered name
@pytest.mark.parametrize("cls", MODES)
async def test_stop4_registered_name(cls: type[Statem]) -> None:
    pid = ok_pid(await cls.start([], name="to_stop"))
    assert await GenStateMachine.stop("to_stop") == "ok"
    assert not Process.alive(pid)
    assert await expect_exit(GenStateMachine.stop("to_stop")) == "noproc"


# stop5: Registered name and local node
@pytest.mark.parametrize("cls", MODES)
async def test_stop5_registered_name_and_local_node(cls: type[Statem]) -> None:
    pid = ok_pid(await cls.start([], name="to_stop"))
    assert await GenStateMachine.stop(("to_stop", node())) == "ok"
    assert not Process.alive(pid)
    assert await expect_exit(GenStateMachine.stop(("to_stop", node()))) == "noproc"


# stop6: Globally registered name
@pytest.mark.parametrize("cls", MODES)
async def test_stop6_global_name(cls: type[Statem]) -> None:
    stm = ("global", "to_stop")
    pid = ok_pid(await cls.start([], name=stm))
    assert await GenStateMachine.stop(stm) == "ok"
    assert not Process.alive(pid)
    assert await expect_exit(GenStateMachine.stop(stm)) == "noproc"


# stop7: 'via' registered name
@pytest.mark.parametrize("cls", MODES)
async def test_stop7_via_name(cls: type[Statem]) -> None:
    via = ("via", DummyVia, "to_stop")
    DummyVia.reset()
    pid = ok_pid(await cls.start([], name=via))
    assert await GenStateMachine.stop(via) == "ok"
    assert not Process.alive(pid)
    assert await expect_exit(GenStateMachine.stop(via)) == "noproc"


# -- group abnormal ------------------------------------------------------------------------


# abnormal1: Check that time outs in calls work
@pytest.mark.parametrize("cls", MODES)
async def test_abnormal1_call_timeout_exits_and_the_late_reply_is_dropped(
    cls: type[Statem],
) -> None:
    ok_pid(await cls.start([], name="abnormal1"))
    assert await GenStateMachine.call("abnormal1", ("delayed_answer", 0.001), 0.1) == "delayed"
    reason = await expect_exit(GenStateMachine.call("abnormal1", ("delayed_answer", 1), 0.01))
    assert reason == ("timeout", call_mfa("abnormal1", ("delayed_answer", 1), 0.01))
    assert await GenStateMachine.stop("abnormal1") == "ok"
    await Process.sleep(1.1)
    await verify_empty_msgq()


# abnormal2: Check that bad return values makes the stm crash.  Erlang's exit is
# {{{bad_return_from_state_function, badreturn}, Stacktrace}, _}.
@pytest.mark.parametrize("cls", MODES)
async def test_abnormal2_a_bad_return_value_crashes_the_machine(cls: type[Statem]) -> None:
    Process.flag("trap_exit", True)
    pid = ok_pid(await cls.start_link([]))
    cause = ("bad_return_from_state_function", "badreturn")
    assert await expect_exit(GenStateMachine.call(pid, "badreturn")) == (
        cause,
        call_mfa(pid, "badreturn"),
    )
    assert await receive(Exit(pid, ANY), timeout=5) == Exit(pid, cause)
    await verify_empty_msgq()


# abnormal3: Check that bad return actions makes the stm crash
@pytest.mark.parametrize("cls", MODES)
async def test_abnormal3_a_bad_action_crashes_the_machine(cls: type[Statem]) -> None:
    Process.flag("trap_exit", True)
    pid = ok_pid(await cls.start_link([]))
    cause = ("bad_action_from_state_function", "badaction")
    assert await expect_exit(GenStateMachine.call(pid, "badaction")) == (
        cause,
        call_mfa(pid, "badaction"),
    )
    assert await receive(Exit(pid, ANY), timeout=5) == Exit(pid, cause)
    await verify_empty_msgq()


# abnormal4: Check that bad timeout actions makes the stm crash
@pytest.mark.parametrize("cls", MODES)
async def test_abnormal4_a_bad_timeout_action_crashes_the_machine(cls: type[Statem]) -> None:
    Process.flag("trap_exit", True)
    pid = ok_pid(await cls.start_link([]))
    bad_timeout = ("badtimeout", 4711, "ouch")
    cause = ("bad_action_from_state_function", bad_timeout)
    request = ("badtimeout", bad_timeout)
    assert await expect_exit(GenStateMachine.call(pid, request)) == (
        cause,
        call_mfa(pid, request),
    )
    assert await receive(Exit(pid, ANY), timeout=5) == Exit(pid, cause)
    await verify_empty_msgq()


# -- single cases ----------------------------------------------------------------------------


# shutdown
async def test_shutdown_stop_with_shutdown_reason_then_noproc() -> None:
    Process.flag("trap_exit", True)
    pid = ok_pid(await Statem.start_link([]))
    await do_func_test(pid)
    await do_sync_func_test(pid)
    assert await GenStateMachine.call(pid, ("stop", ("shutdown", "reason"))) == "stopped"
    assert await receive(Exit(pid, ANY)) == Exit(pid, ("shutdown", "reason"))
    Process.flag("trap_exit", False)
    reason = await expect_exit(GenStateMachine.call(pid, "hej"))
    assert reason == ("noproc", call_mfa(pid, "hej"))
    await verify_empty_msgq()


# stop_and_reply
async def test_stop_and_reply_sends_every_reply_then_exits() -> None:
    Process.flag("trap_exit", True)

    def start(event_type: Any, content: Any, data: Any) -> Any:
        match event_type, content:
            case "cast", ("echo", from1, reply1):
                return NextState("wait", ReplyTo(from1, reply1))

    def wait(event_type: Any, content: Any, r1: Any) -> Any:
        match event_type, content:
            case "cast", ("stop_and_reply", reason, from2, reply2):
                return StopAndReply(reason, [r1, ReplyTo(from2, reply2)])

    machine = {"init": lambda: NextState("start", None), "start": start, "wait": wait}
    stm = ok_pid(await MapStatem.start_link(machine))
    me = self()
    tag1 = Process.alias()
    GenStateMachine.cast(stm, ("echo", (me, tag1), "reply1"))
    tag2 = Process.alias()
    GenStateMachine.cast(stm, ("stop_and_reply", "reason", (me, tag2), "reply2"))
    assert await flush() == [(tag1, "reply1"), (tag2, "reply2"), Exit(stm, "reason")]
    reason = await expect_exit(GenStateMachine.call(stm, "hej"))
    assert reason[0] == "noproc"
    assert await flush() == []


# state_enter
async def test_state_enter_calls_repeat_and_their_timeouts() -> None:
    Process.flag("trap_exit", True)
    me = self()

    def start(event_type: Any, content: Any, n: Any) -> Any:
        match event_type, content:
            case "enter", prev:
                send(me, (n, "enter", "start", prev))
                return KeepState(n + 1)
            case "internal", prev:
                send(me, (n, "internal", "start", prev))
                return KeepState(n + 1)
            case "timeout", m:
                return KeepState(n + 1, ReplyTo((me, n), ("timeout", m)))
            case ("call", from_), "repeat":
                return RepeatState(n + 1, [ReplyTo(from_, (n, "repeat", "start"))])
            case ("call", from_), "echo":
                return NextState(
                    "wait", n + 1, [ReplyTo(from_, (n, "echo", "start")), EventTimeout(0, n)]
                )
            case ("call", from_), ("stop", reason):
                return StopAndReply(reason, [ReplyTo(from_, (n, "stop"))], n + 1)

    def wait(event_type: Any, content: Any, n: Any) -> Any:
        match event_type, content:
            case "enter", prev if n < 5:
                return RepeatState(
                    n + 1,
                    [ReplyTo((me, n), ("enter", prev)), EventTimeout(0, n), StateTimeout(0, n)],
                )
            case "enter", prev:
                send(me, (n, "enter", "wait", prev))
                return KeepState(n + 1, [EventTimeout(0, n), StateTimeout(0, n)])
            case "timeout", m:
                return KeepState(n + 1, ReplyTo((me, n), ("timeout", m)))
            case "state_timeout", m:
                return KeepState(n + 1, ReplyTo((me, n), ("state_timeout", m)))
            case ("call", from_), "repeat":
                return RepeatStateAndData(
                    [ReplyTo(from_, (n, "repeat", "wait")), EventTimeout(0, n)]
                )
            case ("call", from_), "echo":
                return NextState(
                    "start",
                    n + 1,
                    [NextEvent("internal", "wait"), ReplyTo(from_, (n, "echo", "wait"))],
                )

    machine = {"init": lambda: NextState("start", 1), "start": start, "wait": wait}
    stm = ok_pid(await MapStatemEnter.start_link(machine))
    assert await flush() == [(1, "enter", "start", "start")]
    assert await GenStateMachine.call(stm, "echo") == (2, "echo", "start")
    assert await flush() == [
        (3, ("enter", "start")),
        (4, ("enter", "start")),
        (5, "enter", "wait", "start"),
        (6, ("timeout", 5)),
        (7, ("state_timeout", 5)),
    ]
    # (sys:get_state(STM) = {wait, [8|_]} is left out: tether has no :sys)
    assert await GenStateMachine.call(stm, "repeat") == (8, "repeat", "wait")
    assert await flush() == [
        (8, "enter", "wait", "wait"),
        (9, ("timeout", 8)),
        (10, ("state_timeout", 8)),
    ]
    assert await GenStateMachine.call(stm, "echo") == (11, "echo", "wait")
    assert await flush() == [(12, "enter", "start", "wait"), (13, "internal", "start", "wait")]
    assert await GenStateMachine.call(stm, "repeat") == (14, "repeat", "start")
    assert await flush() == [(15, "enter", "start", "start")]
    assert await GenStateMachine.call(stm, ("stop", "bye")) == (16, "stop")
    assert await flush() == [Exit(stm, "bye")]
    reason = await expect_exit(GenStateMachine.call(stm, "hej"))
    assert reason[0] == "noproc"
    assert await flush() == []


# event_order
async def test_event_order_next_events_before_postponed_before_new() -> None:
    Process.flag("trap_exit", True)

    def start(event_type: Any, content: Any, data: Any) -> Any:
        match event_type, content:
            case "cast", _:
                return KeepStateAndData(Postpone())  # handled in 'buffer'
            case ("call", from_), ("buffer", pid, (tag3, tag4, tag5)):
                return NextState(
                    "buffer",
                    [],
                    [
                        NextEvent("internal", ReplyTo((pid, tag3), "ok3")),
                        NextEvent("internal", ReplyTo((pid, tag4), "ok4")),
                        # must not fire: the next_events and the postponed
                        # events that come first cancel it
                        EventTimeout(0, ReplyTo((pid, tag5), "ok5")),
                        ReplyTo(from_, "ok"),
                    ],
                )

    def buffer(event_type: Any, content: Any, replies: Any) -> Any:
        match event_type, content:
            case "internal" | "timeout" | "cast", reply:
                return KeepState([reply, *replies])
            case ("call", from_), ("stop", reason):
                actions = [*reversed(replies), ReplyTo(from_, "ok")]
                return NextState("stop", None, [*actions, NextEvent("internal", Stop(reason))])

    def stop(event_type: Any, content: Any, data: Any) -> Any:
        assert event_type == "internal"
        return content

    machine = {
        "init": lambda: NextState("start", None),
        "start": start,
        "buffer": buffer,
        "stop": stop,
    }
    stm = ok_pid(await MapStatem.start_link(machine))
    me = self()
    tag1, tag2, tag3, tag4, tag5 = (Process.alias() for _ in range(5))
    GenStateMachine.cast(stm, ReplyTo((me, tag1), "ok1"))
    GenStateMachine.cast(stm, ReplyTo((me, tag2), "ok2"))
    assert await GenStateMachine.call(stm, ("buffer", me, (tag3, tag4, tag5))) == "ok"
    assert await GenStateMachine.call(stm, ("stop", "reason")) == "ok"
    assert await flush() == [
        (tag3, "ok3"),
        (tag4, "ok4"),
        (tag1, "ok1"),
        (tag2, "ok2"),
        Exit(stm, "reason"),
    ]
    reason = await expect_exit(GenStateMachine.call(stm, "hej"))
    assert reason[0] == "noproc"
    assert await flush() == []


# state_timeout.  One adaptation to OTP 25: the original's machine expects a
# queued {state_timeout,0,5} to fire and then a second one, 6; on OTP 25 (checked
# on the BEAM) the later {state_timeout,0,6} replaces 5 (one state time-out at a
# time), so state2 here goes from timeout 4 straight to state_timeout 6.
async def test_state_timeout_zero_timeouts_order_and_state_change_cancel() -> None:
    Process.flag("trap_exit", True)

    def start(event_type: Any, content: Any, data: Any) -> Any:
        match event_type, content:
            case ("call", from_), ("go", time):
                send(self(), "message_to_self")
                # internal events go before external ones
                return NextState(
                    "state1",
                    (time, from_),
                    [EventTimeout(time, 1), StateTimeout(time, 1), NextEvent("internal", 1)],
                )

    def state1(event_type: Any, content: Any, data: Any) -> Any:
        match event_type, content:
            case "internal", 1:
                # the state change cancels the time-outs to 1
                return NextState(
                    "state2",
                    data,
                    [EventTimeout(0, 2), StateTimeout(0, 2), NextEvent("internal", 2)],
                )

    def state2(event_type: Any, content: Any, data: Any) -> Any:
        match event_type, content, data:
            case "internal", 2, _:
                # {state_timeout,0,_} comes after next_event, and the pending
                # {timeout,0,2} is cancelled by it
                return KeepState(("ok", 2, data), [EventTimeout(0, 3)])
            case "state_timeout", 2, ("ok", 2, d):
                # zero time-outs fire in order
                return KeepState(("ok", 3, d), [EventTimeout(0, 4), StateTimeout(0, 5)])
            case "timeout", 4, ("ok", 3, d):
                # timeout 0 fires before the state_timeout 0 queued after it;
                # the new state_timeout 6 replaces the queued 5
                return KeepState(("ok", 4, d), [StateTimeout(0, 6), EventTimeout(0, 7)])
            case "state_timeout", 6, ("ok", 4, (time, from_)):
                return NextState("state3", 6, [ReplyTo(from_, "ok"), StateTimeout(time, 8)])

    def state3(event_type: Any, content: Any, data: Any) -> Any:
        match event_type, content, data:
            case "info", "message_to_self", 6:
                return KeepState(7)
            case ("call", from_), "check", 7:
                return KeepState(from_)
            case "state_timeout", 8, from_:
                return StopAndReply("normal", ReplyTo(from_, "ok"))

    machine = {
        "init": lambda: NextState("start", 0),
        "start": start,
        "state1": state1,
        "state2": state2,
        "state3": state3,
    }
    stm = ok_pid(await MapStatem.start_link(machine))
    t0 = clock()
    kull = ("timeout", make_ref(), "kull")
    tref = Process.send_after(self(), kull, 1.0)  # erlang:start_timer(1000, self(), kull)
    assert await GenStateMachine.call(stm, ("go", 0.5)) == "ok"
    assert await GenStateMachine.call(stm, "check") == "ok"
    assert clock() - t0 == pytest.approx(0.5)  # the state time-out of 0.5 s, not earlier
    with pytest.raises(TimeoutError):
        await receive(kull, timeout=0)  # ct:fail(late_timeout)
    assert await receive(kull, timeout=1) == kull
    assert Process.read_timer(tref) is False
    assert await receive(Exit(stm, ANY), timeout=0.5) == Exit(stm, "normal")
    await verify_empty_msgq()


# timeout_cancel_and_update.  The original reads the running time-outs with
# sys:get_status; tether has no :sys, so they are read from the crash report of a
# stop with an abnormal reason, which lists them the same way ("Time-outs").
async def test_timeout_cancel_and_update(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="tether")
    Process.flag("trap_exit", True)

    def start(event_type: Any, content: Any, data: Any) -> Any:
        match event_type, content:
            case ("call", from_), "test":
                send(self(), "message_to_self")
                return NextState(
                    "state1", from_, [StateTimeout(0.017, 1), NextEvent("internal", 1)]
                )

    def state1(event_type: Any, content: Any, data: Any) -> Any:
        match event_type, content:
            case "internal", 1:
                return KeepStateAndData([StateTimeout.cancel(), GenericTimeout("a", 0.017, 1)])
            case "info", "message_to_self":
                return KeepStateAndData([GenericTimeout.update("a", "a")])
            case ("timeout", "a"), "a":
                return NextState("state2", data, [StateTimeout(0.017, 2), NextEvent("internal", 2)])

    async def state2(event_type: Any, content: Any, data: Any) -> Any:
        match event_type, content:
            case "internal", 2:
                await Process.sleep(0.05)
                # now the state time-out of 0.017 s has fired (its message waits)
                return KeepStateAndData([StateTimeout.update("b"), EventTimeout(0.017, 2)])
            case "state_timeout", "b":
                return NextState("state3", 3, [ReplyTo(data, "ok"), 17000])

    def state3(event_type: Any, content: Any, data: Any) -> Any:
        match event_type, content:
            case ("call", from_), "stop":
                return StopAndReply("normal", [ReplyTo(from_, "ok")])

    machine = {
        "init": lambda: NextState("start", 0),
        "start": start,
        "state1": state1,
        "state2": state2,
        "state3": state3,
    }
    stm = ok_pid(await MapStatem.start_link(machine))
    assert await GenStateMachine.call(stm, "test") == "ok"
    assert await GenStateMachine.stop(stm, "status") == "ok"
    (record,) = caplog.records
    assert "Time-outs: [(:timeout, 17000)]" in record.getMessage().splitlines()
    assert await receive(Exit(stm, ANY), timeout=0.5) == Exit(stm, "status")
    await verify_empty_msgq()


# event_types: all event types can be sent with {next_event,EventType,_}
async def test_event_types_every_type_can_be_a_next_event() -> None:
    Process.flag("trap_exit", True)

    def step(expected_type: Any, expected: Any, next_state: str) -> Any:
        def fn(event_type: Any, content: Any, data: Any) -> Any:
            assert (event_type, content) == (expected_type, expected)
            return NextState(next_state, None)

        return fn

    def start2(event_type: Any, content: Any, data: Any) -> Any:
        return NextState(
            "state1",
            None,
            [
                NextEvent("internal", 1),
                NextEvent("state_timeout", 2),
                NextEvent("timeout", 3),
                NextEvent("info", 4),
                NextEvent("cast", 5),
                NextEvent(("timeout", 6), 6),
                NextEvent(event_type, content),
            ],
        )

    def state7(event_type: Any, content: Any, data: Any) -> Any:
        match event_type, content:
            case ("call", from_), "stop":
                return StopAndReply("shutdown", [ReplyTo(from_, "stopped")])

    machine = {
        "init": lambda: NextState("start1", None, [NextEvent("internal", 0)]),
        "start1": step("internal", 0, "start2"),
        "start2": start2,
        "state1": step("internal", 1, "state2"),
        "state2": step("state_timeout", 2, "state3"),
        "state3": step("timeout", 3, "state4"),
        "state4": step("info", 4, "state5"),
        "state5": step("cast", 5, "state6"),
        "state6": step(("timeout", 6), 6, "state7"),
        "state7": state7,
    }
    stm = ok_pid(await MapStatem.start_link(machine))
    assert await GenStateMachine.call(stm, "stop") == "stopped"
    assert await receive(Exit(stm, ANY), timeout=0.5) == Exit(stm, "shutdown")
    reason = await expect_exit(GenStateMachine.call(stm, "hej"))
    assert reason[0] == "noproc"
    assert await flush() == []


# generic_timers
async def test_generic_timers_run_side_by_side() -> None:
    Process.flag("trap_exit", True)

    def start(event_type: Any, content: Any, data: Any) -> Any:
        return NextState(
            "state1",
            None,
            [
                GenericTimeout("a", 1.5, 1),
                StateTimeout(1.5, 1),
                GenericTimeout("b", 1.0, 1),
                NextEvent(event_type, content),
            ],
        )

    def state1(event_type: Any, content: Any, data: Any) -> Any:
        t = asyncio.get_running_loop().time() + 0.5
        return NextState(
            "state2",
            None,
            [
                GenericTimeout("c", t, 2, absolute=True),
                GenericTimeout("d", 0, 2, absolute=False),
                EventTimeout(0, 2),
                GenericTimeout("b", None, 2),
                GenericTimeout("a", 1.0, (event_type, content)),
            ],
        )

    def expect(expected_type: Any, expected: Any, next_state: str) -> Any:
        def fn(event_type: Any, content: Any, data: Any) -> Any:
            assert (event_type, content) == (expected_type, expected)
            return NextState(next_state, None)

        return fn

    def state4(event_type: Any, content: Any, data: Any) -> Any:
        match event_type, content:
            case ("timeout", "a"), (("call", from_), "stop"):
                return StopAndReply("shutdown", [ReplyTo(from_, "stopped")])

    machine = {
        "init": lambda: NextState("start", None),
        "start": start,
        "state1": state1,
        "state2": expect(("timeout", "d"), 2, "state3"),
        "state3": expect(("timeout", "c"), 2, "state4"),
        "state4": state4,
    }
    stm = ok_pid(await MapStatem.start_link(machine))
    t0 = clock()
    assert await GenStateMachine.call(stm, "stop") == "stopped"
    assert clock() - t0 == pytest.approx(1.0)  # timer a, restarted at 1 s
    assert await receive(Exit(stm, ANY), timeout=0.5) == Exit(stm, "shutdown")
    reason = await expect_exit(GenStateMachine.call(stm, "hej"))
    assert reason[0] == "noproc"
    assert await flush() == []


# -- group sys: the parts that are not :sys (crash reports) -----------------------------------


# error_format_status: format_status shapes the crash report's state
async def test_error_format_status_shapes_the_crash_report(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="tether")
    Process.flag("trap_exit", True)
    data = "called format_status"
    pid = ok_pid(await Statem.start(("data", data)))
    reason = await expect_exit(GenStateMachine.call(pid, "badreturn"))
    assert reason[0] == ("bad_return_from_state_function", "badreturn")
    (record,) = caplog.records
    lines = record.getMessage().splitlines()
    assert lines[0] == f"GenStateMachine {pid!r} terminating"
    assert lines[1] == "** (stop) (:bad_return_from_state_function, :badreturn)"
    assert lines[2].startswith("Last message: ((:call, (") and lines[2].endswith('"badreturn")')
    assert lines[3] == 'State: ("idle", ("formatted", "idle", "called format_status"))'
    await verify_empty_msgq()


# terminate_crash_format: a crash in terminate is what gets reported
async def test_terminate_crash_format_reports_the_terminate_crash(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="tether")
    Process.flag("trap_exit", True)
    pid = ok_pid(await Statem.start(("data", "crash_terminate")))
    assert await GenStateMachine.call(pid, "stop") == "stopped"
    await check_stopped(pid)
    (record,) = caplog.records
    lines = record.getMessage().splitlines()
    assert lines[1] == "** (stop) (:crash, :terminate)"
    assert lines[2].startswith("Last message: ((:call, (") and lines[2].endswith('"stop")')
    assert lines[3] == 'State: ("idle", ("formatted", "idle", "crash_terminate"))'
    await verify_empty_msgq()


# hibernate: tether has nothing to hibernate (no per-process heap), so the
# is_in_erlang_hibernate checks are out; what stays is that every hibernate
# action is accepted and the machine answers as the original expects.
async def test_hibernate_actions_are_accepted_and_the_machine_goes_on() -> None:
    Process.flag("trap_exit", True)
    pid0 = ok_pid(await Statem.start_link("hiber_now"))
    await stop_it(pid0)
    assert await receive(Exit(pid0, ANY), timeout=5) == Exit(pid0, "normal")

    pid = ok_pid(await Statem.start_link("hiber"))
    for _ in range(2):
        assert await GenStateMachine.call(pid, "hibernate_sync") == "hibernating"
        assert await GenStateMachine.call(pid, "wakeup_sync") == "good_morning"
        assert await GenStateMachine.call(pid, "hibernate_sync") == "hibernating"
        assert await GenStateMachine.call(pid, "snooze_sync") == "please_just_five_more"
        assert await GenStateMachine.call(pid, "wakeup_sync") == "good_morning"
        assert GenStateMachine.cast(pid, "hibernate_async") == "ok"
        assert GenStateMachine.cast(pid, "wakeup_async") == "ok"
        assert GenStateMachine.cast(pid, "hibernate_async") == "ok"
        assert GenStateMachine.cast(pid, "snooze_async") == "ok"
        assert GenStateMachine.cast(pid, "wakeup_async") == "ok"
        send(pid, "hibernate_now")
        assert await GenStateMachine.call(pid, "alive?") == "alive!"
    await stop_it(pid)
    Process.flag("trap_exit", False)
    assert await receive(Exit(pid, ANY), timeout=5) == Exit(pid, "normal")
    await verify_empty_msgq()


# -- group undef_callbacks ---------------------------------------------------------------


class OcStatem(GenStateMachine):
    """The suite's oc_statem: a machine with no terminate callback of its own."""

    callback_mode = "state_functions"

    def init(self, arg: Any) -> Any:
        # oc_statem's state is named start; here that name is the class's
        # GenStateMachine.start, so the state is called started.
        return NextState("started", "data")

    def started(self, event_type: Any, content: Any, data: Any) -> Any:
        return KeepStateAndData()


# undef_terminate1: no terminate, stop normal
async def test_undef_terminate1_default_terminate_stops_normally() -> None:
    stm = ok_pid(await OcStatem.start())
    ref = Process.monitor(stm)
    assert await GenStateMachine.stop(stm) == "ok"
    assert await receive(Down(ref, ANY, ANY, ANY), timeout=5) == Down(ref, "process", stm, "normal")


# undef_terminate2: no terminate, stop with {error, test}
async def test_undef_terminate2_default_terminate_stops_with_the_reason() -> None:
    reason = ("error", "test")
    stm = ok_pid(await OcStatem.start())
    ref = Process.monitor(stm)
    assert await GenStateMachine.stop(stm, reason, None) == "ok"
    assert await receive(Down(ref, ANY, ANY, ANY), timeout=5) == Down(ref, "process", stm, reason)


# undef_in_terminate: terminate calls an undefined function; stop exits with it
async def test_undef_in_terminate_stop_exits_with_the_error() -> None:
    stm = ok_pid(await Statem.start(("data", ("undef_in_terminate", "no_such_function"))))
    reason = await expect_exit(GenStateMachine.stop(stm))
    assert isinstance(reason, AttributeError)
    assert "no_such_function" in str(reason)
