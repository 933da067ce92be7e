from tests.conformance import twin_stack
from tests.conformance.twin_stack import Stack
from tether import ANY, Down, GenServer, Process, ProcessExit, receive


async def scenario(t):
    twin_stack.T = t
    ok, pid = await Stack.start([])
    ref = Process.monitor(pid)
    try:
        await GenServer.call(pid, "bad")
    except ProcessExit as e:
        t.out("exit", e.reason)
    t.out("down", (await receive(Down(ref, ANY, ANY, ANY))).reason)
