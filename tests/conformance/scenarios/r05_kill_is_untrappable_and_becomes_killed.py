from tests.conformance.t import start_forwarder
from tether import ANY, Down, Process, receive


async def scenario(t):
    async def caller():
        pid = await start_forwarder()
        ref = Process.monitor(pid)
        t.out("exit", Process.exit(pid, "kill"))
        t.out("alive", Process.alive(pid))
        t.out("down", await receive(Down(ref, ANY, ANY, ANY)))

    await t.run(caller)
