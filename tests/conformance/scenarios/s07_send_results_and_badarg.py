from tether import node, pid, send


async def scenario(t):
    t.out("dead_pid", send(pid(0, 999, 0), "hi"))
    t.out("name_node", send(("nobody", node()), "hi"))
    try:
        send("nobody", "hi")
    except ValueError:
        t.out("unregistered_name", "badarg")
