from tests.conformance.t import wait_forever
from tether import ANY, Down, Process, receive, self, spawn


async def scenario(t):
    pid = spawn(wait_forever)
    Process.register(pid, "svc")
    ref = Process.monitor("svc")
    t.out("monitors", Process.info(self(), "monitors"))
    Process.unregister("svc")
    Process.register(spawn(wait_forever), "svc")
    Process.exit(pid, "x")
    t.out("down", await receive(Down(ref, ANY, ANY, ANY)))
    ref2 = Process.monitor("nobody")
    t.out("down", await receive(Down(ref2, ANY, ANY, ANY)))
