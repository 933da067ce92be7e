from tether import Process, self


async def scenario(t):
    t.out("set", Process.flag("trap_exit", True))
    t.out("set", Process.flag("trap_exit", True))
    t.out("set", Process.flag("trap_exit", False))
    t.out("info", Process.info(self(), "trap_exit"))
