from tether import ANY, receive, self, send


async def scenario(t):
    for m in ["a", ("x", 1), "b", ("x", 2), 3, ("y", 0)]:
        send(self(), m)
    t.out("got", await receive(("x", ANY)))
    t.out("got", await receive(int))
    t.out("got", await receive(lambda m: m == "b"))
    await t.flush()
