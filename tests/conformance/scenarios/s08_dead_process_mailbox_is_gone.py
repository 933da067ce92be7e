from tests.conformance.t import wait_forever
from tether import Process, send, spawn


async def scenario(t):
    pid = spawn(wait_forever)
    send(pid, "lost")
    await t.settle()
    t.out("messages", Process.info(pid, "messages"))
    t.out("len", Process.info(pid, "message_queue_len"))
    Process.exit(pid, "kill")
    t.out("alive", Process.alive(pid))
    t.out("messages", Process.info(pid, "messages"))
