import tether
from tests.conformance import twin_stack
from tether import ANY, Down, GenServer, Process, receive, self, send


async def scenario(t):
    twin_stack.T = t
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
