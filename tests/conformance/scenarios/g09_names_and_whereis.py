from tests.conformance import twin_stack
from tests.conformance.twin_stack import Stack
from tether import GenServer, Process


async def scenario(t):
    twin_stack.T = t
    ok, pid = await Stack.start_link([], name="stack")
    t.out("whereis", GenServer.whereis("stack") == pid)
    t.out("again", await Stack.start_link([], name="stack"))
    t.out("name", Process.info(pid, "registered_name"))
    t.out("remote", GenServer.whereis(("stack", "other@host")))
    t.out("unknown", GenServer.whereis("nope"))
    await GenServer.stop("stack")
    t.out("after", Process.whereis("stack"))
