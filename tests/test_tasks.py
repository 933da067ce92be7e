"""Task and TaskSupervisor beyond the ported Elixir suite (tests/elixir_suite/):
argument checks before any effect (issue 10), what ``async_stream`` guarantees in
Python (bounded, lazy, closable, any iterable), child specs, one total timeout."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

import tether
from tether import (
    ANY,
    Down,
    Pid,
    Process,
    ProcessExit,
    Supervisor,
    Task,
    TaskSupervisor,
    receive,
    self,
    send,
    spawn_monitor,
)
from tether.testing import clock, wait_all_blocked

from .conftest import mailbox_now


async def double(x: int) -> int:
    return 2 * x


async def nap(seconds: float) -> float:
    await Process.sleep(seconds)
    return seconds


async def forever(*_: Any) -> None:
    await Process.sleep(None)


async def nap_or_forever(x: Any) -> Any:
    if x is None:
        await Process.sleep(None)
    return x


async def quit_with(reason: Any) -> None:
    tether.exit(reason)


def plain(x: int) -> int:
    return x


async def only_me_left() -> bool:
    await wait_all_blocked()
    return Process.list() == [self()]


# -- every public function checks all its arguments before it acts (issue 10) --------


async def test_async_of_a_non_function_is_a_type_error_before_anything_is_spawned() -> None:
    for bad in (42, plain):
        with pytest.raises(TypeError) as info:
            Task.async_(bad)  # type: ignore[arg-type]
        assert str(info.value).startswith(
            f"Task.async_: fun must be an async function (async def), got {bad!r}"
        )
    assert Process.list() == [self()]
    assert Process.info(self(), "links") == []
    assert Process.info(self(), "monitors") == []


async def test_start_start_link_and_child_spec_refuse_a_non_function() -> None:
    with pytest.raises(TypeError, match="^Task.start_link: fun must be an async function"):
        await Task.start_link(plain)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="^Task.start: fun must be an async function"):
        await Task.start(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="^Task.child_spec: arg must be an async function"):
        Task.child_spec(None)  # type: ignore[arg-type]
    assert Process.list() == [self()]


@pytest.mark.parametrize(
    ("name", "call"),
    [
        ("Task.await_", lambda: Task.await_(42)),  # type: ignore[arg-type]
        ("Task.yield_", lambda: Task.yield_("task")),  # type: ignore[arg-type]
        ("Task.ignore", lambda: Task.ignore(None)),  # type: ignore[arg-type]
        ("Task.shutdown", lambda: Task.shutdown(42)),  # type: ignore[arg-type]
        ("Task.await_many", lambda: Task.await_many([42])),  # type: ignore[list-item]
        ("Task.yield_many", lambda: Task.yield_many([42])),  # type: ignore[list-item]
    ],
)
async def test_every_task_function_given_a_non_task_is_a_type_error_naming_it(
    name: str, call: Any
) -> None:
    with pytest.raises(TypeError) as info:
        await call()
    assert str(info.value).startswith(f"{name}: task must be a tether.Task")


async def test_a_list_of_tasks_must_be_a_list() -> None:
    with pytest.raises(
        TypeError, match=r"^Task.await_many: tasks must be a list of tether.Task, got 42$"
    ):
        await Task.await_many(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^Task.yield_many: tasks must be a list"):
        await Task.yield_many({"a": 1})  # type: ignore[arg-type]


async def test_a_bad_timeout_is_refused_before_the_task_is_touched() -> None:
    task = Task.async_(forever)
    with pytest.raises(ValueError, match="^Task.await_: timeout must be >= 0"):
        await Task.await_(task, -1)
    with pytest.raises(TypeError, match="^Task.yield_: timeout must be a number"):
        await Task.yield_(task, "1s")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="^Task.shutdown: timeout must be seconds, None"):
        await Task.shutdown(task, "soon")
    with pytest.raises(ValueError, match="^Task.shutdown: timeout must be >= 0"):
        await Task.shutdown(task, -5)
    # Nothing happened to the task: still alive, linked, monitored, and awaitable.
    assert task.pid is not None and Process.alive(task.pid)
    assert Process.info(self(), "monitors") == [("process", task.pid)]
    assert await Task.yield_(task, 0) is None


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"enumerable": 42}, TypeError, "enumerable must be an iterable or an async iterable"),
        ({"fun": plain}, TypeError, "fun must be an async function"),
        ({"max_concurrency": "8"}, TypeError, "max_concurrency must be an integer greater"),
        ({"max_concurrency": True}, TypeError, "max_concurrency must be an integer greater"),
        ({"max_concurrency": 0}, ValueError, "max_concurrency must be an integer greater"),
        ({"ordered": "yes"}, TypeError, "ordered must be True or False"),
        ({"timeout": -1}, ValueError, "timeout must be >= 0"),
        ({"on_timeout": "never"}, ValueError, "on_timeout must be 'exit' or 'kill_task'"),
        ({"zip_input_on_exit": 1}, TypeError, "zip_input_on_exit must be True or False"),
    ],
)
async def test_async_stream_checks_every_argument_when_it_is_called(
    kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    args: dict[str, Any] = {"enumerable": [1], "fun": double, **kwargs}
    with pytest.raises(error) as info:
        Task.async_stream(args.pop("enumerable"), args.pop("fun"), **args)
    assert str(info.value).startswith(f"Task.async_stream: {message}")


async def test_task_supervisor_checks_its_arguments_before_starting_anything() -> None:
    with pytest.raises(
        ValueError, match="^TaskSupervisor.start_link: max_children must be an int >= 0"
    ):
        await TaskSupervisor.start_link(max_children=-1)
    with pytest.raises(TypeError, match="^TaskSupervisor.start_link: max_seconds must be a number"):
        await TaskSupervisor.start_link(max_seconds="x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="^TaskSupervisor.start_link: strategy can only be"):
        await TaskSupervisor.start_link(strategy="one_for_all")
    with pytest.raises(ValueError, match="^TaskSupervisor.start_link: name must be None"):
        await TaskSupervisor.start_link(name=42)
    assert Process.list() == [self()]

    _, sup = await TaskSupervisor.start_link()
    with pytest.raises(TypeError, match="^TaskSupervisor.async_: fun must be an async function"):
        await TaskSupervisor.async_(sup, plain)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="^TaskSupervisor.async_nolink: sup must be"):
        await TaskSupervisor.async_nolink(42, double, 1)
    with pytest.raises(ValueError, match="^TaskSupervisor.start_child: restart must be"):
        await TaskSupervisor.start_child(sup, double, 1, restart="sometimes")
    with pytest.raises(ValueError, match="^TaskSupervisor.start_child: shutdown must be >= 0"):
        await TaskSupervisor.start_child(sup, double, 1, shutdown=-1)
    with pytest.raises(TypeError, match="^TaskSupervisor.async_stream: shutdown must be"):
        TaskSupervisor.async_stream(sup, [1], double, shutdown=None)
    with pytest.raises(
        TypeError, match="^TaskSupervisor.terminate_child: pid must be a tether.Pid"
    ):
        await TaskSupervisor.terminate_child(sup, "task")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^TaskSupervisor.child_spec: unknown options \['nme'\]"):
        TaskSupervisor.child_spec({"nme": "jobs"})
    with pytest.raises(TypeError, match="^TaskSupervisor.child_spec: opts must be a dict"):
        TaskSupervisor.child_spec(["name", "jobs"])  # type: ignore[arg-type]
    assert await TaskSupervisor.children(sup) == []


# -- the fixes of issue 13 ------------------------------------------------------------


async def test_t7_start_chains_callers_like_start_link() -> None:
    me = self()

    async def outer() -> None:
        parent = self()

        async def inner() -> None:
            send(me, ("callers", Process.get("$callers")))

        await Task.start(inner)
        send(me, ("parent", parent))

    await Task.start(outer)
    _, parent = await receive(("parent", ANY))
    assert await receive(("callers", ANY)) == ("callers", [parent, me])


async def test_t6_shutdown_of_a_task_whose_down_was_already_received_is_exit_noproc() -> None:
    Process.flag("trap_exit", True)
    task = Task.async_(double, 1)
    await receive(Down(task.ref, ANY, ANY, ANY))  # the reply stays queued
    assert await Task.shutdown(task) == ("ok", 2)
    task2 = Task.async_(quit_with, "boom")
    await receive(Down(task2.ref, ANY, ANY, ANY))
    assert await Task.shutdown(task2) == ("exit", "noproc")


async def test_t6_shutdown_reports_exit_killed_when_the_task_outlives_the_timeout() -> None:
    async def stubborn() -> None:
        Process.flag("trap_exit", True)
        await Process.sleep(None)

    task = Task.async_(stubborn)
    await wait_all_blocked()
    start = clock()
    assert await Task.shutdown(task, 2) == ("exit", "killed")
    assert clock() - start == 2
    assert await mailbox_now() == []


# -- one total timeout ------------------------------------------------------------------


async def test_t7_await_many_has_one_total_timeout_not_one_per_task() -> None:
    tasks = [Task.async_(nap, 3), Task.async_(nap, 5)]
    start = clock()
    with pytest.raises(ProcessExit) as info:
        await Task.await_many(tasks, 4)
    assert info.value.reason == ("timeout", ("Task.await_many", tasks, 4))
    assert clock() - start == 4
    assert Process.info(self(), "monitors") == []


async def test_t6_yield_many_has_one_total_timeout() -> None:
    tasks = [Task.async_(nap, 3), Task.async_(nap, 5), Task.async_(nap, 1)]
    start = clock()
    assert await Task.yield_many(tasks, 4) == [
        (tasks[0], ("ok", 3)),
        (tasks[1], None),
        (tasks[2], ("ok", 1)),
    ]
    assert clock() - start == 4


# -- async_stream: lazy, bounded, closable, any iterable ------------------------------


async def test_async_stream_starts_nothing_until_it_is_iterated() -> None:
    stream = Task.async_stream(range(3), double)
    await wait_all_blocked()
    assert Process.list() == [self()]
    assert [r async for r in stream] == [("ok", 0), ("ok", 2), ("ok", 4)]
    # Each iteration is a new run, as enumerating an Elixir stream twice runs it twice.
    assert [r async for r in stream] == [("ok", 0), ("ok", 2), ("ok", 4)]
    assert await only_me_left()


async def test_async_stream_keeps_at_most_max_concurrency_tasks_and_results_in_flight() -> None:
    started: list[int] = []

    async def work(x: int) -> int:
        started.append(x)
        await Process.sleep(10 if x == 0 else 0.001)  # the head is slow, the rest quick
        return x

    results = aiter(Task.async_stream(range(1000), work, max_concurrency=3, timeout=None))
    await wait_all_blocked()
    assert started == []
    assert await anext(results) == ("ok", 0)
    # Items 1 and 2 finished long ago, but their results wait for the slow head:
    # nothing new started while three were in flight.
    assert started == [0, 1, 2]
    assert await anext(results) == ("ok", 1)
    assert started == [0, 1, 2, 3]
    await results.aclose()
    assert await only_me_left()


async def test_async_stream_reads_the_input_only_as_tasks_start() -> None:
    read: list[int] = []

    def source() -> Iterator[int]:
        for i in range(10**9):
            read.append(i)
            yield i

    async with Task.async_stream(source(), double, max_concurrency=2) as results:
        assert await anext(results) == ("ok", 0)
        assert read == [0, 1]
    assert await only_me_left()


async def test_async_stream_default_max_concurrency_is_the_cpu_count() -> None:
    n = os.cpu_count() or 1
    started: list[int] = []

    async def work(x: int) -> None:
        started.append(x)
        await Process.sleep(None)

    results = aiter(Task.async_stream(range(n + 5), work))
    with pytest.raises(ProcessExit) as info:
        await anext(results)
    # The first task timed out after Elixir's default 5 s; cpu_count had started.
    assert info.value.reason == ("timeout", ("Task.Supervised.stream", 5))
    assert sorted(started) == list(range(n))
    assert await only_me_left()


async def test_async_stream_takes_an_async_iterable() -> None:
    async def ticks() -> AsyncIterator[int]:
        for i in range(4):
            await Process.sleep(1)
            yield i

    stream = Task.async_stream(ticks(), double, max_concurrency=2)
    assert [r async for r in stream] == [("ok", 0), ("ok", 2), ("ok", 4), ("ok", 6)]
    assert await only_me_left()


async def test_async_stream_closes_and_reraises_when_the_input_fails() -> None:
    def source() -> Iterator[Any]:
        yield 1
        yield "nap forever"
        raise KeyError("input broke")

    async def work(x: Any) -> Any:
        if x == "nap forever":
            await Process.sleep(None)
        return x

    got = []
    with pytest.raises(KeyError):
        async for r in Task.async_stream(source(), work, max_concurrency=5):
            got.append(r)
    assert got == []
    assert await only_me_left()
    assert await mailbox_now() == []


async def test_async_stream_left_with_async_with_stops_its_tasks_even_on_an_exception() -> None:
    with pytest.raises(ZeroDivisionError):
        async with Task.async_stream([0, None, None], nap_or_forever, timeout=None) as results:
            assert await anext(results) == ("ok", 0)
            1 / 0  # noqa: B018
    assert await only_me_left()
    assert await mailbox_now() == []


async def test_async_stream_abandoned_without_close_leaves_no_mail_and_ends_with_its_consumer() -> (
    None
):
    me = self()

    async def consumer() -> None:
        async for first in Task.async_stream(
            [0, None, None, None], nap_or_forever, max_concurrency=4, timeout=None
        ):
            send(me, ("first", first))
            break  # no aclose: the run is abandoned
        await wait_all_blocked()
        send(me, ("mailbox", Process.info(self(), "messages"), len(Process.list())))
        await receive(lambda m: m == "go")

    pid, ref = spawn_monitor(consumer)
    assert await receive(("first", ANY)) == ("first", ("ok", 0))
    # The consumer, its coordinator and three tasks; nothing queued for the consumer.
    assert await receive(("mailbox", ANY, ANY)) == ("mailbox", [], 6)
    send(pid, "go")
    assert (await receive(Down(ref, ANY, ANY, ANY))).reason == "normal"
    assert await only_me_left()


async def test_a_stream_run_belongs_to_the_process_that_started_it() -> None:
    results = aiter(Task.async_stream([1, 2], double, max_concurrency=1))
    assert await anext(results) == ("ok", 2)
    me = self()

    async def thief() -> None:
        try:
            await anext(results)
        except ValueError as e:
            send(me, str(e))

    tether.spawn(thief)
    message = await receive(str)
    assert message.startswith("Task.async_stream: a stream run belongs to the process")
    assert await anext(results) == ("ok", 4)
    with pytest.raises(StopAsyncIteration):
        await anext(results)


async def test_a_trapping_consumer_exits_when_the_coordinator_is_killed() -> None:
    Process.flag("trap_exit", True)
    results = aiter(Task.async_stream([1, 2, 3], forever, max_concurrency=1, timeout=None))
    me = self()

    async def killer() -> None:
        await wait_all_blocked()
        coordinator = next(p for p in Process.info(me, "links"))
        Process.exit(coordinator, "kill")

    tether.spawn(killer)
    with pytest.raises(ProcessExit) as info:
        await anext(results)
    assert info.value.reason == ("killed", ("Task.Supervised.stream", None))
    assert await mailbox_now() == []


async def test_async_stream_exits_the_caller_with_elixirs_default_timeout() -> None:
    stream = Task.async_stream([6], nap)
    start = clock()
    with pytest.raises(ProcessExit) as info:
        [r async for r in stream]
    assert info.value.reason == ("timeout", ("Task.Supervised.stream", 5))
    assert clock() - start == 5
    assert await only_me_left()


async def test_async_stream_task_crash_kills_a_consumer_that_does_not_trap_exits() -> None:
    async def consumer() -> None:
        [r async for r in Task.async_stream([1, 2], quit_with)]

    _pid, ref = spawn_monitor(consumer)
    assert (await receive(Down(ref, ANY, ANY, ANY))).reason == 1
    assert await only_me_left()


# -- child specs (issue 11 item 7) -----------------------------------------------------


async def test_task_and_task_supervisor_are_one_liners_in_a_children_list() -> None:
    me = self()

    async def hello() -> None:
        send(me, "hello from a supervised task")

    ok, sup = await Supervisor.start_link(
        [(Task, hello), (TaskSupervisor, {"name": "jobs"})], strategy="one_for_one"
    )
    assert ok == "ok"
    assert await receive(str) == "hello from a supervised task"
    children = await Supervisor.which_children(sup)
    assert [(c[0], c[2]) for c in children] == [("jobs", "supervisor")]  # the temporary task ended
    task = await TaskSupervisor.async_("jobs", double, 21)
    assert await Task.await_(task) == 42


async def test_task_supervisor_child_spec_takes_a_dict_or_keywords() -> None:
    spec = TaskSupervisor.child_spec(name="jobs", max_children=3)
    assert spec == TaskSupervisor.child_spec({"name": "jobs", "max_children": 3})
    assert spec["id"] == "jobs" and spec["type"] == "supervisor"
    assert TaskSupervisor.child_spec()["id"] is TaskSupervisor
    via = ("via", tether.Registry, ("reg", "key"))
    assert TaskSupervisor.child_spec(name=via)["id"] == ("reg", "key")
    ok, sup = await Supervisor.start_link([spec], strategy="one_for_one")
    assert ok == "ok"
    jobs = Process.whereis("jobs")
    assert isinstance(jobs, Pid)
    assert await Supervisor.which_children(sup) == [("jobs", jobs, "supervisor", [TaskSupervisor])]


async def test_t8_stream_tasks_are_children_of_the_task_supervisor() -> None:
    _, sup = await TaskSupervisor.start_link()
    me = self()

    async def links(_: Any) -> None:
        send(me, set(Process.info(self(), "links")))

    assert [r async for r in TaskSupervisor.async_stream_nolink(sup, [1], links)] == [("ok", None)]
    assert await receive(set) == {sup}
    assert [r async for r in TaskSupervisor.async_stream(sup, [1], links)] == [("ok", None)]
    linked = await receive(set)
    assert sup in linked and me not in linked and len(linked) == 2  # sup and the coordinator


async def test_exit_messages_of_a_trapping_consumer_are_not_left_behind() -> None:
    Process.flag("trap_exit", True)
    stream = Task.async_stream(range(5), quit_with, max_concurrency=2)
    assert [r async for r in stream] == [("exit", i) for i in range(5)]
    await wait_all_blocked()
    assert await mailbox_now() == []


async def test_the_stream_coordinator_ignores_what_strangers_send_it() -> None:
    async def pester(x: int) -> int:
        for link in Process.info(self(), "links"):
            send(link, Down([x], "process", self(), "oops"))  # an unhashable ref
            send(link, ([x], "not a reply"))
            send(link, {"junk": x})
        return x

    stream = Task.async_stream(range(3), pester, max_concurrency=2)
    assert [r async for r in stream] == [("ok", 0), ("ok", 1), ("ok", 2)]
    assert await only_me_left()
