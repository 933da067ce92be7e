"""Elixir 1.14's ``lib/elixir/test/elixir/registry_test.exs``, ported.

One test per ExUnit test (and per doctest of ``doctest Registry``), named after
it, with the original ``describe`` and test name above it.  The ``describe``
blocks that Elixir runs for 1 and 8 partitions are parametrized the same way.

Spelling: Elixir atoms are ``tether.Atom`` (or plain ``str`` where tether treats
them alike); ``:_`` in a pattern is ``tether.ANY``; ``:"$1"`` is
``Registry.Var("x")``; a guard ``{:>, :"$1", 1}`` is ``lambda x: x > 1``; a select
body ``[{{:"$1", :"$2"}}]`` is ``(k, p)`` and ``:"$_"`` is ``Registry.WHOLE``.
Time is in seconds: ExUnit's 100 ms ``assert_receive`` is 0.1 s of the virtual
clock.  Tests with no meaning for tether are listed in tests/elixir_suite/README.md.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

import pytest

from tether import (
    ANY,
    Agent,
    Atom,
    Down,
    Exit,
    GenServer,
    Pid,
    Process,
    Registry,
    Supervisor,
    Task,
    receive,
    self,
    send,
)
from tether._behaviours.registry import _tables
from tether._runtime import _node as _n

Var = Registry.Var
WHOLE = Registry.WHOLE
ATOM = Atom("atom")
RECEIVE_TIMEOUT = 0.1  # ExUnit's assert_receive default, 100 ms

PARTITIONS = pytest.mark.parametrize(
    "partitions", [1, 8], ids=["with 1 partition", "with 8 partitions"]
)

k, p, v = Var("k"), Var("p"), Var("v")  # Elixir's :"$1", :"$2", :"$3"
x, y, z = Var("x"), Var("y"), Var("z")


# -- ExUnit and test-file helpers ------------------------------------------------


async def start_registry(
    keys: str, partitions: int = 1, listeners: tuple[str, ...] = (), name: str = "RegistryTest"
) -> str:
    """The test's ``setup``: ``start_supervised({Registry, opts})``.

    The registry runs under a supervisor, as under ExUnit's, so the test process
    is not linked to it.
    """
    spec = Registry.child_spec(
        keys=keys, name=name, partitions=partitions, listeners=list(listeners)
    )
    ok, _sup = await Supervisor.start_link([spec], strategy="one_for_one")
    assert ok == "ok"
    return name


async def assert_receive(pattern: Any, timeout: float = RECEIVE_TIMEOUT) -> Any:
    if isinstance(pattern, tuple | Exit | Down):
        return await receive(pattern, timeout=timeout)
    return await receive(lambda m: m == pattern, timeout=timeout)


async def assert_received(pattern: Any) -> Any:
    return await assert_receive(pattern, 0)


async def refute_received(pattern: Any) -> None:
    with pytest.raises(TimeoutError):
        await assert_receive(pattern, 0)


async def register_task(registry: str, key: Any, value: Any) -> tuple[Pid, Pid]:
    """The test file's ``register_task/3``: ``(owner, task)``."""
    parent = self()

    async def body() -> None:
        send(parent, Registry.register(registry, key, value))
        await Process.sleep(None)

    ok, task = await Task.start(body)
    assert ok == "ok"
    _, owner = await assert_receive(("ok", ANY))
    return owner, task


async def kill_and_assert_down(pid: Pid) -> None:
    ref = Process.monitor(pid)
    Process.exit(pid, "kill")
    await assert_receive(Down(ref, ANY, ANY, ANY))


def sum_pid_entries(registry: str) -> int:
    """The test file's ``sum_pid_entries/2``: entries in the per-pid index."""
    return sum(sum(counts.values()) for counts in _tables()[registry].by_pid.values())


def sys_suspend(pid: Pid) -> asyncio.Future[Any]:
    """``:sys.suspend(pid)``: hold the process from its next step (Node.suspend)."""
    node = _n.NODE
    assert isinstance(node, _n.Node)
    fut: asyncio.Future[Any] = node.loop.create_future()
    node.suspend(node.table[pid], fut)
    return fut


def links() -> list[Pid]:
    return Process.info(self(), "links")  # type: ignore[no-any-return]


def never_invoked(_entries: Any) -> None:
    raise RuntimeError("will never be invoked")


def reprs(values: list[Any]) -> list[str]:
    """Sorted reprs: compares 1 and 1.0 (and ANY and strings) as Erlang's sort would not need."""
    return sorted(repr(x) for x in values)


# -- describe "unique with 1 partition" / "unique with 8 partitions" ----------------


# registry_test.exs: describe "unique ...", test "starts configured number of partitions"
@PARTITIONS
async def test_unique_starts_configured_number_of_partitions(partitions: int) -> None:
    registry = await start_registry("unique", partitions)
    assert len(await Supervisor.which_children(registry)) == partitions


# registry_test.exs: describe "unique ...", test "counts 0 keys in an empty registry"
@PARTITIONS
async def test_unique_counts_0_keys_in_an_empty_registry(partitions: int) -> None:
    registry = await start_registry("unique", partitions)
    assert Registry.count(registry) == 0


# registry_test.exs: describe "unique ...", test "counts the number of keys in a registry"
@PARTITIONS
async def test_unique_counts_the_number_of_keys_in_a_registry(partitions: int) -> None:
    registry = await start_registry("unique", partitions)
    assert Registry.register(registry, "hello", "value")[0] == "ok"
    assert Registry.register(registry, "world", "value")[0] == "ok"

    assert Registry.count(registry) == 2


# registry_test.exs: describe "unique ...", test "has unique registrations"
@PARTITIONS
async def test_unique_has_unique_registrations(partitions: int) -> None:
    registry = await start_registry("unique", partitions)
    ok, pid = Registry.register(registry, "hello", "value")
    assert ok == "ok" and isinstance(pid, Pid)
    assert Registry.keys(registry, self()) == ["hello"]
    assert Registry.values(registry, "hello", self()) == ["value"]

    assert Registry.register(registry, "hello", "value") == (
        "error",
        ("already_registered", self()),
    )
    assert Registry.keys(registry, self()) == ["hello"]
    assert Registry.values(registry, "hello", self()) == ["value"]

    ok, pid = Registry.register(registry, "world", "value")
    assert ok == "ok" and isinstance(pid, Pid)
    assert sorted(Registry.keys(registry, self())) == ["hello", "world"]


# registry_test.exs: describe "unique ...", test "has unique registrations across processes"
@PARTITIONS
async def test_unique_has_unique_registrations_across_processes(partitions: int) -> None:
    registry = await start_registry("unique", partitions)
    _, task = await register_task(registry, "hello", "value")
    Process.link(Process.whereis(registry))  # type: ignore[arg-type]
    assert Registry.keys(registry, task) == ["hello"]
    assert Registry.values(registry, "hello", task) == ["value"]

    assert Registry.register(registry, "hello", "recent") == (
        "error",
        ("already_registered", task),
    )

    assert Registry.keys(registry, self()) == []
    assert Registry.values(registry, "hello", self()) == []

    assert Process.whereis(registry) in links()


# registry_test.exs: describe "unique ...",
# test "has unique registrations even if partition is delayed"
@PARTITIONS
async def test_unique_has_unique_registrations_even_if_partition_is_delayed(
    partitions: int,
) -> None:
    registry = await start_registry("unique", partitions)
    owner, task = await register_task(registry, "hello", "value")

    assert Registry.register(registry, "hello", "other") == (
        "error",
        ("already_registered", task),
    )

    sys_suspend(owner)
    await kill_and_assert_down(task)
    Registry.register(registry, "hello", "other")
    assert Registry.lookup(registry, "hello") == [(self(), "other")]


# registry_test.exs: describe "unique ...", test "supports match patterns"
@PARTITIONS
async def test_unique_supports_match_patterns(partitions: int) -> None:
    registry = await start_registry("unique", partitions)
    value = (1, ATOM, 1)
    Registry.register(registry, "hello", value)
    assert Registry.match(registry, "hello", (1, ANY, ANY)) == [(self(), value)]
    assert Registry.match(registry, "hello", (1.0, ANY, ANY)) == []
    assert Registry.match(registry, "hello", (ANY, ATOM, ANY)) == [(self(), value)]
    assert Registry.match(registry, "hello", (x, ANY, x)) == [(self(), value)]
    assert Registry.match(registry, "hello", ANY) == [(self(), value)]
    assert Registry.match(registry, ANY, ANY) == []

    value2 = {"a": "a", "b": "b"}
    Registry.register(registry, "world", value2)
    assert Registry.match(registry, "world", {"b": "b"}) == [(self(), value2)]


# registry_test.exs: describe "unique ...", test "supports guard conditions"
@PARTITIONS
async def test_unique_supports_guard_conditions(partitions: int) -> None:
    registry = await start_registry("unique", partitions)
    value = (1, ATOM, 2)
    Registry.register(registry, "hello", value)

    assert Registry.match(registry, "hello", (ANY, ANY, x), [lambda x: x > 1]) == [(self(), value)]
    assert Registry.match(registry, "hello", (ANY, ANY, x), [lambda x: x > 2]) == []
    assert Registry.match(registry, "hello", (ANY, x, ANY), [lambda x: isinstance(x, Atom)]) == [
        (self(), value)
    ]


# registry_test.exs: describe "unique ...", test "count_match supports match patterns"
@PARTITIONS
async def test_unique_count_match_supports_match_patterns(partitions: int) -> None:
    registry = await start_registry("unique", partitions)
    value = (1, ATOM, 1)
    Registry.register(registry, "hello", value)
    assert Registry.count_match(registry, "hello", (1, ANY, ANY)) == 1
    assert Registry.count_match(registry, "hello", (1.0, ANY, ANY)) == 0
    assert Registry.count_match(registry, "hello", (ANY, ATOM, ANY)) == 1
    assert Registry.count_match(registry, "hello", (x, ANY, x)) == 1
    assert Registry.count_match(registry, "hello", ANY) == 1
    assert Registry.count_match(registry, ANY, ANY) == 0

    value2 = {"a": "a", "b": "b"}
    Registry.register(registry, "world", value2)
    assert Registry.count_match(registry, "world", {"b": "b"}) == 1


# registry_test.exs: describe "unique ...", test "count_match supports guard conditions"
@PARTITIONS
async def test_unique_count_match_supports_guard_conditions(partitions: int) -> None:
    registry = await start_registry("unique", partitions)
    value = (1, ATOM, 2)
    Registry.register(registry, "hello", value)

    assert Registry.count_match(registry, "hello", (ANY, ANY, x), [lambda x: x > 1]) == 1
    assert Registry.count_match(registry, "hello", (ANY, ANY, x), [lambda x: x > 2]) == 0
    is_atom = [lambda x: isinstance(x, Atom)]
    assert Registry.count_match(registry, "hello", (ANY, x, ANY), is_atom) == 1


# registry_test.exs: describe "unique ...", test "unregister_match supports patterns"
@PARTITIONS
async def test_unique_unregister_match_supports_patterns(partitions: int) -> None:
    registry = await start_registry("unique", partitions)
    value = (1, ATOM, 1)
    Registry.register(registry, "hello", value)

    Registry.unregister_match(registry, "hello", (2, ANY, ANY))
    assert Registry.lookup(registry, "hello") == [(self(), value)]
    Registry.unregister_match(registry, "hello", (1.0, ANY, ANY))
    assert Registry.lookup(registry, "hello") == [(self(), value)]
    Registry.unregister_match(registry, "hello", (ANY, ATOM, ANY))
    assert Registry.lookup(registry, "hello") == []


# registry_test.exs: describe "unique ...", test "unregister_match supports guards"
@PARTITIONS
async def test_unique_unregister_match_supports_guards(partitions: int) -> None:
    registry = await start_registry("unique", partitions)
    value = (1, ATOM, 1)
    Registry.register(registry, "hello", value)

    Registry.unregister_match(registry, "hello", (x, ANY, ANY), [lambda x: x < 2])
    assert Registry.lookup(registry, "hello") == []


# registry_test.exs: describe "unique ...", test "unregister_match supports tricky keys"
@PARTITIONS
async def test_unique_unregister_match_supports_tricky_keys(partitions: int) -> None:
    # Elixir's tricky key is :_, the ETS wildcard; tether's wildcard is ANY.
    registry = await start_registry("unique", partitions)
    Registry.register(registry, ANY, "foo")
    Registry.register(registry, "hello", "b")

    Registry.unregister_match(registry, ANY, "foo")
    assert Registry.lookup(registry, ANY) == []
    assert sorted(Registry.keys(registry, self())) == ["hello"]


# registry_test.exs: describe "unique ...", test "compares using ==="
@PARTITIONS
async def test_unique_compares_using_strict_equality(partitions: int) -> None:
    registry = await start_registry("unique", partitions)
    assert Registry.register(registry, 1.0, "value")[0] == "ok"
    assert Registry.register(registry, 1, "value")[0] == "ok"
    # Python's == calls 1 and 1.0 equal, so compare their reprs.
    assert reprs(Registry.keys(registry, self())) == ["1", "1.0"]


# registry_test.exs: describe "unique ...", test "updates current process value"
@PARTITIONS
async def test_unique_updates_current_process_value(partitions: int) -> None:
    registry = await start_registry("unique", partitions)

    def boom(value: Any) -> Any:
        raise RuntimeError(value)

    assert Registry.update_value(registry, "hello", boom) == "error"
    await register_task(registry, "hello", "value")
    assert Registry.update_value(registry, "hello", boom) == "error"

    Registry.register(registry, "world", 1)
    assert Registry.lookup(registry, "world") == [(self(), 1)]
    assert Registry.update_value(registry, "world", lambda n: n + 1) == (2, 1)
    assert Registry.lookup(registry, "world") == [(self(), 2)]


# registry_test.exs: describe "unique ...", test "dispatches to a single key"
@PARTITIONS
async def test_unique_dispatches_to_a_single_key(partitions: int) -> None:
    registry = await start_registry("unique", partitions)
    assert await Registry.dispatch(registry, "hello", never_invoked) == "ok"

    Registry.register(registry, "hello", "value")

    def fun(entries: list[tuple[Pid, Any]]) -> None:
        [(pid, value)] = entries
        send(pid, ("dispatch", value))

    assert await Registry.dispatch(registry, "hello", fun) == "ok"

    assert await assert_received(("dispatch", "value")) == ("dispatch", "value")


# registry_test.exs: describe "unique ...", test "unregisters process by key"
@PARTITIONS
async def test_unique_unregisters_process_by_key(partitions: int) -> None:
    registry = await start_registry("unique", partitions)
    assert Registry.unregister(registry, "hello") == "ok"

    Registry.register(registry, "hello", "value")
    Registry.register(registry, "world", "value")
    assert sorted(Registry.keys(registry, self())) == ["hello", "world"]

    assert Registry.unregister(registry, "hello") == "ok"
    assert Registry.keys(registry, self()) == ["world"]

    assert Registry.unregister(registry, "world") == "ok"
    assert Registry.keys(registry, self()) == []


# registry_test.exs: describe "unique ...", test "unregisters with no entries"
@PARTITIONS
async def test_unique_unregisters_with_no_entries(partitions: int) -> None:
    registry = await start_registry("unique", partitions)
    assert Registry.unregister(registry, "hello") == "ok"


# registry_test.exs: describe "unique ...", test "unregisters with tricky keys"
@PARTITIONS
async def test_unique_unregisters_with_tricky_keys(partitions: int) -> None:
    registry = await start_registry("unique", partitions)
    Registry.register(registry, ANY, "foo")
    Registry.register(registry, "hello", "b")

    Registry.unregister(registry, ANY)
    assert Registry.lookup(registry, ANY) == []
    assert sorted(Registry.keys(registry, self())) == ["hello"]


# registry_test.exs: describe "unique ...", test "allows listeners"
@PARTITIONS
async def test_unique_allows_listeners(partitions: int) -> None:
    listener = f"unique_listener_{partitions}"
    registry = await start_registry("unique", partitions, listeners=(listener,))
    Process.register(self(), listener)
    _, task = await register_task(registry, "hello", "world")
    await assert_received(("register", registry, "hello", task, "world"))

    me = self()
    Registry.register(registry, "world", "value")
    await assert_received(("register", registry, "world", me, "value"))

    assert Registry.unregister(registry, "world") == "ok"
    await assert_received(("unregister", registry, "world", me))


# registry_test.exs: describe "unique ...", test "links and unlinks on register/unregister"
@PARTITIONS
async def test_unique_links_and_unlinks_on_register_unregister(partitions: int) -> None:
    registry = await start_registry("unique", partitions)
    _, pid = Registry.register(registry, "hello", "value")
    assert pid in links()

    _, pid = Registry.register(registry, "world", "value")
    assert pid in links()

    assert Registry.unregister(registry, "hello") == "ok"
    assert pid in links()

    assert Registry.unregister(registry, "world") == "ok"
    assert pid not in links()


# registry_test.exs: describe "unique ...", test "raises on unknown registry name"
@PARTITIONS
async def test_unique_raises_on_unknown_registry_name(partitions: int) -> None:
    await start_registry("unique", partitions)
    with pytest.raises(ValueError, match="unknown registry"):
        Registry.register("unknown", "hello", "value")


# registry_test.exs: describe "unique ...", test "via callbacks"
@PARTITIONS
async def test_unique_via_callbacks(partitions: int) -> None:
    registry = await start_registry("unique", partitions)
    name = ("via", Registry, (registry, "hello"))

    # register_name
    ok, pid = await Agent.start_link(lambda: 0, name=name)
    assert ok == "ok"

    # send
    assert await Agent.update(name, lambda n: n + 1) == "ok"

    # whereis_name
    assert await Agent.get(name, lambda n: n) == 1

    # unregister_name
    def oops() -> Any:
        raise RuntimeError("oops")

    assert (await Agent.start(oops))[0] == "error"

    # errors
    assert await Agent.start(lambda: 0, name=name) == ("error", ("already_started", pid))


# registry_test.exs: describe "unique ...", test "uses value provided in via"
@PARTITIONS
async def test_unique_uses_value_provided_in_via(partitions: int) -> None:
    registry = await start_registry("unique", partitions)
    name = ("via", Registry, (registry, "hello", "value"))
    _, pid = await Agent.start_link(lambda: 0, name=name)
    assert Registry.lookup(registry, "hello") == [(pid, "value")]


# registry_test.exs: describe "unique ...", test "empty list for empty registry"
@PARTITIONS
async def test_unique_empty_list_for_empty_registry(partitions: int) -> None:
    registry = await start_registry("unique", partitions)
    assert Registry.select(registry, [((ANY, ANY, ANY), [], WHOLE)]) == []


# registry_test.exs: describe "unique ...", test "select all"
@PARTITIONS
async def test_unique_select_all(partitions: int) -> None:
    registry = await start_registry("unique", partitions)
    name = ("via", Registry, (registry, "hello"))
    _, pid = await Agent.start_link(lambda: 0, name=name)
    Registry.register(registry, "world", "value")

    assert sorted(Registry.select(registry, [((k, p, v), [], (k, p, v))])) == [
        ("hello", pid, None),
        ("world", self(), "value"),
    ]


async def _select_supports_full_match_specs(registry: str) -> None:
    value = (1, ATOM, 1)
    Registry.register(registry, "hello", value)

    assert Registry.select(registry, [(("hello", p, v), [], ("hello", p, v))]) == [
        ("hello", self(), value)
    ]
    assert Registry.select(registry, [((k, self(), v), [], (k, self(), v))]) == [
        ("hello", self(), value)
    ]
    # Elixir wraps the literal tuple in the body ({value}); a Python body is literal.
    assert Registry.select(registry, [((k, p, value), [], (k, p, value))]) == [
        ("hello", self(), value)
    ]
    assert Registry.select(registry, [(("world", p, v), [], ("world", p, v))]) == []
    assert Registry.select(registry, [((k, p, (1.0, ANY, ANY)), [], WHOLE)]) == []
    assert Registry.select(registry, [((k, p, (x, ATOM, y)), [], (k, p, (x, ATOM, y)))]) == [
        ("hello", self(), value)
    ]
    assert Registry.select(registry, [((k, p, (x, y, x)), [], (k, p, (x, y, x)))]) == [
        ("hello", self(), (1, ATOM, 1))
    ]

    value2 = {"a": "a", "b": "b"}
    Registry.register(registry, "world", value2)

    assert Registry.select(registry, [(("world", self(), {"b": "b"}), [], "match")]) == ["match"]
    assert sorted(Registry.select(registry, [((k, ANY, ANY), [], k)])) == ["hello", "world"]


# registry_test.exs: describe "unique ...", test "select supports full match specs"
@PARTITIONS
async def test_unique_select_supports_full_match_specs(partitions: int) -> None:
    await _select_supports_full_match_specs(await start_registry("unique", partitions))


async def _select_supports_guard_conditions(registry: str) -> None:
    value = (1, ATOM, 2)
    Registry.register(registry, "hello", value)

    spec = [((k, p, (x, y, z)), [lambda z: z > 1], (k, p, (x, y, z)))]
    assert Registry.select(registry, spec) == [("hello", self(), (1, ATOM, 2))]
    assert Registry.select(registry, [((ANY, ANY, (ANY, ANY, x)), [lambda x: x > 2], WHOLE)]) == []
    spec = [((k, ANY, (ANY, y, ANY)), [lambda y: isinstance(y, Atom)], k)]
    assert Registry.select(registry, spec) == ["hello"]


# registry_test.exs: describe "unique ...", test "select supports guard conditions"
@PARTITIONS
async def test_unique_select_supports_guard_conditions(partitions: int) -> None:
    await _select_supports_guard_conditions(await start_registry("unique", partitions))


async def _select_allows_multiple_specs(registry: str) -> None:
    Registry.register(registry, "hello", "value")
    Registry.register(registry, "world", "value")

    # {:element, 1, :"$_"} is WHOLE[0].
    spec = [(("hello", ANY, ANY), [], WHOLE[0]), (("world", ANY, ANY), [], WHOLE[0])]
    assert sorted(Registry.select(registry, spec)) == ["hello", "world"]


# registry_test.exs: describe "unique ...", test "select allows multiple specs"
@PARTITIONS
async def test_unique_select_allows_multiple_specs(partitions: int) -> None:
    await _select_allows_multiple_specs(await start_registry("unique", partitions))


# registry_test.exs: describe "unique ...", test "select raises on incorrect shape of match spec"
@PARTITIONS
async def test_unique_select_raises_on_incorrect_shape_of_match_spec(partitions: int) -> None:
    registry = await start_registry("unique", partitions)
    with pytest.raises(ValueError, match="invalid match specification in Registry.select"):
        Registry.select(registry, [(ANY, [], [])])


async def _count_select_supports_match_specs(registry: str) -> None:
    value = (1, ATOM, 1)
    Registry.register(registry, "hello", value)
    assert Registry.count_select(registry, [((ANY, ANY, value), [], True)]) == 1
    assert Registry.count_select(registry, [(("hello", ANY, ANY), [], True)]) == 1
    assert Registry.count_select(registry, [((ANY, ANY, (1, ATOM, ANY)), [], True)]) == 1
    assert Registry.count_select(registry, [((ANY, ANY, (x, ANY, x)), [], True)]) == 1
    assert Registry.count_select(registry, [(("hello", ANY, None), [], True)]) == 0

    value2 = {"a": "a", "b": "b"}
    Registry.register(registry, "world", value2)
    assert Registry.count_select(registry, [(("world", ANY, ANY), [], True)]) == 1


# registry_test.exs: describe "unique ...", test "count_select supports match specs"
@PARTITIONS
async def test_unique_count_select_supports_match_specs(partitions: int) -> None:
    await _count_select_supports_match_specs(await start_registry("unique", partitions))


async def _count_select_supports_guard_conditions(registry: str) -> None:
    value = (1, ATOM, 2)
    Registry.register(registry, "hello", value)

    is_atom = [lambda x: isinstance(x, Atom)]
    assert Registry.count_select(registry, [((ANY, ANY, (ANY, x, ANY)), is_atom, True)]) == 1
    spec = [((ANY, ANY, (ANY, ANY, x)), [lambda x: x > 1], True)]
    assert Registry.count_select(registry, spec) == 1
    spec = [((ANY, ANY, (ANY, ANY, x)), [lambda x: x > 2], True)]
    assert Registry.count_select(registry, spec) == 0


# registry_test.exs: describe "unique ...", test "count_select supports guard conditions"
@PARTITIONS
async def test_unique_count_select_supports_guard_conditions(partitions: int) -> None:
    await _count_select_supports_guard_conditions(await start_registry("unique", partitions))


async def _count_select_allows_multiple_specs(registry: str) -> None:
    Registry.register(registry, "hello", "value")
    Registry.register(registry, "world", "value")

    spec = [(("hello", ANY, ANY), [], True), (("world", ANY, ANY), [], True)]
    assert Registry.count_select(registry, spec) == 2


# registry_test.exs: describe "unique ...", test "count_select allows multiple specs"
@PARTITIONS
async def test_unique_count_select_allows_multiple_specs(partitions: int) -> None:
    await _count_select_allows_multiple_specs(await start_registry("unique", partitions))


# registry_test.exs: describe "unique ...",
# test "count_select raises on incorrect shape of match spec"
@PARTITIONS
async def test_unique_count_select_raises_on_incorrect_shape_of_match_spec(
    partitions: int,
) -> None:
    registry = await start_registry("unique", partitions)
    with pytest.raises(ValueError, match="invalid match specification in Registry.count_select"):
        Registry.count_select(registry, [(ANY, [], [])])


# registry_test.exs: describe "unique ...", test "doesn't grow ets on already_registered"
@PARTITIONS
async def test_unique_does_not_grow_the_table_on_already_registered(partitions: int) -> None:
    registry = await start_registry("unique", partitions)
    assert sum_pid_entries(registry) == 0

    ok, pid = Registry.register(registry, "hello", "value")
    assert ok == "ok" and isinstance(pid, Pid)
    assert sum_pid_entries(registry) == 1

    ok, pid = Registry.register(registry, "world", "value")
    assert ok == "ok" and isinstance(pid, Pid)
    assert sum_pid_entries(registry) == 2

    assert Registry.register(registry, "hello", "value") == (
        "error",
        ("already_registered", self()),
    )
    assert sum_pid_entries(registry) == 2


# registry_test.exs: describe "unique ...",
# test "doesn't grow ets on already_registered across processes"
@PARTITIONS
async def test_unique_does_not_grow_the_table_on_already_registered_across_processes(
    partitions: int,
) -> None:
    registry = await start_registry("unique", partitions)
    assert sum_pid_entries(registry) == 0

    _, task = await register_task(registry, "hello", "value")
    Process.link(Process.whereis(registry))  # type: ignore[arg-type]

    assert sum_pid_entries(registry) == 1

    ok, pid = Registry.register(registry, "world", "value")
    assert ok == "ok" and isinstance(pid, Pid)
    assert sum_pid_entries(registry) == 2

    assert Registry.register(registry, "hello", "recent") == ("error", ("already_registered", task))
    assert sum_pid_entries(registry) == 2


# -- describe "duplicate with 1 partition" / "duplicate with 8 partitions" ----------


# registry_test.exs: describe "duplicate ...", test "starts configured number of partitions"
@PARTITIONS
async def test_duplicate_starts_configured_number_of_partitions(partitions: int) -> None:
    registry = await start_registry("duplicate", partitions)
    assert len(await Supervisor.which_children(registry)) == partitions


# registry_test.exs: describe "duplicate ...", test "counts 0 keys in an empty registry"
@PARTITIONS
async def test_duplicate_counts_0_keys_in_an_empty_registry(partitions: int) -> None:
    registry = await start_registry("duplicate", partitions)
    assert Registry.count(registry) == 0


# registry_test.exs: describe "duplicate ...", test "counts the number of keys in a registry"
@PARTITIONS
async def test_duplicate_counts_the_number_of_keys_in_a_registry(partitions: int) -> None:
    registry = await start_registry("duplicate", partitions)
    Registry.register(registry, "hello", "value")
    Registry.register(registry, "hello", "value")

    assert Registry.count(registry) == 2


# registry_test.exs: describe "duplicate ...", test "has duplicate registrations"
@PARTITIONS
async def test_duplicate_has_duplicate_registrations(partitions: int) -> None:
    registry = await start_registry("duplicate", partitions)
    ok, pid = Registry.register(registry, "hello", "value")
    assert ok == "ok" and isinstance(pid, Pid)
    assert Registry.keys(registry, self()) == ["hello"]
    assert Registry.values(registry, "hello", self()) == ["value"]

    ok, pid = Registry.register(registry, "hello", "value")
    assert ok == "ok" and isinstance(pid, Pid)
    assert Registry.keys(registry, self()) == ["hello", "hello"]
    assert Registry.values(registry, "hello", self()) == ["value", "value"]

    ok, pid = Registry.register(registry, "world", "value")
    assert ok == "ok" and isinstance(pid, Pid)
    assert sorted(Registry.keys(registry, self())) == ["hello", "hello", "world"]


# registry_test.exs: describe "duplicate ...", test "has duplicate registrations across processes"
@PARTITIONS
async def test_duplicate_has_duplicate_registrations_across_processes(partitions: int) -> None:
    registry = await start_registry("duplicate", partitions)
    _, task = await register_task(registry, "hello", "world")
    assert Registry.keys(registry, self()) == []
    assert Registry.keys(registry, task) == ["hello"]
    assert Registry.values(registry, "hello", self()) == []
    assert Registry.values(registry, "hello", task) == ["world"]

    assert Registry.register(registry, "hello", "value")[0] == "ok"
    assert Registry.keys(registry, self()) == ["hello"]
    assert Registry.values(registry, "hello", self()) == ["value"]


# registry_test.exs: describe "duplicate ...", test "compares using matches"
@PARTITIONS
async def test_duplicate_compares_using_matches(partitions: int) -> None:
    registry = await start_registry("duplicate", partitions)
    Registry.register(registry, 1.0, "value")
    Registry.register(registry, 1, "value")
    assert reprs(Registry.keys(registry, self())) == ["1", "1.0"]


def _dispatch_to(parent: Pid, in_caller: bool) -> Any:
    def fun(entries: list[tuple[Pid, Any]]) -> None:
        if in_caller:
            assert parent == self()
        else:
            assert parent != self()
        for pid, value in entries:
            send(pid, ("dispatch", value))

    return fun


# registry_test.exs: describe "duplicate ...", test "dispatches to multiple keys in serial"
@PARTITIONS
async def test_duplicate_dispatches_to_multiple_keys_in_serial(partitions: int) -> None:
    registry = await start_registry("duplicate", partitions)
    Process.flag("trap_exit", True)
    parent = self()

    assert await Registry.dispatch(registry, "hello", never_invoked, parallel=False) == "ok"

    Registry.register(registry, "hello", "value1")
    Registry.register(registry, "hello", "value2")
    Registry.register(registry, "world", "value3")

    fun = _dispatch_to(parent, in_caller=True)
    assert await Registry.dispatch(registry, "hello", fun, parallel=False) == "ok"

    await assert_received(("dispatch", "value1"))
    await assert_received(("dispatch", "value2"))
    await refute_received(("dispatch", "value3"))

    assert await Registry.dispatch(registry, "world", fun, parallel=False) == "ok"

    await refute_received(("dispatch", "value1"))
    await refute_received(("dispatch", "value2"))
    await assert_received(("dispatch", "value3"))

    await refute_received(Exit(ANY, ANY))


# registry_test.exs: describe "duplicate ...", test "dispatches to multiple keys in parallel"
@PARTITIONS
async def test_duplicate_dispatches_to_multiple_keys_in_parallel(partitions: int) -> None:
    registry = await start_registry("duplicate", partitions)
    Process.flag("trap_exit", True)
    parent = self()

    assert await Registry.dispatch(registry, "hello", never_invoked, parallel=True) == "ok"

    Registry.register(registry, "hello", "value1")
    Registry.register(registry, "hello", "value2")
    Registry.register(registry, "world", "value3")

    fun = _dispatch_to(parent, in_caller=partitions != 8)
    assert await Registry.dispatch(registry, "hello", fun, parallel=True) == "ok"

    await assert_received(("dispatch", "value1"))
    await assert_received(("dispatch", "value2"))
    await refute_received(("dispatch", "value3"))

    assert await Registry.dispatch(registry, "world", fun, parallel=True) == "ok"

    await refute_received(("dispatch", "value1"))
    await refute_received(("dispatch", "value2"))
    await assert_received(("dispatch", "value3"))

    await refute_received(Exit(ANY, ANY))


# registry_test.exs: describe "duplicate ...", test "unregisters by key"
@PARTITIONS
async def test_duplicate_unregisters_by_key(partitions: int) -> None:
    registry = await start_registry("duplicate", partitions)
    Registry.register(registry, "hello", "value")
    Registry.register(registry, "hello", "value")
    Registry.register(registry, "world", "value")
    assert sorted(Registry.keys(registry, self())) == ["hello", "hello", "world"]

    assert Registry.unregister(registry, "hello") == "ok"
    assert Registry.keys(registry, self()) == ["world"]

    assert Registry.unregister(registry, "world") == "ok"
    assert Registry.keys(registry, self()) == []


# registry_test.exs: describe "duplicate ...", test "unregisters with no entries"
@PARTITIONS
async def test_duplicate_unregisters_with_no_entries(partitions: int) -> None:
    registry = await start_registry("duplicate", partitions)
    assert Registry.unregister(registry, "hello") == "ok"


# registry_test.exs: describe "duplicate ...", test "unregisters with tricky keys"
@PARTITIONS
async def test_duplicate_unregisters_with_tricky_keys(partitions: int) -> None:
    registry = await start_registry("duplicate", partitions)
    Registry.register(registry, ANY, "foo")
    Registry.register(registry, ANY, "bar")
    Registry.register(registry, "hello", "a")
    Registry.register(registry, "hello", "b")

    Registry.unregister(registry, ANY)
    assert sorted(Registry.keys(registry, self())) == ["hello", "hello"]


# registry_test.exs: describe "duplicate ...", test "supports match patterns"
@PARTITIONS
async def test_duplicate_supports_match_patterns(partitions: int) -> None:
    registry = await start_registry("duplicate", partitions)
    value1 = (1, ATOM, 1)
    value2 = (2, ATOM, 2)

    Registry.register(registry, "hello", value1)
    Registry.register(registry, "hello", value2)

    assert Registry.match(registry, "hello", (1, ANY, ANY)) == [(self(), value1)]
    assert Registry.match(registry, "hello", (1.0, ANY, ANY)) == []

    assert sorted(Registry.match(registry, "hello", (ANY, ATOM, ANY))) == [
        (self(), value1),
        (self(), value2),
    ]
    assert sorted(Registry.match(registry, "hello", (x, ANY, x))) == [
        (self(), value1),
        (self(), value2),
    ]
    assert Registry.match(registry, "hello", (2, ANY, ANY)) == [(self(), value2)]
    assert Registry.match(registry, "hello", (2.0, ANY, ANY)) == []


# registry_test.exs: describe "duplicate ...", test "supports guards"
@PARTITIONS
async def test_duplicate_supports_guards(partitions: int) -> None:
    registry = await start_registry("duplicate", partitions)
    value1 = (1, ATOM, 1)
    value2 = (2, ATOM, 2)

    Registry.register(registry, "hello", value1)
    Registry.register(registry, "hello", value2)

    assert Registry.match(registry, "hello", (x, ANY, ANY), [lambda x: x < 2]) == [(self(), value1)]
    assert Registry.match(registry, "hello", (x, ANY, ANY), [lambda x: x > 3]) == []
    assert sorted(Registry.match(registry, "hello", (x, ANY, ANY), [lambda x: x < 3])) == [
        (self(), value1),
        (self(), value2),
    ]
    is_atom = [lambda x: isinstance(x, Atom)]
    assert sorted(Registry.match(registry, "hello", (ANY, x, ANY), is_atom)) == [
        (self(), value1),
        (self(), value2),
    ]


# registry_test.exs: describe "duplicate ...", test "count_match supports match patterns"
@PARTITIONS
async def test_duplicate_count_match_supports_match_patterns(partitions: int) -> None:
    registry = await start_registry("duplicate", partitions)
    value = (1, ATOM, 1)
    Registry.register(registry, "hello", value)
    assert Registry.count_match(registry, "hello", (1, ANY, ANY)) == 1
    assert Registry.count_match(registry, "hello", (1.0, ANY, ANY)) == 0
    assert Registry.count_match(registry, "hello", (ANY, ATOM, ANY)) == 1
    assert Registry.count_match(registry, "hello", (x, ANY, x)) == 1
    assert Registry.count_match(registry, "hello", ANY) == 1
    assert Registry.count_match(registry, ANY, ANY) == 0

    value2 = {"a": "a", "b": "b"}
    Registry.register(registry, "world", value2)
    assert Registry.count_match(registry, "world", {"b": "b"}) == 1


# registry_test.exs: describe "duplicate ...", test "count_match supports guard conditions"
@PARTITIONS
async def test_duplicate_count_match_supports_guard_conditions(partitions: int) -> None:
    registry = await start_registry("duplicate", partitions)
    value = (1, ATOM, 2)
    Registry.register(registry, "hello", value)

    assert Registry.count_match(registry, "hello", (ANY, ANY, x), [lambda x: x > 1]) == 1
    assert Registry.count_match(registry, "hello", (ANY, ANY, x), [lambda x: x > 2]) == 0
    is_atom = [lambda x: isinstance(x, Atom)]
    assert Registry.count_match(registry, "hello", (ANY, x, ANY), is_atom) == 1


# registry_test.exs: describe "duplicate ...", test "unregister_match supports patterns"
@PARTITIONS
async def test_duplicate_unregister_match_supports_patterns(partitions: int) -> None:
    registry = await start_registry("duplicate", partitions)
    value1 = (1, ATOM, 1)
    value2 = (2, ATOM, 2)

    Registry.register(registry, "hello", value1)
    Registry.register(registry, "hello", value2)

    Registry.unregister_match(registry, "hello", (2, ANY, ANY))
    assert Registry.lookup(registry, "hello") == [(self(), value1)]

    Registry.register(registry, "hello", value2)
    Registry.unregister_match(registry, "hello", (2.0, ANY, ANY))
    assert Registry.lookup(registry, "hello") == [(self(), value1), (self(), value2)]
    Registry.unregister_match(registry, "hello", (ANY, ATOM, ANY))
    assert Registry.lookup(registry, "hello") == []


# registry_test.exs: describe "duplicate ...", test "unregister_match supports guards"
@PARTITIONS
async def test_duplicate_unregister_match_supports_guards(partitions: int) -> None:
    registry = await start_registry("duplicate", partitions)
    value1 = (1, ATOM, 1)
    value2 = (2, ATOM, 2)

    Registry.register(registry, "hello", value1)
    Registry.register(registry, "hello", value2)

    Registry.unregister_match(registry, "hello", (x, ANY, ANY), [lambda x: x < 2])
    assert Registry.lookup(registry, "hello") == [(self(), value2)]


# registry_test.exs: describe "duplicate ...", test "unregister_match supports tricky keys"
@PARTITIONS
async def test_duplicate_unregister_match_supports_tricky_keys(partitions: int) -> None:
    registry = await start_registry("duplicate", partitions)
    Registry.register(registry, ANY, "foo")
    Registry.register(registry, ANY, "bar")
    Registry.register(registry, "hello", "a")
    Registry.register(registry, "hello", "b")

    Registry.unregister_match(registry, ANY, "foo")
    assert Registry.lookup(registry, ANY) == [(self(), "bar")]

    assert reprs(Registry.keys(registry, self())) == reprs([ANY, "hello", "hello"])


# registry_test.exs: describe "duplicate ...", test "allows listeners"
@PARTITIONS
async def test_duplicate_allows_listeners(partitions: int) -> None:
    listener = f"duplicate_listener_{partitions}"
    registry = await start_registry("duplicate", partitions, listeners=(listener,))
    Process.register(self(), listener)
    _, task = await register_task(registry, "hello", "world")
    await assert_received(("register", registry, "hello", task, "world"))

    me = self()
    Registry.register(registry, "hello", "value")
    await assert_received(("register", registry, "hello", me, "value"))

    assert Registry.unregister(registry, "hello") == "ok"
    await assert_received(("unregister", registry, "hello", me))


# registry_test.exs: describe "duplicate ...", test "links and unlinks on register/unregister"
@PARTITIONS
async def test_duplicate_links_and_unlinks_on_register_unregister(partitions: int) -> None:
    registry = await start_registry("duplicate", partitions)
    _, pid = Registry.register(registry, "hello", "value")
    assert pid in links()

    _, pid = Registry.register(registry, "world", "value")
    assert pid in links()

    assert Registry.unregister(registry, "hello") == "ok"
    assert pid in links()

    assert Registry.unregister(registry, "world") == "ok"
    assert pid not in links()


# registry_test.exs: describe "duplicate ...", test "raises on unknown registry name"
@PARTITIONS
async def test_duplicate_raises_on_unknown_registry_name(partitions: int) -> None:
    await start_registry("duplicate", partitions)
    with pytest.raises(ValueError, match="unknown registry"):
        Registry.register("unknown", "hello", "value")


# registry_test.exs: describe "duplicate ...", test "raises if attempt to be used on via"
@PARTITIONS
async def test_duplicate_raises_if_attempt_to_be_used_on_via(partitions: int) -> None:
    registry = await start_registry("duplicate", partitions)
    name = ("via", Registry, (registry, "hello"))

    # On the BEAM the ArgumentError reaches start_link's caller (gen:start looks the
    # name up there).  How tether's GenServer start hands a via registry's error
    # to its caller is the GenServer's business (returned as ("error", exc), or
    # raised); this checks the error itself, from a process of its own.
    async def start() -> None:
        result = await Agent.start_link(lambda: 0, name=name)
        if type(result) is tuple and result[0] == "error":
            raise result[1]

    ref = Process.monitor(Task.async_(start).pid)
    Process.flag("trap_exit", True)
    down = await assert_receive(Down(ref, ANY, ANY, ANY))
    assert type(down.reason) is ValueError
    assert str(down.reason) == "via is not supported for duplicate registries"


# registry_test.exs: describe "duplicate ...", test "empty list for empty registry"
@PARTITIONS
async def test_duplicate_empty_list_for_empty_registry(partitions: int) -> None:
    registry = await start_registry("duplicate", partitions)
    assert Registry.select(registry, [((ANY, ANY, ANY), [], WHOLE)]) == []


# registry_test.exs: describe "duplicate ...", test "select all"
@PARTITIONS
async def test_duplicate_select_all(partitions: int) -> None:
    registry = await start_registry("duplicate", partitions)
    Registry.register(registry, "hello", "value")
    Registry.register(registry, "hello", "value")

    assert sorted(Registry.select(registry, [((k, p, v), [], (k, p, v))])) == [
        ("hello", self(), "value"),
        ("hello", self(), "value"),
    ]


# registry_test.exs: describe "duplicate ...", test "select supports full match specs"
@PARTITIONS
async def test_duplicate_select_supports_full_match_specs(partitions: int) -> None:
    await _select_supports_full_match_specs(await start_registry("duplicate", partitions))


# registry_test.exs: describe "duplicate ...", test "select supports guard conditions"
@PARTITIONS
async def test_duplicate_select_supports_guard_conditions(partitions: int) -> None:
    await _select_supports_guard_conditions(await start_registry("duplicate", partitions))


# registry_test.exs: describe "duplicate ...", test "select allows multiple specs"
@PARTITIONS
async def test_duplicate_select_allows_multiple_specs(partitions: int) -> None:
    await _select_allows_multiple_specs(await start_registry("duplicate", partitions))


# registry_test.exs: describe "duplicate ...", test "count_select supports match specs"
@PARTITIONS
async def test_duplicate_count_select_supports_match_specs(partitions: int) -> None:
    await _count_select_supports_match_specs(await start_registry("duplicate", partitions))


# registry_test.exs: describe "duplicate ...", test "count_select supports guard conditions"
@PARTITIONS
async def test_duplicate_count_select_supports_guard_conditions(partitions: int) -> None:
    await _count_select_supports_guard_conditions(await start_registry("duplicate", partitions))


# registry_test.exs: describe "duplicate ...", test "count_select allows multiple specs"
@PARTITIONS
async def test_duplicate_count_select_allows_multiple_specs(partitions: int) -> None:
    await _count_select_allows_multiple_specs(await start_registry("duplicate", partitions))


# -- describe "clean up #{keys} registry on process crash" --------------------------


# registry_test.exs: describe "clean up unique|duplicate registry on process crash",
# tests "with 8 partitions" and "with 1 partition".  Elixir reads the partitions'
# ETS tables; here the table's two indexes must be empty.
@pytest.mark.parametrize("keys", ["unique", "duplicate"])
@PARTITIONS
async def test_clean_up_registry_on_process_crash(keys: str, partitions: int) -> None:
    registry = await start_registry(keys, partitions)
    _, task1 = await register_task(registry, "hello", "value")
    _, task2 = await register_task(registry, "world", "value")

    await kill_and_assert_down(task1)
    await kill_and_assert_down(task2)

    # pid might be in different partition to key so need to sync with all
    # partitions before checking the table is empty.
    for _id, partition, _type, _modules in await Supervisor.which_children(registry):
        assert await GenServer.call(partition, "sync") == "ok"

    table = _tables()[registry]
    assert table.rows == {}
    assert table.by_pid == {}
    assert Registry.count(registry) == 0


# -- tests outside the describe blocks ----------------------------------------------


# registry_test.exs: test "child_spec/1 uses :name as :id"
async def test_child_spec_1_uses_name_as_id() -> None:
    assert Registry.child_spec(name="custom_name")["id"] == "custom_name"
    assert Registry.child_spec()["id"] is Registry
    assert Registry.child_spec({})["id"] is Registry


# registry_test.exs: test "raises if :name is missing"
async def test_raises_if_name_is_missing() -> None:
    with pytest.raises(TypeError, match="the name option is required"):
        await Registry.start_link(keys="unique")


# registry_test.exs: test "raises if :name is not an atom"
async def test_raises_if_name_is_not_an_atom() -> None:
    # A registry's name is a registered name: a str in tether.
    with pytest.raises(TypeError, match=r"name must be a non-empty str .*, got \[\]"):
        await Registry.start_link(keys="unique", name=[])  # type: ignore[arg-type]


# registry_test.exs: test "raises if :compressed is not a boolean"
async def test_raises_if_compressed_is_not_a_boolean() -> None:
    with pytest.raises(TypeError, match="compressed must be True or False, got 'fail'"):
        await Registry.start_link(keys="unique", name="name", compressed="fail")  # type: ignore[arg-type]


def _exception_in(term: Any) -> BaseException | None:
    """The exception inside a start error (its exact wrapping is the Supervisor's)."""
    if isinstance(term, BaseException):
        return term
    if isinstance(term, tuple):
        for item in term:
            found = _exception_in(item)
            if found is not None:
                return found
    return None


# registry_test.exs: test "unregistration on crash with {registry, key, value} via tuple"
async def test_unregistration_on_crash_with_registry_key_value_via_tuple() -> None:
    registry = await start_registry("unique")
    name = ("via", Registry, (registry, "name", "value"))

    def fail() -> Any:
        raise RuntimeError("some error")

    spec = {"id": "foo", "start": (functools.partial(Agent.start_link, name=name), (fail,))}
    _, sup = await Supervisor.start_link([], strategy="one_for_one")
    error, reason = await Supervisor.start_child(sup, spec)
    assert error == "error"
    # The BEAM: {:error, {{%RuntimeError{message: "some error"}, stack}, child}}.
    exc = _exception_in(reason)
    assert type(exc) is RuntimeError and str(exc) == "some error"
    assert Registry.lookup(registry, "name") == []


# registry_test.exs: test "send works"
async def test_send_works() -> None:
    registry = await start_registry("unique")
    name = (registry, "self")
    assert Registry.register_name(name, self()) == "yes"
    assert GenServer.cast(("via", Registry, name), "message") == "ok"
    await assert_received(("$gen_cast", "message"))


# registry_test.exs: test "send works with value"
async def test_send_works_with_value() -> None:
    registry = await start_registry("unique")
    name = (registry, "self", "value")
    assert Registry.register_name(name, self()) == "yes"
    assert GenServer.cast(("via", Registry, name), "message") == "ok"
    await assert_received(("$gen_cast", "message"))


# -- doctest Registry, except: [:moduledoc] -----------------------------------------


# registry_test.exs: doctest Registry.count/1 (1)
async def test_doctest_registry_count_1_unique() -> None:
    await Registry.start_link(keys="unique", name="Registry.UniqueCountTest")
    assert Registry.count("Registry.UniqueCountTest") == 0
    assert Registry.register("Registry.UniqueCountTest", "hello", "world")[0] == "ok"
    assert Registry.register("Registry.UniqueCountTest", "world", "world")[0] == "ok"
    assert Registry.count("Registry.UniqueCountTest") == 2


# registry_test.exs: doctest Registry.count/1 (2)
async def test_doctest_registry_count_1_duplicate() -> None:
    await Registry.start_link(keys="duplicate", name="Registry.DuplicateCountTest")
    assert Registry.count("Registry.DuplicateCountTest") == 0
    assert Registry.register("Registry.DuplicateCountTest", "hello", "world")[0] == "ok"
    assert Registry.register("Registry.DuplicateCountTest", "hello", "world")[0] == "ok"
    assert Registry.count("Registry.DuplicateCountTest") == 2


# registry_test.exs: doctest Registry.count_match/4 (3)
async def test_doctest_registry_count_match_4() -> None:
    reg = "Registry.CountMatchTest"
    await Registry.start_link(keys="duplicate", name=reg)
    Registry.register(reg, "hello", (1, ATOM, 1))
    Registry.register(reg, "hello", (2, ATOM, 2))
    assert Registry.count_match(reg, "hello", (1, ANY, ANY)) == 1
    assert Registry.count_match(reg, "hello", (2, ANY, ANY)) == 1
    assert Registry.count_match(reg, "hello", (ANY, ATOM, ANY)) == 2
    assert Registry.count_match(reg, "hello", (x, ANY, x)) == 2
    assert Registry.count_match(reg, "hello", (ANY, ANY, x), [lambda x: x > 1]) == 1
    assert Registry.count_match(reg, "hello", (ANY, x, ANY), [lambda x: isinstance(x, Atom)]) == 2


# registry_test.exs: doctest Registry.count_select/2 (4)
async def test_doctest_registry_count_select_2() -> None:
    reg = "Registry.CountSelectTest"
    await Registry.start_link(keys="unique", name=reg)
    Registry.register(reg, "hello", "value")
    Registry.register(reg, "world", "value")
    assert Registry.count_select(reg, [((ANY, ANY, "value"), [], True)]) == 2


# registry_test.exs: doctest Registry.delete_meta/2 (5)
async def test_doctest_registry_delete_meta_2() -> None:
    reg = "Registry.DeleteMetaTest"
    await Registry.start_link(keys="unique", name=reg)
    assert Registry.put_meta(reg, "custom_key", "custom_value") == "ok"
    assert Registry.meta(reg, "custom_key") == ("ok", "custom_value")
    assert Registry.delete_meta(reg, "custom_key") == "ok"
    assert Registry.meta(reg, "custom_key") == "error"


# registry_test.exs: doctest Registry.keys/2 (6)
async def test_doctest_registry_keys_2_unique() -> None:
    reg = "Registry.UniqueKeysTest"
    await Registry.start_link(keys="unique", name=reg)
    assert Registry.keys(reg, self()) == []
    Registry.register(reg, "hello", "world")
    # registry is unique
    assert Registry.register(reg, "hello", "later") == ("error", ("already_registered", self()))
    assert Registry.keys(reg, self()) == ["hello"]


# registry_test.exs: doctest Registry.keys/2 (7)
async def test_doctest_registry_keys_2_duplicate() -> None:
    reg = "Registry.DuplicateKeysTest"
    await Registry.start_link(keys="duplicate", name=reg)
    assert Registry.keys(reg, self()) == []
    Registry.register(reg, "hello", "world")
    Registry.register(reg, "hello", "world")
    assert Registry.keys(reg, self()) == ["hello", "hello"]


# registry_test.exs: doctest Registry.lookup/2 (8)
async def test_doctest_registry_lookup_2_unique() -> None:
    reg = "Registry.UniqueLookupTest"
    await Registry.start_link(keys="unique", name=reg)
    assert Registry.lookup(reg, "hello") == []
    Registry.register(reg, "hello", "world")
    assert Registry.lookup(reg, "hello") == [(self(), "world")]

    async def look() -> Any:
        return Registry.lookup(reg, "hello")

    assert await Task.await_(Task.async_(look)) == [(self(), "world")]


# registry_test.exs: doctest Registry.lookup/2 (9)
async def test_doctest_registry_lookup_2_duplicate() -> None:
    reg = "Registry.DuplicateLookupTest"
    await Registry.start_link(keys="duplicate", name=reg)
    assert Registry.lookup(reg, "hello") == []
    Registry.register(reg, "hello", "world")
    assert Registry.lookup(reg, "hello") == [(self(), "world")]
    Registry.register(reg, "hello", "another")
    assert sorted(Registry.lookup(reg, "hello")) == [(self(), "another"), (self(), "world")]


# registry_test.exs: doctest Registry.match/4 (10)
async def test_doctest_registry_match_4() -> None:
    reg = "Registry.MatchTest"
    await Registry.start_link(keys="duplicate", name=reg)
    Registry.register(reg, "hello", (1, ATOM, 1))
    Registry.register(reg, "hello", (2, ATOM, 2))
    assert Registry.match(reg, "hello", (1, ANY, ANY)) == [(self(), (1, ATOM, 1))]
    assert Registry.match(reg, "hello", (2, ANY, ANY)) == [(self(), (2, ATOM, 2))]
    both = [(self(), (1, ATOM, 1)), (self(), (2, ATOM, 2))]
    assert sorted(Registry.match(reg, "hello", (ANY, ATOM, ANY))) == both
    assert sorted(Registry.match(reg, "hello", (x, ANY, x))) == both
    guards = [lambda x: x > 1]
    assert Registry.match(reg, "hello", (ANY, ANY, x), guards) == [(self(), (2, ATOM, 2))]
    guards = [lambda x: isinstance(x, Atom)]
    assert sorted(Registry.match(reg, "hello", (ANY, x, ANY), guards)) == both


# registry_test.exs: doctest Registry.meta/2 (11)
async def test_doctest_registry_meta_2() -> None:
    reg = "Registry.MetaTest"
    await Registry.start_link(keys="unique", name=reg, meta={"custom_key": "custom_value"})
    assert Registry.meta(reg, "custom_key") == ("ok", "custom_value")
    assert Registry.meta(reg, "unknown_key") == "error"


# registry_test.exs: doctest Registry.put_meta/3 (12)
async def test_doctest_registry_put_meta_3() -> None:
    reg = "Registry.PutMetaTest"
    await Registry.start_link(keys="unique", name=reg)
    assert Registry.put_meta(reg, "custom_key", "custom_value") == "ok"
    assert Registry.meta(reg, "custom_key") == ("ok", "custom_value")
    assert Registry.put_meta(reg, ("tuple", "key"), "tuple_value") == "ok"
    assert Registry.meta(reg, ("tuple", "key")) == ("ok", "tuple_value")


# registry_test.exs: doctest Registry.register/3 (13)
async def test_doctest_registry_register_3_unique() -> None:
    reg = "Registry.UniqueRegisterTest"
    await Registry.start_link(keys="unique", name=reg)
    assert Registry.register(reg, "hello", "world")[0] == "ok"
    assert Registry.register(reg, "hello", "later") == ("error", ("already_registered", self()))
    assert Registry.keys(reg, self()) == ["hello"]


# registry_test.exs: doctest Registry.register/3 (14)
async def test_doctest_registry_register_3_duplicate() -> None:
    reg = "Registry.DuplicateRegisterTest"
    await Registry.start_link(keys="duplicate", name=reg)
    assert Registry.register(reg, "hello", "world")[0] == "ok"
    assert Registry.register(reg, "hello", "world")[0] == "ok"
    assert Registry.keys(reg, self()) == ["hello", "hello"]


# registry_test.exs: doctest Registry.select/2 (15)
async def test_doctest_registry_select_2_everything() -> None:
    reg = "Registry.SelectAllTest"
    await Registry.start_link(keys="unique", name=reg)
    Registry.register(reg, "hello", "value")
    Registry.register(reg, "world", "value")
    # The doctest shows ETS's order; the docs promise none, and tether's is
    # registration order.
    assert Registry.select(reg, [((k, p, v), [], (k, p, v))]) == [
        ("hello", self(), "value"),
        ("world", self(), "value"),
    ]


# registry_test.exs: doctest Registry.select/2 (16)
async def test_doctest_registry_select_2_all_keys() -> None:
    reg = "Registry.SelectAllTest"
    await Registry.start_link(keys="unique", name=reg)
    Registry.register(reg, "hello", "value")
    Registry.register(reg, "world", "value")
    assert Registry.select(reg, [((k, ANY, ANY), [], k)]) == ["hello", "world"]


# registry_test.exs: doctest Registry.unregister/2 (17)
async def test_doctest_registry_unregister_2_unique() -> None:
    reg = "Registry.UniqueUnregisterTest"
    await Registry.start_link(keys="unique", name=reg)
    Registry.register(reg, "hello", "world")
    assert Registry.keys(reg, self()) == ["hello"]
    assert Registry.unregister(reg, "hello") == "ok"
    assert Registry.keys(reg, self()) == []


# registry_test.exs: doctest Registry.unregister/2 (18)
async def test_doctest_registry_unregister_2_duplicate() -> None:
    reg = "Registry.DuplicateUnregisterTest"
    await Registry.start_link(keys="duplicate", name=reg)
    Registry.register(reg, "hello", "world")
    Registry.register(reg, "hello", "world")
    assert Registry.keys(reg, self()) == ["hello", "hello"]
    assert Registry.unregister(reg, "hello") == "ok"
    assert Registry.keys(reg, self()) == []


# registry_test.exs: doctest Registry.unregister_match/4 (19)
async def test_doctest_registry_unregister_match_4_unique() -> None:
    reg = "Registry.UniqueUnregisterMatchTest"
    await Registry.start_link(keys="unique", name=reg)
    Registry.register(reg, "hello", "world")
    assert Registry.keys(reg, self()) == ["hello"]
    assert Registry.unregister_match(reg, "hello", "foo") == "ok"
    assert Registry.keys(reg, self()) == ["hello"]
    assert Registry.unregister_match(reg, "hello", "world") == "ok"
    assert Registry.keys(reg, self()) == []


# registry_test.exs: doctest Registry.unregister_match/4 (20)
async def test_doctest_registry_unregister_match_4_duplicate() -> None:
    reg = "Registry.DuplicateUnregisterMatchTest"
    await Registry.start_link(keys="duplicate", name=reg)
    Registry.register(reg, "hello", "world_a")
    Registry.register(reg, "hello", "world_b")
    Registry.register(reg, "hello", "world_c")
    assert Registry.keys(reg, self()) == ["hello", "hello", "hello"]
    assert Registry.unregister_match(reg, "hello", "world_a") == "ok"
    assert Registry.keys(reg, self()) == ["hello", "hello"]
    assert Registry.lookup(reg, "hello") == [(self(), "world_b"), (self(), "world_c")]


# registry_test.exs: doctest Registry.update_value/3 (21)
async def test_doctest_registry_update_value_3() -> None:
    reg = "Registry.UpdateTest"
    await Registry.start_link(keys="unique", name=reg)
    assert Registry.register(reg, "hello", 1)[0] == "ok"
    assert Registry.lookup(reg, "hello") == [(self(), 1)]
    assert Registry.update_value(reg, "hello", lambda n: n + 1) == (2, 1)
    assert Registry.lookup(reg, "hello") == [(self(), 2)]


# registry_test.exs: doctest Registry.values/3 (22)
async def test_doctest_registry_values_3_unique() -> None:
    reg = "Registry.UniqueLookupTest"
    await Registry.start_link(keys="unique", name=reg)
    assert Registry.values(reg, "hello", self()) == []
    Registry.register(reg, "hello", "world")
    assert Registry.values(reg, "hello", self()) == ["world"]

    async def own_values() -> Any:
        return Registry.values(reg, "hello", self())

    assert await Task.await_(Task.async_(own_values)) == []
    parent = self()

    async def parent_values() -> Any:
        return Registry.values(reg, "hello", parent)

    assert await Task.await_(Task.async_(parent_values)) == ["world"]


# registry_test.exs: doctest Registry.values/3 (23)
async def test_doctest_registry_values_3_duplicate() -> None:
    reg = "Registry.DuplicateLookupTest"
    await Registry.start_link(keys="duplicate", name=reg)
    assert Registry.values(reg, "hello", self()) == []
    Registry.register(reg, "hello", "world")
    assert Registry.values(reg, "hello", self()) == ["world"]
    Registry.register(reg, "hello", "another")
    assert sorted(Registry.values(reg, "hello", self())) == ["another", "world"]
