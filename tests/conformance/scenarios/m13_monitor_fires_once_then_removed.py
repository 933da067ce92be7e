from tether import ANY, Down, Process, receive, self, send, spawn


async def go():
    await receive(lambda m: m == "go")


async def scenario(t):
    pid = spawn(go)
    ref = Process.monitor(pid)
    send(pid, "go")
    t.out("down", await receive(Down(ref, ANY, ANY, ANY)))
    t.out("monitors", Process.info(self(), "monitors"))
    await t.settle()
    await t.flush()
