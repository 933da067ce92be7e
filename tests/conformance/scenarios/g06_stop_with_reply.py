from tests.conformance import twin_stack
from tests.conformance.twin_stack import Stack
from tether import ANY, Down, GenServer, Process, receive


async def scenario(t):
    twin_stack.T = t
    ok, pid = await Stack.start([])
    ref = Process.monitor(pid)
    t.out("reply", await GenServer.call(pid, "stop_reply"))
    t.out("down", (await receive(Down(ref, ANY, ANY, ANY))).reason)
