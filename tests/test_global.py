"""tether.global_ on one node (issue #17, item 1): names, locks, name positions.

The cluster half (other nodes, clashes) is ``tests/distribution/test_global_interop.py``
against real Elixir nodes; the BEAM's own trace of these calls is the conformance
pair ``gl01_global_names``.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

import tether
from tether import (
    ANY,
    Agent,
    Atom,
    Down,
    GenServer,
    NoReply,
    Process,
    ProcessExit,
    Reply,
    global_,
    receive,
    self,
    send,
    spawn,
    spawn_link,
)
from tether.etf import Export
from tether.testing import wait_all_blocked

from .conftest import mailbox_now, wait_forever


class Counter(GenServer):
    def handle_call(self, request: Any, from_: Any, state: Any, /) -> Any:
        return Reply(state, state + 1)

    def handle_cast(self, request: Any, state: Any, /) -> Any:
        return NoReply(state + request)


async def catch_exit(call: Any) -> Any:
    try:
        await call
    except ProcessExit as e:
        return e.reason
    raise AssertionError("expected an exit")


# -- the name table -----------------------------------------------------------------


async def test_a_name_is_registered_once_and_names_one_process() -> None:
    a, b = spawn(wait_forever), spawn(wait_forever)
    assert await global_.register_name("jobs", a) == "yes"
    assert await global_.register_name("jobs", b) == "no"
    assert global_.whereis_name("jobs") == a
    assert global_.whereis_name("nobody") is None
    assert global_.registered_names() == ["jobs"]


async def test_a_pid_with_a_global_name_gets_no_second_one_and_the_refusal_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    a = spawn(wait_forever)
    assert await global_.register_name(("job", 1), a) == "yes"
    assert await global_.register_name(("job", 2), a) == "no"
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR] == [
        f"global: {a!r} registered under several names: [('job', 2), ('job', 1)]"
    ]


async def test_names_are_any_term_and_lists_name_the_same_as_equal_lists() -> None:
    a = spawn(wait_forever)
    assert await global_.register_name(["room", 7], a) == "yes"
    assert global_.whereis_name(["room", 7]) == a
    assert global_.registered_names() == [["room", 7]]


async def test_a_name_goes_when_its_process_dies() -> None:
    a = spawn(wait_forever)
    await global_.register_name("short_lived", a)
    Process.exit(a, "kill")
    assert global_.whereis_name("short_lived") is None  # at once: the pid is dead
    await wait_all_blocked()
    assert global_.registered_names() == []  # and the server's monitor removed it
    b = spawn(wait_forever)
    assert await global_.register_name("short_lived", b) == "yes"


async def test_re_register_moves_a_name_and_unregister_removes_it() -> None:
    a, b = spawn(wait_forever), spawn(wait_forever)
    assert await global_.re_register_name("moving", a) == "yes"
    assert await global_.re_register_name("moving", b) == "yes"
    assert global_.whereis_name("moving") == b
    assert await global_.unregister_name("moving") == "ok"
    assert await global_.unregister_name("moving") == "ok"  # not registered: still ok
    assert global_.whereis_name("moving") is None
    assert await global_.register_name("again", a) == "yes"  # a never kept a name


async def test_global_send_returns_the_pid_and_raises_value_error_for_an_unknown_name() -> None:
    assert await global_.register_name("me", self()) == "yes"
    assert global_.send("me", "hello") == self()
    assert await receive(timeout=0) == "hello"
    with pytest.raises(ValueError, match="global_.send: no process is registered globally as 'x'"):
        global_.send("x", "lost")


async def test_every_node_starts_with_an_empty_table() -> None:
    # The previous tests' names were their nodes' (node_state): this node has none.
    assert global_.registered_names() == []


# -- arguments are checked first ------------------------------------------------------------


async def test_bad_arguments_raise_before_anything_is_registered() -> None:
    a = spawn(wait_forever)
    with pytest.raises(TypeError, match="global_.register_name: name must be a value other"):
        await global_.register_name(object(), a)
    with pytest.raises(TypeError, match="global_.register_name: pid must be a tether.Pid"):
        await global_.register_name("x", "not a pid")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="global_.register_name: resolve must be a function"):
        await global_.register_name("x", a, "kill them")
    with pytest.raises(TypeError, match=r"global_.set_lock: id must be \(resource_id"):
        await global_.set_lock("res")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="global_.set_lock: retries must be an int >= 0"):
        await global_.set_lock(("res", 1), None, -1)
    with pytest.raises(TypeError, match="global_.del_lock: nodes must be a list of node names"):
        await global_.del_lock(("res", 1), ["nohost"])
    with pytest.raises(TypeError, match="global_.trans: fun must be callable"):
        await global_.trans(("res", 1), "fun")  # type: ignore[arg-type]
    assert global_.registered_names() == []


# -- locks ----------------------------------------------------------------------------------


async def test_a_lock_is_held_by_one_requester_however_many_processes_set_it() -> None:
    me = self()

    async def try_lock(lock_id: Any) -> None:
        send(me, ("tried", lock_id, await global_.set_lock(lock_id, None, 0)))
        await wait_forever()

    assert await global_.set_lock(("printer", "alice")) is True
    helper = spawn(try_lock, ("printer", "alice"))
    assert await receive(("tried", ANY, ANY)) == ("tried", ("printer", "alice"), True)
    spawn(try_lock, ("printer", "bob"))
    assert await receive(("tried", ANY, ANY)) == ("tried", ("printer", "bob"), False)
    await global_.del_lock(("printer", "alice"))
    spawn(try_lock, ("printer", "bob"))  # the helper still holds alice's lock
    assert await receive(("tried", ANY, ANY)) == ("tried", ("printer", "bob"), False)
    Process.exit(helper, "kill")  # a holder's death releases its hold
    await wait_all_blocked()
    spawn(try_lock, ("printer", "bob"))
    assert await receive(("tried", ANY, ANY)) == ("tried", ("printer", "bob"), True)


async def test_set_lock_retries_with_growing_random_sleeps_until_the_lock_is_free() -> None:
    me = self()
    assert await global_.set_lock(("res", "first")) is True

    async def second() -> None:
        send(me, ("second", await global_.set_lock(("res", "second"))))

    spawn(second)
    await Process.sleep(30)  # virtual clock: the retries sleep up to 8 s each
    assert await mailbox_now() == []
    await global_.del_lock(("res", "first"))
    assert await receive(("second", ANY), timeout=60) == ("second", True)


async def test_trans_runs_the_function_under_the_lock_and_aborts_when_it_is_held() -> None:
    me = self()
    assert await global_.trans(("res", "a"), lambda: "done") == "done"

    async def body() -> str:
        assert await global_.set_lock(("res", "b"), None, 0) is False  # a holds it
        return "async done"

    assert await global_.trans(("res", "a"), body) == "async done"
    assert await global_.set_lock(("res", "me")) is True

    async def other() -> None:
        send(me, ("other", await global_.trans(("res", "other"), lambda: "ran", None, 0)))

    spawn(other)
    assert await receive(("other", ANY)) == ("other", "aborted")


# -- resolve functions ------------------------------------------------------------------


async def test_the_resolve_functions_keep_the_pid_of_the_node_that_sorts_first() -> None:
    here = spawn(wait_forever)
    ref = Process.monitor(here)
    # Both pids are this node's: no node sorts first, and minmax (node(P1) <
    # node(P2)) keeps the second.
    other = spawn(wait_forever)
    assert global_.random_exit_name("n", here, other) == other
    assert await receive(Down(ref, ANY, ANY, ANY)) == Down(ref, "process", here, "killed")


async def test_notify_resolve_functions_tell_the_pids_of_the_conflict() -> None:
    a = spawn_link(forward_one, self())
    b = spawn_link(forward_one, self())
    assert global_.notify_all_name("clash", a, b) is None
    assert await receive(("fwd", a, ANY)) == ("fwd", a, ("global_name_conflict", "clash", b))
    assert await receive(("fwd", b, ANY)) == ("fwd", b, ("global_name_conflict", "clash", a))
    c = spawn_link(forward_one, self())
    d = spawn_link(forward_one, self())
    assert global_.random_notify_name("clash", c, d) == d
    assert await receive(("fwd", ANY, ANY)) == ("fwd", c, ("global_name_conflict", "clash"))


async def forward_one(to: tether.Pid) -> None:
    send(to, ("fwd", self(), await receive()))


async def test_resolve_it_runs_a_resolve_function_as_catch_does() -> None:
    from tether._dist.global_ import resolve_it

    a, b = spawn(wait_forever), spawn(wait_forever)

    def keep_first(name: Any, p1: tether.Pid, p2: tether.Pid) -> tether.Pid:
        return p1

    def drop(name: Any, p1: tether.Pid, p2: tether.Pid) -> None:
        return None

    def broken(name: Any, p1: tether.Pid, p2: tether.Pid) -> None:
        raise RuntimeError("no")

    for fn in (keep_first, drop, broken):
        assert await global_.register_name(fn.__name__, spawn(wait_forever), fn) == "yes"
    from tether._runtime._api import node_state

    table = node_state("tether.global", dict)
    terms = [table.resolver_terms[fn] for fn in (keep_first, drop, broken)]  # type: ignore[attr-defined]
    assert terms == [Export("tether_resolver", str(i), 3) for i in (1, 2, 3)]
    assert await resolve_it(terms[0], "n", a, b) == a
    assert await resolve_it(terms[1], "n", a, b) == "none"
    failed = await resolve_it(terms[2], "n", a, b)
    assert failed[0] == "EXIT" and str(failed[1]) == "no"
    unknown = await resolve_it(Export("lists", "max", 3), "n", a, b)
    assert unknown[0] == "EXIT" and unknown[1][0] == "undef"
    assert await resolve_it(Export("global", "random_notify_name", 3), "n", a, b) == b


# -- ("global", name) in every name position ------------------------------------------------


async def test_g17_a_genserver_is_named_called_cast_to_and_stopped_by_its_global_name() -> None:
    """G-17: name= takes ("global", name); G-12: a cast to an unknown one is "ok"."""
    _, pid = await Counter.start_link(10, name=("global", "counter"))
    assert await Counter.start(0, name=("global", "counter")) == (
        "error",
        ("already_started", pid),
    )
    assert GenServer.whereis(("global", "counter")) == pid
    assert await GenServer.call(("global", "counter"), "next") == 10
    assert GenServer.cast(("global", "counter"), 5) == "ok"
    assert await GenServer.call(("via", global_, "counter"), "next") == 16
    assert GenServer.cast(("global", "nobody"), 1) == "ok"
    assert await catch_exit(GenServer.call(("global", "nobody"), "next")) == (
        "noproc",
        ("GenServer.call", ("global", "nobody"), "next", 5.0),
    )
    assert await GenServer.stop(("global", "counter")) == "ok"
    assert global_.whereis_name("counter") is None


async def test_agents_and_supervisors_take_global_names() -> None:
    _, agent = await Agent.start_link(lambda: 1, name=("global", "agent"))
    assert await Agent.get(("global", "agent"), lambda n: n + 1) == 2
    _, sup = await tether.Supervisor.start_link([], strategy="one_for_one", name=("global", "sup"))
    assert await tether.Supervisor.which_children(("global", "sup")) == []
    assert sorted(global_.registered_names()) == ["agent", "sup"]
    assert (global_.whereis_name("agent"), global_.whereis_name("sup")) == (agent, sup)


async def test_send_takes_global_and_via_names() -> None:
    assert await global_.register_name("inbox", self()) == "yes"
    assert send(("global", "inbox"), "one") == "one"
    assert send(("via", global_, "inbox"), "two") == "two"
    assert await mailbox_now() == ["one", "two"]
    with pytest.raises(ValueError, match="no process is registered globally as 'nobody'"):
        send(("global", "nobody"), "lost")


async def test_m11_process_monitor_takes_global_names_looked_up_once() -> None:
    """M-11: a name is looked up when the monitor is set; M-4: unknown is noproc."""
    a = spawn(wait_forever)
    await global_.register_name("watched", a)
    ref = Process.monitor(("global", "watched"))
    via_ref = Process.monitor(("via", global_, "watched"))
    assert Process.info(self(), "monitors") == [("process", a), ("process", a)]
    Process.exit(a, "bye")
    assert await receive(Down(ref, ANY, ANY, ANY)) == Down(ref, "process", a, "bye")
    assert await receive(Down(via_ref, ANY, ANY, ANY)) == Down(via_ref, "process", a, "bye")
    gone = Process.monitor(("global", "watched"))
    assert await receive(timeout=0) == Down(gone, "process", ("global", "watched"), "noproc")


async def test_a_global_name_tuple_is_read_before_a_name_node_pair() -> None:
    # As OTP's gen.erl: ("global", x) is a global name even when x is a str.
    Process.register(self(), "global")
    assert await global_.register_name("n@h", self()) == "yes"
    send(("global", "n@h"), "as a global name")
    assert await receive(timeout=0) == "as a global name"


# -- the server -----------------------------------------------------------------------------


async def test_the_server_logs_and_drops_a_message_it_does_not_know(
    caplog: pytest.LogCaptureFixture,
) -> None:
    await global_.register_name("kept", self())
    server = Process.whereis("global_name_server")
    assert server is not None
    send(server, ("$gen_cast", ("no_such_request", 1)))
    send(server, ("$gen_cast", ("exchange", 42)))  # a known request of a wrong shape
    send(server, "garbage")
    await wait_all_blocked()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "The global_name_server received an unexpected message:\n"
        "handle_cast(('no_such_request', 1), _)",
        "The global_name_server received an unexpected message:\nhandle_cast(('exchange', 42), _)",
        "The global_name_server received an unexpected message:\nhandle_info('garbage', _)",
    ]
    assert Process.alive(server) and global_.whereis_name("kept") == self()


async def test_a_killed_server_is_started_again_with_an_empty_table() -> None:
    a = spawn(wait_forever)
    await global_.register_name("before", a)
    server = Process.whereis("global_name_server")
    assert server is not None
    Process.exit(server, "kill")
    await wait_all_blocked()
    assert Process.whereis("global_name_server") is None
    assert await global_.register_name("after", a) == "yes"
    assert global_.registered_names() == ["after"]
    assert Process.whereis("global_name_server") not in (None, server)


async def test_sync_on_a_node_that_is_not_distributed_returns_ok() -> None:
    assert await global_.sync() == "ok"
    assert Atom("ok") == await global_.sync([])


async def test_a_malformed_node_list_from_a_peer_adds_only_the_nodes_in_it() -> None:
    await global_.register_name("kept", self())
    server = Process.whereis("global_name_server")
    junk = [5, "junk", ("ok@host", "not a version"), ("fine@host", 8), []]
    send(server, ("$gen_cast", ("new_nodes", "peer@host", [], [], junk, [])))
    assert await GenServer.call(server, "get_known") == ["fine@host"]
    assert global_.whereis_name("kept") == self()
