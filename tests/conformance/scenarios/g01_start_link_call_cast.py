from tests.conformance import twin_stack
from tests.conformance.twin_stack import Stack
from tether import GenServer, Process, self


async def scenario(t):
    twin_stack.T = t
    ok, pid = await Stack.start_link(["a", "b"])
    t.out("links", Process.info(self(), "links") == [pid])
    t.out("pop", await GenServer.call(pid, "pop"))
    t.out("cast", GenServer.cast(pid, ("push", "c")))
    t.out("state", await GenServer.call(pid, "state"))
