from tether import ANY, Process, receive, self, send, spawn_link


async def scenario(t):
    async def caller():
        me = self()
        t.out("me", me)
        t.out("links", Process.info(self(), "links"))

        async def child():
            send(me, ("child_links", Process.info(self(), "links")))

        spawn_link(child)
        (_, links) = await receive(("child_links", ANY))
        t.out("child_links", links)

    await t.run(caller)
