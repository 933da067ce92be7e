"""Registry beyond the ported suite: node ownership, dead callers, child specs,
argument checks, partitions, and the edges of the match-spec form."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import pytest

import tether
from tether import (
    ANY,
    Down,
    Exit,
    GenServer,
    Process,
    Registry,
    Supervisor,
    receive,
    self,
    send,
    spawn,
    spawn_link,
)
from tether._behaviours.registry import _Table, _tables
from tether._runtime import _node as _n
from tether.testing import wait_all_blocked

from .conftest import mailbox_now

Var = Registry.Var


async def wait_forever() -> None:
    await Process.sleep(None)


async def registered(registry: str, key: Any, value: Any = None) -> tether.Pid:
    """A process that registers under ``key`` and waits; its pid once registered."""
    me = self()

    async def body() -> None:
        send(me, ("registered", Registry.register(registry, key, value)))
        await Process.sleep(None)

    pid = spawn(body)
    _, (ok, _owner) = await receive(("registered", ANY))
    assert ok == "ok"
    return pid


# -- issue 10: the table belongs to the node --------------------------------------


def test_registry_tables_go_with_their_node_and_no_node_sees_an_old_one() -> None:
    seen: list[Any] = []

    async def main(i: int) -> None:
        try:
            Registry.lookup("jobs", "k")
        except ValueError as e:
            seen.append(str(e).split(";")[0])
        await Registry.start_link(name="jobs", keys="unique")
        Registry.register("jobs", "k", i)
        seen.append(Registry.lookup("jobs", "k"))

    for i in range(20):
        tether.testing.run(main, i)
    gc.collect()
    assert [o for o in gc.get_objects() if isinstance(o, _Table)] == []
    unknown = "Registry.lookup: unknown registry 'jobs'"
    assert seen[0::2] == [unknown] * 20
    assert [entries[0][1] for entries in seen[1::2]] == list(range(20))


async def test_a_stopped_registry_is_unknown_and_its_name_starts_afresh() -> None:
    _, sup = await Registry.start_link(name="reg")
    _, owner = Registry.register("reg", "k", 1)
    # A registrant is linked to its partition, as in Elixir: trap, or the
    # registry's shutdown would end this process too.
    Process.flag("trap_exit", True)
    assert await Supervisor.stop(sup) == "ok"
    assert await mailbox_now() == [Exit(owner, "shutdown"), Exit(sup, "normal")]
    with pytest.raises(ValueError, match="Registry.lookup: unknown registry 'reg'"):
        Registry.lookup("reg", "k")
    assert "reg" not in _tables()
    await Registry.start_link(name="reg")
    assert Registry.lookup("reg", "k") == []
    assert Registry.count("reg") == 0


# -- issue 10: a dead process registers nothing -----------------------------------


async def test_register_from_a_killed_process_finally_block_adds_nothing() -> None:
    await Registry.start_link(name="reg", keys="duplicate")
    me = self()

    async def victim() -> None:
        try:
            send(me, "ready")
            await Process.sleep(None)
        finally:
            send(me, ("from finally", Registry.register("reg", "job", "leak")[0]))

    pid = spawn(victim)
    assert await receive() == "ready"
    owner = Process.whereis("reg")
    Process.exit(pid, "kill")
    await wait_all_blocked()
    assert Registry.lookup("reg", "job") == []
    assert Registry.keys("reg", pid) == []
    assert Registry.count("reg") == 0
    assert _tables()["reg"].by_pid == {}
    assert owner is not None and await mailbox_now() == []  # its send was dropped too


# -- child specs ---------------------------------------------------------------------


async def test_registries_are_one_liners_in_a_children_list() -> None:
    children = [
        Registry.child_spec(keys="unique", name="Jobs"),
        (Registry, {"keys": "duplicate", "name": "Topics", "partitions": 2}),
    ]
    ok, sup = await Supervisor.start_link(children, strategy="one_for_one")
    assert ok == "ok"
    which = await Supervisor.which_children(sup)
    assert [(c[0], c[1] == Process.whereis(c[0]), c[2]) for c in which] == [
        ("Topics", True, "supervisor"),
        ("Jobs", True, "supervisor"),
    ]
    Registry.register("Jobs", "a", 1)
    Registry.register("Topics", "t", 1)
    Registry.register("Topics", "t", 2)
    assert (Registry.count("Jobs"), Registry.count("Topics")) == (1, 2)
    assert len(await Supervisor.which_children("Topics")) == 2


async def test_child_spec_checks_its_options_at_once() -> None:
    with pytest.raises(ValueError, match="Registry.child_spec: keys must be 'unique'"):
        Registry.child_spec(keys="many", name="x")
    with pytest.raises(TypeError, match=r"Registry.child_spec: unknown option\(s\) key"):
        Registry.child_spec(key="unique", name="x")
    with pytest.raises(TypeError, match="Registry.child_spec: options must be a dict"):
        Registry.child_spec([("keys", "unique")])  # type: ignore[arg-type]


# -- argument checks: nothing happens before they pass ------------------------------


async def test_start_link_checks_every_option_before_starting_anything() -> None:
    cases: list[tuple[dict[str, Any], type[Exception], str]] = [
        ({"name": "r", "keys": "many"}, ValueError, "keys must be 'unique' or 'duplicate'"),
        ({"name": "r", "partitions": 0}, ValueError, "partitions must be an int >= 1, got 0"),
        ({"name": "r", "partitions": 1.5}, TypeError, "partitions must be an int >= 1"),
        ({"name": "r", "listeners": "l"}, TypeError, "listeners must be a list of registered"),
        ({"name": "r", "listeners": [1]}, TypeError, "listeners must be a list of registered"),
        ({"name": "r", "meta": 3}, TypeError, "meta must be a dict or a list of"),
        ({"name": "r", "meta": {1: 2}}, TypeError, "key must be a str or a tuple"),
        ({"name": ""}, TypeError, "name must be a non-empty str"),
    ]
    for opts, exc, message in cases:
        with pytest.raises(exc, match=f"Registry.start_link: {message}"):
            await Registry.start_link(**opts)
    assert Process.whereis("r") is None
    assert Process.info(self(), "links") == []


async def test_register_checks_its_arguments_before_linking_or_writing() -> None:
    await Registry.start_link(name="reg")
    Process.unlink(Process.whereis("reg"))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"Registry.register: key must be hashable .*got \{1, 2\}"):
        Registry.register("reg", {1, 2}, None)
    with pytest.raises(TypeError, match="Registry.register: key must be hashable"):
        Registry.register("reg", ("ok", bytearray(b"x")), None)
    with pytest.raises(TypeError, match="Registry.register: registry must be the registry's name"):
        Registry.register(42, "k", None)  # type: ignore[arg-type]
    assert Registry.count("reg") == 0
    assert Process.info(self(), "links") == []
    _, owner = Registry.register("reg", ("a list", [1], {"and": "a dict"}), 1)
    assert Process.info(self(), "links") == [owner]
    assert Registry.keys("reg", self()) == [("a list", [1], {"and": "a dict"})]


async def test_every_reader_checks_its_arguments() -> None:
    await Registry.start_link(name="reg")
    checks: list[tuple[Any, type[Exception], str]] = [
        (lambda: Registry.keys("reg", "nope"), TypeError, "Registry.keys: pid must be"),
        (lambda: Registry.values("reg", "k", 1), TypeError, "Registry.values: pid must be"),
        (lambda: Registry.lookup("reg", [set()]), TypeError, "Registry.lookup: key must be"),
        (lambda: Registry.count(None), TypeError, "Registry.count: registry must be"),
        (lambda: Registry.meta("reg", 1), TypeError, "Registry.meta: key must be a str"),
        (lambda: Registry.put_meta("reg", 1, 2), TypeError, "Registry.put_meta: key must be"),
        (lambda: Registry.delete_meta("reg", 1), TypeError, "Registry.delete_meta: key must"),
        (
            lambda: Registry.match("reg", "k", ANY, [1]),
            TypeError,
            "Registry.match: each guard must be a plain function",
        ),
        (
            lambda: Registry.match("reg", "k", ANY, lambda x: x),
            TypeError,
            "Registry.match: guards must be a list of functions",
        ),
        (
            lambda: Registry.count_match("reg", "k", (Var("x"),), [lambda y: y]),
            ValueError,
            "Registry.count_match: guard .* takes y, which the pattern does not bind",
        ),
        (
            lambda: Registry.select("reg", [((ANY, ANY, ANY), [], Var("k"))]),
            ValueError,
            "Registry.select: the body uses k, which the pattern does not bind",
        ),
        (
            lambda: Registry.select("reg", ((ANY, ANY, ANY), [], True)),
            TypeError,
            "Registry.select: spec must be a list",
        ),
        (
            lambda: Registry.update_value("reg", "k", 5),
            TypeError,
            "Registry.update_value: callback must be a function",
        ),
        (
            lambda: Registry.whereis_name(("reg",)),
            TypeError,
            r"Registry.whereis_name: name must be \(registry, key\)",
        ),
        (
            lambda: Registry.register_name(("reg", "k"), "me"),
            TypeError,
            "Registry.register_name: pid must be a tether.Pid",
        ),
    ]
    for call, exc, message in checks:
        with pytest.raises(exc, match=message):
            call()


async def test_register_name_registers_only_the_caller() -> None:
    await Registry.start_link(name="reg")
    other = spawn(wait_forever)
    with pytest.raises(ValueError, match="only the caller can register itself"):
        Registry.register_name(("reg", "k"), other)
    assert Registry.lookup("reg", "k") == []


async def test_dispatch_checks_its_arguments_before_calling_anything() -> None:
    await Registry.start_link(name="reg", keys="duplicate")
    Registry.register("reg", "k", 1)
    with pytest.raises(TypeError, match="Registry.dispatch: fun must be a function"):
        await Registry.dispatch("reg", "k", "fun")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Registry.dispatch: parallel must be True or False"):
        await Registry.dispatch("reg", "k", print, parallel=1)  # type: ignore[arg-type]


async def test_update_value_is_refused_for_a_duplicate_registry() -> None:
    await Registry.start_link(name="reg", keys="duplicate")
    Registry.register("reg", "k", 1)
    with pytest.raises(ValueError, match="Registry.update_value is not supported for duplicate"):
        Registry.update_value("reg", "k", lambda v: v + 1)
    assert Registry.lookup("reg", "k") == [(self(), 1)]


async def test_var_names_must_be_identifiers() -> None:
    with pytest.raises(ValueError, match="Var: name must be a Python identifier"):
        Var("1")
    assert Var("x") == Var("x") and Var("x") != Var("y")
    assert repr(Var("x")) == "Var('x')" and repr(Registry.WHOLE[0]) == "Registry.WHOLE[0]"
    with pytest.raises(IndexError, match="an entry is"):
        Registry.WHOLE[3]


# -- the match-spec form --------------------------------------------------------------


async def test_a_guard_that_raises_or_returns_false_does_not_match() -> None:
    await Registry.start_link(name="reg")
    Registry.register("reg", "k", ("a", 2))
    x = Var("x")
    assert Registry.match("reg", "k", (x, ANY), [lambda x: x > 1]) == []  # str > int raises
    assert Registry.match("reg", "k", (ANY, x), [lambda x: x > 1]) == [(self(), ("a", 2))]
    assert Registry.match("reg", "k", (ANY, x), [lambda x: x > 1, lambda x: x > 5]) == []

    async def async_guard(x: Any) -> bool:
        return True

    with pytest.raises(TypeError, match="each guard must be a plain function"):
        Registry.match("reg", "k", (ANY, x), [async_guard])


async def test_guards_take_the_bindings_they_name_or_all_of_them() -> None:
    await Registry.start_link(name="reg")
    Registry.register("reg", "k", (1, 2, 3))
    a, b, c = Var("a"), Var("b"), Var("c")
    pat = (a, b, c)
    assert Registry.count_match("reg", "k", pat, [lambda c, a: c - a == 2]) == 1
    assert Registry.count_match("reg", "k", pat, [lambda **v: v == {"a": 1, "b": 2, "c": 3}]) == 1
    assert Registry.count_match("reg", "k", pat, [lambda a, *, b: (a, b) == (1, 2)]) == 1
    assert Registry.count_match("reg", "k", pat, [lambda a, d=7: a + d == 8]) == 1


async def test_patterns_compare_exactly_and_match_structure() -> None:
    await Registry.start_link(name="reg")
    value = {"n": 1, "items": [1, 2.0, True], "t": ("x", 1)}
    Registry.register("reg", "k", value)
    x = Var("x")
    me = [(self(), value)]
    assert Registry.match("reg", "k", {"n": 1}) == me
    assert Registry.match("reg", "k", {"n": 1.0}) == []
    assert Registry.match("reg", "k", {"n": True}) == []
    assert Registry.match("reg", "k", {"missing": ANY}) == []
    assert Registry.match("reg", "k", {"items": [1, 2.0, True]}) == me
    assert Registry.match("reg", "k", {"items": [1, 2, True]}) == []
    assert Registry.match("reg", "k", {"items": [ANY, ANY]}) == []
    assert Registry.match("reg", "k", {"n": x, "t": (ANY, x)}) == me
    assert Registry.match("reg", "k", {"n": x, "items": [ANY, x, ANY]}) == []
    spec = [(("k", ANY, {"t": (x, ANY)}), [], {"first": x, "value": Registry.WHOLE[2]})]
    assert Registry.select("reg", spec) == [{"first": "x", "value": value}]


async def test_keys_that_python_calls_equal_stay_apart() -> None:
    await Registry.start_link(name="reg")
    for key in [1, 1.0, True, (1,), (1.0,), [1], "1"]:
        assert Registry.register("reg", key, repr(key))[0] == "ok"
    assert Registry.count("reg") == 7
    assert Registry.lookup("reg", 1.0) == [(self(), "1.0")]
    assert Registry.lookup("reg", True) == [(self(), "True")]
    assert Registry.lookup("reg", [1]) == [(self(), "[1]")]
    assert Registry.lookup("reg", (1.0,)) == [(self(), "(1.0,)")]


# -- cleanup, dead holders, partitions ------------------------------------------------


async def test_whereis_name_skips_a_dead_holder_that_is_not_yet_cleaned_up() -> None:
    await Registry.start_link(name="reg")
    holder = await registered("reg", "k", "v")
    owner = Registry.register("reg", "other", 0)[1]
    node = _n.NODE
    assert isinstance(node, _n.Node)
    hold: asyncio.Future[Any] = node.loop.create_future()
    node.suspend(node.table[owner], hold)  # the partition cannot clean up yet
    Process.exit(holder, "kill")
    assert Registry.lookup("reg", "k") == [(holder, "v")]
    assert Registry.whereis_name(("reg", "k")) is None
    hold.set_result(None)
    await wait_all_blocked()
    assert Registry.lookup("reg", "k") == []


async def test_a_restarted_partition_starts_empty_and_its_registrants_get_its_exit() -> None:
    await Registry.start_link(name="reg", keys="unique", partitions=2)
    Process.flag("trap_exit", True)
    other = await registered("reg", "theirs")
    _, owner = Registry.register("reg", "mine", 1)
    Process.exit(owner, "kill")
    assert await receive(Exit(owner, ANY)) == Exit(owner, "killed")
    await wait_all_blocked()
    # Unique keys: every partition restarts (one_for_all), so every entry goes,
    # and a registrant that does not trap exits went down with its partition.
    assert not Process.alive(other)
    assert Registry.count("reg") == 0
    assert Registry.register("reg", "mine", 2)[0] == "ok"
    assert Registry.lookup("reg", "mine") == [(self(), 2)]


async def test_listeners_hear_nothing_when_a_registrant_dies() -> None:
    await Registry.start_link(name="reg", listeners=["ears"])
    Process.register(self(), "ears")
    pid = await registered("reg", "k", "v")
    assert await receive() == ("register", "reg", "k", pid, "v")
    ref = Process.monitor(pid)
    Process.exit(pid, "kill")
    await receive(Down(ref, ANY, ANY, ANY))
    await wait_all_blocked()
    assert Registry.lookup("reg", "k") == []
    assert await mailbox_now() == []


async def test_send_needs_exactly_one_process_under_the_key() -> None:
    await Registry.start_link(name="dup", keys="duplicate")
    with pytest.raises(ValueError, match="Registry.send: expected one process under 'k'"):
        Registry.send(("dup", "k"), "hi")
    Registry.register("dup", "k", 1)
    assert Registry.send(("dup", "k", "ignored value"), "hi") == "hi"
    assert await receive() == "hi"
    Registry.register("dup", "k", 2)
    with pytest.raises(ValueError, match="found 2"):
        Registry.send(("dup", "k"), "hi")


async def test_a_genserver_named_through_a_registry_is_unregistered_when_it_stops() -> None:
    class Echo(GenServer):
        def handle_call(self, request: Any, from_: Any, state: Any) -> Any:
            return tether.Reply(request, state)

    await Registry.start_link(name="reg")
    name = ("via", Registry, ("reg", "echo", {"role": "echo"}))
    _, pid = await Echo.start_link(None, name=name)
    assert Registry.lookup("reg", "echo") == [(pid, {"role": "echo"})]
    assert await GenServer.call(name, "hi") == "hi"
    await GenServer.stop(name)
    await wait_all_blocked()
    assert Registry.lookup("reg", "echo") == []


async def test_parallel_dispatch_runs_a_failing_callback_in_a_linked_task() -> None:
    await Registry.start_link(name="reg", keys="duplicate", partitions=4)
    Process.flag("trap_exit", True)
    for i in range(4):
        await registered("reg", "topic", i)

    def fail(entries: list[Any]) -> None:
        raise RuntimeError("bad subscriber")

    async def dispatcher() -> None:
        await Registry.dispatch("reg", "topic", fail, parallel=True)

    # The dispatcher is linked to the task (as in Elixir), so the crash ends it too.
    pid = spawn_link(dispatcher)
    reason = (await receive(Exit(pid, ANY))).reason
    assert (type(reason), str(reason)) == (RuntimeError, "bad subscriber")
