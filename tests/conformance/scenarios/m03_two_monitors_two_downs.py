from tests.conformance.t import wait_forever
from tether import Process, self, spawn


async def scenario(t):
    pid = spawn(wait_forever)
    r1 = Process.monitor(pid)
    r2 = Process.monitor(pid)
    t.out("distinct", r1 != r2)
    t.out("monitors", Process.info(self(), "monitors"))
    t.out("monitored_by", Process.info(pid, "monitored_by"))
    Process.exit(pid, "x")
    await t.settle()
    await t.flush()
    _ = self
