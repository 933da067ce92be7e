"""Elixir 1.14's ``lib/elixir/test/elixir/task_test.exs``, ported (T-1 … T-7, D-5).

One test per ExUnit test, in the original's order, each with the original's
describe block and name in a comment above it.  Elixir's milliseconds stay the
numbers of the original (``sleep(100)`` sleeps 100 ms, ``timeout=0.05`` is its
``timeout: 50``); every test runs on the virtual clock, so none of them waits.
The tests that have no meaning for tether are listed in ``README.md``.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

import tether
from tether import (
    ANY,
    Down,
    Exit,
    Pid,
    Process,
    ProcessExit,
    Ref,
    Supervisor,
    Task,
    make_ref,
    receive,
    self,
    send,
    spawn,
    spawn_monitor,
)

from ..conftest import mailbox_now

MOD = __name__
INF = "infinity"


# -- the original's helpers ------------------------------------------------------


async def wait_and_send(caller: Pid, atom: Any) -> Any:
    send(caller, "ready")
    await receive(lambda m: m is True)
    return send(caller, atom)


async def create_task_in_other_process() -> Task:
    caller = self()

    async def other() -> None:
        async def nil() -> None:
            return None

        send(caller, Task.async_(nil))

    spawn(other)
    task: Task = await receive(Task)
    return task


async def exit_with(reason: Any) -> None:
    tether.exit(reason)


async def create_dummy_task(reason: Any) -> Task:
    pid, ref = spawn_monitor(exit_with, reason)
    await receive(Down(ref, ANY, ANY, ANY))
    return Task(pid=pid, ref=ref, owner=self(), mfa=(MOD, "create_dummy_task", 1))


async def sleep(number: Any) -> Any:
    await Process.sleep(None if number == INF else number / 1000)
    return number


async def sleep_plus(number: int, extra: int) -> int:
    """The function of the MFA tests: the item comes first, then the extra args."""
    await Process.sleep(number / 1000)
    return number + extra


async def wait_until_down(task: Task) -> None:
    assert task.pid is not None
    ref = Process.monitor(task.pid)
    await assert_receive(Down(ref, ANY, ANY, ANY))


# -- ExUnit's assertions, said the tether way ---------------------------------------


async def assert_receive(*filters: Any, timeout: float = 0.1) -> Any:
    """ExUnit's ``assert_receive`` (100 ms, virtual here)."""
    try:
        return await receive(*filters, timeout=timeout)
    except TimeoutError:
        pytest.fail(f"no message matching {filters!r} arrived; mailbox: {await mailbox_now()!r}")


async def assert_received(*filters: Any) -> Any:
    return await assert_receive(*filters, timeout=0)


async def refute_received(*filters: Any) -> None:
    try:
        msg = await receive(*filters, timeout=0)
    except TimeoutError:
        return
    pytest.fail(f"unexpected message {msg!r}")


def value(v: Any) -> Any:
    """A filter for one exact message (``assert_receive :done``)."""
    return lambda m: m == v


async def catch_exit(awaitable: Any) -> Any:
    try:
        await awaitable
    except ProcessExit as e:
        return e.reason
    pytest.fail("expected the caller to exit")


def fake_task(pid: Pid | None = None, owner: Any = "self") -> Task:
    """``%Task{ref: make_ref(), owner: self(), pid: nil, mfa: {__MODULE__, :test, 1}}``."""
    return Task(
        pid=pid, ref=make_ref(), owner=self() if owner == "self" else owner, mfa=(MOD, "test", 1)
    )


async def to_list(stream: Any) -> list[Any]:
    return [x async for x in stream]


async def take(stream: Any, n: int) -> list[Any]:
    """``Enum.take(stream, n)``: leaving early closes the stream."""
    out: list[Any] = []
    async with stream as results:
        async for x in results:
            out.append(x)
            if len(out) == n:
                break
    return out


async def zip_values(stream: Any) -> list[tuple[Any, Any]]:
    """``Enum.zip(s, s)`` over ``s |> Stream.map(&elem(&1, 1))``: two runs at once."""
    a, b = aiter(stream), aiter(stream)
    out = []
    try:
        while True:
            try:
                x = await anext(a)
                y = await anext(b)
            except StopAsyncIteration:
                return out
            out.append((x[1], y[1]))
    finally:
        await a.aclose()
        await b.aclose()


async def run_stream(stream: Any) -> None:
    """``Stream.run(stream)``."""
    async for _ in stream:
        pass


async def forever() -> None:
    await Process.sleep(None)


# -- tests -------------------------------------------------------------------------


# task_test.exs: test "can be supervised directly"
async def test_can_be_supervised_directly() -> None:
    async def ok() -> str:
        return "ok"

    result = await Supervisor.start_link([(Task, ok)], strategy="one_for_one")
    assert result[0] == "ok" and isinstance(result[1], Pid)


# task_test.exs: test "generates child_spec/1"
# (``use Task`` makes a module's child_spec; tether's Task.child_spec and
# Supervisor.child_spec_of give the same two specs.)
async def test_generates_child_spec_1() -> None:
    async def hello() -> None:
        pass

    assert Task.child_spec(hello) == {
        "id": Task,
        "restart": "temporary",
        "start": (Task.start_link, (hello,)),
    }

    async def foo_bar() -> None:
        pass

    custom = Supervisor.child_spec_of(
        (Task, hello), id="id", restart="permanent", shutdown="infinity", start=(foo_bar, ())
    )
    assert custom == {
        "id": "id",
        "restart": "permanent",
        "shutdown": "infinity",
        "start": (foo_bar, ()),
    }


# task_test.exs: test "async/1"
async def test_async_1_starts_a_linked_monitored_task_that_replies_then_goes_down() -> None:
    parent = self()

    async def fun() -> Any:
        return await wait_and_send(parent, "done")

    task = Task.async_(fun)

    # Assert the struct
    assert type(task) is Task
    assert isinstance(task.pid, Pid)
    assert isinstance(task.ref, Ref)
    assert task.mfa == (MOD, fun.__qualname__, 0)

    # Assert the link
    assert task.pid in Process.info(self(), "links")

    await receive(value("ready"))

    # Assert the initial call
    assert Process.info(task.pid, "dictionary")["$initial_call"] == (MOD, fun.__qualname__, 0)

    # Run the task
    send(task.pid, True)

    # Assert response and monitoring messages
    ref = task.ref
    await assert_receive((ref, "done"))
    await assert_receive(Down(ref, ANY, ANY, "normal"))


# task_test.exs: test "async/3"
async def test_async_3_runs_a_function_with_arguments() -> None:
    task = Task.async_(wait_and_send, self(), "done")
    assert type(task) is Task
    assert task.mfa == (MOD, "wait_and_send", 2)

    assert task.pid in Process.info(self(), "links")

    await receive(value("ready"))
    assert Process.info(task.pid, "dictionary")["$initial_call"] == (MOD, "wait_and_send", 2)

    send(task.pid, True)
    assert await Task.await_(task) == "done"
    await assert_receive(value("done"))


# task_test.exs: test "async with $callers"
async def test_async_with_callers() -> None:
    grandparent = self()

    async def outer() -> None:
        parent = self()
        assert Process.get("$callers") == [grandparent]

        async def inner() -> None:
            assert Process.get("$callers") == [parent, grandparent]

        await Task.await_(Task.async_(inner))

    await Task.await_(Task.async_(outer))


# task_test.exs: test "start/1"
async def test_start_1_starts_an_unlinked_task() -> None:
    parent = self()

    async def fun() -> Any:
        return await wait_and_send(parent, "done")

    ok, pid = await Task.start(fun)
    assert ok == "ok"

    assert pid not in Process.info(self(), "links")

    await receive(value("ready"))

    assert Process.info(pid, "dictionary")["$initial_call"] == (MOD, fun.__qualname__, 0)

    send(pid, True)
    await assert_receive(value("done"))


# task_test.exs: test "start/3"
async def test_start_3_starts_an_unlinked_task_with_arguments() -> None:
    ok, pid = await Task.start(wait_and_send, self(), "done")
    assert ok == "ok"

    assert pid not in Process.info(self(), "links")

    await receive(value("ready"))

    assert Process.info(pid, "dictionary")["$initial_call"] == (MOD, "wait_and_send", 2)

    send(pid, True)
    await assert_receive(value("done"))


# task_test.exs: test "completed/1"
async def test_completed_1_is_a_task_without_a_process_that_awaits_its_result() -> None:
    task = Task.completed("done")
    assert type(task) is Task

    assert task.pid is None

    assert await Task.await_(task) == "done"


# task_test.exs: test "start_link/1"
async def test_start_link_1_starts_a_linked_task() -> None:
    parent = self()

    async def fun() -> Any:
        return await wait_and_send(parent, "done")

    ok, pid = await Task.start_link(fun)
    assert ok == "ok"

    assert pid in Process.info(self(), "links")

    await receive(value("ready"))

    assert Process.info(pid, "dictionary")["$initial_call"] == (MOD, fun.__qualname__, 0)

    send(pid, True)
    await assert_receive(value("done"))


# task_test.exs: test "start_link/3"
async def test_start_link_3_starts_a_linked_task_with_arguments() -> None:
    ok, pid = await Task.start_link(wait_and_send, self(), "done")
    assert ok == "ok"

    assert pid in Process.info(self(), "links")

    await receive(value("ready"))

    assert Process.info(pid, "dictionary")["$initial_call"] == (MOD, "wait_and_send", 2)

    send(pid, True)
    await assert_receive(value("done"))


# task_test.exs: test "start_link with $callers"
async def test_start_link_with_callers() -> None:
    grandparent = self()

    async def outer() -> None:
        parent = self()
        assert Process.get("$callers") == [grandparent]

        async def inner() -> None:
            assert Process.get("$callers") == [parent, grandparent]
            send(grandparent, "done")

        await Task.start_link(inner)

    await Task.start_link(outer)

    await assert_receive(value("done"))


# -- describe "ignore/1" --


# task_test.exs: describe "ignore/1", test "discards on time replies"
async def test_ignore_1_discards_on_time_replies() -> None:
    async def ok() -> str:
        return "ok"

    task = Task.async_(ok)
    await wait_until_down(task)
    assert await Task.ignore(task) == ("ok", "ok")
    assert await catch_exit(Task.await_(task, 0)) == ("timeout", ("Task.await", task, 0))


# task_test.exs: describe "ignore/1", test "discards late replies"
async def test_ignore_1_discards_late_replies() -> None:
    async def go() -> str:
        await receive(value("go"))
        return "ok"

    task = Task.async_(go)
    assert await Task.ignore(task) is None
    assert task.pid is not None
    send(task.pid, "go")
    await wait_until_down(task)
    assert await catch_exit(Task.await_(task, 0)) == ("timeout", ("Task.await", task, 0))


# task_test.exs: describe "ignore/1", test "discards on-time failures"
async def test_ignore_1_discards_on_time_failures() -> None:
    Process.flag("trap_exit", True)
    task = Task.async_(exit_with, "oops")
    await wait_until_down(task)
    assert await Task.ignore(task) == ("exit", "oops")
    assert await catch_exit(Task.await_(task, 0)) == ("timeout", ("Task.await", task, 0))


# task_test.exs: describe "ignore/1", test "discards late failures"
async def test_ignore_1_discards_late_failures() -> None:
    async def go() -> None:
        await receive(value("go"))
        tether.exit("oops")

    task = Task.async_(go)
    assert await Task.ignore(task) is None
    assert task.pid is not None
    send(task.pid, "go")
    await wait_until_down(task)
    assert await catch_exit(Task.await_(task, 0)) == ("timeout", ("Task.await", task, 0))


# task_test.exs: describe "ignore/1", test "exits on :noconnection"
async def test_ignore_1_exits_on_noconnection() -> None:
    ref = make_ref()
    task = Task(pid=self(), ref=ref, owner=self(), mfa=(MOD, "test", 1))
    send(self(), Down(ref, self(), self(), "noconnection"))
    assert (await catch_exit(Task.ignore(task)))[0] == ("nodedown", "nonode@nohost")


# -- describe "await/2" --


# task_test.exs: describe "await/2", test "demonitors and unalias on timeout"
async def test_await_2_demonitors_and_unalias_on_timeout() -> None:
    async def go() -> str:
        await receive(value("go"))
        return "done"

    task = Task.async_(go)

    assert await catch_exit(Task.await_(task, 0)) == ("timeout", ("Task.await", task, 0))
    assert task.pid is not None
    send(task.pid, "go")
    ref = task.ref

    await wait_until_down(task)
    await refute_received((ref, "done"))
    await refute_received(Down(ref, ANY, ANY, ANY))


# task_test.exs: describe "await/2", test "exits on timeout"
async def test_await_2_exits_on_timeout() -> None:
    task = fake_task()
    assert await catch_exit(Task.await_(task, 0)) == ("timeout", ("Task.await", task, 0))


# task_test.exs: describe "await/2", test "exits on normal exit"
async def test_await_2_exits_on_normal_exit() -> None:
    task = Task.async_(exit_with, "normal")
    assert await catch_exit(Task.await_(task)) == ("normal", ("Task.await", task, 5))


# task_test.exs: describe "await/2", test "exits on task error"
async def test_await_2_exits_on_task_error() -> None:
    Process.flag("trap_exit", True)

    async def oops() -> None:
        raise RuntimeError("oops")

    task = Task.async_(oops)
    reason, mfa = await catch_exit(Task.await_(task))
    assert type(reason) is RuntimeError and reason.args == ("oops",)
    assert mfa == ("Task.await", task, 5)


# task_test.exs: describe "await/2", test "exits on task exit"
async def test_await_2_exits_on_task_exit() -> None:
    Process.flag("trap_exit", True)
    task = Task.async_(exit_with, "unknown")
    assert await catch_exit(Task.await_(task)) == ("unknown", ("Task.await", task, 5))


# task_test.exs: describe "await/2", test "exits on :noconnection"
async def test_await_2_exits_on_noconnection() -> None:
    ref = make_ref()
    task = Task(pid=self(), ref=ref, owner=self(), mfa=(MOD, "test", 1))
    send(self(), Down(ref, "process", self(), "noconnection"))
    assert (await catch_exit(Task.await_(task)))[0] == ("nodedown", "nonode@nohost")


# task_test.exs: describe "await/2", test "exits on :noconnection from named monitor"
async def test_await_2_exits_on_noconnection_from_named_monitor() -> None:
    ref = make_ref()
    task = Task(pid=None, ref=ref, owner=self(), mfa=(MOD, "test", 1))
    send(self(), Down(ref, "process", ("name", "node"), "noconnection"))
    assert (await catch_exit(Task.await_(task)))[0] == ("nodedown", "node")


# task_test.exs: describe "await/2", test "raises when invoked from a non-owner process"
async def test_await_2_raises_when_invoked_from_a_non_owner_process() -> None:
    task = await create_task_in_other_process()

    message = (
        f"Task.await_: task {task!r} must be queried from the owner but was queried from {self()!r}"
    )

    with pytest.raises(ValueError) as info:
        await Task.await_(task, 1)
    assert str(info.value) == message


# -- describe "await_many/2" --


async def identity(v: Any) -> Any:
    return v


# task_test.exs: describe "await_many/2", test "returns list of replies"
async def test_await_many_2_returns_list_of_replies() -> None:
    tasks = [Task.async_(identity, val) for val in [1, 3, 9]]
    assert await Task.await_many(tasks) == [1, 3, 9]


# task_test.exs: describe "await_many/2",
#   test "returns replies in input order ignoring response order"
async def test_await_many_2_returns_replies_in_input_order_ignoring_response_order() -> None:
    tasks = [fake_task() for _ in range(3)]
    ref_1, ref_2, ref_3 = (t.ref for t in tasks)

    send(self(), (ref_2, 3))
    send(self(), (ref_3, 9))
    send(self(), (ref_1, 1))
    assert await Task.await_many(tasks) == [1, 3, 9]


# task_test.exs: describe "await_many/2", test "returns an empty list immediately"
async def test_await_many_2_returns_an_empty_list_immediately() -> None:
    assert await Task.await_many([]) == []


# task_test.exs: describe "await_many/2", test "ignores messages from other processes"
async def test_await_many_2_ignores_messages_from_other_processes() -> None:
    other_ref = make_ref()
    tasks = [Task.async_(identity, val) for val in ["a", "b"]]
    send(self(), other_ref)
    send(self(), (other_ref, "z"))
    send(self(), Down(other_ref, "process", 1, "goodbye"))
    assert await Task.await_many(tasks) == ["a", "b"]
    await assert_received(value(other_ref))
    await assert_received((other_ref, "z"))
    await assert_received(Down(other_ref, "process", 1, "goodbye"))


# task_test.exs: describe "await_many/2", test "ignores additional messages after reply"
async def test_await_many_2_ignores_additional_messages_after_reply() -> None:
    tasks = [fake_task() for _ in range(2)]
    ref_1, ref_2 = (t.ref for t in tasks)

    send(self(), (ref_2, "b"))
    send(self(), (ref_2, "other"))
    send(self(), (ref_1, "a"))
    assert await Task.await_many(tasks) == ["a", "b"]
    await assert_received((ref_2, "other"))


# task_test.exs: describe "await_many/2", test "exits on timeout"
async def test_await_many_2_exits_on_timeout() -> None:
    tasks = [Task.async_(forever)]
    assert await catch_exit(Task.await_many(tasks, 0)) == (
        "timeout",
        ("Task.await_many", tasks, 0),
    )


# task_test.exs: describe "await_many/2", test "exits with same reason when task exits"
async def test_await_many_2_exits_with_same_reason_when_task_exits() -> None:
    tasks = [Task.async_(exit_with, "normal")]
    assert await catch_exit(Task.await_many(tasks)) == ("normal", ("Task.await_many", tasks, 5))


# task_test.exs: describe "await_many/2", test "exits immediately when any task exits"
async def test_await_many_2_exits_immediately_when_any_task_exits() -> None:
    tasks = [Task.async_(forever), Task.async_(exit_with, "normal")]

    assert await catch_exit(Task.await_many(tasks)) == ("normal", ("Task.await_many", tasks, 5))


# task_test.exs: describe "await_many/2", test "exits immediately when any task crashes"
async def test_await_many_2_exits_immediately_when_any_task_crashes() -> None:
    Process.flag("trap_exit", True)

    tasks = [Task.async_(forever), Task.async_(exit_with, "unknown")]

    assert await catch_exit(Task.await_many(tasks)) == ("unknown", ("Task.await_many", tasks, 5))

    # Make sure all monitors are cleared up afterwards too
    for t in tasks:
        assert t.pid is not None
        Process.exit(t.pid, "kill")
    await refute_received(Down)


# task_test.exs: describe "await_many/2", test "exits immediately on any task error"
async def test_await_many_2_exits_immediately_on_any_task_error() -> None:
    Process.flag("trap_exit", True)

    async def oops() -> None:
        raise RuntimeError("oops")

    tasks = [Task.async_(forever), Task.async_(oops)]

    reason, mfa = await catch_exit(Task.await_many(tasks))
    assert type(reason) is RuntimeError and reason.args == ("oops",)
    assert mfa == ("Task.await_many", tasks, 5)


# task_test.exs: describe "await_many/2", test "exits immediately on :noconnection"
async def test_await_many_2_exits_immediately_on_noconnection() -> None:
    ref = make_ref()
    tasks = [Task.async_(forever), Task(pid=self(), ref=ref, owner=self(), mfa=(MOD, "test", 1))]

    send(self(), Down(ref, "process", self(), "noconnection"))
    assert (await catch_exit(Task.await_many(tasks)))[0] == ("nodedown", "nonode@nohost")


# task_test.exs: describe "await_many/2",
#   test "exits immediately on :noconnection from named monitor"
async def test_await_many_2_exits_immediately_on_noconnection_from_named_monitor() -> None:
    ref = make_ref()
    tasks = [Task.async_(forever), Task(pid=None, ref=ref, owner=self(), mfa=(MOD, "test", 1))]

    send(self(), Down(ref, "process", ("name", "node"), "noconnection"))
    assert (await catch_exit(Task.await_many(tasks)))[0] == ("nodedown", "node")


# task_test.exs: describe "await_many/2", test "raises when invoked from a non-owner process"
async def test_await_many_2_raises_when_invoked_from_a_non_owner_process() -> None:
    bad_task = await create_task_in_other_process()
    tasks = [Task.async_(forever), bad_task]

    message = (
        f"Task.await_many: task {bad_task!r} must be queried from the owner "
        f"but was queried from {self()!r}"
    )

    with pytest.raises(ValueError) as info:
        await Task.await_many(tasks, 1)
    assert str(info.value) == message


# -- describe "yield/2" --


# task_test.exs: describe "yield/2",
#   test "returns {:ok, result} when reply and :DOWN in message queue"
async def test_yield_2_returns_ok_result_when_reply_and_down_in_message_queue() -> None:
    task = fake_task()
    send(self(), (task.ref, "result"))
    send(self(), Down(task.ref, "process", self(), "abnormal"))
    assert await Task.yield_(task, 0) == ("ok", "result")
    await refute_received(Down)


# task_test.exs: describe "yield/2", test "returns nil on timeout"
async def test_yield_2_returns_nil_on_timeout() -> None:
    task = fake_task()
    assert await Task.yield_(task, 0) is None


# task_test.exs: describe "yield/2", test "return exit on normal exit"
async def test_yield_2_return_exit_on_normal_exit() -> None:
    task = Task.async_(exit_with, "normal")
    assert await Task.yield_(task) == ("exit", "normal")


# task_test.exs: describe "yield/2", test "exits on :noconnection"
async def test_yield_2_exits_on_noconnection() -> None:
    ref = make_ref()
    task = Task(pid=self(), ref=ref, owner=self(), mfa=(MOD, "test", 1))
    send(self(), Down(ref, self(), self(), "noconnection"))
    assert (await catch_exit(Task.yield_(task)))[0] == ("nodedown", "nonode@nohost")


# task_test.exs: describe "yield/2", test "raises when invoked from a non-owner process"
async def test_yield_2_raises_when_invoked_from_a_non_owner_process() -> None:
    task = await create_task_in_other_process()

    message = (
        f"Task.yield_: task {task!r} must be queried from the owner but was queried from {self()!r}"
    )

    with pytest.raises(ValueError) as info:
        await Task.yield_(task, 1)
    assert str(info.value) == message


# -- describe "yield_many/2" --


# task_test.exs: describe "yield_many/2",
#   test "returns {:ok, result} when reply and :DOWN in message queue"
async def test_yield_many_2_returns_ok_result_when_reply_and_down_in_message_queue() -> None:
    task = fake_task()
    send(self(), (task.ref, "result"))
    send(self(), Down(task.ref, "process", self(), "abnormal"))
    assert await Task.yield_many([task], 0) == [(task, ("ok", "result"))]
    await refute_received(Down)


# task_test.exs: describe "yield_many/2", test "returns nil on timeout"
async def test_yield_many_2_returns_nil_on_timeout() -> None:
    task = fake_task()
    assert await Task.yield_many([task], 0) == [(task, None)]


# task_test.exs: describe "yield_many/2", test "return exit on normal exit"
async def test_yield_many_2_return_exit_on_normal_exit() -> None:
    task = Task.async_(exit_with, "normal")
    assert await Task.yield_many([task]) == [(task, ("exit", "normal"))]


# task_test.exs: describe "yield_many/2", test "exits on :noconnection"
async def test_yield_many_2_exits_on_noconnection() -> None:
    ref = make_ref()
    task = Task(pid=self(), ref=ref, owner=self(), mfa=(MOD, "test", 1))
    send(self(), Down(ref, "process", self(), "noconnection"))
    assert (await catch_exit(Task.yield_many([task])))[0] == ("nodedown", "nonode@nohost")


# task_test.exs: describe "yield_many/2", test "raises when invoked from a non-owner process"
async def test_yield_many_2_raises_when_invoked_from_a_non_owner_process() -> None:
    task = await create_task_in_other_process()

    message = (
        f"Task.yield_many: task {task!r} must be queried from the owner "
        f"but was queried from {self()!r}"
    )

    with pytest.raises(ValueError) as info:
        await Task.yield_many([task], 1)
    assert str(info.value) == message


# task_test.exs: describe "yield_many/2", test "returns results from multiple tasks"
async def test_yield_many_2_returns_results_from_multiple_tasks() -> None:
    task1, task2, task3 = fake_task(), fake_task(), fake_task()

    send(self(), (task1.ref, "result"))
    send(self(), Down(task3.ref, "process", self(), "normal"))

    assert await Task.yield_many([task1, task2, task3], 0) == [
        (task1, ("ok", "result")),
        (task2, None),
        (task3, ("exit", "normal")),
    ]


# task_test.exs: describe "yield_many/2", test "returns results on infinity timeout"
async def test_yield_many_2_returns_results_on_infinity_timeout() -> None:
    task1, task2, task3 = fake_task(), fake_task(), fake_task()

    send(self(), (task1.ref, "result"))
    send(self(), (task2.ref, "result"))
    send(self(), Down(task3.ref, "process", self(), "normal"))

    assert await Task.yield_many([task1, task2, task3], None) == [
        (task1, ("ok", "result")),
        (task2, ("ok", "result")),
        (task3, ("exit", "normal")),
    ]


# -- describe "shutdown/2" --


# task_test.exs: describe "shutdown/2",
#   test "returns {:ok, result} when reply and abnormal :DOWN in message queue"
async def test_shutdown_2_returns_ok_result_when_reply_and_abnormal_down_in_message_queue() -> None:
    task = await create_dummy_task("abnormal")
    send(self(), (task.ref, "result"))
    send(self(), Down(task.ref, "process", task.pid, "abnormal"))
    assert await Task.shutdown(task) == ("ok", "result")
    await refute_received(Down)


# task_test.exs: describe "shutdown/2",
#   test "returns {:ok, result} when reply and normal :DOWN in message queue"
async def test_shutdown_2_returns_ok_result_when_reply_and_normal_down_in_message_queue() -> None:
    task = await create_dummy_task("normal")
    send(self(), (task.ref, "result"))
    send(self(), Down(task.ref, "process", task.pid, "normal"))
    assert await Task.shutdown(task) == ("ok", "result")
    await refute_received(Down)


# task_test.exs: describe "shutdown/2",
#   test "returns {:ok, result} when reply and shut down :DOWN in message queue"
async def test_shutdown_2_returns_ok_result_when_reply_and_shut_down_down_in_message_queue() -> (
    None
):
    task = await create_dummy_task("shutdown")
    send(self(), (task.ref, "result"))
    send(self(), Down(task.ref, "process", task.pid, "shutdown"))
    assert await Task.shutdown(task) == ("ok", "result")
    await refute_received(Down)


# task_test.exs: describe "shutdown/2", test "returns nil on shutting down task"
async def test_shutdown_2_returns_nil_on_shutting_down_task() -> None:
    task = Task.async_(sleep, INF)
    assert await Task.shutdown(task) is None


# task_test.exs: describe "shutdown/2", test "returns exit on abnormal :DOWN in message queue"
async def test_shutdown_2_returns_exit_on_abnormal_down_in_message_queue() -> None:
    task = await create_dummy_task("abnormal")
    send(self(), Down(task.ref, "process", task.pid, "abnormal"))
    assert await Task.shutdown(task) == ("exit", "abnormal")


# task_test.exs: describe "shutdown/2", test "returns exit on normal :DOWN in message queue"
async def test_shutdown_2_returns_exit_on_normal_down_in_message_queue() -> None:
    task = await create_dummy_task("normal")
    send(self(), Down(task.ref, "process", task.pid, "normal"))
    assert await Task.shutdown(task) == ("exit", "normal")


# task_test.exs: describe "shutdown/2", test "returns nil on shutdown :DOWN in message queue"
async def test_shutdown_2_returns_nil_on_shutdown_down_in_message_queue() -> None:
    task = await create_dummy_task("shutdown")
    send(self(), Down(task.ref, "process", task.pid, "shutdown"))
    assert await Task.shutdown(task) is None


# task_test.exs: describe "shutdown/2", test "returns exit on killed :DOWN in message queue"
async def test_shutdown_2_returns_exit_on_killed_down_in_message_queue() -> None:
    task = await create_dummy_task("killed")
    send(self(), Down(task.ref, "process", task.pid, "killed"))
    assert await Task.shutdown(task) == ("exit", "killed")


# task_test.exs: describe "shutdown/2", test "exits on noconnection :DOWN in message queue"
async def test_shutdown_2_exits_on_noconnection_down_in_message_queue() -> None:
    task = await create_dummy_task("noconnection")
    send(self(), Down(task.ref, "process", task.pid, "noconnection"))

    assert await catch_exit(Task.shutdown(task)) == (
        ("nodedown", tether.node()),
        ("Task.shutdown", task, 5),
    )


# task_test.exs: describe "shutdown/2", test "raises if task PID is nil"
async def test_shutdown_2_raises_if_task_pid_is_nil() -> None:
    task = fake_task(owner=None)
    message = f"Task.shutdown: task {task!r} does not have an associated task process"
    with pytest.raises(ValueError) as info:
        await Task.shutdown(task)
    assert str(info.value) == message


# task_test.exs: describe "shutdown/2", test "raises when invoked from a non-owner process"
async def test_shutdown_2_raises_when_invoked_from_a_non_owner_process() -> None:
    task = await create_task_in_other_process()

    message = (
        f"Task.shutdown: task {task!r} must be queried from the owner "
        f"but was queried from {self()!r}"
    )

    with pytest.raises(ValueError) as info:
        await Task.shutdown(task)
    assert str(info.value) == message


async def trapping_ready(caller: Pid) -> None:
    Process.flag("trap_exit", True)
    await wait_and_send(caller, "ready")
    await Process.sleep(None)


# task_test.exs: describe "shutdown/2", test "returns nil on killing task"
async def test_shutdown_2_returns_nil_on_killing_task() -> None:
    task = Task.async_(trapping_ready, self())

    await receive(value("ready"))

    assert await Task.shutdown(task, "brutal_kill") is None
    await refute_received(Down)


# task_test.exs: describe "shutdown/2", test "returns {:exit, :noproc} if task handled"
async def test_shutdown_2_returns_exit_noproc_if_task_handled() -> None:
    task = await create_dummy_task("noproc")
    assert await Task.shutdown(task) == ("exit", "noproc")


# -- describe "shutdown/2 with :brutal_kill" --


# task_test.exs: describe "shutdown/2 with :brutal_kill",
#   test "returns {:ok, result} when reply and abnormal :DOWN in message queue"
async def test_shutdown_2_with_brutal_kill_returns_ok_result_when_reply_and_abnormal_down() -> None:
    task = await create_dummy_task("abnormal")
    send(self(), (task.ref, "result"))
    send(self(), Down(task.ref, "process", task.pid, "abnormal"))
    assert await Task.shutdown(task, "brutal_kill") == ("ok", "result")
    await refute_received(Down)


# task_test.exs: describe "shutdown/2 with :brutal_kill",
#   test "returns {:ok, result} when reply and normal :DOWN in message queue"
async def test_shutdown_2_with_brutal_kill_returns_ok_result_when_reply_and_normal_down() -> None:
    task = await create_dummy_task("normal")
    send(self(), (task.ref, "result"))
    send(self(), Down(task.ref, "process", task.pid, "normal"))
    assert await Task.shutdown(task, "brutal_kill") == ("ok", "result")
    await refute_received(Down)


# task_test.exs: describe "shutdown/2 with :brutal_kill",
#   test "returns {:ok, result} when reply and shut down :DOWN in message queue"
async def test_shutdown_2_with_brutal_kill_returns_ok_result_when_reply_and_shut_down_down() -> (
    None
):
    task = await create_dummy_task("shutdown")
    send(self(), (task.ref, "result"))
    send(self(), Down(task.ref, "process", task.pid, "shutdown"))
    assert await Task.shutdown(task, "brutal_kill") == ("ok", "result")
    await refute_received(Down)


# task_test.exs: describe "shutdown/2 with :brutal_kill",
#   test "returns nil on killed :DOWN in message queue"
async def test_shutdown_2_with_brutal_kill_returns_nil_on_killed_down_in_message_queue() -> None:
    task = await create_dummy_task("killed")
    send(self(), Down(task.ref, "process", task.pid, "killed"))
    assert await Task.shutdown(task, "brutal_kill") is None


# task_test.exs: describe "shutdown/2 with :brutal_kill",
#   test "returns exit on abnormal :DOWN in message queue"
async def test_shutdown_2_with_brutal_kill_returns_exit_on_abnormal_down_in_message_queue() -> None:
    task = await create_dummy_task("abnormal")
    send(self(), Down(task.ref, "process", task.pid, "abnormal"))
    assert await Task.shutdown(task, "brutal_kill") == ("exit", "abnormal")


# task_test.exs: describe "shutdown/2 with :brutal_kill",
#   test "returns exit on normal :DOWN in message queue"
async def test_shutdown_2_with_brutal_kill_returns_exit_on_normal_down_in_message_queue() -> None:
    task = await create_dummy_task("normal")
    send(self(), Down(task.ref, "process", task.pid, "normal"))
    assert await Task.shutdown(task, "brutal_kill") == ("exit", "normal")


# task_test.exs: describe "shutdown/2 with :brutal_kill",
#   test "returns exit on shutdown :DOWN in message queue"
async def test_shutdown_2_with_brutal_kill_returns_exit_on_shutdown_down_in_message_queue() -> None:
    task = await create_dummy_task("shutdown")
    send(self(), Down(task.ref, "process", task.pid, "shutdown"))
    assert await Task.shutdown(task, "brutal_kill") == ("exit", "shutdown")


# task_test.exs: describe "shutdown/2 with :brutal_kill",
#   test "exits on noconnection :DOWN in message queue"
async def test_shutdown_2_with_brutal_kill_exits_on_noconnection_down_in_message_queue() -> None:
    task = await create_dummy_task("noconnection")
    send(self(), Down(task.ref, "process", task.pid, "noconnection"))

    assert await catch_exit(Task.shutdown(task, "brutal_kill")) == (
        ("nodedown", tether.node()),
        ("Task.shutdown", task, "brutal_kill"),
    )


# task_test.exs: describe "shutdown/2 with :brutal_kill",
#   test "returns exit on killing task after shutdown timeout"
async def test_shutdown_2_with_brutal_kill_returns_exit_on_killing_task_after_timeout() -> None:
    task = Task.async_(trapping_ready, self())

    await receive(value("ready"))
    assert await Task.shutdown(task, 0.001) == ("exit", "killed")


# task_test.exs: describe "shutdown/2 with :brutal_kill",
#   test "returns {:exit, :noproc} if task handled"
async def test_shutdown_2_with_brutal_kill_returns_exit_noproc_if_task_handled() -> None:
    task = await create_dummy_task("noproc")
    assert await Task.shutdown(task, "brutal_kill") == ("exit", "noproc")


# -- describe "async_stream/2" --


# task_test.exs: describe "async_stream/2", test "timeout"
async def test_async_stream_2_timeout() -> None:
    stream = Task.async_stream([INF], sleep, timeout=0)
    assert await catch_exit(to_list(stream)) == ("timeout", ("Task.Supervised.stream", 0))

    assert await mailbox_now() == []


async def sleep_hundreds(n: int) -> Any:
    return await sleep(n * 100)


# task_test.exs: describe "async_stream/2", test "streams an enumerable with ordered: false"
async def test_async_stream_2_streams_an_enumerable_with_ordered_false() -> None:
    stream = Task.async_stream(range(4, 0, -1), sleep_hundreds, max_concurrency=1, ordered=False)
    assert await to_list(stream) == [("ok", 400), ("ok", 300), ("ok", 200), ("ok", 100)]

    stream = Task.async_stream(range(4, 0, -1), sleep_hundreds, max_concurrency=4, ordered=False)
    assert await to_list(stream) == [("ok", 100), ("ok", 200), ("ok", 300), ("ok", 400)]


# task_test.exs: describe "async_stream/2",
#   test "streams an enumerable with ordered: false, on_timeout: :kill_task"
async def test_async_stream_2_streams_an_enumerable_with_ordered_false_on_timeout_kill_task() -> (
    None
):
    stream = Task.async_stream(
        [100, 1, 100, 1],
        sleep,
        max_concurrency=4,
        ordered=False,
        on_timeout="kill_task",
        timeout=0.05,
    )
    assert await to_list(stream) == [
        ("ok", 1),
        ("ok", 1),
        ("exit", "timeout"),
        ("exit", "timeout"),
    ]

    assert await mailbox_now() == []


# task_test.exs: describe "async_stream/2", test "streams an enumerable with infinite timeout"
async def test_async_stream_2_streams_an_enumerable_with_infinite_timeout() -> None:
    async def ok(_: Any) -> str:
        return "ok"

    assert await to_list(Task.async_stream([1], ok, timeout=None)) == [("ok", "ok")]


# task_test.exs: describe "async_stream/2", test "does not allow streaming with max_concurrency = 0"
async def test_async_stream_2_does_not_allow_streaming_with_max_concurrency_0() -> None:
    async def ok(_: Any) -> str:
        return "ok"

    with pytest.raises(ValueError, match="max_concurrency must be an integer greater than zero"):
        await to_list(Task.async_stream([1], ok, max_concurrency=0))


# task_test.exs: describe "async_stream/2", test "streams with fake down messages on the inbox"
async def test_async_stream_2_streams_with_fake_down_messages_on_the_inbox() -> None:
    parent = self()

    async def fake_downs(_: Any) -> str:
        for link in Process.info(self(), "links"):
            send(link, Down(make_ref(), "process", parent, "oops"))
        return "ok"

    assert await to_list(Task.async_stream(["ok"], fake_downs)) == [("ok", "ok")]


# task_test.exs: describe "async_stream/2", test "with $callers"
async def test_async_stream_2_with_callers() -> None:
    grandparent = self()

    async def outer(_: Any) -> None:
        parent = self()
        assert Process.get("$callers") == [grandparent]

        async def inner(_: Any) -> None:
            assert Process.get("$callers") == [parent, grandparent]
            send(grandparent, "done")

        await run_stream(Task.async_stream([1], inner))

    await run_stream(Task.async_stream([1], outer))

    await assert_receive(value("done"))


# task_test.exs: describe "async_stream/2", test "consuming from another process"
async def test_async_stream_2_consuming_from_another_process() -> None:
    parent = self()

    async def to_parent(x: Any) -> Any:
        return send(parent, x)

    stream = Task.async_stream([1, 2, 3], to_parent)
    await Task.start(run_stream, stream)
    await assert_receive(value(1))
    await assert_receive(value(2))
    await assert_receive(value(3))


# -- for {desc, concurrency} <- [==: 4, <: 2, >: 8]:
#    describe "async_stream with max_concurrency #{desc} tasks" --

CONCURRENCY = pytest.mark.parametrize("concurrency", [4, 2, 8], ids=["eq", "lt", "gt"])


# task_test.exs: describe "async_stream with max_concurrency ... tasks",
#   test "streams an enumerable with fun"
@CONCURRENCY
async def test_async_stream_max_concurrency_streams_an_enumerable_with_fun(
    concurrency: int,
) -> None:
    stream = Task.async_stream(range(1, 5), sleep, max_concurrency=concurrency)
    assert await to_list(stream) == [("ok", 1), ("ok", 2), ("ok", 3), ("ok", 4)]


# task_test.exs: describe "async_stream with max_concurrency ... tasks",
#   test "streams an enumerable with mfa"
# (async_stream/5: the item is the first argument, the extra args follow.)
@CONCURRENCY
async def test_async_stream_max_concurrency_streams_an_enumerable_with_mfa(
    concurrency: int,
) -> None:
    stream = Task.async_stream(range(1, 5), sleep_plus, 0, max_concurrency=concurrency)
    assert await to_list(stream) == [("ok", 1), ("ok", 2), ("ok", 3), ("ok", 4)]


# task_test.exs: describe "async_stream with max_concurrency ... tasks",
#   test "streams an enumerable without leaking tasks"
@CONCURRENCY
async def test_async_stream_max_concurrency_streams_an_enumerable_without_leaking_tasks(
    concurrency: int,
) -> None:
    stream = Task.async_stream(range(1, 5), sleep, max_concurrency=concurrency)
    assert await to_list(stream) == [("ok", 1), ("ok", 2), ("ok", 3), ("ok", 4)]

    assert await mailbox_now() == []


# task_test.exs: describe "async_stream with max_concurrency ... tasks",
#   test "streams an enumerable with slowest first"
@CONCURRENCY
async def test_async_stream_max_concurrency_streams_an_enumerable_with_slowest_first(
    concurrency: int,
) -> None:
    Process.flag("trap_exit", True)

    stream = Task.async_stream(range(4, 0, -1), sleep, max_concurrency=concurrency)
    assert await to_list(stream) == [("ok", 4), ("ok", 3), ("ok", 2), ("ok", 1)]


# task_test.exs: describe "async_stream with max_concurrency ... tasks",
#   test "streams an enumerable with exits"
@CONCURRENCY
async def test_async_stream_max_concurrency_streams_an_enumerable_with_exits(
    concurrency: int,
) -> None:
    Process.flag("trap_exit", True)

    stream = Task.async_stream(range(1, 5), exit_with, max_concurrency=concurrency)
    assert await to_list(stream) == [("exit", 1), ("exit", 2), ("exit", 3), ("exit", 4)]

    await refute_received(Exit)


# task_test.exs: describe "async_stream with max_concurrency ... tasks",
#   test "shuts down unused tasks"
@CONCURRENCY
async def test_async_stream_max_concurrency_shuts_down_unused_tasks(concurrency: int) -> None:
    stream = Task.async_stream([0, INF, INF, INF], sleep, max_concurrency=concurrency)
    assert await take(stream, 1) == [("ok", 0)]

    assert Process.info(self(), "links") == []


# task_test.exs: describe "async_stream with max_concurrency ... tasks",
#   test "shuts down unused tasks without leaking messages"
@CONCURRENCY
async def test_async_stream_max_concurrency_shuts_down_unused_tasks_without_leaking_messages(
    concurrency: int,
) -> None:
    stream = Task.async_stream([0, INF, INF, INF], sleep, max_concurrency=concurrency)
    assert await take(stream, 1) == [("ok", 0)]

    assert await mailbox_now() == []


# task_test.exs: describe "async_stream with max_concurrency ... tasks",
#   test "is zippable on success"
@CONCURRENCY
async def test_async_stream_max_concurrency_is_zippable_on_success(concurrency: int) -> None:
    stream = Task.async_stream(range(1, 5), sleep, max_concurrency=concurrency)
    assert await zip_values(stream) == [(1, 1), (2, 2), (3, 3), (4, 4)]


# task_test.exs: describe "async_stream with max_concurrency ... tasks",
#   test "is zippable on failure"
@CONCURRENCY
async def test_async_stream_max_concurrency_is_zippable_on_failure(concurrency: int) -> None:
    Process.flag("trap_exit", True)
    stream = Task.async_stream(range(1, 5), exit_with, max_concurrency=concurrency)
    assert await zip_values(stream) == [(1, 1), (2, 2), (3, 3), (4, 4)]


# task_test.exs: describe "async_stream with max_concurrency ... tasks",
#   test "is zippable with slowest first"
@CONCURRENCY
async def test_async_stream_max_concurrency_is_zippable_with_slowest_first(
    concurrency: int,
) -> None:
    stream = Task.async_stream(range(4, 0, -1), sleep, max_concurrency=concurrency)
    assert await zip_values(stream) == [(4, 4), (3, 3), (2, 2), (1, 1)]


# task_test.exs: describe "async_stream with max_concurrency ... tasks",
#   test "with inner halt on success"
@CONCURRENCY
async def test_async_stream_max_concurrency_with_inner_halt_on_success(concurrency: int) -> None:
    stream = Task.async_stream(itertools.islice(range(1, 9), 4), sleep, max_concurrency=concurrency)
    assert await to_list(stream) == [("ok", 1), ("ok", 2), ("ok", 3), ("ok", 4)]


# task_test.exs: describe "async_stream with max_concurrency ... tasks",
#   test "with inner halt on failure"
@CONCURRENCY
async def test_async_stream_max_concurrency_with_inner_halt_on_failure(concurrency: int) -> None:
    Process.flag("trap_exit", True)

    stream = Task.async_stream(
        itertools.islice(range(1, 9), 4), exit_with, max_concurrency=concurrency
    )
    assert await to_list(stream) == [("exit", 1), ("exit", 2), ("exit", 3), ("exit", 4)]


# task_test.exs: describe "async_stream with max_concurrency ... tasks",
#   test "with inner halt and slowest first"
@CONCURRENCY
async def test_async_stream_max_concurrency_with_inner_halt_and_slowest_first(
    concurrency: int,
) -> None:
    stream = Task.async_stream(
        itertools.islice(range(8, 0, -1), 4), sleep, max_concurrency=concurrency
    )
    assert await to_list(stream) == [("ok", 8), ("ok", 7), ("ok", 6), ("ok", 5)]


# task_test.exs: describe "async_stream with max_concurrency ... tasks",
#   test "with outer halt on success"
@CONCURRENCY
async def test_async_stream_max_concurrency_with_outer_halt_on_success(concurrency: int) -> None:
    stream = Task.async_stream(range(1, 9), sleep, max_concurrency=concurrency)
    assert await take(stream, 4) == [("ok", 1), ("ok", 2), ("ok", 3), ("ok", 4)]


# task_test.exs: describe "async_stream with max_concurrency ... tasks",
#   test "with outer halt on failure"
@CONCURRENCY
async def test_async_stream_max_concurrency_with_outer_halt_on_failure(concurrency: int) -> None:
    Process.flag("trap_exit", True)

    stream = Task.async_stream(range(1, 9), exit_with, max_concurrency=concurrency)
    assert await take(stream, 4) == [("exit", 1), ("exit", 2), ("exit", 3), ("exit", 4)]


# task_test.exs: describe "async_stream with max_concurrency ... tasks",
#   test "with outer halt and slowest first"
@CONCURRENCY
async def test_async_stream_max_concurrency_with_outer_halt_and_slowest_first(
    concurrency: int,
) -> None:
    stream = Task.async_stream(range(8, 0, -1), sleep, max_concurrency=concurrency)
    assert await take(stream, 4) == [("ok", 8), ("ok", 7), ("ok", 6), ("ok", 5)]


# task_test.exs: describe "async_stream with max_concurrency ... tasks",
#   test "terminates inner effect"
@CONCURRENCY
async def test_async_stream_max_concurrency_terminates_inner_effect(concurrency: int) -> None:
    async def transform(source: Any) -> AsyncIterator[Any]:
        try:
            async for x in source:
                yield x
        finally:
            Process.put("stream_transform", True)

    stream = transform(Task.async_stream(range(1, 5), sleep, max_concurrency=concurrency))

    Process.put("stream_transform", False)
    assert await to_list(stream) == [("ok", 1), ("ok", 2), ("ok", 3), ("ok", 4)]
    assert Process.get("stream_transform") is True


# task_test.exs: describe "async_stream with max_concurrency ... tasks",
#   test "terminates outer effect"
@CONCURRENCY
async def test_async_stream_max_concurrency_terminates_outer_effect(concurrency: int) -> None:
    def transform() -> Iterator[int]:
        try:
            yield from range(1, 5)
        finally:
            Process.put("stream_transform", True)

    stream = Task.async_stream(transform(), sleep, max_concurrency=concurrency)

    Process.put("stream_transform", False)
    assert await to_list(stream) == [("ok", 1), ("ok", 2), ("ok", 3), ("ok", 4)]
    assert Process.get("stream_transform") is True


# task_test.exs: describe "async_stream with max_concurrency ... tasks",
#   test "with :on_timeout set to :kill_task"
@CONCURRENCY
async def test_async_stream_max_concurrency_with_on_timeout_set_to_kill_task(
    concurrency: int,
) -> None:
    stream = Task.async_stream(
        [100, 1, 100, 1],
        sleep,
        max_concurrency=concurrency,
        on_timeout="kill_task",
        timeout=0.05,
    )
    assert await to_list(stream) == [
        ("exit", "timeout"),
        ("ok", 1),
        ("exit", "timeout"),
        ("ok", 1),
    ]

    assert await mailbox_now() == []


# task_test.exs: describe "async_stream with max_concurrency ... tasks",
#   test "with timeout and :zip_input_on_exit set to true"
@CONCURRENCY
async def test_async_stream_max_concurrency_with_timeout_and_zip_input_on_exit_set_to_true(
    concurrency: int,
) -> None:
    stream = Task.async_stream(
        [1, 100],
        sleep,
        max_concurrency=concurrency,
        zip_input_on_exit=True,
        on_timeout="kill_task",
        timeout=0.05,
    )
    assert await to_list(stream) == [("ok", 1), ("exit", (100, "timeout"))]


# task_test.exs: describe "async_stream with max_concurrency ... tasks",
#   test "with outer halt on failure and :zip_input_on_exit"
@CONCURRENCY
async def test_async_stream_max_concurrency_with_outer_halt_on_failure_and_zip_input_on_exit(
    concurrency: int,
) -> None:
    Process.flag("trap_exit", True)

    stream = Task.async_stream(
        range(1, 9), exit_with, max_concurrency=concurrency, zip_input_on_exit=True
    )
    assert await take(stream, 4) == [
        ("exit", (1, 1)),
        ("exit", (2, 2)),
        ("exit", (3, 3)),
        ("exit", (4, 4)),
    ]
