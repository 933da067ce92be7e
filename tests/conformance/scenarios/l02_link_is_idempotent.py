from tests.conformance.t import wait_forever
from tether import Process, self, spawn


async def scenario(t):
    pid = spawn(wait_forever)
    t.out("link", Process.link(pid))
    t.out("link", Process.link(pid))
    t.out("links", Process.info(self(), "links"))
    t.out("unlink", Process.unlink(pid))
    t.out("links", Process.info(self(), "links"))
    t.out("their_links", Process.info(pid, "links"))
