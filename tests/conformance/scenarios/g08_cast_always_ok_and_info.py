import tether
from tests.conformance import twin_stack
from tests.conformance.twin_stack import Stack
from tether import GenServer, send


async def scenario(t):
    twin_stack.T = t
    ok, pid = await Stack.start_link([])
    t.out("dead", GenServer.cast(tether.pid(0, 999, 0), "x"))
    t.out("unknown", GenServer.cast("nobody", "x"))
    t.out("remote", GenServer.cast(("nobody", "other@host"), "x"))
    send(pid, "hello")
    t.out("state", await GenServer.call(pid, "state"))
