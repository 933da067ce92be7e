from tether import receive, self, send


async def scenario(t):
    send(self(), "other")
    try:
        r = await receive(int, timeout=0)
    except TimeoutError:
        r = "timeout"
    t.out("result", r)
    await t.flush()
