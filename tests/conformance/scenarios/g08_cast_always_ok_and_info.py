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


T: Any = None
import tether
from tether import GenServer, send


async def scenario(t):
    global T
    T = t
    ok, pid = await Stack.start_link([])
    t.out("dead", GenServer.cast(tether.pid(0, 999, 0), "x"))
    t.out("unknown", GenServer.cast("nobody", "x"))
    t.out("remote", GenServer.cast(("nobody", "other@host"), "x"))
    send(pid, "hello")
    t.out("state", await GenServer.call(pid, "state"))
