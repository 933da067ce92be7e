from tether import Process, Ref, self


async def scenario(t):
    ref = Process.monitor(self())
    t.out("is_ref", isinstance(ref, Ref))
    t.out("monitors", Process.info(self(), "monitors"))
    t.out("monitored_by", Process.info(self(), "monitored_by"))
    t.out("demonitor", Process.demonitor(ref))
