from tests.conformance.t import wait_forever
from tether import Process, spawn


async def scenario(t):
    results = []
    for _ in range(50):
        pid = spawn(wait_forever)
        Process.exit(pid, "kill")
        results.append(Process.alive(pid))
    t.out("any_alive", any(results))
