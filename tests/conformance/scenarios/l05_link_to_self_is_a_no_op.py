from tether import Process, self


async def scenario(t):
    t.out("link", Process.link(self()))
    t.out("links", Process.info(self(), "links"))
    t.out("unlink", Process.unlink(self()))
