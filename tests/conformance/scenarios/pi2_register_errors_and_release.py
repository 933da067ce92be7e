from tests.conformance.t import wait_forever
from tether import ANY, Down, Process, receive, spawn


async def scenario(t):
    a = spawn(wait_forever)
    t.out("register", Process.register(a, "a"))
    b = spawn(wait_forever)
    try:
        Process.register(b, "a")
    except ValueError:
        t.out("taken", "badarg")
    try:
        Process.register(a, "other")
    except ValueError:
        t.out("already_named", "badarg")
    t.out("whereis", Process.whereis("a") == a)
    t.out("name", Process.info(a, "registered_name"))
    t.out("unnamed", Process.info(b, "registered_name"))
    ref = Process.monitor(a)
    Process.exit(a, "kill")
    await receive(Down(ref, ANY, ANY, ANY))
    t.out("whereis", Process.whereis("a"))
    try:
        Process.register(a, "c")
    except ValueError:
        t.out("dead", "badarg")
