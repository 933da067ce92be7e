from tests.conformance.t import wait_forever
from tether import ANY, Exit, Process, receive, self, spawn_link


async def scenario(t):
    Process.flag("trap_exit", True)
    pid = spawn_link(wait_forever)
    t.out("links", Process.info(self(), "links"))
    Process.exit(pid, "kill")
    t.out("exit", (await receive(Exit(pid, ANY))).reason)
    t.out("links", Process.info(self(), "links"))
