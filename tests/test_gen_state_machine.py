"""GenStateMachine beyond the ported gen_statem_SUITE: arguments, errors, reports,
time-out corner cases, supervision and fairness."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tether import (
    ANY,
    Down,
    Error,
    EventTimeout,
    GenericTimeout,
    GenServer,
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
    ReplyTo,
    StateTimeout,
    Stop,
    StopAndReply,
    Supervisor,
    receive,
    self,
    send,
    spawn,
)
from tether.testing import clock, wait_all_blocked

from .conftest import mailbox_now, wait_forever


def ok_pid(started: Any) -> Pid:
    assert type(started) is tuple and started[0] == "ok", started
    pid: Pid = started[1]
    return pid


async def exit_reason(coro: Any) -> Any:
    try:
        result = await coro
    except ProcessExit as e:
        return e.reason
    pytest.fail(f"expected an exit, got {result!r}")


class Recorder(GenStateMachine):
    """Handles a few commands and records every other event in its data."""

    def init(self, arg: Any) -> Any:
        return NextState("a", arg or [])

    def handle_event(self, event_type: Any, content: Any, state: Any, data: Any) -> Any:
        match event_type, content:
            case ("call", from_), "events":
                return KeepStateAndData(ReplyTo(from_, (state, data)))
            case ("call", from_), ("go", next_state, *actions):
                return NextState(next_state, data, [ReplyTo(from_, "ok"), *actions])
            case ("call", from_), ("keep", *actions):
                return KeepStateAndData([ReplyTo(from_, "ok"), *actions])
            case "cast", ("sleep_then_go", seconds, next_state):
                return self.sleep_then(seconds, next_state, data)
            case "cast", ("return", result):
                return result
        return KeepState([*data, (event_type, content)])

    async def sleep_then(self, seconds: float, next_state: Any, data: Any) -> Any:
        await Process.sleep(seconds)
        return NextState(next_state, data)


# -- arguments are checked before anything happens -------------------------------------------


async def test_start_link_checks_every_argument_before_spawning() -> None:
    before = Process.list()
    with pytest.raises(ValueError, match=r"GenStateMachine.start_link: name must be"):
        await Recorder.start_link(name=("local", "x"))
    with pytest.raises(TypeError, match=r"GenStateMachine.start_link: timeout must be"):
        await Recorder.start_link(timeout="soon")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"GenStateMachine.start: timeout must be >= 0"):
        await Recorder.start(timeout=-1)

    class BadMode(Recorder):
        callback_mode = "state_function"

    with pytest.raises(ValueError, match=r"BadMode.callback_mode must be .* got 'state_function'"):
        await BadMode.start_link()

    class TwoModes(Recorder):
        callback_mode = ("state_functions", "handle_event_function")

    with pytest.raises(ValueError, match=r"TwoModes.callback_mode must be"):
        await TwoModes.start()
    assert Process.list() == before
    assert await mailbox_now() == []


async def test_client_functions_check_their_arguments() -> None:
    pid = ok_pid(await Recorder.start_link())
    with pytest.raises(TypeError, match=r"GenStateMachine.call: server must be a Pid"):
        await GenStateMachine.call(42, "events")
    with pytest.raises(ValueError, match=r"GenStateMachine.call: timeout must be >= 0"):
        await GenStateMachine.call(pid, "events", -1)
    with pytest.raises(TypeError, match=r"GenStateMachine.cast: server must be a Pid"):
        GenStateMachine.cast(["x"], "hi")
    with pytest.raises(TypeError, match=r"GenStateMachine.stop: server must be a Pid"):
        await GenStateMachine.stop(3.5)
    with pytest.raises(
        ValueError, match=r"GenStateMachine.stop: \('x', 'far@host'\) is on another"
    ):
        await GenStateMachine.stop(("x", "far@host"))
    with pytest.raises(TypeError, match=r"GenStateMachine.reply: from_ must be the \(pid, tag\)"):
        GenStateMachine.reply("nobody", "hi")
    with pytest.raises(TypeError, match=r"give a ReplyTo\(from_, reply\) or a list of them"):
        GenStateMachine.reply([ReplyTo((self(), 1), "x"), "junk"])
    assert await mailbox_now() == []  # the valid ReplyTo before the junk was not sent
    assert await GenStateMachine.call(pid, "events") == ("a", [])


# -- calls ------------------------------------------------------------------------------------


async def test_call_exits_noproc_calling_self_and_nodedown_with_the_call_in_the_reason() -> None:
    dead = spawn(wait_forever)
    Process.exit(dead, "kill")
    await wait_all_blocked()
    mfa = ("GenStateMachine.call", dead, "x", None)
    assert await exit_reason(GenStateMachine.call(dead, "x")) == ("noproc", mfa)
    assert await exit_reason(GenStateMachine.call("nobody", "x", 1)) == (
        "noproc",
        ("GenStateMachine.call", "nobody", "x", 1.0),
    )
    assert await exit_reason(GenStateMachine.call(self(), "x")) == (
        "calling_self",
        ("GenStateMachine.call", self(), "x", None),
    )
    far = ("name", "elsewhere@host")
    assert await exit_reason(GenStateMachine.call(far, "x")) == (
        ("nodedown", "elsewhere@host"),
        ("GenStateMachine.call", far, "x", None),
    )


async def test_a_call_in_flight_exits_with_the_machine_reason_when_it_dies() -> None:
    pid = ok_pid(await Recorder.start())
    GenStateMachine.cast(pid, ("sleep_then_go", 1, "b"))
    mon = Process.monitor(pid)
    caller = spawn(_call_and_report, self(), pid)
    await wait_all_blocked()
    Process.exit(pid, "boom")
    assert await receive(("call_exit", ANY)) == (
        "call_exit",
        ("boom", ("GenStateMachine.call", pid, "events", None)),
    )
    await receive(Down(mon, ANY, ANY, ANY))
    assert not Process.alive(caller)


async def _call_and_report(parent: Pid, pid: Pid) -> None:
    try:
        await GenStateMachine.call(pid, "events")
    except ProcessExit as e:
        send(parent, ("call_exit", e.reason))


async def test_gen_server_call_and_cast_reach_a_state_machine() -> None:
    pid = ok_pid(await Recorder.start())
    assert GenServer.cast(pid, "hello") == "ok"
    assert await GenServer.call(pid, "events") == ("a", [("cast", "hello")])


async def test_reply_from_another_process_answers_a_postponed_call() -> None:
    class Deferred(GenStateMachine):
        def init(self, arg: Any) -> Any:
            return NextState("waiting", None)

        def handle_event(self, event_type: Any, content: Any, state: Any, data: Any) -> Any:
            match state, event_type, content:
                case "waiting", ("call", _), "ask":
                    return KeepStateAndData(Postpone())
                case "waiting", "cast", "ready":
                    return NextState("ready", None)
                case "ready", ("call", from_), "ask":
                    helper = spawn(_reply_later, from_)
                    return KeepState(helper)
            return KeepStateAndData()

    pid = ok_pid(await Deferred.start())
    asker = spawn(_ask, self(), pid)
    await wait_all_blocked()
    GenStateMachine.cast(pid, "ready")
    assert await receive(("answer", ANY)) == ("answer", "from the helper")
    assert not Process.alive(asker)


async def _reply_later(from_: Any) -> None:
    await Process.sleep(1)
    assert GenStateMachine.reply(from_, "from the helper") == "ok"


async def _ask(parent: Pid, pid: Pid) -> None:
    send(parent, ("answer", await GenStateMachine.call(pid, "ask")))


# -- results and actions -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("result", "data"),
    [
        (Stop("why"), ["kept"]),
        (Stop("why", ["new"]), ["new"]),
        (StopAndReply("why"), ["kept"]),
        (StopAndReply("why", [], ["new"]), ["new"]),
    ],
)
async def test_stop_keeps_the_data_unless_given_new_data(result: Any, data: Any) -> None:
    seen = []

    class Stopper(Recorder):
        def terminate(self, reason: Any, state: Any, data: Any) -> Any:
            seen.append((reason, state, data))

    pid = ok_pid(await Stopper.start(["kept"]))
    mon = Process.monitor(pid)
    GenStateMachine.cast(pid, ("return", result))
    assert (await receive(Down(mon, ANY, ANY, ANY))).reason == "why"
    assert seen == [("why", "a", data)]


@pytest.mark.parametrize(
    ("result", "reason"),
    [
        ("keep", ("bad_return_from_state_function", "keep")),
        (KeepState([], ["junk"]), ("bad_action_from_state_function", "junk")),
        (KeepState([], [-1]), ("bad_action_from_state_function", -1)),
        (KeepState([], StateTimeout(-1)), ("bad_action_from_state_function", StateTimeout(-1))),
        (
            KeepState([], EventTimeout("update", 1, absolute=True)),
            ("bad_action_from_state_function", EventTimeout("update", 1, absolute=True)),
        ),
        (
            KeepState([], GenericTimeout([], 1)),
            ("bad_action_from_state_function", GenericTimeout([], 1)),
        ),
        (
            KeepState([], NextEvent("bogus", 1)),
            ("bad_action_from_state_function", NextEvent("bogus", 1)),
        ),
        (
            KeepState([], ReplyTo("nobody", 1)),
            ("bad_action_from_state_function", ReplyTo("nobody", 1)),
        ),
        (StopAndReply("x", ["junk"]), ("bad_reply_action_from_state_function", "junk")),
        (Stop("x", None, reply=1), ("bad_return_from_state_function", Stop("x", None, reply=1))),
    ],
)
async def test_bad_results_and_actions_stop_the_machine_with_gen_statem_reasons(
    result: Any, reason: Any
) -> None:
    pid = ok_pid(await Recorder.start())
    mon = Process.monitor(pid)
    GenStateMachine.cast(pid, ("return", result))
    assert (await receive(Down(mon, ANY, ANY, ANY))).reason == reason


class Entering(GenStateMachine):
    """Its enter call into state b returns whatever b_enter holds."""

    callback_mode = ("handle_event_function", "state_enter")

    def init(self, b_enter: Any) -> Any:
        self.b_enter = b_enter
        return NextState("a", 0)

    def handle_event(self, event_type: Any, content: Any, state: Any, data: Any) -> Any:
        match event_type, state:
            case "enter", "b":
                return self.b_enter
            case "enter", _:
                return KeepStateAndData()
            case ("call", from_), _:
                return NextState("b", data, ReplyTo(from_, "going"))
        return KeepStateAndData()


@pytest.mark.parametrize(
    ("enter_result", "reason"),
    [
        (
            NextState("c", 0),
            ("bad_state_enter_return_from_state_function", NextState("c", 0)),
        ),
        (
            KeepStateAndData(Postpone()),
            ("bad_state_enter_action_from_state_function", Postpone()),
        ),
        (
            KeepStateAndData(NextEvent("internal", 1)),
            ("bad_state_enter_action_from_state_function", NextEvent("internal", 1)),
        ),
        (
            KeepStateAndData(NextEvent("bogus", 1)),
            ("bad_state_enter_action_from_state_function", NextEvent("bogus", 1)),
        ),
    ],
)
async def test_an_enter_call_may_not_change_state_postpone_or_insert_events(
    enter_result: Any, reason: Any
) -> None:
    pid = ok_pid(await Entering.start(enter_result))
    mon = Process.monitor(pid)
    assert await GenStateMachine.call(pid, "go") == "going"
    assert (await receive(Down(mon, ANY, ANY, ANY))).reason == reason


async def test_an_enter_call_may_stay_reply_and_set_timeouts() -> None:
    pid = ok_pid(await Entering.start(KeepState(1, [ReplyTo((self(), "t"), "entered")])))
    assert await GenStateMachine.call(pid, "go") == "going"
    assert await receive(("t", ANY)) == ("t", "entered")


async def test_state_functions_mode_calls_the_method_named_after_the_state() -> None:
    class Light(GenStateMachine):
        callback_mode = "state_functions"

        def init(self, arg: Any) -> Any:
            return NextState("off", 0)

        def off(self, event_type: Any, content: Any, data: Any) -> Any:
            return NextState("on", data + 1)

        async def on(self, event_type: Any, content: Any, data: Any) -> Any:
            if isinstance(event_type, tuple):
                return KeepStateAndData(ReplyTo(event_type[1], ("on", data)))
            return NextState("stop", data)  # GenStateMachine.stop is no state function

    pid = ok_pid(await Light.start())
    mon = Process.monitor(pid)
    GenStateMachine.cast(pid, "flip")
    assert await GenStateMachine.call(pid, "get") == ("on", 1)
    GenStateMachine.cast(pid, "flip")
    GenStateMachine.cast(pid, "flip")
    reason = (await receive(Down(mon, ANY, ANY, ANY))).reason
    assert isinstance(reason, AttributeError)
    assert str(reason) == (
        "test_state_functions_mode_calls_the_method_named_after_the_state.<locals>.Light has no "
        "state function for state 'stop' (callback_mode 'state_functions' calls the method "
        "named after the state)"
    )


# -- starting ---------------------------------------------------------------------------------


async def test_init_results_and_crashes(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="tether")

    class Init(GenStateMachine):
        def init(self, arg: Any) -> Any:
            if arg == "raise":
                raise KeyError("no config")
            return arg

    Process.flag("trap_exit", True)
    assert await Init.start_link(Ignore()) == "ignore"
    assert await Init.start_link(Stop("nope")) == ("error", "nope")
    assert await Init.start_link(Error("failed")) == ("error", "failed")
    assert caplog.records == []  # none of those is a crash
    assert await Init.start_link("bad") == ("error", ("bad_return_from_init", "bad"))
    result = await Init.start_link("raise")
    assert result[0] == "error" and isinstance(result[1], KeyError)
    assert [r.getMessage().splitlines()[1] for r in caplog.records] == [
        "** (stop) (:bad_return_from_init, :bad)",
        "** (KeyError) 'no config'",
    ]
    assert Process.info(self(), "links") == []
    await wait_all_blocked()
    assert await mailbox_now() == []  # OTP 26+: no EXIT for a failed start


async def test_the_default_init_takes_state_and_data_and_the_default_handler_stops() -> None:
    class Bare(GenStateMachine):
        pass

    pid = ok_pid(await Bare.start(("idle", {"n": 1})))
    mon = Process.monitor(pid)
    GenStateMachine.cast(pid, "anything")
    assert (await receive(Down(mon, ANY, ANY, ANY))).reason == "bad_event"


async def test_a_machine_under_a_supervisor_is_restarted() -> None:
    sup = ok_pid(await Supervisor.start_link([(Recorder, ["first"])], strategy="one_for_one"))
    [(cls, pid, kind, _)] = await Supervisor.which_children(sup)
    assert (cls, kind) == (Recorder, "worker")
    assert await GenStateMachine.call(pid, "events") == ("a", ["first"])
    Process.exit(pid, "kill")
    await wait_all_blocked()
    [(_, pid2, _, _)] = await Supervisor.which_children(sup)
    assert pid2 != pid
    assert await GenStateMachine.call(pid2, "events") == ("a", ["first"])


async def test_terminate_runs_on_the_parent_exit_only_when_trapping() -> None:
    seen = []

    class Trapping(Recorder):
        def init(self, arg: Any) -> Any:
            Process.flag("trap_exit", arg)
            return NextState("a", [])

        def terminate(self, reason: Any, state: Any, data: Any) -> Any:
            seen.append(reason)

    for trap in (True, False):
        parent = spawn(_start_and_wait, self(), Trapping, trap)
        pid = (await receive(("started", ANY)))[1]
        mon = Process.monitor(pid)
        Process.exit(parent, "shutdown")
        assert (await receive(Down(mon, ANY, ANY, ANY))).reason == "shutdown"
    assert seen == ["shutdown"]


async def _start_and_wait(parent: Pid, cls: Any, arg: Any) -> None:
    send(parent, ("started", ok_pid(await cls.start_link(arg))))
    await Process.sleep(None)


# -- time-outs ---------------------------------------------------------------------------------


async def test_an_event_timeout_fires_only_when_no_event_comes_first() -> None:
    pid = ok_pid(await Recorder.start())
    t0 = clock()
    assert await GenStateMachine.call(pid, ("keep", EventTimeout(1, "idle"))) == "ok"
    await Process.sleep(0.5)
    send(pid, "poke")  # cancels it
    await Process.sleep(1)
    assert await GenStateMachine.call(pid, ("keep", EventTimeout(1, "idle"))) == "ok"
    await Process.sleep(2)
    assert await GenStateMachine.call(pid, "events") == (
        "a",
        [("info", "poke"), ("timeout", "idle")],
    )
    assert clock() - t0 == pytest.approx(3.5)


async def test_a_state_timeout_survives_events_but_not_a_state_change() -> None:
    pid = ok_pid(await Recorder.start())
    assert await GenStateMachine.call(pid, ("keep", StateTimeout(1, "st"))) == "ok"
    send(pid, "poke")
    await Process.sleep(2)
    assert await GenStateMachine.call(pid, ("keep", StateTimeout(1, "st2"))) == "ok"
    assert await GenStateMachine.call(pid, ("go", "b")) == "ok"
    await Process.sleep(2)
    assert await GenStateMachine.call(pid, "events") == (
        "b",
        [("info", "poke"), ("state_timeout", "st")],
    )


async def test_a_generic_timeout_survives_state_changes_and_is_replaced_by_name() -> None:
    pid = ok_pid(await Recorder.start())
    t0 = clock()
    await GenStateMachine.call(pid, ("keep", GenericTimeout("g", 1, 1), GenericTimeout("h", 1, 1)))
    await GenStateMachine.call(pid, ("go", "b", GenericTimeout("g", 2, 2)))
    await GenStateMachine.call(pid, ("go", "c", GenericTimeout.cancel("h")))
    await Process.sleep(3)
    assert await GenStateMachine.call(pid, "events") == ("c", [(("timeout", "g"), 2)])
    assert clock() - t0 == pytest.approx(3)


async def test_update_changes_a_running_timeout_or_fires_at_once() -> None:
    pid = ok_pid(await Recorder.start())
    t0 = clock()
    await GenStateMachine.call(pid, ("keep", StateTimeout(1, "old")))
    await GenStateMachine.call(pid, ("keep", StateTimeout.update("new")))
    await GenStateMachine.call(pid, ("keep", GenericTimeout.update("u", "now")))
    await Process.sleep(2)
    assert await GenStateMachine.call(pid, "events") == (
        "a",
        [(("timeout", "u"), "now"), ("state_timeout", "new")],
    )
    assert clock() - t0 == pytest.approx(2)


async def test_a_cancelled_timer_whose_message_already_arrived_leaves_no_event() -> None:
    pid = ok_pid(await Recorder.start())
    await GenStateMachine.call(pid, ("keep", StateTimeout(1, "st")))
    GenStateMachine.cast(pid, ("sleep_then_go", 2, "b"))  # the timer fires meanwhile
    await Process.sleep(3)
    assert await GenStateMachine.call(pid, "events") == ("b", [])


async def test_a_foreign_timeout_shaped_message_is_an_info_event() -> None:
    from tether import make_ref

    pid = ok_pid(await Recorder.start())
    await GenStateMachine.call(pid, ("keep", StateTimeout(5, "st")))
    forged = ("timeout", make_ref(), "state_timeout")
    send(pid, forged)
    assert await GenStateMachine.call(pid, "events") == ("a", [("info", forged)])


async def test_absolute_timeouts_and_infinity() -> None:
    import asyncio

    pid = ok_pid(await Recorder.start())
    t0 = clock()
    deadline = asyncio.get_running_loop().time() + 2
    await GenStateMachine.call(
        pid, ("keep", StateTimeout(deadline, "abs", absolute=True), GenericTimeout("i", 10**400))
    )
    await Process.sleep(5)
    assert await GenStateMachine.call(pid, "events") == ("a", [("state_timeout", "abs")])
    assert clock() - t0 == pytest.approx(5)


async def test_a_number_as_an_action_is_an_event_timeout_with_itself_as_content() -> None:
    pid = ok_pid(await Recorder.start())
    await GenStateMachine.call(pid, ("keep", 1))
    await Process.sleep(2)
    assert await GenStateMachine.call(pid, "events") == ("a", [("timeout", 1)])


# -- fairness ---------------------------------------------------------------------------------


async def test_a_machine_that_feeds_itself_events_forever_does_not_starve_the_node() -> None:
    class Spinner(GenStateMachine):
        def init(self, arg: Any) -> Any:
            return NextState("spin", 0, NextEvent("internal", "again"))

        def handle_event(self, event_type: Any, content: Any, state: Any, data: Any) -> Any:
            return KeepState(data + 1, NextEvent("internal", "again"))

    pid = ok_pid(await Spinner.start())
    other = spawn(_say, self(), "still running")
    assert await receive("still running".__eq__, timeout=5) == "still running"
    assert Process.alive(pid)  # still spinning: the others ran beside it
    Process.exit(pid, "kill")
    assert not Process.alive(other)


async def _say(parent: Pid, what: str) -> None:
    send(parent, what)


# -- crash reports (LOG-3) ------------------------------------------------------------------------


async def test_log3_crash_report_lists_event_state_queue_postponed_timeouts_and_client(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="tether")

    class Crashy(GenStateMachine):
        callback_mode = ("handle_event_function", "state_enter")

        def init(self, arg: Any) -> Any:
            return NextState("s", {"n": 1})

        def handle_event(self, event_type: Any, content: Any, state: Any, data: Any) -> Any:
            match event_type, content:
                case "enter", _:
                    return KeepStateAndData()
                case "cast", "later":
                    return KeepStateAndData([Postpone(), StateTimeout(5, "st")])
                case ("call", _), "crash":
                    return KeepStateAndData(
                        [NextEvent("internal", "boom"), NextEvent("internal", "queued")]
                    )
                case "internal", "boom":
                    return 1 / 0
            return KeepStateAndData()

    pid = ok_pid(await Crashy.start())
    GenStateMachine.cast(pid, "later")
    reason = await exit_reason(GenStateMachine.call(pid, "crash"))
    assert isinstance(reason[0], ZeroDivisionError)
    (record,) = caplog.records
    assert record.getMessage().splitlines() == [
        f"GenStateMachine {pid!r} terminating",
        "** (ZeroDivisionError) division by zero",
        'Last message: (:internal, "boom")',
        'State: ("s", {"n": 1})',
        "Callback mode: [:handle_event_function, :state_enter]",
        'Queued messages: [(:internal, "queued")]',
        'Postponed messages: [(:cast, "later")]',
        'Time-outs: [(:state_timeout, "st")]',
    ]
    assert record.exc_info is not None and record.exc_info[1] is reason[0]


async def test_log3_quiet_reasons_are_not_reported_and_others_are(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="tether")
    for reason in ("normal", "shutdown", ("shutdown", "x")):
        pid = ok_pid(await Recorder.start())
        GenStateMachine.cast(pid, ("return", Stop(reason)))
        assert await GenStateMachine.stop(ok_pid(await Recorder.start()), reason) == "ok"
    await wait_all_blocked()
    assert caplog.records == []
    pid = ok_pid(await Recorder.start())
    assert await GenStateMachine.stop(pid, "other") == "ok"  # reported, as OTP does
    (record,) = caplog.records
    assert record.getMessage().splitlines() == [
        f"GenStateMachine {pid!r} terminating",
        "** (stop) :other",
        'State: ("a", [])',
        "Callback mode: :handle_event_function",
    ]


async def test_log3_report_of_a_call_whose_client_died(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="tether")

    class SlowCrash(Recorder):
        async def handle_event(self, event_type: Any, content: Any, state: Any, data: Any) -> Any:
            await Process.sleep(1)
            raise RuntimeError("late")

    pid = ok_pid(await SlowCrash.start())
    client = spawn(GenStateMachine.call, pid, "x")
    await wait_all_blocked()
    Process.exit(client, "kill")
    mon = Process.monitor(pid)
    await receive(Down(mon, ANY, ANY, ANY))
    (record,) = caplog.records
    assert record.getMessage().splitlines()[-1] == f"Client {client!r} is dead"


async def test_log3_format_status_that_fails_hides_state_and_data(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="tether")

    class Secret(Recorder):
        def format_status(self, status: dict[str, Any]) -> dict[str, Any]:
            return {"password": "?"}

    pid = ok_pid(await Secret.start(["hunter2"]))
    assert await GenStateMachine.stop(pid, "bye") == "ok"
    (record,) = caplog.records
    assert (
        record.getMessage().splitlines()[2] == f"State: {Secret.__qualname__}.format_status failed"
    )


async def test_stop_exits_calling_self_timeout_and_the_terminate_crash() -> None:
    class Stuck(Recorder):
        async def terminate(self, reason: Any, state: Any, data: Any) -> Any:
            if reason == "slow":
                await Process.sleep(10)

    pid = ok_pid(await Stuck.start())
    assert await exit_reason(GenStateMachine.stop(pid, "slow", 1)) == "timeout"
    assert Process.alive(pid)  # as gen_statem: still in terminate
    await Process.sleep(10)
    assert not Process.alive(pid)

    class StopsItself(Recorder):
        async def handle_event(self, *args: Any) -> Any:
            try:
                await GenStateMachine.stop(self())
            except ProcessExit as e:
                return Stop(("caught", e.reason))

    pid = ok_pid(await StopsItself.start())
    mon = Process.monitor(pid)
    GenStateMachine.cast(pid, "go")
    assert (await receive(Down(mon, ANY, ANY, ANY))).reason == ("caught", "calling_self")
