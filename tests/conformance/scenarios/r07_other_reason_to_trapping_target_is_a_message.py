from tests.conformance.t import start_forwarder
from tether import ANY, Process, receive, self


async def scenario(t):
    async def caller():
        t.out("self", self())
        pid = await start_forwarder()
        Process.exit(pid, "boom")
        (_, m) = await receive(("got", ANY))
        t.out("got", m)

    await t.run(caller)
