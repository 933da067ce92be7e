"""Elixir 1.14's ``lib/elixir/test/elixir/task/supervisor_test.exs``, ported (T-8).

One test per ExUnit test, in the original's order, each with the original's
describe block and name in a comment above it.  The original's ``setup`` (a task
supervisor started by the test process) is :func:`start_sup`.  The tests that have
no meaning for tether are listed in ``README.md``.
"""

from __future__ import annotations

from typing import Any

import pytest

import tether
from tether import (
    ANY,
    Down,
    DynamicSupervisor,
    Pid,
    Process,
    Ref,
    Registry,
    Supervisor,
    Task,
    TaskSupervisor,
    receive,
    self,
    send,
)

from ..conftest import mailbox_now
from .test_task import (
    INF,
    MOD,
    assert_receive,
    catch_exit,
    refute_received,
    run_stream,
    sleep,
    sleep_plus,
    take,
    to_list,
    value,
    wait_and_send,
)


async def start_sup() -> Pid:
    """The original's ``setup``: ``{:ok, pid} = Task.Supervisor.start_link()``."""
    ok, pid = await TaskSupervisor.start_link()
    assert ok == "ok"
    return pid  # type: ignore[no-any-return]


async def yield_and_exit(value: Any) -> None:
    # We call yield first so we give the parent a chance to monitor
    await Process.sleep(0)
    tether.exit(value)


async def yield_and_exit_str(n: int) -> None:
    await yield_and_exit(str(n))


async def forever() -> None:
    await Process.sleep(None)


# supervisor_test.exs: test "can be supervised directly"
async def test_can_be_supervised_directly() -> None:
    name = "test can be supervised directly"
    modules = [(TaskSupervisor, {"name": name})]
    result = await Supervisor.start_link(modules, strategy="one_for_one")
    assert result[0] == "ok"
    assert Process.whereis(name) is not None


# supervisor_test.exs:
#   test "multiple supervisors can be supervised and identified with simple child spec"
async def test_multiple_supervisors_can_be_supervised_and_identified_by_simple_child_spec() -> None:
    ok, _ = await Registry.start_link(keys="unique", name="TaskSup.Registry")
    assert ok == "ok"
    via = ("via", Registry, ("TaskSup.Registry", "via_name"))

    children = [
        (TaskSupervisor, {"strategy": "one_for_one", "name": "simple_name"}),
        (TaskSupervisor, {"strategy": "one_for_one", "name": ("global", "global_name")}),
        (TaskSupervisor, {"strategy": "one_for_one", "name": via}),
    ]

    ok, supsup = await Supervisor.start_link(children, strategy="one_for_one")
    assert ok == "ok"

    ok, no_name_dynsup = await Supervisor.start_child(
        supsup, (TaskSupervisor, {"strategy": "one_for_one"})
    )
    assert ok == "ok"

    assert await TaskSupervisor.children("simple_name") == []
    assert await TaskSupervisor.children(("global", "global_name")) == []
    assert await TaskSupervisor.children(via) == []
    assert await TaskSupervisor.children(no_name_dynsup) == []

    assert await Supervisor.start_child(supsup, (TaskSupervisor, {"strategy": "one_for_one"})) == (
        "error",
        ("already_started", no_name_dynsup),
    )


# supervisor_test.exs: test "counts and returns children"
async def test_counts_and_returns_children() -> None:
    sup = await start_sup()
    assert await TaskSupervisor.children(sup) == []

    assert await Supervisor.count_children(sup) == {
        "active": 0,
        "specs": 0,
        "supervisors": 0,
        "workers": 0,
    }

    assert await DynamicSupervisor.count_children(sup) == {
        "active": 0,
        "specs": 0,
        "supervisors": 0,
        "workers": 0,
    }


# -- describe "async/1" --


# supervisor_test.exs: describe "async/1", test "spawns tasks under the supervisor"
async def test_async_1_spawns_tasks_under_the_supervisor() -> None:
    sup = await start_sup()
    parent = self()

    async def fun() -> Any:
        return await wait_and_send(parent, "done")

    task = await TaskSupervisor.async_(sup, fun)
    assert await TaskSupervisor.children(sup) == [task.pid]

    # Assert the struct
    assert type(task) is Task
    assert isinstance(task.pid, Pid)
    assert isinstance(task.ref, Ref)

    # Assert the link
    assert task.pid in Process.info(self(), "links")

    await receive(value("ready"))

    # Assert the initial call
    assert Process.info(task.pid, "dictionary")["$initial_call"] == (MOD_HERE, fun.__qualname__, 0)

    # Run the task
    send(task.pid, True)

    # Assert response and monitoring messages
    ref = task.ref
    await assert_receive((ref, "done"))
    await assert_receive(Down(ref, ANY, ANY, "normal"))


MOD_HERE = __name__


# supervisor_test.exs: describe "async/1", test "with custom shutdown"
async def test_async_1_with_custom_shutdown() -> None:
    sup = await start_sup()
    Process.flag("trap_exit", True)
    parent = self()

    async def fun() -> Any:
        return await wait_and_send(parent, "done")

    task = await TaskSupervisor.async_(sup, fun, shutdown="brutal_kill")

    Process.exit(sup, "shutdown")
    await assert_receive(Down(ANY, ANY, task.pid, "killed"))


# supervisor_test.exs: describe "async/1", test "raises when :max_children is reached"
async def test_async_1_raises_when_max_children_is_reached() -> None:
    _, sup = await TaskSupervisor.start_link(max_children=1)
    await TaskSupervisor.async_(sup, forever)

    async def ok() -> str:
        return "ok"

    with pytest.raises(RuntimeError, match="reached the maximum number of tasks"):
        await TaskSupervisor.async_(sup, ok)


# supervisor_test.exs: describe "async/1", test "with $callers"
async def test_async_1_with_callers() -> None:
    sup = await start_sup()
    grandparent = self()

    async def outer() -> None:
        parent = self()
        assert Process.get("$callers") == [grandparent]
        assert Process.get("$ancestors") == [sup, grandparent]

        async def inner() -> None:
            assert Process.get("$callers") == [parent, grandparent]
            assert Process.get("$ancestors") == [sup, grandparent]

        await Task.await_(await TaskSupervisor.async_(sup, inner))

    await Task.await_(await TaskSupervisor.async_(sup, outer))


# supervisor_test.exs: test "async/3"
async def test_async_3_runs_a_function_with_arguments_under_the_supervisor() -> None:
    sup = await start_sup()
    task = await TaskSupervisor.async_(sup, wait_and_send, self(), "done")
    assert await TaskSupervisor.children(sup) == [task.pid]

    await receive(value("ready"))
    assert Process.info(task.pid, "dictionary")["$initial_call"] == (MOD, "wait_and_send", 2)

    send(task.pid, True)
    assert type(task) is Task
    assert task.mfa == (MOD, "wait_and_send", 2)
    assert await Task.await_(task) == "done"


# -- describe "async_nolink/1" --


# supervisor_test.exs: describe "async_nolink/1",
#   test "spawns a task under the supervisor without linking to the caller"
async def test_async_nolink_1_spawns_a_task_under_the_supervisor_not_linked_to_the_caller() -> None:
    sup = await start_sup()
    parent = self()

    async def fun() -> Any:
        return await wait_and_send(parent, "done")

    task = await TaskSupervisor.async_nolink(sup, fun)
    assert await TaskSupervisor.children(sup) == [task.pid]

    # Assert the struct
    assert type(task) is Task
    assert isinstance(task.pid, Pid)
    assert isinstance(task.ref, Ref)
    assert task.mfa == (MOD_HERE, fun.__qualname__, 0)

    # Refute the link
    assert task.pid not in Process.info(self(), "links")

    await receive(value("ready"))

    # Assert the initial call
    assert Process.info(task.pid, "dictionary")["$initial_call"] == (MOD_HERE, fun.__qualname__, 0)

    # Run the task
    send(task.pid, True)

    # Assert response and monitoring messages
    ref = task.ref
    await assert_receive((ref, "done"))
    await assert_receive(Down(ref, ANY, ANY, "normal"))


# supervisor_test.exs: describe "async_nolink/1", test "with custom shutdown"
async def test_async_nolink_1_with_custom_shutdown() -> None:
    sup = await start_sup()
    Process.flag("trap_exit", True)
    parent = self()

    async def fun() -> Any:
        return await wait_and_send(parent, "done")

    task = await TaskSupervisor.async_nolink(sup, fun, shutdown="brutal_kill")

    Process.exit(sup, "shutdown")
    await assert_receive(Down(ANY, ANY, task.pid, "killed"))


# supervisor_test.exs: describe "async_nolink/1", test "raises when :max_children is reached"
async def test_async_nolink_1_raises_when_max_children_is_reached() -> None:
    _, sup = await TaskSupervisor.start_link(max_children=1)

    await TaskSupervisor.async_nolink(sup, forever)

    async def ok() -> str:
        return "ok"

    with pytest.raises(RuntimeError, match="reached the maximum number of tasks"):
        await TaskSupervisor.async_nolink(sup, ok)


# supervisor_test.exs: test "async_nolink/3"
async def test_async_nolink_3_runs_a_function_with_arguments_without_linking() -> None:
    sup = await start_sup()
    task = await TaskSupervisor.async_nolink(sup, wait_and_send, self(), "done")
    assert await TaskSupervisor.children(sup) == [task.pid]

    await receive(value("ready"))
    assert Process.info(task.pid, "dictionary")["$initial_call"] == (MOD, "wait_and_send", 2)

    send(task.pid, True)
    assert type(task) is Task
    assert task.mfa == (MOD, "wait_and_send", 2)
    assert await Task.await_(task) == "done"


# supervisor_test.exs: test "start_child/1"
async def test_start_child_1_starts_an_unlinked_task_under_the_supervisor() -> None:
    sup = await start_sup()
    parent = self()

    async def fun() -> Any:
        return await wait_and_send(parent, "done")

    ok, pid = await TaskSupervisor.start_child(sup, fun)
    assert ok == "ok"
    assert await TaskSupervisor.children(sup) == [pid]

    assert pid not in Process.info(self(), "links")

    await receive(value("ready"))
    assert Process.info(pid, "dictionary")["$initial_call"] == (MOD_HERE, fun.__qualname__, 0)

    send(pid, True)
    await assert_receive(value("done"))


# supervisor_test.exs: test "start_child/3"
# (The :illegal_arg case has no Python form: the arguments are always a tuple.)
async def test_start_child_3_starts_a_function_with_arguments_and_refuses_a_non_function() -> None:
    sup = await start_sup()

    ok, pid = await TaskSupervisor.start_child(sup, wait_and_send, self(), "done")
    assert ok == "ok"

    assert await TaskSupervisor.children(sup) == [pid]

    assert pid not in Process.info(self(), "links")

    await receive(value("ready"))
    assert Process.info(pid, "dictionary")["$initial_call"] == (MOD, "wait_and_send", 2)

    send(pid, True)
    await assert_receive(value("done"))

    with pytest.raises(TypeError):
        await TaskSupervisor.start_child(sup, "wait_and_send", self(), "done")  # type: ignore[arg-type]


# supervisor_test.exs: test "start_child/1 with custom shutdown"
async def test_start_child_1_with_custom_shutdown() -> None:
    sup = await start_sup()
    Process.flag("trap_exit", True)
    parent = self()

    async def fun() -> Any:
        return await wait_and_send(parent, "done")

    ok, pid = await TaskSupervisor.start_child(sup, fun, shutdown="brutal_kill")
    assert ok == "ok"

    Process.monitor(pid)
    Process.exit(sup, "shutdown")
    await assert_receive(Down(ANY, ANY, pid, "killed"))


# supervisor_test.exs: test "start_child/1 with custom restart"
async def test_start_child_1_with_custom_restart() -> None:
    sup = await start_sup()
    parent = self()

    async def fun() -> Any:
        return await wait_and_send(parent, "done")

    ok, pid = await TaskSupervisor.start_child(sup, fun, restart="permanent")
    assert ok == "ok"

    await assert_receive(value("ready"))
    Process.monitor(pid)
    Process.exit(pid, "shutdown")
    await assert_receive(Down(ANY, ANY, pid, "shutdown"))
    await assert_receive(value("ready"))


# supervisor_test.exs: test "start_child/1 with $callers"
async def test_start_child_1_with_callers() -> None:
    sup = await start_sup()
    grandparent = self()

    async def outer() -> None:
        parent = self()
        assert Process.get("$callers") == [grandparent]
        assert Process.get("$ancestors") == [sup, grandparent]

        async def inner() -> None:
            assert Process.get("$callers") == [parent, grandparent]
            assert Process.get("$ancestors") == [sup, grandparent]
            send(grandparent, "done")

        await TaskSupervisor.start_child(sup, inner)

    await TaskSupervisor.start_child(sup, outer)

    await assert_receive(value("done"))


# supervisor_test.exs: test "terminate_child/2"
async def test_terminate_child_2() -> None:
    sup = await start_sup()

    ok, pid = await TaskSupervisor.start_child(sup, wait_and_send, self(), "done")
    assert ok == "ok"

    assert await TaskSupervisor.children(sup) == [pid]
    assert await TaskSupervisor.terminate_child(sup, pid) == "ok"
    assert await TaskSupervisor.children(sup) == []
    assert await TaskSupervisor.terminate_child(sup, pid) == ("error", "not_found")


# -- describe "await/1" --


# supervisor_test.exs: describe "await/1", test "demonitors and unalias on timeout"
async def test_await_1_demonitors_and_unalias_on_timeout() -> None:
    sup = await start_sup()

    async def go() -> str:
        await receive(value("go"))
        return "done"

    task = await TaskSupervisor.async_(sup, go)

    assert await catch_exit(Task.await_(task, 0)) == ("timeout", ("Task.await", task, 0))
    assert task.pid is not None
    new_ref = Process.monitor(task.pid)
    old_ref = task.ref

    send(task.pid, "go")
    await assert_receive(Down(new_ref, ANY, ANY, ANY))
    await refute_received((old_ref, "done"))
    await refute_received(Down(old_ref, ANY, ANY, ANY))


# supervisor_test.exs: describe "await/1", test "exits on task error"
async def test_await_1_exits_on_task_error() -> None:
    sup = await start_sup()
    Process.flag("trap_exit", True)

    async def oops() -> None:
        raise RuntimeError("oops")

    task = await TaskSupervisor.async_(sup, oops)
    reason, mfa = await catch_exit(Task.await_(task))
    assert type(reason) is RuntimeError and reason.args == ("oops",)
    assert mfa == ("Task.await", task, 5)


# supervisor_test.exs: describe "await/1", test "exits on task exit"
async def test_await_1_exits_on_task_exit() -> None:
    sup = await start_sup()
    Process.flag("trap_exit", True)

    async def unknown() -> None:
        tether.exit("unknown")

    task = await TaskSupervisor.async_(sup, unknown)
    assert await catch_exit(Task.await_(task)) == ("unknown", ("Task.await", task, 5))


# -- describe "async_stream" --


# supervisor_test.exs: describe "async_stream", test "streams an enumerable with fun"
async def test_async_stream_streams_an_enumerable_with_fun() -> None:
    sup = await start_sup()
    stream = TaskSupervisor.async_stream(sup, range(1, 5), sleep)
    assert await to_list(stream) == [("ok", 1), ("ok", 2), ("ok", 3), ("ok", 4)]


# supervisor_test.exs: describe "async_stream", test "streams an enumerable with mfa"
# (async_stream/6: the item is the first argument, the extra args follow.)
async def test_async_stream_streams_an_enumerable_with_mfa() -> None:
    sup = await start_sup()
    stream = TaskSupervisor.async_stream(sup, range(1, 5), sleep_plus, 0)
    assert await to_list(stream) == [("ok", 1), ("ok", 2), ("ok", 3), ("ok", 4)]


# supervisor_test.exs: describe "async_stream", test "streams an enumerable without leaking tasks"
async def test_async_stream_streams_an_enumerable_without_leaking_tasks() -> None:
    sup = await start_sup()
    stream = TaskSupervisor.async_stream(sup, range(1, 5), sleep)
    assert await to_list(stream) == [("ok", 1), ("ok", 2), ("ok", 3), ("ok", 4)]

    assert await mailbox_now() == []


# supervisor_test.exs: describe "async_stream", test "streams an enumerable with slowest first"
async def test_async_stream_streams_an_enumerable_with_slowest_first() -> None:
    sup = await start_sup()
    Process.flag("trap_exit", True)

    stream = TaskSupervisor.async_stream(sup, range(4, 0, -1), sleep)
    assert await to_list(stream) == [("ok", 4), ("ok", 3), ("ok", 2), ("ok", 1)]


# supervisor_test.exs: describe "async_stream", test "streams an enumerable with exits"
async def test_async_stream_streams_an_enumerable_with_exits() -> None:
    sup = await start_sup()
    Process.flag("trap_exit", True)

    stream = TaskSupervisor.async_stream(sup, range(1, 5), yield_and_exit_str)
    assert await to_list(stream) == [("exit", "1"), ("exit", "2"), ("exit", "3"), ("exit", "4")]


# supervisor_test.exs: describe "async_stream", test "shuts down unused tasks"
async def test_async_stream_shuts_down_unused_tasks() -> None:
    sup = await start_sup()
    collection = [0, INF, INF, INF]

    assert await take(TaskSupervisor.async_stream(sup, collection, sleep), 1) == [("ok", 0)]

    assert Process.info(self(), "links") == [sup]


# supervisor_test.exs: describe "async_stream",
#   test "shuts down unused tasks without leaking messages"
async def test_async_stream_shuts_down_unused_tasks_without_leaking_messages() -> None:
    sup = await start_sup()
    collection = [0, INF, INF, INF]

    assert await take(TaskSupervisor.async_stream(sup, collection, sleep), 1) == [("ok", 0)]

    assert await mailbox_now() == []


# supervisor_test.exs: describe "async_stream",
#   test "raises an error if :max_children is reached with clean stream shutdown"
async def test_async_stream_raises_if_max_children_is_reached_with_clean_stream_shutdown() -> None:
    unused_supervisor = await start_sup()
    _, supervisor = await TaskSupervisor.start_link(max_children=1)
    collection = [INF, INF, INF]

    with pytest.raises(RuntimeError, match="reached the maximum number of tasks"):
        await to_list(TaskSupervisor.async_stream(supervisor, collection, sleep, max_concurrency=2))

    assert set(Process.info(self(), "links")) == {unused_supervisor, supervisor}
    assert await mailbox_now() == []


# supervisor_test.exs: describe "async_stream", test "with $callers"
async def test_async_stream_with_callers() -> None:
    sup = await start_sup()
    grandparent = self()

    async def outer(_: Any) -> None:
        parent = self()
        assert Process.get("$callers") == [grandparent]
        assert Process.get("$ancestors") == [sup, grandparent]

        async def inner(_: Any) -> None:
            assert Process.get("$callers") == [parent, grandparent]
            assert Process.get("$ancestors") == [sup, grandparent]
            send(grandparent, "done")

        await run_stream(TaskSupervisor.async_stream(sup, [1], inner))

    await run_stream(TaskSupervisor.async_stream(sup, [1], outer))

    await assert_receive(value("done"))


# supervisor_test.exs: describe "async_stream", test "consuming from another process"
async def test_async_stream_consuming_from_another_process() -> None:
    sup = await start_sup()
    parent = self()

    async def to_parent(x: Any) -> Any:
        return send(parent, x)

    stream = TaskSupervisor.async_stream(sup, [1, 2, 3], to_parent)
    await Task.start(run_stream, stream)
    await assert_receive(value(1))
    await assert_receive(value(2))
    await assert_receive(value(3))


# -- describe "async_stream_nolink" (@opts [max_concurrency: 4]) --


# supervisor_test.exs: describe "async_stream_nolink", test "streams an enumerable with fun"
async def test_async_stream_nolink_streams_an_enumerable_with_fun() -> None:
    sup = await start_sup()
    stream = TaskSupervisor.async_stream_nolink(sup, range(1, 5), sleep, max_concurrency=4)
    assert await to_list(stream) == [("ok", 1), ("ok", 2), ("ok", 3), ("ok", 4)]


# supervisor_test.exs: describe "async_stream_nolink", test "streams an enumerable with mfa"
async def test_async_stream_nolink_streams_an_enumerable_with_mfa() -> None:
    sup = await start_sup()
    stream = TaskSupervisor.async_stream_nolink(sup, range(1, 5), sleep_plus, 0, max_concurrency=4)
    assert await to_list(stream) == [("ok", 1), ("ok", 2), ("ok", 3), ("ok", 4)]


# supervisor_test.exs: describe "async_stream_nolink",
#   test "streams an enumerable without leaking tasks"
async def test_async_stream_nolink_streams_an_enumerable_without_leaking_tasks() -> None:
    sup = await start_sup()
    stream = TaskSupervisor.async_stream_nolink(sup, range(1, 5), sleep, max_concurrency=4)
    assert await to_list(stream) == [("ok", 1), ("ok", 2), ("ok", 3), ("ok", 4)]

    assert await mailbox_now() == []


# supervisor_test.exs: describe "async_stream_nolink",
#   test "streams an enumerable with slowest first"
async def test_async_stream_nolink_streams_an_enumerable_with_slowest_first() -> None:
    sup = await start_sup()
    stream = TaskSupervisor.async_stream_nolink(sup, range(4, 0, -1), sleep, max_concurrency=4)
    assert await to_list(stream) == [("ok", 4), ("ok", 3), ("ok", 2), ("ok", 1)]


# supervisor_test.exs: describe "async_stream_nolink", test "streams an enumerable with exits"
async def test_async_stream_nolink_streams_an_enumerable_with_exits() -> None:
    sup = await start_sup()
    stream = TaskSupervisor.async_stream_nolink(sup, range(1, 5), yield_and_exit, max_concurrency=4)
    assert await to_list(stream) == [("exit", 1), ("exit", 2), ("exit", 3), ("exit", 4)]


# supervisor_test.exs: describe "async_stream_nolink", test "shuts down unused tasks"
async def test_async_stream_nolink_shuts_down_unused_tasks() -> None:
    sup = await start_sup()
    collection = [0, INF, INF, INF]

    stream = TaskSupervisor.async_stream_nolink(sup, collection, sleep, max_concurrency=4)
    assert await take(stream, 1) == [("ok", 0)]

    assert Process.info(self(), "links") == [sup]


# supervisor_test.exs: describe "async_stream_nolink",
#   test "shuts down unused tasks without leaking messages"
async def test_async_stream_nolink_shuts_down_unused_tasks_without_leaking_messages() -> None:
    sup = await start_sup()
    collection = [0, INF, INF, INF]

    stream = TaskSupervisor.async_stream_nolink(sup, collection, sleep, max_concurrency=4)
    assert await take(stream, 1) == [("ok", 0)]

    assert await mailbox_now() == []


# supervisor_test.exs: describe "async_stream_nolink",
#   test "raises an error if :max_children is reached with clean stream shutdown"
async def test_async_stream_nolink_raises_if_max_children_is_reached_with_clean_shutdown() -> None:
    unused_supervisor = await start_sup()
    _, supervisor = await TaskSupervisor.start_link(max_children=1)
    collection = [INF, INF, INF]

    with pytest.raises(RuntimeError, match="reached the maximum number of tasks"):
        await to_list(
            TaskSupervisor.async_stream_nolink(supervisor, collection, sleep, max_concurrency=2)
        )

    assert set(Process.info(self(), "links")) == {unused_supervisor, supervisor}
    assert await mailbox_now() == []
