from tests.conformance.t import wait_forever
from tether import ANY, Down, Exit, Process, receive, spawn, spawn_link


async def scenario(t):
    Process.flag("trap_exit", True)
    pid = spawn_link(wait_forever)
    Process.register(pid, "named")
    ref = Process.monitor(pid)
    Process.exit(pid, "bye")
    t.out("exit", (await receive(Exit(pid, ANY))).reason)
    t.out("whereis", Process.whereis("named"))
    t.out("down", (await receive(Down(ref, ANY, ANY, ANY))).reason)
    t.out("register", Process.register(spawn(wait_forever), "named"))
