from tether import Process, pid, send


async def scenario(t):
    p = pid(0, 999, 0)
    t.out("pid", p)
    t.out("info", Process.info(p))
    t.out("send", send(p, "hello"))
