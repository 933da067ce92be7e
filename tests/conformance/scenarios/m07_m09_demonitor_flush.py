from tests.conformance.t import wait_forever
from tether import Process, make_ref, self, send, spawn_monitor


async def scenario(t):
    pid, ref = spawn_monitor(wait_forever)
    send(self(), "before")
    Process.exit(pid, "x")
    await t.settle()
    send(self(), "after")
    t.out("flush", Process.demonitor(ref, flush=True))
    await t.flush()
    p2, r2 = spawn_monitor(wait_forever)
    Process.exit(p2, "x")
    await t.settle()
    t.out("flush_info_queued", Process.demonitor(r2, flush=True, info=True))
    _p3, r3 = spawn_monitor(wait_forever)
    t.out("flush_info_active", Process.demonitor(r3, flush=True, info=True))
    t.out("flush_info_unknown", Process.demonitor(make_ref(), flush=True, info=True))
    await t.flush()
