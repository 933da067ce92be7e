from tests.conformance.t import wait_forever
from tether import Process, make_ref, spawn, spawn_monitor


async def scenario(t):
    pid = spawn(wait_forever)
    ref = Process.monitor(pid)
    t.out("info", Process.demonitor(ref, info=True))
    t.out("info_again", Process.demonitor(ref, info=True))
    t.out("plain", Process.demonitor(ref))
    t.out("unknown", Process.demonitor(make_ref()))
    t.out("unknown_info", Process.demonitor(make_ref(), info=True))
    p2, r2 = spawn_monitor(wait_forever)
    Process.exit(p2, "x")
    await t.settle()
    t.out("down_queued_info", Process.demonitor(r2, info=True))
    await t.flush()
