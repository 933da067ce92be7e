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
from tether import ANY, Down, GenServer, receive, self, send


async def scenario(t):
    global T
    T = t
    me = self()

    class Trapper(GenServer):
        def init(self, arg):
            Process.flag("trap_exit", True)
            return tether.Ok(None)

        def terminate(self, reason, state):
            t.out("terminate", reason)

    async def parent_fn():
        ok, pid = await Trapper.start_link()
        send(me, ("server", pid))
        tether.exit("parent_gone")

    parent, ref = tether.spawn_monitor(parent_fn)
    await receive(("server", ANY))
    t.out("parent", (await receive(Down(ref, ANY, ANY, ANY))).reason)
    await t.settle()
