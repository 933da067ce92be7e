from typing import Any

from tether import (
    GenStateMachine,
    KeepState,
    KeepStateAndData,
    NextEvent,
    NextState,
    Postpone,
    ProcessExit,
    ReplyTo,
    StateTimeout,
)

T: Any = None
BACKOFF = 0.2


class Connection(GenStateMachine):
    """Retries with back-off; calls wait (postponed) while disconnected."""

    def init(self, failures: Any) -> Any:
        data = {"attempt": 0, "failures": failures}
        return NextState("disconnected", data, [NextEvent("internal", "connect")])

    def handle_event(self, event_type: Any, content: Any, state: Any, data: Any) -> Any:
        match event_type, content, state:
            case "internal", "connect", "disconnected":
                attempt = data["attempt"] + 1
                T.out("connect attempt", attempt)
                if attempt <= data["failures"]:
                    delay = BACKOFF * 2 ** (attempt - 1)
                    T.out("retry in", round(delay * 1000))
                    return KeepState({**data, "attempt": attempt}, [StateTimeout(delay, "retry")])
                T.out("connected after", attempt)
                return NextState("connected", {**data, "attempt": 0})
            case "state_timeout", "retry", "disconnected":
                return KeepStateAndData([NextEvent("internal", "connect")])
            case ("call", _), ("send", _), "disconnected":
                return KeepStateAndData(Postpone())
            case ("call", from_), ("send", msg), "connected":
                T.out("sent", msg)
                return KeepStateAndData([ReplyTo(from_, ("ok", msg))])
            case "cast", ("drop", failures), "connected":
                T.out("dropped", failures)
                return NextState(
                    "disconnected",
                    {**data, "failures": failures},
                    [NextEvent("internal", "connect")],
                )
            case ("call", from_), "status", _:
                return KeepStateAndData([ReplyTo(from_, (state, data["attempt"]))])
        return super().handle_event(event_type, content, state, data)

    def terminate(self, reason: Any, state: Any, data: Any) -> Any:
        T.out("terminate", (reason, state))


async def scenario(t):
    global T
    T = t
    ok, pid = await Connection.start_link(2)
    t.out("status", await GenStateMachine.call(pid, "status"))
    # postponed until the third attempt connects, 600 ms from now
    t.out("reply", await GenStateMachine.call(pid, ("send", "hello")))
    GenStateMachine.cast(pid, ("drop", 1))
    try:
        await GenStateMachine.call(pid, ("send", "late"), 0.05)
    except ProcessExit as e:
        t.out("call exit", e.reason[0])
    t.out("reply", await GenStateMachine.call(pid, ("send", "again")))
    await t.settle()
    # the reply to "late" was dropped
    await t.flush()
    t.out("status", await GenStateMachine.call(pid, "status"))
    t.out("stop", await GenStateMachine.stop(pid))
