"""Elixir 1.14's ``lib/elixir/test/elixir/supervisor_test.exs``, ported (SU-1 … SU-8).

One test per ExUnit test, named after it, in the original order.  Elixir modules
become classes; ``{Module, arg}`` children become ``(Class, arg)``; ``{m, f, a}``
becomes ``(fun, args)``.  Where tether spells a thing differently the comment says
so; the tests without a meaning for tether are listed in ``README.md``.
"""

from __future__ import annotations

from typing import Any

import pytest

from tether import (
    GenServer,
    NoReply,
    Ok,
    Process,
    Registry,
    Reply,
    Stop,
    Supervisor,
    Task,
    global_,
)
from tether.testing import wait_all_blocked


class Stack(GenServer):
    """``SupervisorTest.Stack``: ``start_link({state, opts})``."""

    @classmethod
    async def start_link(cls, arg: Any = None, *, name: Any = None, timeout: Any = None) -> Any:
        state, opts = arg
        return await super().start_link(state, **opts)

    def init(self, arg: Any) -> Any:
        return Ok(arg)

    def handle_call(self, request: Any, from_: Any, stack: Any) -> Any:
        if request == "pop":
            return Reply(stack[0], stack[1:])
        if request == "stop":
            # As the original: unregister now, so the restarted child can take the name.
            name = Process.info(self(), "registered_name")
            if name:
                Process.unregister(name)
            return Stop("normal", stack, reply="ok")
        return super().handle_call(request, from_, stack)

    def handle_cast(self, request: Any, stack: Any) -> Any:
        _push, h = request
        return NoReply([h, *stack])


class StackSup(Supervisor):
    """``Stack.Sup``: ``use Supervisor``."""

    def init(self, pair: Any) -> Any:
        return Supervisor.init_spec([(Stack, pair)], strategy="one_for_one")


class TaskSpec:
    """Elixir's ``Task.child_spec/1`` (``use Task``): tether's ``Task`` has no
    ``child_spec`` on this branch, so this stand-in gives the same spec."""

    @classmethod
    def child_spec(cls, arg: Any = None) -> dict[str, Any]:
        return {"id": Task, "restart": "temporary", "start": (Task.start_link, [arg])}


def foo_bar() -> None:
    """Stands for ``{:foo, :bar, []}``."""


async def wait_until_registered(name: str) -> None:
    await wait_all_blocked()
    assert Process.whereis(name) is not None


# supervisor_test.exs: test "generates child_spec/1"
async def test_generates_child_spec_1() -> None:
    assert StackSup.child_spec(["hello"]) == {
        "id": StackSup,
        "start": (StackSup.start_link, (["hello"],)),
        "type": "supervisor",
    }

    # use Supervisor, id: :id, restart: :temporary, start: {:foo, :bar, []}
    class CustomSup(Supervisor, id="id", restart="temporary", start=(foo_bar, [])):
        def init(self, arg: Any) -> Any:
            return arg

    assert CustomSup.child_spec(["hello"]) == {
        "id": "id",
        "restart": "temporary",
        "start": (foo_bar, []),
        "type": "supervisor",
    }


# supervisor_test.exs: test "child_spec/2"
async def test_child_spec_2() -> None:
    assert Supervisor.child_spec_of(TaskSpec) == {
        "id": Task,
        "restart": "temporary",
        "start": (Task.start_link, [None]),
    }
    assert Supervisor.child_spec_of((TaskSpec, "foo")) == {
        "id": Task,
        "restart": "temporary",
        "start": (Task.start_link, ["foo"]),
    }
    assert Supervisor.child_spec_of({"id": Task}) == {"id": Task}
    assert Supervisor.child_spec_of(
        TaskSpec, id="foo", start=(foo_bar, []), restart="permanent", shutdown="infinity"
    ) == {"id": "foo", "start": (foo_bar, []), "restart": "permanent", "shutdown": "infinity"}

    class SupervisorTest:  # a class without child_spec
        pass

    with pytest.raises(TypeError, match=r"was given as a child.*does not implement child_spec"):
        Supervisor.child_spec_of(SupervisorTest)
    # (`Supervisor.child_spec(Unknown, [])`, a module that does not exist, is a
    # NameError at the call site in Python: nothing for tether to check.)
    with pytest.raises(TypeError, match="supervisors expect each child to be one of"):
        Supervisor.child_spec_of("other")


# supervisor_test.exs: test "init/2"
async def test_init_2() -> None:
    flags = {"intensity": 3, "period": 5, "strategy": "one_for_one"}
    children = [{"id": Task, "restart": "temporary", "start": (Task.start_link, [None])}]
    assert Supervisor.init_spec([TaskSpec], strategy="one_for_one") == ("ok", (flags, children))

    flags = {"intensity": 1, "period": 2, "strategy": "one_for_all"}
    children = [{"id": Task, "restart": "temporary", "start": (Task.start_link, ["foo"])}]
    assert Supervisor.init_spec(
        [(TaskSpec, "foo")], strategy="one_for_all", max_restarts=1, max_seconds=2
    ) == ("ok", (flags, children))

    # Elixir raises "expected :strategy option to be given"; tether's strategy
    # defaults to "one_for_one" (README), and a wrong one is refused at the call.
    assert Supervisor.init_spec([]) == (
        "ok",
        ({"intensity": 3, "period": 5, "strategy": "one_for_one"}, []),
    )
    with pytest.raises(ValueError, match="strategy must be one of"):
        Supervisor.init_spec([], strategy="none_for_one")


# supervisor_test.exs: test "init/2 with old and new child specs"
async def test_init_2_with_old_and_new_child_specs() -> None:
    flags = {"intensity": 3, "period": 5, "strategy": "one_for_one"}
    old_spec = (Task, (Task.start_link, []), "permanent", 5, "worker", [Task])
    children = [{"id": Task, "restart": "temporary", "start": (Task.start_link, [None])}, old_spec]
    assert Supervisor.init_spec([TaskSpec, old_spec], strategy="one_for_one") == (
        "ok",
        (flags, children),
    )


# supervisor_test.exs: test "start_link/2 with via"
async def test_start_link_2_with_via() -> None:
    via = ("via", global_, "via_sup")
    _, _sup = await Supervisor.start_link([], strategy="one_for_one", name=via)
    assert await Supervisor.which_children(via) == []


# supervisor_test.exs: test "start_link/2 with via" (again through tether.Registry)
async def test_start_link_2_with_via_registry() -> None:
    await Registry.start_link(name="via_reg", keys="unique")
    via = ("via", Registry, ("via_reg", "via_sup"))
    _, _sup = await Supervisor.start_link([], strategy="one_for_one", name=via)
    assert await Supervisor.which_children(via) == []


# supervisor_test.exs: test "start_link/3 with global"
async def test_start_link_3_with_global() -> None:
    await Supervisor.start_link([], strategy="one_for_one", name=("global", "global_sup"))
    assert await Supervisor.which_children(("global", "global_sup")) == []


# supervisor_test.exs: test "start_link/3 with local"
async def test_start_link_3_with_local() -> None:
    await Supervisor.start_link([], strategy="one_for_one", name="my_sup")
    assert await Supervisor.which_children("my_sup") == []


# supervisor_test.exs: test "start_link/2"
async def test_start_link_2() -> None:
    children = [(Stack, (["hello"], {"name": "dyn_stack"}))]
    ok, pid = await Supervisor.start_link(children, strategy="one_for_one")
    assert ok == "ok"

    await wait_until_registered("dyn_stack")
    assert await GenServer.call("dyn_stack", "pop") == "hello"
    assert await GenServer.call("dyn_stack", "stop") == "ok"

    await wait_until_registered("dyn_stack")
    assert await GenServer.call("dyn_stack", "pop") == "hello"
    await Supervisor.stop(pid)

    # (A binary name is refused in Elixir; a str is tether's name type.)
    with pytest.raises(ValueError, match="expected name= to be one of"):
        await Supervisor.start_link(
            children, name=("invalid_tuple", "my_gen_server_name"), strategy="one_for_one"
        )
    with pytest.raises(ValueError, match="expected name= to be one of"):
        await Supervisor.start_link(
            children, name=("via", "Via", "my_gen_server_name"), strategy="one_for_one"
        )
    assert Process.whereis("dyn_stack") is None  # nothing was started


# supervisor_test.exs: test "start_link/2 with old and new specs"
async def test_start_link_2_with_old_and_new_specs() -> None:
    children = [
        (Stack, (["hello"], {})),
        ("old_stack", (Stack.start_link, [(["hello"], {})]), "permanent", 5, "worker", [Stack]),
    ]
    ok, _ = await Supervisor.start_link(children, strategy="one_for_one")
    assert ok == "ok"


# supervisor_test.exs: test "start_link/3"
async def test_start_link_3() -> None:
    _, pid = await StackSup.start_link((["hello"], {"name": "stat_stack"}))
    await wait_until_registered("stat_stack")
    assert await GenServer.call("stat_stack", "pop") == "hello"
    await Supervisor.stop(pid)


async def returns_ok() -> str:
    return "ok"


async def sleeps_forever() -> None:
    await Process.sleep(None)


# supervisor_test.exs: describe "start_child/2", test "supports old child spec"
async def test_start_child_2_supports_old_child_spec() -> None:
    _, pid = await Supervisor.start_link([], strategy="one_for_one")
    child = (Task, (Task.start_link, [returns_ok]), "temporary", 5, "worker", [Task])
    ok, child_pid = await Supervisor.start_child(pid, child)
    assert ok == "ok" and type(child_pid) is type(pid)


# supervisor_test.exs: describe "start_child/2", test "supports new child spec as tuple"
async def test_start_child_2_supports_new_child_spec_as_tuple() -> None:
    _, pid = await Supervisor.start_link([], strategy="one_for_one")
    child = {"id": Task, "restart": "temporary", "start": (Task.start_link, [returns_ok])}
    ok, child_pid = await Supervisor.start_child(pid, child)
    assert ok == "ok" and type(child_pid) is type(pid)


# supervisor_test.exs: describe "start_child/2", test "supports new child spec"
async def test_start_child_2_supports_new_child_spec() -> None:
    _, pid = await Supervisor.start_link([], strategy="one_for_one")
    child = (TaskSpec, sleeps_forever)
    ok, child_pid = await Supervisor.start_child(pid, child)
    assert ok == "ok" and type(child_pid) is type(pid)


# supervisor_test.exs: describe "start_child/2", test "with invalid child spec"
async def test_start_child_2_with_invalid_child_spec() -> None:
    _, pid = await Supervisor.start_link([], strategy="one_for_one")
    assert await Supervisor.start_child(pid, {}) == ("error", "missing_id")
    assert await Supervisor.start_child(pid, (1, 2, 3, 4, 5, 6)) == ("error", ("invalid_mfa", 2))
    # %{id: 1, start: {Task, :foo, :bar}}: arguments that are not a list.
    assert await Supervisor.start_child(pid, {"id": 1, "start": (Task.start_link, "bar")}) == (
        "error",
        ("invalid_mfa", (Task.start_link, "bar")),
    )


# supervisor_test.exs: test "child life-cycle"
async def test_child_life_cycle() -> None:
    _, pid = await Supervisor.start_link([], strategy="one_for_one")

    assert await Supervisor.which_children(pid) == []
    assert await Supervisor.count_children(pid) == {
        "specs": 0,
        "active": 0,
        "supervisors": 0,
        "workers": 0,
    }

    child_spec = Supervisor.child_spec_of((Stack, (["hello"], {})))
    _, stack = await Supervisor.start_child(pid, child_spec)
    assert await GenServer.call(stack, "pop") == "hello"

    assert await Supervisor.which_children(pid) == [(Stack, stack, "worker", [Stack])]
    assert await Supervisor.count_children(pid) == {
        "specs": 1,
        "active": 1,
        "supervisors": 0,
        "workers": 1,
    }

    assert await Supervisor.delete_child(pid, Stack) == ("error", "running")
    assert await Supervisor.terminate_child(pid, Stack) == "ok"

    _, stack = await Supervisor.restart_child(pid, Stack)
    assert await GenServer.call(stack, "pop") == "hello"

    assert await Supervisor.terminate_child(pid, Stack) == "ok"
    assert await Supervisor.delete_child(pid, Stack) == "ok"
    await Supervisor.stop(pid)
