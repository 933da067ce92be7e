"""The Stack GenServer shared by the GenServer pairs (twin of stack.exs)."""

from typing import Any

from tether import GenServer, NoReply, Ok, Process, Reply, Stop


class Stack(GenServer):
    def init(self, arg: Any) -> Any:
        return Ok(arg)

    async def handle_call(self, request: Any, from_: Any, s: Any) -> Any:
        match request:
            case "pop":
                return Reply(s[0], s[1:])
            case "state":
                return Reply(s, s)
            case ("sleep", ms):
                await Process.sleep(ms / 1000)
                return Reply("late", s)
            case "crash":
                raise RuntimeError("call crash")
            case "stop_reply":
                return Stop("normal", s, reply="bye")
            case "bad":
                return "oops"

    def handle_cast(self, request: Any, s: Any) -> Any:
        match request:
            case ("push", x):
                return NoReply([x, *s])

    def handle_info(self, msg: Any, s: Any) -> Any:
        T.out("info", msg)
        return NoReply(s)

    def terminate(self, reason: Any, s: Any) -> Any:
        T.out("terminate", reason)


T: Any = None  # the scenario's Trace, set by each twin
