from typing import Any

from tether import (
    GenStateMachine,
    KeepState,
    KeepStateAndData,
    NextState,
    Process,
    ReplyTo,
    StateTimeout,
)

T: Any = None
BUTTON_TIMEOUT = 0.25
OPEN_TIME = 0.15


class DoorLock(GenStateMachine):
    """OTP's code lock: state functions with state enter calls and two state time-outs."""

    callback_mode = ("state_functions", "state_enter")

    def init(self, code: Any) -> Any:
        return NextState("locked", {"code": code, "buttons": []})

    def locked(self, event_type: Any, content: Any, data: Any) -> Any:
        match event_type, content:
            case "enter", old_state:
                T.out("lock, entered from", old_state)
                return KeepState({**data, "buttons": []})
            case "state_timeout", "button":
                T.out("buttons timed out", data["buttons"])
                return KeepState({**data, "buttons": []})
            case "cast", ("button", button):
                code = data["code"]
                new_buttons = [*data["buttons"], button][-len(code) :]
                if new_buttons == code:
                    return NextState("open", data)
                return KeepState(
                    {**data, "buttons": new_buttons}, [StateTimeout(BUTTON_TIMEOUT, "button")]
                )
        return handle_common("locked", event_type, content, data)

    def open(self, event_type: Any, content: Any, data: Any) -> Any:
        match event_type, content:
            case "enter", old_state:
                T.out("unlock, entered from", old_state)
                return KeepStateAndData([StateTimeout(OPEN_TIME, "lock")])
            case "state_timeout", "lock":
                T.out("open time over", "lock")
                return NextState("locked", data)
            case "cast", ("button", button):
                T.out("ignored while open", button)
                return KeepStateAndData()
        return handle_common("open", event_type, content, data)

    def terminate(self, reason: Any, state: Any, data: Any) -> Any:
        T.out("terminate", (reason, state))


def handle_common(state: str, event_type: Any, content: Any, data: Any) -> Any:
    match event_type, content:
        case ("call", from_), "status":
            return KeepStateAndData([ReplyTo(from_, (state, data["buttons"]))])


async def scenario(t):
    global T
    T = t
    ok, pid = await DoorLock.start_link([1, 2, 3])
    t.out("status", await GenStateMachine.call(pid, "status"))
    GenStateMachine.cast(pid, ("button", 1))
    await Process.sleep(0.15)
    # the second press restarts the button time-out
    GenStateMachine.cast(pid, ("button", 2))
    await Process.sleep(0.15)
    t.out("status", await GenStateMachine.call(pid, "status"))
    await Process.sleep(0.25)
    t.out("status", await GenStateMachine.call(pid, "status"))
    for b in [9, 1, 2, 3]:
        GenStateMachine.cast(pid, ("button", b))
    t.out("status", await GenStateMachine.call(pid, "status"))
    GenStateMachine.cast(pid, ("button", 5))
    await Process.sleep(0.4)
    t.out("status", await GenStateMachine.call(pid, "status"))
    t.out("stop", await GenStateMachine.stop(pid))
