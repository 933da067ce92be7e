from tests.conformance.t import wait_forever
from tether import Process, pg, receive, self, spawn


async def scenario(t):
    me = self()
    t.out("before start", pg.get_members("g"))
    await pg.start_link()
    p1 = spawn(wait_forever)
    t.out("join", await pg.join("g", me))
    t.out("join list", await pg.join("g", [p1, me]))
    t.out("members", pg.get_members("g") == [p1, me, me])
    t.out("local", pg.get_local_members("g") == [p1, me, me])
    t.out("groups", pg.which_groups())
    t.out("local groups", pg.which_local_groups())
    t.out("none", pg.get_members("nobody"))
    ref, groups = await pg.monitor_scope()
    t.out("scope", groups == {"g": [p1, me, me]})
    gref, members = await pg.monitor("h")
    t.out("h members", members)
    t.out("leave", await pg.leave("g", me))
    t.out("members", pg.get_members("g") == [p1, me])
    t.out("not joined", await pg.leave("nope", me))
    t.out("join h", await pg.join("h", p1))
    Process.exit(p1, "kill")
    await t.settle()
    events = []
    for _ in range(7):
        try:
            r, action, group, pids = await receive(timeout=0)
        except TimeoutError:
            events.append("none")
            continue
        kind = "scope" if r == ref else "group"
        events.append((kind, action, group, pids in ([me], [p1])))
    t.out("events", events)
    t.out("after death", (pg.get_members("g") == [me], pg.get_members("h")))
    t.out("groups", pg.which_groups())
    t.out("demonitor", await pg.demonitor(ref))
    t.out("demonitor again", await pg.demonitor(ref))
    t.out("demonitor group", await pg.demonitor(gref))
    t.out("leave list", await pg.leave("g", [me]))
    t.out("empty", (pg.which_groups(), pg.which_local_groups()))
    await pg.start_link("other")
    t.out(
        "other scope",
        (
            await pg.join("g", me, scope="other"),
            pg.get_members("g", scope="other") == [me],
            pg.get_members("g"),
        ),
    )
