"""A code lock as a GenStateMachine (OTP's gen_statem example).

State functions with state enter calls, two state time-outs (buttons pressed
too slowly are cleared; the door locks again by itself), a call answered from
any state, and a visitor's call that waits, postponed, until the door opens.
"""

from typing import Any

import tether
from tether import (
    GenStateMachine,
    KeepState,
    KeepStateAndData,
    NextState,
    Pid,
    Postpone,
    Process,
    ReplyTo,
    StateTimeout,
    spawn_link,
)


class CodeLock(GenStateMachine):
    callback_mode = ("state_functions", "state_enter")

    def init(self, code: list[int]) -> Any:
        return NextState("locked", {"code": code, "buttons": []})

    def locked(self, event_type: Any, content: Any, data: Any) -> Any:
        match event_type, content:
            case "enter", _:
                print("lock: locked")
                return KeepState({**data, "buttons": []})
            case "cast", ("button", button):
                code = data["code"]
                buttons = [*data["buttons"], button][-len(code) :]
                if buttons == code:
                    return NextState("open", data)
                print(f"lock: buttons so far {buttons}")
                return KeepState({**data, "buttons": buttons}, StateTimeout(1.0, "clear"))
            case "state_timeout", "clear":
                print("lock: too slow, buttons cleared")
                return KeepState({**data, "buttons": []})
            case ("call", _), "wait_until_open":
                return KeepStateAndData(Postpone())  # retried when the state changes
        return answer_status("locked", event_type, content)

    def open(self, event_type: Any, content: Any, data: Any) -> Any:
        match event_type, content:
            case "enter", _:
                print("lock: open for 2 s")
                return KeepStateAndData(StateTimeout(2.0, "lock"))
            case "state_timeout", "lock":
                return NextState("locked", data)
            case ("call", from_), "wait_until_open":
                return KeepStateAndData(ReplyTo(from_, "come in"))
            case "cast", ("button", _):
                return KeepStateAndData()  # buttons do nothing while open
        return answer_status("open", event_type, content)


def answer_status(state: str, event_type: Any, content: Any) -> Any:
    match event_type, content:
        case ("call", from_), "status":
            return KeepStateAndData(ReplyTo(from_, state))
    return KeepStateAndData()


async def visitor(lock: Pid) -> None:
    print("visitor: waiting at the door")
    print(f"visitor: {await GenStateMachine.call(lock, 'wait_until_open')}")


async def press(lock: Pid, buttons: list[int]) -> None:
    for button in buttons:
        GenStateMachine.cast(lock, ("button", button))
    await Process.sleep(0.1)


async def main() -> None:
    _, lock = await CodeLock.start_link([1, 2, 3])
    spawn_link(visitor, lock)
    await press(lock, [1, 2])
    await Process.sleep(1.5)
    await press(lock, [9, 1, 2, 3])
    print(f"status: {await GenStateMachine.call(lock, 'status')}")
    await Process.sleep(2.5)
    print(f"status: {await GenStateMachine.call(lock, 'status')}")
    print(f"stop: {await GenStateMachine.stop(lock)}")


if __name__ == "__main__":
    tether.run(main)
