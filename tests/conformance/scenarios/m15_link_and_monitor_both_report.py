from tests.conformance.t import wait_forever
from tether import ANY, Down, Exit, Process, receive, spawn_link


async def scenario(t):
    Process.flag("trap_exit", True)
    pid = spawn_link(wait_forever)
    ref = Process.monitor(pid)
    Process.exit(pid, "kill")
    t.out("exit", (await receive(Exit(pid, ANY))).reason)
    t.out("down", (await receive(Down(ref, ANY, ANY, ANY))).reason)
