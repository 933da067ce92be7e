from tests.conformance.t import wait_forever
from tether import GenServer, NoReply, Ok, Pid, Reply, global_, receive, self, spawn


class GlStack(GenServer):
    def init(self, s, /):
        return Ok(s)

    def handle_call(self, req, from_, s, /):
        if req == "pop":
            return Reply(s[0], s[1:])

    def handle_cast(self, req, s, /):
        return NoReply([req[1], *s])


async def catch_exit(call):
    from tether import ProcessExit

    try:
        await call
    except ProcessExit as e:
        return e.reason


async def scenario(t):
    me = self()

    async def first_message():
        from tether import send

        send(me, ("a_got", await receive()))

    a = spawn(first_message)
    b = spawn(wait_forever)
    c = spawn(wait_forever)
    t.out("register", await global_.register_name("a", a))
    t.out("taken", await global_.register_name("a", b))
    t.out("second name", await global_.register_name("a2", a))
    t.out("whereis", global_.whereis_name("a") == a)
    t.out("unknown", global_.whereis_name("nobody") is None)
    t.out("send", global_.send("a", "hello") == a)
    t.out("a got", (await receive(("a_got", object)))[1])
    await t.settle()
    t.out("after death", global_.whereis_name("a") is None)
    t.out("re_register", await global_.re_register_name("b", b))
    t.out("moved", (await global_.re_register_name("b", c), global_.whereis_name("b") == c))
    t.out("names", sorted(global_.registered_names()))
    t.out("unregister", await global_.unregister_name("b"))
    t.out("unregister again", await global_.unregister_name("b"))
    t.out("names", global_.registered_names())

    _, stack = await GlStack.start_link(["x"], name=("global", "stack"))
    already = await GlStack.start([], name=("global", "stack"))
    t.out("already", already == ("error", ("already_started", stack)))
    t.out("whereis stack", GenServer.whereis(("global", "stack")) == stack)
    t.out("cast", GenServer.cast(("global", "stack"), ("push", "y")))
    t.out("pop", await GenServer.call(("global", "stack"), "pop"))
    t.out("pop via", await GenServer.call(("via", global_, "stack"), "pop"))
    t.out("cast unknown", GenServer.cast(("global", "nobody"), "x"))
    t.out("call unknown", await catch_exit(GenServer.call(("global", "nobody"), "pop")))
    t.out("stop", await GenServer.stop(("global", "stack")))
    t.out("stopped", GenServer.whereis(("global", "stack")))

    t.out("set_lock", await global_.set_lock(("res", "me")))
    t.out("again", await global_.set_lock(("res", "me")))

    async def other_requester():
        from tether import node, send

        send(me, ("other", await global_.set_lock(("res", "other"), [node()], 0)))

    other = spawn(other_requester)
    r = (await receive(("other", object)))[1]
    t.out("other requester", (r, isinstance(other, Pid)))
    t.out("del_lock", await global_.del_lock(("res", "me")))
    t.out("trans", await global_.trans(("res", "me"), lambda: "inside"))
