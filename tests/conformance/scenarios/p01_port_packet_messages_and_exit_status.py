import sys
from pathlib import Path

import tether
from tether import Port, Process, receive

PROG = str(Path(__file__).parent.parent / "programs" / "packets.py")


async def scenario(t):
    async def caller():
        Process.flag("trap_exit", True)
        port = Port.open([sys.executable, PROG, "2"], packet=2, exit_status=True)
        ref = Process.monitor(port)
        t.out("port", port)
        t.out("ref", ref)
        for _ in range(3):
            t.out("msg", await receive())
        t.out("command", Port.command(port, b"ab"))
        t.out("msg", await receive())
        Port.command(port, ["c", "d"])
        t.out("msg", await receive())
        t.out("connected", Port.info(port, "connected") == tether.self())
        Port.command(port, b"quit")
        for _ in range(4):
            t.out("msg", await receive())
        t.out("info", Port.info(port))
        t.out("list", port in Port.list())

    await t.run(caller)
