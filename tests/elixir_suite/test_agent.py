"""Elixir 1.14's ``lib/elixir/test/elixir/agent_test.exs``, ported.

One test per ExUnit test (and per doctest of ``doctest Agent``), named after it,
with the original test name above it.  Elixir's ``Map`` functions are spelled as
the dict operations they are; an MFA argument (``Agent.cast(agent, Map, :put,
[:hello, :world])``) is spelled as the function it names.  Tests with no meaning
for tether are listed in tests/elixir_suite/README.md.
"""

from __future__ import annotations

from typing import Any

from tether import Agent, Process, Supervisor, self


def identity(state: Any) -> Any:
    return state


def pop_hello(state: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """``&Map.pop(&1, :hello)``."""
    rest = dict(state)
    return rest.pop("hello", None), rest


def put_hello(state: dict[str, Any]) -> dict[str, Any]:
    """``&Map.put(&1, :hello, :world)``."""
    return {**state, "hello": "world"}


# agent_test.exs: test "can be supervised directly"
async def test_can_be_supervised_directly() -> None:
    ok, sup = await Supervisor.start_link([(Agent, lambda: "ok")], strategy="one_for_one")
    assert ok == "ok"
    [(child_id, pid, kind, _modules)] = await Supervisor.which_children(sup)
    assert child_id is Agent and kind == "worker"
    assert await Agent.get(pid, identity) == "ok"


# agent_test.exs: test "generates child_spec/1"
async def test_generates_child_spec_1() -> None:
    class MyAgent(Agent):
        pass

    assert MyAgent.child_spec(["hello"]) == {
        "id": MyAgent,
        "start": (MyAgent.start_link, (["hello"],)),
    }

    class CustomAgent(Agent):
        pass

    def bar() -> Any:
        return None

    # Elixir's `use Agent, id: ..., restart: ...` overrides; tether spells them
    # with Supervisor.child_spec_of (Elixir's Supervisor.child_spec/2).
    custom = Supervisor.child_spec_of(
        (CustomAgent, ["hello"]),
        id="id",
        restart="temporary",
        shutdown="infinity",
        start=(bar, ()),
    )
    assert custom == {
        "id": "id",
        "restart": "temporary",
        "shutdown": "infinity",
        "start": (bar, ()),
    }


# agent_test.exs: test "start_link/2 workflow with unregistered name and anonymous functions"
async def test_start_link_2_workflow_with_unregistered_name_and_anonymous_functions() -> None:
    ok, pid = await Agent.start_link(dict)
    assert ok == "ok"

    assert pid in Process.info(self(), "links")

    # (:proc_lib.translate_initial_call(pid) == {Map, :new, 0}: see the README.)

    assert await Agent.update(pid, put_hello) == "ok"
    assert await Agent.get(pid, lambda m: m.get("hello"), 3) == "world"
    assert await Agent.get_and_update(pid, pop_hello, 3) == "world"
    assert await Agent.get(pid, identity) == {}
    assert await Agent.stop(pid) == "ok"
    assert not Process.alive(pid)  # wait_until_dead(pid): stop waited already


# agent_test.exs: test "start_link/2 with spawn_opt"
async def test_start_link_2_with_spawn_opt() -> None:
    # tether's start functions take no spawn options; the agent sets the
    # (advisory) priority flag itself, which is what spawn_opt: [priority: :high] does.
    def init() -> int:
        Process.flag("priority", "high")
        return 0

    _, pid = await Agent.start_link(init)
    assert Process.info(pid, "priority") == "high"


# agent_test.exs: test "start/2 workflow with registered name and module functions"
async def test_start_2_workflow_with_registered_name_and_module_functions() -> None:
    ok, pid = await Agent.start(dict, name="agent")
    assert ok == "ok"
    assert Process.info(pid, "registered_name") == "agent"
    assert Agent.cast("agent", put_hello) == "ok"
    assert await Agent.get("agent", lambda m: m.get("hello")) == "world"
    assert await Agent.get_and_update("agent", pop_hello) == "world"
    assert await Agent.get("agent", identity) == {}
    assert await Agent.stop("agent") == "ok"
    assert Process.info(pid, "registered_name") is None


# -- doctest Agent -----------------------------------------------------------------


# agent_test.exs: doctest Agent.cast/2 (1)
async def test_doctest_agent_cast_2() -> None:
    _, pid = await Agent.start_link(lambda: 42)
    assert Agent.cast(pid, lambda state: state + 1) == "ok"
    assert await Agent.get(pid, identity) == 43


# agent_test.exs: doctest Agent.get/3 (3)
async def test_doctest_agent_get_3() -> None:
    _, pid = await Agent.start_link(lambda: 42)
    assert await Agent.get(pid, identity) == 42


# agent_test.exs: doctest Agent.get_and_update/3 (4)
async def test_doctest_agent_get_and_update_3() -> None:
    _, pid = await Agent.start_link(lambda: 42)
    assert await Agent.get_and_update(pid, lambda state: (state, state + 1)) == 42
    assert await Agent.get(pid, identity) == 43


# agent_test.exs: doctest Agent.start/2 (5)
async def test_doctest_agent_start_2() -> None:
    _, pid = await Agent.start(lambda: 42)
    assert await Agent.get(pid, identity) == 42


# agent_test.exs: doctest Agent.start_link/2 (6)
async def test_doctest_agent_start_link_2() -> None:
    _, pid = await Agent.start_link(lambda: 42)
    assert await Agent.get(pid, identity) == 42


# agent_test.exs: doctest Agent.start_link/2 (7)
async def test_doctest_agent_start_link_2_failing_function() -> None:
    def oops() -> Any:
        raise RuntimeError("oops")

    # Elixir: {:error, {exception, stacktrace}}; tether's exception carries its
    # traceback, so the error is the exception itself.
    error, exception = await Agent.start(oops)
    assert error == "error"
    assert type(exception) is RuntimeError and str(exception) == "oops"


# agent_test.exs: doctest Agent.stop/3 (8)
async def test_doctest_agent_stop_3() -> None:
    _, pid = await Agent.start_link(lambda: 42)
    assert await Agent.stop(pid) == "ok"


# agent_test.exs: doctest Agent.update/3 (9)
async def test_doctest_agent_update_3() -> None:
    _, pid = await Agent.start_link(lambda: 42)
    assert await Agent.update(pid, lambda state: state + 1) == "ok"
    assert await Agent.get(pid, identity) == 43
