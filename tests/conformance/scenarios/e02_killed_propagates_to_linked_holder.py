from tests.conformance.t import wait_forever
from tether import ANY, Down, Process, receive, self, send, spawn_link, spawn_monitor


async def scenario(t):
    me = self()

    async def holder_fn():
        v = spawn_link(wait_forever)
        send(me, ("victim", v))
        await wait_forever()

    holder, ref = spawn_monitor(holder_fn)
    (_, victim) = await receive(("victim", ANY))
    t.out("holder", holder)
    Process.exit(victim, "kill")
    t.out("down", await receive(Down(ref, ANY, ANY, ANY)))
