from tests.conformance.t import start_forwarder
from tether import ANY, Process, receive


async def scenario(t):
    async def caller():
        pid = await start_forwarder()
        t.out("exit", Process.exit(pid, "normal"))
        (_, m) = await receive(("got", ANY))
        t.out("got", m)
        t.out("alive", Process.alive(pid))

    await t.run(caller)
